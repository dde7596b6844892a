import { setTimeout as sleep } from 'node:timers/promises';
import { Agent } from 'undici';
import { describeError, SettingsError, type Logger } from '@bowline/observability';
import { JenkinsError } from './jenkins-error.js';

/** `none` is for a master that lets anonymous users build (rare; a test instance). */
export type JenkinsAuth = { kind: 'basic'; user: string; token: string } | { kind: 'bearer'; token: string } | { kind: 'none' };

export interface JenkinsClientOptions {
  /** Root URL of the controller, with its context path if any (`https://host/jenkins`). */
  url: string;
  auth: JenkinsAuth;
  logger: Logger;
  fetch?: typeof fetch;
  /**
   * PEM certificates to trust for this master instead of the system's (a company CA). Per client,
   * unlike NODE_EXTRA_CA_CERTS, so one master's CA does not widen what the others trust.
   */
  ca?: string;
  /** Per attempt; default 30 s. */
  timeoutMs?: number;
  /** How many times a GET is tried again after a network error, a 5xx or a 429; default 3. */
  retries?: number;
  /** First backoff delay, doubled each retry, plus jitter; default 200 ms. */
  retryBaseMs?: number;
}

export interface JenkinsBuild {
  number: number;
  url: string;
  building: boolean;
  /** `SUCCESS`, `FAILURE`, `UNSTABLE`, `ABORTED`, `NOT_BUILT`; null while running. */
  result: string | null;
  queueId?: number;
  parameters: Record<string, string>;
}

export interface JenkinsQueueItem {
  id: number;
  /** The job's own name, without its folders; `taskUrl` tells jobs of equal names apart. */
  taskName: string;
  taskUrl?: string;
  parameters: Record<string, string>;
  why?: string;
}

/** One queue item by id, as Jenkins keeps it for a few minutes after it left the queue. */
export interface JenkinsQueueItemRecord extends JenkinsQueueItem {
  /** Taken out of the queue by someone (the queue's ✕, `/queue/cancelItem`) before it ran. */
  cancelled: boolean;
  /** The build the item became, once it left the queue to run. */
  executable?: { number: number; url: string };
}

interface Crumb {
  field: string;
  value: string;
  /** Session cookie the crumb belongs to; since Jenkins 2.176 a crumb is only valid with it. */
  cookie?: string;
}

interface RawBuild {
  number?: unknown;
  url?: unknown;
  building?: unknown;
  result?: unknown;
  queueId?: unknown;
  actions?: unknown;
}

interface RawQueueItem {
  id?: unknown;
  task?: { name?: unknown; url?: unknown };
  actions?: unknown;
  why?: unknown;
  cancelled?: unknown;
  executable?: { number?: unknown; url?: unknown } | null;
}

const QUEUE_ITEM_FIELDS = 'id,task[name,url],actions[parameters[name,value]],why';
const QUEUE_TREE = `items[${QUEUE_ITEM_FIELDS}]`;
const QUEUE_ITEM_TREE = `${QUEUE_ITEM_FIELDS},cancelled,executable[number,url]`;
const BUILD_FIELDS = 'number,result,building,url,queueId,actions[parameters[name,value]]';
/** Jenkins' `builds` holds the newest 100 (Job#getNewBuilds); deeper listings ask `allBuilds` for a range. */
export const BUILDS_LISTED_BY_DEFAULT = 100;
const DETAIL_LIMIT = 300;
const MAX_RETRY_AFTER_MS = 60_000;

/**
 * Jenkins' REST API over plain `fetch`. GETs are retried; POSTs are sent once, because a POST
 * whose answer was lost may already have queued a build, and only a look-up by `PROW_JOB_ID` can
 * tell. The one exception is a POST refused for its CSRF crumb, which Jenkins rejects before
 * acting on it.
 */
export class JenkinsClient {
  private readonly root: string;
  private readonly authorization?: string;
  private readonly log: Logger;
  private readonly fetchImpl: typeof fetch;
  private readonly timeoutMs: number;
  private readonly retries: number;
  private readonly retryBaseMs: number;
  private crumb?: Promise<Crumb | null>;

