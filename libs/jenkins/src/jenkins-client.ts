import type { Logger } from '@bowline/observability';
import { discard, isDoneOrRedirect } from './jenkins-answers.js';
import { JenkinsError } from './jenkins-error.js';
import { JenkinsHttp, type JenkinsClientOptions } from './jenkins-http.js';
import {
  BUILD_FIELDS,
  BUILDS_LISTED_BY_DEFAULT,
  QUEUE_ITEM_TREE,
  QUEUE_TREE,
  toBuild,
  toQueueItem,
  type JenkinsBuild,
  type JenkinsQueueItem,
  type JenkinsQueueItemRecord,
  type RawBuild,
  type RawQueueItem,
} from './jenkins-records.js';
import { jobName, trimSlashes } from './job-paths.js';

/** Jenkins' REST API: queueing, stopping and looking up builds. How requests go is JenkinsHttp's. */
export class JenkinsClient {
  private readonly http: JenkinsHttp;
  private readonly log: Logger;

  constructor(options: JenkinsClientOptions) {
    this.http = new JenkinsHttp(options);
    this.log = this.http.log;
  }

  /** `a/b` → `job/a/job/b`: a folder is a job holding jobs. */
  static jobPath(job: string): string {
    return job
      .split('/')
      .filter((segment) => segment.length > 0)
      .map((segment) => `job/${encodeURIComponent(segment)}`)
      .join('/');
  }

  /** Queues a build; the `Location` answered is the queue item, a shortcut and nothing more. */
  async buildWithParameters(jobPath: string, parameters: Record<string, string>): Promise<{ queueUrl?: string }> {
    const job = jobName(jobPath);
    const response = await this.http.post(`${trimSlashes(jobPath)}/buildWithParameters`, `cannot queue a build of job "${job}"`, {
      body: new URLSearchParams(parameters).toString(),
      contentType: 'application/x-www-form-urlencoded',
      accept: (r) => r.ok,
    });
    await discard(response);
    const queueUrl = response.headers.get('location') ?? undefined;
    this.log.info({ job, prowjob: parameters.PROW_JOB_ID, queueUrl }, 'queued a Jenkins build');
    return queueUrl === undefined ? {} : { queueUrl };
  }

  /**
   * Queues a build of a job without parameters. Used once to prime a pipeline whose parameters are
   * declared in its Jenkinsfile: Jenkins only learns them when the pipeline first runs, and until
   * then answers `buildWithParameters` with "not parameterized".
   */
  async build(jobPath: string): Promise<{ queueUrl?: string }> {
    const job = jobName(jobPath);
    const response = await this.http.post(`${trimSlashes(jobPath)}/build?delay=0sec`, `cannot queue a build of job "${job}"`, { accept: (r) => r.ok });
    await discard(response);
    const queueUrl = response.headers.get('location') ?? undefined;
    this.log.info({ job, queueUrl }, 'queued a Jenkins build without parameters');
    return queueUrl === undefined ? {} : { queueUrl };
  }

  async listQueue(): Promise<JenkinsQueueItem[]> {
    const raw = await this.http.getJson<{ items?: RawQueueItem[] }>(
      `queue/api/json?tree=${encodeURIComponent(QUEUE_TREE)}`,
      'cannot list the Jenkins queue',
    );
    return (raw.items ?? []).flatMap((item) => (typeof item.id === 'number' ? [toQueueItem(item, item.id)] : []));
  }

  /**
   * What became of a queue item: still waiting, cancelled, or the build it turned into. Jenkins
   * forgets a left item about five minutes after it left (Queue#leftItems), and answers 404 then.
   */
  async getQueueItem(id: number): Promise<JenkinsQueueItemRecord> {
    const path = `queue/item/${id}/api/json?tree=${encodeURIComponent(QUEUE_ITEM_TREE)}`;
    const raw = await this.http.getJson<RawQueueItem>(path, `cannot read queue item ${id}`);
    const item: JenkinsQueueItemRecord = { ...toQueueItem(raw, id), cancelled: raw.cancelled === true };
    const executable = raw.executable;
    if (executable && typeof executable.number === 'number') {
      item.executable = { number: executable.number, url: typeof executable.url === 'string' ? executable.url : '' };
    }
    return item;
  }

