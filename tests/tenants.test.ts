import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { FakeJenkins, pullRequestCommentPayload, sendWebhook, signWebhook, startPipeline, waitFor, type Pipeline, type RecordedRequest } from '@bowline/testing';

// Two tenants on one Bowline, each with its own GitHub token, webhook secret and Jenkins:
// payments (the acme-pay org) lets its org members /test; search (the acme org) only its team
// acme/search-ci. alice is a member of both orgs and of no team. The whole pipeline runs as
// deployed (nats-server, hook, planner, jenkins-operator, reporter and sinker as processes); every
// assertion is on what the GitHub and Jenkins stand-ins recorded. Which Jenkins a tenant's build
// lands on is the jenkins-operator's part (tests/tenants-jenkins.test.ts): here a build on any of
// them counts, and what is asserted is the planner's and the hook's part.
const PAYMENTS = { secret: 'payments-hmac', token: 'payments-gh-token' };
const SEARCH = { secret: 'search-hmac', token: 'search-gh-token' };

function config(dir: string, payments: FakeJenkins, search: FakeJenkins): string {
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
    webhook_secret_file: ${join(dir, 'payments-hmac')}
    github: { token_file: ${join(dir, 'payments-gh')} }
    jenkins: [{ name: payments-ci, url: "${payments.url}", user: bowline, token_file: ${join(dir, 'jenkins-token')} }]
    access: { test: [org-members] }
  - name: search
    repos: [acme]
    webhook_secret_file: ${join(dir, 'search-hmac')}
    github: { token_file: ${join(dir, 'search-gh')} }
    jenkins: [{ name: search-ci, url: "${search.url}", user: bowline, token_file: ${join(dir, 'jenkins-token')} }]
    access: { test: [team:acme/search-ci] }
`;
}

const LEDGER_PR = { org: 'acme-pay', repo: 'ledger', number: 1, headSha: '1'.repeat(40) };
const SEARCH_PR = { org: 'acme', repo: 'search', number: 2, headSha: '2'.repeat(40) };

describe('two tenants, each with its own GitHub identity, webhook secret and access rules', () => {
  let pipeline: Pipeline;
  let payments: FakeJenkins;
  let search: FakeJenkins;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'bowline-tenants-'));
    writeFileSync(join(dir, 'payments-hmac'), `${PAYMENTS.secret}\n`);
    writeFileSync(join(dir, 'search-hmac'), `${SEARCH.secret}\n`);
    writeFileSync(join(dir, 'payments-gh'), `${PAYMENTS.token}\n`);
    writeFileSync(join(dir, 'search-gh'), `${SEARCH.token}\n`);
    writeFileSync(join(dir, 'jenkins-token'), 'jenkins-token\n');
    payments = await FakeJenkins.start({ jobs: ['unit'], user: 'bowline', apiToken: 'jenkins-token' });
    search = await FakeJenkins.start({ jobs: ['unit'], user: 'bowline', apiToken: 'jenkins-token' });
    pipeline = await startPipeline({ config: config(dir, payments, search), githubTokens: [PAYMENTS.token, SEARCH.token] });
    pipeline.jenkins.addJob('unit');
    for (const pr of [LEDGER_PR, SEARCH_PR]) {
      pipeline.github.addPullRequest({ ...pr, author: 'alice', headRef: `pr-${pr.number}`, baseRef: 'main', baseSha: 'b'.repeat(40), title: `Change ${pr.number}`, files: ['main.go'] });
    }
    pipeline.github.addOrgMember('acme-pay', 'alice');
    pipeline.github.addOrgMember('acme', 'alice');
  }, 60_000);

  afterAll(async () => {
    await pipeline?.stop();
    await Promise.all([payments?.close(), search?.close()]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const testAll = (pr: { org: string; repo: string; number: number }, secret: string, deliveryId: string) =>
    sendWebhook(
      pipeline.hookUrl,
      signWebhook({ event: 'issue_comment', payload: pullRequestCommentPayload({ ...pr, commenter: 'alice', body: '/test all', prAuthor: 'alice' }), secret, deliveryId }),
    );
  /** Builds asked of any Jenkins, by the org they are for. */
  const buildsFor = (org: string): RecordedRequest[] =>
    [pipeline.jenkins, payments, search].flatMap((j) => j.requestsTo({ method: 'POST', path: /buildWithParameters$/ })).filter((r) => new URLSearchParams(r.body).get('REPO_OWNER') === org);

  it("refuses with 401 a webhook for payments' repository signed with search's secret", async () => {
    const answer = await testAll(LEDGER_PR, SEARCH.secret, 'forged-with-search-secret');
    expect(answer.status).toBe(401);
  });

  it("starts a payments member's /test all on payments' repository, and reports it with payments' identity", async () => {
    const answer = await testAll(LEDGER_PR, PAYMENTS.secret, 'payments-test-all');
    expect(answer.status).toBe(202);
    await waitFor('the payments build asked of Jenkins', () => buildsFor('acme-pay').length === 1);
    await waitFor('the payments job reported', () => pipeline.github.statuses('acme-pay', 'ledger', LEDGER_PR.headSha).length > 0);
  });

  it("answers a member of payments whom search's access rules refuse once, however often the delivery comes, and builds nothing", async () => {
    for (let i = 0; i < 2; i += 1) expect((await testAll(SEARCH_PR, SEARCH.secret, 'search-test-all')).status).toBe(202);
    const replies = await waitFor('the refusal', () => {
      const found = pipeline.github.comments('acme', 'search', SEARCH_PR.number);
      return found.length > 0 && found;
    });
    expect(replies.map((c) => c.body.split('\n')[0])).toEqual(['@alice: you are not allowed to /test in acme/search: tenant search allows team acme/search-ci.']);
    // The payments build of the test before went through the same planner after this one's
    // events; give the planner the time of a second event, then look again.
    await testAll(LEDGER_PR, PAYMENTS.secret, 'payments-test-all-again');
    await waitFor('the second payments build asked of Jenkins', () => buildsFor('acme-pay').length === 2);
    expect(pipeline.github.comments('acme', 'search', SEARCH_PR.number)).toHaveLength(1);
    expect(buildsFor('acme')).toEqual([]);
    expect(pipeline.github.statuses('acme', 'search', SEARCH_PR.headSha)).toEqual([]);
  });

  it("sent no GitHub request for one tenant with the other's token, or with the services' own", () => {
    const tokensFor = (org: string) => [
      ...new Set(pipeline.github.requests.filter((r) => r.path.startsWith(`/repos/${org}/`) || r.path.startsWith(`/orgs/${org}/`)).map((r) => String(r.headers.authorization))),
    ];
    expect(tokensFor('acme-pay')).toEqual([`token ${PAYMENTS.token}`]);
    expect(tokensFor('acme')).toEqual([`token ${SEARCH.token}`]);
    // search's rules were asked of GitHub: alice is in no team of acme.
    expect(pipeline.github.requestsTo({ method: 'GET', path: '/orgs/acme/teams/search-ci/memberships/alice' }).length).toBeGreaterThan(0);
  });
});
