import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import express, { type Express } from 'express';
import { Registry, collectDefaultMetrics } from 'prom-client';
import type { Logger } from './logger.js';

export interface OpsServerOptions {
  port: number;
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

export interface OpsServer {
  port: number;
  app: Express;
  close(): Promise<void>;
}

export function createRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  return registry;
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
  const server = createServer((req, res) => {
    const handler = raw[(req.url ?? '/').split('?', 1)[0]!];
    if (!handler) return void app(req, res);
    handler(req, res).catch((error: unknown) => {
      options.logger.error({ err: error, path: req.url }, 'request failed');
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end('internal error\n');
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  options.logger.info({ port }, 'http server listening');
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
