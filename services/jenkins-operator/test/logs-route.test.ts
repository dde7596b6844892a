import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { Registry } from 'prom-client';
import { parseConfig, staticConfigSource } from '@bowline/config';
import { JenkinsClient } from '@bowline/jenkins';
import { createLogger } from '@bowline/observability';
import { newPresubmitJob, prowJobName, transition, type ProwJob, type ProwJobStore } from '@bowline/prowjob';
import { FakeJenkins, startProwJobBucket, type FakeBuild, type ProwJobBucket } from '@bowline/testing';
import { startOpsServer, type OpsServer } from '@bowline/service';
import { buildParameters } from '../src/build-parameters.js';
import { JenkinsMasters } from '../src/jenkins-masters.js';
import { createLogsHandler } from '../src/logs-route.js';

const CONFIG = parseConfig(
  `
presubmits:
  acme/widgets:
  - name: unit
    agent: jenkins
    context: ci/jenkins/unit
  - name: team/integration
    agent: jenkins
    context: ci/jenkins/integration
  - name: lint
    agent: kubernetes
    context: ci/prow/lint
`,
  'config.yaml',
);
const TOKEN = 'jenkins-token';
const logger = createLogger({ service: 'test', level: 'silent' });

let created = 0;
function newJob(jobName: string): ProwJob {
  created += 1;
  const presubmit = CONFIG.presubmits['acme/widgets']!.find((p) => p.name === jobName)!;
  return newPresubmitJob(presubmit, {
    name: prowJobName('logs-test', String(process.pid), String(created)),
    refs: { org: 'acme', repo: 'widgets', base_ref: 'master', base_sha: 'b'.repeat(40), pulls: [{ number: 7, author: 'alice', sha: 'a'.repeat(40) }] },
    now: new Date(),
    cause: { event: 'issue_comment', deliveryId: `delivery-${created}`, user: 'alice', comment: '/test all' },
  });
}

