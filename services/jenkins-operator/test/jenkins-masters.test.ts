import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { Registry } from 'prom-client';
import { parseConfig, staticConfigSource, type Config } from '@bowline/config';
import { JenkinsClient } from '@bowline/jenkins';
import { createLogger } from '@bowline/observability';
import { newPresubmitJob, prowJobName, transition, type ProwJob, type ProwJobStore } from '@bowline/prowjob';
import { FakeJenkins, startProwJobBucket, TEST_CA_FILE, testServerTls, waitFor, type ProwJobBucket } from '@bowline/testing';
import { startOpsServer } from '@bowline/service';
import { buildParameters } from '../src/build-parameters.js';
import { JENKINS_MASTER, JenkinsMasters } from '../src/jenkins-masters.js';
import { createLogsHandler } from '../src/logs-route.js';
import { DESCRIPTIONS } from '../src/job-records.js';
import { JenkinsOperator } from '../src/operator.js';

// Jobs carry a `master` label from config.yaml; each master's label_selector takes its own.
const JOBS = `
presubmits:
  acme/widgets:
  - name: unit
    agent: jenkins
    context: ci/jenkins/unit
    labels: { master: east }
  - name: integration
    agent: jenkins
    context: ci/jenkins/integration
    labels: { master: west }
  - name: nowhere
    agent: jenkins
    context: ci/jenkins/nowhere
    labels: { master: north }
  - name: pipeline
    agent: jenkins
    context: ci/jenkins/pipeline
    labels: { master: east }
bowline:
  jenkins_operator:
    resync_period: 1h
`;
const USER = 'bowline';
const TOKEN = 'jenkins-token';
const logger = createLogger({ service: 'test', level: 'silent' });
const secrets = mkdtempSync(join(tmpdir(), 'bowline-masters-'));
const tokenFile = join(secrets, 'token');
writeFileSync(tokenFile, `${TOKEN}\n`);

let created = 0;
function newJob(config: Config, jobName: string, pull = 7): ProwJob {
  created += 1;
  const presubmit = config.presubmits['acme/widgets']!.find((p) => p.name === jobName)!;
  return newPresubmitJob(presubmit, {
    name: prowJobName('masters-test', String(process.pid), String(created), jobName),
    refs: {
      org: 'acme',
      repo: 'widgets',
      base_ref: 'main',
      base_sha: 'b'.repeat(40),
      pulls: [{ number: pull, author: 'alice', sha: 'a'.repeat(40), ref: 'feature', title: 'Add sprockets' }],
    },
    now: new Date(),
    cause: { event: 'issue_comment', deliveryId: `delivery-${created}`, user: 'alice', comment: '/test all' },
  });
}

/** A `bowline.jenkins` entry for a fake master, as a user writes it. */
function master(name: string, jenkins: FakeJenkins, extra: Record<string, string | number> = {}): string {
  const fields: Record<string, string | number> = { name, url: jenkins.url, user: USER, token_file: tokenFile, label_selector: `master=${name}`, ...extra };
  return `  - ${Object.entries(fields)
    .map(([key, value]) => `${key}: ${typeof value === 'number' ? value : `"${value}"`}`)
    .join('\n    ')}\n`;
}

function configWith(masters: string[]): Config {
  return parseConfig(`${JOBS}  jenkins:\n${masters.join('')}`, 'config.yaml');
}

