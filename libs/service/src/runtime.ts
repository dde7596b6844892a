import type { Express } from 'express';
import type { Registry } from 'prom-client';
import { connectBus, ensureDeadLetterStream, ensureEventsStream, type BusConnection, type StreamSettings } from '@bowline/bus';
import { createLogger, createRegistry, SettingsError, type Logger } from '@bowline/observability';
import { bindAddressFromEnv, optionalEnv, portFromEnv, readSecretFile, type Env } from './env.js';
import { startOpsServer, type HttpLimits, type RawHandler } from './ops-server.js';
import { stopOnSignals } from './shutdown.js';

export interface CommonSettings {
  port: number;
  /** `BIND_ADDRESS`: the address the HTTP port listens on; every interface when absent. */
  bindAddress?: string;
  /** The HTTP server's timeouts and connection limit, where a service sets its own (the hook). */
  httpLimits?: Partial<HttpLimits>;
  natsUrl: string;
  /** `NATS_USER` + `NATS_PASSWORD_FILE`: the service's user in its NATS account (README "Tenants"). */
  natsAuth?: { user: string; pass: string };
  /**
   * `BOWLINE_EVENTS_STREAM=none`: the EVENTS stream is not in this service's NATS account (a hook
   * publishing into tenants' accounts through service imports), so it is neither made nor
   * changed here; a stream of its own would store, and acknowledge, every event a second time.
   */
  ownsEventsStream: boolean;
  logLevel: string;
  streams: StreamSettings;
}

/** The settings every service shares (the design's table), read from the environment. */
export function readCommonSettings(env: Env, defaultPort: number): CommonSettings {
  const replicas = Number(optionalEnv(env, 'BOWLINE_NATS_REPLICAS', '1'));
  if (!Number.isInteger(replicas) || replicas < 1 || replicas > 5) {
    throw new SettingsError('BOWLINE_NATS_REPLICAS must be a whole number from 1 to 5');
  }
  const natsUser = env.NATS_USER?.trim();
  if (Boolean(natsUser) !== Boolean(env.NATS_PASSWORD_FILE?.trim())) {
    throw new SettingsError('NATS_USER and NATS_PASSWORD_FILE go together: set both, or neither', { context: { variable: natsUser ? 'NATS_PASSWORD_FILE' : 'NATS_USER' } });
  }
  const eventsStream = optionalEnv(env, 'BOWLINE_EVENTS_STREAM', 'own');
  if (eventsStream !== 'own' && eventsStream !== 'none') {
    throw new SettingsError(`BOWLINE_EVENTS_STREAM is "${eventsStream}": set it to own (the default) or none (the EVENTS stream lives in other NATS accounts)`, { context: { variable: 'BOWLINE_EVENTS_STREAM' } });
  }
  return {
    port: portFromEnv(env, defaultPort),
    bindAddress: bindAddressFromEnv(env),
    natsUrl: optionalEnv(env, 'NATS_URL', 'nats://127.0.0.1:4222'),
    ...(natsUser ? { natsAuth: { user: natsUser, pass: readSecretFile(env, 'NATS_PASSWORD_FILE', `the NATS password of user ${natsUser}`) } } : {}),
    ownsEventsStream: eventsStream === 'own',
    logLevel: optionalEnv(env, 'LOG_LEVEL', 'info'),
    streams: { replicas },
  };
}

export interface Observability {
  logger: Logger;
  registry: Registry;
}

export interface Runtime extends Observability {
  bus: BusConnection;
}

/** The process's logger and metrics registry, made first so start-up itself is logged. */
export function observe(service: string, settings: CommonSettings): Observability {
  return { logger: createLogger({ service, level: settings.logLevel }), registry: createRegistry(service) };
}

/**
 * What every `main.ts` does around its own logic: logger, metrics, NATS, the EVENTS and DEADLETTER
 * streams, the HTTP port with `/healthz` `/readyz` `/metrics`, and a clean stop on SIGTERM.
 */
export async function startRuntime(
  service: string,
  settings: CommonSettings,
  start: (runtime: Runtime) => Promise<{ stop(): Promise<void>; routes?: (app: Express) => void; rawRoutes?: Record<string, RawHandler> }>,
  observability: Observability = observe(service, settings),
): Promise<void> {
  const { logger, registry } = observability;
  const bus = await connectBus({ servers: settings.natsUrl, name: `bowline-${service}`, logger, ...(settings.natsAuth ? { auth: settings.natsAuth } : {}) });
  if (settings.ownsEventsStream) await ensureEventsStream(bus.nc, settings.streams);
  await ensureDeadLetterStream(bus.nc, settings.streams);
  const running = await start({ logger, registry, bus });
  const server = await startOpsServer({
    port: settings.port,
    host: settings.bindAddress,
    limits: settings.httpLimits,
    logger,
    registry,
    isReady: bus.isConnected,
    routes: running.routes,
    rawRoutes: running.rawRoutes,
  });
  stopOnSignals(logger, async () => {
    await server.close();
    await running.stop();
    await bus.close();
  });
}

/**
 * The common shape of every `main.ts`: build the service, and if a setting is missing print one
 * line naming it and exit 2 at once.
 */
export async function runMain(service: string, start: () => Promise<unknown>): Promise<void> {
  try {
    await start();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`${service}: cannot start: ${message}\n`);
    process.exit(2);
  }
}
