import { Writable } from 'node:stream';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Registry } from 'prom-client';
import { Lease, openLeaseBucket, openProwJobBucket, openReporterClaims } from '@bowline/bus';
import { parseConfig, staticConfigSource } from '@bowline/config';
import { createGitHub } from '@bowline/github';
import { createLogger } from '@bowline/observability';
import { newPresubmitJob, prowJobName, ProwJobStore, transition, type ProwJob, type ProwJobState, type StoredProwJob } from '@bowline/prowjob';
import { FakeGitHub, startNats, waitFor, type NatsServer } from '@bowline/testing';
import { renderComment } from '../src/failure-comment.js';
import { PullRequestClaims } from '../src/pull-request-claim.js';
import { Reporter, REPORTER_NAME } from '../src/reporter.js';

// Reporter replicas as main.ts wires them, in this process: each with its own NATS connection,
// lease and claims, all on one nats-server and one GitHub stand-in (issue 15).
const CONFIG = parseConfig('presubmits:\n  acme/widgets:\n  - name: unit\n    agent: jenkins\n    context: ci/jenkins/unit\n', 'config.yaml');
const [UNIT] = CONFIG.presubmits['acme/widgets']!;
const ORG = 'acme';
const REPO = 'widgets';
const silent = createLogger({ service: 'test', level: 'silent' });

interface Replica {
  name: string;
  nc: NatsConnection;
  lease: Lease;
  reporter: Reporter;
  store: ProwJobStore;
  logs: string[];
  /** Turns this replica's view of its lease off (a lease lost between two writes). */
  cut(): void;
}

