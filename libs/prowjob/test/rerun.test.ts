import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { parseConfig } from '@bowline/config';
import { startProwJobBucket, type ProwJobBucket } from '@bowline/testing';
import { abortJob, newPresubmitJob, newRerunJob, rerunJob, transition, type ProwJob } from '../src/index.js';

// Prow's deck rerun (NewProwJob(pj.Spec, pj.Labels, pj.Annotations)) and abort, as the deck does them.
const presubmit = parseConfig('presubmits:\n  acme/widgets:\n  - name: unit\n    agent: jenkins\n    annotations: { owner: team-a }\n', 'config.yaml').presubmits['acme/widgets']![0]!;
const NOW = new Date('2024-06-01T12:00:00Z');

function finished(name: string): ProwJob {
  const job = newPresubmitJob(presubmit, {
    name,
    now: NOW,
    pullRequest: {
      number: 4,
      title: 'Add',
      html_url: 'https://github.com/acme/widgets/pull/4',
      user: { login: 'bob' },
      head: { sha: 'a'.repeat(40), ref: 'feature' },
      base: { ref: 'main', sha: 'b'.repeat(40), repo: { name: 'widgets', owner: { login: 'acme' } } },
    },
    cause: { event: 'issue_comment', deliveryId: 'delivery-1', user: 'bob', comment: '/test unit' },
  });
  const pending = transition(job, 'pending', NOW, { url: 'https://jenkins/job/unit/1/' })!;
  const done = transition(pending, 'failure', new Date(NOW.getTime() + 60_000))!;
  return { ...done, metadata: { ...done.metadata, annotations: { ...done.metadata.annotations, 'bowline.dev/queue-item': '7', 'bowline.dev/github-reported-status': 'x' } } };
}

describe('newRerunJob', () => {
  const original = finished('0000-original');
  const rerun = newRerunJob(original, { user: 'alice', now: new Date(NOW.getTime() + 120_000), requestId: 'form-1' });

  it('keeps the spec and labels, and starts triggered with who reran what', () => {
    expect(rerun.spec).toEqual(original.spec);
    expect(rerun.metadata.labels).toEqual(original.metadata.labels);
    expect(rerun.status).toMatchObject({ state: 'triggered', description: 'alice reran 0000-original.', startTime: '2024-06-01T12:02:00.000Z' });
    expect(rerun.status.url).toBeUndefined();
    expect(rerun.metadata.name).not.toBe(original.metadata.name);
  });

  it("keeps the job's own annotations, not what the first run's event and the services wrote", () => {
    expect(rerun.metadata.annotations).toEqual({
      owner: 'team-a',
      'prow.k8s.io/job': 'unit',
      'bowline.dev/event': 'deck',
      'bowline.dev/action': 'rerun',
      'bowline.dev/triggered-by': 'alice',
      'bowline.dev/rerun-of': '0000-original',
      'bowline.dev/rerun-by': 'alice',
    });
  });

  it('names the same request the same job, and another request another', () => {
    expect(newRerunJob(original, { user: 'alice', now: NOW, requestId: 'form-1' }).metadata.name).toBe(rerun.metadata.name);
    expect(newRerunJob(original, { user: 'alice', now: NOW, requestId: 'form-2' }).metadata.name).not.toBe(rerun.metadata.name);
  });
});

describe('rerunJob and abortJob on a real bucket', () => {
  let bucket: ProwJobBucket;
  beforeAll(async () => {
    bucket = await startProwJobBucket();
  });
  afterAll(async () => {
    await bucket.stop();
  });

  it('reruns a finished job once per request, and refuses an unfinished one', async () => {
    const original = finished('0001-original');
    await bucket.store.create(original);
    const first = await rerunJob(bucket.store, original.metadata.name, { user: 'alice', now: NOW, requestId: 'r1' });
    expect(first).toMatchObject({ done: true });
    expect(await rerunJob(bucket.store, original.metadata.name, { user: 'alice', now: NOW, requestId: 'r1' })).toMatchObject({ done: true, repeated: true });
    const rerun = first.done ? first.job : undefined;
    expect(await rerunJob(bucket.store, rerun!.metadata.name, { user: 'alice', now: NOW, requestId: 'r2' })).toMatchObject({ done: false });
  });

  it('aborts an unfinished job with compare-and-set, and leaves a finished one alone', async () => {
    const original = finished('0002-original');
    const rerun = newRerunJob(original, { user: 'alice', now: NOW, requestId: 'r3' });
    await bucket.store.create(rerun);
    const aborted = await abortJob(bucket.store, rerun.metadata.name, { user: 'carol', now: NOW });
    expect(aborted).toMatchObject({ done: true, job: { status: { state: 'aborted', description: 'carol aborted this job.' } } });
    expect(await abortJob(bucket.store, rerun.metadata.name, { user: 'carol', now: NOW })).toMatchObject({ done: false });
    expect(await abortJob(bucket.store, 'no-such-job', { user: 'carol', now: NOW })).toEqual({ done: false, why: 'there is no ProwJob named no-such-job' });
  });
});
