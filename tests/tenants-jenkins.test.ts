import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { FakeJenkins, pullRequestCommentPayload, sendWebhook, signWebhook, startPipeline, waitFor, type Pipeline, type RecordedRequest } from '@bowline/testing';

// Two tenants on one Bowline, each with its own Jenkins, Jenkins credentials and webhook secret:
// payments (the acme-pay org) logs in to its Jenkins as a user with an API token and may run one
// build at a time; search (the acme org) uses a bearer token and has no quota. Both name their
// job `unit`. The whole pipeline runs as deployed (nats-server, the services as processes); every
// assertion is on what the two Jenkins and GitHub recorded.
const PAYMENTS = { secret: 'payments-hmac', jenkinsUser: 'pay-bot', jenkinsToken: 'payments-jenkins-token' };
const SEARCH = { secret: 'search-hmac', jenkinsToken: 'search-jenkins-bearer' };
const PAYMENTS_AUTH = `Basic ${Buffer.from(`${PAYMENTS.jenkinsUser}:${PAYMENTS.jenkinsToken}`).toString('base64')}`;
const SEARCH_AUTH = `Bearer ${SEARCH.jenkinsToken}`;
// Who may read logs from the operator: a token for payments (in a file), one for search (by hash).
const VIEW = { payments: 'payments-log-reader', search: 'search-log-reader' };

function config(secrets: string, payments: FakeJenkins, search: FakeJenkins): string {
  return `
presubmits:
  acme-pay/ledger:
  - { name: unit, agent: jenkins, always_run: true, context: ci/jenkins/unit }
  acme/search:
  - { name: unit, agent: jenkins, always_run: true, context: ci/jenkins/unit }
bowline:
  jenkins_operator: { resync_period: 1s }
  tenants:
  - name: payments
    repos: [acme-pay]
    webhook_secret_file: ${join(secrets, 'payments-hmac')}
    jenkins:
    - { name: payments-ci, url: "${payments.url}", user: ${PAYMENTS.jenkinsUser}, token_file: ${join(secrets, 'payments-jenkins')} }
    quotas: { max_concurrency: 1 }
    access: { view: ["team:acme-pay/all"] }
  - name: search
    repos: [acme]
    webhook_secret_file: ${join(secrets, 'search-hmac')}
    jenkins:
    - { name: search-ci, url: "${search.url}", bearer_token_file: ${join(secrets, 'search-jenkins')} }
`;
}

const PULLS = {
  payments: [1, 2].map((number) => ({ org: 'acme-pay', repo: 'ledger', number, headSha: String(number).repeat(40) })),
  search: [3, 4].map((number) => ({ org: 'acme', repo: 'search', number, headSha: String(number).repeat(40) })),
};

