import { Octokit } from '@octokit/rest';
import { retry } from '@octokit/plugin-retry';
import { throttling } from '@octokit/plugin-throttling';
import Bottleneck from 'bottleneck';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { pushTo, type Logger } from '@bowline/observability';

// plugin-throttling declares a required `retryCount` on `OctokitResponse` of its own
// @octokit/types (17, shared with @octokit/request); @octokit/core's answers are typed from 18,
// which then no longer fits what a request hook must return (conditional-requests.ts). Declaring
// the same on 18 makes the two copies agree again. Types only: no answer carries the field.
declare module '@octokit/types' {
  // A merged declaration must repeat the type parameters, used or not.
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  interface OctokitResponse<T, S extends number = number> {
    retryCount: number;
  }
}

export interface ResilienceOptions {
  /**
   * Pause between two writes (POST/PATCH/DELETE) of this process; GitHub asks for at least a second
   * to stay clear of secondary rate limits, and that is the default. Tests and the local demo,
   * against a local stand-in, set it to 0.
   */
  writeIntervalMs?: number;
  logger: Logger;
  /** Metrics go here when given (`bowline_github_rate_limited_total`). */
  registry?: Registry;
  /** Metric label; also names the throttling queues, so one service's writes share one pace. */
  service: string;
  /**
   * Names the throttling queues instead of `service`: one GitHub identity (a tenant's token or App)
   * has its own limits, so its writes are paced apart from the service's other identities.
   */
  queue?: string;
  /** Longest wait for a rate limit before the request fails (and the caller's own retry, e.g. a work queue, takes over); default 15 min. */
  maxRateLimitWaitMs?: number;
  /** Retries of a request GitHub answered with a server error (5xx); default 3. */
  retries?: number;
}

type LimitKind = 'primary' | 'secondary';

/** What plugin-throttling hands a limit handler: the request's options before the URL is expanded. */
interface LimitedRequest {
  method: string;
  url: string;
  owner?: unknown;
  repo?: unknown;
}

const DEFAULT_MAX_RATE_LIMIT_WAIT_MS = 15 * 60_000;
const DEFAULT_RETRIES = 3;
// A limit that is still there after five waits is not one that lifts on its own schedule: a
// missing `x-ratelimit-reset` makes the plugin compute a wait of 0 s, which would retry at once,
// for ever. The caller's own retry (a work queue with backoff) is the better judge from there.
const MAX_RATE_LIMIT_RETRIES = 5;
// plugin-retry retries every status from 400 up that this list does not name; its own list leaves
// out 409, 429 and others. A client error is the same on a second try, and a 429 is a rate limit,
// plugin-throttling's to judge: left to plugin-retry, a 429 the throttling handler gave up on would
// go again after 1, 4 and 9 s, against GitHub's "do not retry until the reset" (docs: Rate limits
// for the REST API).
const DO_NOT_RETRY = Array.from({ length: 100 }, (_, i) => 400 + i);

/**
 * Octokit with plugin-throttling and plugin-retry, set up for Bowline: a rate-limited request
 * waits for the reset (primary) or `retry-after` (secondary) and goes again, while the wait fits
 * `maxRateLimitWaitMs`; past that it fails with GitHub's 403/429 at once, logged, so the report's
 * work queue retries it later rather than a worker sleeping for an hour. Server errors (5xx, and
 * failed connections, which Octokit reports as 500) are retried `retries` times after 1, 4, 9 … s;
 * client errors (4xx) are not.
 *
 * Constructor options `throttle` and `retry` are merged over these, not swapped for them (Octokit's
 * plain `defaults({...})` is a shallow merge that would drop the handlers).
 */
