import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { KV } from '@nats-io/kv';
import { Registry, type MetricValue } from 'prom-client';
import { parseConfig, staticConfigSource, type Config } from '@bowline/config';
import { JenkinsClient } from '@bowline/jenkins';
import { createLogger } from '@bowline/observability';
import { newPresubmitJob, prowJobName, ProwJobStore, transition, type ProwJob, type Refs, type StoredProwJob } from '@bowline/prowjob';
import { FakeJenkins, startProwJobBucket, waitFor, type BuildResult, type ProwJobBucket, type RecordedRequest } from '@bowline/testing';
import { buildParameters } from '../src/build-parameters.js';
import { JenkinsMasters } from '../src/jenkins-masters.js';
import { BUILD_STOPPED, QUEUE_ITEM } from '../src/job-records.js';
import { JenkinsOperator } from '../src/operator.js';

// The resync is an hour away, so everything the operator does on its own in these tests is
// driven by the KV watch; where a test needs Jenkins looked at again it calls `sync` itself.
const CONFIG_TEXT = `
presubmits:
  acme/widgets:
  - name: unit
    agent: jenkins
    always_run: true
    context: ci/jenkins/unit
  - name: team/integration
    agent: jenkins
    context: ci/jenkins/integration
  - name: pr-builder
    agent: jenkins
    context: ci/jenkins/pr-builder
    jenkins_spec:
      github_branch_source_job: true
  - name: broken
    agent: jenkins
    context: ci/jenkins/broken
  - name: lint
    agent: kubernetes
    context: ci/prow/lint
  - name: limited
    agent: jenkins
    context: ci/jenkins/limited
    max_concurrency: 1
bowline:
  jenkins_operator:
    resync_period: 1h
`;
const CONFIG = parseConfig(CONFIG_TEXT, 'config.yaml');

const BASE_SHA = 'b'.repeat(40);
const HEAD_SHA = 'a'.repeat(40);
const REFS: Refs = {
  org: 'acme',
  repo: 'widgets',
  base_ref: 'master',
  base_sha: BASE_SHA,
  pulls: [{ number: 7, author: 'alice', sha: HEAD_SHA, ref: 'feature', title: 'Add sprockets' }],
};
const ENQUEUED = 'Jenkins job enqueued.';
const JENKINS_USER = { kind: 'basic', user: 'bowline', token: 'jenkins-token' } as const;
const logger = createLogger({ service: 'test', level: 'silent' });
const tokenFile = join(mkdtempSync(join(tmpdir(), 'bowline-operator-')), 'jenkins-token');
writeFileSync(tokenFile, `${JENKINS_USER.token}\n`);

/** CONFIG with `bowline.jenkins` listing the masters given as YAML list items. */
function withMasters(items: string): Config {
  return parseConfig(`${CONFIG_TEXT}  jenkins:\n${items}`, 'config.yaml');
}

/** REFS for another pull request (and repository), so two runs of a job are not duplicates. */
function refsOf(pull: number, repo = 'widgets'): Refs {
  return { ...REFS, repo, pulls: [{ ...REFS.pulls![0]!, number: pull }] };
}

let created = 0;
function newJob(jobName: string, options: { refs?: Refs; createdAt?: Date } = {}): ProwJob {
  created += 1;
  const presubmit = CONFIG.presubmits['acme/widgets']!.find((p) => p.name === jobName)!;
  return newPresubmitJob(presubmit, {
    name: prowJobName('operator-test', String(process.pid), String(created), jobName),
    refs: options.refs ?? REFS,
    now: options.createdAt ?? new Date(),
    cause: { event: 'issue_comment', deliveryId: `delivery-${created}`, user: 'alice', comment: '/test all' },
  });
}

