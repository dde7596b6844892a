import { createHash } from 'node:crypto';
import { mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { SettingsError } from '@bowline/observability';
import { decideView, ViewTokens, type ViewGrant } from '../src/view-tokens.js';

const dir = mkdtempSync(join(tmpdir(), 'bowline-view-tokens-'));
const hash = (token: string): string => createHash('sha256').update(token).digest('hex');
let files = 0;
function tokensFile(text: string): string {
  files += 1;
  const path = join(dir, `tokens-${files}.yaml`);
  writeFileSync(path, text);
  return path;
}

function loadError(path: string): Error {
  try {
    ViewTokens.load(path);
  } catch (error) {
    return error as Error;
  }
  throw new Error(`${path} was accepted`);
}

describe('decideView', () => {
  const payments = { name: 'payments', view: ['team:acme-pay/all', 'user:alice'] };
  const open = { name: 'search' };
  const grant = (tenants: string[], view: string[] = []): ViewGrant => ({ tenants, view });
  it.each([
    ['no token', undefined, payments, 'unauthenticated'],
    ['a token naming the tenant', grant(['payments']), payments, 'allowed'],
    ['a token for every tenant', grant(['*']), payments, 'allowed'],
    ["a token standing for one of the tenant's view entries", grant([], ['user:alice']), payments, 'allowed'],
    ['a token naming another tenant', grant(['search']), payments, 'forbidden'],
    ['a token standing for another view entry', grant([], ['team:acme-pay/admins']), payments, 'forbidden'],
    ['any known token, for a tenant without a view list', grant(['payments']), open, 'allowed'],
  ] as const)('%s: %s', (_, given, tenant, expected) => {
    expect(decideView(given, tenant)).toBe(expected);
  });
});

describe('ViewTokens', () => {
  it('knows a token by its sha256 or by the file holding it, and only with the Bearer scheme', () => {
    writeFileSync(join(dir, 'alice'), 'alice-token\n');
    const tokens = ViewTokens.load(
      tokensFile(`tokens:\n- { sha256: ${hash('bob-token')}, tenants: [search] }\n- { token_file: ${join(dir, 'alice')}, view: ["team:acme-pay/all"] }\n`),
    );
    expect(tokens.grantOf('Bearer bob-token')).toEqual({ tenants: ['search'], view: [] });
    expect(tokens.grantOf('bearer alice-token')).toEqual({ tenants: [], view: ['team:acme-pay/all'] });
    expect(tokens.grantOf('Bearer carol-token')).toBeUndefined();
    expect(tokens.grantOf(`Basic ${Buffer.from('x:bob-token').toString('base64')}`)).toBeUndefined();
    expect(tokens.grantOf(undefined)).toBeUndefined();
  });

  it('reads the file again when it changes, keeping the last good tokens when the change is broken', () => {
    const path = tokensFile(`tokens:\n- { sha256: ${hash('old')}, tenants: [payments] }\n`);
    const errors: SettingsError[] = [];
    const tokens = ViewTokens.load(path, (error) => errors.push(error));
    const touch = (text: string, seconds: number): void => {
      writeFileSync(path, text);
      utimesSync(path, seconds, seconds);
    };
    touch(`tokens:\n- { sha256: ${hash('new')}, tenants: [payments] }\n`, 1_000);
    expect(tokens.grantOf('Bearer old')).toBeUndefined();
    expect(tokens.grantOf('Bearer new')).toBeDefined();
    touch('tokens: [ { sha256: nope, tenants: [payments] } ]\n', 2_000);
    expect(tokens.grantOf('Bearer new')).toBeDefined();
    expect(tokens.grantOf('Bearer new')).toBeDefined();
    expect(errors.map((e) => e.message)).toEqual([`${path}: tokens[0].sha256 must be the 64 hex digits of the token's SHA-256`]);
  });

  it.each([
    ['no tokens list', 'users: []\n', 'needs a list "tokens"'],
    ['neither sha256 nor token_file', 'tokens: [ { tenants: [a] } ]\n', 'tokens[0] needs either sha256 or token_file'],
    ['both', `tokens: [ { sha256: ${hash('x')}, token_file: /x, tenants: [a] } ]\n`, 'tokens[0] needs either sha256 or token_file'],
    ['a token that sees nothing', `tokens: [ { sha256: ${hash('x')} } ]\n`, 'tokens[0] names no tenants and no view entries: it would see nothing'],
    ['tenants that are not a list', `tokens: [ { sha256: ${hash('x')}, tenants: payments } ]\n`, 'tokens[0].tenants must be a list of strings'],
    ['a token file that cannot be read', `tokens: [ { token_file: ${join(dir, 'missing')}, tenants: [a] } ]\n`, `tokens[0].token_file ${join(dir, 'missing')} cannot be read: ENOENT`],
  ])('refuses a file with %s, naming it', (_, text, message) => {
    const path = tokensFile(text);
    expect(loadError(path)).toBeInstanceOf(SettingsError);
    expect(loadError(path).message).toBe(`${path}: ${message}`);
  });

  it('never repeats what a malformed file holds', () => {
    const thrown = loadError(tokensFile('tokens:\n- { sha256: "secret-looking-value\n'));
    expect(thrown).toBeInstanceOf(SettingsError);
    expect(thrown.message).not.toContain('secret-looking-value');
    expect(thrown.cause).toBeUndefined();
  });
});
