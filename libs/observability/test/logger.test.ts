import { Writable } from 'node:stream';
import { describe, expect, it } from '@jest/globals';
import { BowlineError } from '../src/errors.js';
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

describe('an error passed as err', () => {
  /** What a failed build start looks like: our error, the client's, the socket's. */
  function failedStart(): BowlineError {
    const socket = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    const client = new BowlineError('POST /job/unit/buildWithParameters failed', {
      cause: socket,
      context: { status: 502, headers: { authorization: 'Basic c2VjcmV0', 'content-type': 'text/html' } },
    });
    return new BowlineError('cannot start build', { cause: client, context: { job: 'unit', prowjob: 'p-1', token: 'ghp_secret1' } });
  }

  it('is written with its whole cause chain, each cause with its type, message, stack and fields', () => {
    const out = capture();
    createLogger({ service: 'test', destination: out.stream }).warn({ err: failedStart(), job: 'unit' }, 'cannot start build');
    const [line] = out.lines();
    expect(line).toMatchObject({
      msg: 'cannot start build',
      job: 'unit',
      err: {
        type: 'BowlineError',
        message: 'cannot start build',
        context: { job: 'unit', prowjob: 'p-1' },
        cause: {
          type: 'BowlineError',
          message: 'POST /job/unit/buildWithParameters failed',
          context: { status: 502, headers: { 'content-type': 'text/html' } },
          cause: { type: 'Error', message: 'socket hang up', code: 'ECONNRESET' },
        },
      },
    });
    const err = line!.err as { stack: string; cause: { stack: string; cause: { stack: string } } };
    expect(err.stack).toContain('cannot start build');
    expect(err.cause.stack).toContain('buildWithParameters failed');
    expect(err.cause.cause.stack).toContain('socket hang up');
  });

  it('has the secrets in its context and its causes’ contexts redacted', () => {
    const out = capture();
    createLogger({ service: 'test', destination: out.stream }).warn({ err: failedStart() }, 'cannot start build');
    const [line] = out.lines();
    const text = JSON.stringify(line);
    for (const secret of ['ghp_secret1', 'c2VjcmV0']) expect(text).not.toContain(secret);
    expect(line).toMatchObject({
      err: { context: { token: '[redacted]' }, cause: { context: { headers: { authorization: '[redacted]' } } } },
    });
  });
});
