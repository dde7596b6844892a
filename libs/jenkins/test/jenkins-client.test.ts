import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { createLogger, SettingsError } from '@bowline/observability';
import { FakeJenkins, type FakeJenkinsOptions } from '../../testing/src/jenkins-server.js';
import { JenkinsClient, JenkinsError, type JenkinsClientOptions } from '../src/index.js';

const logger = createLogger({ service: 'test', level: 'silent' });
const DEPLOY = JenkinsClient.jobPath('deploy');
const UNIT = JenkinsClient.jobPath('team/unit');

async function caught(promise: Promise<unknown>): Promise<JenkinsError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof JenkinsError) return error;
    throw error;
  }
  throw new Error('expected a JenkinsError, but the call succeeded');
}

async function eventually(check: () => boolean, what: string): Promise<void> {
  for (let waited = 0; !check(); waited += 10) {
    if (waited > 5000) throw new Error(`gave up waiting: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('JenkinsClient', () => {
  let jenkins: FakeJenkins;
  let client: JenkinsClient;

  function connect(options: Partial<JenkinsClientOptions> = {}): JenkinsClient {
    return new JenkinsClient({
      url: jenkins.url,
      auth: { kind: 'basic', user: 'bowline', token: 'jenkins-token' },
      logger,
      retryBaseMs: 1,
      ...options,
    });
  }

  async function restart(options: FakeJenkinsOptions): Promise<void> {
    await jenkins.close();
    jenkins = await FakeJenkins.start({ jobs: ['deploy', 'team/unit'], ...options });
    client = connect();
  }

  beforeEach(async () => {
    jenkins = await FakeJenkins.start({ jobs: ['deploy', 'team/unit'] });
    client = connect();
  });

  afterEach(async () => {
    await jenkins.close();
  });

  describe('jobPath', () => {
    it.each([
      ['deploy', 'job/deploy'],
      ['team/unit', 'job/team/job/unit'],
      ['/team/unit/', 'job/team/job/unit'],
      ['my team/unit tests', 'job/my%20team/job/unit%20tests'],
    ])('turns %j into %j', (job, path) => {
      expect(JenkinsClient.jobPath(job)).toBe(path);
    });
  });

  describe('authentication', () => {
    it('sends the user and API token on every request', async () => {
      await client.buildWithParameters(DEPLOY, { PROW_JOB_ID: 'pj-1' });
      await client.listQueue();

      const expected = `Basic ${Buffer.from('bowline:jenkins-token').toString('base64')}`;
      expect(jenkins.requests.length).toBeGreaterThanOrEqual(3);
      expect(jenkins.requests.map((r) => r.headers.authorization)).toEqual(jenkins.requests.map(() => expected));
    });

    it('sends a bearer token when given one', async () => {
      await restart({ bearerToken: 'sso-token' });
      client = connect({ auth: { kind: 'bearer', token: 'sso-token' } });

      await client.buildWithParameters(DEPLOY, { PROW_JOB_ID: 'pj-1' });

      expect(jenkins.findQueueItem('pj-1')).toBeDefined();
      expect(new Set(jenkins.requests.map((r) => r.headers.authorization))).toEqual(new Set(['Bearer sso-token']));
    });

    it('fails with a 401 JenkinsError that never shows the token when Jenkins refuses the credentials', async () => {
      client = connect({ auth: { kind: 'basic', user: 'bowline', token: 'stale-secret' } });

      const error = await caught(client.listQueue());

      expect(error.status).toBe(401);
      expect(error.transient).toBe(false);
      expect(error.message).toBe('cannot list the Jenkins queue: Jenkins answered 401 (check the Jenkins user and API token)');
      expect(JSON.stringify({ message: error.message, context: error.context })).not.toMatch(/stale-secret|c3RhbGUtc2VjcmV0/);
      expect(jenkins.requestsTo({ path: '/queue/api/json' })).toHaveLength(1);
    });

    it('refuses a URL that carries credentials, without repeating them', () => {
      const build = (): JenkinsClient => connect({ url: 'https://bowline:hunter2@jenkins.example.com/' });

      expect(build).toThrow(SettingsError);
      expect(build).not.toThrow(/hunter2/);
    });
  });

  describe('CSRF crumbs', () => {
    it('fetches a crumb once and sends it, with its session cookie, on every POST', async () => {
      await client.buildWithParameters(DEPLOY, { PROW_JOB_ID: 'pj-1' });
      await client.buildWithParameters(DEPLOY, { PROW_JOB_ID: 'pj-2' });

      const crumbs = jenkins.requestsTo({ path: '/crumbIssuer/api/json' });
      const posts = jenkins.requestsTo({ method: 'POST' });
      expect(crumbs).toHaveLength(1);
      expect(posts.map((p) => p.status)).toEqual([201, 201]);
      expect(posts.every((p) => typeof p.headers['jenkins-crumb'] === 'string')).toBe(true);
      expect(posts.every((p) => String(p.headers.cookie).startsWith('JSESSIONID.'))).toBe(true);
    });

    it('fetches a new crumb after Jenkins rotated it and sends the POST again exactly once', async () => {
      await client.buildWithParameters(DEPLOY, { PROW_JOB_ID: 'pj-1' });
      jenkins.rotateCrumb();

      await client.buildWithParameters(DEPLOY, { PROW_JOB_ID: 'pj-2' });

      expect(jenkins.requestsTo({ path: '/crumbIssuer/api/json' })).toHaveLength(2);
      expect(jenkins.requestsTo({ method: 'POST' }).map((p) => p.status)).toEqual([201, 403, 201]);
      expect(jenkins.queue().map((i) => i.parameters.PROW_JOB_ID)).toEqual(['pj-1', 'pj-2']);
    });

    it('gives up when the fresh crumb is refused too', async () => {
      jenkins.inject(
        { method: 'POST', path: '/job/deploy/buildWithParameters' },
        { status: 403, body: 'No valid crumb was included in the request', times: 5 },
      );

      const error = await caught(client.buildWithParameters(DEPLOY, { PROW_JOB_ID: 'pj-1' }));

      expect(error.status).toBe(403);
      expect(error.message).toBe('cannot queue a build of job "deploy": Jenkins answered 403');
      expect(jenkins.requestsTo({ method: 'POST' })).toHaveLength(2);
    });

    it('does not send the POST again when it is refused for a permission rather than a crumb', async () => {
      jenkins.inject({ method: 'POST' }, { status: 403, body: 'bowline is missing the Job/Build permission' });

      const error = await caught(client.stopBuild(DEPLOY, 1));

      expect(error.status).toBe(403);
      expect(jenkins.requestsTo({ method: 'POST' })).toHaveLength(1);
    });

    it('sends no crumb when Jenkins has no crumb issuer', async () => {
      await restart({ crumb: false });

      await client.buildWithParameters(DEPLOY, { PROW_JOB_ID: 'pj-1' });
      await client.buildWithParameters(DEPLOY, { PROW_JOB_ID: 'pj-2' });

      expect(jenkins.requestsTo({ path: '/crumbIssuer/api/json' }).map((r) => r.status)).toEqual([404]);
      expect(jenkins.requestsTo({ method: 'POST' }).map((p) => [p.status, p.headers['jenkins-crumb']])).toEqual([
        [201, undefined],
        [201, undefined],
      ]);
    });
  });

  describe('buildWithParameters', () => {
    it('sends the parameters as a form and returns the queue item Jenkins answers with', async () => {
      const parameters = { PROW_JOB_ID: 'pj-1', PULL_REFS: 'main:abc,7:def', JOB_SPEC: '{"type":"presubmit"}', PULL_TITLE: 'Fix a & b' };

      const { queueUrl } = await client.buildWithParameters(UNIT, parameters);

      const [post] = jenkins.requestsTo({ method: 'POST', path: '/job/team/job/unit/buildWithParameters' });
      expect(post?.headers['content-type']).toBe('application/x-www-form-urlencoded');
      expect(Object.fromEntries(new URLSearchParams(post!.body))).toEqual(parameters);
      expect(queueUrl).toBe(`${jenkins.url}/queue/item/1/`);
      expect(jenkins.queue()).toEqual([expect.objectContaining({ id: 1, job: 'team/unit', parameters })]);
    });

    it('reaches a multibranch pull request job through its view', async () => {
      jenkins.addJob('org-repo/PR-7');

      await client.buildWithParameters(`${JenkinsClient.jobPath('org-repo')}/view/change-requests/job/PR-7`, { PROW_JOB_ID: 'pj-1' });

      expect(jenkins.findQueueItem('pj-1')?.job).toBe('org-repo/PR-7');
    });

    it('works under a context path', async () => {
      await restart({ prefix: '/jenkins' });

      await client.buildWithParameters(DEPLOY, { PROW_JOB_ID: 'pj-1' });

      expect(jenkins.requestsTo({ method: 'POST' }).map((r) => r.path)).toEqual(['/jenkins/job/deploy/buildWithParameters']);
      expect(jenkins.findQueueItem('pj-1')).toBeDefined();
    });

    it('fails with a 404 JenkinsError naming the job when Jenkins does not have it', async () => {
      const error = await caught(client.buildWithParameters(JenkinsClient.jobPath('team/missing'), { PROW_JOB_ID: 'pj-1' }));

      expect(error).toBeInstanceOf(JenkinsError);
      expect(error.message).toBe('cannot queue a build of job "team/missing": Jenkins answered 404');
      expect(error.context).toMatchObject({ method: 'POST', path: 'job/team/job/missing/buildWithParameters', status: 404 });
    });

    it('does not send the POST again after a 500, since Jenkins may have queued the build', async () => {
      jenkins.inject({ method: 'POST', path: '/job/deploy/buildWithParameters' }, { status: 500 });

      const error = await caught(client.buildWithParameters(DEPLOY, { PROW_JOB_ID: 'pj-1' }));

      expect(error.status).toBe(500);
      expect(error.transient).toBe(true);
      expect(jenkins.requestsTo({ method: 'POST' })).toHaveLength(1);
    });

    it('does not send the POST again after a timeout, though Jenkins did queue the build', async () => {
      client = connect({ timeoutMs: 100 });
      jenkins.inject({ method: 'POST', path: '/job/deploy/buildWithParameters' }, { delayMs: 300 });

      const error = await caught(client.buildWithParameters(DEPLOY, { PROW_JOB_ID: 'pj-1' }));

      expect(error.message).toBe(
        'cannot queue a build of job "deploy": no answer within 100 ms; Jenkins may still have acted on the request',
      );
      expect(error.status).toBeUndefined();
      await eventually(() => jenkins.requestsTo({ method: 'POST' }).length > 0, 'the slow POST to be handled');
      expect(jenkins.requestsTo({ method: 'POST' })).toHaveLength(1);
      expect(jenkins.queue()).toHaveLength(1);
    });
  });

  describe('reading the queue and builds', () => {
    it('lists queued items with their job and parameters', async () => {
      await client.buildWithParameters(UNIT, { PROW_JOB_ID: 'pj-1', PULL_NUMBER: '7' });

      expect(await client.listQueue()).toEqual([
        {
          id: 1,
          taskName: 'unit',
          taskUrl: `${jenkins.url}/job/team/job/unit/`,
          parameters: { PROW_JOB_ID: 'pj-1', PULL_NUMBER: '7' },
          why: 'Waiting for next available executor',
        },
      ]);
      const [request] = jenkins.requestsTo({ path: '/queue/api/json' });
      expect(request?.query.get('tree')).toBe('items[id,task[name,url],actions[parameters[name,value]],why]');
    });

    it('lists a job’s builds newest first as Jenkins starts and finishes them', async () => {
      await client.buildWithParameters(UNIT, { PROW_JOB_ID: 'pj-1' });
      await client.buildWithParameters(UNIT, { PROW_JOB_ID: 'pj-2' });
      jenkins.finishBuild(jenkins.startBuild(1), 'UNSTABLE');
      jenkins.startBuild(2);

      const builds = await client.listBuilds(UNIT);

      expect(builds).toEqual([
        { number: 2, url: `${jenkins.url}/job/team/job/unit/2/`, building: true, result: null, queueId: 2, parameters: { PROW_JOB_ID: 'pj-2' } },
        { number: 1, url: `${jenkins.url}/job/team/job/unit/1/`, building: false, result: 'UNSTABLE', queueId: 1, parameters: { PROW_JOB_ID: 'pj-1' } },
      ]);
      expect(await client.listQueue()).toEqual([]);
      const [request] = jenkins.requestsTo({ path: '/job/team/job/unit/api/json' });
      expect(request?.query.get('tree')).toBe('builds[number,result,building,url,queueId,actions[parameters[name,value]]]');
    });

    it('reads one build while it runs and after it finished', async () => {
      await client.buildWithParameters(DEPLOY, { PROW_JOB_ID: 'pj-1' });
      const build = jenkins.startBuild(1);

      const running = await client.getBuild(DEPLOY, 1);
      jenkins.finishBuild(build, 'SUCCESS');
      const finished = await client.getBuild(DEPLOY, 1);

      expect(running).toMatchObject({ number: 1, building: true, result: null, queueId: 1, parameters: { PROW_JOB_ID: 'pj-1' } });
      expect(finished).toMatchObject({ number: 1, building: false, result: 'SUCCESS' });
    });

    it.each<[string, (jenkins: FakeJenkins) => void, Record<string, unknown>]>([
      ['still waiting', () => undefined, { cancelled: false, why: 'Waiting for next available executor' }],
      ['cancelled before it ran', (j) => void (j.findQueueItem('pj-1')!.cancelled = true), { cancelled: true }],
      ['turned into a build', (j) => void j.startBuild(1), { cancelled: false, executable: { number: 1, url: '/job/team/job/unit/1/' } }],
    ])('reads what became of a queue item that is %s', async (_, happen, expected) => {
      await client.buildWithParameters(UNIT, { PROW_JOB_ID: 'pj-1' });
      happen(jenkins);

      const item = await client.getQueueItem(1);

      const { executable, ...rest } = expected as { executable?: { number: number; url: string } };
      expect(item).toEqual({
        id: 1,
        taskName: 'unit',
        taskUrl: `${jenkins.url}/job/team/job/unit/`,
        parameters: { PROW_JOB_ID: 'pj-1' },
        ...rest,
        ...(executable ? { executable: { ...executable, url: `${jenkins.url}${executable.url}` } } : {}),
      });
      const [request] = jenkins.requestsTo({ method: 'GET', path: '/queue/item/1/api/json' });
      expect(request?.query.get('tree')).toBe('id,task[name,url],actions[parameters[name,value]],why,cancelled,executable[number,url]');
    });

    it('fails with a 404 JenkinsError for a queue item Jenkins no longer remembers', async () => {
      const error = await caught(client.getQueueItem(42));

      expect(error.status).toBe(404);
      expect(error.message).toBe('cannot read queue item 42: Jenkins answered 404');
    });

    it('fails with a 404 JenkinsError saying what it tried when the job is unknown', async () => {
      const error = await caught(client.listBuilds(JenkinsClient.jobPath('a/b')));

      expect(error.status).toBe(404);
      expect(error.transient).toBe(false);
      expect(error.message).toBe('cannot list builds for job "a/b": Jenkins answered 404');
      expect(jenkins.requestsTo({ path: '/job/a/job/b/api/json' })).toHaveLength(1);
    });

    it('streams a build’s console', async () => {
      await client.buildWithParameters(DEPLOY, { PROW_JOB_ID: 'pj-1' });
      jenkins.finishBuild(jenkins.startBuild(1), 'FAILURE', 'FAIL: TestLogin');

      const response = await client.consoleText(DEPLOY, 1);

      expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
      expect(await response.text()).toMatch(/FAIL: TestLogin\nFinished: FAILURE\n$/);
    });
  });

  describe('retrying reads', () => {
    it('reads again after a 500', async () => {
      jenkins.inject({ path: '/queue/api/json' }, { status: 500, body: 'java.lang.NullPointerException' });

      expect(await client.listQueue()).toEqual([]);
      expect(jenkins.requestsTo({ path: '/queue/api/json' }).map((r) => r.status)).toEqual([500, 200]);
    });

    it('reads again after an answer slower than the timeout', async () => {
      client = connect({ timeoutMs: 100 });
      await client.buildWithParameters(DEPLOY, { PROW_JOB_ID: 'pj-1' });
      jenkins.inject({ path: '/queue/api/json' }, { delayMs: 300 });

      const items = await client.listQueue();

      expect(items.map((i) => i.parameters.PROW_JOB_ID)).toEqual(['pj-1']);
      await eventually(() => jenkins.requestsTo({ path: '/queue/api/json' }).length === 2, 'the slow answer to be recorded');
    });

    it('reads again after a 429', async () => {
      jenkins.inject({ path: '/job/deploy/api/json' }, { status: 429, headers: { 'retry-after': '0' } });

      expect(await client.listBuilds(DEPLOY)).toEqual([]);
      expect(jenkins.requestsTo({ path: '/job/deploy/api/json' })).toHaveLength(2);
    });

    it('stops after the configured number of retries', async () => {
      client = connect({ retries: 2 });
      jenkins.inject({ path: '/queue/api/json' }, { status: 503, times: 10 });

      const error = await caught(client.listQueue());

      expect(error.status).toBe(503);
      expect(error.transient).toBe(true);
      expect(jenkins.requestsTo({ path: '/queue/api/json' })).toHaveLength(3);
    });

    it('reads again when Jenkins cannot be reached, and then says why it gave up', async () => {
      const url = jenkins.url;
      await jenkins.close();
      let attempts = 0;
      client = connect({
        url,
        retries: 1,
        fetch: (input, init) => {
          attempts += 1;
          return fetch(input, init);
        },
      });

      const error = await caught(client.listQueue());

      expect(attempts).toBe(2);
      expect(error.status).toBeUndefined();
      expect(error.message).toMatch(/^cannot list the Jenkins queue: fetch failed \(.*ECONNREFUSED.*\)$/);
    });

    it('does not read again when Jenkins answers with something that is not JSON', async () => {
      jenkins.inject({ path: '/queue/api/json' }, { status: 200, body: '<html>Sign in</html>', headers: { 'content-type': 'text/html' } });

      const error = await caught(client.listQueue());

      expect(error.message).toBe('cannot list the Jenkins queue: Jenkins answered 200 with a body that is not JSON');
      expect(jenkins.requestsTo({ path: '/queue/api/json' })).toHaveLength(1);
    });
  });

  describe('stopping builds and cancelling queue items', () => {
    it('stops a running build and takes the redirect as success', async () => {
      await client.buildWithParameters(DEPLOY, { PROW_JOB_ID: 'pj-1' });
      const build = jenkins.startBuild(1);

      await client.stopBuild(DEPLOY, 1);
      await client.stopBuild(DEPLOY, 1);

      expect(build).toMatchObject({ building: false, result: 'ABORTED' });
      expect(jenkins.requestsTo({ method: 'POST', path: '/job/deploy/1/stop' }).map((r) => r.status)).toEqual([302, 302]);
      expect(await client.getBuild(DEPLOY, 1)).toMatchObject({ building: false, result: 'ABORTED' });
    });

    it('fails when Jenkins redirects a stop to its login page', async () => {
      jenkins.inject({ method: 'POST', path: '/job/deploy/1/stop' }, { status: 302, headers: { location: '/login?from=%2Fjob%2Fdeploy%2F1%2Fstop' } });

      const error = await caught(client.stopBuild(DEPLOY, 1));

      expect(error.status).toBe(302);
      expect(error.message).toContain('login page');
    });

    it('fails with a 404 JenkinsError when the build does not exist', async () => {
      const error = await caught(client.stopBuild(UNIT, 9));

      expect(error.message).toBe('cannot stop build #9 of job "team/unit": Jenkins answered 404');
    });

    it('cancels a queued item', async () => {
      await client.buildWithParameters(DEPLOY, { PROW_JOB_ID: 'pj-1' });

      await client.cancelQueueItem(1);

      expect(jenkins.findQueueItem('pj-1')?.cancelled).toBe(true);
      expect(await client.listQueue()).toEqual([]);
    });

    it('takes the 404 Jenkins answers after cancelling (JENKINS-21311) as success', async () => {
      await client.buildWithParameters(DEPLOY, { PROW_JOB_ID: 'pj-1' });
      jenkins.findQueueItem('pj-1')!.cancelled = true;
      jenkins.inject({ method: 'POST', path: '/queue/cancelItem' }, { status: 404 });

      await client.cancelQueueItem(1);
      await client.cancelQueueItem(1);

      expect(jenkins.requestsTo({ method: 'POST', path: '/queue/cancelItem' }).map((r) => r.status)).toEqual([404, 404]);
    });

    it('takes cancelling an id Jenkins no longer knows as success', async () => {
      await expect(client.cancelQueueItem(42)).resolves.toBeUndefined();
    });

    it('says which build a queue item became when it is too late to cancel it', async () => {
      await client.buildWithParameters(DEPLOY, { PROW_JOB_ID: 'pj-1' });
      jenkins.startBuild(1);

      const error = await caught(client.cancelQueueItem(1));

      expect(error.message).toBe('cannot cancel queue item 1: it already left the queue as build #1');
      expect(error.context).toMatchObject({ build: 1, buildUrl: `${jenkins.url}/job/deploy/1/` });
    });
  });
});
