import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { KV, KvEntry } from '@nats-io/kv';
import { connectBus, openProwJobBucket, type BusConnection } from '@bowline/bus';
import { parseConfig } from '@bowline/config';
import { createLogger } from '@bowline/observability';
import { startNats, waitFor, type NatsServer } from '@bowline/testing';
import { newPresubmitJob, transition } from '../src/prowjob.js';
import { ProwJobStore, StaleReadError } from '../src/store.js';
import type { ProwJob } from '../src/types.js';

// `KV_prowjobs` allows direct gets, which a replica behind the stream's leader may answer (issue
// 15: a reporter read the revision before the one its watch had shown, and reported nothing). A
// lagging replica is played here by a bucket whose `get` answers from an older revision for a
// while; everything else is the real bucket on a real nats-server.
const logger = createLogger({ service: 'test', level: 'silent' });
const [presubmit] = parseConfig('presubmits:\n  o/r:\n  - name: unit\n    agent: jenkins\n', 'config.yaml').presubmits['o/r']!;
const refs = { org: 'o', repo: 'r', base_ref: 'main', base_sha: 'b'.repeat(40), pulls: [{ number: 1, author: 'alice', sha: 'a'.repeat(40) }] };
const job = (name: string): ProwJob => newPresubmitJob(presubmit!, { name, refs, now: new Date('2026-01-01T00:00:00Z'), cause: { event: 'issue_comment', deliveryId: name } });

/** The bucket as a replica `behind` revisions late would answer `get`, for the next `lagging` gets. */
function laggingBucket(kv: KV, lag: { gets: number; answer: (key: string) => Promise<KvEntry | null> }): KV {
  return new Proxy(kv, {
    get(target, property, receiver) {
      if (property !== 'get') return Reflect.get(target, property, receiver) as unknown;
      return async (key: string) => (lag.gets-- > 0 ? lag.answer(key) : target.get(key));
    },
  });
}

describe('reading the ProwJob bucket after a watch update (read your writes)', () => {
  let nats: NatsServer;
  let bus: BusConnection;
  let kv: KV;

  beforeAll(async () => {
    nats = await startNats();
    bus = await connectBus({ servers: nats.url, name: 'test', logger });
    kv = await openProwJobBucket(bus.nc, { replicas: 1 });
  });

  afterAll(async () => {
    await bus?.close();
    await nats?.stop();
  });

  /** Creates a job and moves it to pending, through a store of its own; returns both revisions. */
  async function createdThenPending(name: string): Promise<{ created: number; pending: number }> {
    const writer = new ProwJobStore(kv);
    await writer.create(job(name));
    const created = (await kv.get(name))!.revision;
    await writer.update(name, (current) => transition(current, 'pending', new Date()));
    return { created, pending: (await kv.get(name))!.revision };
  }

  it('looks again when a get answers an older revision than the watch showed, and returns the newer one', async () => {
    const { created, pending } = await createdThenPending('lagging-once');
    const lag = { gets: 2, answer: (key: string) => kv.get(key, { revision: created }) };
    const store = new ProwJobStore(laggingBucket(kv, lag), { sleep: async () => undefined });
    const seen: number[] = [];
    const watcher = await store.watch((name, stored) => name === 'lagging-once' && stored && seen.push(stored.revision), logger);
    await waitFor('the watch to show the pending revision', () => seen.includes(pending));

    const read = await store.get('lagging-once');
    watcher.stop();
    expect([read?.revision, read?.job.status.state, lag.gets]).toEqual([pending, 'pending', -1]);
  });

  it('looks again when a get finds nothing of a job the watch showed created', async () => {
    await new ProwJobStore(kv).create(job('not-there-yet'));
    const lag = { gets: 1, answer: async () => null };
    const store = new ProwJobStore(laggingBucket(kv, lag), { sleep: async () => undefined });
    const seen: string[] = [];
    const watcher = await store.watch((name) => seen.push(name), logger);
    await waitFor('the watch to show the job', () => seen.includes('not-there-yet'));
    const read = await store.get('not-there-yet');
    watcher.stop();
    expect(read?.job.metadata.name).toBe('not-there-yet');
  });

  it('never decides "nothing to do" on a stale read: update() waits for the revision it saw', async () => {
    const { created, pending } = await createdThenPending('update-after-watch');
    const lag = { gets: 3, answer: (key: string) => kv.get(key, { revision: created }) };
    const store = new ProwJobStore(laggingBucket(kv, lag), { sleep: async () => undefined });
    const seen: number[] = [];
    const watcher = await store.watch((_, stored) => stored && seen.push(stored.revision), logger);
    await waitFor('the watch to show the pending revision', () => seen.includes(pending));
    // The change only applies to a pending job: decided on the stale (triggered) copy it would do nothing.
    const written = await store.update('update-after-watch', (current) => (current.status.state === 'pending' ? transition(current, 'success', new Date()) : undefined));
    watcher.stop();
    expect(written?.status.state).toBe('success');
  });

  it('refuses a read that stays older than what it saw, with StaleReadError, so the caller looks again later', async () => {
    const { created, pending } = await createdThenPending('lagging-for-ever');
    const lag = { gets: Infinity, answer: (key: string) => kv.get(key, { revision: created }) };
    const pauses: number[] = [];
    const store = new ProwJobStore(laggingBucket(kv, lag), { sleep: async (ms) => void pauses.push(ms) });
    const seen: number[] = [];
    const watcher = await store.watch((_, stored) => stored && seen.push(stored.revision), logger);
    await waitFor('the watch to show the pending revision', () => seen.includes(pending));
    const failure = store.get('lagging-for-ever');
    await expect(failure).rejects.toBeInstanceOf(StaleReadError);
    await expect(failure).rejects.toThrow(`ProwJob lagging-for-ever: NATS answered revision ${created}, older than revision ${pending} already seen; look again later`);
    watcher.stop();
    expect(pauses).toEqual([25, 50, 100, 200, 400, 800]);
  });

  it('answers "no such job" for a job it saw deleted, even once the delete marker is gone', async () => {
    const store = new ProwJobStore(kv);
    await store.create(job('deleted'));
    await store.delete('deleted');
    const seen: string[] = [];
    const watcher = await store.watch((name, stored) => !stored && seen.push(name), logger);
    await waitFor('the watch to show the delete', () => seen.includes('deleted'));
    await kv.purge('deleted');
    await expect(store.get('deleted')).resolves.toBeUndefined();
    watcher.stop();
  });
});