describe('two tenants, each with its own Jenkins, from webhook to build', () => {
  let pipeline: Pipeline;
  let payments: FakeJenkins;
  let search: FakeJenkins;
  let secrets: string;

  beforeAll(async () => {
    secrets = mkdtempSync(join(tmpdir(), 'bowline-tenants-jenkins-'));
    writeFileSync(join(secrets, 'payments-hmac'), `${PAYMENTS.secret}\n`);
    writeFileSync(join(secrets, 'search-hmac'), `${SEARCH.secret}\n`);
    writeFileSync(join(secrets, 'payments-jenkins'), `${PAYMENTS.jenkinsToken}\n`);
    writeFileSync(join(secrets, 'search-jenkins'), `${SEARCH.jenkinsToken}\n`);
    writeFileSync(join(secrets, 'payments-view'), `${VIEW.payments}\n`);
    writeFileSync(
      join(secrets, 'view-tokens.yaml'),
      `tokens:\n- { token_file: ${join(secrets, 'payments-view')}, tenants: [payments] }\n- { sha256: ${createHash('sha256').update(VIEW.search).digest('hex')}, tenants: [search] }\n`,
    );
    // Each Jenkins knows its own tenant's credentials only: the other's would get 401.
    payments = await FakeJenkins.start({ jobs: ['unit'], user: PAYMENTS.jenkinsUser, apiToken: PAYMENTS.jenkinsToken });
    search = await FakeJenkins.start({ jobs: ['unit'], apiToken: 'not-the-payments-token', bearerToken: SEARCH.jenkinsToken });
    pipeline = await startPipeline({ config: config(secrets, payments, search), env: { BOWLINE_VIEW_TOKENS_FILE: join(secrets, 'view-tokens.yaml') } });
    for (const pr of [...PULLS.payments, ...PULLS.search]) {
      pipeline.github.addPullRequest({ ...pr, author: 'alice', headRef: `pr-${pr.number}`, baseRef: 'main', baseSha: 'b'.repeat(40), title: `Change ${pr.number}`, files: ['main.go'] });
    }
    pipeline.github.addOrgMember('acme-pay', 'alice');
    pipeline.github.addOrgMember('acme', 'alice');
  }, 60_000);

  afterAll(async () => {
    await pipeline?.stop();
    await Promise.all([payments?.close(), search?.close()]);
    rmSync(secrets, { recursive: true, force: true });
  });

  async function testAll(pr: { org: string; repo: string; number: number }, secret: string): Promise<void> {
    const payload = pullRequestCommentPayload({ ...pr, commenter: 'alice', body: '/test all', prAuthor: 'alice' });
    const answer = await sendWebhook(pipeline.hookUrl, signWebhook({ event: 'issue_comment', payload, secret, deliveryId: `test-all-${pr.org}-${pr.number}` }));
    expect(answer.status).toBe(202);
  }

  const posts = (jenkins: FakeJenkins): RecordedRequest[] => jenkins.requestsTo({ method: 'POST', path: /buildWithParameters$/ });
  const statusesOf = (pr: { org: string; repo: string; headSha: string }) => pipeline.github.statuses(pr.org, pr.repo, pr.headSha);

  it("runs each tenant's builds on its own Jenkins with its own credentials, the payments quota holding while search's builds start", async () => {
    await testAll(PULLS.payments[0]!, PAYMENTS.secret);
    await waitFor("payments' first build queued", () => payments.queue().length === 1);
    await testAll(PULLS.payments[1]!, PAYMENTS.secret);
    for (const pr of PULLS.search) await testAll(pr, SEARCH.secret);

    // Both search builds start while payments' second waits for its tenant's quota, saying so.
    await waitFor("search's two builds queued", () => search.queue().length === 2);
    const waiting = await waitFor("payments' second job reported waiting", () =>
      statusesOf(PULLS.payments[1]!).find((s) => s.state === 'pending' && (s.description ?? '').startsWith('Waiting:')),
    );
    expect(waiting.description).toContain('Waiting: 1 of 1 builds of tenant payments running (its quotas.max_concurrency).');
    expect(posts(payments)).toHaveLength(1);

    // The slot given back goes to payments' waiting job, on payments' Jenkins.
    const first = payments.queue()[0]!;
    payments.finishBuild(payments.startBuild(first.id), 'SUCCESS', 'ledger tests passed');
    await waitFor("payments' second build queued", () => payments.queue().length === 1 && payments.queue()[0]!.id !== first.id);
    await waitFor('the first payments job reported a success', () => statusesOf(PULLS.payments[0]!).some((s) => s.state === 'success'));

    // No request of one tenant reached the other's Jenkins, or the Jenkins the environment names.
    const repoOf = (request: RecordedRequest): string | null => new URLSearchParams(request.body).get('REPO_OWNER');
    expect(posts(payments).map(repoOf)).toEqual(['acme-pay', 'acme-pay']);
    expect(posts(search).map(repoOf)).toEqual(['acme', 'acme']);
    expect(pipeline.jenkins.requests).toEqual([]);
    // Every request carried its own tenant's credentials, and none was refused.
    expect(new Set(payments.requests.map((r) => r.headers.authorization))).toEqual(new Set([PAYMENTS_AUTH]));
    expect(new Set(search.requests.map((r) => r.headers.authorization))).toEqual(new Set([SEARCH_AUTH]));
    expect([...payments.requests, ...search.requests].filter((r) => r.status === 401 || r.status === 403)).toEqual([]);
  });

  it("serves a build's log only to a token that may view its tenant", async () => {
    const prowjob = new URLSearchParams(posts(payments)[0]!.body).get('PROW_JOB_ID')!;
    const read = (token?: string): Promise<Response> =>
      fetch(`http://127.0.0.1:${pipeline.services['jenkins-operator'].port}/logs/${prowjob}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
    // The job is followed to its finished build before its log can be read.
    await waitFor('the log of the first payments build', async () => (await read(VIEW.payments)).status === 200);
    expect((await read()).status).toBe(401);
    expect((await read(VIEW.search)).status).toBe(403);
    const log = await read(VIEW.payments);
    expect(log.status).toBe(200);
    expect(await log.text()).toContain('ledger tests passed');
  });
});
