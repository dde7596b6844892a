import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Registry } from 'prom-client';
import { connectBus, ensureEventsStream, type BusConnection } from '@bowline/bus';
import { createLogger } from '@bowline/observability';
import { pullRequestCommentPayload, sendWebhook, signWebhook, startNats, storedEventIds, waitFor, type NatsServer } from '@bowline/testing';
import { startOpsServer, type OpsServer } from '@bowline/service';
import { durablePublisher } from '../src/publisher.js';
import { WebhookSecretBook } from '../src/secret-book.js';
import { parseSecrets } from '../src/secrets.js';
import { createWebhookHandler } from '../src/webhook-route.js';

const logger = createLogger({ service: 'test', level: 'silent' });
const SECRET = 'durable-secret';
const payload = pullRequestCommentPayload({ org: 'acme', repo: 'widgets', number: 7, commenter: 'alice', body: '/test all' });

describe('the hook while NATS goes away and comes back', () => {
  let nats: NatsServer;
  let bus: BusConnection;
  let server: OpsServer;
  let url: string;

  beforeAll(async () => {
    nats = await startNats();
    bus = await connectBus({ servers: nats.url, name: 'hook-durability', logger });
    await ensureEventsStream(bus.nc, { replicas: 1 });
    server = await startOpsServer({
      port: 0,
      logger,
      registry: new Registry(),
      isReady: bus.isConnected,
      rawRoutes: {
        '/hook': createWebhookHandler({
          secrets: WebhookSecretBook.fixed(parseSecrets(SECRET, 'secret')),
          maxBodyBytes: 1024 * 1024,
          logger,
          registry: new Registry(),
          publish: durablePublisher(bus, 1000),
        }),
      },
    });
    url = `http://127.0.0.1:${server.port}`;
  });

  afterAll(async () => {
    await server?.close();
    await bus?.close();
    await nats?.stop();
  });

  const deliver = (deliveryId: string) => sendWebhook(`${url}/hook`, signWebhook({ event: 'issue_comment', payload, secret: SECRET, deliveryId }));

  const storedIds = () => storedEventIds(bus.nc);

  it('answers 503 with Retry-After while NATS is down, is not ready, and loses nothing once it is back', async () => {
    expect((await deliver('before-outage')).status).toBe(202);
    expect((await fetch(`${url}/readyz`)).status).toBe(200);

    await nats.kill();
    await waitFor('the hook to notice', () => !bus.isConnected());
    const started = Date.now();
    const refused = await fetch(`${url}/hook`, { method: 'POST', ...signWebhook({ event: 'issue_comment', payload, secret: SECRET, deliveryId: 'during-outage' }) });
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('30');
    expect(Date.now() - started).toBeLessThan(1000);
    expect((await fetch(`${url}/readyz`)).status).toBe(503);

    await nats.restart();
    await waitFor('the hook to reconnect', () => bus.isConnected(), { timeoutMs: 15_000 });
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    // GitHub's redelivery of the refused delivery (by a person, or by the redelivery task).
    expect((await deliver('during-outage')).status).toBe(202);
    expect((await deliver('after-outage')).status).toBe(202);

    expect(await storedIds()).toEqual(['before-outage', 'during-outage', 'after-outage']);
  });
});

describe('the hook stopping', () => {
  it('finishes the request in flight and refuses new connections', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const server = await startOpsServer({
      port: 0,
      logger,
      registry: new Registry(),
      isReady: () => true,
      rawRoutes: {
        '/hook': createWebhookHandler({
          secrets: WebhookSecretBook.fixed(parseSecrets(SECRET, 'secret')),
          maxBodyBytes: 1024 * 1024,
          logger,
          registry: new Registry(),
          publish: async () => {
            await held;
            return { duplicate: false };
          },
        }),
      },
    });
    const hookUrl = `http://127.0.0.1:${server.port}/hook`;
    const inFlight = sendWebhook(hookUrl, signWebhook({ event: 'issue_comment', payload, secret: SECRET, deliveryId: 'in-flight' }));
    await new Promise((resolve) => setTimeout(resolve, 100));

    const closed = server.close();
    await expect(fetch(`http://127.0.0.1:${server.port}/healthz`)).rejects.toThrow();
    release();
    expect(await inFlight).toEqual({ status: 202, body: 'accepted\n' });
    await closed;
  });
});
