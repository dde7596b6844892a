import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { KV } from '@nats-io/kv';
import { Registry } from 'prom-client';
import { parseConfig, staticConfigSource, type Config } from '@bowline/config';
import { connectGitHub, TenantGitHubClients } from '@bowline/github';
import { createLogger } from '@bowline/observability';
import { newPresubmitJob, prowJobName, ProwJobStore, TENANT_LABEL, transition, type ProwJob, type ProwJobState } from '@bowline/prowjob';
import { FakeGitHub, startProwJobBucket, waitFor, type ProwJobBucket } from '@bowline/testing';
import { Reporter, REPORTER_NAME } from '../src/reporter.js';

const logger = createLogger({ service: 'test', level: 'silent' });
const BASE_SHA = 'b'.repeat(40);
const dir = mkdtempSync(join(tmpdir(), 'bowline-reporter-tenants-'));

/** payments (acme-pay) and search (acme) write with their own tokens; infra (infra) with the service's. */
function tenantsConfig(): Config {
  writeFileSync(join(dir, 'payments-token'), 'payments-token\n');
  writeFileSync(join(dir, 'search-token'), 'search-token\n');
  const tenant = (name: string, org: string, github: string) =>
    [`  - name: ${name}`, `    repos: [${org}]`, `    webhook_secret_file: /s/${name}`, `    jenkins: [{ name: ${name}-ci, url: "https://${name}/" }]`, github].filter(Boolean).join('\n');
  const job = (repo: string) => `  ${repo}:\n  - name: unit\n    agent: jenkins\n    context: ci/unit`;
  return parseConfig(
    [
      'presubmits:',
      job('acme-pay/ledger'),
      job('acme/search'),
      job('infra/tools'),
      'bowline:',
      '  tenants:',
      tenant('payments', 'acme-pay', `    github: { token_file: ${join(dir, 'payments-token')} }`),
      tenant('search', 'acme', `    github: { token_file: ${join(dir, 'search-token')} }`),
      tenant('infra', 'infra', ''),
    ].join('\n'),
    'config.yaml',
  );
}

describe('Reporter with tenants', () => {
  let bucket: ProwJobBucket;
  let kv: KV;
  let store: ProwJobStore;
  let github: FakeGitHub;
  let reporter: Reporter;
  let config: Config;
  let created = 0;

  beforeAll(async () => {
    bucket = await startProwJobBucket();
    ({ kv, store } = bucket);
    github = await FakeGitHub.start({ tokens: ['own-token', 'payments-token', 'search-token'] });
    config = tenantsConfig();
    const settings = { apiUrl: github.url, writeIntervalMs: 0 };
    const own = connectGitHub({ ...settings, token: 'own-token' }, { logger, service: 'reporter-tenants-test' });
    const clients = new TenantGitHubClients({ own, settings, logger, service: 'reporter-tenants-test' });
    reporter = new Reporter({
      github: own.octokit,
      botLogin: own.botLogin,
      tenantGitHub: (tenant) => clients.forTenant(tenant),
      config: staticConfigSource(config),
      store,
      logger,
      registry: new Registry(),
    });
    await reporter.start();
  });

  afterAll(async () => {
    await reporter?.stop();
    for (const { job } of await store.list()) await kv.purge(job.metadata.name);
    await bucket?.stop();
    await github?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A failed presubmit of `org/repo` (a status and a failure comment to write), labelled as given. */
  async function failedJob(org: string, repo: string, labels: Record<string, string> = {}): Promise<ProwJob> {
    created += 1;
    const number = 200 + created;
    const headSha = String(created).padStart(40, 'c');
    github.addPullRequest({ org, repo, number, author: 'alice', headSha, baseSha: BASE_SHA });
    const presubmit = config.presubmits[`${org}/${repo}`]?.[0] ?? config.presubmits['infra/tools']![0]!;
    const job = newPresubmitJob(presubmit, {
      name: prowJobName('reporter-tenants', String(process.pid), String(created)),
      refs: { org, repo, base_ref: 'main', base_sha: BASE_SHA, pulls: [{ number, author: 'alice', sha: headSha }] },
      now: new Date(),
      cause: { event: 'issue_comment', deliveryId: `delivery-${created}` },
    });
    const labelled = { ...job, metadata: { ...job.metadata, labels: { ...job.metadata.labels, ...labels } } };
    expect(await store.create(transition(labelled, 'failure', new Date(), { url: 'https://ci/1' })!)).toBe(true);
    return labelled;
  }

  const reported = (job: ProwJob, state: ProwJobState) =>
    waitFor(`${job.metadata.name} reported`, async () => (await store.get(job.metadata.name))?.job.status.prev_report_states?.[REPORTER_NAME] === state);

  /** The Authorization header of every request the fake saw for the repository since `since`. */
  const tokensFor = (since: number, org: string, repo: string): string[] => [
    ...new Set(github.requests.slice(since).filter((r) => r.path.startsWith(`/repos/${org}/${repo}/`)).map((r) => String(r.headers.authorization))),
  ];

  it.each([
    ['payments', "payments' token", 'acme-pay', 'ledger', 'token payments-token'],
    ['search', "search's token", 'acme', 'search', 'token search-token'],
    ['infra, which has no github of its own,', "the service's token", 'infra', 'tools', 'token own-token'],
  ])('writes the status and the failure comment of a job of %s with %s', async (_tenant, _whose, org, repo, token) => {
    const since = github.requests.length;
    const job = await failedJob(org, repo);
    await reported(job, 'failure');

    const writes = github.requests.slice(since).filter((r) => r.method === 'POST' && r.path.startsWith(`/repos/${org}/${repo}/`));
    expect(writes.map((r) => r.path)).toEqual([`/repos/${org}/${repo}/statuses/${job.spec.refs.pulls![0]!.sha}`, `/repos/${org}/${repo}/issues/${job.spec.refs.pulls![0]!.number}/comments`]);
    expect(tokensFor(since, org, repo)).toEqual([token]);
  });

  it("takes the tenant a job is labelled with over its repository's", async () => {
    const since = github.requests.length;
    // A job the planner labelled payments', in a repository search owns (moved there since).
    const job = await failedJob('acme', 'search', { [TENANT_LABEL]: 'payments' });
    await reported(job, 'failure');
    expect(tokensFor(since, 'acme', 'search')).toEqual(['token payments-token']);
  });

  it('writes nothing for a job no tenant owns, and records it as reported', async () => {
    const since = github.requests.length;
    const job = await failedJob('globex', 'widgets', { [TENANT_LABEL]: 'removed-tenant' });
    await reported(job, 'failure');
    expect(github.requests.slice(since).filter((r) => r.path.startsWith('/repos/globex/'))).toEqual([]);
  });
});
