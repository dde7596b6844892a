import { Octokit } from '@octokit/rest';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { metricOnce, pushTo, type Logger } from '@bowline/observability';
import { RateLimitPolicy, rateLimitOf } from './rate-limits.js';
import { pacerOf } from './request-pacing.js';
import { DEFAULT_RETRY_BASE_MS, DEFAULT_SERVER_RETRIES, isServerError, serverRetryDelayMs } from './server-retries.js';
import { paceFor, requestKind } from './write-pacing.js';

export interface ResilienceOptions {
  /**
   * Pace of the writes (POST/PATCH/PUT/DELETE) of this identity: one per interval once a burst of
   * `WRITE_BURST` is spent (write-pacing.ts); GitHub asks for about a second to stay clear of
   * secondary rate limits, and that is the default. Tests and the local demo, against a local
   * stand-in, set it to 0, which paces nothing.
   */
  writeIntervalMs?: number;
  logger: Logger;
  /** Metrics go here when given (`bowline_github_rate_limited_total`). */
  registry?: Registry;
  /** Metric label; also names the identity whose requests are paced together. */
  service: string;
  /**
   * Names the identity instead of `service`: one GitHub identity (a tenant's token or App) has its
   * own limits, so its requests are paced apart from the service's other identities.
   */
  queue?: string;
  /** Longest wait for a rate limit before the request fails (and the caller's own retry, e.g. a work queue, takes over); default 15 min. */
  maxRateLimitWaitMs?: number;
  /** Retries of a request GitHub answered with a server error (5xx); default 3. */
  retries?: number;
  /** The unit of the backoff between those retries, which wait 1, 4, 9 … of it; default 1 s (tests shorten it). */
  retryBaseMs?: number;
}

const DEFAULT_MAX_RATE_LIMIT_WAIT_MS = 15 * 60_000;

/**
 * Octokit with Bowline's request hook: every request of the identity is paced and bounded
 * (request-pacing.ts: writes a token bucket, comments further apart, at most ten in flight, all
 * held while a primary rate limit lasts); a rate-limited request waits for the reset (primary) or
 * `retry-after` (secondary) and goes again, while the wait fits `maxRateLimitWaitMs`, else fails
 * with GitHub's 403/429 at once (rate-limits.ts); server errors (5xx, and failed connections,
 * which Octokit reports as 500) are retried `retries` times after 1, 4, 9 … s; client errors (4xx)
 * are not (server-retries.ts). Requests are paced per identity (`queue`, else `service`), across
 * every client made for it in the process.
 *
 * Own code rather than @octokit/plugin-throttling and @octokit/plugin-retry: both queue every
 * request through Bottleneck, whose timer turns cost 5-7 ms a request where the request itself
 * costs under one (issue 21).
 */
export function resilientOctokit(options: ResilienceOptions): typeof Octokit {
  const maxWaitMs = options.maxRateLimitWaitMs ?? DEFAULT_MAX_RATE_LIMIT_WAIT_MS;
  const retries = options.retries ?? DEFAULT_SERVER_RETRIES;
  const retryBaseMs = options.retryBaseMs ?? DEFAULT_RETRY_BASE_MS;
  if (!Number.isFinite(maxWaitMs) || maxWaitMs < 0) {
    throw new RangeError(`maxRateLimitWaitMs must be a non-negative number, got ${String(options.maxRateLimitWaitMs)}`);
  }
  if (!Number.isInteger(retries) || retries < 0) {
    throw new RangeError(`retries must be a non-negative integer, got ${String(options.retries)}`);
  }
  if (!Number.isFinite(retryBaseMs) || retryBaseMs < 0) {
    throw new RangeError(`retryBaseMs must be a non-negative number, got ${String(options.retryBaseMs)}`);
  }
  const writeIntervalMs = options.writeIntervalMs;
  if (writeIntervalMs !== undefined && (!Number.isFinite(writeIntervalMs) || writeIntervalMs < 0)) {
    throw new RangeError(`writeIntervalMs must be a non-negative number, got ${String(writeIntervalMs)}`);
  }
  const pacer = pacerOf(options.queue ?? options.service, paceFor(writeIntervalMs));
  const policy = new RateLimitPolicy({ logger: options.logger, service: options.service, maxWaitMs, registry: options.registry });

  const resilience = (octokit: Pick<Octokit, 'hook'>): Record<string, never> => {
    octokit.hook.wrap('request', async (request, requestOptions) => {
      const method = String(requestOptions.method ?? 'GET').toUpperCase();
      const kind = requestKind(method, pathOf(String(requestOptions.url ?? ''), String(requestOptions.baseUrl ?? '')));
      let limitWaits = 0;
      let serverRetries = 0;
      for (let again = false; ; again = true) {
        const admitted = pacer.admit(kind, again);
        if (admitted) await admitted;
        let failure: unknown;
        try {
          return await request(requestOptions);
        } catch (error) {
          failure = error;
        } finally {
          pacer.done();
        }
        const limit = rateLimitOf(failure, Date.now());
        if (limit) {
          if (!policy.waits(limit, requestOptions, limitWaits)) throw failure;
          limitWaits += 1;
          const waitMs = limit.waitSeconds * 1000;
          // The core quota is the identity's: its other requests wait for the reset too. A search
          // quota (or a secondary limit) only holds back the request that met it.
          if (limit.kind === 'primary' && (limit.resource ?? 'core') === 'core') pacer.holdUntil(Date.now() + waitMs);
          else await sleep(waitMs);
        } else if (isServerError(failure) && serverRetries < retries) {
          await sleep(serverRetryDelayMs(serverRetries, retryBaseMs));
          serverRetries += 1;
        } else {
          throw failure;
        }
      }
    });
    return {};
  };

  return Octokit.plugin(resilience);
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

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

// Several Octokit instances (one per identity) may share a registry: `metricOnce`.
function requestMetrics(registry: Registry): RequestMetrics {
  return {
    requests: metricOnce(registry, 'bowline_github_requests_total', (registers) =>
      new Counter({ name: 'bowline_github_requests_total', help: 'GitHub API calls by route template and answer (status, or error when none came)', labelNames: ['service', 'route', 'code'], registers }),
    ),
    seconds: metricOnce(registry, 'bowline_github_request_seconds', (registers) =>
      new Histogram({
        name: 'bowline_github_request_seconds',
        help: 'Time a GitHub API call took, rate-limit waits and retries included',
        labelNames: ['service', 'route'],
        // Up to the 15 minutes a call may wait out a rate limit.
        buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900],
        registers,
      }),
    ),
    remaining: metricOnce(registry, 'bowline_github_rate_limit_remaining', (registers) =>
      new Gauge({ name: 'bowline_github_rate_limit_remaining', help: 'x-ratelimit-remaining of the last GitHub answer', labelNames: ['service'], registers }),
    ),
  };
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
