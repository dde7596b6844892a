import { randomBytes } from 'node:crypto';
import {
  HttpFake,
  type TlsIdentity,
  type Fault,
  type FakeRequest,
  type FakeResponse,
  type RecordedRequest,
  type RequestMatcher,
} from './http-fake.js';

export type BuildResult = 'SUCCESS' | 'FAILURE' | 'UNSTABLE' | 'ABORTED' | 'NOT_BUILT';

export interface FakeBuild {
  /** Full job name, folders included: `a/b`. */
  job: string;
  number: number;
  queueId: number;
  parameters: Record<string, string>;
  building: boolean;
  result: BuildResult | null;
  url: string;
  timestamp: number;
  console: string;
}

export interface FakeQueueItem {
  id: number;
  job: string;
  parameters: Record<string, string>;
  cancelled: boolean;
  /** Set once the item has left the queue as a build. */
  build?: FakeBuild;
  inQueueSince: number;
}

export interface FakeJenkinsOptions {
  user?: string;
  apiToken?: string;
  /** Accepted as `Authorization: Bearer …` when set (what token-auth plugins in front of Jenkins do). */
  bearerToken?: string;
  /** CSRF protection; default true. When off, `/crumbIssuer/api/json` answers 404 as Jenkins does. */
  crumb?: boolean;
  jobs?: string[];
  /** Context path, as with `java -jar jenkins.war --prefix=/jenkins`. */
  prefix?: string;
  /** Serve HTTPS with this key and certificate (see `testServerTls`). */
  tls?: TlsIdentity;
}

export interface FakeJobOptions {
  /**
   * A pipeline whose `parameters` are declared in its Jenkinsfile: Jenkins knows them only once a
   * build of it has run, and until then refuses `buildWithParameters` (it is "not parameterized").
   */
  parametersInPipeline?: boolean;
  /**
   * A job that declares no parameters at all (a freestyle job without any, a pipeline without a
   * `parameters` directive): Jenkins refuses `buildWithParameters` however often it has run.
   */
  declaresNoParameters?: boolean;
}

export interface AutoRunPolicy {
  startAfterMs?: number;
  finishAfterMs?: number;
  result: (build: FakeBuild) => BuildResult;
}

interface FakeJob {
  name: string;
  builds: FakeBuild[];
  nextNumber: number;
  parameterized: boolean;
  declaresNoParameters: boolean;
}

const CRUMB_FIELD = 'Jenkins-Crumb';
const JENKINS_VERSION = '2.462.3';
// Jenkins' own wording (hudson.security.csrf.CrumbFilter); clients look for "crumb" in it.
const NO_CRUMB_MESSAGE = 'No valid crumb was included in the request';
// Jenkins' `builds` field stops at the newest 100 (Job#getNewBuilds); `allBuilds` has the rest.
const BUILDS_IN_JOB_API = 100;
// Request parameters Jenkins treats as options of the build call, never as build parameters.
const RESERVED_PARAMETERS = new Set(['token', 'delay', 'cause', 'json']);

const html = (status: number, message: string, headers: Record<string, string> = {}): FakeResponse => ({
  status,
  body: `<html><head><title>Error ${status}</title></head><body><h2>HTTP ERROR ${status} ${message}</h2></body></html>`,
  headers: { 'content-type': 'text/html;charset=utf-8', ...headers },
});

const notFound = (): FakeResponse => html(404, 'Not Found');

const methodNotAllowed = (): FakeResponse => html(405, 'This URL requires POST');

/**
 * A Jenkins controller on a loopback port, answering the parts of the REST API Bowline uses with
 * Jenkins' status codes, headers and JSON shapes: basic/bearer auth, CSRF crumbs, folder jobs,
 * the build queue, builds, stop and cancel. Tests drive what Jenkins would do on its own (a queued
 * item starting, a build finishing) with `startBuild`/`finishBuild`, or hand that to `autoRun`.
 */
