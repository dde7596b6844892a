import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { KV } from '@nats-io/kv';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Registry } from 'prom-client';
import { createLogger } from '@bowline/observability';
import { startNats, waitFor, type NatsServer } from '@bowline/testing';
import { Lease } from '../src/lease.js';
import { leaseHolderId, openLeaseBucket, readLeaseSettings } from '../src/lease-bucket.js';

const logger = createLogger({ service: 'test', level: 'silent' });
const TTL_MS = 1000;

describe('Lease', () => {
  let nats: NatsServer;
  const connections: NatsConnection[] = [];
  const leases: Lease[] = [];
  let leaseName = 0;

  beforeAll(async () => {
    nats = await startNats();
  });

  afterEach(async () => {
    await Promise.all(leases.splice(0).map((lease) => lease.stop()));
    await Promise.all(connections.splice(0).map((nc) => (nc.isClosed() ? undefined : nc.close())));
  });

  afterAll(async () => {
    await nats?.stop();
  });

  /** A process of its own: its own connection, its own view of the bucket. */
  async function replica(ttlMs = TTL_MS): Promise<{ nc: NatsConnection; kv: KV }> {
    const nc = await connect({ servers: nats.url });
    connections.push(nc);
    return { nc, kv: await openLeaseBucket(nc, { replicas: 1, ttlMs, bucket: `test_leases_${ttlMs}` }) };
  }

  function newLease(kv: KV, name: string, holder: string, extra: { registry?: Registry; renewEveryMs?: number } = {}): Lease {
    const lease = new Lease({ kv, name, holder, renewEveryMs: extra.renewEveryMs ?? 200, logger, registry: extra.registry });
    leases.push(lease);
    return lease;
  }

  const nextName = () => `work-${(leaseName += 1)}`;

  it('is held by the first replica to start, while the second stands by', async () => {
    const name = nextName();
    const a = newLease((await replica()).kv, name, 'a');
    const b = newLease((await replica()).kv, name, 'b');

    await a.start();
    await b.start();

    expect(a.isHeld()).toBe(true);
    expect(b.isHeld()).toBe(false);
    await expect(a.whenHeld()).resolves.toBeUndefined();
  });

  it('stays with its holder across many TTLs while the holder renews it', async () => {
    const name = nextName();
    const a = newLease((await replica()).kv, name, 'a');
    const b = newLease((await replica()).kv, name, 'b');
    await a.start();
    await b.start();
    let alwaysWithA = true;
    const since = Date.now();

    await waitFor('three TTLs to pass', () => {
      if (!a.isHeld() || b.isHeld()) alwaysWithA = false;
      return Date.now() - since > 3 * TTL_MS;
    });

    expect(alwaysWithA).toBe(true);
  });

  it('passes to the standby at once when the holder stops, without waiting for the TTL', async () => {
    const name = nextName();
    const slowTtl = 10_000;
    const a = newLease((await replica(slowTtl)).kv, name, 'a');
    const b = newLease((await replica(slowTtl)).kv, name, 'b');
    let acquired = 0;
    await a.start();
    await b.start({ onAcquired: () => (acquired += 1) });

    await a.stop();

    // Well under the 10 s TTL: only a released key is taken this soon.
    await waitFor('b to take the lease', () => b.isHeld(), { timeoutMs: 3000 });
    expect(acquired).toBe(1);
    expect(a.isHeld()).toBe(false);
  });

  it('passes to the standby once the TTL ends when the holder dies without releasing it', async () => {
    const name = nextName();
    const holder = await replica();
    const a = newLease(holder.kv, name, 'a');
    const b = newLease((await replica()).kv, name, 'b');
    await a.start();
    await b.start();
    const crashedAt = Date.now();

    await holder.nc.close();

    const takenAfter = await waitFor('b to take the lease', () => b.isHeld() && Date.now() - crashedAt);
    expect(takenAfter).toBeGreaterThanOrEqual(TTL_MS - 100);
  });

  it('stops counting itself the holder within the TTL when it cannot reach NATS, before a standby can take over', async () => {
    const name = nextName();
    const holder = await replica();
    const lost: number[] = [];
    const a = newLease(holder.kv, name, 'a');
    await a.start({ onLost: () => lost.push(Date.now()) });
    const cutAt = Date.now();

    await holder.nc.close();

    await waitFor('a to give the lease up', () => !a.isHeld());
    expect(Date.now() - cutAt).toBeLessThanOrEqual(TTL_MS + 50);
    await waitFor('onLost', () => lost.length === 1);
  });

  it('tells its holder when another replica has taken the lease', async () => {
    const name = nextName();
    const { kv } = await replica();
    const lost: string[] = [];
    const a = newLease(kv, name, 'a');
    await a.start({ onLost: () => lost.push('a') });

    // What a standby does after the key expired: the key is someone else's now.
    await kv.purge(name);
    await kv.create(name, 'intruder');

    await waitFor('a to learn it lost the lease', () => lost.length > 0);
    expect(a.isHeld()).toBe(false);
  });

  it('shows whether it is held in bowline_lease_held', async () => {
    const name = nextName();
    const registry = new Registry();
    const a = newLease((await replica()).kv, name, 'a', { registry });
    const gauge = async () => (await registry.getSingleMetric('bowline_lease_held')!.get()).values.find((v) => v.labels.lease === name)?.value;

    expect(await gauge()).toBe(0);
    await a.start();
    expect(await gauge()).toBe(1);
    await a.stop();
    expect(await gauge()).toBe(0);
  });

  it('refuses a renewal interval that does not fit twice in the TTL', async () => {
    const a = newLease((await replica()).kv, nextName(), 'a', { renewEveryMs: 600 });

    await expect(a.start()).rejects.toThrow(/renewing every 600ms does not fit twice in its TTL of 1000ms/);
  });

  it('refuses a TTL too short to renew in', async () => {
    const nc = await connect({ servers: nats.url });
    connections.push(nc);

    await expect(openLeaseBucket(nc, { replicas: 1, ttlMs: 200, bucket: 'too_short' })).rejects.toThrow(/at least 1s/);
  });

  it('names its holder after the pod, with a random suffix so a restarted pod is a new holder', () => {
    const first = leaseHolderId({ HOSTNAME: 'bowline-sinker-7d9f-x2' });
    const second = leaseHolderId({ HOSTNAME: 'bowline-sinker-7d9f-x2' });

    expect(first).toMatch(/^bowline-sinker-7d9f-x2-[0-9a-f]{8}$/);
    expect(second).not.toBe(first);
  });

  /**
   * The real bucket, with NATS's answers to renewals (and creates) withheld while `silent` says so:
   * the request reaches the server or not, and the lease never hears back, as across an outage.
   */
  function withLostAnswers(kv: KV, silent: { update?: () => boolean; create?: () => boolean }): KV {
    return new Proxy(kv, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver) as unknown;
        if (property === 'update' && silent.update) {
          return (...args: Parameters<KV['update']>) => (silent.update!() ? new Promise(() => undefined) : target.update(...args));
        }
        if (property === 'create' && silent.create) {
          // Written, but the answer is lost: the key is ours and the lease does not know it yet.
          return async (...args: Parameters<KV['create']>) => {
            const revision = await target.create(...args);
            if (silent.create!()) throw new Error('TIMEOUT');
            return revision;
          };
        }
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
  }

  it('counts a renewal that gets no answer as unknown, not lost, and keeps the lease while its TTL lasts', async () => {
    const name = nextName();
    const { kv } = await replica();
    let silentUntil = 0;
    const lost: number[] = [];
    const a = newLease(withLostAnswers(kv, { update: () => Date.now() < silentUntil }), name, 'a', { renewEveryMs: 300 });
    const b = newLease((await replica()).kv, name, 'b');
    await a.start({ onLost: () => lost.push(Date.now()) });
    await b.start();

    // Two renewals in a row go unanswered: 600 ms of silence in a TTL of 1000 ms.
    silentUntil = Date.now() + 600;
    let alwaysHeld = true;
    await waitFor('the silence and two renewals after it', () => {
      if (!a.isHeld() || b.isHeld()) alwaysHeld = false;
      return Date.now() > silentUntil + 700;
    });

    expect(alwaysHeld).toBe(true);
    expect(lost).toEqual([]);
  });

  it('gives the lease up when its TTL runs out unanswered, then competes again and wins it back', async () => {
    const name = nextName();
    const { kv } = await replica();
    let silent = false;
    const events: string[] = [];
    const a = newLease(withLostAnswers(kv, { update: () => silent }), name, 'a', { renewEveryMs: 300 });
    await a.start({ onAcquired: () => events.push('acquired'), onLost: () => events.push('lost') });
    silent = true;
    const silentAt = Date.now();

    await waitFor('the lease given up', () => !a.isHeld());
    const gaveUpAfter = Date.now() - silentAt;
    silent = false;
    // The key expires on the server a moment later; the same process then takes it again.
    await waitFor('the lease won back', () => a.isHeld(), { timeoutMs: 5000 });

    expect(gaveUpAfter).toBeLessThanOrEqual(TTL_MS + 50);
    expect(events).toEqual(['acquired', 'lost', 'acquired']);
  });

  it('takes back a key it created whose answer was lost, instead of waiting for it to expire', async () => {
    const name = nextName();
    const { kv } = await replica(10_000);
    let answers = 0;
    const a = newLease(withLostAnswers(kv, { create: () => (answers += 1) === 1 }), name, 'a', { renewEveryMs: 300 });
    const b = newLease((await replica(10_000)).kv, name, 'b');

    await a.start();
    await b.start();
    expect(a.isHeld()).toBe(false);

    // Well inside the 10 s TTL of the key it wrote: it is recognised as ours, not waited out.
    await waitFor('a to hold the lease', () => a.isHeld(), { timeoutMs: 2000 });
    expect(b.isHeld()).toBe(false);
  });

  it.each([
    [{}, false],
    [{ BOWLINE_EXIT_ON_LEASE_LOSS: 'true' }, true],
    [{ BOWLINE_EXIT_ON_LEASE_LOSS: '1' }, true],
    [{ BOWLINE_EXIT_ON_LEASE_LOSS: 'false' }, false],
  ])('reads BOWLINE_EXIT_ON_LEASE_LOSS from %j: exit on loss %s', (env, exitOnLoss) => {
    expect(readLeaseSettings(env)).toEqual({ exitOnLoss });
  });

  it('refuses a BOWLINE_EXIT_ON_LEASE_LOSS that is not true or false, naming it', () => {
    expect(() => readLeaseSettings({ BOWLINE_EXIT_ON_LEASE_LOSS: 'sometimes' })).toThrow('BOWLINE_EXIT_ON_LEASE_LOSS is "sometimes": set it to true or false');
  });
});
