import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { matches, RequestRecorder, type RecordedRequest, type RequestMatcher } from './request-recorder.js';

/** A canned answer injected in place of the real one, for `times` matching requests (default 1). */
export interface Fault {
  status?: number;
  body?: unknown;
  /** Headers, or a function giving them at answer time (a rate-limit reset counted from then). */
  headers?: Record<string, string> | (() => Record<string, string>);
  /** Wait this long before answering (a slow server); with no status, then answers normally. */
  delayMs?: number;
  times?: number;
}

interface ActiveFault extends Fault {
  matcher: RequestMatcher;
  remaining: number;
}

export interface FakeRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  body: string;
}

export interface FakeResponse {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface TlsIdentity {
  key: string;
  cert: string;
}

/**
 * The machinery both fakes share: a real HTTP server on a free loopback port that records every
 * request and can answer chosen requests with a fault (an error status, a slow answer) instead of
 * the handler's answer.
 */
export class HttpFake {
  readonly recorder = new RequestRecorder();
  private readonly faults: ActiveFault[] = [];
  private server?: Server;
  private baseUrl = '';

  constructor(private readonly handle: (request: FakeRequest) => FakeResponse | Promise<FakeResponse>) {}

  get url(): string {
    return this.baseUrl;
  }

  /** Listens on loopback; with `tls` (PEM key and certificate) it speaks HTTPS. */
  async listen(port = 0, tls?: TlsIdentity): Promise<string> {
    const serve = (req: IncomingMessage, res: ServerResponse): void => void this.serve(req, res);
    this.server = tls ? createTlsServer({ key: tls.key, cert: tls.cert }, serve) : createServer(serve);
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    const address = this.server.address() as AddressInfo;
    this.baseUrl = `${tls ? 'https' : 'http'}://127.0.0.1:${address.port}`;
    return this.baseUrl;
  }

  async close(): Promise<void> {
    if (!this.server) return;
    const server = this.server;
    this.server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Answers the next `fault.times` requests matching `matcher` with the fault. */
  inject(matcher: RequestMatcher, fault: Fault): void {
    this.faults.push({ ...fault, matcher, remaining: fault.times ?? 1 });
  }

  clearFaults(): void {
    this.faults.length = 0;
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', 'http://fake');
    const method = (req.method ?? 'GET').toUpperCase();
    const request: FakeRequest = { method, path: url.pathname, query: url.searchParams, headers: req.headers, body };

    let response: FakeResponse;
    const fault = this.faults.find((f) => f.remaining > 0 && matches(f.matcher, method, url.pathname));
    if (fault) {
      fault.remaining -= 1;
      if (fault.delayMs) await new Promise((resolve) => setTimeout(resolve, fault.delayMs));
    }
    if (fault?.status !== undefined) {
      const headers = typeof fault.headers === 'function' ? fault.headers() : fault.headers;
      response = { status: fault.status, body: fault.body, headers };
    } else {
      try {
        response = await this.handle(request);
      } catch (error) {
        response = { status: 500, body: { message: `fake server error: ${String(error)}` } };
      }
    }

    const recorded: RecordedRequest = {
      method,
      path: url.pathname,
      query: url.searchParams,
      headers: { ...req.headers },
      body,
      status: response.status,
      at: Date.now(),
    };
    this.recorder.record(recorded);
    const headers: Record<string, string> = { ...(response.headers ?? {}) };
    let payload = '';
    if (response.body !== undefined) {
      if (typeof response.body === 'string') {
        payload = response.body;
        headers['content-type'] ??= 'text/plain; charset=utf-8';
      } else {
        payload = JSON.stringify(response.body);
        headers['content-type'] ??= 'application/json; charset=utf-8';
      }
    }
    if (res.destroyed) return;
    res.writeHead(response.status, headers);
    res.end(payload);
  }
}

/**
 * What FakeGitHub and FakeJenkins share as servers: the HTTP fake answering through `handle`, and
 * the request record and faults tests reach through the fake itself.
 */
export abstract class FakeServer {
  protected readonly http = new HttpFake((request) => this.handle(request));

  protected abstract handle(request: FakeRequest): FakeResponse | Promise<FakeResponse>;

  get url(): string {
    return this.http.url;
  }

  get requests(): RecordedRequest[] {
    return this.http.recorder.requests;
  }

  requestsTo(matcher: RequestMatcher): RecordedRequest[] {
    return this.http.recorder.requestsTo(matcher);
  }

  inject(matcher: RequestMatcher, fault: Fault): void {
    this.http.inject(matcher, fault);
  }

  onRequest(listener: (request: RecordedRequest) => void): void {
    this.http.recorder.onRequest(listener);
  }
}
