import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { KV } from '@nats-io/kv';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { openReporterClaims } from '@bowline/bus';
import { createLogger } from '@bowline/observability';
import { startNats, type NatsServer } from '@bowline/testing';
import { ClaimBusyError, claimKey, PullRequestClaims } from '../src/pull-request-claim.js';

// The claim two reporter replicas take before writing one pull request's failure comment (issue
// 15), on a real bucket: each replica its own connection, as two pods would have.
const logger = createLogger({ service: 'test', level: 'silent' });
let serial = 0;
const nextPull = () => ({ org: 'acme', repo: 'widgets', number: (serial += 1) });

describe('claims on a pull request across reporter replicas', () => {
  let nats: NatsServer;
  const connections: NatsConnection[] = [];
  let bucketA: KV;
  let bucketB: KV;

  beforeAll(async () => {
    nats = await startNats();
    for (let i = 0; i < 2; i += 1) connections.push(await connect({ servers: nats.url }));
    bucketA = await openReporterClaims(connections[0]!, { replicas: 1 });
    bucketB = await openReporterClaims(connections[1]!, { replicas: 1 });
  });

  afterAll(async () => {
    for (const nc of connections) await nc.close();
    await nats?.stop();
  });

  it('lets one replica at a time write the comment of a pull request: the other waits for it', async () => {
    const a = new PullRequestClaims({ bucket: bucketA, holder: 'a', logger, pollMs: 20 });
    const b = new PullRequestClaims({ bucket: bucketB, holder: 'b', logger, pollMs: 20 });
    const pull = nextPull();
    const timeline: string[] = [];
    const work = (who: string) => async () => {
      timeline.push(`${who} starts`);
      await new Promise((resolve) => setTimeout(resolve, 150));
      timeline.push(`${who} ends`);
    };
    await Promise.all([a.withClaim(pull, work('a')), new Promise((resolve) => setTimeout(resolve, 20)).then(() => b.withClaim(pull, work('b')))]);

    expect(timeline).toEqual(['a starts', 'a ends', 'b starts', 'b ends']);
    // Given back: nothing is left claimed.
    expect((await bucketA.get(claimKey(pull)))?.operation).toBe('DEL');
  });

  it('lets two pull requests be written at the same time', async () => {
    const a = new PullRequestClaims({ bucket: bucketA, holder: 'a', logger });
    const b = new PullRequestClaims({ bucket: bucketB, holder: 'b', logger });
    let inside = 0;
    let most = 0;
    const work = async () => {
      most = Math.max(most, (inside += 1));
      await new Promise((resolve) => setTimeout(resolve, 100));
      inside -= 1;
    };
    await Promise.all([a.withClaim(nextPull(), work), b.withClaim(nextPull(), work)]);
    expect(most).toBe(2);
  });

  it("takes over the claim of a replica that died holding it, once the claim is stale, and only one replica does", async () => {
    const pull = nextPull();
    await bucketA.create(claimKey(pull), JSON.stringify({ holder: 'dead', at: Date.now() - 60_000 }));
    const takers = ['b', 'c'].map((holder) => new PullRequestClaims({ bucket: bucketB, holder, logger, staleAfterMs: 30_000, pollMs: 20 }));
    let inside = 0;
    let most = 0;
    const work = async () => {
      most = Math.max(most, (inside += 1));
      await new Promise((resolve) => setTimeout(resolve, 100));
      inside -= 1;
    };
    await Promise.all(takers.map((claims) => claims.withClaim(pull, work)));
    expect(most).toBe(1);
  });

  it('gives up on a claim held for longer than it waits, with ClaimBusyError naming the holder, and writes nothing', async () => {
    const pull = nextPull();
    await bucketA.create(claimKey(pull), JSON.stringify({ holder: 'a-slow-replica', at: Date.now() }));
    const b = new PullRequestClaims({ bucket: bucketB, holder: 'b', logger, waitMs: 300, pollMs: 50 });
    let ran = false;
    const attempt = b.withClaim(pull, async () => void (ran = true));
    await expect(attempt).rejects.toBeInstanceOf(ClaimBusyError);
    await expect(attempt).rejects.toThrow(`the failure comment of ${claimKey(pull)} is being written by a-slow-replica`);
    expect(ran).toBe(false);
  });
});
