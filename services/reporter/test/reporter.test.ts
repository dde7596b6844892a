import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { KV } from '@nats-io/kv';
import { Registry } from 'prom-client';
import { parseConfig, staticConfigSource, type Config } from '@bowline/config';
import { connectGitHub, createGitHub } from '@bowline/github';
import { createLogger } from '@bowline/observability';
import { newPresubmitJob, prowJobName, ProwJobStore, transition, type ProwJob, type ProwJobState } from '@bowline/prowjob';
import { FakeGitHub, startProwJobBucket, waitFor, type GitHubStatus, type ProwJobBucket } from '@bowline/testing';
import { entryFor, renderComment, REPORT_MARKER } from '../src/failure-comment.js';
import { Reporter, REPORTER_NAME } from '../src/reporter.js';
import { statusDescription } from '../src/status-description.js';

const CONFIG_TEXT = `
presubmits:
  acme/widgets:
  - name: unit
    agent: jenkins
    context: ci/jenkins/unit
  - name: integration
    agent: jenkins
    context: ci/jenkins/integration
  - name: lint
    agent: jenkins
    context: ci/jenkins/lint
    optional: true
  - name: quiet
    agent: jenkins
    context: ci/jenkins/quiet
    skip_report: true
`;
const CONFIG = parseConfig(CONFIG_TEXT, 'config.yaml');

const ORG = 'acme';
const REPO = 'widgets';
const BASE_SHA = 'b'.repeat(40);
/** What GitHub shows for a description: Prow's, with the base sha Tide reads (see status-description.test.ts). */
const shown = (description: string): string => statusDescription(description, BASE_SHA);
const logger = createLogger({ service: 'test', level: 'silent' });

interface PullRequest {
  number: number;
  headSha: string;
}

let pulls = 0;
let created = 0;