describe('JenkinsOperator with several Jenkins masters', () => {
  let bucket: ProwJobBucket;
  let store: ProwJobStore;
  let east: FakeJenkins;
  let west: FakeJenkins;
  let operator: JenkinsOperator | undefined;
  let masters: JenkinsMasters;
  // Added to the real time, so a test can step past the operator's retry wait without sleeping.
  let clockOffsetMs = 0;
  const now = (): Date => new Date(Date.now() + clockOffsetMs);

  beforeAll(async () => {
    bucket = await startProwJobBucket();
    store = bucket.store;
  });

  afterAll(async () => {
    await bucket?.stop();
  });

  beforeEach(async () => {
    clockOffsetMs = 0;
    east = await FakeJenkins.start({ jobs: ['unit'], apiToken: TOKEN });
    east.addJob('pipeline', { parametersInPipeline: true });
    west = await FakeJenkins.start({ jobs: ['integration'], apiToken: TOKEN });
  });

  afterEach(async () => {
    await operator?.stop();
    operator = undefined;
    await east.close();
    await west.close();
    for (const { job } of await store.list()) await bucket.kv.purge(job.metadata.name);
  });

  async function startOperator(config: Config, options: { defaultClient?: JenkinsClient } = {}): Promise<JenkinsOperator> {
    const source = staticConfigSource(config);
    masters = new JenkinsMasters({
      config: source,
      logger,
      defaultClient: options.defaultClient,
      createClient: (clientOptions) => new JenkinsClient({ ...clientOptions, retries: 1, retryBaseMs: 1 }),
    });
    operator = new JenkinsOperator({ store, masters, config: source, logger, registry: new Registry(), now });
    await operator.start();
    return operator;
  }

  async function create(config: Config, jobName: string, pull?: number): Promise<ProwJob> {
    const job = newJob(config, jobName, pull);
    expect(await store.create(job)).toBe(true);
    return job;
  }

  async function waitForJob(job: ProwJob, what: string, predicate: (current: ProwJob) => boolean): Promise<ProwJob> {
    return waitFor(`${job.spec.job} ${what}`, async () => {
      const current = (await store.get(job.metadata.name))?.job;
      return current !== undefined && predicate(current) && current;
    });
  }

  async function syncAll(): Promise<void> {
    await operator!.settled();
    await operator!.sync((await store.list()).map((s) => s.job));
    await operator!.settled();
  }

  const enqueued = (j: ProwJob): boolean => j.status.description === DESCRIPTIONS.enqueued;

  it('starts each job on the master whose label selector takes it, and records which', async () => {
    const config = configWith([master('east', east), master('west', west)]);
    await startOperator(config);
    const unit = await create(config, 'unit');
    const integration = await create(config, 'integration');

    const onEast = await waitForJob(unit, 'enqueued', enqueued);
    const onWest = await waitForJob(integration, 'enqueued', enqueued);
    expect(east.findQueueItem(unit.metadata.name)).toBeDefined();
    expect(west.findQueueItem(integration.metadata.name)).toBeDefined();
    expect(east.findQueueItem(integration.metadata.name)).toBeUndefined();
    expect(west.findQueueItem(unit.metadata.name)).toBeUndefined();
    expect([onEast.metadata.annotations[JENKINS_MASTER], onWest.metadata.annotations[JENKINS_MASTER]]).toEqual(['east', 'west']);
  });

  it('keeps following a build on the master it started on after the selectors change', async () => {
    const before = configWith([master('east', east), master('west', west)]);
    let current = before;
    const source = { get: () => current };
    masters = new JenkinsMasters({ config: source, logger });
    operator = new JenkinsOperator({ store, masters, config: source, logger, registry: new Registry() });
    await operator.start();
    const unit = await create(before, 'unit');
    await waitForJob(unit, 'enqueued', enqueued);

    // Now west claims every job; the build queued on east is still east's.
    current = configWith([master('west', west, { label_selector: 'master in (east,west)' }), master('east', east)]);
    east.finishBuild(east.startBuild(east.findQueueItem(unit.metadata.name)!.id), 'SUCCESS');
    await syncAll();
    expect((await store.get(unit.metadata.name))!.job.status.state).toBe('success');
    expect(west.requestsTo({ method: 'POST' })).toEqual([]);
  });

  it('lets the jobs of a reachable master go on while another master is down', async () => {
    const config = configWith([master('east', east), master('west', west)]);
    await startOperator(config);
    west.inject({ path: '/queue/api/json' }, { status: 503, times: 1_000 });
    west.inject({ path: '/crumbIssuer/api/json' }, { status: 503, times: 1_000 });

    const integration = await create(config, 'integration');
    const unit = await create(config, 'unit');
    await waitForJob(unit, 'enqueued', enqueued);
    await syncAll();
    expect((await store.get(integration.metadata.name))!.job.status).toMatchObject({ state: 'triggered', description: 'Job triggered.' });
    expect(west.requestsTo({ method: 'POST' })).toEqual([]);
  });

  it('counts max_concurrency per master, queued builds included', async () => {
    const config = configWith([master('east', east, { max_concurrency: 1 }), master('west', west)]);
    await startOperator(config);
    const first = await create(config, 'unit', 1);
    await waitForJob(first, 'enqueued', enqueued);
    const second = await create(config, 'unit', 2);
    const other = await create(config, 'integration', 3);

    await waitForJob(other, 'enqueued', enqueued);
    const waiting = await waitForJob(second, 'waiting', (j) => (j.status.description ?? '').startsWith('Waiting'));
    expect(waiting.status.description).toBe('Waiting: 1 of 1 builds running on Jenkins master east.');
    expect(east.queue()).toHaveLength(1);

    east.finishBuild(east.startBuild(east.findQueueItem(first.metadata.name)!.id), 'SUCCESS');
    await syncAll();
    await waitForJob(second, 'enqueued', enqueued);
  });

  it('holds a job no master takes, saying why, and starts nothing for it', async () => {
    const config = configWith([master('east', east), master('west', west)]);
    await startOperator(config);
    const nowhere = await create(config, 'nowhere');
    const held = await waitForJob(nowhere, 'held', (j) => (j.status.description ?? '').startsWith('Waiting'));
    expect(held.status).toMatchObject({ state: 'triggered', description: 'Waiting: no Jenkins master in bowline.jenkins takes this job (check the label_selector of each).' });
    expect([...east.requestsTo({ method: 'POST' }), ...west.requestsTo({ method: 'POST' })]).toEqual([]);
  });

  it('sends the jobs no listed master takes to the JENKINS_URL master, listed last', async () => {
    const config = configWith([master('east', east)]);
    await startOperator(config, { defaultClient: new JenkinsClient({ url: west.url, auth: { kind: 'basic', user: USER, token: TOKEN }, logger }) });
    west.addJob('nowhere');
    const nowhere = await create(config, 'nowhere');
    const handed = await waitForJob(nowhere, 'enqueued', enqueued);
    expect(handed.metadata.annotations[JENKINS_MASTER]).toBe('default');
    expect(west.findQueueItem(nowhere.metadata.name)).toBeDefined();
  });

  it('holds the jobs of a master whose token file cannot be read, naming the file', async () => {
    const config = configWith([master('east', east, { token_file: join(secrets, 'missing') })]);
    await startOperator(config);
    const unit = await create(config, 'unit');
    const held = await waitForJob(unit, 'held', (j) => (j.status.description ?? '').includes('cannot be used'));
    expect(held.status.description).toBe(`Jenkins master "east" cannot be used: cannot read ${join(secrets, 'missing')}: ENOENT`);
    expect(east.requests).toEqual([]);
  });

  it('serves the log of a build from the master that ran it', async () => {
    const config = configWith([master('east', east), master('west', west)]);
    await startOperator(config);
    const integration = await create(config, 'integration');
    await waitForJob(integration, 'enqueued', enqueued);
    const build = west.startBuild(west.findQueueItem(integration.metadata.name)!.id);
    west.finishBuild(build, 'SUCCESS', 'integration tests passed');
    await syncAll();

    const logs = createLogsHandler({ store, masters, logger });
    const server = await startOpsServer({ port: 0, logger, registry: new Registry(), isReady: () => true, routes: (app) => void app.get('/logs/:prowjob', logs) });
    try {
      const response = await fetch(`http://127.0.0.1:${server.port}/logs/${integration.metadata.name}`);
      expect(response.status).toBe(200);
      expect(await response.text()).toContain('integration tests passed');
      expect(west.requestsTo({ method: 'GET', path: `/job/integration/${build.number}/consoleText` })).toHaveLength(1);
      expect(east.requestsTo({ path: /consoleText$/ })).toEqual([]);
    } finally {
      await server.close();
    }
  });

  describe('a master served over HTTPS with a company CA', () => {
    let secure: FakeJenkins;

    beforeEach(async () => {
      secure = await FakeJenkins.start({ jobs: ['unit'], apiToken: TOKEN, tls: testServerTls() });
    });

    afterEach(async () => {
      await secure.close();
    });

    it('is trusted through its ca_file', async () => {
      const config = configWith([master('east', secure, { ca_file: TEST_CA_FILE })]);
      await startOperator(config);
      const unit = await create(config, 'unit');
      await waitForJob(unit, 'enqueued', enqueued);
      expect(secure.url.startsWith('https://')).toBe(true);
      expect(secure.findQueueItem(unit.metadata.name)).toBeDefined();
    });

    it('is refused without it, and its jobs wait rather than fail', async () => {
      const config = configWith([master('east', secure)]);
      await startOperator(config);
      const unit = await create(config, 'unit');
      await syncAll();
      expect((await store.get(unit.metadata.name))!.job.status).toMatchObject({ state: 'triggered', description: 'Job triggered.' });
      expect(secure.requests).toEqual([]);
    });
  });

  describe('a pipeline that declares its parameters in its Jenkinsfile and has never run', () => {
    it('is primed with one parameterless build, then gets the real build once, and the priming build is stopped', async () => {
      const config = configWith([master('east', east)]);
      await startOperator(config);
      const job = await create(config, 'pipeline');

      const priming = await waitForJob(job, 'priming', (j) => j.status.description === DESCRIPTIONS.priming);
      expect(priming.status.state).toBe('triggered');
      expect(east.requestsTo({ method: 'POST', path: '/job/pipeline/build' })).toHaveLength(1);
      expect(east.requestsTo({ method: 'POST', path: '/job/pipeline/buildWithParameters' }).map((r) => r.status)).toEqual([500]);

      // Still not parameterized while the priming build waits for an executor: no second priming build.
      await syncAll();
      expect(east.requestsTo({ method: 'POST', path: '/job/pipeline/build' })).toHaveLength(1);

      // The priming build starts and its `parameters` directive registers them; the next try,
      // after the usual wait, looks again and requests the real build.
      const primingItem = east.queue().find((item) => item.parameters.PROW_JOB_ID === undefined)!;
      const primingBuild = east.startBuild(primingItem.id);
      clockOffsetMs = 11_000;
      await syncAll();

      await waitForJob(job, 'enqueued', enqueued);
      expect(east.requestsTo({ method: 'POST', path: '/job/pipeline/buildWithParameters' }).map((r) => r.status).at(-1)).toBe(201);
      expect(east.queue().filter((item) => item.parameters.PROW_JOB_ID === job.metadata.name)).toHaveLength(1);
      await waitFor('the priming build stopped', () => primingBuild.result === 'ABORTED');
      expect(east.requestsTo({ method: 'POST', path: '/job/pipeline/build' })).toHaveLength(1);
    });
  });

  describe('a Jenkins job with more builds in flight than its `builds` field lists', () => {
    it('follows them all with one listing reaching back far enough, not one request per build', async () => {
      const config = configWith([master('east', east)]);
      const client = new JenkinsClient({ url: east.url, auth: { kind: 'basic', user: USER, token: TOKEN }, logger });
      // 130 builds running for 130 ProwJobs, as an operator left them before a restart.
      const jobs: ProwJob[] = [];
      for (let i = 0; i < 130; i += 1) {
        const job = newJob(config, 'unit', 100 + i);
        const { queueUrl } = await client.buildWithParameters('job/unit', buildParameters(job));
        const build = east.startBuild(Number(/(\d+)\/$/.exec(queueUrl!)![1]));
        const pending = transition(job, 'pending', new Date(), { jenkins_build_id: String(build.number), url: build.url })!;
        pending.metadata.annotations[JENKINS_MASTER] = 'east';
        expect(await store.create(pending)).toBe(true);
        jobs.push(pending);
      }
      const oldest = east.builds('unit')[0]!;
      east.finishBuild(oldest, 'SUCCESS');
      const requestsBefore = east.requests.length;

      await startOperator(config);
      await waitForJob(jobs[0]!, 'success', (j) => j.status.state === 'success');
      await operator!.settled();
      // The first pass after a start cannot know how far back to reach, so it lists once more,
      // reaching back to the oldest build followed; every later pass lists once. None asks for a
      // build on its own.
      const atStart = east.requests.slice(requestsBefore).filter((r) => r.method === 'GET');
      const passes = atStart.filter((r) => r.path === '/queue/api/json').length;
      const listings = atStart.filter((r) => r.path === '/job/unit/api/json');
      expect(listings).toHaveLength(passes + 1);
      expect(listings.map((r) => r.query.get('tree')!.split('[', 1)[0])).toEqual(['builds', ...Array<string>(passes).fill('allBuilds')]);
      expect(atStart.filter((r) => /^\/job\/unit\/\d+\//.test(r.path))).toEqual([]);

      const secondFrom = east.requests.length;
      east.finishBuild(east.builds('unit')[1]!, 'FAILURE');
      await syncAll();
      const secondPass = east.requests.slice(secondFrom);
      expect(secondPass.map((r) => `${r.method} ${r.path}`)).toEqual(['GET /queue/api/json', 'GET /job/unit/api/json']);
      expect(secondPass[1]!.query.get('tree')).toMatch(/^allBuilds\[.*\]\{0,\d+\}$/);
      expect((await store.get(jobs[1]!.metadata.name))!.job.status.state).toBe('failure');
    });
  });
});
