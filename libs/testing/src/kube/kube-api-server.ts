import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { parse as parseYaml } from 'yaml';
import { TEST_CA_FILE, testServerTls } from '../tls.js';
import { matches, RequestRecorder, type RecordedRequest, type RequestMatcher } from '../request-recorder.js';
import { KubeStatusError, KubeStore, type KubeObject, type StoreEvent } from './kube-store.js';
import { badRequest, methodNotAllowed, notFound, pathNotFound, unauthorized, unavailable, unsupportedMediaType, type KubeStatus } from './kube-status.js';

export interface KubeApiServerOptions {
  /** Bearer tokens accepted; a request without one of them gets 401. */
  tokens: string[];
  /** How often an open watch that asked for bookmarks gets one (the real server: about a minute). */
  bookmarkEveryMs?: number;
}

interface OpenWatch {
  response: ServerResponse;
  namespace?: string;
  stopListening: () => void;
  timers: NodeJS.Timeout[];
}

const PROWJOBS = /^\/apis\/prow\.k8s\.io\/v1\/(?:namespaces\/([^/]+)\/)?prowjobs(?:\/([^/]+))?$/;

/**
 * A Kubernetes API server for tests: real HTTPS on a loopback port, serving `prow.k8s.io/v1`
 * `prowjobs` as kube-apiserver serves a custom resource (KubeStore holds the objects and their
 * versions): list (with `resourceVersion`, `resourceVersionMatch`, `limit`/`continue`), watch
 * (ADDED/MODIFIED/DELETED, BOOKMARK when `allowWatchBookmarks`, an ERROR event with a 410 Status
 * for a compacted version), get, create, update, merge and apply patches, delete; bearer-token
 * authentication; `Status` bodies for every error. Every request is recorded.
 *
 * For outage tests: `goDown('refuse')` closes the port (connections refused, open watches cut),
 * `goDown('unavailable')` answers 503 to everything; `comeBack()` serves again on the same port.
 * `endWatches()` ends every open watch as the server's watch timeout does, and `compact()` forgets
 * the history so a watch resumed from an older version gets 410 Gone.
 */
export class KubeApiServer {
  readonly store = new KubeStore();
  readonly recorder = new RequestRecorder();
  private server?: Server;
  private port = 0;
  private readonly sockets = new Set<Socket>();
  private readonly watches = new Set<OpenWatch>();
  private outage: 'refuse' | 'unavailable' | undefined;
  private readonly interpositions: { matcher: RequestMatcher; action: () => void }[] = [];

  private constructor(private readonly options: KubeApiServerOptions) {}

  static async start(options: KubeApiServerOptions): Promise<KubeApiServer> {
    const server = new KubeApiServer(options);
    await server.listen();
    return server;
  }

  /** HTTPS, as every API server: client-node refuses plain HTTP. The certificate is signed by `TEST_CA_FILE`. */
  get url(): string {
    return `https://127.0.0.1:${this.port}`;
  }

  get requests(): RecordedRequest[] {
    return this.recorder.requests;
  }

  requestsTo(matcher: RequestMatcher): RecordedRequest[] {
    return this.recorder.requestsTo(matcher);
  }

  /** A kubeconfig (YAML) for this server, for `KUBECONFIG`. */
  kubeconfig(token: string, namespace = 'default'): string {
    return [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      `- name: test\n  cluster:\n    server: ${this.url}\n    certificate-authority: ${TEST_CA_FILE}`,
      'users:',
      `- name: test\n  user:\n    token: ${token}`,
      'contexts:',
      `- name: test\n  context:\n    cluster: test\n    user: test\n    namespace: ${namespace}`,
      'current-context: test',
      '',
    ].join('\n');
  }

  /**
   * Runs `action` (another client's write, say) right before the server handles the next request
   * matching `matcher`: the race where someone else writes between a client's read and its write,
   * made certain.
   */
  beforeNext(matcher: RequestMatcher, action: () => void): void {
    this.interpositions.push({ matcher, action });
  }

  /** Ends every open watch, as the server does when a watch's timeout runs out. */
  endWatches(): void {
    for (const watch of [...this.watches]) this.endWatch(watch);
  }

