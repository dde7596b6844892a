import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import express, { type Express } from 'express';
import type { Registry } from 'prom-client';
import { SettingsError, type Logger } from '@bowline/observability';

export interface OpsServerOptions {
  port: number;
  /** The address to listen on (`BIND_ADDRESS`); every interface when absent. */
  host?: string;
  /** Timeouts and the connection limit; defaults in `DEFAULT_HTTP_LIMITS`. */
  limits?: Partial<HttpLimits>;
  logger: Logger;
  registry: Registry;
  /** `/readyz` answers 200 only while this is true (for instance: NATS connected). */
  isReady: () => boolean;
  /** Lets a service add its own routes (the operator's logs) before start. */
  routes?: (app: Express) => void;
  /**
   * Handlers on plain node:http for hot paths, by exact path, taken before Express sees the
   * request: Express's routing cost a sixth of the hook's time under load (bench/hook).
   */
  rawRoutes?: Record<string, RawHandler>;
}

export type RawHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

/**
 * How long a client may take, and how many may be connected at once (issue 14: a client that sent
 * headers and trickled its body held a request open for as long as it liked).
 */
export interface HttpLimits {
  /** The request's headers must arrive within this, counted from the connection or the previous request. */
  headersTimeoutMs: number;
  /**
   * The whole request, headers and body, must arrive within this. A backstop: the hook's own body
   * timer (10 s, as long as GitHub waits) answers first and says so.
   */
  requestTimeoutMs: number;
  /** An idle keep-alive connection is closed after this. */
  keepAliveTimeoutMs: number;
  /** Connections beyond this many are closed as they arrive; 0: no limit. */
  maxConnections: number;
}

export const DEFAULT_HTTP_LIMITS: HttpLimits = {
  headersTimeoutMs: 5_000,
  requestTimeoutMs: 15_000,
  keepAliveTimeoutMs: 5_000,
  maxConnections: 0,
};

/**
 * Node checks the header and request timeouts of open connections on this period (30 s by
 * default), so a timeout of a few seconds would otherwise be enforced up to 30 s late.
 */
const CONNECTIONS_CHECKING_INTERVAL_MS = 500;

export interface OpsServer {
  port: number;
  app: Express;
  close(): Promise<void>;
}

/** Every service's HTTP port: `/healthz`, `/readyz`, `/metrics`, plus the service's own routes. */
export async function startOpsServer(options: OpsServerOptions): Promise<OpsServer> {
  const app = express();
  app.disable('x-powered-by');
  app.get('/healthz', (_req, res) => {
    res.type('text/plain').send('ok');
  });
  app.get('/readyz', (_req, res) => {
    const ready = options.isReady();
    res.status(ready ? 200 : 503).type('text/plain').send(ready ? 'ready' : 'not ready');
  });
  app.get('/metrics', async (_req, res) => {
    res.type(options.registry.contentType).send(await options.registry.metrics());
  });
  options.routes?.(app);
  app.use((_req, res) => {
    res.status(404).type('text/plain').send('not found\n');
  });

  const raw = options.rawRoutes ?? {};
  const limits = { ...DEFAULT_HTTP_LIMITS, ...options.limits };
  const serverOptions = {
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    connectionsCheckingInterval: Math.min(CONNECTIONS_CHECKING_INTERVAL_MS, limits.headersTimeoutMs),
  };
  const server = createServer(serverOptions, (req, res) => {
    const handler = raw[(req.url ?? '/').split('?', 1)[0]!];
    if (!handler) return void app(req, res);
    handler(req, res).catch((error: unknown) => {
      options.logger.error({ err: error, path: req.url }, 'request failed');
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end('internal error\n');
    });
  });
  if (limits.maxConnections > 0) server.maxConnections = limits.maxConnections;
  await new Promise<void>((resolve, reject) => {
    const refuse = (error: Error): void => {
      const where = `${options.host ?? '*'}:${options.port}`;
      reject(new SettingsError(`cannot listen on ${where} (BIND_ADDRESS, PORT): ${error.message}`, { cause: error }));
    };
    server.once('error', refuse);
    server.listen({ port: options.port, host: options.host }, () => {
      server.off('error', refuse);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  options.logger.info({ port, address: typeof address === 'object' && address ? address.address : undefined }, 'http server listening');
  return {
    port,
    app,
    close: () =>
      new Promise<void>((resolve) => {
        // Finish requests in flight, refuse new ones; idle keep-alive sockets are closed at once.
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}
