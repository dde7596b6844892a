import { Writable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Registry } from 'prom-client';
import { HISTORY_STREAM, openLeaseBucket, openProwJobBucket, readStream, SINKER_LEASE } from '@bowline/bus';
import { staticConfigSource } from '@bowline/config';
import { createLogger } from '@bowline/observability';
import { ProwJobStore, type HistoryRecord, type ProwJob } from '@bowline/prowjob';
import { startNats, waitFor, type NatsServer } from '@bowline/testing';
import { startSinker, type RunningSinker } from '../src/start-sinker.js';
import { CONFIG, HOUR, makeJob, NOW } from './jobs.js';

const LEASE_TTL_MS = 1000;

interface LogLine {
  msg: string;
  prowjob?: string;
}

/** One sinker process: its own NATS connection, logger and metrics. */
interface Replica {
  name: string;
  nc: NatsConnection;
  running: RunningSinker;
  registry: Registry;
  lines: LogLine[];
  /** Names of the jobs this replica says it deleted, and ended. */
  deleted(): string[];
  ended(): string[];
  /** Dies without a word: no release of the lease, no clean stop. */
  crash(): Promise<void>;
}

describe('sinker replicas', () => {
  let nats: NatsServer;
  let store: ProwJobStore;
  let admin: NatsConnection;
  const replicas: Replica[] = [];
  let bucketCount = 0;
  let leaseBucket: string;

  beforeAll(async () => {
    nats = await startNats();
    admin = await connect({ servers: nats.url });
    store = new ProwJobStore(await openProwJobBucket(admin, { replicas: 1 }));
  });

  afterEach(async () => {
    const stopping = replicas.splice(0);
    await Promise.all(stopping.map((r) => r.running.stop().catch(() => undefined)));
    await Promise.all(stopping.map((r) => r.nc.close().catch(() => undefined)));
    for (const { job } of await store.list()) await store.delete(job.metadata.name);
  });

  afterAll(async () => {
    await admin?.close();
    await nats?.stop();
  });

  /** Starts a replica; `onLine` sees each line it logs, as it is logged. */
  async function startReplica(name: string, onLine?: (line: LogLine, self: Replica) => void, exits?: number[]): Promise<Replica> {
    const lines: LogLine[] = [];
    const replica = { name, lines } as Partial<Replica> & { lines: LogLine[] };
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const text of chunk.toString().split('\n').filter(Boolean)) {
          const line = JSON.parse(text) as LogLine;
          lines.push(line);
          onLine?.(line, replica as Replica);
        }
        done();
      },
    });
    const logger = createLogger({ service: `sinker-${name}`, level: 'info', destination });
    const nc = await connect({ servers: nats.url, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
    const registry = new Registry();
    const running = await startSinker({
      nc,
      streams: { replicas: 1 },
      config: staticConfigSource(CONFIG),
      logger,
      registry,
      now: () => NOW,
      lease: { holder: name, ttlMs: LEASE_TTL_MS, renewEveryMs: 200, bucket: leaseBucket },
      historyAckWaitMs: 1000,
      exitOnLoss: exits !== undefined,
      exit: (code) => exits?.push(code),
    });
    const said = (msg: string) => () => lines.filter((l) => l.msg === msg).map((l) => l.prowjob!);
    Object.assign(replica, {
      nc,
      running,
      registry,
      deleted: said('old ProwJob deleted'),
      ended: said('stuck ProwJob ended as error'),
      crash: async () => {
        await nc.close();
      },
    });
    replicas.push(replica as Replica);
    return replica as Replica;
  }

  /** A fresh lease bucket per test, so no test waits for another's lease to expire. */
  function useNewLeaseBucket(): void {
    bucketCount += 1;
    leaseBucket = `test_leases_${bucketCount}`;
  }

  async function createJobs(count: number, spec: Parameters<typeof makeJob>[0]): Promise<ProwJob[]> {
    const jobs = Array.from({ length: count }, () => makeJob(spec));
    for (const job of jobs) expect(await store.create(job)).toBe(true);
    return jobs;
  }

  const names = (jobs: ProwJob[]) => jobs.map((j) => j.metadata.name).sort();
  const sorted = (list: string[]) => [...list].sort();

  async function historyOf(jobs: ProwJob[]): Promise<Map<string, HistoryRecord[]>> {
    const wanted = new Set(names(jobs));
    const byJob = new Map<string, HistoryRecord[]>();
    for (const message of await readStream(admin, HISTORY_STREAM)) {
      const record = JSON.parse(message.text) as HistoryRecord;
      if (wanted.has(record.prowjob)) byJob.set(record.prowjob, [...(byJob.get(record.prowjob) ?? []), record]);
    }
    return byJob;
  }

  it('lets only the lease holder delete and end jobs, and does all the work exactly once', async () => {
    useNewLeaseBucket();
    const old = await createJobs(20, { startedAgoMs: 2 * HOUR, state: 'success' });
    const stuck = await createJobs(5, { startedAgoMs: 49 * HOUR, state: 'pending' });
    const fresh = await createJobs(5, { startedAgoMs: 10 * 60_000, state: 'failure' });

    const [a, b] = await Promise.all([startReplica('a'), startReplica('b')]);
    await waitFor('every old job deleted', async () => (await store.list()).length === stuck.length + fresh.length);
    await waitFor('every stuck job ended', async () => (await store.list()).filter((s) => s.job.status.state === 'error').length === stuck.length);
    // Both replicas pass again: the standby does nothing; the holder deletes the jobs it ended
    // (they started 49 hours ago, past max_prowjob_age), once their end is in the history.
    await Promise.all([a.running.sinker.pass(), b.running.sinker.pass()]);

    const holder = a.running.lease.isHeld() ? a : b;
    const standby = holder === a ? b : a;
    expect(sorted(holder.deleted())).toEqual(names([...old, ...stuck]));
    expect(sorted(holder.ended())).toEqual(names(stuck));
    expect(names((await store.list()).map((s) => s.job))).toEqual(names(fresh));
    expect(standby.deleted()).toEqual([]);
    expect(standby.ended()).toEqual([]);
    const held = async (r: Replica) => (await r.registry.getSingleMetric('bowline_lease_held')!.get()).values[0]?.value;
    expect([await held(holder), await held(standby)]).toEqual([1, 0]);
    const history = await historyOf([...old, ...stuck]);
    expect(names(old).map((n) => history.get(n)?.map((r) => r.state).join())).toEqual(names(old).map(() => 'success'));
    expect(names(stuck).map((n) => history.get(n)?.map((r) => r.state).join())).toEqual(names(stuck).map(() => 'pending,error'));
  });

  it('hands a pass stopped part way to the standby, which finishes it with no job handled twice', async () => {
    useNewLeaseBucket();
    const old = await createJobs(30, { startedAgoMs: 2 * HOUR, state: 'failure' });
    let stopping: Promise<void> | undefined;
    const a = await startReplica('a', (line, self) => {
      // A rolling update stops the holder after its tenth deletion.
      if (line.msg === 'old ProwJob deleted' && self.deleted().length === 10) stopping ??= self.running.stop();
    });
    await a.running.lease.whenHeld();
    const b = await startReplica('b');

    await waitFor('every old job deleted', async () => (await store.list()).length === 0);
    await stopping;

    expect(a.deleted()).toHaveLength(10);
    expect(b.deleted()).toHaveLength(20);
    expect(sorted([...a.deleted(), ...b.deleted()])).toEqual(names(old));
    expect(a.lines.map((l) => l.msg)).toContain('sinker pass interrupted: the next holder finishes it');
    expect(a.lines.map((l) => l.msg)).toContain('lease released');
    const history = await historyOf(old);
    expect(names(old).map((n) => history.get(n)?.length)).toEqual(names(old).map(() => 1));
  });

  it('hands the work of a holder that dies mid-pass to the standby once its lease expires', async () => {
    useNewLeaseBucket();
    const old = await createJobs(30, { startedAgoMs: 2 * HOUR, state: 'aborted' });
    let crashedAt = 0;
    let crashing: Promise<void> | undefined;
    const a = await startReplica('a', (line, self) => {
      if (line.msg === 'old ProwJob deleted' && self.deleted().length === 10 && !crashing) {
        crashedAt = Date.now();
        crashing = self.crash();
      }
    });
    await a.running.lease.whenHeld();
    const b = await startReplica('b');

    await b.running.lease.whenHeld();
    const takenOverAfter = Date.now() - crashedAt;
    await waitFor('every old job deleted', async () => (await store.list()).length === 0);

    // Nobody released the lease: the standby waited for it to expire by the server's clock.
    expect(takenOverAfter).toBeGreaterThanOrEqual(LEASE_TTL_MS - 250);
    expect(a.deleted().length).toBeGreaterThanOrEqual(10);
    // The crash closes the holder's connection with its next deletion possibly in flight (it
    // deletes one job at a time): the server may carry it out while the holder never hears back,
    // so neither replica logs it. Every job is gone (above), none was deleted twice, and at most
    // that one deletion went unlogged.
    const logged = [...a.deleted(), ...b.deleted()];
    expect(new Set(logged).size).toBe(logged.length);
    expect(names(old)).toEqual(expect.arrayContaining(logged));
    expect(logged.length).toBeGreaterThanOrEqual(old.length - 1);
    const history = await historyOf(old);
    expect(names(old).map((n) => history.get(n)?.length)).toEqual(names(old).map(() => 1));
  });

  it('finishes the work after the NATS server itself goes down mid-pass and comes back', async () => {
    useNewLeaseBucket();
    const old = await createJobs(30, { startedAgoMs: 2 * HOUR, state: 'success' });
    let killing: Promise<void> | undefined;
    const a = await startReplica('a', (line, self) => {
      if (line.msg === 'old ProwJob deleted' && self.deleted().length === 10) killing ??= nats.kill();
    });
    await a.running.lease.whenHeld();
    const b = await startReplica('b');

    await waitFor('the holder’s tenth deletion', () => killing !== undefined);
    await killing;
    await nats.restart();
    // A restarted server keeps the lease key until it expires; whoever holds it next runs a pass.
    await waitFor('a replica to hold the lease after the restart', () => a.running.lease.isHeld() || b.running.lease.isHeld(), { timeoutMs: 20_000 });
    for (const r of [a, b]) r.running.sinker.kick();
    await waitFor('every old job deleted', async () => (await store.list().catch(() => [undefined])).length === 0, { timeoutMs: 20_000 });

    expect(sorted([...a.deleted(), ...b.deleted()])).toEqual(names(old));
    const history = await historyOf(old);
    expect(names(old).map((n) => history.get(n)?.length)).toEqual(names(old).map(() => 1));
  });

  /** Another process takes the key, as after the holder's TTL ran out while NATS was away. */
  async function takeLeaseElsewhere(): Promise<void> {
    const kv = await openLeaseBucket(admin, { replicas: 1, ttlMs: LEASE_TTL_MS, bucket: leaseBucket });
    await kv.purge(SINKER_LEASE);
    await kv.create(SINKER_LEASE, 'elsewhere');
  }

  it('stands by when its lease is taken and, still running, takes it back once the other holder is gone', async () => {
    useNewLeaseBucket();
    const a = await startReplica('a');
    await a.running.lease.whenHeld();

    await takeLeaseElsewhere();
    await waitFor('the lease lost', () => !a.running.lease.isHeld());
    // Nobody renews the other key: it expires, and the replica that lost the lease wins it again.
    await waitFor('the lease won back', () => a.running.lease.isHeld(), { timeoutMs: 5000 });
    const old = await createJobs(3, { startedAgoMs: 2 * HOUR, state: 'success' });
    a.running.sinker.kick();

    await waitFor('its passes again', async () => (await store.list()).length === 0);
    expect(sorted(a.deleted())).toEqual(names(old));
    expect(a.lines.map((l) => l.msg)).toContain('lease lost: standing by and competing for it again');
  });

  it('exits when its lease is taken if BOWLINE_EXIT_ON_LEASE_LOSS asks it to', async () => {
    useNewLeaseBucket();
    const exits: number[] = [];
    const a = await startReplica('a', undefined, exits);
    await a.running.lease.whenHeld();

    await takeLeaseElsewhere();

    await waitFor('the exit', () => exits.length > 0);
    expect(exits).toEqual([1]);
  });
});