  constructor(options: JenkinsClientOptions) {
    let url: URL;
    try {
      url = new URL(options.url);
    } catch (error) {
      // The value itself stays out of the message: a mistyped URL may still hold a password.
      throw new SettingsError('the Jenkins URL is not an absolute http(s) URL', { cause: error });
    }
    if (url.username || url.password) {
      throw new SettingsError('the Jenkins URL carries credentials: give them as the user and API token (or bearer token) instead');
    }
    this.root = `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
    if (options.auth.kind === 'basic') this.authorization = `Basic ${Buffer.from(`${options.auth.user}:${options.auth.token}`, 'utf8').toString('base64')}`;
    else if (options.auth.kind === 'bearer') this.authorization = `Bearer ${options.auth.token}`;
    this.log = options.logger.child({ jenkins: this.root });
    const base = options.fetch ?? fetch;
    if (options.ca) {
      // Node's fetch is undici: a dispatcher with its own CA is how one client trusts one master's CA.
      const dispatcher = new Agent({ connect: { ca: options.ca } });
      this.fetchImpl = (input, init) => base(input, { ...init, dispatcher } as RequestInit);
    } else {
      this.fetchImpl = base;
    }
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.retries = options.retries ?? 3;
    this.retryBaseMs = options.retryBaseMs ?? 200;
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
    const response = await this.post(`${trimSlashes(jobPath)}/buildWithParameters`, `cannot queue a build of job "${job}"`, {
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
    const response = await this.post(`${trimSlashes(jobPath)}/build?delay=0sec`, `cannot queue a build of job "${job}"`, { accept: (r) => r.ok });
    await discard(response);
    const queueUrl = response.headers.get('location') ?? undefined;
    this.log.info({ job, queueUrl }, 'queued a Jenkins build without parameters');
    return queueUrl === undefined ? {} : { queueUrl };
  }

  async listQueue(): Promise<JenkinsQueueItem[]> {
    const raw = await this.getJson<{ items?: RawQueueItem[] }>(
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
    const raw = await this.getJson<RawQueueItem>(path, `cannot read queue item ${id}`);
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
    const raw = await this.getJson<{ builds?: RawBuild[]; allBuilds?: RawBuild[] }>(
      `${trimSlashes(jobPath)}/api/json?tree=${encodeURIComponent(tree)}`,
      `cannot list builds for job "${jobName(jobPath)}"`,
    );
    return (raw.allBuilds ?? raw.builds ?? []).flatMap((build) => (typeof build.number === 'number' ? [toBuild(build, build.number)] : []));
  }

  async getBuild(jobPath: string, number: number): Promise<JenkinsBuild> {
    const path = `${trimSlashes(jobPath)}/${number}/api/json?tree=${encodeURIComponent(BUILD_FIELDS)}`;
    const what = `cannot read build #${number} of job "${jobName(jobPath)}"`;
    const raw = await this.getJson<RawBuild>(path, what);
    if (typeof raw.number !== 'number') {
      throw new JenkinsError(`${what}: Jenkins answered without a build number`, { method: 'GET', path, status: 200 });
    }
    return toBuild(raw, raw.number);
  }

  async stopBuild(jobPath: string, number: number): Promise<void> {
    const response = await this.post(
      `${trimSlashes(jobPath)}/${number}/stop`,
      `cannot stop build #${number} of job "${jobName(jobPath)}"`,
      { accept: isDoneOrRedirect },
    );
    await discard(response);
  }