describe('GET /logs/{prowjob}', () => {
  let bucket: ProwJobBucket;
  let store: ProwJobStore;
  let jenkins: FakeJenkins;
  let server: OpsServer;

  beforeAll(async () => {
    bucket = await startProwJobBucket();
    store = bucket.store;
  });

  afterAll(async () => {
    await bucket?.stop();
  });

  beforeEach(async () => {
    jenkins = await FakeJenkins.start({ jobs: ['unit', 'team/integration'], apiToken: TOKEN });
    const client = new JenkinsClient({ url: jenkins.url, auth: { kind: 'basic', user: 'bowline', token: TOKEN }, logger, retries: 1, retryBaseMs: 1 });
    const masters = new JenkinsMasters({ config: staticConfigSource(CONFIG), defaultClient: client, logger });
    const logs = createLogsHandler({ store, masters, logger });
    // Wired as main.ts wires it.
    server = await startOpsServer({ port: 0, logger, registry: new Registry(), isReady: () => true, routes: (app) => void app.get('/logs/:prowjob', logs) });
  });

  afterEach(async () => {
    await server.close();
    await jenkins.close();
  });

  /** A ProwJob in the bucket whose build Jenkins is running, as the operator leaves it. */
  async function jobWithBuild(jobName: string): Promise<{ job: ProwJob; build: FakeBuild }> {
    const job = newJob(jobName);
    await store.create(job);
    const path = JenkinsClient.jobPath(jobName);
    const client = new JenkinsClient({ url: jenkins.url, auth: { kind: 'basic', user: 'bowline', token: TOKEN }, logger });
    await client.buildWithParameters(path, buildParameters(job));
    const build = jenkins.startBuild(jenkins.findQueueItem(job.metadata.name)!.id);
    await store.update(job.metadata.name, (j) => transition(j, 'pending', new Date(), { url: build.url, jenkins_build_id: String(build.number) }));
    return { job, build };
  }

  async function get(name: string): Promise<{ status: number; type: string | null; text: string; headers: Headers }> {
    const response = await fetch(`http://127.0.0.1:${server.port}/logs/${name}`);
    return { status: response.status, type: response.headers.get('content-type'), text: await response.text(), headers: response.headers };
  }

  it.each([
    ['a job', 'unit', '/job/unit/1/consoleText'],
    ['a job in a folder', 'team/integration', '/job/team/job/integration/1/consoleText'],
  ])('streams the console of the build of %s as plain text', async (_, jobName, consolePath) => {
    const { job, build } = await jobWithBuild(jobName);
    jenkins.finishBuild(build, 'FAILURE', '--- FAIL: TestLogin (0.01s)');

    const answer = await get(job.metadata.name);

    expect(answer.status).toBe(200);
    expect(answer.type).toBe('text/plain; charset=utf-8');
    expect(answer.text).toBe(build.console);
    expect(answer.text).toMatch(/--- FAIL: TestLogin \(0\.01s\)\nFinished: FAILURE\n$/);
    expect(jenkins.requestsTo({ method: 'GET', path: consolePath })).toHaveLength(1);
  });

  it('streams the log a running build has written so far', async () => {
    const { job, build } = await jobWithBuild('unit');

    const answer = await get(job.metadata.name);

    expect(answer.status).toBe(200);
    expect(answer.text).toBe(build.console);
    expect(answer.text).not.toMatch(/Finished:/);
  });

  it.each<[string, () => Promise<string>, RegExp]>([
    ['a ProwJob that does not exist', async () => 'no-such-prowjob', /^No Jenkins ProwJob named no-such-prowjob\.\n$/],
    ['a name that cannot be a ProwJob', async () => '..%2F..%2Fetc', /^No such ProwJob\.\n$/],
    [
      'a ProwJob whose build has not started',
      async () => {
        const job = newJob('unit');
        await store.create(job);
        return job.metadata.name;
      },
      /has no Jenkins build yet/,
    ],
    [
      'a ProwJob of another agent',
      async () => {
        const job = newJob('lint');
        await store.create({ ...job, status: { ...job.status, jenkins_build_id: '1' } });
        return job.metadata.name;
      },
      /^No Jenkins ProwJob named/,
    ],
    [
      'a build Jenkins no longer keeps',
      async () => {
        const job = newJob('unit');
        await store.create({ ...job, status: { ...job.status, state: 'pending', jenkins_build_id: '41' } });
        return job.metadata.name;
      },
      /^The log of build #41 is no longer kept by Jenkins\.\n$/,
    ],
  ])('answers 404 in plain text for %s', async (_, prepare, message) => {
    const answer = await get(await prepare());

    expect(answer.status).toBe(404);
    expect(answer.type).toBe('text/plain; charset=utf-8');
    expect(answer.text).toMatch(message);
  });

  it('answers 502 when Jenkins fails, without passing on what Jenkins said', async () => {
    const { job } = await jobWithBuild('unit');
    jenkins.inject({ method: 'GET', path: /\/consoleText$/ }, { status: 500, body: 'java.lang.IllegalStateException at hudson.model.Run', times: 10 });

    const answer = await get(job.metadata.name);

    expect(answer.status).toBe(502);
    expect(answer.text).toBe('Cannot read the build log from Jenkins.\n');
  });

  it('never shows the reader the Jenkins credentials or session it reads the log with', async () => {
    const { job, build } = await jobWithBuild('unit');
    jenkins.finishBuild(build, 'SUCCESS');

    const answer = await get(job.metadata.name);

    const [consoleRequest] = jenkins.requestsTo({ method: 'GET', path: '/job/unit/1/consoleText' });
    const authorization = String(consoleRequest?.headers.authorization);
    expect(authorization).toMatch(/^Basic /);
    const shown = `${JSON.stringify([...answer.headers])}\n${answer.text}`;
    for (const secret of [TOKEN, authorization, authorization.slice('Basic '.length), 'JSESSIONID']) expect(shown).not.toContain(secret);
    expect([...answer.headers.keys()].filter((h) => /^(set-cookie|x-jenkins|www-authenticate)$/.test(h))).toEqual([]);
  });
});
