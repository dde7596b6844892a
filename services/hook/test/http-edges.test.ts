import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Registry } from 'prom-client';
import type { EventEnvelope } from '@bowline/bus';
import { createLogger } from '@bowline/observability';
import { signBody } from '@bowline/testing';
import { startOpsServer, type OpsServer } from '@bowline/service';
import { WebhookSecretBook } from '../src/secret-book.js';
import { parseSecrets } from '../src/secrets.js';
import { createWebhookHandler } from '../src/webhook-route.js';

const logger = createLogger({ service: 'test', level: 'silent' });
const SECRET = 'edge-secret';
const MAX_BODY_BYTES = 64 * 1024;
const BODY_TIMEOUT_MS = 600;

interface Answer {
  status?: number;
  body: string;
  /** A socket error the client saw before the answer arrived: the broken pipe of issue 14. */
  errorBeforeAnswer?: string;
}

/**
 * Sends `size` bytes the way a plain client does, writing the whole body whatever the server
 * answers meanwhile: with a Content-Length, or chunked without one.
 */
function sendLargeBody(url: string, size: number, withLength: boolean): Promise<Answer> {
  const body = Buffer.alloc(size, 'x');
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'x-github-event': 'issue_comment',
    'x-github-delivery': `large-${size}-${withLength}`,
    'x-hub-signature-256': signBody(body, SECRET),
    ...(withLength ? { 'content-length': String(size) } : { 'transfer-encoding': 'chunked' }),
  };
  return new Promise((resolve) => {
    const answer: Answer = { body: '' };
    const req = httpRequest(url, { method: 'POST', headers }, (res) => {
      answer.status = res.statusCode;
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (answer.body += chunk));
      res.on('end', () => resolve(answer));
      res.on('error', () => resolve(answer));
    });
    req.on('error', (error) => {
      if (answer.status === undefined) answer.errorBeforeAnswer = error.message;
      resolve(answer);
    });
    // 16 KiB writes, as a client streaming a file would.
    let offset = 0;
    const writeMore = (): void => {
      while (offset < size) {
        const chunk = body.subarray(offset, offset + 16 * 1024);
        offset += chunk.length;
        if (!req.write(chunk)) return void req.once('drain', writeMore);
      }
      req.end();
    };
    writeMore();
  });
}

/**
 * A client that writes its whole request before it reads a byte of the answer, as many HTTP
 * libraries do. If the server closes the connection with the body unread, the kernel resets it
 * and the answer waiting unread is lost: the client sees only a broken pipe.
 */
