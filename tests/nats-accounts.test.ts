import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { jetstreamManager } from '@nats-io/jetstream';
import { ack, connectBus, consumeEvents, ensureEventsStream, EVENTS_STREAM, tenantConsumer, type BusConnection } from '@bowline/bus';
import { createLogger } from '@bowline/observability';
import { freePort, pullRequestCommentPayload, REPO_ROOT, sendWebhook, signWebhook, startNats, waitFor, type NatsServer } from '@bowline/testing';

// The README's hard isolation, as deployed: examples/tenants/nats-accounts.conf on a real
// nats-server, each tenant's EVENTS stream in its own account, and the hook (a process, in the
// HOOK account, BOWLINE_EVENTS_STREAM=none) publishing each webhook into its tenant's account.
const logger = createLogger({ service: 'test', level: 'silent' });
const PASSWORDS = { HOOK: 'hook-password', PAYMENTS: 'payments-password', SEARCH: 'search-password' };

describe('one hook, each tenant in its own NATS account', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bowline-accounts-'));
  let nats: NatsServer;
  let payments: BusConnection;
  let search: BusConnection;
  let hook: ChildProcess;
  let hookUrl: string;
  const hookLogs: string[] = [];

  const as = (user: string) => connectBus({ servers: nats.url, name: user, logger, auth: { user, pass: PASSWORDS[user.toUpperCase() as keyof typeof PASSWORDS] } });
  const comment = (org: string, repo: string) => pullRequestCommentPayload({ org, repo, number: 1, commenter: 'alice', body: '/test all' });
  const send = (org: string, repo: string, secret: string, deliveryId: string) =>
    sendWebhook(hookUrl, signWebhook({ event: 'issue_comment', payload: comment(org, repo), secret, deliveryId }));

  /** The subjects of the events in the account's EVENTS stream. */
  async function subjectsIn(bus: BusConnection): Promise<string[]> {
    const jsm = await jetstreamManager(bus.nc);
    const { state } = await jsm.streams.info(EVENTS_STREAM);
    const subjects: string[] = [];
    for (let seq = state.first_seq; state.messages > 0 && seq <= state.last_seq; seq += 1) subjects.push((await jsm.streams.getMessage(EVENTS_STREAM, { seq }))!.subject);
    return subjects;
  }

  beforeAll(async () => {
    let config = readFileSync(join(REPO_ROOT, 'examples/tenants/nats-accounts.conf'), 'utf8');
    for (const [account, password] of Object.entries(PASSWORDS)) config = config.replace(`$${account}_PASSWORD`, `"${password}"`);
    nats = await startNats({ config });
    payments = await as('payments');
    search = await as('search');
    // What each tenant's planner does at start, in its own account.
    await ensureEventsStream(payments.nc, { replicas: 1 });
    await ensureEventsStream(search.nc, { replicas: 1 });

    writeFileSync(join(dir, 'payments-hmac'), 'payments-secret\n');
    writeFileSync(join(dir, 'search-hmac'), 'search-secret\n');
    writeFileSync(join(dir, 'hook-password'), `${PASSWORDS.HOOK}\n`);
    const tenant = (name: string, org: string) =>
      [`  - name: ${name}`, `    repos: [${org}]`, `    webhook_secret_file: ${join(dir, `${name}-hmac`)}`, `    jenkins: [{ name: ${name}-ci, url: "https://${name}/" }]`].join('\n');
    writeFileSync(join(dir, 'config.yaml'), ['bowline:', '  tenants:', tenant('payments', 'acme-pay'), tenant('search', 'acme')].join('\n'));
    const port = await freePort();
    hook = spawn(process.execPath, [join(REPO_ROOT, 'services/hook/dist/main.js')], {
      env: {
        PATH: process.env.PATH ?? '',
        PORT: String(port),
        NATS_URL: nats.url,
        NATS_USER: 'hook',
        NATS_PASSWORD_FILE: join(dir, 'hook-password'),
        BOWLINE_EVENTS_STREAM: 'none',
        HOOK_PUBLISH_TIMEOUT: '1s',
        BOWLINE_CONFIG: join(dir, 'config.yaml'),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    hook.stdout?.on('data', (chunk: Buffer) => hookLogs.push(chunk.toString()));
    hook.stderr?.on('data', (chunk: Buffer) => hookLogs.push(chunk.toString()));
    hookUrl = `http://127.0.0.1:${port}/hook`;
    await waitFor('the hook ready', async () => {
      if (hook.exitCode !== null) throw new Error(`the hook exited:\n${hookLogs.join('')}`);
      return (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined))?.status === 200;
    });
  }, 30_000);

  afterAll(async () => {
    hook?.kill('SIGTERM');
    await payments?.close();
    await search?.close();
    await nats?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("stores each tenant's webhooks in its own account only, and the hook's account keeps none", async () => {
    expect((await send('acme-pay', 'ledger', 'payments-secret', 'pay-1')).status).toBe(202);
    expect((await send('acme', 'search', 'search-secret', 'search-1')).status).toBe(202);

    expect(await subjectsIn(payments)).toEqual(['bowline.events.payments.github.issue_comment']);
    expect(await subjectsIn(search)).toEqual(['bowline.events.search.github.issue_comment']);
    const hookAccount = await as('hook');
    await expect(jetstreamManager(hookAccount.nc).then((jsm) => jsm.streams.info(EVENTS_STREAM))).rejects.toThrow(/stream not found/);
    await hookAccount.close();
  });

  it("hands a tenant's planner, in its account, its tenant's events", async () => {
    const seen: string[] = [];
    const consumer = await consumeEvents({ nc: payments.nc, durable: tenantConsumer('planner', 'payments'), tenant: 'payments', service: 'planner', logger, handle: async (e) => (seen.push(`${e.tenant}/${e.id}`), ack) });
    await waitFor('the payments planner handed pay-1', () => seen.includes('payments/pay-1'));
    await consumer.stop();
    expect(seen).toEqual(['payments/pay-1']);
  });

  it("answers 503, not 202, when the tenant's account cannot store the event: nothing else acknowledges it", async () => {
    await (await jetstreamManager(search.nc)).streams.delete(EVENTS_STREAM);
    const answer = await send('acme', 'search', 'search-secret', 'search-2');
    expect(answer.status).toBe(503);
    await ensureEventsStream(search.nc, { replicas: 1 });
  });
});