  /**
   * The job's newest builds, newest first: the newest 100 (Jenkins' `builds`), or with `depth`
   * above that the newest `depth` from `allBuilds`, still in one request.
   */
  async listBuilds(jobPath: string, options: { depth?: number } = {}): Promise<JenkinsBuild[]> {
    const depth = options.depth ?? BUILDS_LISTED_BY_DEFAULT;
    const tree = depth > BUILDS_LISTED_BY_DEFAULT ? `allBuilds[${BUILD_FIELDS}]{0,${Math.ceil(depth)}}` : `builds[${BUILD_FIELDS}]`;
    const raw = await this.http.getJson<{ builds?: RawBuild[]; allBuilds?: RawBuild[] }>(
      `${trimSlashes(jobPath)}/api/json?tree=${encodeURIComponent(tree)}`,
      `cannot list builds for job "${jobName(jobPath)}"`,
    );
    return (raw.allBuilds ?? raw.builds ?? []).flatMap((build) => (typeof build.number === 'number' ? [toBuild(build, build.number)] : []));
  }

  async getBuild(jobPath: string, number: number): Promise<JenkinsBuild> {
    const path = `${trimSlashes(jobPath)}/${number}/api/json?tree=${encodeURIComponent(BUILD_FIELDS)}`;
    const what = `cannot read build #${number} of job "${jobName(jobPath)}"`;
    const raw = await this.http.getJson<RawBuild>(path, what);
    if (typeof raw.number !== 'number') {
      throw new JenkinsError(`${what}: Jenkins answered without a build number`, { method: 'GET', path, status: 200 });
    }
    return toBuild(raw, raw.number);
  }

  async stopBuild(jobPath: string, number: number): Promise<void> {
    const response = await this.http.post(
      `${trimSlashes(jobPath)}/${number}/stop`,
      `cannot stop build #${number} of job "${jobName(jobPath)}"`,
      { accept: isDoneOrRedirect },
    );
    await discard(response);
  }

  async cancelQueueItem(id: number): Promise<void> {
    const path = `queue/cancelItem?id=${id}`;
    const what = `cannot cancel queue item ${id}`;
    const response = await this.http.post(path, what, { accept: (r) => isDoneOrRedirect(r) || r.status === 404 });
    await discard(response);
    if (response.status !== 404) return;

    // JENKINS-21311: Jenkins answers 404 after cancelling, and also for an item that already left
    // the queue as a build; the item's own record tells the two apart.
    let item: RawQueueItem;
    try {
      item = await this.http.getJson<RawQueueItem>(`queue/item/${id}/api/json`, what);
    } catch (error) {
      if (error instanceof JenkinsError && error.status === 404) {
        // Jenkins forgets left items after a few minutes; nothing under this id is queued any more.
        this.log.debug({ queueId: id }, 'queue item to cancel is unknown to Jenkins');
        return;
      }
      throw error;
    }
    if (item.cancelled === true) return;
    const build = item.executable;
    if (build && typeof build.number === 'number') {
      throw new JenkinsError(`${what}: it already left the queue as build #${build.number}`, {
        method: 'POST',
        path,
        status: 404,
        context: { build: build.number, buildUrl: build.url },
      });
    }
    throw new JenkinsError(`${what}: Jenkins answered 404 and the item is still queued`, { method: 'POST', path, status: 404 });
  }

  /**
   * The build's log as a streaming response. The timeout covers the wait for the answer only:
   * a long log may take longer to read than any fixed deadline, so `signal` ends reading.
   */
  async consoleText(jobPath: string, number: number, options: { signal?: AbortSignal } = {}): Promise<Response> {
    return this.http.get(
      `${trimSlashes(jobPath)}/${number}/consoleText`,
      `cannot read the console of build #${number} of job "${jobName(jobPath)}"`,
      async (response) => response,
      { stream: true, signal: options.signal },
    );
  }
}
