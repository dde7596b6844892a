import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Kvm, type KV } from '@nats-io/kv';
import { Registry } from 'prom-client';
import { PLANNER_CLAIMS_BUCKET, type EventEnvelope } from '@bowline/bus';
import { parseConfig, staticConfigSource } from '@bowline/config';
import { createGitHub, type Octokit } from '@bowline/github';
import { createLogger } from '@bowline/observability';
import { isFinished, type ProwJob } from '@bowline/prowjob';
import { examplePayload, FakeGitHub, pullRequestCommentPayload, pullRequestPayload, startProwJobBucket, type ProwJobBucket } from '@bowline/testing';
import { NEEDS_OK_TO_TEST_LABEL, OK_TO_TEST_LABEL } from '../src/messages.js';
import { Planner } from '../src/planner.js';

const logger = createLogger({ service: 'test', level: 'silent' });
const NOW = new Date('2026-06-01T12:00:00Z');
const MEMBER = 'alice';
const COLLABORATOR = 'carol';
const OUTSIDER = 'mallory';
const PARTNER = 'pat';

const CONFIG = (trust = '') => `
presubmits:
  acme/widgets:
  - name: unit
    agent: jenkins
    always_run: true
  - name: lint
    agent: jenkins
    always_run: true
    optional: true
  - name: e2e
    agent: jenkins
  - name: release-only
    agent: jenkins
    always_run: true
    branches: [release]
bowline:
  trust:
${trust || '    ok_to_test: per_pull_request'}
`;

