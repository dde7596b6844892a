import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { Registry } from 'prom-client';
import { JENKINS_OPERATOR_LEASE, Lease, openLeaseBucket } from '@bowline/bus';
import { parseConfig, staticConfigSource } from '@bowline/config';
import { JenkinsClient } from '@bowline/jenkins';
import { createLogger } from '@bowline/observability';
import { newPresubmitJob, type ProwJob } from '@bowline/prowjob';
import { FakeJenkins, startProwJobBucket, waitFor, type ProwJobBucket } from '@bowline/testing';
import { JenkinsMasters } from '../src/jenkins-masters.js';
import { DESCRIPTIONS } from '../src/job-records.js';
import { JenkinsOperator } from '../src/operator.js';
import { runWhileLeaseHeld } from '../src/standby.js';

const CONFIG = parseConfig(
  `
presubmits:
  acme/widgets:
  - name: unit
    agent: jenkins
    context: ci/jenkins/unit
bowline:
  jenkins_operator:
    resync_period: 1h
`,
  'config.yaml',
);
const logger = createLogger({ service: 'test', level: 'silent' });

interface Replica {
  name: string;
  lease: Lease;
  operator: JenkinsOperator;
  exits: number[];
}

describe('two jenkins-operator replicas sharing one lease', () => {
  let bucket: ProwJobBucket;
  let jenkins: FakeJenkins;
  const replicas: Replica[] = [];
  let serial = 0;

  beforeAll(async () => {
    bucket = await startProwJobBucket();
    jenkins = await FakeJenkins.start({ jobs: ['unit'] });
  });

  afterEach(async () => {
    for (const replica of replicas.splice(0)) {
      await replica.operator.stop();
      await replica.lease.stop();
    }
  });

  afterAll(async () => {
    await jenkins?.close();
    await bucket?.stop();
  });

  async function startReplica(name: string, exitOnLoss = false): Promise<Replica> {
    const kv = await openLeaseBucket(bucket.nc, { replicas: 1, ttlMs: 1_500, bucket: 'operator_test_leases' });
    const lease = new Lease({ kv, name: JENKINS_OPERATOR_LEASE, holder: name, renewEveryMs: 300, logger });
    const config = staticConfigSource(CONFIG);
    const client = new JenkinsClient({ url: jenkins.url, auth: { kind: 'basic', user: 'bowline', token: 'jenkins-token' }, logger });
    const operator = new JenkinsOperator({
      store: bucket.store,
      masters: new JenkinsMasters({ config, defaultClient: client, logger }),
      config,
      logger,
      registry: new Registry(),
      mayAct: () => lease.isHeld(),
    });
    const replica: Replica = { name, lease, operator, exits: [] };
    await runWhileLeaseHeld(lease, operator, logger, { exitOnLoss, exit: (code) => replica.exits.push(code) });
    replicas.push(replica);
    return replica;
  }

  async function createJobs(count: number): Promise<ProwJob[]> {
    const presubmit = CONFIG.presubmits['acme/widgets']![0]!;
    const jobs: ProwJob[] = [];
    for (let i = 0; i < count; i += 1) {
      serial += 1;
      const job = newPresubmitJob(presubmit, {
        name: `standby-${process.pid}-${serial}`,
        refs: { org: 'acme', repo: 'widgets', base_ref: 'main', base_sha: 'b'.repeat(40), pulls: [{ number: serial, author: 'alice', sha: 'a'.repeat(40), ref: 'x', title: 't' }] },
        now: new Date(),
        cause: { event: 'issue_comment', deliveryId: `d-${serial}`, user: 'alice', comment: '/test all' },
      });
      expect(await bucket.store.create(job)).toBe(true);
      jobs.push(job);
    }
    return jobs;
  }

  async function waitEnqueued(jobs: ProwJob[]): Promise<void> {
    await waitFor('every job enqueued', async () => {
      const stored = await Promise.all(jobs.map((job) => bucket.store.get(job.metadata.name)));
      return stored.every((s) => s?.job.status.description === DESCRIPTIONS.enqueued);
    });
  }

  const buildRequestsFor = (jobs: ProwJob[]): string[] =>
    jenkins
      .requestsTo({ method: 'POST', path: '/job/unit/buildWithParameters' })
      .map((r) => new URLSearchParams(r.body).get('PROW_JOB_ID') ?? '')
      .filter((id) => jobs.some((job) => job.metadata.name === id));

  it('lets only the holder start builds, and the standby take over once the holder stops', async () => {
    const first = await startReplica('replica-a');
    const second = await startReplica('replica-b');
    expect([first.lease.isHeld(), second.lease.isHeld()]).toEqual([true, false]);

    const early = await createJobs(5);
    await waitEnqueued(early);
    // One request per job: the standby, watching the same bucket, started none of them again.
    expect(buildRequestsFor(early).sort()).toEqual(early.map((j) => j.metadata.name).sort());

    // The holder shuts down (a rolling update): it releases the lease, the standby takes it.
    await first.operator.stop();
    await first.lease.stop();
    await waitFor('the standby to hold the lease', () => second.lease.isHeld());
    const late = await createJobs(3);
    await waitEnqueued(late);
    expect(buildRequestsFor([...early, ...late])).toHaveLength(8);
    expect(first.exits).toEqual([]);
  });

  /** Someone deletes the key (an operator of NATS, or it expired while NATS was away) and another replica takes it. */
  async function takeLeaseElsewhere(): Promise<{ giveBack(): Promise<void> }> {
    const kv = await openLeaseBucket(bucket.nc, { replicas: 1, ttlMs: 1_500, bucket: 'operator_test_leases' });
    await kv.purge(JENKINS_OPERATOR_LEASE);
    await kv.create(JENKINS_OPERATOR_LEASE, 'replica-elsewhere');
    return { giveBack: async () => void (await kv.purge(JENKINS_OPERATOR_LEASE)) };
  }

  it('stops acting on Jenkins when its lease is taken, stands by in the same process, and acts again once it wins the lease back', async () => {
    const holder = await startReplica('replica-c');
    expect(holder.lease.isHeld()).toBe(true);

    const elsewhere = await takeLeaseElsewhere();
    await waitFor('the lease lost', () => !holder.lease.isHeld());
    const whileAway = await createJobs(2);
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(buildRequestsFor(whileAway)).toEqual([]);

    // The other holder goes away: this replica, still running, takes the lease and the jobs.
    await elsewhere.giveBack();
    await waitFor('the lease won back', () => holder.lease.isHeld());
    await waitEnqueued(whileAway);
    expect(buildRequestsFor(whileAway).sort()).toEqual(whileAway.map((j) => j.metadata.name).sort());
    expect(holder.exits).toEqual([]);
  });

  it('exits when its lease is taken if BOWLINE_EXIT_ON_LEASE_LOSS asks it to', async () => {
    const holder = await startReplica('replica-d', true);
    expect(holder.lease.isHeld()).toBe(true);

    const elsewhere = await takeLeaseElsewhere();
    await waitFor('the lease lost', () => holder.exits.length > 0);

    expect(holder.exits).toEqual([1]);
    expect(holder.lease.isHeld()).toBe(false);
    const jobs = await createJobs(2);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(buildRequestsFor(jobs)).toEqual([]);
    await elsewhere.giveBack();
  });
});
