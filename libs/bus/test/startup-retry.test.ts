import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Kvm } from '@nats-io/kv';
import { connect, TimeoutError, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { freePort, startNats, waitForPort, type NatsServer } from '@bowline/testing';
import { isConsumerNotFound, isStreamNotFound, isTransientNatsError, isWrongLastSequence } from '../src/nats-errors.js';
import { retryStartup, StartupError } from '../src/startup-retry.js';
import { ensureEventsStream } from '../src/streams.js';

/** A clock that moves only when the retry sleeps, so budgets of 30 s take no time. */
function fakeTime(): { now: () => number; sleep: (ms: number) => Promise<void>; slept: number[] } {
  let t = 0;
  const slept: number[] = [];
  return { now: () => t, sleep: async (ms) => void (slept.push(ms), (t += ms)), slept };
}

describe('start-up calls to JetStream', () => {
  it('names the call, the object and the budget when a call keeps timing out: "cannot create stream EVENTS: timeout after 30 s"', async () => {
    const time = fakeTime();
    let calls = 0;
    const failure = retryStartup(
      'create stream EVENTS',
      async () => {
        calls += 1;
        throw new TimeoutError();
      },
      time,
    );
    await expect(failure).rejects.toThrow(/^cannot create stream EVENTS: timeout after 30 s$/);
    const error = await failure.catch((e: unknown) => e as StartupError);
    expect(error.cause).toBeInstanceOf(TimeoutError);
    expect(error.context).toMatchObject({ call: 'create stream EVENTS', attempts: calls });
    // Backoff from 100 ms, doubling up to 2 s, within the 30 s.
    expect(time.slept.slice(0, 6)).toEqual([100, 200, 400, 800, 1600, 2000]);
    expect(time.slept.reduce((a, b) => a + b, 0)).toBe(30_000);
  });

  it('succeeds once the cluster answers, after failures that pass', async () => {
    const time = fakeTime();
    let calls = 0;
    const result = await retryStartup('open bucket prowjobs', async () => (++calls < 4 ? Promise.reject(new TimeoutError()) : 'opened'), time);
    expect([result, calls]).toEqual(['opened', 4]);
  });

  it('does not retry a failure that will not pass, and still names the call', async () => {
    const time = fakeTime();
    let calls = 0;
    const refused = new Error('insufficient resources');
    const failure = retryStartup('create stream HISTORY', async () => {
      calls += 1;
      throw refused;
    }, time);
    await expect(failure).rejects.toThrow('cannot create stream HISTORY: insufficient resources');
    expect(await failure.catch((e: unknown) => (e as Error).cause)).toBe(refused);
    expect(calls).toBe(1);
  });

  describe('against a nats-server without JetStream (every JetStream call: no responders)', () => {
    let port: number;
    let stop: () => void;
    let nc: NatsConnection;

    beforeAll(async () => {
      port = await freePort();
      const server = spawn(process.env.NATS_SERVER_BIN ?? 'nats-server', ['-a', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
      stop = () => server.kill('SIGKILL');
      await waitForPort(port);
      nc = await connect({ servers: `nats://127.0.0.1:${port}` });
    });

    afterAll(async () => {
      await nc?.close();
      stop?.();
    });

    it('keeps trying for its budget and then says which stream and why', async () => {
      const startedAt = Date.now();
      await expect(ensureEventsStream(nc, { replicas: 1 }, { budgetMs: 1500 })).rejects.toThrow(/^cannot create stream EVENTS: no responders after 1.5 s$/);
      expect(Date.now() - startedAt).toBeGreaterThanOrEqual(1000);
    });
  });
});

describe('NATS errors, told apart by their type and JetStream code', () => {
  let nats: NatsServer;
  let nc: NatsConnection;

  beforeAll(async () => {
    nats = await startNats();
    nc = await connect({ servers: nats.url });
  });

  afterAll(async () => {
    await nc?.close();
    await nats?.stop();
  });

  it('knows a missing stream, a missing consumer, and a compare-and-set that lost', async () => {
    const jsm = await jetstreamManager(nc);
    const missingStream = await jsm.streams.info('NOPE').catch((e: unknown) => e);
    await ensureEventsStream(nc, { replicas: 1 });
    const missingConsumer = await jsm.consumers.info('EVENTS', 'nobody').catch((e: unknown) => e);
    const kv = await new Kvm(nc).create('errors_test');
    await kv.create('k', 'first');
    const existing = await kv.create('k', 'second').catch((e: unknown) => e);
    const stale = await kv.update('k', 'third', 999).catch((e: unknown) => e);

    expect([isStreamNotFound(missingStream), isConsumerNotFound(missingStream)]).toEqual([true, false]);
    expect([isConsumerNotFound(missingConsumer), isStreamNotFound(missingConsumer)]).toEqual([true, false]);
    expect([isWrongLastSequence(existing), isWrongLastSequence(stale), isWrongLastSequence(missingStream)]).toEqual([true, true, false]);
    expect([missingStream, missingConsumer, existing, stale].map(isTransientNatsError)).toEqual([false, false, false, false]);
    // Wrapped by Bowline, as errors travel up: the cause is looked at.
    expect(isWrongLastSequence(new Error('cannot update ProwJob x', { cause: stale }))).toBe(true);
  });
});
