import { Writable } from 'node:stream';
import { describe, expect, it } from '@jest/globals';
import { createLogger } from '../src/logger.js';

function capture(): { stream: Writable; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  return { stream, lines: () => chunks.join('').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe('the logger', () => {
  it('never writes a token, a password, an authorization header or a webhook signature', () => {
    const out = capture();
    const logger = createLogger({ service: 'test', destination: out.stream });
    logger.info(
      {
        token: 'ghp_secret1',
        jenkins: { password: 'hunter2', user: 'bowline' },
        headers: { authorization: 'Basic c2VjcmV0', 'x-hub-signature-256': 'sha256=abc', 'x-github-event': 'push' },
        request: { headers: { authorization: 'token ghp_secret2' } },
      },
      'calling out',
    );
    const [line] = out.lines();
    const text = JSON.stringify(line);
    for (const secret of ['ghp_secret1', 'hunter2', 'c2VjcmV0', 'sha256=abc', 'ghp_secret2']) expect(text).not.toContain(secret);
    expect(line).toMatchObject({ service: 'test', msg: 'calling out', jenkins: { user: 'bowline' }, headers: { 'x-github-event': 'push' } });
  });
});
