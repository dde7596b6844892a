import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { FakeJenkins, type FakeJenkinsOptions } from '../src/jenkins-server.js';

const basic = (user: string, token: string): string => `Basic ${Buffer.from(`${user}:${token}`).toString('base64')}`;
const AUTH = basic('bowline', 'jenkins-token');

interface CallOptions {
  method?: string;
  authorization?: string | null;
  crumb?: string;
  form?: Record<string, string>;
}

describe('FakeJenkins', () => {
  let jenkins: FakeJenkins;

  async function start(options: FakeJenkinsOptions = {}): Promise<void> {
    await jenkins?.close();
    jenkins = await FakeJenkins.start({ jobs: ['deploy', 'team/unit'], ...options });
  }

  async function call(path: string, options: CallOptions = {}): Promise<Response> {
    const headers: Record<string, string> = {};
    if (options.authorization !== null) headers.authorization = options.authorization ?? AUTH;
    if (options.crumb) headers['Jenkins-Crumb'] = options.crumb;
    let body: string | undefined;
    if (options.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(options.form).toString();
    }
    return fetch(`${jenkins.url}${path}`, { method: options.method ?? 'GET', headers, body, redirect: 'manual' });
  }

  async function crumb(): Promise<string> {
    const response = await call('/crumbIssuer/api/json');
    return ((await response.json()) as { crumb: string }).crumb;
  }

  async function queueBuild(path: string, form: Record<string, string>): Promise<Response> {
    return call(`${path}/buildWithParameters`, { method: 'POST', crumb: await crumb(), form });
  }

  beforeEach(async () => {
    jenkins = await FakeJenkins.start({ jobs: ['deploy', 'team/unit'] });
  });

  afterEach(async () => {
    await jenkins.close();
  });

  describe('authentication', () => {
    it.each([
      ['no credentials', null],
      ['a wrong API token', basic('bowline', 'wrong')],
      ['a wrong user', basic('someone', 'jenkins-token')],
      ['a bearer token Jenkins was not given', 'Bearer jenkins-token'],
    ])('answers 401 with a Basic challenge when given %s', async (_, authorization) => {
      const response = await call('/queue/api/json', { authorization });

      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe('Basic realm="Jenkins"');
    });

    it('accepts the user and API token as basic auth', async () => {
      expect((await call('/queue/api/json')).status).toBe(200);
    });

    it('accepts the configured bearer token', async () => {
      await start({ bearerToken: 'sso-token' });

      expect((await call('/queue/api/json', { authorization: 'Bearer sso-token' })).status).toBe(200);
      expect((await call('/queue/api/json', { authorization: 'Bearer other' })).status).toBe(401);
    });
  });

  describe('CSRF protection', () => {
    it('issues a crumb with its request field and a session cookie', async () => {
      const response = await call('/crumbIssuer/api/json');

      expect(await response.json()).toEqual({
        _class: 'hudson.security.csrf.DefaultCrumbIssuer',
        crumbRequestField: 'Jenkins-Crumb',
        crumb: expect.stringMatching(/^[0-9a-f]{64}$/),
      });
      expect(response.headers.getSetCookie()[0]).toMatch(/^JSESSIONID\./);
    });

    it('refuses a POST without the crumb, as Jenkins words it, before looking at the path', async () => {
      for (const path of ['/job/deploy/buildWithParameters', '/job/missing/buildWithParameters']) {
        const response = await call(path, { method: 'POST' });

        expect(response.status).toBe(403);
        expect(await response.text()).toContain('No valid crumb was included in the request');
      }
      expect(jenkins.queue()).toEqual([]);
    });

    it('refuses the old crumb once it has been rotated', async () => {
      const old = await crumb();
      jenkins.rotateCrumb();

      const refused = await call('/job/deploy/buildWithParameters', { method: 'POST', crumb: old });
      const accepted = await call('/job/deploy/buildWithParameters', { method: 'POST', crumb: await crumb() });

      expect(refused.status).toBe(403);
      expect(accepted.status).toBe(201);
    });

    it('has no crumb issuer and takes POSTs without a crumb when CSRF protection is off', async () => {
      await start({ crumb: false });

      expect((await call('/crumbIssuer/api/json')).status).toBe(404);
      expect((await call('/job/deploy/buildWithParameters', { method: 'POST' })).status).toBe(201);
    });
  });

  describe('buildWithParameters', () => {
    it('answers 201 with an empty body and the queue item as Location', async () => {
      const response = await queueBuild('/job/deploy', { PROW_JOB_ID: 'pj-1' });

      expect(response.status).toBe(201);
      expect(await response.text()).toBe('');
      expect(response.headers.get('location')).toBe(`${jenkins.url}/queue/item/1/`);
      expect(jenkins.queue()).toEqual([
        { id: 1, job: 'deploy', parameters: { PROW_JOB_ID: 'pj-1' }, cancelled: false, inQueueSince: expect.any(Number) },
      ]);
    });

    it('takes parameters from the query string as well as from a form body', async () => {
      await call('/job/deploy/buildWithParameters?PROW_JOB_ID=pj-q&delay=0sec', { method: 'POST', crumb: await crumb() });

      expect(jenkins.findQueueItem('pj-q')?.parameters).toEqual({ PROW_JOB_ID: 'pj-q' });
    });

    it('answers 404 for a job it does not have', async () => {
      const response = await queueBuild('/job/missing', { PROW_JOB_ID: 'pj-1' });

      expect(response.status).toBe(404);
      expect(jenkins.queue()).toEqual([]);
    });

    it('numbers queue items across jobs and builds within each job', async () => {
      await queueBuild('/job/deploy', { PROW_JOB_ID: 'a' });
      await queueBuild('/job/team/job/unit', { PROW_JOB_ID: 'b' });
      await queueBuild('/job/deploy', { PROW_JOB_ID: 'c' });

      const started = [1, 2, 3].map((id) => jenkins.startBuild(id));

      expect(started.map((b) => [b.job, b.number, b.queueId])).toEqual([
        ['deploy', 1, 1],
        ['team/unit', 1, 2],
        ['deploy', 2, 3],
      ]);
      expect(started[1]!.url).toBe(`${jenkins.url}/job/team/job/unit/1/`);
    });

    it('folds a request into a waiting item with the same parameters, as Jenkins does', async () => {
      const first = await queueBuild('/job/deploy', { PROW_JOB_ID: 'same' });
      const second = await queueBuild('/job/deploy', { PROW_JOB_ID: 'same' });

      expect(second.headers.get('location')).toBe(first.headers.get('location'));
      expect(jenkins.queue()).toHaveLength(1);
    });

    it('tells listeners about each new queue item', async () => {
      const seen: string[] = [];
      jenkins.onQueued((item) => seen.push(`${item.id}:${item.parameters.PROW_JOB_ID}`));

      await queueBuild('/job/deploy', { PROW_JOB_ID: 'pj-1' });

      expect(seen).toEqual(['1:pj-1']);
    });

    it('addresses multibranch jobs through their view segments', async () => {
      jenkins.addJob('org-repo/PR-7');

      const response = await queueBuild('/job/org-repo/view/change-requests/job/PR-7', { PROW_JOB_ID: 'pj-1' });

      expect(response.status).toBe(201);
      expect(jenkins.findQueueItem('pj-1')?.job).toBe('org-repo/PR-7');
    });
  });

  describe('queue API', () => {
    it('lists waiting items with their task, parameters and reason', async () => {
      await queueBuild('/job/team/job/unit', { PROW_JOB_ID: 'pj-1', PULL_NUMBER: '7' });

      const body = (await (await call('/queue/api/json')).json()) as { items: unknown[] };

      expect(body.items).toEqual([
        expect.objectContaining({
          id: 1,
          task: expect.objectContaining({ name: 'unit', url: `${jenkins.url}/job/team/job/unit/` }),
          actions: expect.arrayContaining([
            expect.objectContaining({
              _class: 'hudson.model.ParametersAction',
              parameters: [
                expect.objectContaining({ name: 'PROW_JOB_ID', value: 'pj-1' }),
                expect.objectContaining({ name: 'PULL_NUMBER', value: '7' }),
              ],
            }),
          ]),
          why: 'Waiting for next available executor',
          inQueueSince: expect.any(Number),
        }),
      ]);
    });

    it('describes an item before and after it left the queue, and 404 for unknown ids', async () => {
      await queueBuild('/job/deploy', { PROW_JOB_ID: 'pj-1' });
      const waiting = await (await call('/queue/item/1/api/json')).json();
      const build = jenkins.startBuild(1);
      const left = await (await call('/queue/item/1/api/json')).json();

      expect(waiting).toMatchObject({ id: 1, cancelled: false, executable: null, task: { name: 'deploy' } });
      expect(left).toMatchObject({ id: 1, cancelled: false, executable: { number: 1, url: build.url } });
      expect(jenkins.queue()).toEqual([]);
      expect((await call('/queue/item/99/api/json')).status).toBe(404);
    });

    it('cancels a waiting item with a redirect to the queue, and answers 404 once it is gone', async () => {
      await queueBuild('/job/deploy', { PROW_JOB_ID: 'pj-1' });
      const token = await crumb();

      const cancelled = await call('/queue/cancelItem?id=1', { method: 'POST', crumb: token });
      const again = await call('/queue/cancelItem?id=1', { method: 'POST', crumb: token });
      const unknown = await call('/queue/cancelItem?id=42', { method: 'POST', crumb: token });

      expect(cancelled.status).toBe(302);
      expect(cancelled.headers.get('location')).toBe(`${jenkins.url}/queue/`);
      expect(again.status).toBe(404);
      expect(unknown.status).toBe(404);
      expect(jenkins.queue()).toEqual([]);
      expect(jenkins.findQueueItem('pj-1')?.cancelled).toBe(true);
      expect(() => jenkins.startBuild(1)).toThrow('no longer waiting');
    });
  });

  describe('job and build API', () => {
    it('lists builds newest first with their parameters and queue ids', async () => {
      await queueBuild('/job/team/job/unit', { PROW_JOB_ID: 'one' });
      await queueBuild('/job/team/job/unit', { PROW_JOB_ID: 'two' });
      jenkins.finishBuild(jenkins.startBuild(1), 'SUCCESS');
      jenkins.startBuild(2);

      const body = (await (await call('/job/team/job/unit/api/json')).json()) as Record<string, unknown>;

      expect(body).toMatchObject({ name: 'unit', fullName: 'team/unit', url: `${jenkins.url}/job/team/job/unit/` });
      expect(body.builds).toEqual([
        expect.objectContaining({ number: 2, queueId: 2, building: true, result: null }),
        expect.objectContaining({
          number: 1,
          queueId: 1,
          building: false,
          result: 'SUCCESS',
          url: `${jenkins.url}/job/team/job/unit/1/`,
          timestamp: expect.any(Number),
          actions: expect.arrayContaining([
            expect.objectContaining({ _class: 'hudson.model.ParametersAction', parameters: [expect.objectContaining({ name: 'PROW_JOB_ID', value: 'one' })] }),
          ]),
        }),
      ]);
    });

    it('shows only the newest 100 builds in the job API, as Jenkins does', async () => {
      for (let i = 0; i < 101; i += 1) {
        await queueBuild('/job/deploy', { PROW_JOB_ID: `pj-${i}` });
        jenkins.startBuild(i + 1);
      }

      const body = (await (await call('/job/deploy/api/json')).json()) as { builds: { number: number }[] };

      expect(body.builds).toHaveLength(100);
      expect(body.builds[0]!.number).toBe(101);
    });

    it('describes a folder by its jobs', async () => {
      const body = await (await call('/job/team/api/json')).json();

      expect(body).toMatchObject({ _class: 'com.cloudbees.hudson.plugins.folder.Folder', fullName: 'team', jobs: [{ name: 'unit' }] });
    });

    it('answers 404 for an unknown job or build', async () => {
      expect((await call('/job/missing/api/json')).status).toBe(404);
      expect((await call('/job/deploy/3/api/json')).status).toBe(404);
      expect((await call('/job/deploy/3/consoleText')).status).toBe(404);
    });

    it('stops a running build with a redirect to it, and leaves a finished one alone', async () => {
      await queueBuild('/job/deploy', { PROW_JOB_ID: 'a' });
      await queueBuild('/job/deploy', { PROW_JOB_ID: 'b' });
      const running = jenkins.startBuild(1);
      const finished = jenkins.startBuild(2);
      jenkins.finishBuild(finished, 'FAILURE');
      const token = await crumb();

      const stopRunning = await call('/job/deploy/1/stop', { method: 'POST', crumb: token });
      const stopFinished = await call('/job/deploy/2/stop', { method: 'POST', crumb: token });

      expect(stopRunning.status).toBe(302);
      expect(stopRunning.headers.get('location')).toBe(running.url);
      expect(running).toMatchObject({ building: false, result: 'ABORTED' });
      expect(stopFinished.status).toBe(302);
      expect(finished).toMatchObject({ building: false, result: 'FAILURE' });
    });

    it('serves the console as plain text ending with the result', async () => {
      await queueBuild('/job/deploy', { PROW_JOB_ID: 'a' });
      jenkins.finishBuild(jenkins.startBuild(1), 'FAILURE', 'make: *** [test] Error 1');

      const response = await call('/job/deploy/1/consoleText');

      expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
      expect(await response.text()).toMatch(/make: \*\*\* \[test\] Error 1\nFinished: FAILURE\n$/);
    });

    it('finds builds and queue items by their PROW_JOB_ID', async () => {
      await queueBuild('/job/deploy', { PROW_JOB_ID: 'queued' });
      await queueBuild('/job/team/job/unit', { PROW_JOB_ID: 'running' });
      jenkins.startBuild(2);

      expect(jenkins.findQueueItem('queued')?.id).toBe(1);
      expect(jenkins.findBuild('running')).toMatchObject({ job: 'team/unit', number: 1 });
      expect(jenkins.findBuild('queued')).toBeUndefined();
      expect(jenkins.builds('team/unit')).toHaveLength(1);
      expect(jenkins.builds('deploy')).toEqual([]);
    });
  });

  it('runs queued builds on its own under an autoRun policy', async () => {
    jenkins.autoRun({ startAfterMs: 5, finishAfterMs: 5, result: (b) => (b.parameters.PROW_JOB_ID === 'bad' ? 'FAILURE' : 'SUCCESS') });

    await queueBuild('/job/deploy', { PROW_JOB_ID: 'good' });
    await queueBuild('/job/deploy', { PROW_JOB_ID: 'bad' });
    for (let waited = 0; jenkins.builds().some((b) => b.building) || jenkins.builds().length < 2; waited += 10) {
      if (waited > 5000) throw new Error('autoRun did not finish both builds');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }

    expect(jenkins.findBuild('good')).toMatchObject({ building: false, result: 'SUCCESS' });
    expect(jenkins.findBuild('bad')).toMatchObject({ building: false, result: 'FAILURE' });
  });

  it('serves everything under a context path when given a prefix', async () => {
    await start({ prefix: '/jenkins/' });

    expect(jenkins.url).toMatch(/\/jenkins$/);
    expect((await call('/queue/api/json')).status).toBe(200);
    expect((await fetch(`${new URL(jenkins.url).origin}/queue/api/json`, { headers: { authorization: AUTH } })).status).toBe(404);
  });
});
