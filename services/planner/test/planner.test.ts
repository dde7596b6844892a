import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Registry } from 'prom-client';
import { connectBus, openProwJobBucket, type BusConnection, type EventEnvelope } from '@bowline/bus';
import { parseConfig, staticConfigSource } from '@bowline/config';
import { createGitHub, type Octokit } from '@bowline/github';
import { createLogger } from '@bowline/observability';
import { prowJobName, ProwJobStore, type ProwJob } from '@bowline/prowjob';
import { FakeGitHub, pullRequestCommentPayload, pullRequestPayload, startNats, type NatsServer } from '@bowline/testing';
import { Planner } from '../src/planner.js';

const logger = createLogger({ service: 'test', level: 'silent' });
const NOW = new Date('2024-05-06T07:08:09.000Z');

const CONFIG = `
presubmits:
  acme/widgets:
  - name: unit
    agent: jenkins
    always_run: true
    context: ci/jenkins/unit
  - name: main-only
    agent: jenkins
    always_run: true
    branches: [^main$]
    context: ci/jenkins/main-only
  - name: release-only
    agent: jenkins
    always_run: true
    branches: [release-.*]
    context: ci/jenkins/release-only
  - name: not-on-release
    agent: jenkins
    always_run: true
    skip_branches: [^release-]
    context: ci/jenkins/not-on-release
  - name: docs
    agent: jenkins
    run_if_changed: ^docs/
    context: ci/jenkins/docs
  - name: e2e
    agent: jenkins
    context: ci/jenkins/e2e
  - name: lint
    agent: kubernetes
    always_run: true
    spec:
      containers:
      - image: golang:1.22
  acme/gadgets:
  - name: gadgets-unit
    agent: jenkins
    always_run: true
  - name: gadgets-docs
    agent: jenkins
    run_if_changed: ^docs/
    branches: [^main$]
  - name: gadgets-lint
    agent: kubernetes
    run_if_changed: .
  acme/retest:
  - {name: passed, agent: jenkins, always_run: true, context: ci/passed}
  - {name: failed, agent: jenkins, always_run: true, context: ci/failed}
  - {name: errored, agent: jenkins, always_run: true, context: ci/errored}
  - {name: running, agent: jenkins, always_run: true, context: ci/running}
  - {name: fixed, agent: jenkins, always_run: true, context: ci/fixed}
  - {name: broke, agent: jenkins, always_run: true, context: ci/broke}
  - {name: never-reported, agent: jenkins, always_run: true, context: ci/never-reported}
  - {name: never-reported-optional, agent: jenkins, always_run: true, optional: true, context: ci/never-reported-optional}
  - {name: failed-optional, agent: jenkins, always_run: true, optional: true, context: ci/failed-optional}
  - {name: docs-never-reported, agent: jenkins, run_if_changed: ^docs/, context: ci/docs}
`;

const FIXTURE = new URL('./fixtures/openshift-origin-release-3.9-presubmits.yaml', import.meta.url);

const MEMBER = 'alice';
const COLLABORATOR = 'carol';
const STRANGER = 'mallory';