export function resilientOctokit(options: ResilienceOptions): typeof Octokit {
  const maxWaitMs = options.maxRateLimitWaitMs ?? DEFAULT_MAX_RATE_LIMIT_WAIT_MS;
  const retries = options.retries ?? DEFAULT_RETRIES;
  if (!Number.isFinite(maxWaitMs) || maxWaitMs < 0) {
    throw new RangeError(`maxRateLimitWaitMs must be a non-negative number, got ${String(options.maxRateLimitWaitMs)}`);
  }
  if (!Number.isInteger(retries) || retries < 0) {
    throw new RangeError(`retries must be a non-negative integer, got ${String(options.retries)}`);
  }
  const limited = options.registry ? rateLimitedCounter(options.registry) : undefined;
  const { logger, service } = options;
  const queue = options.queue ?? service;

  // plugin-throttling passes the wait in seconds (for a primary limit: until `x-ratelimit-reset`,
  // plus one second), and the number of times this request has already waited. It sleeps
  // `retryAfter * 1000` ms when the handler returns true, and rejects with GitHub's error otherwise.
  const onLimit =
    (kind: LimitKind) =>
    (retryAfter: number, request: LimitedRequest, _octokit: unknown, retryCount: number): boolean => {
      const waiting = retryAfter * 1000 <= maxWaitMs && retryCount < MAX_RATE_LIMIT_RETRIES;
      const fields = {
        route: `${request.method} ${request.url}`,
        ...(typeof request.owner === 'string' && typeof request.repo === 'string' ? { repo: `${request.owner}/${request.repo}` } : {}),
        limit: kind,
        waitSeconds: retryAfter,
        retryCount,
      };
      if (waiting) {
        logger.warn(fields, `GitHub ${kind} rate limit: retrying in ${retryAfter} s`);
      } else {
        const why = retryCount >= MAX_RATE_LIMIT_RETRIES ? `still limited after ${retryCount} waits` : `longer than the ${maxWaitMs / 1000} s allowed`;
        logger.warn({ ...fields, maxWaitSeconds: maxWaitMs / 1000 }, `GitHub ${kind} rate limit: not waiting (${why}), the request fails for its caller to retry`);
      }
      limited?.inc({ service, kind, action: waiting ? 'wait' : 'fail' });
      return waiting;
    };

  // plugin-throttling paces writes (1 s) and comment creation (3 s) in groups of its own; a
  // different pace means groups of our own, built with the same Bottleneck it uses.
  const paced =
    options.writeIntervalMs === undefined
      ? {}
      : {
          write: new Bottleneck.Group({ id: `${queue}-write`, maxConcurrent: 1, minTime: options.writeIntervalMs }),
          notifications: new Bottleneck.Group({ id: `${queue}-notifications`, maxConcurrent: 1, minTime: options.writeIntervalMs * 3 }),
        };

  return Octokit.plugin(throttling, retry).defaults((given: ConstructorParameters<typeof Octokit>[0] = {}) => ({
    ...given,
    throttle: {
      ...paced,
      id: queue,
      onRateLimit: onLimit('primary'),
      onSecondaryRateLimit: onLimit('secondary'),
      ...given.throttle,
    },
    retry: { retries, doNotRetry: DO_NOT_RETRY, ...given.retry },
  }));
}

/**
 * Counts every request the instance's callers make, by route template and answer, times it, and
 * keeps the last `x-ratelimit-remaining` GitHub sent. The hook wraps whatever hooks the instance
 * has when it is called: on a `resilientOctokit` instance a call counts once, with its final answer
 * and with its waits and retries in its time. Called before `enableConditionalRequests`, it sees
 * the 304s (free of quota) as 304; after it, as the 200 they are turned into.
 */
export function instrumentGitHub(octokit: Octokit, options: { registry: Registry; service: string }): void {
  const metrics = requestMetrics(options.registry);
  const { service } = options;
  octokit.hook.wrap('request', async (request, requestOptions) => {
    const route = routeOf(requestOptions);
    const stopTimer = metrics.seconds.startTimer({ service, route });
    let code = 'error';
    try {
      const response = await request(requestOptions);
      code = String(response.status);
      noteRemaining(response.headers);
      return response;
    } catch (error) {
      const status = (error as { status?: unknown } | null)?.status;
      if (typeof status === 'number') code = String(status);
      noteRemaining((error as { response?: { headers?: Record<string, unknown> } } | null)?.response?.headers);
      throw error;
    } finally {
      stopTimer();
      metrics.requests.inc({ service, route, code });
    }
  });

  function noteRemaining(headers: Record<string, unknown> | undefined): void {
    const remaining = Number(headers?.['x-ratelimit-remaining'] ?? Number.NaN);
    if (Number.isFinite(remaining)) metrics.remaining.set({ service }, remaining);
  }
}

interface RequestMetrics {
  requests: Counter<'service' | 'route' | 'code'>;
  seconds: Histogram<'service' | 'route'>;
  remaining: Gauge<'service'>;
}

// Several Octokit instances (one per identity) may share a registry, and prom-client refuses a
// second metric of the same name: the first one registered is the one used.
function requestMetrics(registry: Registry): RequestMetrics {
  return {
    requests: metricOf(registry, 'bowline_github_requests_total', (registers) =>
      new Counter({ name: 'bowline_github_requests_total', help: 'GitHub API calls by route template and answer (status, or error when none came)', labelNames: ['service', 'route', 'code'], registers }),
    ),
    seconds: metricOf(registry, 'bowline_github_request_seconds', (registers) =>
      new Histogram({
        name: 'bowline_github_request_seconds',
        help: 'Time a GitHub API call took, rate-limit waits and retries included',
        labelNames: ['service', 'route'],
        // Up to the 15 minutes a call may wait out a rate limit.
        buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900],
        registers,
      }),
    ),
    remaining: metricOf(registry, 'bowline_github_rate_limit_remaining', (registers) =>
      new Gauge({ name: 'bowline_github_rate_limit_remaining', help: 'x-ratelimit-remaining of the last GitHub answer', labelNames: ['service'], registers }),
    ),
  };
}

