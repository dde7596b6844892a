import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { jetstreamManager } from '@nats-io/jetstream';
import { Registry } from 'prom-client';
import { connectBus, ensureEventsStream, EVENTS_STREAM, publishEncoded, type BusConnection } from '@bowline/bus';
import { watchConfigFile, type WatchedConfig } from '@bowline/config';
import { createLogger, SettingsError } from '@bowline/observability';
import { startOpsServer } from '@bowline/service';
import { pullRequestCommentPayload, sendWebhook, signWebhook, startNats, type NatsServer } from '@bowline/testing';
import { WebhookSecretBook } from '../src/secret-book.js';
import { createWebhookHandler } from '../src/webhook-route.js';

const logger = createLogger({ service: 'test', level: 'silent' });

/** payments owns the acme-pay org and acme/billing; search owns the rest of acme. */
const configText = (dir: string, extra = ''): string =>
  [
    'bowline:',
    '  tenants:',
    '  - name: payments',
    '    repos: [acme-pay, acme/billing]',
    `    webhook_secret_file: ${join(dir, 'payments-hmac')}`,
    '    jenkins: [{ name: payments-ci, url: "https://payments.example.com/" }]',
    '  - name: search',
    '    repos: [acme]',
    `    webhook_secret_file: ${join(dir, 'search-hmac')}`,
    '    jenkins: [{ name: search-ci, url: "https://search.example.com/" }]',
    extra,
  ].join('\n');

const comment = (org: string, repo: string) => pullRequestCommentPayload({ org, repo, number: 7, commenter: 'alice', body: '/test all' });