describe("the planner's trust rules and pull request events", () => {
  let bucket: ProwJobBucket;
  let github: FakeGitHub;
  let octokit: Octokit;
  let claims: KV;
  let last = 0;

  beforeAll(async () => {
    bucket = await startProwJobBucket();
    github = await FakeGitHub.start();
    octokit = createGitHub({ apiUrl: github.url, token: 'test-token' }, logger);
    claims = await new Kvm(bucket.nc).create(PLANNER_CLAIMS_BUCKET, { history: 1 });
    github.addOrgMember('acme', MEMBER);
    github.addOrgMember('partners', PARTNER);
    github.addCollaborator('acme/widgets', COLLABORATOR);
  });

  afterAll(async () => {
    await github?.close();
    await bucket?.stop();
  });

  function plannerWith(trust = ''): Planner {
    return new Planner({ github: octokit, store: bucket.store, claims, config: staticConfigSource(parseConfig(CONFIG(trust), 'config.yaml')), logger, registry: new Registry(), now: () => NOW });
  }

  function openPr(author: string, options: { labels?: string[]; baseRef?: string } = {}) {
    last += 1;
    const pr = { org: 'acme', repo: 'widgets', number: 500 + last, author, headSha: `${last}`.padEnd(40, 'a'), baseRef: options.baseRef ?? 'main', baseSha: 'b'.repeat(40), labels: options.labels ?? [] };
    github.addPullRequest({ ...pr, title: `PR ${pr.number}` });
    return pr;
  }
  type Pr = ReturnType<typeof openPr>;

  function push(pr: Pr, sha: string): Pr {
    const moved = { ...pr, headSha: sha, labels: github.labels(pr.org, pr.repo, pr.number) };
    github.addPullRequest({ ...moved, title: `PR ${pr.number}` });
    return moved;
  }

  let delivery = 0;
  function comment(pr: Pr, body: string, commenter: string, id = `d-${(delivery += 1)}`): EventEnvelope {
    return { id, event: 'issue_comment', receivedAt: NOW.toISOString(), payload: pullRequestCommentPayload({ org: pr.org, repo: pr.repo, number: pr.number, commenter, body, prAuthor: pr.author, labels: github.labels(pr.org, pr.repo, pr.number) }) };
  }

  function prEvent(pr: Pr, action: string, extra: Record<string, unknown> = {}): EventEnvelope {
    const payload = pullRequestPayload({ action, ...pr, title: `PR ${pr.number}` }) as Record<string, unknown> & { pull_request: Record<string, unknown> };
    payload.pull_request.labels = github.labels(pr.org, pr.repo, pr.number).map((name) => ({ name }));
    Object.assign(payload, extra);
    return { id: `d-${(delivery += 1)}`, event: 'pull_request', receivedAt: NOW.toISOString(), payload };
  }

  async function jobsOf(pr: Pr): Promise<ProwJob[]> {
    return (await bucket.store.list()).map((s) => s.job).filter((j) => j.spec.refs.pulls?.[0]?.number === pr.number);
  }
  const names = async (pr: Pr) => (await jobsOf(pr)).map((j) => j.spec.job).sort();
  const bodies = (pr: Pr) => github.comments(pr.org, pr.repo, pr.number).map((c) => c.body);

  describe('an outsider opens a pull request', () => {
    it('gets needs-ok-to-test and one welcome comment, and nothing runs, however often the event comes', async () => {
      const planner = plannerWith();
      const pr = openPr(OUTSIDER);
      const opened = prEvent(pr, 'opened');
      await planner.handle(opened);
      await planner.handle(opened);
      expect(github.labels(pr.org, pr.repo, pr.number)).toEqual([NEEDS_OK_TO_TEST_LABEL]);
      expect(bodies(pr)).toHaveLength(1);
      expect(bodies(pr)[0]).toContain(`Hi @${OUTSIDER}. Thanks for your PR.`);
      expect(bodies(pr)[0]).toContain('/ok-to-test');
      expect(await jobsOf(pr)).toEqual([]);
    });

    // Prow checks the pull request's trust only for an untrusted commenter (generic-comment.go;
    // TestHandleGenericComment "Trusted member's test this."), so a member's /test runs at once.
    it("runs a member's /test at once, and /ok-to-test swaps the labels and runs the default set", async () => {
      const planner = plannerWith();
      const pr = openPr(OUTSIDER);
      await planner.handle(prEvent(pr, 'opened'));
      await planner.handle(comment(pr, '/test unit', MEMBER));
      expect(await names(pr)).toEqual(['unit']);
      expect(github.labels(pr.org, pr.repo, pr.number)).toEqual([NEEDS_OK_TO_TEST_LABEL]);

      await planner.handle(comment(pr, 'looks safe\n/ok-to-test', MEMBER));
      expect(github.labels(pr.org, pr.repo, pr.number)).toEqual([OK_TO_TEST_LABEL]);
      expect(await names(pr)).toEqual(['lint', 'unit', 'unit']);

      // Approved now: the author's own /test works too.
      await planner.handle(comment(pr, '/test e2e', OUTSIDER));
      expect(await names(pr)).toEqual(['e2e', 'lint', 'unit', 'unit']);
    });

    it("explains once to an outsider who asks for tests on an outsider's pull request, and a redelivery posts nothing more", async () => {
      const planner = plannerWith();
      const pr = openPr(OUTSIDER);
      const asked = comment(pr, '/test all', OUTSIDER);
      await planner.handle(asked);
      await planner.handle(asked);
      expect(bodies(pr)).toEqual([expect.stringContaining(`@${OUTSIDER}: Cannot trigger testing until a trusted user reviews the PR`)]);
      expect(await jobsOf(pr)).toEqual([]);
    });

    it('runs the default set when a person adds the ok-to-test label, not when the bot does', async () => {
      const planner = plannerWith();
      const pr = openPr(OUTSIDER, { labels: [NEEDS_OK_TO_TEST_LABEL] });
      github.addPullRequest({ ...pr, title: 't', labels: [NEEDS_OK_TO_TEST_LABEL, OK_TO_TEST_LABEL] });
      await planner.handle(prEvent(pr, 'labeled', { label: { name: OK_TO_TEST_LABEL }, sender: { login: github.botLogin } }));
      expect(await jobsOf(pr)).toEqual([]);
      await planner.handle(prEvent(pr, 'labeled', { label: { name: OK_TO_TEST_LABEL }, sender: { login: MEMBER } }));
      expect(await names(pr)).toEqual(['lint', 'unit']);
      // Prow's handlePR leaves needs-ok-to-test to the next push or command.
      expect(github.labels(pr.org, pr.repo, pr.number)).toEqual([NEEDS_OK_TO_TEST_LABEL, OK_TO_TEST_LABEL]);
    });
  });

  describe('who is trusted', () => {
    it.each([
      { who: 'an org member', author: MEMBER, trust: '', runs: true },
      { who: 'a collaborator', author: COLLABORATOR, trust: '', runs: true },
      { who: 'a collaborator under only_org_members', author: COLLABORATOR, trust: '    only_org_members: true', runs: false },
      { who: 'a member of a trusted org', author: PARTNER, trust: '    trusted_orgs: [partners]', runs: true },
      { who: 'a member of an org that is not trusted', author: PARTNER, trust: '', runs: false },
      { who: 'a trusted GitHub App', author: 'renovate[bot]', trust: '    trusted_apps: [renovate]', runs: true },
      { who: 'an App that is not listed', author: 'renovate[bot]', trust: '', runs: false },
    ])('a pull request opened by $who runs its jobs: $runs', async ({ author, trust, runs }) => {
      const pr = openPr(author);
      await plannerWith(trust).handle(prEvent(pr, 'opened'));
      expect((await jobsOf(pr)).length > 0).toBe(runs);
    });
  });

  describe('pull request events', () => {
    it('skips a draft, and runs when it is ready for review', async () => {
      const planner = plannerWith();
      const pr = openPr(MEMBER);
      const draft = prEvent(pr, 'opened');
      (draft.payload as { pull_request: { draft: boolean } }).pull_request.draft = true;
      await planner.handle(draft);
      expect(await jobsOf(pr)).toEqual([]);
      await planner.handle(prEvent(pr, 'ready_for_review'));
      expect(await names(pr)).toEqual(['lint', 'unit']);
    });

    // Prow's abortAllJobs writes its abortedDescription, which GitHub then shows on the status.
    it('aborts the unfinished jobs of the old commit on a push, and runs the new commit', async () => {
      const planner = plannerWith();
      const pr = openPr(MEMBER);
      await planner.handle(prEvent(pr, 'opened'));
      const moved = push(pr, 'c'.repeat(40));
      await planner.handle(prEvent(moved, 'synchronize'));
      const jobs = await jobsOf(pr);
      const old = jobs.filter((j) => j.spec.refs.pulls![0]!.sha === pr.headSha);
      const fresh = jobs.filter((j) => j.spec.refs.pulls![0]!.sha === moved.headSha);
      expect(old.map((j) => [j.status.state, j.status.description, isFinished(j)])).toEqual([
        ['aborted', 'Aborted by trigger plugin.', true],
        ['aborted', 'Aborted by trigger plugin.', true],
      ]);
      expect(fresh.map((j) => [j.spec.job, j.status.state]).sort()).toEqual([
        ['lint', 'triggered'],
        ['unit', 'triggered'],
      ]);
    });

    it('aborts on a push every unfinished job of the pull request, as Prow, but not those of the same push redelivered', async () => {
      const planner = plannerWith();
      const pr = openPr(MEMBER);
      const moved = push(pr, 'f'.repeat(40));
      // A /test for the new commit handled before the push event itself.
      await planner.handle(comment(moved, '/test e2e', MEMBER));
      const pushed = prEvent(moved, 'synchronize');
      await planner.handle(pushed);
      await planner.handle(pushed);
      expect((await jobsOf(pr)).map((j) => [j.spec.job, j.status.state]).sort()).toEqual([
        ['e2e', 'aborted'],
        ['lint', 'triggered'],
        ['unit', 'triggered'],
      ]);
    });

    it.each([
      ['closed', 'Aborted by trigger plugin.'],
      ['converted_to_draft', 'Aborted by trigger plugin.'],
    ])('aborts every unfinished job when the pull request is %s', async (action, description) => {
      const planner = plannerWith();
      const pr = openPr(MEMBER);
      await planner.handle(prEvent(pr, 'opened'));
      await planner.handle(prEvent(pr, action));
      expect((await jobsOf(pr)).map((j) => [j.status.state, j.status.description])).toEqual([
        ['aborted', description],
        ['aborted', description],
      ]);
    });

    it('reruns on an edit only when the base branch changed', async () => {
      const planner = plannerWith();
      const pr = openPr(MEMBER);
      await planner.handle(prEvent(pr, 'edited', { changes: { title: { from: 'old title' } } }));
      expect(await jobsOf(pr)).toEqual([]);
      const rebased = { ...pr, baseRef: 'release' };
      await planner.handle(prEvent(rebased, 'edited', { changes: { base: { ref: { from: 'main' } } } }));
      expect(await names(pr)).toEqual(['lint', 'release-only', 'unit']);
    });
  });

  describe('commands', () => {
    it('answers /test ? with the commands available on the branch, required and optional apart, in Prow\'s words', async () => {
      const pr = openPr(MEMBER);
      await plannerWith().handle(comment(pr, '/test ?', MEMBER));
      const [help] = bodies(pr);
      expect(help).toContain(
        '@alice: The following commands are available to trigger required jobs:\n```\n/test e2e\n```\n```\n/test unit\n```\n\n' +
          'The following commands are available to trigger optional jobs:\n```\n/test lint\n```\n\n' +
          'Use `/test all` to run the following jobs that were automatically triggered:\n```\nlint\n```\n```\nunit\n```\n\n',
      );
      expect(help).toContain('In response to [this](');
      expect(help).not.toContain('release-only');
      expect(await jobsOf(pr)).toEqual([]);
    });

    it('answers a /test of no known job with the same list, saying the target was not found', async () => {
      const pr = openPr(MEMBER);
      await plannerWith().handle(comment(pr, '/test integration', MEMBER));
      expect(bodies(pr)).toEqual([expect.stringContaining('The specified target(s) for `/test` were not found.')]);
      expect(await jobsOf(pr)).toEqual([]);
    });

    it('reruns with /retest-required the required jobs that failed or never reported, not optional ones', async () => {
      const pr = openPr(MEMBER);
      for (const [context, state] of [['unit', 'success'], ['lint', 'failure'], ['e2e', 'failure']]) {
        await octokit.rest.repos.createCommitStatus({ owner: pr.org, repo: pr.repo, sha: pr.headSha, context, state: state as 'success' | 'failure' });
      }
      await plannerWith().handle(comment(pr, '/retest-required', MEMBER));
      expect(await names(pr)).toEqual(['e2e']);
    });
  });

  describe('ok_to_test: per_commit', () => {
    const PER_COMMIT = '    ok_to_test: per_commit';

    it('lets an approval cover only the commit it was given on', async () => {
      const planner = plannerWith(PER_COMMIT);
      const pr = openPr(OUTSIDER);
      await planner.handle(prEvent(pr, 'opened'));
      await planner.handle(comment(pr, '/ok-to-test', MEMBER));
      expect(await names(pr)).toEqual(['lint', 'unit']);
      const atHead = async (sha: string) => (await jobsOf(pr)).filter((j) => j.spec.refs.pulls![0]!.sha === sha).map((j) => j.spec.job).sort();

      const moved = push(pr, 'd'.repeat(40));
      await planner.handle(prEvent(moved, 'synchronize'));
      expect(await atHead(moved.headSha)).toEqual([]);
      expect(github.labels(pr.org, pr.repo, pr.number)).toEqual([NEEDS_OK_TO_TEST_LABEL]);
      expect(bodies(pr).at(-1)).toContain('New commits (now dddddddd) need a trusted user to leave `/ok-to-test` again');

      // The author may no longer ask…
      await planner.handle(comment(moved, '/test unit', OUTSIDER));
      expect(await atHead(moved.headSha)).toEqual([]);
      expect(bodies(pr).at(-1)).toContain(`@${OUTSIDER}: Cannot trigger testing`);
      // …while a member's own request runs, as in Prow: per_commit is about the approval only.
      await planner.handle(comment(moved, '/test e2e', MEMBER));
      expect(await atHead(moved.headSha)).toEqual(['e2e']);

      await planner.handle(comment(moved, '/ok-to-test', MEMBER));
      expect(await atHead(moved.headSha)).toEqual(['e2e', 'lint', 'unit']);
      await planner.handle(comment(moved, '/test unit', OUTSIDER));
      expect(await atHead(moved.headSha)).toEqual(['e2e', 'lint', 'unit', 'unit']);
    });

    it("keeps Prow's default: an approval covers later pushes too", async () => {
      const planner = plannerWith();
      const pr = openPr(OUTSIDER);
      await planner.handle(prEvent(pr, 'opened'));
      await planner.handle(comment(pr, '/ok-to-test', MEMBER));
      const moved = push(pr, 'e'.repeat(40));
      await planner.handle(prEvent(moved, 'synchronize'));
      expect((await jobsOf(pr)).filter((j) => j.spec.refs.pulls![0]!.sha === moved.headSha).map((j) => j.spec.job).sort()).toEqual(['lint', 'unit']);
    });
  });

  describe('economy of GitHub calls', () => {
    it("makes three calls for an org member's /test all on a pull request with three matching jobs, then two that cost nothing", async () => {
      const registry = new Registry();
      const planner = new Planner({ github: octokit, store: bucket.store, claims, config: staticConfigSource(parseConfig(CONFIG().replace('  - name: e2e\n    agent: jenkins\n', '  - name: e2e\n    agent: jenkins\n    always_run: true\n'), 'config.yaml')), logger, registry, now: () => NOW });
      const pr = openPr(MEMBER);
      const mark = github.requests.length;
      await planner.handle(comment(pr, '/test all', MEMBER));
      expect(await names(pr)).toEqual(['e2e', 'lint', 'unit']);
      // The bot's own login is asked once per process; membership once a minute per user; the
      // comments are listed to prune a stale help reply, as Prow's trigger does.
      expect(github.requests.slice(mark).map((r) => `${r.method} ${r.path}`)).toEqual([
        'GET /user',
        `GET /orgs/acme/members/${MEMBER}`,
        `GET /repos/acme/widgets/pulls/${pr.number}`,
        `GET /repos/acme/widgets/issues/${pr.number}/comments`,
      ]);
      const again = github.requests.length;
      const used = github.rateLimitUsed();
      await planner.handle(comment(pr, '/test all', MEMBER));
      expect(github.requests.slice(again).map((r) => `${r.method} ${r.path} ${r.status}`)).toEqual([
        `GET /repos/acme/widgets/pulls/${pr.number} 304`,
        `GET /repos/acme/widgets/issues/${pr.number}/comments 304`,
      ]);
      // Unchanged, so GitHub answers 304, which costs nothing from the hourly quota.
      expect(github.rateLimitUsed()).toBe(used);

      const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === 'bowline_planner_github_requests_per_event');
      const sum = metric?.values.find((v) => (v as { metricName?: string }).metricName === 'bowline_planner_github_requests_per_event_sum');
      expect(sum?.value).toBe(6);
    });
  });

  describe('pushes', () => {
    it('start the postsubmits of the pushed branch', async () => {
      const planner = new Planner({
        github: octokit,
        store: bucket.store,
        claims,
        config: staticConfigSource(parseConfig('postsubmits:\n  acme/widgets:\n  - name: publish\n    agent: jenkins\n    branches: [main]\n', 'config.yaml')),
        logger,
        registry: new Registry(),
        now: () => NOW,
      });
      const payload = examplePayload('push') as Record<string, unknown>;
      Object.assign(payload, { ref: 'refs/heads/main', after: 'f'.repeat(40), deleted: false, commits: [], repository: { ...(payload.repository as object), name: 'widgets', full_name: 'acme/widgets', owner: { login: 'acme', name: 'acme' } } });
      await planner.handle({ id: 'push-1', event: 'push', receivedAt: NOW.toISOString(), payload });
      const jobs = (await bucket.store.list()).map((s) => s.job).filter((j) => j.spec.type === 'postsubmit' && j.spec.refs.base_sha === 'f'.repeat(40));
      expect(jobs.map((j) => [j.spec.job, j.spec.refs.base_ref])).toEqual([['publish', 'main']]);
    });
  });
});