  /** Forgets the change history: a watch or list from an older version gets 410 Gone. */
  compact(): void {
    this.store.compact();
  }

  async goDown(mode: 'refuse' | 'unavailable'): Promise<void> {
    this.outage = mode;
    this.endWatches();
    if (mode === 'refuse') await this.closeServer();
  }

  async comeBack(): Promise<void> {
    const wasRefusing = this.outage === 'refuse';
    this.outage = undefined;
    if (wasRefusing) await this.listen(this.port);
  }

  async close(): Promise<void> {
    this.endWatches();
    await this.closeServer();
  }

  private async listen(port = 0): Promise<void> {
    this.server = createServer(testServerTls(), (req, res) => void this.serve(req, res));
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  private async closeServer(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', 'http://kube');
    const method = (req.method ?? 'GET').toUpperCase();
    const record = (status: number): void =>
      this.recorder.record({ method, path: url.pathname, query: url.searchParams, headers: { ...req.headers }, body, status, at: Date.now() });
    const answer = (status: number, payload: unknown): void => {
      record(status);
      if (res.destroyed) return;
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(payload));
    };
    const fail = (status: KubeStatus): void => answer(status.code, status);

    if (this.outage === 'unavailable') return fail(unavailable());
    const auth = req.headers.authorization ?? '';
    if (!auth.startsWith('Bearer ') || !this.options.tokens.includes(auth.slice('Bearer '.length))) return fail(unauthorized());
    const interposed = this.interpositions.findIndex((i) => matches(i.matcher, method, url.pathname));
    if (interposed >= 0) this.interpositions.splice(interposed, 1)[0]!.action();
    const route = PROWJOBS.exec(url.pathname);
    if (!route) return fail(pathNotFound(url.pathname));
    const namespace = route[1] ? decodeURIComponent(route[1]) : undefined;
    const name = route[2] ? decodeURIComponent(route[2]) : undefined;
    const query = url.searchParams;

    try {
      if (!name) {
        if (method === 'GET' && isTrue(query.get('watch'))) {
          record(200);
          return this.watch(res, namespace, query);
        }
        if (method === 'GET') return answer(200, this.list(namespace, query));
        if (method === 'POST' && namespace) return answer(201, this.store.create(namespace, parseJson(body) as KubeObject));
        return fail(methodNotAllowed(method));
      }
      if (!namespace) return fail(pathNotFound(url.pathname));
      switch (method) {
        case 'GET': {
          const object = this.store.get(namespace, name);
          return object ? answer(200, object) : fail(notFound(name));
        }
        case 'PUT':
          return answer(200, this.store.update(namespace, name, parseJson(body) as KubeObject));
        case 'PATCH':
          return answer(...this.patch(namespace, name, req.headers['content-type'] ?? '', body, query));
        case 'DELETE': {
          const options = body ? (parseJson(body) as { preconditions?: { resourceVersion?: string; uid?: string } }) : {};
          return answer(200, this.store.delete(namespace, name, options.preconditions));
        }
        default:
          return fail(methodNotAllowed(method));
      }
    } catch (error) {
      if (error instanceof KubeStatusError) return fail(error.status);
      throw error;
    }
  }

  private patch(namespace: string, name: string, contentType: string, body: string, query: URLSearchParams): [number, unknown] {
    const type = contentType.split(';')[0]!.trim();
    if (type === 'application/merge-patch+json') return [200, this.store.mergePatch(namespace, name, parseJson(body) as Record<string, unknown>)];
    if (type === 'application/apply-patch+yaml') {
      const manager = query.get('fieldManager');
      if (!manager) throw new KubeStatusError({ ...badRequest('PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch'), code: 422, reason: 'Invalid' });
      const existed = this.store.get(namespace, name) !== undefined;
      let applied: KubeObject;
      try {
        applied = parseYaml(body) as KubeObject;
      } catch (error) {
        throw new KubeStatusError(badRequest(`error decoding YAML: ${String(error)}`));
      }
      const object = this.store.apply(namespace, name, applied, manager);
      return [existed ? 200 : 201, object];
    }
    throw new KubeStatusError(unsupportedMediaType(type));
  }