async function sendAllThenRead(port: number, size: number, withLength: boolean): Promise<Answer> {
  const body = Buffer.alloc(size, 'x');
  const socket = connect(port, '127.0.0.1');
  await new Promise<void>((resolve) => socket.once('connect', resolve));
  socket.pause();
  const answer: Answer = { body: '' };
  let failed: string | undefined;
  socket.on('error', (error) => (failed ??= error.message));
  const write = (chunk: Buffer | string): Promise<void> =>
    new Promise((resolve) => {
      if (failed || socket.destroyed) return resolve();
      if (socket.write(chunk)) return resolve();
      const done = (): void => {
        socket.off('drain', done);
        socket.off('close', done);
        resolve();
      };
      socket.once('drain', done);
      socket.once('close', done);
    });
  const framing = withLength ? `content-length: ${size}` : 'transfer-encoding: chunked';
  await write(
    `POST /hook HTTP/1.1\r\nhost: hook\r\ncontent-type: application/json\r\nx-github-event: issue_comment\r\n` +
      `x-github-delivery: all-then-read\r\nx-hub-signature-256: ${signBody(body, SECRET)}\r\n${framing}\r\n\r\n`,
  );
  for (let offset = 0; offset < size; offset += 16 * 1024) {
    const chunk = body.subarray(offset, offset + 16 * 1024);
    await write(withLength ? chunk : Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')]));
  }
  if (!withLength) await write('0\r\n\r\n');
  // Only now is the answer read.
  let raw = '';
  socket.on('data', (chunk: Buffer) => (raw += chunk.toString()));
  await new Promise<void>((resolve) => {
    socket.once('close', () => resolve());
    socket.once('end', () => resolve());
    socket.resume();
  });
  socket.destroy();
  const status = /^HTTP\/1\.1 (\d{3})/.exec(raw)?.[1];
  if (status) {
    answer.status = Number(status);
    answer.body = raw.slice(raw.indexOf('\r\n\r\n') + 4);
  } else if (failed) {
    answer.errorBeforeAnswer = failed;
  }
  return answer;
}

describe('the hook at the edges of HTTP', () => {
  let server: OpsServer;
  let url: string;
  const published: EventEnvelope<unknown>[] = [];

  beforeAll(async () => {
    const registry = new Registry();
    server = await startOpsServer({
      port: 0,
      logger,
      registry,
      isReady: () => true,
      rawRoutes: {
        '/hook': createWebhookHandler({
          secrets: WebhookSecretBook.fixed(parseSecrets(SECRET, 'secret')),
          maxBodyBytes: MAX_BODY_BYTES,
          bodyTimeoutMs: BODY_TIMEOUT_MS,
          logger,
          registry,
          publish: async (envelope) => {
            published.push(envelope);
            return { duplicate: false };
          },
        }),
      },
    });
    url = `http://127.0.0.1:${server.port}/hook`;
  });

  afterAll(async () => {
    await server?.close();
  });

  it.each([
    ['with a Content-Length', true],
    ['chunked, without a Content-Length', false],
  ])('answers 413 to a body half again over the limit %s, read by a client that sends everything first', async (_title, withLength) => {
    const answer = await sendAllThenRead(server.port, MAX_BODY_BYTES * 1.5, withLength as boolean);

    expect(answer).toEqual({ status: 413, body: `the body is larger than ${MAX_BODY_BYTES} bytes\n` });
    expect(published).toEqual([]);
  });

  it.each([
    ['with a Content-Length', true],
    ['chunked, without a Content-Length', false],
  ])('answers 413 to a body fifty times the limit %s before cutting the client off', async (_title, withLength) => {
    const answer = await sendLargeBody(url, MAX_BODY_BYTES * 50, withLength as boolean);

    // Past the drain bound the connection is cut, so the client may see an error, but only after the answer.
    expect(answer.errorBeforeAnswer).toBeUndefined();
    expect(answer.status).toBe(413);
    expect(answer.body).toBe(`the body is larger than ${MAX_BODY_BYTES} bytes\n`);
    expect(published).toEqual([]);
  });

  it('answers 408 to a client that sends its headers and trickles the body, and closes the connection', async () => {
    const body = JSON.stringify({ action: 'created', padding: 'x'.repeat(1000) });
    const socket = connect(server.port, '127.0.0.1');
    let received = '';
    socket.on('data', (chunk: Buffer) => (received += chunk.toString()));
    socket.on('error', () => undefined);
    const closed = new Promise<number>((resolve) => socket.once('close', () => resolve(Date.now())));
    await new Promise<void>((resolve) => socket.once('connect', resolve));
    const headers: IncomingHttpHeaders = {
      host: 'hook',
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength(body)),
      'x-github-event': 'issue_comment',
      'x-github-delivery': 'slow-body',
      'x-hub-signature-256': signBody(body, SECRET),
    };
    socket.write(`POST /hook HTTP/1.1\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${String(v)}`).join('\r\n')}\r\n\r\n`);
    const startedAt = Date.now();
    let offset = 0;
    // Ten bytes every 50 ms: the whole body would take five seconds.
    const trickle = setInterval(() => {
      if (socket.writable && offset < body.length) socket.write(body.slice(offset, (offset += 10)));
    }, 50);

    const closedAt = await closed;
    clearInterval(trickle);

    expect(received).toMatch(/^HTTP\/1\.1 408/);
    expect(received).toContain(`the body did not arrive within ${BODY_TIMEOUT_MS / 1000} s`);
    expect(closedAt - startedAt).toBeGreaterThanOrEqual(BODY_TIMEOUT_MS - 50);
    expect(closedAt - startedAt).toBeLessThan(BODY_TIMEOUT_MS + 1500);
    expect(offset).toBeLessThan(body.length);
    expect(published).toEqual([]);
  });
});
