import { describe, expect, it } from '@jest/globals';
import { parseConfig, type Config } from '@bowline/config';
import { newPostsubmitJob, newPresubmitJob, transition, type ProwJob } from '@bowline/prowjob';
import { waitFor } from '@bowline/testing';
import { BASE_SHA, HEAD_SHA, OperatorHarness, ORG, PULL, REPO } from './harness.js';

/*
 * Prow's TestSyncTriggeredJobs (pkg/jenkins/controller_test.go): one sync of a triggered ProwJob,
 * here through the operator against the test Jenkins, with the reporter posting what GitHub shows.
 * "Report" is a new commit status for the job's context; every job is reported as created first,
 * so a status after that is the sync's.
 *
 * Go's fake Jenkins client fails `Build` with a bare "oh no"; Bowline tells a refusal Jenkins will
 * repeat from a failure that may pass, so "start new job, error" is kept once with each.
 */
const STATUS_ERROR_LINK = 'https://github.com/kubernetes/test-infra/issues';

function configWith(maxConcurrency: number): Config {
  return parseConfig(
    `
presubmits:
  ${ORG}/${REPO}:
  - name: test-job
    agent: jenkins
    context: test-job
  - name: no-such-job
    agent: jenkins
postsubmits:
  ${ORG}/${REPO}:
  - name: test-job
    agent: jenkins
    context: test-job
  - {name: motherearth, agent: jenkins}
  - {name: allagash, agent: jenkins}
  - {name: krusovice, agent: jenkins}
jenkins_operators:
- job_url_template: "{{.Status.PodName}}/{{.Status.State}}"
  max_concurrency: ${maxConcurrency}
status_error_link: ${STATUS_ERROR_LINK}
bowline:
  jenkins_operator:
    resync_period: 1h
`,
    'config.yaml',
  );
}

interface Case {
  /** Go's case name. */
  name: string;
  /** Which of Bowline's answers to Go's case this row is, where it has more than one. */
  variant?: string;
  type: 'presubmit' | 'postsubmit';
  /** The job, when not test-job. */
  jobName?: string;
  /** Jobs already running in Jenkins, by job name (Go's pendingJobs). */
  pendingJobs?: Record<string, number>;
  maxConcurrency?: number;
  /** What Jenkins answers the build request with, when it does not queue it. */
  refusal?: { status: number };
  expected: {
    state: ProwJob['status']['state'];
    build: boolean;
    complete: boolean;
    report: boolean;
    enqueued: boolean;
    error: boolean;
  };
  /** Where Bowline answers differently, on purpose (the README says why). */
  bowline?: { description: string; report: boolean };
}

const CASES: Case[] = [
  {
    name: 'start new job',
    type: 'postsubmit',
    expected: { state: 'triggered', build: true, complete: false, report: true, enqueued: true, error: false },
  },
  {
    name: 'start new job, error',
    variant: 'the Jenkins job does not exist: 404',
    type: 'presubmit',
    jobName: 'no-such-job',
    expected: { state: 'error', build: false, complete: true, report: true, enqueued: false, error: true },
  },
  {
    name: 'start new job, error',
    variant: 'Jenkins refuses the request: 400',
    type: 'presubmit',
    refusal: { status: 400 },
    expected: { state: 'error', build: false, complete: true, report: true, enqueued: false, error: true },
  },
  {
    name: 'start new job, error',
    variant: 'a 500, which may pass',
    type: 'presubmit',
    refusal: { status: 500 },
    // Prow ends the job at once; Bowline tries again later (see the max_pending case below).
    expected: { state: 'triggered', build: false, complete: false, report: false, enqueued: false, error: false },
  },
  {
    name: 'block running new job',
    type: 'postsubmit',
    pendingJobs: { motherearth: 10, allagash: 8, krusovice: 2 },
    maxConcurrency: 20,
    expected: { state: 'triggered', build: false, complete: false, report: false, enqueued: false, error: false },
    // Bowline says on the status why the job waits; Prow leaves the status as it was.
    bowline: { description: 'Waiting: 20 of 20 Jenkins builds running.', report: true },
  },
  {
    name: 'allow running new job',
    type: 'postsubmit',
    pendingJobs: { motherearth: 10, allagash: 8, krusovice: 2 },
    maxConcurrency: 21,
    expected: { state: 'triggered', build: true, complete: false, report: true, enqueued: true, error: false },
  },
];