export class FakeJenkins {
  private readonly http: HttpFake;
  private readonly user: string;
  private readonly apiToken: string;
  private readonly bearerToken?: string;
  private readonly crumbs: boolean;
  private readonly prefix: string;
  private readonly jobs = new Map<string, FakeJob>();
  private readonly items: FakeQueueItem[] = [];
  private readonly listeners: ((item: FakeQueueItem) => void)[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private policy?: AutoRunPolicy;
  private crumb = newCrumb();
  private nextQueueId = 1;
  private baseUrl = '';
  private readonly tls?: TlsIdentity;

  private constructor(options: FakeJenkinsOptions) {
    this.tls = options.tls;
    this.user = options.user ?? 'bowline';
    this.apiToken = options.apiToken ?? 'jenkins-token';
    this.bearerToken = options.bearerToken;
    this.crumbs = options.crumb ?? true;
    this.prefix = normalisePrefix(options.prefix);
    for (const job of options.jobs ?? []) this.addJob(job);
    this.http = new HttpFake((request) => this.handle(request));
  }

  static async start(options: FakeJenkinsOptions = {}): Promise<FakeJenkins> {
    const jenkins = new FakeJenkins(options);
    const origin = await jenkins.http.listen(0, jenkins.tls);
    jenkins.baseUrl = `${origin}${jenkins.prefix}`;
    return jenkins;
  }

  /** Root URL without a trailing slash, prefix included. */
  get url(): string {
    return this.baseUrl;
  }

  get requests(): RecordedRequest[] {
    return this.http.requests;
  }

  requestsTo(matcher: RequestMatcher): RecordedRequest[] {
    return this.http.requestsTo(matcher);
  }

  inject(matcher: RequestMatcher, fault: Fault): void {
    this.http.inject(matcher, fault);
  }

  onRequest(listener: (request: RecordedRequest) => void): void {
    this.http.onRequest(listener);
  }

  addJob(path: string, options: FakeJobOptions = {}): void {
    const name = splitJob(path).join('/');
    if (!name) throw new Error(`addJob needs a job name, got "${path}"`);
    if (!this.jobs.has(name)) {
      const declaresNoParameters = options.declaresNoParameters ?? false;
      this.jobs.set(name, { name, builds: [], nextNumber: 1, parameterized: !options.parametersInPipeline && !declaresNoParameters, declaresNoParameters });
    }
  }

  queue(): FakeQueueItem[] {
    return this.items.filter((item) => isWaiting(item));
  }

  builds(job?: string): FakeBuild[] {
    if (job !== undefined) return [...(this.jobs.get(splitJob(job).join('/'))?.builds ?? [])];
    return [...this.jobs.values()].flatMap((j) => j.builds).sort((a, b) => a.queueId - b.queueId);
  }

  findBuild(prowJobId: string): FakeBuild | undefined {
    return this.builds().find((build) => build.parameters.PROW_JOB_ID === prowJobId);
  }

  findQueueItem(prowJobId: string): FakeQueueItem | undefined {
    return this.items.find((item) => item.parameters.PROW_JOB_ID === prowJobId);
  }

  /**
   * Queues a build as a `buildWithParameters` request would, without the HTTP round trip: for
   * setting up thousands of builds at once (the operator benchmark).
   */
  queueBuild(path: string, parameters: Record<string, string>): FakeQueueItem {
    const job = this.jobs.get(splitJob(path).join('/'));
    if (!job) throw new Error(`job "${path}" was never added`);
    return this.enqueue(job, parameters);
  }

  startBuild(queueId: number): FakeBuild {
    const item = this.items.find((i) => i.id === queueId);
    if (!item) throw new Error(`no queue item ${queueId}`);
    if (!isWaiting(item)) throw new Error(`queue item ${queueId} is no longer waiting`);
    const job = this.jobs.get(item.job);
    if (!job) throw new Error(`job "${item.job}" of queue item ${queueId} was never added`);
    const number = job.nextNumber++;
    const build: FakeBuild = {
      job: job.name,
      number,
      queueId,
      parameters: { ...item.parameters },
      building: true,
      result: null,
      url: `${this.jobUrl(job.name)}${number}/`,
      timestamp: Date.now(),
      console: `Started by user ${this.user}\nRunning as SYSTEM\nBuilding in workspace /var/jenkins_home/workspace/${job.name}\n`,
    };
    job.builds.push(build);
    item.build = build;
    // A pipeline's `parameters` directive runs first thing in the build and registers them.
    if (!job.declaresNoParameters) job.parameterized = true;
    return build;
  }

  /** Ends a running build; `console` is appended before Jenkins' closing `Finished: RESULT` line. */
  finishBuild(build: FakeBuild, result: BuildResult, console?: string): void {
    if (!build.building) throw new Error(`build ${build.job} #${build.number} has already finished (${build.result})`);
    build.building = false;
    build.result = result;
    if (console) build.console += console.endsWith('\n') ? console : `${console}\n`;
    build.console += `Finished: ${result}\n`;
  }

  /**
   * What Jenkins does by itself with each newly queued item. `undefined` turns it off and drops
   * what is already scheduled, so a test can take over by hand.
   */
  autoRun(policy: AutoRunPolicy | undefined): void {
    this.policy = policy;
    if (!policy) this.clearTimers();
  }

  /** Called synchronously while Jenkins accepts the build request, before it answers. */
  onQueued(listener: (item: FakeQueueItem) => void): void {
    this.listeners.push(listener);
  }

  rotateCrumb(): void {
    this.crumb = newCrumb();
  }

  async close(): Promise<void> {
    this.policy = undefined;
    this.clearTimers();
    await this.http.close();
  }

  private clearTimers(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  private later(ms: number, action: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      action();
    }, ms);
    this.timers.add(timer);
  }