describe('reporter replicas', () => {
  let nats: NatsServer;
  let github: FakeGitHub;
  let admin: NatsConnection;
  let store: ProwJobStore;
  const replicas: Replica[] = [];
  let serial = 0;
  let pull = 0;
  /** Each test its own pull request and head commit: a job an earlier test left unreported is reported on its own commit. */
  let sha = '';

  beforeAll(async () => {
    nats = await startNats();
    admin = await connect({ servers: nats.url });
    store = new ProwJobStore(await openProwJobBucket(admin, { replicas: 1 }));
  });

  afterAll(async () => {
    await admin?.close();
    await nats?.stop();
  });

  beforeEach(async () => {
    github = await FakeGitHub.start();
    pull += 1;
    sha = String(pull).padStart(40, 'a');
    github.addPullRequest({ org: ORG, repo: REPO, number: pull, author: 'alice', headSha: sha, baseSha: 'b'.repeat(40) });
  });

  afterEach(async () => {
    for (const replica of replicas.splice(0)) {
      await replica.lease.stop();
      await replica.reporter.stop();
      await replica.nc.close();
    }
    await github.close();
  });

  async function startReplica(name: string, options: { wrapStore?: (store: ProwJobStore) => ProwJobStore } = {}): Promise<Replica> {
    const nc = await connect({ servers: nats.url });
    const logs: string[] = [];
    const logger = createLogger({ service: name, level: 'debug', destination: new Writable({ write: (chunk, _, done) => void (logs.push(String(chunk)), done()) }) });
    const ownStore = new ProwJobStore(await openProwJobBucket(nc, { replicas: 1 }));
    const replicaStore = options.wrapStore?.(ownStore) ?? ownStore;
    const lease = new Lease({ kv: await openLeaseBucket(nc, { replicas: 1, bucket: 'reporter_test_leases', ttlMs: 2000 }), name: 'reporter', holder: name, logger: silent, connection: nc });
    const claims = new PullRequestClaims({ bucket: await openReporterClaims(nc, { replicas: 1 }), holder: name, logger });
    let cut = false;
    const reporter = new Reporter({
      github: createGitHub({ apiUrl: github.url, token: 'test-token' }, silent),
      config: staticConfigSource(CONFIG),
      store: replicaStore,
      logger,
      registry: new Registry(),
      mayAct: () => !cut && lease.isHeld(),
      claims,
    });
    await reporter.start();
    await lease.start({ onAcquired: () => void reporter.catchUp() });
    const replica = { name, nc, lease, reporter, store: replicaStore, logs, cut: () => void (cut = true) };
    replicas.push(replica);
    return replica;
  }

  async function createJob(): Promise<ProwJob> {
    serial += 1;
    const job = newPresubmitJob(UNIT!, {
      name: prowJobName('replicas-test', String(process.pid), String(serial)),
      refs: { org: ORG, repo: REPO, base_ref: 'main', base_sha: 'b'.repeat(40), pulls: [{ number: pull, author: 'alice', sha }] },
      now: new Date(),
      cause: { event: 'issue_comment', deliveryId: `delivery-${serial}` },
    });
    await store.create(job);
    return job;
  }

  const moveTo = (job: ProwJob, state: ProwJobState, url?: string) => store.update(job.metadata.name, (current) => transition(current, state, new Date(), url ? { url } : {}));
  const reported = (job: ProwJob, state: ProwJobState) =>
    waitFor(`${state} reported`, async () => (await store.get(job.metadata.name))?.job.status.prev_report_states?.[REPORTER_NAME] === state);
  const states = () => github.statuses(ORG, REPO, sha).map((s) => s.state);

  it('posts each status once with two replicas: only the holder of the lease reports', async () => {
    const [a, b] = [await startReplica('a'), await startReplica('b')];
    const job = await createJob();
    await reported(job, 'triggered');
    await moveTo(job, 'pending', 'https://jenkins.example.com/job/unit/1/');
    await reported(job, 'pending');
    await moveTo(job, 'success');
    await reported(job, 'success');
    await Promise.all([a.reporter.idle(), b.reporter.idle()]);

    expect(states()).toEqual(['pending', 'pending', 'success']);
    expect(replicas.filter((r) => r.lease.isHeld())).toHaveLength(1);
  });

  it('reports, once it takes the lease over, what became due while the holder was away', async () => {
    const a = await startReplica('a');
    await waitFor('a to hold the lease', () => a.lease.isHeld());
    const b = await startReplica('b');
    const job = await createJob();
    await reported(job, 'triggered');
    a.cut();
    await moveTo(job, 'failure', 'https://jenkins.example.com/job/unit/1/');
    await a.reporter.idle();
    expect(states()).toEqual(['pending']);

    await a.lease.stop();
    await reported(job, 'failure');
    expect(states()).toEqual(['pending', 'failure']);
    expect(b.lease.isHeld()).toBe(true);
    expect(github.comments(ORG, REPO, pull)).toHaveLength(1);
  });

  it('writes no failure comment when its lease is lost after the status went out (fencing)', async () => {
    const a = await startReplica('a');
    await waitFor('a to hold the lease', () => a.lease.isHeld());
    const job = await createJob();
    await reported(job, 'triggered');
    // The lease is lost the moment GitHub takes the failure status.
    github.onRequest((request) => {
      if (request.method === 'POST' && request.path.includes('/statuses/') && String(request.body).includes('"failure"')) a.cut();
    });
    await moveTo(job, 'failure', 'https://jenkins.example.com/job/unit/1/');
    await waitFor('the failure status', () => states().includes('failure'));
    await a.reporter.idle();

    expect(github.requestsTo({ method: 'POST', path: `/repos/${ORG}/${REPO}/issues/${pull}/comments` })).toEqual([]);
    // Not marked reported: the next holder reports it (and writes the comment).
    expect((await store.get(job.metadata.name))?.job.status.prev_report_states?.[REPORTER_NAME]).toBe('triggered');
  });

  it('never posts a state older than the newest: a job that changed before its report went out is reported in its newer state', async () => {
    let changedUnderneath = false;
    const racing = (inner: ProwJobStore): ProwJobStore =>
      Object.assign(Object.create(inner) as ProwJobStore, {
        // The job moves on right after the reporter read it, before it posts: as when another
        // service writes between the reporter's read and its status.
        get: async (name: string): Promise<StoredProwJob | undefined> => {
          const read = await inner.get(name);
          if (read && read.job.status.state === 'pending' && !changedUnderneath) {
            changedUnderneath = true;
            await moveTo(read.job, 'success', 'https://jenkins.example.com/job/unit/1/');
          }
          return read;
        },
      });
    const job = await createJob();
    await moveTo(job, 'pending', 'https://jenkins.example.com/job/unit/1/');
    await startReplica('a', { wrapStore: racing });
    await reported(job, 'success');

    expect(changedUnderneath).toBe(true);
    expect(states()).toEqual(['success']);
  });

  it('sends a status once when writing it back to the ProwJob fails (a stream leader being elected), and writes it back on the retry', async () => {
    let failures = 0;
    const flaky = (inner: ProwJobStore): ProwJobStore =>
      Object.assign(Object.create(inner) as ProwJobStore, {
        update: async (...args: Parameters<ProwJobStore['update']>) => {
          if (failures < 2) {
            failures += 1;
            throw new Error('jetstream is not enabled');
          }
          return inner.update(...args);
        },
      });
    const job = await createJob();
    await startReplica('a', { wrapStore: flaky });
    await reported(job, 'triggered');

    expect(failures).toBe(2);
    expect(states()).toEqual(['pending']);
  });

  it('does not post again, on taking the lease over, a status the last holder posted but never wrote back', async () => {
    const neverWritesBack = (inner: ProwJobStore): ProwJobStore =>
      Object.assign(Object.create(inner) as ProwJobStore, {
        update: async () => {
          throw new Error('jetstream is not enabled');
        },
      });
    const a = await startReplica('a', { wrapStore: neverWritesBack });
    await waitFor('a to hold the lease', () => a.lease.isHeld());
    const job = await createJob();
    await waitFor('the status of a', () => states().length === 1);
    const b = await startReplica('b');
    await a.lease.stop();
    await a.reporter.stop();
    await reported(job, 'triggered');

    expect(b.lease.isHeld()).toBe(true);
    expect(states()).toEqual(['pending']);
  });

  it('takes a 404 on deleting an old failure comment for "already gone", logged at debug, and reports on', async () => {
    const copy = github.addComment(ORG, REPO, pull, github.botLogin, renderComment('alice', ['ci/jenkins/old | sha | [link]() | true | `/test old`']));
    // Someone deletes the old copy between the reporter's listing and its delete.
    github.inject({ method: 'DELETE', path: `/repos/${ORG}/${REPO}/issues/comments/${copy.id}` }, { status: 404, body: { message: 'Not Found' }, times: 1 });
    const job = await createJob();
    await moveTo(job, 'failure', 'https://jenkins.example.com/job/unit/1/');
    const a = await startReplica('a');
    await reported(job, 'failure');
    const lines = a.logs.map((line) => JSON.parse(line) as { level: number; msg: string });

    expect(lines.filter((l) => l.msg === 'old failure comment already gone').map((l) => l.level)).toEqual([20]);
    expect(lines.filter((l) => /gone\): report dropped/.test(l.msg))).toEqual([]);
    expect(states()).toEqual(['failure']);
  });
});