describe('JenkinsOperator', () => {
  let bucket: ProwJobBucket;
  let kv: KV;
  let store: ProwJobStore;
  let jenkins: FakeJenkins;
  let client: JenkinsClient;
  let operator: JenkinsOperator | undefined;
  let registry: Registry;
  // Added to the real time, so a test can step past the operator's waits without sleeping.
  let clockOffsetMs = 0;
  const now = (): Date => new Date(Date.now() + clockOffsetMs);

  beforeAll(async () => {
    bucket = await startProwJobBucket();
    ({ kv, store } = bucket);
  });

  afterAll(async () => {
    await bucket?.stop();
  });

  beforeEach(async () => {
    clockOffsetMs = 0;
    jenkins = await FakeJenkins.start({ jobs: ['unit', 'team/integration', 'pr-builder/PR-7', 'broken', 'limited'] });
    client = newClient();
  });

  afterEach(async () => {
    await operator?.stop();
    operator = undefined;
    await jenkins.close();
    // Every test starts from an empty bucket: an operator watches all of it.
    for (const { job } of await store.list()) await kv.purge(job.metadata.name);
  });

  function newClient(options: { fetch?: typeof fetch; timeoutMs?: number } = {}): JenkinsClient {
    return new JenkinsClient({ url: jenkins.url, auth: JENKINS_USER, logger, retryBaseMs: 5, ...options });
  }

  async function startOperator(options: { jenkins?: JenkinsClient; store?: ProwJobStore; config?: Config } = {}): Promise<JenkinsOperator> {
    registry = new Registry();
    const config = staticConfigSource(options.config ?? CONFIG);
    operator = new JenkinsOperator({
      store: options.store ?? store,
      masters: new JenkinsMasters({ config, defaultClient: options.jenkins ?? client, logger }),
      config,
      logger,
      registry,
      now,
    });
    await operator.start();
    return operator;
  }

  async function createJob(jobName: string, options: { refs?: Refs; createdAt?: Date } = {}): Promise<ProwJob> {
    const job = newJob(jobName, options);
    expect(await store.create(job)).toBe(true);
    return job;
  }

  async function read(job: ProwJob): Promise<StoredProwJob> {
    const stored = await store.get(job.metadata.name);
    if (!stored) throw new Error(`ProwJob ${job.metadata.name} is gone`);
    return stored;
  }

  async function waitForJob(job: ProwJob, what: string, predicate: (current: ProwJob) => boolean): Promise<ProwJob> {
    return waitFor(`${job.spec.job} ${what}`, async () => {
      const current = (await read(job)).job;
      return predicate(current) && current;
    });
  }

  /** One pass over every job in the bucket, once the operator's own passes are done. */
  async function syncAll(): Promise<void> {
    await operator!.settled();
    await operator!.sync((await store.list()).map((s) => s.job));
    await operator!.settled();
  }

  /** `buildWithParameters` requests that reached Jenkins for this ProwJob, whatever it answered. */
  function buildRequestsFor(job: ProwJob): RecordedRequest[] {
    return jenkins
      .requestsTo({ method: 'POST', path: /\/buildWithParameters$/ })
      .filter((r) => new URLSearchParams(r.body).get('PROW_JOB_ID') === job.metadata.name);
  }

  function queueItemsFor(job: ProwJob) {
    return jenkins.queue().filter((item) => item.parameters.PROW_JOB_ID === job.metadata.name);
  }

  function buildsFor(job: ProwJob) {
    return jenkins.builds().filter((build) => build.parameters.PROW_JOB_ID === job.metadata.name);
  }

  describe('following a build from request to result', () => {
    it('requests the build of a new triggered ProwJob as soon as its entry appears, with Prow’s parameters', async () => {
      await startOperator();
      const job = await createJob('unit');

      const item = await waitFor('the queue item', () => jenkins.findQueueItem(job.metadata.name), { timeoutMs: 5_000 });
      const enqueued = await waitForJob(job, 'enqueued', (j) => j.status.description === ENQUEUED);

      expect(item.parameters).toEqual(buildParameters(job));
      expect(item.job).toBe('unit');
      expect(enqueued.status).toMatchObject({ state: 'triggered', description: ENQUEUED });
      expect(enqueued.status.pendingTime).toBeUndefined();
      expect(buildRequestsFor(job)).toHaveLength(1);
    });

    it('requests the build of a ProwJob that was waiting in the bucket when the operator started', async () => {
      const job = await createJob('unit');
      await startOperator();

      await waitForJob(job, 'enqueued', (j) => j.status.description === ENQUEUED);
      expect(buildRequestsFor(job)).toHaveLength(1);
    });

    describe('what it reads of Jenkins before a start', () => {
      /** The listings of the queue and of the Jenkins job that reached Jenkins before the job's first build request. */
      function listingsBeforeStart(job: ProwJob): string[] {
        const start = jenkins.requests.indexOf(buildRequestsFor(job)[0]!);
        return jenkins.requests
          .slice(0, start)
          .filter((r) => r.method === 'GET' && (r.path === '/queue/api/json' || r.path === '/job/unit/api/json'))
          .map((r) => r.path);
      }

      it('starts a job created while it acts without listing Jenkins first: no operator can have started it', async () => {
        await startOperator();
        const job = await createJob('unit');
        await waitForJob(job, 'enqueued', (j) => j.status.description === ENQUEUED);
        expect(listingsBeforeStart(job)).toEqual([]);
        expect(buildRequestsFor(job)).toHaveLength(1);
      });

      it('lists the queue and the builds before it starts a job that was in the bucket when it started (an earlier operator may have started it)', async () => {
        const job = await createJob('unit');
        await startOperator();
        await waitForJob(job, 'enqueued', (j) => j.status.description === ENQUEUED);
        expect(listingsBeforeStart(job)).toEqual(expect.arrayContaining(['/queue/api/json', '/job/unit/api/json']));
      });

      it('lists Jenkins again before it tries a start whose request failed (Jenkins may have queued it)', async () => {
        await startOperator();
        jenkins.inject({ method: 'POST', path: /\/buildWithParameters$/ }, { status: 500 });
        const job = await createJob('unit');
        await waitFor('the refused build request', () => buildRequestsFor(job).length === 1);
        await operator!.settled();
        const before = jenkins.requests.length;

        clockOffsetMs = 60_000;
        await syncAll();
        await waitForJob(job, 'enqueued', (j) => j.status.description === ENQUEUED);
        const retry = jenkins.requests.indexOf(buildRequestsFor(job)[1]!);
        const between = jenkins.requests.slice(before, retry).map((r) => `${r.method} ${r.path}`);
        expect(between).toEqual(expect.arrayContaining(['GET /queue/api/json', 'GET /job/unit/api/json']));
      });
    });

    // Descriptions as Prow's syncPendingJob writes them (pkg/jenkins/controller.go).
    it.each<[BuildResult, ProwJob['status']['state'], string]>([
      ['SUCCESS', 'success', 'Jenkins job succeeded.'],
      ['FAILURE', 'failure', 'Jenkins job failed.'],
      ['UNSTABLE', 'failure', 'Jenkins job failed.'],
      ['ABORTED', 'aborted', 'Jenkins job aborted.'],
    ])('moves the job to pending when its build starts, and to the end state of a build that ends %s (%s)', async (result, state, description) => {
      await startOperator();
      const job = await createJob('unit');
      const item = await waitFor('the queue item', () => jenkins.findQueueItem(job.metadata.name));
      await waitForJob(job, 'enqueued', (j) => j.status.description === ENQUEUED);

      const build = jenkins.startBuild(item.id);
      await syncAll();
      const pending = (await read(job)).job;
      expect(pending.status).toMatchObject({ state: 'pending', description: 'Jenkins job running.', url: build.url, jenkins_build_id: String(build.number) });
      expect(Date.parse(pending.status.pendingTime!)).not.toBeNaN();
      expect(pending.status.completionTime).toBeUndefined();

      jenkins.finishBuild(build, result);
      await syncAll();
      const done = (await read(job)).job;
      expect(done.status).toMatchObject({ state, description, url: build.url, jenkins_build_id: String(build.number), pendingTime: pending.status.pendingTime });
      expect(Date.parse(done.status.completionTime!)).toBeGreaterThanOrEqual(Date.parse(pending.status.pendingTime!));
      expect(buildRequestsFor(job)).toHaveLength(1);
    });

    it('moves a job whose build started and finished between two passes straight to its end state', async () => {
      await startOperator();
      const job = await createJob('unit');
      const item = await waitFor('the queue item', () => jenkins.findQueueItem(job.metadata.name));
      await waitForJob(job, 'enqueued', (j) => j.status.description === ENQUEUED);

      const build = jenkins.startBuild(item.id);
      jenkins.finishBuild(build, 'FAILURE');
      await syncAll();

      const done = (await read(job)).job;
      expect(done.status).toMatchObject({ state: 'failure', description: 'Jenkins job failed.', url: build.url, jenkins_build_id: String(build.number) });
      expect(done.status.completionTime).toBeDefined();
      expect(done.status.pendingTime).toBeUndefined();
    });

    it("links the build through the job_url_template of the jenkins_operators entry whose selector takes the job", async () => {
      const config = parseConfig(
        `${CONFIG_TEXT}jenkins_operators:
- label_selector: "!jenkins_operator"
  job_url_template: "https://jenkins.example.com/view/CI/job/{{.Spec.Job}}/{{.Status.JenkinsBuildID}}/"
- label_selector: jenkins_operator=oci
  job_url_template: "http://oci/job/{{.Spec.Job}}/{{.Status.JenkinsBuildID}}/consoleText"
`,
        'config.yaml',
      );
      await startOperator({ config });
      const job = await createJob('unit');
      const item = await waitFor('the queue item', () => jenkins.findQueueItem(job.metadata.name));
      const build = jenkins.startBuild(item.id);
      await syncAll();
      expect((await read(job)).job.status.url).toBe(`https://jenkins.example.com/view/CI/job/unit/${build.number}/`);
    });

    it('links the build page itself when no jenkins_operators entry has a template', async () => {
      await startOperator();
      const job = await createJob('unit');
      const item = await waitFor('the queue item', () => jenkins.findQueueItem(job.metadata.name));
      const build = jenkins.startBuild(item.id);
      await syncAll();
      expect((await read(job)).job.status.url).toBe(build.url);
    });

    it('calls a build that ends with a result Prow has no state for an error, naming the result', async () => {
      await startOperator();
      const job = await createJob('unit');
      const item = await waitFor('the queue item', () => jenkins.findQueueItem(job.metadata.name));
      const build = jenkins.startBuild(item.id);
      // Jenkins' NOT_BUILT: the fake only finishes builds with the four usual results.
      build.building = false;
      build.result = 'NOT_BUILT' as BuildResult;
      await syncAll();

      expect((await read(job)).job.status).toMatchObject({ state: 'error', description: 'Jenkins build ended with result NOT_BUILT.', url: build.url });
    });

    it.each([
      ['a job in a folder', 'team/integration', '/job/team/job/integration/buildWithParameters', 'team/integration'],
      ["a GitHub Branch Source job's pull request", 'pr-builder', '/job/pr-builder/view/change-requests/job/PR-7/buildWithParameters', 'pr-builder/PR-7'],
    ])('builds %s at its Jenkins path and follows the build there', async (_, jobName, postPath, jenkinsJob) => {
      await startOperator();
      const job = await createJob(jobName);
      const item = await waitFor('the queue item', () => jenkins.findQueueItem(job.metadata.name));

      expect(jenkins.requestsTo({ method: 'POST', path: postPath })).toHaveLength(1);
      expect(item.job).toBe(jenkinsJob);

      const build = jenkins.startBuild(item.id);
      await syncAll();
      expect((await read(job)).job.status).toMatchObject({ state: 'pending', url: build.url });
    });

    it('keeps following a running build that more than a hundred newer builds pushed out of the job listing', async () => {
      await startOperator();
      const job = await createJob('unit');
      const item = await waitFor('the queue item', () => jenkins.findQueueItem(job.metadata.name));
      const build = jenkins.startBuild(item.id);
      await syncAll();
      expect((await read(job)).job.status.state).toBe('pending');

      // Jenkins' `builds` field holds the newest 100 only (Job#getNewBuilds).
      for (let i = 0; i < 100; i += 1) {
        await client.buildWithParameters('job/unit', { PROW_JOB_ID: `someone-else-${i}` });
        jenkins.startBuild(jenkins.findQueueItem(`someone-else-${i}`)!.id);
      }
      expect((await client.listBuilds('job/unit')).some((b) => b.number === build.number)).toBe(false);
      await syncAll();
      expect((await read(job)).job.status).toMatchObject({ state: 'pending', url: build.url });

      jenkins.finishBuild(build, 'SUCCESS');
      await syncAll();
      expect((await read(job)).job.status).toMatchObject({ state: 'success', url: build.url });
    });

    it('keeps following its own build when a later build carries the same PROW_JOB_ID (a Rebuild in Jenkins)', async () => {
      await startOperator();
      const job = await createJob('unit');
      const item = await waitFor('the queue item', () => jenkins.findQueueItem(job.metadata.name));
      const own = jenkins.startBuild(item.id);
      await syncAll();

      // Jenkins' Rebuild copies every parameter of the build it repeats.
      await client.buildWithParameters('job/unit', buildParameters(job));
      const copy = jenkins.startBuild(queueItemsFor(job)[0]!.id);
      await syncAll();
      expect((await read(job)).job.status).toMatchObject({ state: 'pending', url: own.url, jenkins_build_id: String(own.number) });

      jenkins.finishBuild(own, 'FAILURE');
      await syncAll();
      expect((await read(job)).job.status).toMatchObject({ state: 'failure', url: own.url });
      expect(copy.building).toBe(true);
    });

    it('follows a build by the periodic resync alone, when nothing changes in the bucket', async () => {
      await startOperator({ config: { ...CONFIG, jenkinsOperator: { resyncPeriodMs: 100 } } });
      const job = await createJob('unit');
      const item = await waitFor('the queue item', () => jenkins.findQueueItem(job.metadata.name));

      const build = jenkins.startBuild(item.id);
      await waitForJob(job, 'pending', (j) => j.status.state === 'pending');
      jenkins.finishBuild(build, 'SUCCESS');
      const done = await waitForJob(job, 'succeeded', (j) => j.status.state === 'success');

      expect(done.status.url).toBe(build.url);
      expect(buildRequestsFor(job)).toHaveLength(1);
    });

    // Prow's syncPendingJob: "Error finding Jenkins job.", linked to status_error_link (Prow's default here).
    it('marks a running job whose build vanished from Jenkins as an error, linked to status_error_link', async () => {
      const job = await createJob('unit');
      // The job says pending, but this Jenkins has never heard of it (restored from a backup, say).
      await store.update(job.metadata.name, (current) => transition(current, 'pending', now(), { url: `${jenkins.url}/job/unit/41/`, jenkins_build_id: '41' }));
      await startOperator();

      const errored = await waitForJob(job, 'errored', (j) => j.status.state === 'error');
      expect(errored.status).toMatchObject({ description: 'Error finding Jenkins job.', url: 'https://github.com/kubernetes/test-infra/issues' });
      // The listing reaches back past #41 (the job has fewer builds than it asked for), so #41 is
      // known gone without asking for it.
      expect(jenkins.requestsTo({ method: 'GET', path: '/job/unit/41/api/json' })).toEqual([]);
      expect(buildRequestsFor(job)).toHaveLength(0);
    });

    it('gives an enqueued build that never shows up five minutes of grace, then calls the job an error', async () => {
      await startOperator();
      const job = await createJob('unit');
      const item = await waitFor('the queue item', () => jenkins.findQueueItem(job.metadata.name));
      await waitForJob(job, 'enqueued', (j) => j.status.description === ENQUEUED);
      // Jenkins lost the item (a restart of the controller drops its queue, and with it the
      // item's record, which then answers 404).
      jenkins.findQueueItem(job.metadata.name)!.cancelled = true;
      jenkins.inject({ method: 'GET', path: `/queue/item/${item.id}/api/json` }, { status: 404, times: 1_000 });
      expect(queueItemsFor(job)).toHaveLength(0);

      clockOffsetMs = 4 * 60_000;
      await syncAll();
      expect((await read(job)).job.status).toMatchObject({ state: 'triggered', description: ENQUEUED });

      clockOffsetMs = 6 * 60_000;
      await syncAll();
      expect((await read(job)).job.status).toMatchObject({
        state: 'error',
        description: 'Error finding Jenkins job: the Jenkins job must declare the BUILD_ID and PROW_JOB_ID parameters.',
        url: 'https://github.com/kubernetes/test-infra/issues',
      });
      expect(buildRequestsFor(job)).toHaveLength(1);
    });
  });

  describe('exactly one build per ProwJob', () => {
    it('follows the queued build an operator requested before it was stopped, without asking for another', async () => {
      const job = await createJob('unit');
      // What the stopped operator got done: the POST, and not the KV write after it.
      await client.buildWithParameters('job/unit', buildParameters(job));
      const item = jenkins.findQueueItem(job.metadata.name)!;
      await startOperator();

      await waitForJob(job, 'enqueued', (j) => j.status.description === ENQUEUED);
      await operator!.settled();
      expect(buildRequestsFor(job)).toHaveLength(1);

      const build = jenkins.startBuild(item.id);
      await syncAll();
      expect((await read(job)).job.status).toMatchObject({ state: 'pending', url: build.url });
      expect(buildRequestsFor(job)).toHaveLength(1);
      expect(buildsFor(job)).toHaveLength(1);
    });

    it('follows the running build an operator requested before it was stopped, without asking for another', async () => {
      const job = await createJob('unit');
      await client.buildWithParameters('job/unit', buildParameters(job));
      const build = jenkins.startBuild(jenkins.findQueueItem(job.metadata.name)!.id);
      await startOperator();

      const pending = await waitForJob(job, 'pending', (j) => j.status.state === 'pending');
      expect(pending.status.url).toBe(build.url);
      await syncAll();
      expect(buildRequestsFor(job)).toHaveLength(1);
      expect(buildsFor(job)).toHaveLength(1);
    });

    it('does not ask again when Jenkins queued the build but answered the request with 500', async () => {
      // A proxy in front of Jenkins (or Jenkins itself, failing after Queue.schedule2) answers
      // 500 for a request Jenkins acted on. The fake's faults answer instead of acting, so the
      // failure is put on the answer here.
      const answer500AfterQueuing: typeof fetch = async (input, init) => {
        const response = await fetch(input, init);
        if (init?.method === 'POST' && String(input).endsWith('/buildWithParameters')) {
          await response.text();
          return new Response('<html><body><h2>HTTP ERROR 500 Server Error</h2></body></html>', { status: 500 });
        }
        return response;
      };
      const job = await createJob('unit');
      await startOperator({ jenkins: newClient({ fetch: answer500AfterQueuing }) });
      await waitFor('the refused build request', () => buildRequestsFor(job).length === 1);
      await operator!.settled();
      expect((await read(job)).job.status.description).toBe('Job triggered.');

      // Past the operator's wait between attempts, so only its look-up can hold it back.
      clockOffsetMs = 60_000;
      await syncAll();
      clockOffsetMs = 120_000;
      await syncAll();

      expect((await read(job)).job.status).toMatchObject({ state: 'triggered', description: ENQUEUED });
      expect(buildRequestsFor(job)).toHaveLength(1);
      expect(queueItemsFor(job)).toHaveLength(1);
      const build = jenkins.startBuild(queueItemsFor(job)[0]!.id);
      await syncAll();
      expect((await read(job)).job.status).toMatchObject({ state: 'pending', url: build.url });
      expect(buildsFor(job)).toHaveLength(1);
    });

    it('does not ask again when the answer to its request never came but Jenkins queued the build', async () => {
      jenkins.inject({ method: 'POST', path: /\/buildWithParameters$/ }, { delayMs: 400 });
      const job = await createJob('unit');
      await startOperator({ jenkins: newClient({ timeoutMs: 150 }) });
      await waitFor('the slow build request to be queued', () => queueItemsFor(job).length === 1);
      await operator!.settled();

      clockOffsetMs = 60_000;
      await syncAll();

      expect((await read(job)).job.status).toMatchObject({ state: 'triggered', description: ENQUEUED });
      expect(buildRequestsFor(job)).toHaveLength(1);
    });

    it('asks again, after a wait, when Jenkins refused the request without queuing anything', async () => {
      jenkins.inject({ method: 'POST', path: /\/buildWithParameters$/ }, { status: 500 });
      const job = await createJob('unit');
      await startOperator();
      await waitFor('the refused build request', () => buildRequestsFor(job).length === 1);
      await operator!.settled();

      await syncAll();
      expect(buildRequestsFor(job)).toHaveLength(1);

      clockOffsetMs = 60_000;
      await syncAll();
      await waitForJob(job, 'enqueued', (j) => j.status.description === ENQUEUED);
      expect(buildRequestsFor(job).map((r) => r.status)).toEqual([500, 201]);
      expect(queueItemsFor(job)).toHaveLength(1);
    });

    it('requests one build when two passes look at a new job at the same time', async () => {
      const job = await createJob('unit');
      // A slow bucket widens the gap between looking and posting, where a second pass could slip in.
      const slow = new ProwJobStore(kv);
      const get = slow.get.bind(slow);
      slow.get = async (name) => {
        await new Promise((resolve) => setTimeout(resolve, 50));
        return get(name);
      };
      await startOperator({ store: slow });

      await Promise.all([operator!.sync([job]), operator!.sync([job]), operator!.sync([job])]);
      await operator!.settled();

      expect(buildRequestsFor(job)).toHaveLength(1);
    });

    it('requests the build of a new job while a periodic resync waits for a slow Jenkins, and each job still gets one build', async () => {
      const running = await createJob('unit', { refs: refsOf(8) });
      // The queue listing the resync asks for is held until the test lets it go.
      let holdNextListing = false;
      let listingHeld!: () => void;
      const resyncListing = new Promise<void>((resolve) => (listingHeld = resolve));
      let letGo!: () => void;
      const released = new Promise<void>((resolve) => (letGo = resolve));
      const gated: typeof fetch = async (input, init) => {
        if (holdNextListing && String(input instanceof Request ? input.url : input).includes('/queue/api/json')) {
          holdNextListing = false;
          listingHeld();
          await released;
        }
        return fetch(input, init);
      };
      await startOperator({ jenkins: newClient({ fetch: gated }), config: { ...CONFIG, jenkinsOperator: { resyncPeriodMs: 100 } } });
      await waitForJob(running, 'enqueued', (current) => current.metadata.annotations[QUEUE_ITEM] !== undefined);
      await operator!.settled();
      holdNextListing = true;
      await resyncListing;

      const fresh = await createJob('unit', { refs: refsOf(9) });
      try {
        await waitFor('the new job’s build request while the resync’s listing is held', () => buildRequestsFor(fresh).length === 1, { timeoutMs: 5_000 });
      } finally {
        letGo();
      }
      await operator!.settled();
      await syncAll();

      expect(buildRequestsFor(fresh)).toHaveLength(1);
      expect(buildRequestsFor(running)).toHaveLength(1);
    });

    it('starts a new job while a periodic resync is still moving many jobs, and the resync still moves them all', async () => {
      // Each move of a running job is a slow write here, so a resync of twelve takes over a second.
      const slowWrites = new ProwJobStore(kv);
      const update = slowWrites.update.bind(slowWrites);
      const slowFor = new Set<string>();
      let resyncWriting!: () => void;
      const firstSlowWrite = new Promise<void>((resolve) => (resyncWriting = resolve));
      let lastMovedAt = 0;
      slowWrites.update = async (name, change) => {
        if (!slowFor.has(name)) return update(name, change);
        resyncWriting();
        await new Promise((resolve) => setTimeout(resolve, 100));
        const written = await update(name, change);
        lastMovedAt = performance.now();
        return written;
      };
      await startOperator({ store: slowWrites, config: { ...CONFIG, jenkinsOperator: { resyncPeriodMs: 200 } } });
      const running: ProwJob[] = [];
      for (let pull = 20; pull < 32; pull += 1) running.push(await createJob('unit', { refs: refsOf(pull) }));
      for (const job of running) await waitForJob(job, 'enqueued', (current) => current.metadata.annotations[QUEUE_ITEM] !== undefined);
      await operator!.settled();
      for (const job of running) {
        slowFor.add(job.metadata.name);
        jenkins.startBuild(jenkins.findQueueItem(job.metadata.name)!.id);
      }
      await firstSlowWrite;

      const fresh = await createJob('unit', { refs: refsOf(40) });
      await waitFor('the new job’s build request', () => buildRequestsFor(fresh).length === 1, { timeoutMs: 5_000 });
      const freshRequestedAt = performance.now();
      for (const job of running) await waitForJob(job, 'pending', (current) => current.status.state === 'pending');

      expect(freshRequestedAt).toBeLessThan(lastMovedAt);
      for (const job of [...running, fresh]) expect(buildRequestsFor(job)).toHaveLength(1);
    });

    it('reads Jenkins again for a new state of a job, not for its own record of the start, its own move to pending or the reporter’s record of a status', async () => {
      const job = await createJob('unit');
      await startOperator();
      await waitForJob(job, 'enqueued', (current) => current.metadata.annotations[QUEUE_ITEM] !== undefined);
      await operator!.settled();
      const listings = () => jenkins.requestsTo({ method: 'GET', path: '/queue/api/json' }).length;
      const afterStart = listings();

      await store.update(job.metadata.name, (current) => ({
        ...current,
        metadata: { ...current.metadata, annotations: { ...current.metadata.annotations, 'bowline.dev/github-reported-status': 'digest' } },
        status: { ...current.status, prev_report_states: { 'github-reporter': 'triggered' } },
      }));
      await new Promise((resolve) => setTimeout(resolve, 200));
      await operator!.settled();
      expect(listings()).toBe(afterStart);

      // The build starts; the one pass asked for here moves the job to pending, and that move asks for no pass.
      jenkins.startBuild(jenkins.findQueueItem(job.metadata.name)!.id);
      await syncAll();
      await waitForJob(job, 'pending', (current) => current.status.state === 'pending');
      await new Promise((resolve) => setTimeout(resolve, 200));
      await operator!.settled();
      expect(listings()).toBe(afterStart + 1);

      await store.update(job.metadata.name, (current) => transition(current, 'aborted', now(), { description: 'Aborted.' }));
      await waitFor('the aborted job’s build stopped', () => jenkins.requestsTo({ method: 'POST', path: /\/stop$/ }).length === 1);
      expect(listings()).toBe(afterStart + 2);
    });

    it('starts no build for a job that finished after the operator last saw it', async () => {
      const job = await createJob('unit');
      await store.update(job.metadata.name, (current) => transition(current, 'aborted', now(), { description: 'Superseded by a newer push.' }));
      await startOperator();

      // `job` is the operator's view of it before the watch brought the abort.
      await operator!.sync([job]);

      expect(buildRequestsFor(job).map((r) => r.path)).toEqual([]);
      expect((await read(job)).job.status.state).toBe('aborted');
    });

    it('starts nothing for a job whose Jenkins job cannot be listed, and still moves the jobs of other Jenkins jobs', async () => {
      jenkins.inject({ method: 'GET', path: '/job/broken/api/json' }, { status: 500, times: 1_000 });
      const blocked = await createJob('broken');
      const healthy = await createJob('unit');
      await startOperator();

      const item = await waitFor('the healthy queue item', () => jenkins.findQueueItem(healthy.metadata.name));
      const build = jenkins.startBuild(item.id);
      await syncAll();
      await syncAll();

      expect((await read(healthy)).job.status).toMatchObject({ state: 'pending', url: build.url });
      expect((await read(blocked)).job.status).toMatchObject({ state: 'triggered', description: 'Job triggered.' });
      expect(buildRequestsFor(blocked)).toHaveLength(0);
      expect(jenkins.requestsTo({ method: 'GET', path: '/job/broken/api/json' }).length).toBeGreaterThan(0);
    });

    it('does not leave the change of a job that arrives as a pass ends for the next resync', async () => {
      // The watch is driven by hand here, so each change can arrive at a chosen moment: a few
      // microtasks after a pass finished, when the operator is deciding whether to run another.
      for (let hops = 0; hops <= 6; hops += 1) {
        let notify: ((name: string, stored: StoredProwJob | undefined) => void) | undefined;
        const handDriven = new ProwJobStore(kv);
        handDriven.watch = async (onChange) => {
          notify = onChange;
          return { stop: () => undefined };
        };
        const first = await createJob('unit');
        // Another pull request: two runs on one would be duplicates, and the older one aborted.
        const second = await createJob('unit', { refs: refsOf(8) });
        const secondStored = await read(second);
        const op = await startOperator({ store: handDriven });
        const realSync = op.sync.bind(op);
        let armed = true;
        op.sync = async (jobs) => {
          await realSync(jobs);
          if (!armed) return;
          armed = false;
          let later = Promise.resolve();
          for (let i = 0; i < hops; i += 1) later = later.then(() => undefined);
          void later.then(() => notify!(second.metadata.name, secondStored));
        };

        notify!(first.metadata.name, await read(first));
        await waitFor(`the second build request (${hops} microtasks late)`, () => jenkins.findQueueItem(second.metadata.name), { timeoutMs: 2_000 });
        await op.stop();
        operator = undefined;
      }
    });
  });

  describe('ProwJobs that are not its to run', () => {
    it('never touches a job of another agent, even when Jenkins has a job of that name', async () => {
      jenkins.addJob('lint');
      await startOperator();
      const other = await createJob('lint');
      const before = await read(other);
      const marker = await createJob('unit');
      await waitForJob(marker, 'enqueued', (j) => j.status.description === ENQUEUED);
      await syncAll();

      expect(await read(other)).toEqual(before);
      expect(buildRequestsFor(other)).toHaveLength(0);
      expect(jenkins.requestsTo({ path: /lint/ })).toHaveLength(0);
    });

    it('never touches a ProwJob that finished other than aborted, whatever Jenkins shows for it', async () => {
      const withoutBuild = await createJob('unit');
      await store.update(withoutBuild.metadata.name, (j) => transition(j, 'success', now(), { description: 'Ended by hand.' }));
      const withRunningBuild = await createJob('unit');
      await client.buildWithParameters('job/unit', buildParameters(withRunningBuild));
      jenkins.startBuild(jenkins.findQueueItem(withRunningBuild.metadata.name)!.id);
      await store.update(withRunningBuild.metadata.name, (j) => transition(j, 'error', now(), { description: 'Ended by hand.' }));
      const before = await Promise.all([read(withoutBuild), read(withRunningBuild)]);

      await startOperator();
      // A live job created after them: once it is handled, the finished ones were seen too.
      const marker = await createJob('unit');
      await waitForJob(marker, 'enqueued', (j) => j.status.description === ENQUEUED);
      await syncAll();

      const after = await Promise.all([read(withoutBuild), read(withRunningBuild)]);
      expect(after).toEqual(before);
      expect(buildRequestsFor(withoutBuild)).toHaveLength(0);
      expect(buildRequestsFor(withRunningBuild)).toHaveLength(1);
      expect(jenkins.requestsTo({ method: 'POST', path: /\/(stop|cancelItem)$/ })).toHaveLength(0);
    });
  });

  describe('aborted ProwJobs', () => {
    it('stops the running build of an aborted job once, and never starts one', async () => {
      await startOperator();
      const job = await createJob('unit');
      const item = await waitFor('the queue item', () => jenkins.findQueueItem(job.metadata.name));
      const build = jenkins.startBuild(item.id);
      await syncAll();
      await store.update(job.metadata.name, (j) => transition(j, 'aborted', now(), { description: 'Aborted: a newer commit was pushed.' }));

      await waitFor('the stop', () => jenkins.requestsTo({ method: 'POST', path: `/job/unit/${build.number}/stop` }).length === 1);
      await waitForJob(job, 'marked stopped', (j) => j.metadata.annotations[BUILD_STOPPED] === 'true');
      await syncAll();
      await syncAll();
      expect(jenkins.requestsTo({ method: 'POST', path: /\/stop$/ })).toHaveLength(1);
      expect(jenkins.builds('unit').find((b) => b.number === build.number)).toMatchObject({ building: false, result: 'ABORTED' });
      expect((await read(job)).job.status).toMatchObject({ state: 'aborted', description: 'Aborted: a newer commit was pushed.' });
      expect(buildRequestsFor(job)).toHaveLength(1);
    });

    it('takes the queued build of an aborted job out of the queue', async () => {
      await startOperator();
      const job = await createJob('unit');
      const item = await waitFor('the queue item', () => jenkins.findQueueItem(job.metadata.name));
      await waitForJob(job, 'enqueued', (j) => j.status.description === ENQUEUED);
      await store.update(job.metadata.name, (j) => transition(j, 'aborted', now(), { description: 'Aborted: the pull request was closed.' }));

      await waitFor('the cancel', () => jenkins.requestsTo({ method: 'POST', path: '/queue/cancelItem' }).length === 1);
      expect(jenkins.requestsTo({ method: 'POST', path: '/queue/cancelItem' })[0]!.query.get('id')).toBe(String(item.id));
      expect(jenkins.findQueueItem(job.metadata.name)).toMatchObject({ cancelled: true });
      expect(jenkins.queue().filter((q) => q.parameters.PROW_JOB_ID === job.metadata.name)).toEqual([]);
    });

    it('never posts a stop for a build that is only queued (Prow posted one to build number 0)', async () => {
      await startOperator();
      const job = await createJob('unit');
      await waitForJob(job, 'enqueued', (j) => j.status.description === ENQUEUED);
      await store.update(job.metadata.name, (j) => transition(j, 'aborted', now(), { description: 'Aborted: the pull request was closed.' }));

      await waitForJob(job, 'marked stopped', (j) => j.metadata.annotations[BUILD_STOPPED] === 'true');
      await syncAll();
      expect(jenkins.requestsTo({ method: 'POST', path: '/queue/cancelItem' })).toHaveLength(1);
      expect(jenkins.requestsTo({ method: 'POST', path: /\/stop$/ })).toEqual([]);
    });

    it('stops the build the queue item of an aborted job became, when the job listing does not show it yet', async () => {
      await startOperator();
      const job = await createJob('unit');
      const item = await waitFor('the queue item', () => jenkins.findQueueItem(job.metadata.name));
      await waitForJob(job, 'enqueued', (j) => j.status.description === ENQUEUED);
      await operator!.settled();
      const build = jenkins.startBuild(item.id);
      // Jenkins takes the item out of the queue a moment before the job lists the build it became.
      jenkins.inject({ method: 'GET', path: '/job/unit/api/json' }, { status: 200, body: { _class: 'hudson.model.FreeStyleProject', builds: [] } });
      await store.update(job.metadata.name, (j) => transition(j, 'aborted', now(), { description: 'Aborted: the pull request was closed.' }));

      await waitForJob(job, 'marked stopped', (j) => j.metadata.annotations[BUILD_STOPPED] === 'true');
      expect(jenkins.requestsTo({ method: 'POST', path: `/job/unit/${build.number}/stop` })).toHaveLength(1);
      expect(build).toMatchObject({ building: false, result: 'ABORTED' });
    });
  });
  describe('concurrency and fairness', () => {
    const MASTER_LIMITED = parseConfig(
      `${CONFIG_TEXT}jenkins_operators:
- label_selector: prow.k8s.io/job=unit
  max_concurrency: 1
- label_selector: prow.k8s.io/job!=unit
`,
      'config.yaml',
    );

    it.each([
      ['its own max_concurrency, counted across repositories and pull requests', CONFIG, 'limited', refsOf(9, 'gadgets'), 'Waiting: 1 of 1 limited builds running.', 'unit'],
      ['the max_concurrency of the jenkins_operators entry whose selector takes it', MASTER_LIMITED, 'unit', refsOf(8), 'Waiting: 1 of 1 Jenkins builds running.', 'team/integration'],
    ])('holds a job back by %s while a build that is only queued fills the slot, and starts it when that build ends', async (_, config, jobName, otherRefs, waiting, unlimited) => {
      await startOperator({ config });
      const first = await createJob(jobName);
      const item = await waitFor('the first queue item', () => jenkins.findQueueItem(first.metadata.name));
      await waitForJob(first, 'enqueued', (j) => j.status.description === ENQUEUED);

      // Prow counts pending ProwJobs only, so a build still in Jenkins' queue left the slot open.
      const second = await createJob(jobName, { refs: otherRefs });
      const held = await waitForJob(second, 'waiting', (j) => j.status.description === waiting);
      expect(held.status.state).toBe('triggered');
      // A job the limit does not cover is not held up by it.
      const free = await createJob(unlimited);
      await waitFor('the unlimited queue item', () => jenkins.findQueueItem(free.metadata.name));
      await syncAll();
      expect(buildRequestsFor(second)).toHaveLength(0);

      const build = jenkins.startBuild(item.id);
      await syncAll();
      expect(buildRequestsFor(second)).toHaveLength(0);
      expect((await read(second)).job.status.description).toBe(waiting);

      jenkins.finishBuild(build, 'SUCCESS');
      await syncAll();
      expect((await read(first)).job.status.state).toBe('success');
      await waitForJob(second, 'enqueued', (j) => j.status.description === ENQUEUED);
      expect(buildRequestsFor(second)).toHaveLength(1);
    });

    it('starts a waiting job as soon as the job holding the slot is ended in the bucket, without waiting for a resync', async () => {
      await startOperator();
      const first = await createJob('limited');
      await waitForJob(first, 'enqueued', (j) => j.status.description === ENQUEUED);
      const second = await createJob('limited', { refs: refsOf(8) });
      await waitForJob(second, 'waiting', (j) => j.status.description === 'Waiting: 1 of 1 limited builds running.');
      await operator!.settled();

      // What the sinker does to a job stuck for too long: the operator has nothing to do for it,
      // but its slot is free.
      await store.update(first.metadata.name, (j) => transition(j, 'error', now(), { description: 'Ended by hand.' }));

      await waitForJob(second, 'enqueued', (j) => j.status.description === ENQUEUED);
      expect(buildRequestsFor(second)).toHaveLength(1);
    });

    it('counts a build an operator requested before it was stopped, though the bucket never recorded it', async () => {
      const first = await createJob('limited');
      // The stopped operator's POST went through; its write to the bucket did not.
      await client.buildWithParameters('job/limited', buildParameters(first));
      const second = await createJob('limited', { refs: refsOf(8) });
      await startOperator();

      await waitForJob(first, 'enqueued', (j) => j.status.description === ENQUEUED);
      await waitForJob(second, 'waiting', (j) => j.status.description === 'Waiting: 1 of 1 limited builds running.');
      await syncAll();
      expect(buildRequestsFor(first)).toHaveLength(1);
      expect(buildRequestsFor(second)).toHaveLength(0);
    });

    it('counts the slots of every job in the bucket from its first pass after a restart, before the watch has brought them all', async () => {
      const holder = await createJob('limited');
      await client.buildWithParameters('job/limited', buildParameters(holder));
      const build = jenkins.startBuild(jenkins.findQueueItem(holder.metadata.name)!.id);
      await store.update(holder.metadata.name, (j) => transition(j, 'pending', now(), { url: build.url, jenkins_build_id: String(build.number) }));
      const waiting = await createJob('limited', { refs: refsOf(8) });
      // The watch is driven by hand, so the waiting job arrives well before the one holding the slot.
      let notify: ((name: string, stored: StoredProwJob | undefined) => void) | undefined;
      const handDriven = new ProwJobStore(kv);
      handDriven.watch = async (onChange) => {
        notify = onChange;
        return { stop: () => undefined };
      };
      await startOperator({ store: handDriven });

      notify!(waiting.metadata.name, await read(waiting));
      await waitForJob(waiting, 'waiting', (j) => j.status.description === 'Waiting: 1 of 1 limited builds running.');
      await operator!.settled();
      expect(buildRequestsFor(waiting)).toHaveLength(0);
    });

    it('starts waiting jobs in creation order, then by name, whatever order they reached the bucket in', async () => {
      const base = Date.now() - 60_000;
      const at = (seconds: number) => ({ createdAt: new Date(base + seconds * 1000) });
      await startOperator();
      const first = await createJob('limited', { ...at(0), refs: refsOf(1) });
      await waitForJob(first, 'enqueued', (j) => j.status.description === ENQUEUED);
      const last = await createJob('limited', { ...at(3), refs: refsOf(5) });
      const sameTimeA = await createJob('limited', { ...at(2), refs: refsOf(4) });
      const second = await createJob('limited', { ...at(1), refs: refsOf(2) });
      const sameTimeB = await createJob('limited', { ...at(2), refs: refsOf(3) });
      const sameTime = [sameTimeA, sameTimeB].sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : 1));
      const order = [first, second, ...sameTime, last];

      for (const [i, job] of order.entries()) {
        const item = await waitFor(`the queue item of job ${i + 1} in line`, () => jenkins.findQueueItem(job.metadata.name));
        await operator!.settled();
        for (const later of order.slice(i + 1)) expect(buildRequestsFor(later)).toHaveLength(0);
        jenkins.finishBuild(jenkins.startBuild(item.id), 'SUCCESS');
        await syncAll();
      }
      expect(order.map((job) => buildRequestsFor(job).length)).toEqual([1, 1, 1, 1, 1]);
    });
  });

  describe('older runs of the same job on the same pull request', () => {
    it.each<[string, (item: { id: number }) => string]>([
      ['cancels its queued build', (item) => `/queue/cancelItem?id=${item.id}`],
      ['stops its running build', (item) => `/job/unit/${jenkins.startBuild(item.id).number}/stop`],
    ])('aborts the older of two unfinished runs and %s, and runs the newer', async (_, prepare) => {
      await startOperator();
      const older = await createJob('unit');
      const item = await waitFor('the older queue item', () => jenkins.findQueueItem(older.metadata.name));
      await waitForJob(older, 'enqueued', (j) => j.status.description === ENQUEUED);
      const expectedStop = prepare(item);
      await syncAll();

      const newer = await createJob('unit', { createdAt: new Date(Date.parse(older.metadata.creationTimestamp) + 1) });
      const aborted = await waitForJob(older, 'aborted', (j) => j.status.state === 'aborted');
      // Prow's terminateDupes (pkg/jenkins/controller.go).
      expect(aborted.status.description).toBe('Aborted as the newer version of this job is running.');
      await waitForJob(older, 'marked stopped', (j) => j.metadata.annotations[BUILD_STOPPED] === 'true');
      await waitFor('the newer queue item', () => jenkins.findQueueItem(newer.metadata.name));

      const stops = jenkins.requestsTo({ method: 'POST', path: /\/(stop|cancelItem)$/ }).map((r) => `${r.path}${r.query.size > 0 ? `?${r.query}` : ''}`);
      expect(stops).toEqual([expectedStop]);
      expect((await read(newer)).job.status.state).toBe('triggered');
    });

    it.each([
      ['pull request', 'unit', refsOf(8)],
      ['repository', 'unit', refsOf(7, 'gadgets')],
      ['job', 'team/integration', REFS],
    ])('leaves two runs that differ in their %s alone', async (_, otherJob, otherRefs) => {
      await startOperator();
      const one = await createJob('unit');
      const other = await createJob(otherJob, { refs: otherRefs });

      await waitForJob(one, 'enqueued', (j) => j.status.description === ENQUEUED);
      await waitForJob(other, 'enqueued', (j) => j.status.description === ENQUEUED);
      await syncAll();
      expect([(await read(one)).job.status.state, (await read(other)).job.status.state]).toEqual(['triggered', 'triggered']);
      expect(jenkins.requestsTo({ method: 'POST', path: /\/(stop|cancelItem)$/ })).toEqual([]);
    });
  });

  describe('max_pending', () => {
    const twoHours = (): Config => withMasters(`  - name: main\n    url: ${jenkins.url}\n    user: bowline\n    token_file: ${tokenFile}\n    max_pending: 2h\n`);
    const HOUR = 3_600_000;

    it.each<[string, () => Config, number, string, boolean]>([
      ['a queued build at the master’s max_pending', twoHours, 3 * HOUR, '2h', false],
      ['a running build at the master’s max_pending', twoHours, 3 * HOUR, '2h', true],
      ['a running build at 24 hours when no master sets max_pending', () => CONFIG, 25 * HOUR, '24h', true],
    ])('ends a job with %s as an error and stops its build', async (_, config, late, allowed, running) => {
      await startOperator({ config: config() });
      const job = await createJob('unit');
      const item = await waitFor('the queue item', () => jenkins.findQueueItem(job.metadata.name));
      await waitForJob(job, 'enqueued', (j) => j.status.description === ENQUEUED);
      const build = running ? jenkins.startBuild(item.id) : undefined;

      clockOffsetMs = late - 2 * HOUR;
      await syncAll();
      expect((await read(job)).job.status.state).toBe(running ? 'pending' : 'triggered');

      clockOffsetMs = late;
      await syncAll();
      expect((await read(job)).job.status).toMatchObject({
        state: 'error',
        description: `The job ran longer than the ${allowed} allowed (max_pending); its Jenkins build was stopped.`,
      });
      if (build) {
        expect(jenkins.requestsTo({ method: 'POST', path: `/job/unit/${build.number}/stop` })).toHaveLength(1);
        expect(build.result).toBe('ABORTED');
      } else {
        expect(jenkins.requestsTo({ method: 'POST', path: '/queue/cancelItem' }).map((r) => r.query.get('id'))).toEqual([String(item.id)]);
        expect(jenkins.requestsTo({ method: 'POST', path: /\/stop$/ })).toEqual([]);
      }
      await syncAll();
      expect((await read(job)).job.status.state).toBe('error');
      expect(buildRequestsFor(job)).toHaveLength(1);
    });

    it('gives a build that ended its own result, however late the operator sees it', async () => {
      await startOperator({ config: twoHours() });
      const job = await createJob('unit');
      const item = await waitFor('the queue item', () => jenkins.findQueueItem(job.metadata.name));
      jenkins.finishBuild(jenkins.startBuild(item.id), 'SUCCESS');

      clockOffsetMs = 3 * HOUR;
      await syncAll();
      expect((await read(job)).job.status.state).toBe('success');
    });
  });

  describe('queue items', () => {
    it('remembers the queue item Jenkins answered the build request with', async () => {
      await startOperator();
      const job = await createJob('unit');
      const item = await waitFor('the queue item', () => jenkins.findQueueItem(job.metadata.name));
      const enqueued = await waitForJob(job, 'enqueued', (j) => j.status.description === ENQUEUED);
      expect(enqueued.metadata.annotations[QUEUE_ITEM]).toBe(String(item.id));
    });

    it('aborts a job whose queue item was cancelled in Jenkins, and starts nothing new for it', async () => {
      await startOperator();
      const job = await createJob('unit');
      const item = await waitFor('the queue item', () => jenkins.findQueueItem(job.metadata.name));
      await waitForJob(job, 'enqueued', (j) => j.status.description === ENQUEUED);
      // Someone clicked the ✕ next to the item in Jenkins' build queue.
      await client.cancelQueueItem(item.id);

      await syncAll();
      expect((await read(job)).job.status).toMatchObject({ state: 'aborted', description: 'Aborted: the build was cancelled in Jenkins.' });
      expect(jenkins.requestsTo({ method: 'GET', path: `/queue/item/${item.id}/api/json` }).length).toBeGreaterThan(0);
      await syncAll();
      expect(buildRequestsFor(job)).toHaveLength(1);
      expect(jenkins.requestsTo({ method: 'POST', path: /\/(stop|cancelItem)$/ })).toHaveLength(1);
    });

    it.each<[string, BuildResult | undefined, string]>([
      ['still running', undefined, 'pending'],
      ['already finished', 'FAILURE', 'failure'],
    ])('follows the build its queue item became when the job listing does not show it yet (%s)', async (_, result, state) => {
      await startOperator();
      const job = await createJob('unit');
      const item = await waitFor('the queue item', () => jenkins.findQueueItem(job.metadata.name));
      await waitForJob(job, 'enqueued', (j) => j.status.description === ENQUEUED);
      await operator!.settled();
      const build = jenkins.startBuild(item.id);
      if (result) jenkins.finishBuild(build, result);
      jenkins.inject({ method: 'GET', path: '/job/unit/api/json' }, { status: 200, body: { _class: 'hudson.model.FreeStyleProject', builds: [] } });

      await syncAll();
      expect((await read(job)).job.status).toMatchObject({ state, url: build.url, jenkins_build_id: String(build.number) });
      expect(buildRequestsFor(job)).toHaveLength(1);
    });
  });

  describe('metrics', () => {
    async function metric(name: string): Promise<(MetricValue<string> & { metricName?: string })[]> {
      const found = registry.getSingleMetric(name);
      if (!found) throw new Error(`no metric ${name}`);
      return (await found.get()).values;
    }

    it('counts the Jenkins ProwJobs it watches by state, and no others', async () => {
      const done = await createJob('unit');
      await store.update(done.metadata.name, (j) => transition(j, 'success', now(), { description: 'Ended by hand.' }));
      await createJob('lint');
      await startOperator();
      const running = await createJob('team/integration');
      const item = await waitFor('the queue item', () => jenkins.findQueueItem(running.metadata.name));
      jenkins.startBuild(item.id);
      await syncAll();

      const expected = JSON.stringify({ triggered: 0, pending: 1, success: 1, failure: 0, aborted: 0, error: 0 });
      const byState = await waitFor('the gauge to show what the bucket holds', async () => {
        const shown = JSON.stringify(Object.fromEntries((await metric('bowline_operator_prowjobs')).map((v) => [v.labels.state, v.value])));
        return shown === expected && shown;
      });
      expect(JSON.parse(byState)).toEqual(JSON.parse(expected));
    });

    it('times every periodic resync', async () => {
      await startOperator({ config: { ...CONFIG, jenkinsOperator: { resyncPeriodMs: 50 } } });
      await createJob('unit');
      await waitFor('two timed resyncs', async () => {
        const count = (await metric('bowline_operator_resync_seconds')).find((v) => v.metricName === 'bowline_operator_resync_seconds_count');
        return (count?.value ?? 0) >= 2;
      });
    });
  });
});