  private jobUrl(name: string): string {
    return `${this.baseUrl}/${name
      .split('/')
      .map((segment) => `job/${encodeURIComponent(segment)}`)
      .join('/')}/`;
  }

  private handle(request: FakeRequest): FakeResponse {
    const response = this.answer(request);
    response.headers = { 'x-jenkins': JENKINS_VERSION, ...(response.headers ?? {}) };
    return response;
  }

  private answer(request: FakeRequest): FakeResponse {
    if (!request.path.startsWith(`${this.prefix}/`) && request.path !== this.prefix) return notFound();
    const segments = request.path
      .slice(this.prefix.length)
      .split('/')
      .filter((s) => s.length > 0)
      .map((s) => decodeURIComponent(s));

    const user = this.authenticate(request.headers.authorization);
    if (!user) {
      return html(401, 'Unauthorized', { 'www-authenticate': 'Basic realm="Jenkins"' });
    }
    // Jenkins' CrumbFilter runs before any routing, so even a POST to a missing job is refused.
    if (request.method === 'POST' && this.crumbs && request.headers[CRUMB_FIELD.toLowerCase()] !== this.crumb) {
      return html(403, NO_CRUMB_MESSAGE);
    }
    return this.route(request, segments, user);
  }

  private authenticate(header: string | undefined): string | undefined {
    if (!header) return undefined;
    const [scheme, value] = header.split(' ', 2);
    if (scheme?.toLowerCase() === 'basic' && value) {
      const decoded = Buffer.from(value, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      const user = decoded.slice(0, colon);
      if (colon > 0 && user === this.user && decoded.slice(colon + 1) === this.apiToken) return user;
    }
    if (scheme?.toLowerCase() === 'bearer' && this.bearerToken && value === this.bearerToken) return this.user;
    return undefined;
  }

  private route(request: FakeRequest, segments: string[], user: string): FakeResponse {
    const { method } = request;
    const [first, second, third, fourth, fifth] = segments;
    const get = (answer: () => FakeResponse): FakeResponse => (method === 'GET' ? answer() : html(405, 'Method Not Allowed'));
    const post = (answer: () => FakeResponse): FakeResponse => (method === 'POST' ? answer() : methodNotAllowed());

    if (segments.length === 2 && first === 'api' && second === 'json') return get(() => this.rootJson());
    if (first === 'crumbIssuer' && second === 'api' && third === 'json' && segments.length === 3) {
      return get(() => this.crumbJson());
    }
    if (first === 'queue') {
      if (second === 'api' && third === 'json' && segments.length === 3) return get(() => this.queueJson());
      if (second === 'cancelItem' && segments.length === 2) return post(() => this.cancelItem(request.query.get('id')));
      if (second === 'item' && fourth === 'api' && fifth === 'json' && segments.length === 5) {
        return get(() => this.queueItemJson(Number(third)));
      }
      return notFound();
    }
    if (first === 'job') return this.routeJob(request, segments, user);
    return notFound();
  }

  private routeJob(request: FakeRequest, segments: string[], user: string): FakeResponse {
    const names: string[] = [];
    let i = 0;
    while (i + 1 < segments.length) {
      if (segments[i] === 'job') names.push(segments[i + 1]!);
      // Jenkins resolves `view/<name>` segments and ignores them for the job's identity, which
      // is how multibranch PR jobs are addressed (`job/x/view/change-requests/job/PR-1`).
      else if (segments[i] !== 'view') break;
      i += 2;
    }
    const rest = segments.slice(i);
    const name = names.join('/');
    const job = this.jobs.get(name);
    const { method } = request;
    const isApi = (from: number): boolean => rest.length === from + 2 && rest[from] === 'api' && rest[from + 1] === 'json';

    if (!job) {
      const children = [...this.jobs.keys()].filter((k) => k.startsWith(`${name}/`));
      if (children.length > 0 && isApi(0) && method === 'GET') return this.folderJson(name, children);
      return notFound();
    }
    if (rest.length === 0 || isApi(0)) {
      if (method !== 'GET') return html(405, 'Method Not Allowed');
      return { status: 200, body: this.jobJson(job, request.query.get('tree') ?? '') };
    }
    if (rest.length === 1 && rest[0] === 'buildWithParameters') {
      return method === 'POST' ? this.buildWithParameters(job, request) : methodNotAllowed();
    }
    if (rest.length === 1 && rest[0] === 'build') {
      return method === 'POST' ? this.buildWithoutParameters(job) : methodNotAllowed();
    }
    const build = this.buildFor(job, rest[0]!);
    if (!build) return notFound();
    if (rest.length === 1 || isApi(1)) return method === 'GET' ? { status: 200, body: this.buildJson(build) } : notFound();
    if (rest.length === 2 && rest[1] === 'stop') {
      return method === 'POST' ? this.stop(build, user) : methodNotAllowed();
    }
    if (rest.length === 2 && rest[1] === 'consoleText' && method === 'GET') {
      return { status: 200, body: build.console, headers: { 'content-type': 'text/plain;charset=utf-8' } };
    }
    return notFound();
  }

  private buildFor(job: FakeJob, segment: string): FakeBuild | undefined {
    if (segment === 'lastBuild') return job.builds.at(-1);
    if (!/^\d+$/.test(segment)) return undefined;
    return job.builds.find((b) => b.number === Number(segment));
  }

  private buildWithParameters(job: FakeJob, request: FakeRequest): FakeResponse {
    if (!job.parameterized) {
      // ParameterizedJobMixIn#doBuildWithParameters throws, and Stapler renders the exception page.
      return html(500, 'java.lang.IllegalStateException: This build is not parameterized!');
    }
    const parameters: Record<string, string> = {};
    const sources = [request.query];
    // Stapler reads a form body only when it is declared as one.
    if (String(request.headers['content-type'] ?? '').includes('application/x-www-form-urlencoded')) {
      sources.push(new URLSearchParams(request.body));
    }
    for (const source of sources) {
      for (const [key, value] of source) if (!RESERVED_PARAMETERS.has(key)) parameters[key] = value;
    }

    return this.queued(this.enqueue(job, parameters));
  }

  /** `POST /build`: a parameterised job wants its form submitted (Jenkins answers 400 without one). */
  private buildWithoutParameters(job: FakeJob): FakeResponse {
    if (job.parameterized) return html(400, 'Nothing is submitted');
    return this.queued(this.enqueue(job, {}));
  }

  private enqueue(job: FakeJob, parameters: Record<string, string>): FakeQueueItem {
    // Queue.schedule2 folds a request into a waiting item of the same job with the same
    // parameters and answers with that item's location instead of queuing a second one.
    const existing = this.items.find((i) => isWaiting(i) && i.job === job.name && sameParameters(i.parameters, parameters));
    if (existing) return existing;

    const item: FakeQueueItem = {
      id: this.nextQueueId++,
      job: job.name,
      parameters,
      cancelled: false,
      inQueueSince: Date.now(),
    };
    this.items.push(item);
    for (const listener of this.listeners) listener(item);
    const policy = this.policy;
    if (policy) {
      this.later(policy.startAfterMs ?? 0, () => {
        if (!isWaiting(item)) return;
        const build = this.startBuild(item.id);
        this.later(policy.finishAfterMs ?? 0, () => {
          if (build.building) this.finishBuild(build, policy.result(build));
        });
      });
    }
    return item;
  }

  private queued(item: FakeQueueItem): FakeResponse {
    return { status: 201, headers: { location: `${this.baseUrl}/queue/item/${item.id}/` } };
  }

  private stop(build: FakeBuild, user: string): FakeResponse {
    if (build.building) {
      build.console += `Aborted by ${user}\n`;
      this.finishBuild(build, 'ABORTED');
    }
    return { status: 302, headers: { location: build.url } };
  }

  private cancelItem(id: string | null): FakeResponse {
    const item = this.items.find((i) => String(i.id) === id);
    if (!item || !isWaiting(item)) return notFound();
    item.cancelled = true;
    return { status: 302, headers: { location: `${this.baseUrl}/queue/` } };
  }

  private rootJson(): FakeResponse {
    const top = new Set([...this.jobs.keys()].map((k) => k.split('/')[0]!));
    return {
      status: 200,
      body: {
        _class: 'hudson.model.Hudson',
        mode: 'NORMAL',
        nodeDescription: 'the Jenkins controller',
        useCrumbs: this.crumbs,
        useSecurity: true,
        url: `${this.baseUrl}/`,
        jobs: [...top].map((name) => ({ _class: this.jobs.has(name) ? FREESTYLE : FOLDER, name, url: this.jobUrl(name) })),
      },
    };
  }

  private crumbJson(): FakeResponse {
    if (!this.crumbs) return notFound();
    return {
      status: 200,
      body: { _class: 'hudson.security.csrf.DefaultCrumbIssuer', crumb: this.crumb, crumbRequestField: CRUMB_FIELD },
      // Since 2.176 a crumb belongs to the web session the issuer opened, so clients keep the cookie.
      headers: { 'set-cookie': `JSESSIONID.fake=${randomBytes(8).toString('hex')}; Path=/; HttpOnly` },
    };
  }

  private queueJson(): FakeResponse {
    return {
      status: 200,
      body: { _class: 'hudson.model.Queue', discoverableItems: [], items: this.queue().map((item) => this.itemJson(item)) },
    };
  }

  private queueItemJson(id: number): FakeResponse {
    const item = this.items.find((i) => i.id === id);
    if (!item) return notFound();
    const waiting = isWaiting(item);
    return {
      status: 200,
      body: {
        ...this.itemJson(item),
        _class: waiting ? 'hudson.model.Queue$WaitingItem' : 'hudson.model.Queue$LeftItem',
        why: waiting ? this.why() : null,
        cancelled: item.cancelled,
        executable: item.build ? { _class: FREESTYLE_BUILD, number: item.build.number, url: item.build.url } : null,
      },
    };
  }

  private why(): string {
    return 'Waiting for next available executor';
  }

  private itemJson(item: FakeQueueItem): Record<string, unknown> {
    return {
      _class: 'hudson.model.Queue$WaitingItem',
      actions: [parametersAction(item.parameters), causeAction(this.user)],
      blocked: false,
      buildable: false,
      id: item.id,
      inQueueSince: item.inQueueSince,
      params: Object.entries(item.parameters)
        .map(([k, v]) => `\n${k}=${v}`)
        .join(''),
      stuck: false,
      task: { _class: FREESTYLE, name: item.job.split('/').at(-1), url: this.jobUrl(item.job), color: 'notbuilt' },
      url: `queue/item/${item.id}/`,
      why: this.why(),
    };
  }

  /**
   * The job's JSON. `tree=allBuilds[…]{from,to}` lists every build in that range, newest first, as
   * Jenkins does; otherwise `builds` stops at the newest 100 (Job#getNewBuilds).
   */
  private jobJson(job: FakeJob, tree = ''): Record<string, unknown> {
    const newestFirst = [...job.builds].reverse();
    const last = newestFirst[0];
    const all = /(?:^|,)allBuilds\[.*\](?:\{(\d*),?(\d*)\})?/.exec(tree);
    if (all) {
      const from = Number(all[1] || 0);
      const to = all[2] ? Number(all[2]) : newestFirst.length;
      return { _class: FREESTYLE, allBuilds: newestFirst.slice(from, to).map((b) => this.buildJson(b)) };
    }
    const queued = this.queue().filter((i) => i.job === job.name);
    return {
      _class: FREESTYLE,
      name: job.name.split('/').at(-1),
      fullName: job.name,
      displayName: job.name.split('/').at(-1),
      url: this.jobUrl(job.name),
      buildable: true,
      builds: newestFirst.slice(0, BUILDS_IN_JOB_API).map((b) => this.buildJson(b)),
      color: color(last),
      inQueue: queued.length > 0,
      lastBuild: last ? { _class: FREESTYLE_BUILD, number: last.number, url: last.url } : null,
      nextBuildNumber: job.nextNumber,
      queueItem: queued[0] ? this.itemJson(queued[0]) : null,
    };
  }

  private folderJson(name: string, children: string[]): FakeResponse {
    const direct = new Set(children.map((c) => c.slice(name.length + 1).split('/')[0]!));
    return {
      status: 200,
      body: {
        _class: FOLDER,
        name: name.split('/').at(-1),
        fullName: name,
        url: this.jobUrl(name),
        jobs: [...direct].map((child) => {
          const full = `${name}/${child}`;
          return { _class: this.jobs.has(full) ? FREESTYLE : FOLDER, name: child, url: this.jobUrl(full) };
        }),
      },
    };
  }

  private buildJson(build: FakeBuild): Record<string, unknown> {
    return {
      _class: FREESTYLE_BUILD,
      actions: [parametersAction(build.parameters), causeAction(this.user)],
      building: build.building,
      displayName: `#${build.number}`,
      duration: build.building ? 0 : Math.max(1, Date.now() - build.timestamp),
      fullDisplayName: `${build.job.split('/').join(' » ')} #${build.number}`,
      id: String(build.number),
      number: build.number,
      queueId: build.queueId,
      result: build.result,
      timestamp: build.timestamp,
      url: build.url,
    };
  }
}

const FREESTYLE = 'hudson.model.FreeStyleProject';
const FREESTYLE_BUILD = 'hudson.model.FreeStyleBuild';
const FOLDER = 'com.cloudbees.hudson.plugins.folder.Folder';

function isWaiting(item: FakeQueueItem): boolean {
  return !item.cancelled && !item.build;
}

function splitJob(path: string): string[] {
  return path.split('/').filter((s) => s.length > 0);
}

function normalisePrefix(prefix: string | undefined): string {
  const trimmed = (prefix ?? '').replace(/^\/+|\/+$/g, '');
  return trimmed ? `/${trimmed}` : '';
}

function newCrumb(): string {
  return randomBytes(32).toString('hex');
}

function sameParameters(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => a[k] === b[k]);
}

function parametersAction(parameters: Record<string, string>): Record<string, unknown> {
  return {
    _class: 'hudson.model.ParametersAction',
    parameters: Object.entries(parameters).map(([name, value]) => ({
      _class: 'hudson.model.StringParameterValue',
      name,
      value,
    })),
  };
}

function causeAction(user: string): Record<string, unknown> {
  return {
    _class: 'hudson.model.CauseAction',
    causes: [{ _class: 'hudson.model.Cause$UserIdCause', shortDescription: `Started by user ${user}`, userId: user, userName: user }],
  };
}

function color(build: FakeBuild | undefined): string {
  if (!build) return 'notbuilt';
  if (build.building) return 'blue_anime';
  switch (build.result) {
    case 'SUCCESS':
      return 'blue';
    case 'UNSTABLE':
      return 'yellow';
    case 'ABORTED':
      return 'aborted';
    default:
      return 'red';
  }
}