  private list(namespace: string | undefined, query: URLSearchParams): unknown {
    const limit = Number(query.get('limit') ?? 0);
    const token = query.get('continue');
    let version = this.store.resourceVersion;
    let after = '';
    let items: KubeObject[];
    if (token) {
      const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { rv: number; after: string };
      version = parsed.rv;
      after = parsed.after;
      items = this.store.listAt(version, namespace);
    } else {
      const rv = query.get('resourceVersion');
      const match = query.get('resourceVersionMatch');
      if (rv && rv !== '0' && match === 'Exact') {
        version = Number(rv);
        items = this.store.listAt(version, namespace);
      } else {
        // NotOlderThan (or no resourceVersion): the newest state, unless what was asked is newer still (504).
        if (rv && Number(rv) > this.store.resourceVersion) this.store.listAt(Number(rv), namespace);
        items = this.store.list(namespace);
      }
    }
    items = items.filter((o) => `${o.metadata.namespace}/${o.metadata.name}` > after);
    let next: string | undefined;
    if (limit > 0 && items.length > limit) {
      items = items.slice(0, limit);
      const last = items[items.length - 1]!;
      next = Buffer.from(JSON.stringify({ rv: version, after: `${last.metadata.namespace}/${last.metadata.name}` })).toString('base64url');
    }
    return { apiVersion: 'prow.k8s.io/v1', kind: 'ProwJobList', metadata: { resourceVersion: String(version), ...(next ? { continue: next } : {}) }, items };
  }

  private watch(res: ServerResponse, namespace: string | undefined, query: URLSearchParams): void {
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    // As kube-apiserver: the answer's head goes out at once, before any event.
    res.flushHeaders();
    const send = (type: string, object: unknown): void => {
      if (!res.destroyed) res.write(`${JSON.stringify({ type, object })}\n`);
    };
    const rv = query.get('resourceVersion');
    const watch: OpenWatch = { response: res, namespace, stopListening: () => undefined, timers: [] };
    this.watches.add(watch);
    res.on('close', () => this.endWatch(watch));
    let backlog: StoreEvent[];
    if (!rv || rv === '0') {
      // "Start at most recent", with the current objects first as synthetic ADDED events.
      backlog = this.store.list(namespace).map((object) => ({ type: 'ADDED', object, resourceVersion: Number(object.metadata.resourceVersion) }));
    } else {
      try {
        backlog = this.store.eventsSince(Number(rv), namespace);
      } catch (error) {
        if (!(error instanceof KubeStatusError)) throw error;
        // As kube-apiserver: the watch is accepted, then ends with the error as its only event.
        send('ERROR', error.status);
        return this.endWatch(watch);
      }
    }
    for (const event of backlog) send(event.type, event.object);
    watch.stopListening = this.store.onEvent((event) => {
      if (namespace === undefined || event.object.metadata.namespace === namespace) send(event.type, event.object);
    });
    if (isTrue(query.get('allowWatchBookmarks'))) {
      const bookmark = (): void => send('BOOKMARK', { kind: 'ProwJob', apiVersion: 'prow.k8s.io/v1', metadata: { resourceVersion: String(this.store.resourceVersion) } });
      const timer = setInterval(bookmark, this.options.bookmarkEveryMs ?? 1000);
      timer.unref();
      watch.timers.push(timer);
    }
    const timeoutSeconds = Number(query.get('timeoutSeconds') ?? 0);
    if (timeoutSeconds > 0) {
      const timer = setTimeout(() => this.endWatch(watch), timeoutSeconds * 1000);
      timer.unref();
      watch.timers.push(timer);
    }
  }

  private endWatch(watch: OpenWatch): void {
    if (!this.watches.delete(watch)) return;
    watch.stopListening();
    for (const timer of watch.timers) clearTimeout(timer);
    if (!watch.response.destroyed) watch.response.end();
  }
}

function isTrue(value: string | null): boolean {
  return value === '1' || value === 'true';
}

function parseJson(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch (error) {
    throw new KubeStatusError(badRequest(`the body of the request was in an unknown format: ${String(error)}`));
  }
}
