import { readFileSync } from 'node:fs';
import type { TlsIdentity } from './http-fake.js';

/**
 * A test-only certificate authority and a server certificate it signed for `localhost` and
 * `127.0.0.1`, valid for a century, so tests of "trust this CA file" need no openssl at run time.
 * The keys are committed on purpose: they protect nothing.
 */
const FIXTURES = new URL('../fixtures/tls/', import.meta.url);

export const TEST_CA_FILE = new URL('ca.crt', FIXTURES).pathname;

export function testServerTls(): TlsIdentity {
  return { key: readFileSync(new URL('server.key', FIXTURES), 'utf8'), cert: readFileSync(new URL('server.crt', FIXTURES), 'utf8') };
}
