import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { KV } from '@nats-io/kv';
import { Registry } from 'prom-client';
import { staticConfigSource, type Config } from '@bowline/config';
import { createLogger } from '@bowline/observability';
import { ProwJobStore, type ProwJob } from '@bowline/prowjob';
import { startProwJobBucket, waitFor, type ProwJobBucket } from '@bowline/testing';
import { Sinker } from '../src/sinker.js';
import { CONFIG, CONFIG_WITHOUT_NIGHTLY, HOUR, makeJob, MINUTE, NOW, type JobSpec } from './jobs.js';

const logger = createLogger({ service: 'test', level: 'silent' });
const DAY = 24 * HOUR;

describe('Sinker', () => {
  let bucket: ProwJobBucket;
  let kv: KV;
  let store: ProwJobStore;
  let sinker: Sinker | undefined;
  let registry: Registry;

  beforeAll(async () => {
    bucket = await startProwJobBucket();
    ({ kv, store } = bucket);
  });

  afterAll(async () => {
    await bucket?.stop();
  });

  afterEach(async () => {
    await sinker?.stop();
    sinker = undefined;
    for (const { job } of await store.list()) await kv.purge(job.metadata.name);
  });

  function newSinker(options: { store?: ProwJobStore; config?: Config } = {}): Sinker {
    registry = new Registry();
    sinker = new Sinker({ store: options.store ?? store, config: staticConfigSource(options.config ?? CONFIG), logger, registry, now: () => NOW });
    return sinker;
  }

  async function createJob(spec: JobSpec): Promise<ProwJob> {
    const job = makeJob(spec);
    expect(await store.create(job)).toBe(true);
    return job;
  }

  async function stateOf(job: ProwJob): Promise<string> {
    return (await store.get(job.metadata.name))?.job.status.state ?? 'deleted';
  }

  async function counter(name: string): Promise<number> {
    return (await registry.getSingleMetric(name)!.get()).values.reduce((sum, v) => sum + v.value, 0);
  }

  describe('retention (sinker.max_prowjob_age 1h)', () => {
    const cases: [string, string, JobSpec][] = [
      ['deletes', 'a success started two hours ago', { startedAgoMs: 2 * HOUR, state: 'success' }],
      ['deletes', 'a failure started two hours ago', { startedAgoMs: 2 * HOUR, state: 'failure' }],
      ['deletes', 'an aborted job started two hours ago', { startedAgoMs: 2 * HOUR, state: 'aborted' }],
      ['deletes', 'an error started two hours ago', { startedAgoMs: 2 * HOUR, state: 'error' }],
      ['deletes', 'a postsubmit success started two hours ago', { startedAgoMs: 2 * HOUR, state: 'success', type: 'postsubmit' }],
      ['deletes', 'a success started 61 minutes ago that finished a minute ago', { startedAgoMs: 61 * MINUTE, state: 'success', changedAgoMs: MINUTE }],
      ['keeps', 'a success started half an hour ago', { startedAgoMs: 30 * MINUTE, state: 'success' }],
      ['keeps', 'a failure started exactly an hour ago', { startedAgoMs: HOUR, state: 'failure' }],
      ['keeps', 'a triggered job started 47 hours ago', { startedAgoMs: 47 * HOUR, state: 'triggered' }],
      ['keeps', 'a pending job started 47 hours ago', { startedAgoMs: 47 * HOUR, state: 'pending' }],
    ];

    it.each(cases)('%s %s', async (verb, _, spec) => {
      const job = await createJob(spec);

      const { deleted, ended } = await newSinker().pass();

      expect(deleted).toEqual(verb === 'deletes' ? [job.metadata.name] : []);
      expect(ended).toEqual([]);
      expect(await stateOf(job)).toBe(verb === 'deletes' ? 'deleted' : spec.state);
    });

    it('deletes the old finished jobs among many, keeps all the others, and counts what it deleted', async () => {
      const jobs = await Promise.all(cases.map(([, , spec]) => createJob(spec)));

      const { deleted } = await newSinker().pass();

      const expected = jobs.filter((_, i) => cases[i]![0] === 'deletes').map((j) => j.metadata.name);
      expect(deleted.sort()).toEqual(expected.sort());
      expect(await Promise.all(jobs.map(stateOf))).toEqual(cases.map(([verb, , spec]) => (verb === 'deletes' ? 'deleted' : spec.state)));
      expect(await counter('bowline_sinker_prowjobs_deleted_total')).toBe(expected.length);
    });

    it('leaves a job that changed after it was listed for the next pass', async () => {
      const job = await createJob({ startedAgoMs: 2 * HOUR, state: 'failure' });
      const racing = new ProwJobStore(kv);
      const list = racing.list.bind(racing);
      racing.list = async () => {
        const listed = await list();
        // The reporter records its report in between.
        await store.update(job.metadata.name, (j) => ({ ...j, status: { ...j.status, prev_report_states: { 'github-reporter': 'failure' } } }));
        return listed;
      };

      expect((await newSinker({ store: racing }).pass()).deleted).toEqual([]);
      expect(await stateOf(job)).toBe('failure');
      expect((await newSinker().pass()).deleted).toEqual([job.metadata.name]);
      expect(await stateOf(job)).toBe('deleted');
    });
  });

  describe('periodics, as Prow keeps them', () => {
    it('keeps the latest run of a periodic still in the config however old, and deletes the older runs', async () => {
      const older = await createJob({ type: 'periodic', startedAgoMs: 3 * DAY, state: 'success' });
      const latest = await createJob({ type: 'periodic', startedAgoMs: 2 * DAY, state: 'failure' });

      const { deleted } = await newSinker().pass();

      expect(deleted).toEqual([older.metadata.name]);
      expect(await stateOf(latest)).toBe('failure');
    });

    it('deletes the latest run too once the periodic is gone from the config', async () => {
      const latest = await createJob({ type: 'periodic', startedAgoMs: 2 * DAY, state: 'success' });

      const { deleted } = await newSinker({ config: CONFIG_WITHOUT_NIGHTLY }).pass();

      expect(deleted).toEqual([latest.metadata.name]);
    });

    it('deletes every old finished run when the latest run is still going', async () => {
      const older = await createJob({ type: 'periodic', startedAgoMs: 3 * DAY, state: 'success' });
      const running = await createJob({ type: 'periodic', startedAgoMs: 30 * MINUTE, state: 'pending' });

      const { deleted } = await newSinker().pass();

      expect(deleted).toEqual([older.metadata.name]);
      expect(await stateOf(running)).toBe('pending');
    });
  });

  describe('stuck jobs (bowline.sinker.max_unfinished_age 48h)', () => {
    it.each([
      ['a triggered job Jenkins never took', { startedAgoMs: 49 * HOUR, state: 'triggered' } as JobSpec],
      ['a pending job started thirty days ago', { startedAgoMs: 30 * DAY, state: 'pending' } as JobSpec],
    ])('ends %s as error, saying why, and does not delete it in the same pass', async (_, spec) => {
      const job = await createJob(spec);

      const { ended, deleted } = await newSinker().pass();

      expect(ended).toEqual([job.metadata.name]);
      expect(deleted).toEqual([]);
      const stored = (await store.get(job.metadata.name))!.job;
      expect(stored.status).toMatchObject({
        state: 'error',
        completionTime: NOW.toISOString(),
        description:
          "Ended by sinker: unfinished after 48h (bowline.sinker.max_unfinished_age); check the Jenkins build and the jenkins-operator's logs.",
      });
      expect(await counter('bowline_sinker_prowjobs_ended_total')).toBe(1);
    });

    it('deletes an ended job at a later pass, once it is older than max_prowjob_age', async () => {
      const job = await createJob({ startedAgoMs: 49 * HOUR, state: 'pending' });

      expect((await newSinker().pass()).ended).toEqual([job.metadata.name]);
      expect((await newSinker().pass()).deleted).toEqual([job.metadata.name]);
    });

    it('leaves a stuck job alone when it finishes between the listing and the write', async () => {
      const job = await createJob({ startedAgoMs: 49 * HOUR, state: 'pending' });
      const racing = new ProwJobStore(kv);
      const list = racing.list.bind(racing);
      racing.list = async () => {
        const listed = await list();
        // The jenkins-operator sees the build end in between.
        await store.update(job.metadata.name, (j) => ({ ...j, status: { ...j.status, state: 'success', completionTime: NOW.toISOString() } }));
        return listed;
      };

      expect((await newSinker({ store: racing }).pass()).ended).toEqual([]);
      expect(await stateOf(job)).toBe('success');
    });
  });

  describe('acting only while allowed', () => {
    it('does nothing without the lease', async () => {
      const old = await createJob({ startedAgoMs: 2 * HOUR, state: 'success' });
      registry = new Registry();
      sinker = new Sinker({ store, config: staticConfigSource(CONFIG), logger, registry, now: () => NOW, lease: { isHeld: () => false } });

      expect(await sinker.pass()).toEqual({ deleted: [], ended: [], interrupted: true, waitingForHistory: 0 });
      expect(await stateOf(old)).toBe('success');
    });

    it('keeps an old job whose end is not in the history yet, and deletes it once it is', async () => {
      const old = await createJob({ startedAgoMs: 2 * HOUR, state: 'success' });
      const revision = (await store.get(old.metadata.name))!.revision;
      let recordedUpTo = revision - 1;
      const history = { recordedUpTo: async () => recordedUpTo, applyRetention: async () => undefined };
      registry = new Registry();
      sinker = new Sinker({ store, config: staticConfigSource(CONFIG), logger, registry, now: () => NOW, history });

      expect(await sinker.pass()).toMatchObject({ deleted: [], waitingForHistory: 1 });
      recordedUpTo = revision;
      expect((await sinker.pass()).deleted).toEqual([old.metadata.name]);
    });
  });

  it('runs a pass as soon as it starts', async () => {
    const job = await createJob({ startedAgoMs: 2 * HOUR, state: 'success' });

    newSinker().start();

    await waitFor('the old job to be deleted', async () => (await stateOf(job)) === 'deleted');
  });
});
