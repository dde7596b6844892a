import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { KV } from '@nats-io/kv';
import { Registry } from 'prom-client';
import { connectBus, ensureEventsStream, openRedeliveryClaims, type BusConnection } from '@bowline/bus';
import { createAppOctokit } from '@bowline/github';
import { createLogger } from '@bowline/observability';
import { FakeGitHub, pullRequestCommentPayload, startNats, storedEventIds, waitFor, type NatsServer } from '@bowline/testing';
import { startOpsServer, type OpsServer } from '@bowline/service';
import { durablePublisher } from '../src/publisher.js';
import { RedeliveryTask, type RedeliverySettings } from '../src/redelivery.js';
import { WebhookSecretBook } from '../src/secret-book.js';
import { parseSecrets } from '../src/secrets.js';
import { createWebhookHandler } from '../src/webhook-route.js';

const logger = createLogger({ service: 'test', level: 'silent' });
const SECRET = 'app-webhook-secret';
const APP_ID = 4242;
const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const PRIVATE_PEM = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const PUBLIC_PEM = publicKey.export({ type: 'spki', format: 'pem' }).toString();

let pr = 0;
const newComment = () => {
  pr += 1;
  return pullRequestCommentPayload({ org: 'acme', repo: 'widgets', number: pr, commenter: 'alice', body: '/test all' });
};

describe('recovering deliveries GitHub could not hand over', () => {
  let nats: NatsServer;
  let bus: BusConnection;
  let server: OpsServer;
  let github: FakeGitHub;
  let claims: KV;
  // The clock of the task runs ahead of the fake's, past the settle time of fresh failures.
  const later = () => new Date(Date.now() + 60_000);

  beforeAll(async () => {
    nats = await startNats();
    bus = await connectBus({ servers: nats.url, name: 'hook-redelivery', logger });
    await ensureEventsStream(bus.nc, { replicas: 1 });
    claims = await openRedeliveryClaims(bus.nc, { replicas: 1 });
    server = await startOpsServer({
      port: 0,
      logger,
      registry: new Registry(),
      isReady: bus.isConnected,
      rawRoutes: { '/hook': createWebhookHandler({ secrets: WebhookSecretBook.fixed(parseSecrets(SECRET, 'secret')), maxBodyBytes: 1024 * 1024, logger, registry: new Registry(), publish: durablePublisher(bus, 1000) }) },
    });
    github = await FakeGitHub.start({ app: { id: APP_ID, publicKey: PUBLIC_PEM }, webhook: { url: `http://127.0.0.1:${server.port}/hook`, secret: SECRET } });
  });

  afterAll(async () => {
    await github?.close();
    await server?.close();
    await bus?.close();
    await nats?.stop();
  });

  function task(settings: Partial<RedeliverySettings> = {}): RedeliveryTask {
    const octokit = createAppOctokit({ apiUrl: github.url, appId: String(APP_ID), privateKey: PRIVATE_PEM }, logger);
    return new RedeliveryTask({ github: octokit, claims, logger, registry: new Registry(), settings, now: later });
  }

  const storedIds = () => storedEventIds(bus.nc);

  async function outage<T>(during: () => Promise<T>): Promise<T> {
    await nats.kill();
    await waitFor('the hook to notice', () => !bus.isConnected());
    const result = await during();
    await nats.restart();
    await waitFor('the hook to reconnect', () => bus.isConnected(), { timeoutMs: 15_000 });
    return result;
  }

  it('heals a NATS outage: the failed delivery is asked for again, lands once, and is not asked for twice', async () => {
    const delivered = await github.sendWebhook('issue_comment', newComment());
    expect(delivered.status_code).toBe(202);
    const failed = await outage(() => github.sendWebhook('issue_comment', newComment()));
    expect(failed.status_code).toBe(503);

    const first = await task().runOnce();
    await github.settled();
    expect(first).toMatchObject({ redelivered: 1, givenUp: 0 });
    const attempts = github.deliveries().filter((d) => d.guid === failed.guid);
    expect(attempts.map((d) => [d.redelivery, d.status_code])).toEqual([
      [false, 503],
      [true, 202],
    ]);
    expect((await storedIds()).filter((id) => id === failed.guid)).toHaveLength(1);
    expect(await storedIds()).toContain(delivered.guid);

    // Idempotent: another pass, and another replica's pass, ask for nothing more.
    expect((await task().runOnce()).redelivered).toBe(0);
    expect(github.requestsTo({ method: 'POST', path: /\/attempts$/ })).toHaveLength(1);
  });

  it('asks for each failed attempt once, however many replicas run the task at the same time', async () => {
    const failed = await outage(() => github.sendWebhook('issue_comment', newComment()));
    const before = github.requestsTo({ method: 'POST', path: /\/attempts$/ }).length;
    const results = await Promise.all([task().runOnce(), task().runOnce(), task().runOnce()]);
    await github.settled();
    expect(results.reduce((sum, r) => sum + r.redelivered, 0)).toBe(1);
    expect(github.requestsTo({ method: 'POST', path: /\/attempts$/ }).length).toBe(before + 1);
    expect(github.deliveries().filter((d) => d.guid === failed.guid).at(-1)?.status_code).toBe(202);
  });

  it('tries a delivery that keeps failing again each pass, then gives up after the attempt limit', async () => {
    // The hook unreachable (wrong URL at GitHub): every attempt fails to connect.
    const hookUrl = `http://127.0.0.1:${server.port}/hook`;
    github.setWebhook({ url: 'http://127.0.0.1:9/hook', secret: SECRET });
    try {
      const failed = await github.sendWebhook('issue_comment', newComment());
      for (let pass = 0; pass < 4; pass += 1) {
        await task({ maxAttempts: 3 }).runOnce();
        await github.settled();
      }
      const attempts = github.deliveries().filter((d) => d.guid === failed.guid);
      expect(attempts.map((d) => [d.redelivery, d.status_code])).toEqual([
        [false, 0],
        [true, 0],
        [true, 0],
      ]);
    } finally {
      github.setWebhook({ url: hookUrl, secret: SECRET });
    }
  });

  it('asks for at most maxPerPass deliveries in one pass', async () => {
    const failures = await outage(async () => Promise.all([1, 2, 3].map(() => github.sendWebhook('issue_comment', newComment()))));
    // Other tests may have left failures of their own: every pass is capped, and passes go on until ours healed.
    const healed = () => failures.every((failed) => github.deliveries().filter((d) => d.guid === failed.guid).at(-1)?.status_code === 202);
    const passes: number[] = [];
    while (!healed() && passes.length < 4) {
      passes.push((await task({ maxPerPass: 2 }).runOnce()).redelivered);
      await github.settled();
    }
    expect(passes[0]).toBe(2);
    expect(passes.every((n) => n <= 2)).toBe(true);
    expect(passes.length).toBeGreaterThanOrEqual(2);
    expect(healed()).toBe(true);
  });

  it('leaves deliveries older than the look-back window alone', async () => {
    const failed = await outage(() => github.sendWebhook('issue_comment', newComment()));
    const result = await task({ lookbackMs: 1 }).runOnce();
    expect(result.redelivered).toBe(0);
    expect(github.deliveries().filter((d) => d.guid === failed.guid)).toHaveLength(1);
  });
});