describe('TestSyncTriggeredJobs', () => {
  const harness = new OperatorHarness(['test-job', 'motherearth', 'allagash', 'krusovice']);

  function triggered(config: Config, type: Case['type'], name: string, jobName = 'test-job'): ProwJob {
    const cause = { event: 'test', deliveryId: name };
    const now = new Date();
    if (type === 'presubmit') {
      const presubmit = config.presubmits[`${ORG}/${REPO}`]!.find((p) => p.name === jobName)!;
      const refs = { org: ORG, repo: REPO, base_ref: 'main', base_sha: BASE_SHA, pulls: [{ number: PULL, author: 'alice', sha: HEAD_SHA }] };
      return newPresubmitJob(presubmit, { name, refs, now, cause });
    }
    const postsubmit = config.postsubmits[`${ORG}/${REPO}`]!.find((p) => p.name === jobName)!;
    return newPostsubmitJob(postsubmit, { name, refs: { org: ORG, repo: REPO, base_ref: 'main', base_sha: BASE_SHA }, now, cause });
  }

  /** Go's pendingJobs: ProwJobs of other jobs whose builds run in Jenkins. */
  async function running(config: Config, pendingJobs: Record<string, number>): Promise<void> {
    for (const [jobName, count] of Object.entries(pendingJobs)) {
      for (let i = 0; i < count; i += 1) {
        const job = triggered(config, 'postsubmit', `${jobName}-${i}`, jobName);
        const item = harness.jenkins.queueBuild(jobName, { PROW_JOB_ID: job.metadata.name, BUILD_ID: job.status.build_id! });
        const build = harness.jenkins.startBuild(item.id);
        await harness.create(transition(job, 'pending', new Date(), { description: 'Jenkins job running.', jenkins_build_id: String(build.number), url: build.url })!);
      }
    }
  }

  it.each(CASES.map((c) => [`"${c.name}"${c.variant ? ` (${c.variant})` : ''}`, c] as const))('TestSyncTriggeredJobs: %s', async (_, c) => {
    const config = configWith(c.maxConcurrency ?? 0);
    if (c.refusal) harness.jenkins.inject({ method: 'POST', path: /\/buildWithParameters$/ }, { status: c.refusal.status, times: 1_000 });
    await running(config, c.pendingJobs ?? {});
    const job = await harness.create(triggered(config, c.type, 'test', c.jobName));
    await harness.startReporter(config);
    await harness.reported(job.metadata.name);
    await harness.settled();
    const before = harness.statuses(job.spec.context).length;

    await harness.startOperator(config);
    if (c.expected.build || c.expected.error || c.refusal) await waitFor('the build request', () => harness.buildRequests(job.metadata.name) > 0);
    await harness.sync();
    await harness.settled();

    const actual = await harness.read(job.metadata.name);
    const reports = harness.statuses(job.spec.context).slice(before);
    expect(actual.status.state).toBe(c.expected.state);
    expect(actual.status.completionTime !== undefined).toBe(c.expected.complete);
    expect(harness.jenkins.findQueueItem(job.metadata.name) !== undefined).toBe(c.expected.build);
    expect(actual.status.pendingTime).toBeUndefined();
    if (c.expected.enqueued) expect(actual.status.description).toBe('Jenkins job enqueued.');
    else expect(actual.status.description).not.toBe('Jenkins job enqueued.');
    if (c.expected.error) expect(actual.status).toMatchObject({ description: 'Error starting Jenkins job.', url: STATUS_ERROR_LINK });
    if (c.bowline) {
      expect(actual.status.description).toBe(c.bowline.description);
      expect(reports.length === 1).toBe(c.bowline.report);
    } else {
      expect(reports.length).toBe(c.expected.report ? 1 : 0);
      if (c.expected.report) expect(reports[0]!.description).toContain(actual.status.description);
    }
  });

  it('TestSyncTriggeredJobs: "start new job, error" (a 500, which may pass): tried again, each wait longer, and ended as Prow ends it once max_pending is past', async () => {
    const config = configWith(0);
    harness.jenkins.inject({ method: 'POST', path: /\/buildWithParameters$/ }, { status: 500, times: 1_000 });
    const job = await harness.create(triggered(config, 'presubmit', 'test'));
    await harness.startReporter(config);
    await harness.startOperator(config, { startRetryMs: 10_000 });
    const attempts = () => harness.buildRequests(job.metadata.name);
    await waitFor('the first attempt', () => attempts() === 1);
    // Its answer handled before the clock moves: the wait counts from the failure.
    await harness.sync();

    // The waits double: 10 s after the first failure, 20 s after the second.
    for (const [offsetMs, expected] of [[9_000, 1], [11_000, 2], [21_000, 2], [32_000, 3]] as const) {
      harness.clockOffsetMs = offsetMs;
      await harness.sync();
      expect(attempts()).toBe(expected);
    }
    expect((await harness.read(job.metadata.name)).status.state).toBe('triggered');

    harness.clockOffsetMs = 25 * 3_600_000;
    await harness.sync();
    await harness.settled();
    const ended = await harness.read(job.metadata.name);
    expect(ended.status).toMatchObject({ state: 'error', description: 'Error starting Jenkins job.', url: STATUS_ERROR_LINK });
    expect(harness.statuses('test-job').at(-1)).toMatchObject({ state: 'error', target_url: STATUS_ERROR_LINK });
    expect(harness.jenkins.queue()).toEqual([]);
  });
});
