import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { jetstreamManager } from '@nats-io/jetstream';
import { Registry } from 'prom-client';
import { ensureDeadLetterStream, HISTORY_STREAM, listDeadLetters, readStream, replayDeadLetter, type StreamMessage } from '@bowline/bus';
import { staticConfigSource, type Config } from '@bowline/config';
import { createLogger } from '@bowline/observability';
import { transition, type HistoryRecord, type ProwJob } from '@bowline/prowjob';
import { startProwJobBucket, waitFor, type ProwJobBucket } from '@bowline/testing';
import { HistoryRecorder } from '../src/history-recorder.js';
import { CONFIG, HOUR, makeJob, MINUTE, NOW, type JobSpec } from './jobs.js';

const logger = createLogger({ service: 'test', level: 'silent' });

describe('HistoryRecorder', () => {
  let bucket: ProwJobBucket;
  let recorder: HistoryRecorder | undefined;
  let registry: Registry;

  beforeAll(async () => {
    bucket = await startProwJobBucket();
  });

  afterEach(async () => {
    await recorder?.stop();
    recorder = undefined;
  });

  afterAll(async () => {
    await bucket?.stop();
  });

  function newRecorder(config: Config = CONFIG): HistoryRecorder {
    registry = new Registry();
    recorder = new HistoryRecorder({ nc: bucket.nc, config: staticConfigSource(config), streams: { replicas: 1 }, logger, registry });
    return recorder;
  }

  async function messagesOf(job: ProwJob): Promise<StreamMessage[]> {
    return (await readStream(bucket.nc, HISTORY_STREAM)).filter((m) => m.subject.endsWith(`.${job.metadata.name}`));
  }

  async function recordsOf(job: ProwJob): Promise<HistoryRecord[]> {
    return (await messagesOf(job)).map((m) => JSON.parse(m.text) as HistoryRecord);
  }

  async function createJob(spec: JobSpec): Promise<ProwJob> {
    const job = makeJob(spec);
    expect(await bucket.store.create(job)).toBe(true);
    return job;
  }

  /** What the jenkins-operator and the reporter write while a build runs. */
  async function runToSuccess(job: ProwJob): Promise<void> {
    const at = (minutes: number) => new Date(NOW.getTime() + minutes * MINUTE);
    await bucket.store.update(job.metadata.name, (j) => transition(j, 'triggered', at(1), { description: 'Jenkins job enqueued.' }));
    await bucket.store.update(job.metadata.name, (j) => transition(j, 'pending', at(2), { url: 'https://jenkins.example.com/job/unit/42/', jenkins_build_id: '42' }));
    await bucket.store.update(job.metadata.name, (j) => ({ ...j, status: { ...j.status, prev_report_states: { 'github-reporter': 'pending' } } }));
    await bucket.store.update(job.metadata.name, (j) => transition(j, 'success', at(7), { description: 'Jenkins job succeeded.' }));
  }

  it('keeps each state change of a job once, in order, with who asked and what ran', async () => {
    await newRecorder().start();
    const job = await createJob({ startedAgoMs: 0, state: 'triggered', pr: 7, comment: 'Looks good.\n/test all' });

    await runToSuccess(job);

    const records = await waitFor('three records', async () => {
      const found = await recordsOf(job);
      return found.length === 3 && found;
    });
    expect(records.map((r) => r.state)).toEqual(['triggered', 'pending', 'success']);
    expect(records[2]).toEqual({
      prowjob: job.metadata.name,
      job: 'unit',
      type: 'presubmit',
      repo: 'acme/widgets',
      baseRef: 'main',
      pr: 7,
      sha: 'a'.repeat(40),
      author: 'alice',
      triggeredBy: 'bob',
      trigger: '/test all',
      state: 'success',
      description: 'Jenkins job succeeded.',
      url: 'https://jenkins.example.com/job/unit/42/',
      build: '42',
      context: 'ci/jenkins/unit',
      createdAt: NOW.toISOString(),
      startedAt: NOW.toISOString(),
      pendingAt: new Date(NOW.getTime() + 2 * MINUTE).toISOString(),
      completedAt: new Date(NOW.getTime() + 7 * MINUTE).toISOString(),
      revision: expect.any(Number),
      // The planner labels every new job with its tenant, the implicit one's too.
      tenant: 'default',
    });
    expect(records.map((r) => r.revision)).toEqual([...records.map((r) => r.revision)].sort((a, b) => a - b));
    const messages = await messagesOf(job);
    expect(messages.map((m) => m.subject)).toEqual(Array(3).fill(`bowline.history.acme.widgets.${job.spec.refs.pulls![0]!.number}.${job.spec.job}.${job.metadata.name}`));
    expect((await registry.getSingleMetric('bowline_sinker_history_records_total')!.get()).values).toEqual(
      expect.arrayContaining([expect.objectContaining({ labels: { state: 'success' }, value: 1 })]),
    );
  });

  it('keeps nothing for a deletion: the job’s history outlives it', async () => {
    await newRecorder().start();
    const job = await createJob({ startedAgoMs: 2 * HOUR, state: 'success' });
    await waitFor('the record', async () => (await recordsOf(job)).length === 1);

    await bucket.store.delete(job.metadata.name);
    const after = await createJob({ startedAgoMs: 0, state: 'success' });

    await waitFor('the next job’s record', async () => (await recordsOf(after)).length === 1);
    expect((await recordsOf(job)).map((r) => r.state)).toEqual(['success']);
  });

  it('records the changes made while no sinker ran, where the last one left off', async () => {
    await newRecorder().start();
    const job = await createJob({ startedAgoMs: 0, state: 'triggered' });
    await waitFor('the first record', async () => (await recordsOf(job)).length === 1);
    await recorder!.stop();

    await runToSuccess(job);
    await newRecorder().start();

    await waitFor('the records of the changes made meanwhile', async () => (await recordsOf(job)).map((r) => r.state).join() === 'triggered,pending,success');
  });

  it('writes a state once however often it is offered: a replay, a second writer, an older revision', async () => {
    const history = newRecorder();
    await history.applyRetention();
    const job = makeJob({ startedAgoMs: 0, state: 'pending' });
    const done = transition(job, 'success', NOW)!;

    expect(await history.record(job, 10)).toBe('written');
    expect(await history.record(job, 10)).toBe('unchanged');
    expect(await history.record(done, 12)).toBe('written');
    expect(await history.record(job, 10)).toBe('unchanged');
    expect(await history.record(done, 13)).toBe('unchanged');
    expect((await recordsOf(job)).map((r) => [r.state, r.revision])).toEqual([
      ['pending', 10],
      ['success', 12],
    ]);
  });

  it('files periodics under _periodic and postsubmits under their repository, saying what started them', async () => {
    await newRecorder().start();
    const periodic = await createJob({ type: 'periodic', startedAgoMs: 0, state: 'success' });
    const postsubmit = await createJob({ type: 'postsubmit', startedAgoMs: 0, state: 'failure' });

    const [periodicMessage] = await waitFor('the periodic’s record', async () => (await messagesOf(periodic)).length === 1 && messagesOf(periodic));
    const [postsubmitRecord] = await waitFor('the postsubmit’s record', async () => (await recordsOf(postsubmit)).length === 1 && recordsOf(postsubmit));

    expect(periodicMessage!.subject).toBe(`bowline.history._periodic._._.nightly.${periodic.metadata.name}`);
    expect(JSON.parse(periodicMessage!.text)).toMatchObject({ job: 'nightly', type: 'periodic', trigger: 'periodic (interval 24h0m0s)' });
    expect(JSON.parse(periodicMessage!.text)).not.toHaveProperty('repo');
    expect(postsubmitRecord).toMatchObject({ repo: 'acme/widgets', sha: 'c'.repeat(40), trigger: 'push', triggeredBy: 'carol', state: 'failure' });
    expect(postsubmitRecord).not.toHaveProperty('pr');
  });

  it('keeps the history as long as bowline.history.max_age says, and follows a reload', async () => {
    const jsm = await jetstreamManager(bucket.nc);
    const history = newRecorder({ ...CONFIG, history: { maxAgeMs: 30 * 24 * HOUR } });
    await history.applyRetention();
    expect((await jsm.streams.info(HISTORY_STREAM)).config).toMatchObject({ max_age: 30 * 24 * HOUR * 1e6, duplicate_window: 24 * HOUR * 1e6 });

    const reloaded = newRecorder({ ...CONFIG, history: { maxAgeMs: 12 * HOUR } });
    await reloaded.applyRetention();

    expect((await jsm.streams.info(HISTORY_STREAM)).config).toMatchObject({ max_age: 12 * HOUR * 1e6, duplicate_window: 12 * HOUR * 1e6 });
    await newRecorder().applyRetention();
  });

  it('puts a bucket value that is no ProwJob aside as a dead letter, and records the changes after it', async () => {
    await ensureDeadLetterStream(bucket.nc, { replicas: 1 });
    await newRecorder().start();
    // Written by hand or by something else than Bowline: it would block the history for ever if retried.
    await bucket.kv.put('not-a-prowjob', 'null');
    const after = await createJob({ startedAgoMs: 0, state: 'success' });

    await waitFor('the next job’s record', async () => (await recordsOf(after)).length === 1);
    const letters = (await listDeadLetters(bucket.nc, { service: 'sinker' })).filter((l) => l.subject === '$KV.prowjobs.not-a-prowjob');

    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({ reason: 'invalid_payload', stream: 'KV_prowjobs', message: null });
    const rejected = (await registry.getSingleMetric('bowline_events_rejected_total')!.get()).values;
    expect(rejected).toEqual([expect.objectContaining({ labels: { service: 'sinker', reason: 'invalid_payload' }, value: 1 })]);
    await expect(replayDeadLetter(bucket.nc, letters[0]!.id)).rejects.toThrow(/came from KV_prowjobs, not from EVENTS: only events can be replayed/);
    await bucket.kv.delete('not-a-prowjob');
  });

  it('says up to which bucket revision everything is recorded', async () => {
    await newRecorder().start();
    const job = await createJob({ startedAgoMs: 0, state: 'success' });
    const { revision } = (await bucket.store.get(job.metadata.name))!;

    expect(await recorder!.recordedUpTo(revision)).toBeGreaterThanOrEqual(revision);
  });
});
