import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { Registry } from 'prom-client';
import { staticConfigSource, type Config } from '@bowline/config';
import { createLogger } from '@bowline/observability';
import { transition, type ProwJob } from '@bowline/prowjob';
import { isValidProwJob, KubeApiServer, prowJobSchemaProblems, startProwJobBucket, waitFor, type KubeObject, type ProwJobBucket } from '@bowline/testing';
import { clientNodeProwJobApi, loadKubeConfig } from '../src/kube-api.js';
import { startKubeBridge, type RunningKubeBridge } from '../src/start-kube-bridge.js';
import { clusterProwJob, CONFIG, kubeconfigFile, NOW, NS, periodic, presubmit, TOKEN } from './fixtures.js';

// kube-bridge against a real nats-server and the test Kubernetes API server, through
// @kubernetes/client-node: every assertion is on what the API server stored or was sent.
const logger = createLogger({ service: 'test', level: process.env.TEST_LOG_LEVEL ?? 'silent' });
const PATH = `/apis/prow.k8s.io/v1/namespaces/${NS}/prowjobs`;

describe('kube-bridge', () => {
  let bucket: ProwJobBucket;
  let server: KubeApiServer;
  let kubeconfig: string;
  let running: RunningKubeBridge | undefined;

  beforeAll(async () => {
    bucket = await startProwJobBucket();
    server = await KubeApiServer.start({ tokens: [TOKEN], bookmarkEveryMs: 200 });
    kubeconfig = kubeconfigFile(server);
  });
  afterAll(async () => {
    await server?.close();
    await bucket?.stop();
  });
  beforeEach(async () => {
    for (const { job } of await bucket.store.list()) await bucket.kv.purge(job.metadata.name);
    for (const object of server.store.list(NS)) server.store.delete(NS, object.metadata.name!);
    running = await start();
  });
  afterEach(async () => {
    await running?.stop();
    running = undefined;
  });

  async function start(config: Config = CONFIG, holder?: string): Promise<RunningKubeBridge> {
    const bridge = await startKubeBridge({
      nc: bucket.nc,
      streams: { replicas: 1 },
      config: staticConfigSource(config),
      connect: (namespace) => clientNodeProwJobApi(loadKubeConfig({ KUBECONFIG: kubeconfig }), namespace),
      logger,
      registry: new Registry(),
      checkEveryMs: 200,
      lease: { holder, bucket: 'kube_bridge_test_leases', ttlMs: 3000 },
      bridge: { reconnectEveryMs: 200, maxBackoffMs: 500, now: () => NOW },
    });
    await waitFor('the bridge to list the cluster', () => bridge.current()?.isWriting() === true);
    return bridge;
  }

  const resource = (name: string): KubeObject | undefined => server.store.get(NS, name);
  const kvRevisionOf = (name: string): number => Number(resource(name)?.metadata.annotations?.['bowline.dev/kv-revision'] ?? 0);
  const statusOf = (name: string) => resource(name)?.status as Record<string, unknown> | undefined;
  const writes = (name?: string) => server.requests.filter((r) => ['POST', 'PATCH', 'PUT', 'DELETE'].includes(r.method) && (!name || r.path === `${PATH}/${name}` || (r.method === 'POST' && r.body.includes(name))));

  async function move(job: ProwJob, state: ProwJob['status']['state'], fields: Parameters<typeof transition>[3] = {}): Promise<number> {
    await bucket.store.update(job.metadata.name, (current) => transition(current, state, new Date(NOW.getTime() + 60_000), fields));
    return (await bucket.store.get(job.metadata.name))!.revision;
  }

  async function inStep(job: ProwJob): Promise<void> {
    const revision = (await bucket.store.get(job.metadata.name))!.revision;
    await waitFor(`${job.metadata.name} at bucket revision ${revision} in the cluster`, () => kvRevisionOf(job.metadata.name) === revision);
  }

  describe('mirrors the bucket into the cluster', () => {
    it("writes a presubmit as Prow's ProwJob: Prow's labels and annotations, the spec, the status, valid against Prow's CRD", async () => {
      const job = presubmit(7);
      await bucket.store.create(job);
      await inStep(job);
      const object = resource(job.metadata.name)!;
      expect(prowJobSchemaProblems(object)).toEqual([]);
      expect(object.metadata.labels).toEqual({
        'created-by-prow': 'true',
        'prow.k8s.io/type': 'presubmit',
        'prow.k8s.io/job': 'unit',
        // "ci/jenkins/unit" is no valid label value: Prow keeps its last path element.
        'prow.k8s.io/context': 'unit',
        'prow.k8s.io/refs.org': 'acme',
        'prow.k8s.io/refs.repo': 'widgets',
        'prow.k8s.io/refs.base_ref': 'master',
        'prow.k8s.io/refs.pull': '7',
        'prow.k8s.io/is-optional': 'false',
        'prow.k8s.io/id': job.metadata.name,
        'prow.k8s.io/build-id': job.status.build_id,
        team: 'widgets',
        'bowline.dev/origin': 'bowline',
      });
      expect(object.metadata.annotations).toMatchObject({ 'prow.k8s.io/job': 'unit', 'prow.k8s.io/context': 'ci/jenkins/unit', 'bowline.dev/triggered-by': 'alice' });
      expect(object.spec).toMatchObject({ type: 'presubmit', agent: 'jenkins', job: 'unit', context: 'ci/jenkins/unit', report: true, refs: { org: 'acme', pulls: [{ number: 7 }] } });
      expect(object.status).toEqual({ state: 'triggered', description: 'Job triggered.', startTime: NOW.toISOString(), build_id: job.status.build_id });
    });

    it("cuts a job name longer than a label allows as Prow does, keeps it whole in the annotation, and gives a periodic no refs", async () => {
      const job = periodic();
      await bucket.store.create(job);
      await inStep(job);
      const object = resource(job.metadata.name)!;
      expect(object.metadata.labels!['prow.k8s.io/job']).toBe(job.spec.job.slice(0, 63).replace(/[._-]+$/, ''));
      expect(object.metadata.annotations!['prow.k8s.io/job']).toBe(job.spec.job);
      expect((object.spec as Record<string, unknown>).refs).toBeUndefined();
      expect(object.metadata.labels!['prow.k8s.io/refs.org']).toBeUndefined();
      expect(isValidProwJob(object)).toBe(true);
    });

    it('follows the build: pending with its URL, then success with completionTime, each state valid against the CRD', async () => {
      const job = presubmit();
      await bucket.store.create(job);
      await inStep(job);
      await move(job, 'pending', { description: 'Jenkins job is running.', url: 'https://jenkins.example.com/job/unit/12/', jenkins_build_id: '12', pod_name: job.metadata.name });
      await inStep(job);
      expect(statusOf(job.metadata.name)).toMatchObject({ state: 'pending', url: 'https://jenkins.example.com/job/unit/12/', jenkins_build_id: '12', pendingTime: expect.any(String) });
      expect(isValidProwJob(resource(job.metadata.name))).toBe(true);
      await move(job, 'success', { description: 'Jenkins job succeeded.' });
      await inStep(job);
      expect(statusOf(job.metadata.name)).toMatchObject({ state: 'success', completionTime: expect.any(String) });
      expect(isValidProwJob(resource(job.metadata.name))).toBe(true);
    });

    it('writes nothing when nothing changed: not for another writer’s change to the resource, nor after its watch ended', async () => {
      const job = presubmit();
      await bucket.store.create(job);
      await inStep(job);
      const before = writes().length;
      // Prow's crier records a report: the bridge hears of the resource again, with the bucket unchanged.
      server.store.mergePatch(NS, job.metadata.name, { status: { prev_report_states: { 'github-reporter': 'triggered' } } });
      server.endWatches();
      await waitFor('the informer to watch again', () => server.requestsTo({ method: 'GET', path: PATH }).filter((r) => r.query.get('watch')).length >= 2);
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(writes().length).toBe(before);
    });

    it('deletes the resource when the sinker deletes the job from the bucket', async () => {
      const job = presubmit();
      await bucket.store.create(job);
      await inStep(job);
      await bucket.store.delete(job.metadata.name);
      await waitFor('the resource deleted', () => resource(job.metadata.name) === undefined);
      expect(writes(job.metadata.name).filter((r) => r.method === 'DELETE').map((r) => r.status)).toEqual([200]);
    });

    it('retries a stale write: a patch that loses to another writer gets 409, reads again and keeps both writes', async () => {
      const job = presubmit();
      await bucket.store.create(job);
      await inStep(job);
      // Prow's crier records what it reported, right before Bowline's next write lands.
      server.beforeNext({ method: 'PATCH', path: `${PATH}/${job.metadata.name}` }, () =>
        server.store.mergePatch(NS, job.metadata.name, { status: { prev_report_states: { 'github-reporter': 'triggered' } } }),
      );
      await move(job, 'pending', { description: 'Jenkins job is running.' });
      await inStep(job);
      expect(writes(job.metadata.name).filter((r) => r.method === 'PATCH').map((r) => r.status)).toEqual([409, 200]);
      expect(server.requestsTo({ method: 'GET', path: `${PATH}/${job.metadata.name}` }).length).toBeGreaterThanOrEqual(1);
      expect(statusOf(job.metadata.name)).toMatchObject({ state: 'pending', prev_report_states: { 'github-reporter': 'triggered' } });
    });

    it('lists anew when its watch ends on 410 Gone, and mirrors what changed meanwhile', async () => {
      const job = presubmit();
      await bucket.store.create(job);
      await inStep(job);
      // While the bridge cannot watch, someone changes the resource and the history is compacted:
      // the version the bridge resumes from is too old.
      const listsBefore = server.requestsTo({ method: 'GET', path: PATH }).filter((r) => !r.query.get('watch')).length;
      await server.goDown('refuse');
      server.store.mergePatch(NS, job.metadata.name, { metadata: { labels: { touched: 'yes' } } });
      server.compact();
      await server.comeBack();
      await waitFor('a watch answered with 410 Gone', () => server.requestsTo({ method: 'GET', path: PATH }).some((r) => r.query.get('watch') && Number(r.query.get('resourceVersion')) < server.store.oldestResourceVersion));
      await waitFor('a list after the 410', () => server.requestsTo({ method: 'GET', path: PATH }).filter((r) => !r.query.get('watch')).length > listsBefore);
      await move(job, 'pending');
      await inStep(job);
      expect(resource(job.metadata.name)!.metadata.labels).toMatchObject({ touched: 'yes' });
    });

    it.each([
      ['refuses connections', 'refuse'],
      ['answers 503', 'unavailable'],
    ] as const)('catches up after the API server %s: no job lost, none stale, the deleted one gone', async (_what, mode) => {
      const [a, b, gone] = [presubmit(), presubmit(), presubmit()];
      for (const job of [a, b, gone]) await bucket.store.create(job);
      for (const job of [a, b, gone]) await inStep(job);
      await server.goDown(mode);
      const late = presubmit();
      await bucket.store.create(late);
      await move(a, 'pending');
      await move(a, 'failure');
      await move(b, 'pending');
      await bucket.store.delete(gone.metadata.name);
      await new Promise((resolve) => setTimeout(resolve, 700));
      await server.comeBack();
      for (const job of [late, a, b]) await inStep(job);
      await waitFor('the deleted job gone from the cluster', () => resource(gone.metadata.name) === undefined);
      expect(statusOf(a.metadata.name)).toMatchObject({ state: 'failure' });
      expect(statusOf(b.metadata.name)).toMatchObject({ state: 'pending' });
      for (const job of [late, a, b]) expect(isValidProwJob(resource(job.metadata.name))).toBe(true);
    });
  });

  describe('imports Jenkins ProwJobs created in the cluster', () => {
    /**
     * Proves a negative without sleeping on faith: a Jenkins ProwJob created after `name` is
     * imported, so the bridge has seen `name` and decided on it (the informer delivers in order),
     * with a moment more for a decision running beside the marker's.
     */
    async function importedAfter(name: string): Promise<void> {
      const marker = `marker-after-${name}`;
      server.store.create(NS, clusterProwJob(marker) as KubeObject);
      await waitFor(`the marker ${marker} imported`, async () => (await bucket.store.get(marker)) !== undefined);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }

    it('imports one under the same name, once, and writes its status back as Prow’s jenkins-operator would', async () => {
      server.store.create(NS, clusterProwJob('from-prow-hook') as KubeObject);
      await waitFor('the job in the bucket', async () => (await bucket.store.get('from-prow-hook')) !== undefined);
      const imported = (await bucket.store.get('from-prow-hook'))!.job;
      expect(imported.spec).toMatchObject({ agent: 'jenkins', job: 'unit', report: true, refs: { org: 'acme', repo: 'widgets', pulls: [{ number: 9 }] } });
      expect(imported.metadata.annotations['bowline.dev/imported-from']).toBe(`${NS}/from-prow-hook`);
      await inStep(imported);
      // Bowline's jenkins-operator moves it; the bridge writes the status back.
      await move(imported, 'pending', { description: 'Jenkins job is running.', url: 'https://jenkins.example.com/job/unit/3/', jenkins_build_id: '3', pod_name: 'from-prow-hook' });
      await move(imported, 'success', { description: 'Jenkins job succeeded.' });
      await inStep(imported);
      const object = resource('from-prow-hook')!;
      expect(object.status).toMatchObject({ state: 'success', url: 'https://jenkins.example.com/job/unit/3/', jenkins_build_id: '3', completionTime: expect.any(String) });
      expect(object.metadata.labels!['bowline.dev/origin']).toBeUndefined();
      expect(object.spec).toEqual(clusterProwJob('from-prow-hook').spec);
      expect(isValidProwJob(object)).toBe(true);
      // The sinker deletes it from the bucket later: the resource stays (Prow's sinker owns it) and is not imported again.
      await bucket.store.delete('from-prow-hook');
      await importedAfter('from-prow-hook');
      expect(resource('from-prow-hook')).toBeDefined();
      expect(await bucket.store.get('from-prow-hook')).toBeUndefined();
    });

    it('keeps spec.report: false, so Bowline’s reporter stays silent on it', async () => {
      server.store.create(NS, clusterProwJob('quiet', { report: false }) as KubeObject);
      await waitFor('the job in the bucket', async () => (await bucket.store.get('quiet')) !== undefined);
      expect((await bucket.store.get('quiet'))!.job.spec.report).toBe(false);
    });

    it.each([
      ['a job for another agent', clusterProwJob('pod-job', { agent: 'kubernetes' })],
      ['a job already finished', clusterProwJob('done-job', { state: 'success', completionTime: '2026-12-03T10:05:00Z' })],
      ['a job Prow is still scheduling', clusterProwJob('scheduling-job', { state: 'scheduling' })],
    ])('leaves alone %s', async (_what, object) => {
      server.store.create(NS, object as KubeObject);
      const name = (object.metadata as { name: string }).name;
      const before = JSON.stringify(resource(name));
      await importedAfter(name);
      expect(await bucket.store.get(name)).toBeUndefined();
      expect(JSON.stringify(resource(name))).toBe(before);
    });

    it('imports nothing with bowline.kubernetes.import off', async () => {
      await running!.stop();
      running = await start({ ...CONFIG, bowline: { ...CONFIG.bowline, kubernetes: { ...CONFIG.bowline.kubernetes, import: false } } });
      server.store.create(NS, clusterProwJob('not-imported') as KubeObject);
      await new Promise((resolve) => setTimeout(resolve, 700));
      expect(await bucket.store.get('not-imported')).toBeUndefined();
    });
  });

  it('writes from one replica only: a second one stands by until the first stops', async () => {
    const second = await startKubeBridge({
      nc: bucket.nc,
      streams: { replicas: 1 },
      config: staticConfigSource(CONFIG),
      connect: (namespace) => clientNodeProwJobApi(loadKubeConfig({ KUBECONFIG: kubeconfig }), namespace),
      logger,
      registry: new Registry(),
      checkEveryMs: 200,
      lease: { bucket: 'kube_bridge_test_leases', ttlMs: 3000 },
    });
    try {
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(second.current()).toBeUndefined();
      await running!.stop();
      running = undefined;
      await waitFor('the standby to take over', () => second.current()?.isWriting() === true);
      const job = presubmit();
      await bucket.store.create(job);
      await inStep(job);
    } finally {
      await second.stop();
    }
  });
});
