import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { Kvm, type KV } from '@nats-io/kv';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Registry } from 'prom-client';
import { DEFAULT_LEASE_TTL_MS, JENKINS_OPERATOR_LEASE, Lease, LEASES_BUCKET, openLeaseBucket, openProwJobBucket } from '@bowline/bus';
import { parseConfig, staticConfigSource } from '@bowline/config';
import { JenkinsClient } from '@bowline/jenkins';
import { createLogger } from '@bowline/observability';
import { newPresubmitJob, ProwJobStore, type ProwJob } from '@bowline/prowjob';
import { FakeJenkins, startNats, waitFor, type NatsServer } from '@bowline/testing';
import { JenkinsMasters } from '../src/jenkins-masters.js';
import { JenkinsOperator } from '../src/operator.js';
import { runWhileLeaseHeld } from '../src/standby.js';

// Two jenkins-operator replicas, each with its own NATS connection, the production lease timing
// (DEFAULT_LEASE_TTL_MS), and builds running in Jenkins while the nats-server goes away and comes
// back on the same port with the same store (issue 14).
const CONFIG = parseConfig(
  `
presubmits:
  acme/widgets:
  - name: unit
    agent: jenkins
    context: ci/jenkins/unit
bowline:
  jenkins_operator:
    resync_period: 1s
`,
  'config.yaml',
);

interface Replica {
  name: string;
  nc: NatsConnection;
  lease: Lease;
  operator: JenkinsOperator;
  exits: number[];
  said(msg: string): number;
}