describe('Planner', () => {
  let nats: NatsServer;
  let bus: BusConnection;
  let store: ProwJobStore;
  let github: FakeGitHub;
  let octokit: Octokit;
  let registry: Registry;
  let planner: Planner;
  let openshiftPlanner: Planner;

  beforeAll(async () => {
    [nats, github] = await Promise.all([startNats(), FakeGitHub.start()]);
    bus = await connectBus({ servers: nats.url, name: 'planner-test', logger });
    store = new ProwJobStore(await openProwJobBucket(bus.nc, { replicas: 1 }));
    octokit = createGitHub({ apiUrl: github.url, token: 'test-token' }, logger);
    registry = new Registry();
    planner = new Planner({ github: octokit, store, config: staticConfigSource(parseConfig(CONFIG, 'config.yaml')), logger, registry, now: () => NOW });
    const openshift = parseConfig(readFileSync(FIXTURE, 'utf8'), 'openshift-origin-release-3.9-presubmits.yaml');
    openshiftPlanner = new Planner({ github: octokit, store, config: staticConfigSource(openshift), logger, registry: new Registry(), now: () => NOW });
    github.addOrgMember('acme', MEMBER);
    github.addOrgMember('openshift', MEMBER);
    for (const repo of ['widgets', 'gadgets', 'retest']) github.addCollaborator(`acme/${repo}`, COLLABORATOR);
  });

  afterAll(async () => {
    await bus?.close();
    await nats?.stop();
    await github?.close();
  });

  // Each test has pull requests of its own, so jobs and recorded requests never mix between tests.
  let lastPr = 100;
  let lastDelivery = 0;
  const deliveryId = () => `delivery-${(lastDelivery += 1)}`;

  interface PrOptions {
    org?: string;
    repo?: string;
    author?: string;
    baseRef?: string;
    files?: string[];
    state?: 'open' | 'closed';
    draft?: boolean;
  }

  /** Adds a fresh pull request to the fake GitHub and returns what a test needs to talk about it. */
  function openPr(options: PrOptions = {}) {
    const pr = {
      org: options.org ?? 'acme',
      repo: options.repo ?? 'widgets',
      number: (lastPr += 1),
      author: options.author ?? MEMBER,
      headSha: `${lastPr}`.padEnd(40, 'a'),
      headRef: `feature-${lastPr}`,
      baseRef: options.baseRef ?? 'main',
      baseSha: `${lastPr}`.padEnd(40, 'b'),
      title: `Change number ${lastPr}`,
      state: options.state ?? 'open',
      draft: options.draft ?? false,
      files: options.files ?? ['src/main.go'],
    };
    github.addPullRequest(pr);
    return pr;
  }

  type Pr = ReturnType<typeof openPr>;

  function commentOn(pr: Pr, body: string, commenter = MEMBER, id = deliveryId()): EventEnvelope {
    const payload = pullRequestCommentPayload({ org: pr.org, repo: pr.repo, number: pr.number, commenter, body, prAuthor: pr.author, state: pr.state });
    return { id, event: 'issue_comment', receivedAt: NOW.toISOString(), payload };
  }

  function pullRequestEvent(pr: Pr, action: string): EventEnvelope {
    const payload = pullRequestPayload({ action, ...pr });
    return { id: deliveryId(), event: 'pull_request', receivedAt: NOW.toISOString(), payload };
  }

  async function jobsOf(pr: Pr): Promise<ProwJob[]> {
    return (await store.list())
      .map((stored) => stored.job)
      .filter((job) => job.spec.refs.org === pr.org && job.spec.refs.repo === pr.repo && job.spec.refs.pulls?.[0]?.number === pr.number);
  }

  const jobNamesOf = async (pr: Pr) => (await jobsOf(pr)).map((job) => job.spec.job).sort();
  const requestsTo = (pr: Pr, suffix = '') => github.requestsTo({ path: `/repos/${pr.org}/${pr.repo}/pulls/${pr.number}${suffix}` }).length;

  describe('/test all from an org member', () => {
    it.each([
      {
        title: 'main, a source change: the always_run jobs for main',
        pr: { baseRef: 'main', files: ['src/main.go'] },
        expected: ['main-only', 'not-on-release', 'unit'],
        fetchesFiles: true,
      },
      {
        title: 'main, a docs change: the always_run jobs plus the run_if_changed job whose files match',
        pr: { baseRef: 'main', files: ['src/main.go', 'docs/guide.md'] },
        expected: ['docs', 'main-only', 'not-on-release', 'unit'],
        fetchesFiles: true,
      },
      {
        title: 'a release branch: not the jobs whose branches or skip_branches exclude it',
        pr: { baseRef: 'release-1.0', files: ['src/main.go'] },
        expected: ['release-only', 'unit'],
        fetchesFiles: true,
      },
      {
        title: 'gadgets on main: its run_if_changed job needs the files',
        pr: { repo: 'gadgets', baseRef: 'main', files: ['docs/a.md'] },
        expected: ['gadgets-docs', 'gadgets-unit'],
        fetchesFiles: true,
      },
      {
        title: 'gadgets on a branch its run_if_changed job excludes: the files are never fetched',
        pr: { repo: 'gadgets', baseRef: 'release-1', files: ['docs/a.md'] },
        expected: ['gadgets-unit'],
        fetchesFiles: false,
      },
    ])('on $title', async ({ pr: options, expected, fetchesFiles }) => {
      const pr = openPr(options);

      await planner.handle(commentOn(pr, '/test all'));

      expect(await jobNamesOf(pr)).toEqual(expected);
      expect(requestsTo(pr, '/files')).toBe(fetchesFiles ? 1 : 0);
    });
  });

  describe('/test NAME', () => {
    it.each([
      { body: '/test e2e', expected: ['e2e'], why: 'a job that is not always_run' },
      { body: '/test docs', expected: ['docs'], why: 'a run_if_changed job whose files do not match, without fetching them' },
      { body: '/test unit e2e', expected: ['e2e', 'unit'], why: 'two names on one line' },
      { body: 'Flaky, trying again.\n/test unit\n/test docs', expected: ['docs', 'unit'], why: 'two command lines after prose' },
      { body: '/test all\n/test e2e', expected: ['e2e', 'main-only', 'not-on-release', 'unit'], why: '/test all plus a named job' },
      { body: '/test release-only', expected: [], why: 'nothing for a job whose branches exclude the base' },
      { body: '/test lint', expected: [], why: 'nothing for a kubernetes job' },
      { body: '/test nonexistent', expected: [], why: 'nothing for a job that does not exist' },
      { body: '/test units', expected: [], why: 'nothing for a name that only starts like a job' },
    ].map((row) => ({ ...row, shown: JSON.stringify(row.body) })))('$shown starts $why', async ({ body, expected }) => {
      const pr = openPr({ files: ['src/main.go'] });

      await planner.handle(commentOn(pr, body));

      expect(await jobNamesOf(pr)).toEqual(expected);
      if (expected.length === 0) {
        // Prow answers a /test that selects nothing with what can be asked for (TestHandleGenericComment
        // "/test with unknown target results in a help message"); listing what /test all would run
        // reads the files.
        expect(github.comments(pr.org, pr.repo, pr.number).map((c) => c.body)).toEqual([expect.stringContaining('The specified target(s) for `/test` were not found.')]);
      } else if (!body.includes('/test all')) {
        expect(requestsTo(pr, '/files')).toBe(0);
      }
    });
  });

  describe("on the openshift/origin release-3.9 config (openshift/release's own file)", () => {
    const GCE = 'test_pull_request_origin_extended_conformance_gce_39';
    const INSTALL = 'test_pull_request_origin_extended_conformance_install_39';
    const CATALOG = 'test_pull_request_origin_service_catalog_39';

    it.each([
      { body: '/test gcp', baseRef: 'release-3.9', files: ['pkg/api/types.go'], expected: [GCE] },
      { body: '/test gcp', baseRef: 'master', files: ['pkg/api/types.go'], expected: [] },
      { body: '/test service-catalog', baseRef: 'release-3.9', files: ['pkg/api/types.go'], expected: [CATALOG] },
      { body: '/test all', baseRef: 'release-3.9', files: ['pkg/api/types.go'], expected: [GCE, INSTALL] },
      { body: '/test all', baseRef: 'release-3.9', files: ['cmd/service-catalog/main.go'], expected: [GCE, INSTALL, CATALOG] },
    ])('$body on a $baseRef pull request changing $files starts $expected', async ({ body, baseRef, files, expected }) => {
      const pr = openPr({ org: 'openshift', repo: 'origin', baseRef, files });

      await openshiftPlanner.handle(commentOn(pr, body));

      expect(await jobNamesOf(pr)).toEqual([...expected].sort());
    });

    it('gives the job its context, rerun command and labels from the fixture', async () => {
      const pr = openPr({ org: 'openshift', repo: 'origin', baseRef: 'release-3.9' });

      await openshiftPlanner.handle(commentOn(pr, '/test gcp'));

      const [job] = await jobsOf(pr);
      expect(job!.spec).toMatchObject({ job: GCE, agent: 'jenkins', context: 'ci/openshift-jenkins/gcp', rerun_command: '/test gcp' });
      expect(job!.metadata.labels).toMatchObject({ master: 'ci.openshift.redhat.com', 'prow.k8s.io/job': GCE });
    });
  });

  describe('who may ask', () => {
    it.each([
      { who: 'an org member', commenter: MEMBER, expected: ['unit'] },
      { who: 'a collaborator who is not an org member', commenter: COLLABORATOR, expected: ['unit'] },
      // Prow: an untrusted commenter may test a trusted pull request (TestHandleGenericComment
      // "accept /test from non-trusted member if PR author is trusted").
      { who: 'someone who is neither', commenter: STRANGER, expected: ['unit'] },
      { who: 'the bot itself', commenter: 'bowline-bot', expected: [] },
    ])('/test unit from $who on a trusted pull request starts $expected', async ({ commenter, expected }) => {
      const pr = openPr();

      await planner.handle(commentOn(pr, '/test unit', commenter));

      expect(await jobNamesOf(pr)).toEqual(expected);
    });

    it.each([
      { who: 'an org member', commenter: MEMBER, expected: ['main-only', 'not-on-release', 'unit'] },
      { who: 'a collaborator', commenter: COLLABORATOR, expected: ['main-only', 'not-on-release', 'unit'] },
      { who: 'the outsider who opened it', commenter: STRANGER, expected: [] },
    ])("/ok-to-test from $who on an outsider's pull request starts $expected", async ({ commenter, expected }) => {
      const pr = openPr({ author: STRANGER });

      await planner.handle(commentOn(pr, 'Reviewed, looks safe.\n/ok-to-test', commenter));

      expect(await jobNamesOf(pr)).toEqual(expected);
    });

    it("asks GitHub about membership and collaboration before refusing someone on an outsider's pull request", async () => {
      const pr = openPr({ author: STRANGER });

      await planner.handle(commentOn(pr, '/test all', STRANGER));

      expect(github.requestsTo({ path: `/orgs/acme/members/${STRANGER}` }).length).toBeGreaterThan(0);
      expect(github.requestsTo({ path: `/repos/acme/widgets/collaborators/${STRANGER}` }).length).toBeGreaterThan(0);
      expect(requestsTo(pr)).toBe(0);
    });

    it("ignores the bot's own comments without fetching the pull request", async () => {
      const pr = openPr();

      await planner.handle(commentOn(pr, '/test all', github.botLogin));

      expect(await jobsOf(pr)).toEqual([]);
      expect(requestsTo(pr)).toBe(0);
    });
  });

  describe('comments that start nothing', () => {
    it.each<{ title: string; body?: string; pr?: PrOptions; change?: (payload: Record<string, unknown>) => void; fetchesPull?: boolean }>([
      {
        title: 'a comment on an issue, not a pull request',
        change: (payload) => delete (payload.issue as Record<string, unknown>).pull_request,
      },
      { title: 'an edited comment', change: (payload) => (payload.action = 'edited') },
      { title: 'a deleted comment', change: (payload) => (payload.action = 'deleted') },
      { title: 'a comment on a closed pull request', pr: { state: 'closed' } },
      {
        title: 'a comment on a pull request closed since the event was sent',
        change: (payload) => {
          const issue = payload.issue as { number: number };
          github.addPullRequest({ org: 'acme', repo: 'widgets', number: issue.number, author: MEMBER, headSha: 'c'.repeat(40), state: 'closed' });
        },
        fetchesPull: true,
      },
      { title: '/test all in a fenced code block', body: 'The bot said:\n```\n/test all\n```' },
      { title: '/test all in a tilde-fenced code block', body: '~~~\n/test all\n~~~' },
      { title: '/test all in a quoted line', body: '> /test all\nno, wait for the fix first' },
      { title: '/test all in the middle of a sentence', body: 'I will /test all later' },
      { title: 'a comment with no command', body: 'LGTM, thanks!' },
    ])('$title', async ({ body = '/test all', pr: options, change, fetchesPull = false }) => {
      const pr = openPr(options);
      const envelope = commentOn(pr, body);
      change?.(envelope.payload);

      await planner.handle(envelope);

      expect(await jobsOf(pr)).toEqual([]);
      expect(requestsTo(pr)).toBe(fetchesPull ? 1 : 0);
    });
  });

  describe('/retest', () => {
    let pr: Pr;
    let started: string[];

    beforeAll(async () => {
      pr = openPr({ repo: 'retest', files: ['src/main.go'] });
      const history: Array<[string, 'success' | 'failure' | 'error' | 'pending']> = [
        ['ci/passed', 'pending'],
        ['ci/passed', 'success'],
        ['ci/failed', 'pending'],
        ['ci/failed', 'failure'],
        ['ci/errored', 'error'],
        ['ci/running', 'pending'],
        ['ci/fixed', 'failure'],
        ['ci/fixed', 'success'],
        ['ci/broke', 'success'],
        ['ci/broke', 'failure'],
        ['ci/failed-optional', 'failure'],
        ['other-ci/travis', 'failure'],
      ];
      // Statuses posted as the bot posts them, oldest first; GitHub lists them newest first.
      for (const [context, state] of history) {
        await octokit.rest.repos.createCommitStatus({ owner: pr.org, repo: pr.repo, sha: pr.headSha, context, state });
      }
      // A failure on an older head commit is not a failure of this one.
      await octokit.rest.repos.createCommitStatus({ owner: pr.org, repo: pr.repo, sha: 'd'.repeat(40), context: 'ci/passed', state: 'failure' });

      await planner.handle(commentOn(pr, '/retest'));
      started = await jobNamesOf(pr);
    });

    it.each([
      ['reruns', 'failed', 'whose latest status is failure'],
      ['reruns', 'errored', 'whose latest status is error'],
      ['reruns', 'broke', 'that passed before and failed last'],
      ['reruns', 'failed-optional', 'that is optional but failed'],
      ['reruns', 'never-reported', 'that is required and never reported'],
      ['does not rerun', 'passed', 'that passed'],
      ['does not rerun', 'fixed', 'that failed before and passed last'],
      ['does not rerun', 'running', 'that is still pending'],
      // Prow's RetestFilter asks whether a job runs by itself, not whether it is required.
      ['reruns', 'never-reported-optional', 'that is optional, runs by itself and never reported'],
      ['does not rerun', 'docs-never-reported', 'that never reported but whose files did not change'],
    ])('%s the job %s, %s', (verdict, job) => {
      expect(started.includes(job)).toBe(verdict === 'reruns');
    });

    it('starts nothing else, and reads the statuses of the head commit', () => {
      expect(started).toEqual(['broke', 'errored', 'failed', 'failed-optional', 'never-reported', 'never-reported-optional']);
      expect(github.requestsTo({ path: `/repos/${pr.org}/${pr.repo}/commits/${pr.headSha}/statuses` })).toHaveLength(1);
    });

    it('starts every job that runs by itself on a commit with no statuses at all', async () => {
      const fresh = openPr({ repo: 'retest', files: ['docs/guide.md'] });

      await planner.handle(commentOn(fresh, '/retest'));

      expect(await jobNamesOf(fresh)).toEqual([
        'broke',
        'docs-never-reported',
        'errored',
        'failed',
        'failed-optional',
        'fixed',
        'never-reported',
        'never-reported-optional',
        'passed',
        'running',
      ]);
    });

    it("starts nothing for someone who may not ask, on an outsider's pull request", async () => {
      const fresh = openPr({ repo: 'retest', author: STRANGER });

      await planner.handle(commentOn(fresh, '/retest', STRANGER));

      expect(await jobsOf(fresh)).toEqual([]);
    });
  });

  describe('pull_request events', () => {
    it.each([
      { action: 'opened', author: MEMBER, expected: ['main-only', 'not-on-release', 'unit'], why: 'opened by an org member' },
      { action: 'opened', author: COLLABORATOR, expected: ['main-only', 'not-on-release', 'unit'], why: 'opened by a collaborator' },
      { action: 'opened', author: STRANGER, expected: [], why: 'opened by someone untrusted' },
      { action: 'opened', author: MEMBER, draft: true, expected: [], why: 'opened as a draft' },
      { action: 'ready_for_review', author: MEMBER, expected: ['main-only', 'not-on-release', 'unit'], why: 'marked ready for review' },
      { action: 'synchronize', author: MEMBER, expected: ['main-only', 'not-on-release', 'unit'], why: 'updated by a push' },
      { action: 'reopened', author: MEMBER, expected: ['main-only', 'not-on-release', 'unit'], why: 'reopened' },
      { action: 'closed', author: MEMBER, expected: [], why: 'closed' },
      { action: 'labeled', author: MEMBER, expected: [], why: 'labeled' },
      { action: 'edited', author: MEMBER, expected: [], why: 'edited' },
    ])('a pull request $why ($action) starts $expected', async ({ action, author, draft, expected }) => {
      const pr = openPr({ author, draft });

      await planner.handle(pullRequestEvent(pr, action));

      expect(await jobNamesOf(pr)).toEqual(expected);
    });

    it('runs the run_if_changed jobs of an opened pull request whose files match', async () => {
      const pr = openPr({ files: ['docs/guide.md'] });

      await planner.handle(pullRequestEvent(pr, 'opened'));

      expect(await jobNamesOf(pr)).toEqual(['docs', 'main-only', 'not-on-release', 'unit']);
    });
  });

  describe('the ProwJob it creates', () => {
    it('has Prow’s shape, with the pull request from GitHub in its refs', async () => {
      const pr = openPr({ author: COLLABORATOR });
      const envelope = commentOn(pr, '/test unit');

      await planner.handle(envelope);

      const [job, ...others] = await jobsOf(pr);
      expect(others).toEqual([]);
      expect(job).toMatchObject({
        apiVersion: 'prow.k8s.io/v1',
        kind: 'ProwJob',
        metadata: {
          name: prowJobName(envelope.id, 'unit'),
          creationTimestamp: NOW.toISOString(),
          labels: {
            'created-by-prow': 'true',
            'prow.k8s.io/type': 'presubmit',
            'prow.k8s.io/job': 'unit',
            'prow.k8s.io/refs.org': 'acme',
            'prow.k8s.io/refs.repo': 'widgets',
            'prow.k8s.io/refs.pull': String(pr.number),
          },
          annotations: {
            'bowline.dev/event': 'issue_comment',
            'bowline.dev/delivery-id': envelope.id,
            'bowline.dev/triggered-by': MEMBER,
            'bowline.dev/comment': '/test unit',
          },
        },
        spec: {
          type: 'presubmit',
          agent: 'jenkins',
          job: 'unit',
          context: 'ci/jenkins/unit',
          rerun_command: '/test unit',
          report: true,
          refs: {
            // Prow's createRefs: the head branch in head_ref (`ref` is left to GitHub), and links.
            org: 'acme',
            repo: 'widgets',
            repo_link: 'https://github.com/acme/widgets',
            base_ref: 'main',
            base_sha: pr.baseSha,
            base_link: `https://github.com/acme/widgets/commit/${pr.baseSha}`,
            pulls: [
              {
                number: pr.number,
                author: COLLABORATOR,
                sha: pr.headSha,
                head_ref: pr.headRef,
                title: pr.title,
                link: `https://github.com/acme/widgets/pull/${pr.number}`,
                commit_link: `https://github.com/acme/widgets/pull/${pr.number}/commits/${pr.headSha}`,
                author_link: `https://github.com/${COLLABORATOR}`,
              },
            ],
          },
        },
        status: { state: 'triggered', startTime: NOW.toISOString() },
      });
      expect(job!.status.build_id).toMatch(/^\d+$/);
      expect(job!.status.completionTime).toBeUndefined();
    });

    it('records which pull request event ran it, and for whom, for the job history', async () => {
      const pr = openPr({ author: MEMBER });

      await planner.handle(pullRequestEvent(pr, 'opened'));

      const annotations = (await jobsOf(pr)).map((job) => job.metadata.annotations);
      expect(annotations).toHaveLength(3);
      for (const annotation of annotations) {
        expect(annotation).toMatchObject({ 'bowline.dev/event': 'pull_request', 'bowline.dev/action': 'opened', 'bowline.dev/triggered-by': MEMBER });
      }
    });

    it('takes the head commit from GitHub, not from the comment event', async () => {
      const pr = openPr();
      const envelope = commentOn(pr, '/test unit');
      github.addPullRequest({ ...pr, headSha: 'e'.repeat(40) });

      await planner.handle(envelope);

      const [job] = await jobsOf(pr);
      expect(job!.spec.refs.pulls![0]!.sha).toBe('e'.repeat(40));
    });
  });

  describe('replays and failures', () => {
    const created = async () => (await registry.getSingleMetric('bowline_planner_prowjobs_created_total')!.get()).values.reduce((sum, v) => sum + v.value, 0);

    it('creates nothing new when the same envelope is handled twice', async () => {
      const pr = openPr();
      const envelope = commentOn(pr, '/test all');

      await planner.handle(envelope);
      const first = await store.list();
      const countAfterFirst = await created();
      await planner.handle(envelope);

      expect(await jobNamesOf(pr)).toEqual(['main-only', 'not-on-release', 'unit']);
      const again = await store.list();
      expect(again.map((s) => [s.job.metadata.name, s.revision]).sort()).toEqual(first.map((s) => [s.job.metadata.name, s.revision]).sort());
      expect(await created()).toBe(countAfterFirst);
    });

    it('creates a second set for a second delivery of the same command', async () => {
      const pr = openPr();

      await planner.handle(commentOn(pr, '/test unit'));
      await planner.handle(commentOn(pr, '/test unit'));

      expect(await jobNamesOf(pr)).toEqual(['unit', 'unit']);
    });

    it.each([
      { call: 'the pull request fetch', path: (pr: Pr) => `/repos/acme/widgets/pulls/${pr.number}`, body: '/test all' },
      { call: 'the changed files', path: (pr: Pr) => `/repos/acme/widgets/pulls/${pr.number}/files`, body: '/test all' },
      { call: 'the membership check', path: () => `/orgs/acme/members/${MEMBER}`, body: '/test all' },
      { call: 'the commit statuses', path: (pr: Pr) => `/repos/acme/widgets/commits/${pr.headSha}/statuses`, body: '/retest' },
    ])('throws, creating nothing, when GitHub answers 500 to $call, and creates the jobs when retried', async ({ path, body }) => {
      // A planner of its own: trust answers are remembered for a minute, and this one must ask.
      const planner = new Planner({ github: octokit, store, config: staticConfigSource(parseConfig(CONFIG, 'config.yaml')), logger, registry: new Registry(), now: () => NOW });
      const pr = openPr({ files: ['docs/guide.md'] });
      const envelope = commentOn(pr, body);
      github.inject({ method: 'GET', path: path(pr) }, { status: 500, body: { message: 'Server Error' } });

      await expect(planner.handle(envelope)).rejects.toThrow();
      expect(await jobsOf(pr)).toEqual([]);

      await planner.handle(envelope);
      expect((await jobsOf(pr)).length).toBeGreaterThan(0);
    });
  });
});
