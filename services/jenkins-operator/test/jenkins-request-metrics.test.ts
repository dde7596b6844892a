import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { Registry } from 'prom-client';
import { JenkinsClient, JenkinsError } from '@bowline/jenkins';
import { createLogger } from '@bowline/observability';
import { FakeJenkins } from '@bowline/testing';
import { instrumentJenkinsFetch } from '../src/jenkins-request-metrics.js';

const logger = createLogger({ service: 'test', level: 'silent' });
const AUTH = { kind: 'basic', user: 'bowline', token: 'jenkins-token' } as const;

interface Sample {
  labels: Partial<Record<string, string | number>>;
  value: number;
  metricName?: string;
}

describe('instrumentJenkinsFetch', () => {
  let jenkins: FakeJenkins;
  let registry: Registry;

  beforeEach(async () => {
    jenkins = await FakeJenkins.start({ jobs: ['unit'] });
    registry = new Registry();
  });

  afterEach(async () => {
    await jenkins.close();
  });

  function connect(url = jenkins.url): JenkinsClient {
    return new JenkinsClient({ url, auth: AUTH, logger, retries: 1, retryBaseMs: 1, fetch: instrumentJenkinsFetch(fetch, registry) });
  }

  async function samples(name: string): Promise<Sample[]> {
    const metric = registry.getSingleMetric(name);
    if (!metric) throw new Error(`no metric ${name}`);
    return (await metric.get()).values as Sample[];
  }

  async function requestsBy(): Promise<Record<string, number>> {
    return Object.fromEntries((await samples('bowline_jenkins_requests_total')).map((s) => [`${s.labels.verb} ${s.labels.code}`, s.value]));
  }

  it('counts every request the client makes by verb and the status Jenkins answered, retries included', async () => {
    const client = connect();
    jenkins.inject({ method: 'GET', path: '/queue/api/json' }, { status: 503 });

    await client.listQueue();
    await client.buildWithParameters('job/unit', { PROW_JOB_ID: 'pj-1' });
    await expect(client.getBuild('job/unit', 9)).rejects.toBeInstanceOf(JenkinsError);

    // The queue read twice (503, then 200), the crumb once, the POST, and the missing build.
    expect(await requestsBy()).toEqual({ 'GET 503': 1, 'GET 200': 2, 'POST 201': 1, 'GET 404': 1 });
    expect(jenkins.requests).toHaveLength(5);
  });

  it('counts a request that got no answer as an error', async () => {
    const gone = await FakeJenkins.start();
    const url = gone.url;
    await gone.close();

    await expect(connect(url).listQueue()).rejects.toBeInstanceOf(JenkinsError);

    expect(await requestsBy()).toEqual({ 'GET error': 2 });
  });

  it('times each request by verb', async () => {
    const client = connect();
    await client.buildWithParameters('job/unit', { PROW_JOB_ID: 'pj-1' });
    await client.listQueue();

    const counts = Object.fromEntries(
      (await samples('bowline_jenkins_request_seconds')).filter((s) => s.metricName === 'bowline_jenkins_request_seconds_count').map((s) => [s.labels.verb, s.value]),
    );
    expect(counts).toEqual({ GET: 2, POST: 1 });
  });
});