  async cancelQueueItem(id: number): Promise<void> {
    const path = `queue/cancelItem?id=${id}`;
    const what = `cannot cancel queue item ${id}`;
    const response = await this.post(path, what, { accept: (r) => isDoneOrRedirect(r) || r.status === 404 });
    await discard(response);
    if (response.status !== 404) return;

    // JENKINS-21311: Jenkins answers 404 after cancelling, and also for an item that already left
    // the queue as a build; the item's own record tells the two apart.
    let item: RawQueueItem;
    try {
      item = await this.getJson<RawQueueItem>(`queue/item/${id}/api/json`, what);
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
    return this.get(
      `${trimSlashes(jobPath)}/${number}/consoleText`,
      `cannot read the console of build #${number} of job "${jobName(jobPath)}"`,
      async (response) => response,
      { stream: true, signal: options.signal },
    );
  }

  private async getJson<T>(path: string, what: string): Promise<T> {
    return this.get(path, what, (response) => readJson<T>(response, what, path));
  }

  private async get<T>(
    path: string,
    what: string,
    read: (response: Response) => Promise<T>,
    options: { stream?: boolean; signal?: AbortSignal } = {},
  ): Promise<T> {
    for (let attempt = 0; ; attempt += 1) {
      let failure: JenkinsError;
      let retryAfterMs: number | undefined;
      try {
        const response = await this.send('GET', path, {}, options);
        if (response.ok) return await read(response);
        retryAfterMs = retryAfter(response);
        failure = this.statusError(what, 'GET', path, response.status, await readText(response));
      } catch (error) {
        if (error instanceof JenkinsError) throw error;
        failure = this.requestError(what, 'GET', path, error);
      }
      if (!failure.transient || attempt >= this.retries || options.signal?.aborted) throw failure;
      const delayMs = this.backoff(attempt, retryAfterMs);
      this.log.warn({ method: 'GET', path, status: failure.status, attempt: attempt + 1, delayMs, err: failure }, 'Jenkins request failed; trying again');
      await sleep(delayMs, undefined, { signal: options.signal });
    }
  }

  private async post(
    path: string,
    what: string,
    options: { body?: string; contentType?: string; accept: (response: Response) => boolean },
  ): Promise<Response> {
    for (let resent = false; ; resent = true) {
      const crumbRequest = this.crumbRequest();
      let crumb: Crumb | null;
      try {
        crumb = await crumbRequest;
      } catch (error) {
        throw new JenkinsError(`${what}: ${describeError(error)}`, {
          method: 'POST',
          path,
          status: error instanceof JenkinsError ? error.status : undefined,
          cause: error,
        });
      }
      const headers: Record<string, string> = {};
      if (options.contentType) headers['content-type'] = options.contentType;
      if (crumb) {
        headers[crumb.field] = crumb.value;
        if (crumb.cookie) headers.cookie = crumb.cookie;
      }

      let response: Response;
      try {
        response = await this.send('POST', path, headers, { body: options.body });
      } catch (error) {
        throw this.requestError(what, 'POST', path, error);
      }
      if (response.status === 403) {
        const text = await readText(response);
        if (!resent && /crumb/i.test(text)) {
          this.log.info({ path }, 'Jenkins refused the CSRF crumb; fetching a new one and sending the request again');
          if (this.crumb === crumbRequest) this.crumb = undefined;
          continue;
        }
        throw this.statusError(what, 'POST', path, 403, text);
      }
      if (options.accept(response)) return response;
      throw this.statusError(what, 'POST', path, response.status, await readText(response), response.headers.get('location'));
    }
  }

  private crumbRequest(): Promise<Crumb | null> {
    if (!this.crumb) {
      const request = this.fetchCrumb();
      this.crumb = request;
      request.catch(() => {
        if (this.crumb === request) this.crumb = undefined;
      });
    }
    return this.crumb;
  }

  private async fetchCrumb(): Promise<Crumb | null> {
    const path = 'crumbIssuer/api/json';
    const what = 'cannot fetch a CSRF crumb';
    try {
      return await this.get(path, what, async (response) => {
        const raw = await readJson<{ crumb?: unknown; crumbRequestField?: unknown }>(response, what, path);
        if (typeof raw.crumb !== 'string' || typeof raw.crumbRequestField !== 'string') {
          throw new JenkinsError(`${what}: Jenkins answered without crumb and crumbRequestField`, { method: 'GET', path, status: response.status });
        }
        const cookies = response.headers
          .getSetCookie()
          .map((cookie) => cookie.split(';', 1)[0]!.trim())
          .filter((cookie) => cookie.length > 0);
        return { field: raw.crumbRequestField, value: raw.crumb, cookie: cookies.length > 0 ? cookies.join('; ') : undefined };
      });
    } catch (error) {
      if (error instanceof JenkinsError && error.status === 404) {
        this.log.debug('Jenkins has no crumb issuer (CSRF protection is off); sending requests without a crumb');
        return null;
      }
      throw error;
    }
  }

  private async send(
    method: 'GET' | 'POST',
    path: string,
    headers: Record<string, string>,
    options: { body?: string; stream?: boolean; signal?: AbortSignal },
  ): Promise<Response> {
    const url = `${this.root}/${path}`;
    const init: RequestInit = {
      method,
      headers: this.authorization ? { authorization: this.authorization, ...headers } : headers,
      body: options.body,
      // A POST's 302 is Jenkins' way of saying done; following it would turn into a GET of a page.
      redirect: method === 'POST' ? 'manual' : 'follow',
    };
    const started = Date.now();
    let response: Response;
    if (!options.stream) {
      response = await this.fetchImpl(url, { ...init, signal: AbortSignal.timeout(this.timeoutMs) });
    } else {
      // AbortSignal.timeout would also cut the body off mid-stream, so only the wait is timed here.
      const controller = new AbortController();
      const timer = setTimeout(
        () => controller.abort(new DOMException(`no answer within ${this.timeoutMs} ms`, 'TimeoutError')),
        this.timeoutMs,
      );
      const signal = options.signal ? AbortSignal.any([controller.signal, options.signal]) : controller.signal;
      try {
        response = await this.fetchImpl(url, { ...init, signal });
      } finally {
        clearTimeout(timer);
      }
    }
    this.log.debug({ method, path, status: response.status, ms: Date.now() - started }, 'Jenkins answered');
    return response;
  }

  private statusError(what: string, method: string, path: string, status: number, body: string, location?: string | null): JenkinsError {
    let hint = '';
    if (status === 401) hint = ' (check the Jenkins user and API token)';
    else if (location && isLoginPage(location)) hint = ' (a redirect to the login page: check the Jenkins credentials)';
    const detail = excerpt(body);
    return new JenkinsError(`${what}: Jenkins answered ${status}${hint}`, { method, path, status, context: detail ? { detail } : {} });
  }

  private requestError(what: string, method: string, path: string, error: unknown): JenkinsError {
    const timedOut = errorLike(error)?.name === 'TimeoutError';
    let reason = timedOut ? `no answer within ${this.timeoutMs} ms` : describeNetworkError(error);
    if (method === 'POST') reason += '; Jenkins may still have acted on the request';
    return new JenkinsError(`${what}: ${reason}`, { method, path, cause: error });
  }

  private backoff(attempt: number, retryAfterMs: number | undefined): number {
    const exponential = this.retryBaseMs * 2 ** attempt;
    // Jitter keeps many operators that saw the same outage from coming back in step.
    const delay = exponential + Math.random() * exponential;
    return Math.max(delay, Math.min(retryAfterMs ?? 0, MAX_RETRY_AFTER_MS));
  }
}

function trimSlashes(path: string): string {
  return path.replace(/^\/+|\/+$/g, '');
}

/** `job/a/job/b` → `a/b`, the name people know the job by. */
function jobName(jobPath: string): string {
  const segments = trimSlashes(jobPath).split('/');
  const names: string[] = [];
  for (let i = 0; i + 1 < segments.length; i += 2) {
    if (segments[i] === 'job') names.push(decodeURIComponent(segments[i + 1]!));
  }
  return names.length > 0 ? names.join('/') : jobPath;
}

function isLoginPage(location: string): boolean {
  return /\/login\/?$/.test(new URL(location, 'http://jenkins').pathname);
}

function isDoneOrRedirect(response: Response): boolean {
  if (response.ok) return true;
  if (response.status < 300 || response.status >= 400) return false;
  const location = response.headers.get('location');
  return !location || !isLoginPage(location);
}

function retryAfter(response: Response): number | undefined {
  const header = response.headers.get('retry-after');
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return seconds * 1000;
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

async function readJson<T>(response: Response, what: string, path: string): Promise<T> {
  const text = await response.text();
  try {
    return JSON.parse(text) as T;
  } catch (error) {
    // A proxy's or SSO login page answered instead of Jenkins; trying again will not help.
    throw new JenkinsError(`${what}: Jenkins answered ${response.status} with a body that is not JSON`, {
      method: 'GET',
      path,
      status: response.status,
      cause: error,
      context: { detail: excerpt(text) },
    });
  }
}

async function readText(response: Response): Promise<string> {
  try {
    return await response.text();
  } catch {
    return '';
  }
}

async function discard(response: Response): Promise<void> {
  await readText(response);
}

function excerpt(body: string): string {
  const text = body
    .replace(/<[^>]*>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return text.length > DETAIL_LIMIT ? `${text.slice(0, DETAIL_LIMIT)}…` : text;
}

/**
 * Errors from `fetch` may come from another realm (jest's VM modules, a polyfill), where
 * `instanceof Error` is false; their shape is what counts.
 */
function errorLike(error: unknown): { name?: unknown; message?: unknown; cause?: unknown } | undefined {
  return typeof error === 'object' && error !== null ? error : undefined;
}

function describeNetworkError(error: unknown): string {
  const message = errorLike(error)?.message;
  if (typeof message !== 'string') return describeError(error);
  // undici reports every connection failure as "fetch failed" and keeps the reason in `cause`.
  const cause = errorLike(errorLike(error)?.cause)?.message;
  return typeof cause === 'string' && cause ? `${message} (${cause})` : message;
}

function parseParameters(actions: unknown): Record<string, string> {
  const parameters: Record<string, string> = {};
  if (!Array.isArray(actions)) return parameters;
  for (const action of actions as { parameters?: unknown }[]) {
    if (!action || !Array.isArray(action.parameters)) continue;
    for (const parameter of action.parameters as { name?: unknown; value?: unknown }[]) {
      const { name, value } = parameter ?? {};
      if (typeof name !== 'string') continue;
      // Boolean and number parameters come as JSON values; file and run parameters carry none.
      if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') parameters[name] = String(value);
    }
  }
  return parameters;
}

function toBuild(raw: RawBuild, number: number): JenkinsBuild {
  const build: JenkinsBuild = {
    number,
    url: typeof raw.url === 'string' ? raw.url : '',
    building: raw.building === true,
    result: typeof raw.result === 'string' ? raw.result : null,
    parameters: parseParameters(raw.actions),
  };
  if (typeof raw.queueId === 'number') build.queueId = raw.queueId;
  return build;
}

function toQueueItem(raw: RawQueueItem, id: number): JenkinsQueueItem {
  const item: JenkinsQueueItem = {
    id,
    taskName: typeof raw.task?.name === 'string' ? raw.task.name : '',
    parameters: parseParameters(raw.actions),
  };
  if (typeof raw.task?.url === 'string') item.taskUrl = raw.task.url;
  if (typeof raw.why === 'string') item.why = raw.why;
  return item;
}