function rateLimitedCounter(registry: Registry): Counter<'service' | 'kind' | 'action'> {
  return metricOf(registry, 'bowline_github_rate_limited_total', (registers) =>
    new Counter({
      name: 'bowline_github_rate_limited_total',
      help: 'GitHub rate-limit refusals by kind (primary, secondary) and what followed (wait, fail)',
      labelNames: ['service', 'kind', 'action'],
      registers,
    }),
  );
}

function metricOf<M>(registry: Registry, name: string, create: (registers: Registry[]) => M): M {
  return (registry.getSingleMetric(name) as M | undefined) ?? create([registry]);
}

const UNKNOWN_ROUTE = '(unknown route)';
// A template's `{?name,…}` part lists query parameters; it is not part of the route.
const QUERY_EXPANSION = /\{\?[^}]*\}/g;

/**
 * `GET /repos/{owner}/{repo}/pulls/{pull_number}`: the template octokit's methods pass. A URL
 * already expanded (the `next` pages `paginate` follows, `octokit.request('GET /repos/o/r')`) is
 * matched back to its REST template, so labels stay as many as GitHub has routes.
 */
function routeOf(options: { method?: unknown; url?: unknown; baseUrl?: unknown }): string {
  const method = String(options.method ?? 'GET').toUpperCase();
  const url = String(options.url ?? '');
  if (url.includes('{')) return `${method} ${url.replace(QUERY_EXPANSION, '').split('?')[0]}`;
  return `${method} ${templateOf(method, pathOf(url, String(options.baseUrl ?? ''))) ?? UNKNOWN_ROUTE}`;
}

function pathOf(url: string, baseUrl: string): string {
  let path = url;
  if (baseUrl !== '' && path.startsWith(baseUrl)) path = path.slice(baseUrl.length);
  else if (/^https?:\/\//i.test(path)) {
    // GitHub Enterprise serves the API under /api/v3; the templates start after it.
    const base = /^https?:\/\//i.test(baseUrl) ? new URL(baseUrl).pathname.replace(/\/+$/, '') : '';
    path = new URL(path).pathname;
    if (base !== '' && path.startsWith(`${base}/`)) path = path.slice(base.length);
  }
  return path.split(/[?#]/)[0]!;
}

interface Template {
  route: string;
  segments: string[];
}

let templatesByShape: Map<string, Template[]> | undefined;

function templateOf(method: string, path: string): string | undefined {
  const segments = path.split('/');
  const candidates = templateTable().get(`${method} ${segments.length}`) ?? [];
  let best: { template: Template; shape: string } | undefined;
  for (const template of candidates) {
    let shape = '';
    let matches = true;
    for (let i = 0; i < segments.length && matches; i += 1) {
      const wanted = template.segments[i]!;
      if (wanted.includes('{')) shape += 'p';
      else if (wanted === segments[i]) shape += 'l';
      else matches = false;
    }
    // `/repos/{owner}/{repo}/issues/comments` over `/repos/{owner}/{repo}/issues/{issue_number}`:
    // the template whose first placeholder comes latest is the more specific one.
    if (matches && (!best || shape < best.shape)) best = { template, shape };
  }
  return best?.template.route;
}

/**
 * The REST routes of this @octokit/rest version, read once from a throwaway instance (its methods
 * carry their templates; about 1,000 of them, 30 ms and under a megabyte) rather than from the
 * caller's, whose lazily made methods would all be made and kept.
 */
function templateTable(): Map<string, Template[]> {
  if (templatesByShape) return templatesByShape;
  const table = new Map<string, Template[]>();
  const add = (method: string, url: string): void => {
    const route = url.replace(QUERY_EXPANSION, '');
    const segments = route.split('/');
    const key = `${method.toUpperCase()} ${segments.length}`;
    pushTo(table, key, { route, segments });
  };
  const scopes = new Octokit().rest as unknown as Record<string, Record<string, { endpoint?: { DEFAULTS?: { method?: string; url?: string } } }>>;
  for (const scope of Object.values(scopes)) {
    for (const name of Object.keys(scope)) {
      const defaults = scope[name]?.endpoint?.DEFAULTS;
      if (defaults?.method && defaults.url) add(defaults.method, defaults.url);
    }
  }
  add('POST', '/graphql');
  templatesByShape = table;
  return table;
}
