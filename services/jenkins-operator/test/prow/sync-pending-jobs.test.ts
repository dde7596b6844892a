import { describe, expect, it } from '@jest/globals';
import { parseConfig } from '@bowline/config';
import { newPresubmitJob, transition, type ProwJob } from '@bowline/prowjob';
import type { BuildResult, FakeJenkins } from '@bowline/testing';
import { BASE_SHA, HEAD_SHA, OperatorHarness, ORG, PULL, REPO } from './harness.js';

/*
 * Prow's TestSyncPendingJobs (pkg/jenkins/controller_test.go): one sync of a ProwJob Jenkins has
 * taken, here through the operator against the test Jenkins, with the reporter posting what GitHub
 * shows. Go's config is kept: `job_url_template: {{.Status.PodName}}/{{.Status.State}}`, rendered
 * over the job's new state, and `status_error_link`. Go's ProwJobs leave the type and refs empty
 * where the case does not read them; here each is a presubmit of acme/widgets#1, so the reporter
 * has a commit to report on. "Report" is a new commit status after the job was first reported.
 */
const STATUS_ERROR_LINK = 'https://github.com/kubernetes/test-infra/issues';
const CONFIG = parseConfig(
  `
presubmits:
  ${ORG}/${REPO}:
  - name: test-job
    agent: jenkins
    context: test-job
jenkins_operators:
- job_url_template: "{{.Status.PodName}}/{{.Status.State}}"
status_error_link: ${STATUS_ERROR_LINK}
bowline:
  jenkins_operator:
    resync_period: 1h
`,
  'config.yaml',
);

/** Go's `Build`: queued (`enqueued`), running (no result), or ended with a result. */
type FakeBuildState = { enqueued: true } | { enqueued: false; result?: BuildResult };

interface Case {
  name: string;
  pj: { name: string; state: 'triggered' | 'pending'; description?: string };
  /** Builds in Jenkins by the PROW_JOB_ID they carry. */
  builds: Record<string, FakeBuildState>;
  expected: {
    state: ProwJob['status']['state'];
    url?: string;
    complete: boolean;
    report: boolean;
    enqueued: boolean;
    error: boolean;
  };
}

const CASES: Case[] = [
  {
    name: 'enqueued',
    pj: { name: 'foofoo', state: 'triggered', description: 'Jenkins job enqueued.' },
    builds: { foofoo: { enqueued: true } },
    expected: { state: 'triggered', complete: false, report: false, enqueued: true, error: false },
  },
  {
    name: 'finished queue',
    pj: { name: 'boing', state: 'pending', description: 'Jenkins job running.' },
    builds: { boing: { enqueued: false } },
    expected: { state: 'pending', url: 'boing/pending', complete: false, report: true, enqueued: false, error: false },
  },
  {
    name: 'building',
    pj: { name: 'firstoutthetrenches', state: 'pending' },
    builds: { firstoutthetrenches: { enqueued: false } },
    expected: { state: 'pending', url: 'firstoutthetrenches/pending', complete: false, report: true, enqueued: false, error: false },
  },
  {
    name: 'missing build',
    pj: { name: 'blabla', state: 'pending' },
    builds: { other: { enqueued: false } },
    expected: { state: 'error', url: STATUS_ERROR_LINK, complete: true, report: true, enqueued: false, error: true },
  },
  {
    name: 'finished, success',
    pj: { name: 'winwin', state: 'pending' },
    builds: { winwin: { enqueued: false, result: 'SUCCESS' } },
    expected: { state: 'success', url: 'winwin/success', complete: true, report: true, enqueued: false, error: false },
  },
  {
    name: 'finished, failed',
    pj: { name: 'whatapity', state: 'pending' },
    builds: { whatapity: { enqueued: false, result: 'FAILURE' } },
    expected: { state: 'failure', url: 'whatapity/failure', complete: true, report: true, enqueued: false, error: false },
  },
];

/** Puts Go's builds in the test Jenkins, each carrying its PROW_JOB_ID. */
function seed(jenkins: FakeJenkins, builds: Case['builds']): void {
  for (const [prowJobId, build] of Object.entries(builds)) {
    const item = jenkins.queueBuild('test-job', { PROW_JOB_ID: prowJobId, BUILD_ID: '1' });
    if (build.enqueued) continue;
    const started = jenkins.startBuild(item.id);
    if (build.result) jenkins.finishBuild(started, build.result);
  }
}

describe('TestSyncPendingJobs', () => {
  const harness = new OperatorHarness(['test-job']);

  function prowJob(pj: Case['pj']): ProwJob {
    const presubmit = CONFIG.presubmits[`${ORG}/${REPO}`]![0]!;
    const refs = { org: ORG, repo: REPO, base_ref: 'main', base_sha: BASE_SHA, pulls: [{ number: PULL, author: 'alice', sha: HEAD_SHA }] };
    const job = newPresubmitJob(presubmit, { name: pj.name, refs, now: new Date(), cause: { event: 'test', deliveryId: pj.name } });
    return transition(job, pj.state, new Date(), { description: pj.description ?? '' })!;
  }

  it.each(CASES.map((c) => [c.name, c] as const))('TestSyncPendingJobs: "%s"', async (_, c) => {
    seed(harness.jenkins, c.builds);
    const job = await harness.create(prowJob(c.pj));
    await harness.startReporter(CONFIG);
    await harness.reported(job.metadata.name);
    await harness.settled();
    const before = harness.statuses('test-job').length;

    await harness.startOperator(CONFIG);
    await harness.sync();
    await harness.settled();

    const actual = await harness.read(job.metadata.name);
    const reports = harness.statuses('test-job').slice(before);
    expect(actual.status.state).toBe(c.expected.state);
    expect(actual.status.completionTime !== undefined).toBe(c.expected.complete);
    expect(reports).toHaveLength(c.expected.report ? 1 : 0);
    expect(harness.buildRequests(job.metadata.name)).toBe(0);
    if (c.expected.enqueued) expect(actual.status.description).toBe('Jenkins job enqueued.');
    if (c.expected.error) expect(actual.status.description).toBe('Error finding Jenkins job.');
    expect(actual.status.url ?? '').toBe(c.expected.url ?? '');
    if (c.expected.report) expect(reports[0]).toMatchObject({ target_url: c.expected.url, description: expect.stringContaining(actual.status.description!) });
  });
});