describe('Reporter', () => {
  let bucket: ProwJobBucket;
  let kv: KV;
  let store: ProwJobStore;
  let github: FakeGitHub;
  let reporter: Reporter | undefined;
  let pr: PullRequest;

  beforeAll(async () => {
    bucket = await startProwJobBucket();
    ({ kv, store } = bucket);
  });

  afterAll(async () => {
    await bucket?.stop();
  });

  beforeEach(async () => {
    github = await FakeGitHub.start();
    pulls += 1;
    pr = { number: 100 + pulls, headSha: String(pulls).padStart(40, 'a') };
    github.addPullRequest({ org: ORG, repo: REPO, number: pr.number, author: 'alice', headSha: pr.headSha, baseSha: BASE_SHA });
  });

  afterEach(async () => {
    await reporter?.stop();
    reporter = undefined;
    await github.close();
    for (const { job } of await store.list()) await kv.purge(job.metadata.name);
  });

  async function startReporter(config: Config = CONFIG): Promise<Reporter> {
    reporter = new Reporter({ github: createGitHub({ apiUrl: github.url, token: 'test-token' }, logger), config: staticConfigSource(config), store, logger, registry: new Registry() });
    await reporter.start();
    return reporter;
  }

  function buildJob(jobName: string): ProwJob {
    created += 1;
    const presubmit = CONFIG.presubmits['acme/widgets']!.find((p) => p.name === jobName)!;
    return newPresubmitJob(presubmit, {
      name: prowJobName('reporter-test', String(process.pid), String(created)),
      refs: { org: ORG, repo: REPO, base_ref: 'main', base_sha: BASE_SHA, pulls: [{ number: pr.number, author: 'alice', sha: pr.headSha }] },
      now: new Date(),
      cause: { event: 'issue_comment', deliveryId: `delivery-${created}` },
    });
  }

  async function createJob(jobName: string): Promise<ProwJob> {
    const job = buildJob(jobName);
    expect(await store.create(job)).toBe(true);
    return job;
  }

  function failed(jobName: string, url: string): ProwJob {
    return transition(buildJob(jobName), 'failure', new Date(), { url })!;
  }

  async function moveTo(job: ProwJob, state: ProwJobState, fields: { description?: string; url?: string } = {}): Promise<ProwJob> {
    const next = await store.update(job.metadata.name, (current) => transition(current, state, new Date(), fields));
    if (!next) throw new Error(`${job.spec.job} cannot move to ${state}`);
    return next;
  }

  async function reported(job: ProwJob, state: ProwJobState): Promise<ProwJob> {
    return waitFor(`${job.spec.job} reported ${state}`, async () => {
      const current = (await store.get(job.metadata.name))?.job;
      return current?.status.prev_report_states?.[REPORTER_NAME] === state && current;
    });
  }

  function statuses(job?: ProwJob): GitHubStatus[] {
    return github.statuses(ORG, REPO, pr.headSha).filter((s) => !job || s.context === job.spec.context);
  }

  function botComments() {
    return github.comments(ORG, REPO, pr.number).filter((c) => c.user.login === github.botLogin);
  }

  /**
   * Proves the reporter let earlier changes pass without a status: a job created after them gets
   * its status, and once the reporter is idle again nothing else was posted.
   */
  async function expectNothingPostedFor(jobs: ProwJob[], before: number[]): Promise<void> {
    const marker = await createJob('lint');
    await waitFor('the status of a later job', () => statuses(marker).length === 1);
    await reporter!.idle();
    expect(jobs.map((job) => statuses(job).length)).toEqual(before);
  }

  describe('commit statuses', () => {
    it.each<[ProwJobState, string, string]>([
      ['success', 'success', 'Jenkins job succeeded.'],
      ['failure', 'failure', 'Jenkins job failed.'],
      ['aborted', 'failure', 'Jenkins job aborted.'],
      ['error', 'error', 'Jenkins build ended with result NOT_BUILT.'],
    ])('posts one status per state on the head commit, the last for a job ending %s as GitHub %s', async (state, githubState, description) => {
      await startReporter();
      const job = await createJob('unit');
      await reported(job, 'triggered');
      const url = 'https://jenkins.example.com/job/unit/12/';
      await moveTo(job, 'pending', { description: 'Jenkins job running.', url });
      await reported(job, 'pending');
      await moveTo(job, state, { description });
      await reported(job, state);

      expect(statuses(job).map((s) => [s.state, s.description, s.target_url])).toEqual([
        ['pending', shown('Job triggered.'), null],
        ['pending', shown('Jenkins job running.'), url],
        [githubState, shown(description), url],
      ]);
      expect(statuses(job).every((s) => s.context === 'ci/jenkins/unit')).toBe(true);
      expect(github.statuses(ORG, REPO, BASE_SHA)).toEqual([]);
    });

    it('posts a new job’s first status ahead of a burst of other jobs’ changes waiting for GitHub', async () => {
      await startReporter();
      const busy: ProwJob[] = [];
      for (let i = 0; i < 32; i += 1) busy.push(await createJob('unit'));
      for (const job of busy) await reported(job, 'triggered');
      // Each status now takes GitHub 100 ms: the 32 changes below wait their turn, eight at a time.
      github.inject({ method: 'POST', path: /\/statuses\// }, { delayMs: 100, times: 1000 });
      await Promise.all(busy.map((job) => moveTo(job, 'pending', { description: 'Jenkins job running.' })));
      await new Promise((resolve) => setTimeout(resolve, 20));

      const fresh = await createJob('integration');
      for (const job of busy) await reported(job, 'pending');
      await reported(fresh, 'triggered');

      const order = statuses().map((s) => (s.context === fresh.spec.context ? 'fresh' : s.description));
      const lastBusy = order.lastIndexOf(shown('Jenkins job running.'));
      expect(order.indexOf('fresh')).toBeGreaterThan(-1);
      expect(order.indexOf('fresh')).toBeLessThan(lastBusy - 8);
    });

    // Prow's jenkins-operator reports "Jenkins job enqueued." without a change of state, and a new
    // job_url_template link while running (pkg/jenkins/controller.go, syncTriggeredJob and syncPendingJob).
    it('posts a status again when the description or the link changes within a state, and not for a change GitHub would not show', async () => {
      await startReporter();
      const job = await createJob('unit');
      await reported(job, 'triggered');

      await moveTo(job, 'triggered', { description: 'Jenkins job enqueued.' });
      await waitFor('the enqueued status', () => statuses(job).length === 2);
      await moveTo(job, 'pending', { description: 'Jenkins job running.', url: 'https://ci.example.com/unit/pending' });
      await waitFor('the running status', () => statuses(job).length === 3);
      await moveTo(job, 'pending', { url: 'https://ci.example.com/unit/1/pending' });
      await waitFor('the status with the new link', () => statuses(job).length === 4);
      await store.update(job.metadata.name, (current) => ({ ...current, metadata: { ...current.metadata, labels: { ...current.metadata.labels, seen: 'yes' } } }));

      await expectNothingPostedFor([job], [4]);
      expect(statuses(job).map((s) => [s.description, s.target_url])).toEqual([
        [shown('Job triggered.'), null],
        [shown('Jenkins job enqueued.'), null],
        [shown('Jenkins job running.'), 'https://ci.example.com/unit/pending'],
        [shown('Jenkins job running.'), 'https://ci.example.com/unit/1/pending'],
      ]);
      expect((await store.get(job.metadata.name))!.job.status.prev_report_states).toEqual({ [REPORTER_NAME]: 'pending' });
    });

    it('posts nothing for a job that says not to report', async () => {
      await startReporter();
      const quiet = await createJob('quiet');
      await moveTo(quiet, 'failure', { url: 'https://jenkins.example.com/job/quiet/1/' });

      await expectNothingPostedFor([quiet], [0]);
      expect(botComments()).toEqual([]);
      expect((await store.get(quiet.metadata.name))!.job.status.prev_report_states).toBeUndefined();
    });

    it('reports nothing twice after a restart, and reports what changed while it was down', async () => {
      await startReporter();
      const done = await createJob('unit');
      const moving = await createJob('integration');
      await reported(done, 'triggered');
      await reported(moving, 'triggered');
      await reporter!.stop();

      await moveTo(moving, 'pending', { url: 'https://jenkins.example.com/job/integration/3/' });
      await startReporter();

      await reported(moving, 'pending');
      await expectNothingPostedFor([done, moving], [1, 2]);
    });

    it('posts a status for a postsubmit on the base commit, and no failure comment', async () => {
      await startReporter();
      const presubmit = buildJob('unit');
      const job: ProwJob = {
        ...presubmit,
        spec: { ...presubmit.spec, type: 'postsubmit', refs: { org: ORG, repo: REPO, base_ref: 'main', base_sha: BASE_SHA } },
      };
      await store.create(transition(job, 'failure', new Date(), { url: 'https://jenkins.example.com/job/unit/9/' })!);

      await reported(job, 'failure');
      expect(github.statuses(ORG, REPO, BASE_SHA).map((s) => [s.context, s.state])).toEqual([['ci/jenkins/unit', 'failure']]);
      expect(github.requestsTo({ path: `/repos/${ORG}/${REPO}/issues/${pr.number}/comments` })).toEqual([]);
    });

    // Prow's ContextDescriptionWithBaseSha (pkg/config/config.go): the middle elided, the base sha kept.
    it('cuts a description to the 140 characters GitHub takes, keeping the base sha Tide reads', async () => {
      await startReporter();
      const job = await createJob('unit');
      const said = `Jenkins said: ${'x'.repeat(200)}`;
      await moveTo(job, 'error', { description: said });

      await reported(job, 'error');
      const status = statuses(job).find((s) => s.state === 'error');
      expect(status!.description).toBe(`${said.slice(0, 43)} ... ${said.slice(-43)} BaseSHA:${BASE_SHA}`);
      expect(status!.description).toHaveLength(140);
    });

    it('tries a status again after GitHub answers 500, until it is posted', async () => {
      github.inject({ method: 'POST', path: `/repos/${ORG}/${REPO}/statuses/${pr.headSha}` }, { status: 500, body: { message: 'Server Error' } });
      await startReporter();
      const job = await createJob('unit');

      await reported(job, 'triggered');
      expect(github.requestsTo({ method: 'POST', path: /\/statuses\// }).map((r) => r.status)).toEqual([500, 201]);
      expect(statuses(job).map((s) => s.state)).toEqual(['pending']);
    });
  });

  describe('what is reported', () => {
    it('reports no job type left out of github_reporter.job_types_to_report', async () => {
      await startReporter(parseConfig(`${CONFIG_TEXT}github_reporter:\n  job_types_to_report: [postsubmit]\n`, 'config.yaml'));
      const job = await createJob('unit');
      const postsubmit = { ...buildJob('integration'), spec: { ...buildJob('integration').spec, type: 'postsubmit' as const } };
      postsubmit.metadata.name = prowJobName('reporter-test', 'postsubmit', String(Date.now()));
      await store.create(postsubmit);
      await reported(postsubmit, 'triggered');
      await reporter!.idle();
      expect(statuses(job)).toEqual([]);
      expect(github.statuses(ORG, REPO, BASE_SHA).map((s) => s.context)).toEqual(['ci/jenkins/integration']);
    });

    it('drops a report GitHub answers with 404 (the repository or commit is gone), once, and marks it done', async () => {
      await startReporter();
      github.inject({ method: 'POST', path: /\/statuses\// }, { status: 404, body: { message: 'Not Found' }, times: 1 });
      const job = await createJob('unit');
      await reported(job, 'triggered');
      expect(github.requestsTo({ method: 'POST', path: /\/statuses\// }).map((r) => r.status)).toEqual([404]);
      expect(statuses(job)).toEqual([]);
    });

    it("adds the rendered report_template of the job's jenkins_operators entry to the failure comment", async () => {
      const template = 'Logs: https://logs.example.com/{{.Spec.Job}}/{{.Status.JenkinsBuildID}} for PR {{with index .Spec.Refs.Pulls 0}}{{.Number}}{{end}}';
      await startReporter(parseConfig(`${CONFIG_TEXT}jenkins_operators:\n- report_template: "${template.replace(/"/g, '\\"')}"\n`, 'config.yaml'));
      const job = await createJob('unit');
      await reported(job, 'triggered');
      await store.update(job.metadata.name, (current) => transition(current, 'failure', new Date(), { url: 'https://jenkins.example.com/job/unit/3/', jenkins_build_id: '3' }));
      await reported(job, 'failure');
      const [comment] = botComments();
      expect(comment!.body).toContain(`Logs: https://logs.example.com/unit/3 for PR ${pr.number}`);
      expect(rows(comment!.body)).toHaveLength(1);
    });
  });

  describe('under GitHub rate limits', () => {
    it('queues reports while limited and delivers every one after the limit lifts', async () => {
      // The services' client: waits out the limit (libs/github's request hook) instead of failing.
      const github2 = connectGitHub({ apiUrl: github.url, token: 'test-token', writeIntervalMs: 0 }, { logger, service: 'reporter-rate-limit-test' });
      reporter = new Reporter({ github: github2.octokit, botLogin: github2.botLogin, config: staticConfigSource(CONFIG), store, logger, registry: new Registry() });
      await reporter.start();
      github.rateLimit({ method: 'POST', path: /\/statuses\// }, { kind: 'primary', resetInSeconds: 1, times: 3 });
      const jobs = await Promise.all(['unit', 'integration', 'lint'].map((name) => createJob(name)));
      await Promise.all(jobs.map((job) => reported(job, 'triggered')));
      expect(jobs.map((job) => statuses(job).map((s) => s.state))).toEqual([['pending'], ['pending'], ['pending']]);
      const answers = github.requestsTo({ method: 'POST', path: /\/statuses\// }).map((r) => r.status);
      expect(answers.filter((code) => code === 403)).toHaveLength(3);
      expect(answers.filter((code) => code === 201)).toHaveLength(3);
    }, 30_000);
  });

  describe('the failure comment', () => {
    // Prow's ReportComment and parseIssueComments (pkg/github/report/report.go): each new failure
    // is posted anew (the last comment deleted), a pass edits the comment, the last pass deletes it.
    it('holds the rows of two jobs that fail at the same time in one comment, posts it anew for each failure, edits it as they pass, and deletes it when none fails', async () => {
      await startReporter();
      const unit = await createJob('unit');
      const integration = await createJob('integration');
      await Promise.all([reported(unit, 'triggered'), reported(integration, 'triggered')]);

      const [unitFailed, integrationFailed] = await Promise.all([
        moveTo(unit, 'failure', { url: 'https://jenkins.example.com/job/unit/1/' }),
        moveTo(integration, 'failure', { url: 'https://jenkins.example.com/job/integration/1/' }),
      ]);
      await Promise.all([reported(unit, 'failure'), reported(integration, 'failure')]);

      expect(botComments()).toHaveLength(1);
      const [comment] = botComments();
      expect(comment!.body).toContain('@alice: The following tests **failed**');
      expect(rows(comment!.body).sort()).toEqual([entryFor(unitFailed), entryFor(integrationFailed)].sort());
      const posts = github.requestsTo({ method: 'POST', path: `/repos/${ORG}/${REPO}/issues/${pr.number}/comments` });
      expect(posts).toHaveLength(2);
      expect(github.requestsTo({ method: 'DELETE', path: /\/issues\/comments\// })).toHaveLength(1);

      // A /retest of unit passes.
      const unitAgain = await createJob('unit');
      await moveTo(unitAgain, 'success', { url: 'https://jenkins.example.com/job/unit/2/' });
      await reported(unitAgain, 'success');
      expect(botComments().map((c) => c.id)).toEqual([comment!.id]);
      expect(rows(botComments()[0]!.body)).toEqual([entryFor(integrationFailed)]);
      expect(botComments()[0]!.body).toContain('@alice: The following test **failed**');

      const integrationAgain = await createJob('integration');
      await moveTo(integrationAgain, 'success', { url: 'https://jenkins.example.com/job/integration/2/' });
      await reported(integrationAgain, 'success');
      expect(botComments()).toEqual([]);
    });

    it('writes no comment when a job passes and nothing failed before', async () => {
      await startReporter();
      const job = await createJob('unit');
      await moveTo(job, 'success', { url: 'https://jenkins.example.com/job/unit/1/' });

      await reported(job, 'success');
      expect(github.comments(ORG, REPO, pr.number)).toEqual([]);
    });

    it('merges the rows of every copy of its comment into the new one it posts for a failure, and deletes the copies', async () => {
      // Two reporters that raced each created one, each with the row it knew of.
      const lintRow = entryFor(failed('lint', 'https://jenkins.example.com/job/lint/1/'));
      const integrationRow = entryFor(failed('integration', 'https://jenkins.example.com/job/integration/1/'));
      const older = github.addComment(ORG, REPO, pr.number, github.botLogin, renderComment('alice', [lintRow]));
      const newer = github.addComment(ORG, REPO, pr.number, github.botLogin, renderComment('alice', [integrationRow]));
      await startReporter();
      const unit = await createJob('unit');
      const unitFailed = await moveTo(unit, 'failure', { url: 'https://jenkins.example.com/job/unit/1/' });

      await reported(unit, 'failure');
      const [posted, ...others] = botComments();
      expect(others).toEqual([]);
      expect([older.id, newer.id]).not.toContain(posted!.id);
      expect(rows(posted!.body)).toEqual([lintRow, integrationRow, entryFor(unitFailed)]);
      expect(github.requestsTo({ method: 'DELETE' }).map((r) => r.path)).toEqual([older, newer].map((c) => `/repos/${ORG}/${REPO}/issues/comments/${c.id}`));
    });

    it("leaves alone someone else's comment that holds the marker", async () => {
      const oldRow = entryFor(failed('unit', 'https://jenkins.example.com/job/unit/0/'));
      const someoneElses = github.addComment(ORG, REPO, pr.number, 'mallory', `Copied from the bot:\n\n${renderComment('alice', [oldRow])}`);
      expect(someoneElses.body).toContain(REPORT_MARKER);
      await startReporter();
      const unit = await createJob('unit');
      const unitFailed = await moveTo(unit, 'failure', { url: 'https://jenkins.example.com/job/unit/1/' });

      await reported(unit, 'failure');
      const comments = github.comments(ORG, REPO, pr.number);
      expect(comments).toHaveLength(2);
      expect(comments[0]).toEqual(someoneElses);
      expect(comments[1]!.user.login).toBe(github.botLogin);
      expect(rows(comments[1]!.body)).toEqual([entryFor(unitFailed)]);
      expect(github.requestsTo({ method: 'PATCH' })).toEqual([]);
      expect(github.requestsTo({ method: 'DELETE' })).toEqual([]);
    });
  });
});

/** The table rows of a failure comment. */
function rows(body: string): string[] {
  const lines = body.split('\n');
  const start = lines.indexOf('--- | --- | --- | --- | ---');
  const out: string[] = [];
  for (const line of lines.slice(start + 1)) {
    if (!line.includes(' | ')) break;
    out.push(line);
  }
  return out;
}
