import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { Registry } from 'prom-client';
import { ALL_TENANTS, parseConfig, staticConfigSource, type Config, type TenantFilter } from '@bowline/config';
import { JenkinsClient } from '@bowline/jenkins';
import { createLogger } from '@bowline/observability';
import { newPresubmitJob, prowJobName, TENANT_LABEL, type ProwJob, type ProwJobStore } from '@bowline/prowjob';
import { startOpsServer, ViewTokens } from '@bowline/service';
import { FakeJenkins, startProwJobBucket, waitFor, type ProwJobBucket } from '@bowline/testing';
import { JENKINS_MASTER, JenkinsMasters } from '../src/jenkins-masters.js';
import { DESCRIPTIONS } from '../src/job-records.js';
import { createLogsHandler } from '../src/logs-route.js';
import { JenkinsOperator } from '../src/operator.js';
import { operatorLeaseName } from '../src/settings.js';

// Two tenants, each with its own Jenkins and credentials: payments logs in as a user with an API
// token, search with a bearer token. Each Jenkins knows only its own tenant's credentials.
const secrets = mkdtempSync(join(tmpdir(), 'bowline-operator-tenants-'));
const PAYMENTS_TOKEN = 'payments-jenkins-token';
const SEARCH_TOKEN = 'search-jenkins-bearer';
writeFileSync(join(secrets, 'payments-jenkins'), `${PAYMENTS_TOKEN}\n`);
writeFileSync(join(secrets, 'search-jenkins'), `${SEARCH_TOKEN}\n`);
const logger = createLogger({ service: 'test', level: 'silent' });

function tenantsConfig(payments: FakeJenkins, search: FakeJenkins, quotas = { payments: 0, search: 0 }): Config {
  return parseConfig(
    `
presubmits:
  acme-pay/ledger:
  - { name: unit, agent: jenkins, context: ci/unit }
  - { name: gpu, agent: jenkins, context: ci/gpu, labels: { pool: gpu } }
  acme/search:
  - { name: unit, agent: jenkins, context: ci/unit }
bowline:
  jenkins_operator: { resync_period: 1h }
  tenants:
  - name: payments
    repos: [acme-pay]
    webhook_secret_file: ${join(secrets, 'hmac')}
    jenkins:
    - { name: payments-ci, url: "${payments.url}", user: pay-bot, token_file: ${join(secrets, 'payments-jenkins')}, label_selector: "pool!=gpu" }
    quotas: { max_concurrency: ${quotas.payments} }
    access: { view: ["team:acme-pay/all"] }
  - name: search
    repos: [acme]
    webhook_secret_file: ${join(secrets, 'hmac')}
    jenkins:
    - { name: search-ci, url: "${search.url}", bearer_token_file: ${join(secrets, 'search-jenkins')} }
    quotas: { max_concurrency: ${quotas.search} }
`,
    'config.yaml',
  );
}

let created = 0;
/** A presubmit ProwJob of the repository's job, labelled with `tenant` when given (as the planner writes it). */
function newJob(config: Config, repo: string, jobName: string, tenant?: string): ProwJob {
  created += 1;
  const [org, name] = repo.split('/') as [string, string];
  const presubmit = config.presubmits[repo]!.find((p) => p.name === jobName)!;
  const job = newPresubmitJob(presubmit, {
    name: prowJobName('tenants-test', String(process.pid), String(created), jobName),
    refs: { org, repo: name, base_ref: 'main', base_sha: 'b'.repeat(40), pulls: [{ number: created, author: 'alice', sha: 'a'.repeat(40), ref: 'feature', title: 'Change' }] },
    now: new Date(),
    cause: { event: 'issue_comment', deliveryId: `delivery-${created}`, user: 'alice', comment: '/test all' },
  });
  if (tenant !== undefined) job.metadata.labels[TENANT_LABEL] = tenant;
  return job;
}

const PAYMENTS_AUTH = `Basic ${Buffer.from(`pay-bot:${PAYMENTS_TOKEN}`).toString('base64')}`;
const SEARCH_AUTH = `Bearer ${SEARCH_TOKEN}`;
const enqueued = (j: ProwJob): boolean => j.status.description === DESCRIPTIONS.enqueued;

