import { randomBytes } from 'node:crypto';
import type { FakeRequest, FakeResponse } from '../http-fake.js';
import type { FakeJob, JenkinsState } from './state.js';
import type { FakeBuild, FakeQueueItem } from './types.js';
import type { JenkinsViews } from './views.js';

/** Who may call, and where: what the routes check before they answer. */
export interface JenkinsAccess {
  user: string;
  apiToken: string;
  bearerToken?: string;
  /** CSRF protection on: a POST needs the current crumb. */
  crumbs: boolean;
  /** Context path, normalised: `''` or `/jenkins`. */
  prefix: string;
  /** Root URL without a trailing slash, prefix included; known once the fake listens. */
  baseUrl: () => string;
}

const CRUMB_FIELD = 'Jenkins-Crumb';
const JENKINS_VERSION = '2.462.3';
// Jenkins' own wording (hudson.security.csrf.CrumbFilter); clients look for "crumb" in it.
const NO_CRUMB_MESSAGE = 'No valid crumb was included in the request';
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
 * The REST API Bowline uses, with Jenkins' status codes and headers: basic/bearer auth, CSRF
 * crumbs, folder jobs, the build queue, builds, stop and cancel.
 */
export class JenkinsRoutes {
  private crumb = newCrumb();

  constructor(
    private readonly state: JenkinsState,
    private readonly views: JenkinsViews,
    private readonly access: JenkinsAccess,
  ) {}

  rotateCrumb(): void {
    this.crumb = newCrumb();
  }

  handle(request: FakeRequest): FakeResponse {
    const response = this.answer(request);
    response.headers = { 'x-jenkins': JENKINS_VERSION, ...(response.headers ?? {}) };
    return response;
  }

  private answer(request: FakeRequest): FakeResponse {
    const { prefix } = this.access;
    if (!request.path.startsWith(`${prefix}/`) && request.path !== prefix) return notFound();
    const segments = request.path
      .slice(prefix.length)
      .split('/')
      .filter((s) => s.length > 0)
      .map((s) => decodeURIComponent(s));

    const user = this.authenticate(request.headers.authorization);
    if (!user) {
      return html(401, 'Unauthorized', { 'www-authenticate': 'Basic realm="Jenkins"' });
    }
    // Jenkins' CrumbFilter runs before any routing, so even a POST to a missing job is refused.
    if (request.method === 'POST' && this.access.crumbs && request.headers[CRUMB_FIELD.toLowerCase()] !== this.crumb) {
      return html(403, NO_CRUMB_MESSAGE);
    }
    return this.route(request, segments, user);
  }

  private authenticate(header: string | undefined): string | undefined {
    if (!header) return undefined;
    const { user, apiToken, bearerToken } = this.access;
    const [scheme, value] = header.split(' ', 2);
    if (scheme?.toLowerCase() === 'basic' && value) {
      const decoded = Buffer.from(value, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      const given = decoded.slice(0, colon);
      if (colon > 0 && given === user && decoded.slice(colon + 1) === apiToken) return given;
    }
    if (scheme?.toLowerCase() === 'bearer' && bearerToken && value === bearerToken) return user;
    return undefined;
  }

  private route(request: FakeRequest, segments: string[], user: string): FakeResponse {
    const { method } = request;
    const [first, second, third, fourth, fifth] = segments;
    const get = (answer: () => FakeResponse): FakeResponse => (method === 'GET' ? answer() : html(405, 'Method Not Allowed'));
    const post = (answer: () => FakeResponse): FakeResponse => (method === 'POST' ? answer() : methodNotAllowed());

    if (segments.length === 2 && first === 'api' && second === 'json') return get(() => ({ status: 200, body: this.views.root() }));
    if (first === 'crumbIssuer' && second === 'api' && third === 'json' && segments.length === 3) {
      return get(() => this.crumbJson());
    }
    if (first === 'queue') {
      if (second === 'api' && third === 'json' && segments.length === 3) return get(() => ({ status: 200, body: this.views.queue() }));
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
    const job = this.state.job(name);
    const { method } = request;
    const isApi = (from: number): boolean => rest.length === from + 2 && rest[from] === 'api' && rest[from + 1] === 'json';

    if (!job) {
      const children = this.state.jobNames().filter((k) => k.startsWith(`${name}/`));
      if (children.length > 0 && isApi(0) && method === 'GET') return { status: 200, body: this.views.folder(name, children) };
      return notFound();
    }
    if (rest.length === 0 || isApi(0)) {
      if (method !== 'GET') return html(405, 'Method Not Allowed');
      return { status: 200, body: this.views.job(job, request.query.get('tree') ?? '') };
    }
    if (rest.length === 1 && rest[0] === 'buildWithParameters') {
      return method === 'POST' ? this.buildWithParameters(job, request) : methodNotAllowed();
    }
    if (rest.length === 1 && rest[0] === 'build') {
      return method === 'POST' ? this.buildWithoutParameters(job) : methodNotAllowed();
    }
    const build = buildFor(job, rest[0]!);
    if (!build) return notFound();
    if (rest.length === 1 || isApi(1)) return method === 'GET' ? { status: 200, body: this.views.build(build) } : notFound();
    if (rest.length === 2 && rest[1] === 'stop') {
      return method === 'POST' ? this.stop(build, user) : methodNotAllowed();
    }
    if (rest.length === 2 && rest[1] === 'consoleText' && method === 'GET') {
      return { status: 200, body: build.console, headers: { 'content-type': 'text/plain;charset=utf-8' } };
    }
    return notFound();
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

    return this.queued(this.state.enqueue(job, parameters));
  }

  /** `POST /build`: a parameterised job wants its form submitted (Jenkins answers 400 without one). */
  private buildWithoutParameters(job: FakeJob): FakeResponse {
    if (job.parameterized) return html(400, 'Nothing is submitted');
    return this.queued(this.state.enqueue(job, {}));
  }

  private queued(item: FakeQueueItem): FakeResponse {
    return { status: 201, headers: { location: `${this.access.baseUrl()}/queue/item/${item.id}/` } };
  }

  private stop(build: FakeBuild, user: string): FakeResponse {
    this.state.stop(build, user);
    return { status: 302, headers: { location: build.url } };
  }

  private cancelItem(id: string | null): FakeResponse {
    if (!this.state.cancel(id)) return notFound();
    return { status: 302, headers: { location: `${this.access.baseUrl()}/queue/` } };
  }

  private crumbJson(): FakeResponse {
    if (!this.access.crumbs) return notFound();
    return {
      status: 200,
      body: { _class: 'hudson.security.csrf.DefaultCrumbIssuer', crumb: this.crumb, crumbRequestField: CRUMB_FIELD },
      // Since 2.176 a crumb belongs to the web session the issuer opened, so clients keep the cookie.
      headers: { 'set-cookie': `JSESSIONID.fake=${randomBytes(8).toString('hex')}; Path=/; HttpOnly` },
    };
  }

  private queueItemJson(id: number): FakeResponse {
    const item = this.state.queueItem(id);
    if (!item) return notFound();
    return { status: 200, body: this.views.queueItem(item) };
  }
}

function buildFor(job: FakeJob, segment: string): FakeBuild | undefined {
  if (segment === 'lastBuild') return job.builds.at(-1);
  if (!/^\d+$/.test(segment)) return undefined;
  return job.builds.find((b) => b.number === Number(segment));
}

function newCrumb(): string {
  return randomBytes(32).toString('hex');
}
