import { describe, expect, it } from '@jest/globals';
import { parseConfig } from '@bowline/config';
import { newPresubmitJob, type ProwJob } from '@bowline/prowjob';
import { waitFor } from '@bowline/testing';
import { DESCRIPTIONS } from '../src/job-records.js';
import { BASE_SHA, HEAD_SHA, OperatorHarness, ORG, PULL, REPO } from './prow/harness.js';

// Prow's syncTriggeredJob ends a job whose build Jenkins would not start ("Error starting Jenkins
// job.", linked to status_error_link). Bowline does so for what Jenkins will refuse again (see
// also prow/sync-triggered-jobs.test.ts), and waits out what may pass.
const STATUS_ERROR_LINK = 'https://ci.example.com/help';
const CONFIG = parseConfig(
  `
presubmits:
  ${ORG}/${REPO}:
  - {name: pipeline, agent: jenkins}
  - {name: bare, agent: jenkins}
  - {name: unit, agent: jenkins}
status_error_link: ${STATUS_ERROR_LINK}
bowline:
  jenkins_operator:
    resync_period: 1h
`,
  'config.yaml',
);

describe('a build Jenkins will not start', () => {
  const harness = new OperatorHarness(['unit']);

  async function create(jobName: string): Promise<ProwJob> {
    const presubmit = CONFIG.presubmits[`${ORG}/${REPO}`]!.find((p) => p.name === jobName)!;
    const refs = { org: ORG, repo: REPO, base_ref: 'main', base_sha: BASE_SHA, pulls: [{ number: PULL, author: 'alice', sha: HEAD_SHA, head_ref: 'feature' }] };
    return harness.create(newPresubmitJob(presubmit, { name: `${jobName}-1`, refs, now: new Date(), cause: { event: 'test', deliveryId: jobName } }));
  }

  it('ends the job once its priming build has run and Jenkins still finds it not parameterized', async () => {
    harness.jenkins.addJob('bare', { declaresNoParameters: true });
    await harness.startOperator(CONFIG);
    const job = await create('bare');
    await waitFor('the job waiting for its priming build', async () => (await harness.read(job.metadata.name)).status.description === DESCRIPTIONS.priming);
    expect((await harness.read(job.metadata.name)).status.state).toBe('triggered');

    // The priming build runs to its end, registering nothing.
    const priming = harness.jenkins.startBuild(harness.jenkins.queue().find((item) => item.job === 'bare')!.id);
    harness.jenkins.finishBuild(priming, 'SUCCESS');
    harness.clockOffsetMs = 11_000;
    await harness.sync();

    expect((await harness.read(job.metadata.name)).status).toMatchObject({ state: 'error', description: 'Error starting Jenkins job.', url: STATUS_ERROR_LINK });
    expect(harness.jenkins.requestsTo({ method: 'POST', path: '/job/bare/build' })).toHaveLength(1);
    expect(harness.jenkins.queue()).toEqual([]);
  });

  it('ends the job at once, queuing nothing, when a job that has run before is not parameterized (Prow primes only a job that never ran)', async () => {
    harness.jenkins.addJob('bare', { declaresNoParameters: true });
    const earlier = harness.jenkins.startBuild(harness.jenkins.queueBuild('bare', {}).id);
    harness.jenkins.finishBuild(earlier, 'SUCCESS');
    await harness.startOperator(CONFIG);
    const job = await create('bare');

    await waitFor('the job ended', async () => (await harness.read(job.metadata.name)).status.state === 'error');
    expect((await harness.read(job.metadata.name)).status).toMatchObject({ description: 'Error starting Jenkins job.', url: STATUS_ERROR_LINK });
    expect(harness.jenkins.requestsTo({ method: 'POST', path: '/job/bare/build' })).toEqual([]);
  });

  it('ends the job when Jenkins refuses the priming build itself', async () => {
    harness.jenkins.addJob('pipeline', { parametersInPipeline: true });
    harness.jenkins.inject({ method: 'POST', path: '/job/pipeline/build' }, { status: 404, times: 1_000 });
    await harness.startOperator(CONFIG);
    const job = await create('pipeline');

    await waitFor('the job ended', async () => (await harness.read(job.metadata.name)).status.state === 'error');
    expect((await harness.read(job.metadata.name)).status).toMatchObject({ description: 'Error starting Jenkins job.', url: STATUS_ERROR_LINK });
  });

  it.each([
    [401, 'a token not accepted (it may be rotated in its file)'],
    [403, 'a permission missing'],
    [429, 'too many requests'],
  ])('keeps the job and tries again after a %s: %s', async (status) => {
    harness.jenkins.inject({ method: 'POST', path: '/job/unit/buildWithParameters' }, { status, times: 1 });
    await harness.startOperator(CONFIG);
    const job = await create('unit');
    await waitFor('the refused request', () => harness.buildRequests(job.metadata.name) === 1);
    await harness.sync();
    expect((await harness.read(job.metadata.name)).status.state).toBe('triggered');

    harness.clockOffsetMs = 11_000;
    await harness.sync();
    expect((await harness.read(job.metadata.name)).status).toMatchObject({ state: 'triggered', description: DESCRIPTIONS.enqueued });
    expect(harness.buildRequests(job.metadata.name)).toBe(2);
  });
});
