import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { KV } from '@nats-io/kv';
import { Registry } from 'prom-client';
import { parseConfig, staticConfigSource } from '@bowline/config';
import { createLogger } from '@bowline/observability';
import { newPresubmitJob, prowJobName, ProwJobStore, transition, type ProwJob, type ProwJobState } from '@bowline/prowjob';
import { startProwJobBucket, waitFor, type ProwJobBucket } from '@bowline/testing';
import { Sinker } from '../src/sinker.js';

const CONFIG = parseConfig(
  `
presubmits:
  acme/widgets:
  - name: unit
    agent: jenkins
    context: ci/jenkins/unit
sinker:
  max_prowjob_age: 1h
  resync_period: 1h
`,
  'config.yaml',
);

const NOW = new Date('2024-06-01T12:00:00Z');
const MINUTE = 60_000;
const logger = createLogger({ service: 'test', level: 'silent' });

let created = 0;

describe('Sinker', () => {
  let bucket: ProwJobBucket;
  let kv: KV;
  let store: ProwJobStore;
  let sinker: Sinker | undefined;

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

  function newSinker(jobStore: ProwJobStore = store): Sinker {
    sinker = new Sinker({ store: jobStore, config: staticConfigSource(CONFIG), logger, registry: new Registry(), now: () => NOW });
    return sinker;
  }

  /** A job started `startedMinutesAgo` before NOW, moved to `state` `finishedMinutesAgo` before NOW. */
  async function createJob(startedMinutesAgo: number, state: ProwJobState, finishedMinutesAgo = 0): Promise<ProwJob> {
    created += 1;
    const presubmit = CONFIG.presubmits['acme/widgets']![0]!;
    const job = newPresubmitJob(presubmit, {
      name: prowJobName('sinker-test', String(process.pid), String(created)),
      refs: { org: 'acme', repo: 'widgets', base_ref: 'main', base_sha: 'b'.repeat(40), pulls: [{ number: 1, author: 'alice', sha: 'a'.repeat(40) }] },
      now: new Date(NOW.getTime() - startedMinutesAgo * MINUTE),
      cause: { event: 'issue_comment', deliveryId: `delivery-${created}` },
    });
    const moved = state === 'triggered' ? job : transition(job, state, new Date(NOW.getTime() - finishedMinutesAgo * MINUTE))!;
    expect(await store.create(moved)).toBe(true);
    return moved;
  }

  async function exists(job: ProwJob): Promise<boolean> {
    return (await store.get(job.metadata.name)) !== undefined;
  }

  const cases: [string, string, number, ProwJobState][] = [
    ['deletes', 'a success started two hours ago', 120, 'success'],
    ['deletes', 'a failure started two hours ago', 120, 'failure'],
    ['deletes', 'an aborted job started two hours ago', 120, 'aborted'],
    ['deletes', 'an error started two hours ago', 120, 'error'],
    ['deletes', 'a success started 61 minutes ago that finished a minute ago', 61, 'success'],
    ['keeps', 'a success started half an hour ago', 30, 'success'],
    ['keeps', 'a failure started exactly an hour ago', 60, 'failure'],
    ['keeps', 'a triggered job started thirty days ago', 30 * 24 * 60, 'triggered'],
    ['keeps', 'a pending job started thirty days ago', 30 * 24 * 60, 'pending'],
  ];

  it.each(cases)('%s %s, with max_prowjob_age 1h', async (verb, _, startedMinutesAgo, state) => {
    const job = await createJob(startedMinutesAgo, state, state === 'pending' ? 0 : 1);

    const names = await newSinker().clean();

    const deleted = verb === 'deletes';
    expect(names).toEqual(deleted ? [job.metadata.name] : []);
    expect(await exists(job)).toBe(!deleted);
  });

  it('deletes the old finished jobs among many and keeps all the others', async () => {
    const jobs = await Promise.all(cases.map(([, , startedMinutesAgo, state]) => createJob(startedMinutesAgo, state, 0)));

    const names = await newSinker().clean();

    const expected = jobs.filter((_, i) => cases[i]![0] === 'deletes').map((j) => j.metadata.name);
    expect(names.sort()).toEqual(expected.sort());
    expect(await Promise.all(jobs.map(exists))).toEqual(cases.map(([verb]) => verb === 'keeps'));
  });

  it('leaves a job that changed after it was listed for the next pass', async () => {
    const job = await createJob(120, 'failure');
    const racing = new ProwJobStore(kv);
    const list = racing.list.bind(racing);
    racing.list = async () => {
      const listed = await list();
      // The reporter records its report in between.
      await store.update(job.metadata.name, (j) => ({ ...j, status: { ...j.status, prev_report_states: { 'github-reporter': 'failure' } } }));
      return listed;
    };

    expect(await newSinker(racing).clean()).toEqual([]);
    expect(await exists(job)).toBe(true);
    expect(await newSinker().clean()).toEqual([job.metadata.name]);
    expect(await exists(job)).toBe(false);
  });

  it('runs a pass as soon as it starts', async () => {
    const job = await createJob(120, 'success');

    newSinker().start();

    await waitFor('the old job to be deleted', async () => !(await exists(job)));
  });
});
