import type { IncomingMessage, ServerResponse } from 'node:http';

export class BodyTooLargeError extends Error {}

/** The body did not arrive in time: GitHub gives up on a delivery after 10 s, so nobody legitimate is slower. */
export class BodyTimeoutError extends Error {}

/** The client went away before the whole body arrived. */
export class BodyAbortedError extends Error {}

/**
 * Reads the request body up to `limit` bytes, within `timeoutMs` of being asked. A declared
 * Content-Length over the limit is refused before a byte is read, and a chunked body as soon as it
 * passes the limit; the request is then paused, for `answerThenDrain`.
 * Plain 'data' events, not `for await`: the async iterator cost a measurable share per request.
 */
export function readLimitedBody(req: IncomingMessage, limit: number, timeoutMs: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return Promise.reject(new BodyTooLargeError(`declared ${declared} bytes`));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    const settle = (error?: Error): void => {
      clearTimeout(timer);
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
      if (!error) return resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total));
      req.pause();
      reject(error);
    };
    const onData = (chunk: Buffer): void => {
      total += chunk.length;
      if (total > limit) return settle(new BodyTooLargeError(`more than ${limit} bytes`));
      chunks.push(chunk);
    };
    const onEnd = (): void => settle();
    const onError = (error: Error): void => settle(new BodyAbortedError('the request failed', { cause: error }));
    const onClose = (): void => settle(new BodyAbortedError('the client closed the connection before the body ended'));
    const timer = setTimeout(() => settle(new BodyTimeoutError(`the body did not arrive within ${timeoutMs} ms`)), timeoutMs);
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}

/**
 * Sends a complete answer at once, but ends the response only once the rest of the request body
 * has been read and thrown away, up to `maxBytes` and `timeoutMs`. Closing a socket with unread
 * data makes the kernel send a reset, which on the client's side can discard the answer before it
 * is read: the client saw a broken pipe instead of the 413 (issue 14). The answer carries
 * `Connection: close`, so the connection ends with the response; past the bounds it is cut anyway.
 */
export function answerThenDrain(
  req: IncomingMessage,
  res: ServerResponse,
  answer: { status: number; message: string; headers?: Record<string, string> },
  bounds: { maxBytes: number; timeoutMs: number },
): void {
  const text = `${answer.message}\n`;
  res.writeHead(answer.status, {
    'content-type': 'text/plain; charset=utf-8',
    ...answer.headers,
    'content-length': String(Buffer.byteLength(text)),
    connection: 'close',
  });
  // Written now, ended later: the client has the whole answer while it is still sending.
  res.write(text);
  let drained = 0;
  let ended = false;
  const end = (): void => {
    if (ended) return;
    ended = true;
    clearTimeout(timer);
    req.off('data', onData);
    req.off('end', end);
    req.off('close', end);
    res.end();
  };
  const onData = (chunk: Buffer): void => {
    drained += chunk.length;
    if (drained > bounds.maxBytes) end();
  };
  const timer = setTimeout(end, bounds.timeoutMs);
  if (req.complete) return end();
  req.on('data', onData);
  req.once('end', end);
  req.once('close', end);
  req.resume();
}