describe('jenkins-operator replicas through a NATS outage', () => {
  let nats: NatsServer;
  let jenkins: FakeJenkins;
  let admin: NatsConnection;
  let leases: KV;
  const replicas: Replica[] = [];
  let serial = 0;

  beforeEach(async () => {
    nats = await startNats();
    jenkins = await FakeJenkins.start({ jobs: ['unit'] });
    // Builds start at once and run for a minute: they are in flight all through the outage.
    jenkins.autoRun({ startAfterMs: 100, finishAfterMs: 60_000, result: () => 'SUCCESS' });
    admin = await connect({ servers: nats.url, maxReconnectAttempts: -1, reconnectTimeWait: 250 });
    leases = await openLeaseBucket(admin, { replicas: 1 });
  });

  afterEach(async () => {
    for (const replica of replicas.splice(0)) {
      await replica.operator.stop();
      await replica.lease.stop();
      await replica.nc.close();
    }
    await admin?.close();
    await jenkins?.close();
    await nats?.stop();
  });

  /** A replica as main.ts builds one, in this process: its own connection, logger and lease. */
  async function startReplica(name: string): Promise<Replica> {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push((JSON.parse(line) as { msg: string }).msg);
        done();
      },
    });
    const logger = createLogger({ service: `operator-${name}`, level: 'info', destination });
    const nc = await connect({ servers: nats.url, maxReconnectAttempts: -1, reconnectTimeWait: 250 });
    const kv = await openLeaseBucket(nc, { replicas: 1 });
    const lease = new Lease({ kv, name: JENKINS_OPERATOR_LEASE, holder: name, logger, connection: nc });
    const config = staticConfigSource(CONFIG);
    const client = new JenkinsClient({ url: jenkins.url, auth: { kind: 'basic', user: 'bowline', token: 'jenkins-token' }, logger });
    const operator = new JenkinsOperator({
      store: new ProwJobStore(await openProwJobBucket(nc, { replicas: 1 })),
      masters: new JenkinsMasters({ config, defaultClient: client, logger }),
      config,
      logger,
      registry: new Registry(),
      mayAct: () => lease.isHeld(),
    });
    const replica: Replica = { name, nc, lease, operator, exits: [], said: (msg) => lines.filter((l) => l === msg).length };
    await runWhileLeaseHeld(lease, operator, logger, { exitOnLoss: false, exit: (code) => replica.exits.push(code) });
    replicas.push(replica);
    return replica;
  }

  /**
   * Creates jobs as the planner would, on a connection of their own: one opened before the outage
   * may still be reconnecting, and a request it buffers meanwhile can go unanswered.
   */
  async function createJobs(count: number): Promise<ProwJob[]> {
    const planner = await connect({ servers: nats.url });
    try {
      return await createJobsOn(new ProwJobStore(await openProwJobBucket(planner, { replicas: 1 })), count);
    } finally {
      await planner.close();
    }
  }

  async function createJobsOn(store: ProwJobStore, count: number): Promise<ProwJob[]> {
    const presubmit = CONFIG.presubmits['acme/widgets']![0]!;
    const jobs: ProwJob[] = [];
    for (let i = 0; i < count; i += 1) {
      serial += 1;
      const job = newPresubmitJob(presubmit, {
        name: `outage-${process.pid}-${serial}`,
        refs: { org: 'acme', repo: 'widgets', base_ref: 'main', base_sha: 'b'.repeat(40), pulls: [{ number: serial, author: 'alice', sha: 'a'.repeat(40), ref: 'x', title: 't' }] },
        now: new Date(),
        cause: { event: 'issue_comment', deliveryId: `d-${serial}`, user: 'alice', comment: '/test all' },
      });
      expect(await store.create(job)).toBe(true);
      jobs.push(job);
    }
    return jobs;
  }

  /** How many times Jenkins was asked to build each job. */
  const buildRequests = (jobs: ProwJob[]): number[] => {
    const ids = jenkins.requestsTo({ method: 'POST', path: '/job/unit/buildWithParameters' }).map((r) => new URLSearchParams(r.body).get('PROW_JOB_ID'));
    return jobs.map((job) => ids.filter((id) => id === job.metadata.name).length);
  };

  const allStartedOnce = (jobs: ProwJob[]) => waitFor('one build for each job', () => buildRequests(jobs).every((n) => n === 1), { timeoutMs: 20_000 });

  /** Samples who holds the lease every 50 ms until stopped. */
  function watchHolders(): { stop(): Set<string> } {
    const seen = new Set<string>();
    const timer = setInterval(() => seen.add(replicas.map((r) => `${r.name}:${r.lease.isHeld()}`).join(',')), 50);
    return {
      stop: () => {
        clearInterval(timer);
        return seen;
      },
    };
  }

  it('keeps the lease through an outage of 3 s, renews the moment NATS is back, and starts every job once', async () => {
    const a = await startReplica('a');
    const b = await startReplica('b');
    const before = await createJobs(5);
    await allStartedOnce(before);
    const holders = watchHolders();
    const revisionBefore = (await leases.get(JENKINS_OPERATOR_LEASE))!.revision;

    await nats.kill();
    await new Promise((resolve) => setTimeout(resolve, 3000));
    await nats.restart();
    const backAt = Date.now();
    // Read on a new connection each time: a request the old one sent across the restart can go
    // unanswered until its own timeout, which would measure the reader, not the lease.
    const renewedAfter = await waitFor('a renewal after the outage', async () => {
      const probe = await connect({ servers: nats.url });
      try {
        const entry = await (await new Kvm(probe).open(LEASES_BUCKET)).get(JENKINS_OPERATOR_LEASE);
        return entry !== null && entry.revision > revisionBefore ? Date.now() - backAt : false;
      } finally {
        await probe.close();
      }
    });
    const after = await createJobs(3);
    await allStartedOnce(after);

    expect([...holders.stop()]).toEqual(['a:true,b:false']);
    // At once, not at the next beat of a renewal interval (5 s).
    expect(renewedAfter).toBeLessThan(DEFAULT_LEASE_TTL_MS / 3 - 1000);
    expect(buildRequests([...before, ...after])).toEqual([...before, ...after].map(() => 1));
    expect([a.said('lease lost: standing by and competing for it again'), b.said('lease acquired')]).toEqual([0, 0]);
    expect([...a.exits, ...b.exits]).toEqual([]);
  }, 60_000);

  it('hands the lease over once after an outage of 20 s, longer than its TTL, and starts no job twice', async () => {
    const a = await startReplica('a');
    const b = await startReplica('b');
    const before = await createJobs(5);
    await allStartedOnce(before);

    await nats.kill();
    const killedAt = Date.now();
    // The holder stops acting when its TTL runs out, while NATS is still away.
    await waitFor('the holder to give the lease up', () => !a.lease.isHeld(), { timeoutMs: DEFAULT_LEASE_TTL_MS + 2000 });
    const gaveUpAfter = Date.now() - killedAt;
    await new Promise((resolve) => setTimeout(resolve, 20_000 - gaveUpAfter));
    await nats.restart();
    const holder = await waitFor('a replica to hold the lease', () => replicas.find((r) => r.lease.isHeld()), { timeoutMs: 20_000 });
    const after = await createJobs(3);
    await allStartedOnce(after);
    // Another look, a resync later: nothing was started again by either replica.
    await new Promise((resolve) => setTimeout(resolve, 1500));

    expect(gaveUpAfter).toBeLessThanOrEqual(DEFAULT_LEASE_TTL_MS + 500);
    expect(a.said('lease lost: standing by and competing for it again')).toBe(1);
    // One acquisition after the outage, by whichever replica asked first; neither exited.
    expect(a.said('lease acquired') + b.said('lease acquired')).toBe(2);
    expect(replicas.filter((r) => r.lease.isHeld()).map((r) => r.name)).toEqual([holder.name]);
    expect(buildRequests([...before, ...after])).toEqual([...before, ...after].map(() => 1));
    expect([...a.exits, ...b.exits]).toEqual([]);
  }, 90_000);
});
