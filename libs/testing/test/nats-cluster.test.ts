import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { startNatsCluster, type NatsCluster } from '../src/nats-cluster.js';

describe('startNatsCluster', () => {
  let cluster: NatsCluster;
  let nc: NatsConnection;

  beforeAll(async () => {
    cluster = await startNatsCluster({ size: 3 });
    nc = await connect({ servers: cluster.url.split(','), maxReconnectAttempts: -1, reconnectTimeWait: 100 });
  }, 60_000);

  afterAll(async () => {
    await nc?.close();
    await cluster?.stop();
  });

  it('runs three servers that hold a stream with three replicas', async () => {
    const jsm = await jetstreamManager(nc, { timeout: 10_000 });
    let info = await retry(() => jsm.streams.add({ name: 'THREE', subjects: ['three.>'], num_replicas: 3 }));
    for (let i = 0; i < 100 && (info.cluster?.replicas?.length ?? 0) < 2; i += 1) {
      await new Promise((r) => setTimeout(r, 100));
      info = await jsm.streams.info('THREE');
    }
    expect(cluster.members).toHaveLength(3);
    expect(info.cluster?.leader).toMatch(/^n[123]$/);
    expect(info.cluster?.replicas).toHaveLength(2);
  }, 60_000);

  it('keeps the stream writable when its leader is killed, and takes the member back', async () => {
    const jsm = await jetstreamManager(nc, { timeout: 10_000 });
    const js = jetstream(nc, { timeout: 10_000 });
    await retry(() => js.publish('three.before', 'x'));
    const leader = (await jsm.streams.info('THREE')).cluster?.leader;
    const member = cluster.members.find((m) => m.name === leader)!;
    await member.kill();
    expect(member.running()).toBe(false);
    await retry(() => js.publish('three.after', 'y'));
    const after = await retry(() => jsm.streams.info('THREE'));
    expect(after.cluster?.leader).not.toBe(leader);
    expect(after.state.messages).toBe(2);
    await member.restart();
    expect(member.running()).toBe(true);
  }, 60_000);
});

/** A cluster elects stream leaders after start and after a kill: the first calls may time out. */
async function retry<T>(call: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      return await call();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}