describe('JenkinsOperator with two tenants', () => {
  let bucket: ProwJobBucket;
  let store: ProwJobStore;
  let payments: FakeJenkins;
  let search: FakeJenkins;
  let operator: JenkinsOperator | undefined;
  let masters: JenkinsMasters;
  let registry: Registry;

  beforeAll(async () => {
    bucket = await startProwJobBucket();
    store = bucket.store;
  });

  afterAll(async () => {
    await bucket?.stop();
  });

  beforeEach(async () => {
    payments = await FakeJenkins.start({ jobs: ['unit', 'gpu'], user: 'pay-bot', apiToken: PAYMENTS_TOKEN });
    search = await FakeJenkins.start({ jobs: ['unit'], apiToken: 'not-the-payments-token', bearerToken: SEARCH_TOKEN });
  });

  afterEach(async () => {
    await operator?.stop();
    operator = undefined;
    await payments.close();
    await search.close();
    for (const { job } of await store.list()) await bucket.kv.purge(job.metadata.name);
  });

  async function startOperator(config: Config, tenants: TenantFilter = ALL_TENANTS, client: { timeoutMs?: number } = {}, probeFirstMs = 300): Promise<void> {
    const source = staticConfigSource(config);
    registry = new Registry();
    masters = new JenkinsMasters({ config: source, logger, createClient: (options) => new JenkinsClient({ ...options, retries: 1, retryBaseMs: 1, ...client }) });
    operator = new JenkinsOperator({ store, masters, config: source, logger, registry, tenants, probeFirstMs });
    await operator.start();
  }

  async function create(job: ProwJob): Promise<ProwJob> {
    expect(await store.create(job)).toBe(true);
    return job;
  }

  async function waitForJob(job: ProwJob, what: string, predicate: (current: ProwJob) => boolean): Promise<ProwJob> {
    return waitFor(`${job.metadata.name} ${what}`, async () => {
      const current = (await store.get(job.metadata.name))?.job;
      return current !== undefined && predicate(current) && current;
    });
  }

  async function syncAll(): Promise<void> {
    await operator!.settled();
    await operator!.sync((await store.list()).map((s) => s.job));
    await operator!.settled();
  }

  async function counter(name: string): Promise<Record<string, number>> {
    const values = (await registry.getSingleMetric(name)!.get()).values;
    return Object.fromEntries(values.map((v) => [String(v.labels.tenant), v.value]));
  }

  it("starts each tenant's jobs on its own Jenkins only, with its own credentials", async () => {
    const config = tenantsConfig(payments, search);
    await startOperator(config);
    // One labelled by the planner, one known by its repository only (made before tenants).
    const ledger = await create(newJob(config, 'acme-pay/ledger', 'unit', 'payments'));
    const searchUnit = await create(newJob(config, 'acme/search', 'unit'));

    expect((await waitForJob(ledger, 'enqueued', enqueued)).metadata.annotations[JENKINS_MASTER]).toBe('payments-ci');
    expect((await waitForJob(searchUnit, 'enqueued', enqueued)).metadata.annotations[JENKINS_MASTER]).toBe('search-ci');
    expect(payments.findQueueItem(ledger.metadata.name)).toBeDefined();
    expect(search.findQueueItem(searchUnit.metadata.name)).toBeDefined();
    expect(payments.findQueueItem(searchUnit.metadata.name)).toBeUndefined();
    expect(search.findQueueItem(ledger.metadata.name)).toBeUndefined();
    // Every request each Jenkins saw carried its own tenant's credentials, and none was refused.
    expect(new Set(payments.requests.map((r) => r.headers.authorization))).toEqual(new Set([PAYMENTS_AUTH]));
    expect(new Set(search.requests.map((r) => r.headers.authorization))).toEqual(new Set([SEARCH_AUTH]));
    expect([...payments.requests, ...search.requests].filter((r) => r.status === 401 || r.status === 403)).toEqual([]);
    expect(await counter('bowline_operator_builds_started_total')).toEqual({ payments: 1, search: 1 });
  });

  it("holds a job its tenant's masters do not take, saying so, and never hands it to the other tenant's", async () => {
    const config = tenantsConfig(payments, search);
    await startOperator(config);
    // search-ci takes every job; payments-ci takes none of the gpu pool.
    const gpu = await create(newJob(config, 'acme-pay/ledger', 'gpu', 'payments'));
    const held = await waitForJob(gpu, 'held', (j) => (j.status.description ?? '').startsWith('Waiting'));
    expect(held.status).toMatchObject({
      state: 'triggered',
      description: 'Waiting: no Jenkins master of tenant payments takes this job (check the label_selector of each in bowline.tenants[payments].jenkins).',
    });
    await syncAll();
    expect(search.requests).toEqual([]);
    expect(payments.requestsTo({ method: 'POST' })).toEqual([]);
  });

  it('holds a job naming a tenant the config does not list, rather than run it as its repository\'s tenant', async () => {
    const config = tenantsConfig(payments, search);
    await startOperator(config);
    const orphan = await create(newJob(config, 'acme/search', 'unit', 'gone'));
    const held = await waitForJob(orphan, 'held', (j) => (j.status.description ?? '').startsWith('Waiting'));
    expect(held.status.description).toBe('Waiting: tenant "gone" of this job is not in the config, so no Jenkins master may run it.');
    expect([...payments.requests, ...search.requests].filter((r) => r.method === 'POST')).toEqual([]);
  });

  it("counts quotas.max_concurrency per tenant, while the other tenant's jobs keep starting", async () => {
    const config = tenantsConfig(payments, search, { payments: 1, search: 0 });
    await startOperator(config);
    const first = await create(newJob(config, 'acme-pay/ledger', 'unit', 'payments'));
    await waitForJob(first, 'enqueued', enqueued);
    const second = await create(newJob(config, 'acme-pay/ledger', 'unit', 'payments'));
    const others = [await create(newJob(config, 'acme/search', 'unit', 'search')), await create(newJob(config, 'acme/search', 'unit', 'search'))];

    for (const other of others) await waitForJob(other, 'enqueued', enqueued);
    const waiting = await waitForJob(second, 'waiting', (j) => (j.status.description ?? '').startsWith('Waiting'));
    expect(waiting.status).toMatchObject({ state: 'triggered', description: 'Waiting: 1 of 1 builds of tenant payments running (its quotas.max_concurrency).' });
    expect(payments.queue()).toHaveLength(1);
    expect(search.queue()).toHaveLength(2);
    expect(await counter('bowline_operator_quota_waits_total')).toEqual({ payments: 1 });

    // The slot given back goes to the waiting payments job.
    payments.finishBuild(payments.startBuild(payments.findQueueItem(first.metadata.name)!.id), 'SUCCESS');
    await syncAll();
    await waitForJob(second, 'enqueued', enqueued);
  });

  it("lets one tenant's jobs start while the other tenant's Jenkins is down, holding only the other's", async () => {
    const config = tenantsConfig(payments, search);
    await startOperator(config);
    payments.inject({ path: '/queue/api/json' }, { status: 503, times: 1_000 });
    payments.inject({ path: '/crumbIssuer/api/json' }, { status: 503, times: 1_000 });

    const ledger = await create(newJob(config, 'acme-pay/ledger', 'unit', 'payments'));
    const searchUnit = await create(newJob(config, 'acme/search', 'unit', 'search'));
    await waitForJob(searchUnit, 'enqueued', enqueued);
    await syncAll();
    expect((await store.get(ledger.metadata.name))!.job.status).toMatchObject({ state: 'triggered', description: 'Job triggered.' });
    expect(payments.requestsTo({ method: 'POST' })).toEqual([]);
    expect(search.findQueueItem(ledger.metadata.name)).toBeUndefined();
  });

  it("keeps starting one tenant's jobs while the other tenant's Jenkins hangs, and starts the other's once it answers again", async () => {
    const timeoutMs = 1_000;
    const config = tenantsConfig(payments, search);
    // Three answers late past the client's timeout: the first pass's try and its one retry, then
    // the next ask, whoever makes it.
    payments.inject({ path: '/queue/api/json' }, { delayMs: 3 * timeoutMs, times: 3 });
    // In the bucket before the operator starts, so its first start is looked up in Jenkins first
    // (a job created while it acts is started without a listing).
    const ledger = await create(newJob(config, 'acme-pay/ledger', 'unit', 'payments'));
    // The background look comes after the pass measured below.
    await startOperator(config, ALL_TENANTS, { timeoutMs }, 2 * timeoutMs);
    await waitFor('the payments queue listing tried twice', () => payments.requestsTo({ path: '/queue/api/json' }).length === 2);
    await operator!.settled();

    // A pass over both tenants' jobs no longer waits on the silent Jenkins: a request to it would
    // cost a whole timeout. That holds for a payments job created now too, which is started
    // without a listing only on a master that answered its last one.
    const newLedger = await create(newJob(config, 'acme-pay/ledger', 'unit', 'payments'));
    const searchUnit = await create(newJob(config, 'acme/search', 'unit', 'search'));
    const began = Date.now();
    await operator!.sync([(await store.get(ledger.metadata.name))!.job, newLedger, searchUnit]);
    expect(Date.now() - began).toBeLessThan(timeoutMs);
    expect((await store.get(searchUnit.metadata.name))!.job.status.description).toBe(DESCRIPTIONS.enqueued);
    expect(payments.requestsTo({ method: 'POST', path: /\/buildWithParameters$/ })).toEqual([]);

    // The background look finds it answering again, and its jobs start without a resync.
    await waitForJob(ledger, 'enqueued', enqueued);
    await waitForJob(newLedger, 'enqueued', enqueued);
    expect(payments.findQueueItem(ledger.metadata.name)).toBeDefined();
  });

  it('acts only on the tenants of BOWLINE_TENANTS, under a lease of its own', async () => {
    const config = tenantsConfig(payments, search);
    await startOperator(config, { names: ['search'], includes: (t) => t === 'search' });
    const ledger = await create(newJob(config, 'acme-pay/ledger', 'unit', 'payments'));
    const searchUnit = await create(newJob(config, 'acme/search', 'unit', 'search'));
    await waitForJob(searchUnit, 'enqueued', enqueued);
    await syncAll();
    expect((await store.get(ledger.metadata.name))!.job.status).toMatchObject({ state: 'triggered', description: 'Job triggered.' });
    expect(payments.requests).toEqual([]);

    expect(operatorLeaseName(ALL_TENANTS)).toBe('jenkins-operator');
    expect(operatorLeaseName({ names: ['search', 'payments'], includes: () => true })).toBe('jenkins-operator.payments.search');
  });

  describe('the logs endpoint with view tokens', () => {
    const readerToken = 'payments-reader-token';
    const teamToken = 'acme-pay-team-token';
    const searchToken = 'search-reader-token';
    const tokensFile = join(secrets, 'view-tokens.yaml');
    writeFileSync(join(secrets, 'reader'), `${readerToken}\n`);
    writeFileSync(
      tokensFile,
      [
        'tokens:',
        `- { token_file: ${join(secrets, 'reader')}, tenants: [payments] }`,
        `- { sha256: ${createHash('sha256').update(teamToken).digest('hex')}, view: ["team:acme-pay/all"] }`,
        `- { sha256: ${createHash('sha256').update(searchToken).digest('hex')}, tenants: [search] }`,
      ].join('\n'),
    );

    it('answers 401 without a known token, 403 for another tenant\'s job and the log for its own', async () => {
      const config = tenantsConfig(payments, search);
      await startOperator(config);
      const ledger = await create(newJob(config, 'acme-pay/ledger', 'unit', 'payments'));
      await waitForJob(ledger, 'enqueued', enqueued);
      payments.finishBuild(payments.startBuild(payments.findQueueItem(ledger.metadata.name)!.id), 'SUCCESS', 'ledger tests passed');
      await syncAll();

      const logs = createLogsHandler({ store, masters, logger, config: staticConfigSource(config), viewTokens: ViewTokens.load(tokensFile) });
      const server = await startOpsServer({ port: 0, logger, registry: new Registry(), isReady: () => true, routes: (app) => void app.get('/logs/:prowjob', logs) });
      const read = (token?: string): Promise<Response> =>
        fetch(`http://127.0.0.1:${server.port}/logs/${ledger.metadata.name}`, { headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });
      try {
        const cases: [string, string | undefined, number][] = [
          ['no token', undefined, 401],
          ['an unknown token', 'guess', 401],
          ["another tenant's token", searchToken, 403],
          ['a token naming the tenant (token_file)', readerToken, 200],
          ["a token standing for the tenant's view entry (sha256)", teamToken, 200],
        ];
        const answers = [];
        for (const [who, token] of cases) answers.push([who, token, (await read(token)).status]);
        expect(answers).toEqual(cases);
        expect(await (await read(readerToken)).text()).toContain('ledger tests passed');
        expect((await read()).headers.get('www-authenticate')).toBe('Bearer');
      } finally {
        await server.close();
      }
    });

    it("answers 404 for another operator's tenant (BOWLINE_TENANTS), and serves its own", async () => {
      const config = tenantsConfig(payments, search);
      await startOperator(config);
      const ledger = await create(newJob(config, 'acme-pay/ledger', 'unit', 'payments'));
      await waitForJob(ledger, 'enqueued', enqueued);
      payments.finishBuild(payments.startBuild(payments.findQueueItem(ledger.metadata.name)!.id), 'SUCCESS', 'ledger tests passed');
      await syncAll();

      const handler = (only: string) =>
        createLogsHandler({ store, masters, logger, config: staticConfigSource(config), tenants: { names: [only], includes: (t) => t === only } });
      const statuses: Record<string, number> = {};
      for (const only of ['search', 'payments']) {
        const server = await startOpsServer({ port: 0, logger, registry: new Registry(), isReady: () => true, routes: (app) => void app.get('/logs/:prowjob', handler(only)) });
        try {
          statuses[only] = (await fetch(`http://127.0.0.1:${server.port}/logs/${ledger.metadata.name}`)).status;
        } finally {
          await server.close();
        }
      }
      expect(statuses).toEqual({ search: 404, payments: 200 });
    });
  });
});
