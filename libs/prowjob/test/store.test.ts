import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { connectBus, openProwJobBucket, type BusConnection } from '@bowline/bus';
import { parseConfig } from '@bowline/config';
import { createLogger } from '@bowline/observability';
import { startNats, waitFor, type NatsServer } from '@bowline/testing';
import { newPresubmitJob, prowJobName, transition } from '../src/prowjob.js';
import { ProwJobStore } from '../src/store.js';
import type { ProwJob } from '../src/types.js';

const logger = createLogger({ service: 'test', level: 'silent' });
const [presubmit] = parseConfig('presubmits:\n  o/r:\n  - name: unit\n    agent: jenkins\n    optional: true\n', 'config.yaml').presubmits['o/r']!;
const refs = { org: 'o', repo: 'r', base_ref: 'main', base_sha: 'b'.repeat(40), pulls: [{ number: 1, author: 'alice', sha: 'a'.repeat(40) }] };

function job(name: string): ProwJob {
  return newPresubmitJob(presubmit!, { name, refs, now: new Date('2026-01-01T00:00:00Z'), cause: { event: 'issue_comment', deliveryId: name } });
}

describe('the ProwJob store', () => {
  let nats: NatsServer;
  let bus: BusConnection;
  let store: ProwJobStore;

  beforeAll(async () => {
    nats = await startNats();
    bus = await connectBus({ servers: nats.url, name: 'test', logger });
    store = new ProwJobStore(await openProwJobBucket(bus.nc, { replicas: 1 }));
  });

  afterAll(async () => {
    await bus?.close();
    await nats?.stop();
  });

  it('gives the same name for the same delivery and job, and different names otherwise', () => {
    expect(prowJobName('d1', 'unit')).toBe(prowJobName('d1', 'unit'));
    expect(prowJobName('d1', 'unit')).not.toBe(prowJobName('d2', 'unit'));
    expect(prowJobName('d1', 'unit')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  });

  it('creates a job once: a second create of the same name reports that it exists', async () => {
    expect(await store.create(job('create-once'))).toBe(true);
    expect(await store.create(job('create-once'))).toBe(false);
    expect((await store.get('create-once'))?.job.metadata.labels).toMatchObject({ 'prow.k8s.io/job': 'unit', 'prow.k8s.io/is-optional': 'true', 'prow.k8s.io/refs.pull': '1' });
  });

  it('never loses either of two concurrent updates', async () => {
    await store.create(job('concurrent'));
    await Promise.all([
      store.update('concurrent', (j) => ({ ...j, metadata: { ...j.metadata, annotations: { ...j.metadata.annotations, a: '1' } } })),
      store.update('concurrent', (j) => ({ ...j, metadata: { ...j.metadata, annotations: { ...j.metadata.annotations, b: '2' } } })),
    ]);
    expect((await store.get('concurrent'))?.job.metadata.annotations).toMatchObject({ a: '1', b: '2' });
  });

  it('moves states only forward and never changes a finished job', async () => {
    const now = new Date('2026-01-01T00:01:00Z');
    const pending = transition(job('x'), 'pending', now)!;
    expect(pending.status).toMatchObject({ state: 'pending', pendingTime: now.toISOString() });
    expect(transition(pending, 'triggered', now)).toBeUndefined();
    const done = transition(pending, 'success', now)!;
    expect(done.status.completionTime).toBe(now.toISOString());
    expect(transition(done, 'failure', now)).toBeUndefined();
  });

  it('watches current jobs first, then changes and deletions', async () => {
    await store.create(job('watched'));
    const seen: string[] = [];
    const watcher = await store.watch((name, stored) => {
      if (name === 'watched') seen.push(stored ? stored.job.status.state : 'deleted');
    }, logger);
    await waitFor('the current value', () => seen.length === 1);
    await store.update('watched', (j) => transition(j, 'pending', new Date()));
    await store.delete('watched');
    await waitFor('the change and the deletion', () => seen.length === 3);
    watcher.stop();
    expect(seen).toEqual(['triggered', 'pending', 'deleted']);
  });
});