describe('POST /hook with two tenants', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bowline-hook-tenants-'));
  let nats: NatsServer;
  let bus: BusConnection;
  let config: WatchedConfig;
  let registry: Registry;
  let url: string;
  let close: () => Promise<void>;

  const send = (event: string, payload: unknown, secret: string, deliveryId: string) => sendWebhook(url, signWebhook({ event, payload, secret, deliveryId }));

  /** Where the delivery was stored, and the tenant in its envelope. */
  async function stored(deliveryId: string): Promise<{ subject: string; tenant: unknown }[]> {
    const jsm = await jetstreamManager(bus.nc);
    const { state } = await jsm.streams.info(EVENTS_STREAM);
    const found: { subject: string; tenant: unknown }[] = [];
    for (let seq = state.first_seq; state.messages > 0 && seq <= state.last_seq; seq += 1) {
      const message = await jsm.streams.getMessage(EVENTS_STREAM, { seq });
      if (message?.header?.get('Nats-Msg-Id') === deliveryId) found.push({ subject: message.subject, tenant: message.json<{ tenant?: string }>().tenant });
    }
    return found;
  }

  const metric = async (name: string): Promise<Record<string, string | number>[]> =>
    (await registry.getSingleMetric(name)!.get()).values.map((v) => ({ ...v.labels, value: v.value }) as Record<string, string | number>);

  beforeAll(async () => {
    writeFileSync(join(dir, 'payments-hmac'), 'payments-secret\n');
    writeFileSync(join(dir, 'search-hmac'), 'search-secret\n');
    writeFileSync(join(dir, 'config.yaml'), configText(dir));
    nats = await startNats();
    bus = await connectBus({ servers: nats.url, name: 'test', logger });
    await ensureEventsStream(bus.nc, { replicas: 1 });
    registry = new Registry();
    config = watchConfigFile({ path: join(dir, 'config.yaml'), logger, pollMs: 60_000 });
    const server = await startOpsServer({
      port: 0,
      logger,
      registry,
      isReady: () => true,
      rawRoutes: {
        '/hook': createWebhookHandler({
          secrets: new WebhookSecretBook({ config, logger }),
          maxBodyBytes: 1024 * 1024,
          logger,
          registry,
          publish: (envelope, encoded) => publishEncoded(bus.nc, envelope, encoded, { timeoutMs: 2000 }),
        }),
      },
    });
    url = `http://127.0.0.1:${server.port}/hook`;
    close = () => server.close();
  });

  afterAll(async () => {
    config?.stop();
    await close?.();
    await bus?.close();
    await nats?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it.each([
    ["a repository of payments' org, signed with payments' secret", 'acme-pay', 'ledger', 'payments-secret', 'payments'],
    ["a repository payments lists by name inside search's org", 'acme', 'billing', 'payments-secret', 'payments'],
    ["the rest of search's org, signed with search's secret", 'acme', 'search', 'search-secret', 'search'],
    ['names spelt in another case', 'ACME', 'Billing', 'payments-secret', 'payments'],
  ])('stores %s under its tenant’s subject', async (_case, org, repo, secret, tenant) => {
    const deliveryId = `accepted-${org}-${repo}`;
    expect(await send('issue_comment', comment(org, repo), secret, deliveryId)).toEqual({ status: 202, body: 'accepted\n' });
    expect(await stored(deliveryId)).toEqual([{ subject: `bowline.events.${tenant}.github.issue_comment`, tenant }]);
  });

  it.each([
    ["payments' repository signed with search's secret", 'acme-pay', 'ledger', 'search-secret', 'payments'],
    ["acme/billing (payments') signed with the secret of search, which owns the rest of acme", 'acme', 'billing', 'search-secret', 'payments'],
    ["search's repository signed with payments' secret", 'acme', 'search', 'payments-secret', 'search'],
  ])("refuses %s with 401 and stores nothing: never another tenant's secret", async (_case, org, repo, secret, tenant) => {
    const deliveryId = `forged-${org}-${repo}`;
    const before = await metric('bowline_hook_requests_total');
    const count = (values: Record<string, string | number>[]) =>
      Number(values.find((v) => v.tenant === tenant && v.event === 'unverified' && v.outcome === 'bad_signature')?.value ?? 0);

    expect((await send('issue_comment', comment(org, repo), secret, deliveryId)).status).toBe(401);
    expect(await stored(deliveryId)).toEqual([]);
    expect(count(await metric('bowline_hook_requests_total'))).toBe(count(before) + 1);
  });

  it('refuses a repository no tenant owns with 404, counted by reason, whoever signed it', async () => {
    const answer = await send('issue_comment', comment('globex', 'widgets'), 'payments-secret', 'unknown-repo');

    expect(answer).toEqual({ status: 404, body: 'globex/widgets belongs to no tenant of this Bowline\n' });
    expect(await stored('unknown-repo')).toEqual([]);
    expect(await metric('bowline_hook_unknown_owner_total')).toContainEqual({ reason: 'unknown_repository', value: 1 });
  });

  it.each([
    ["an org webhook's ping from payments' org, with payments' secret", 200, { zen: 'hi', hook_id: 1, organization: { login: 'acme-pay' } }, 'payments-secret'],
    ["an org webhook's ping from payments' org, with search's secret", 401, { zen: 'hi', hook_id: 1, organization: { login: 'acme-pay' } }, 'search-secret'],
    ["an App's ping, which names no org, with either tenant's secret", 200, { zen: 'hi', hook_id: 2, hook: { app_id: 9 } }, 'search-secret'],
    ["an App's ping with a secret no tenant has", 401, { zen: 'hi', hook_id: 2, hook: { app_id: 9 } }, 'nobody-secret'],
    ['a ping from an org no tenant lists as a whole', 404, { zen: 'hi', hook_id: 3, organization: { login: 'globex' } }, 'payments-secret'],
  ])('answers %s with %d', async (_case, status, payload, secret) => {
    expect((await send('ping', payload, secret, `ping-${_case}`)).status).toBe(status);
  });

  it('counts requests by tenant', async () => {
    await send('issue_comment', comment('acme', 'search'), 'search-secret', 'counted-search');
    expect(await metric('bowline_hook_requests_total')).toContainEqual(expect.objectContaining({ tenant: 'search', event: 'issue_comment', outcome: 'published' }));
  });

  it("reads a tenant's rotated secret file again when the config reloads", async () => {
    writeFileSync(join(dir, 'payments-hmac'), 'payments-secret-2\n');
    // The file alone is not watched: until the config reloads, the secrets read stay in force.
    expect((await send('issue_comment', comment('acme-pay', 'ledger'), 'payments-secret-2', 'rotated-early')).status).toBe(401);

    writeFileSync(join(dir, 'config.yaml'), configText(dir, '# rotated'));
    expect(config.check()).toBe(true);

    expect((await send('issue_comment', comment('acme-pay', 'ledger'), 'payments-secret-2', 'rotated')).status).toBe(202);
    expect((await send('issue_comment', comment('acme-pay', 'ledger'), 'payments-secret', 'rotated-old')).status).toBe(401);
  });

  it("keeps a tenant's last secrets when its file cannot be read on a reload", async () => {
    rmSync(join(dir, 'search-hmac'));
    writeFileSync(join(dir, 'config.yaml'), configText(dir, '# search secret gone'));
    expect(config.check()).toBe(true);

    expect((await send('issue_comment', comment('acme', 'search'), 'search-secret', 'kept')).status).toBe(202);
    writeFileSync(join(dir, 'search-hmac'), 'search-secret\n');
  });
});

describe('WebhookSecretBook at start', () => {
  it.each([
    ['a tenant whose secret file cannot be read', (dir: string) => configText(dir), /webhook secret file .*payments-hmac of tenant "payments" cannot be read/],
    ['a config without tenants and no GITHUB_WEBHOOK_SECRET_FILE', () => 'presubmits: {}\n', /GITHUB_WEBHOOK_SECRET_FILE is not set/],
  ])('refuses %s, so the hook does not start', (_case, text, message) => {
    const dir = mkdtempSync(join(tmpdir(), 'bowline-hook-book-'));
    writeFileSync(join(dir, 'search-hmac'), 'search-secret\n');
    writeFileSync(join(dir, 'config.yaml'), text(dir));
    const config = watchConfigFile({ path: join(dir, 'config.yaml'), logger, pollMs: 60_000 });
    try {
      expect(() => new WebhookSecretBook({ config, logger })).toThrow(SettingsError);
      expect(() => new WebhookSecretBook({ config, logger })).toThrow(message);
    } finally {
      config.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("checks a config without tenants with GITHUB_WEBHOOK_SECRET_FILE, as before tenants", () => {
    const dir = mkdtempSync(join(tmpdir(), 'bowline-hook-book-'));
    writeFileSync(join(dir, 'hmac'), 'the-secret\n');
    const book = new WebhookSecretBook({ secretFile: join(dir, 'hmac'), logger });
    expect(book.needsPayload()).toBe(false);
    expect(book.verdict(undefined)).toEqual({ kind: 'tenant', tenant: 'default', secrets: ['the-secret'] });
    rmSync(dir, { recursive: true, force: true });
  });
});
