import { Counter, type Registry } from 'prom-client';
import { metricOnce, type Logger } from '@bowline/observability';

export type LimitKind = 'primary' | 'secondary';

/** A refusal GitHub gave because a rate limit was reached, and how long it asks us to wait. */
export interface RateLimit {
  kind: LimitKind;
  waitSeconds: number;
  /** `x-ratelimit-resource`: the quota that ran out (`core`, `search`, …), when GitHub named it. */
  resource?: string;
}

/**
 * GitHub's advice for a secondary limit that names no wait: "wait for at least one minute before
 * retrying" (docs: Rate limits for the REST API, "Handle rate limit errors appropriately").
 */
export const SECONDARY_FALLBACK_SECONDS = 60;

/**
 * A limit still there after this many waits is not one that lifts on its own schedule (a missing
 * or stale `x-ratelimit-reset` gives a wait of about a second, every time): the caller's own retry
 * (a work queue with backoff) is the better judge from there.
 */
export const MAX_RATE_LIMIT_RETRIES = 5;

type Headers = Record<string, string | number | undefined>;

/**
 * The rate limit behind an error, told by status and headers alone as GitHub documents them (docs:
 * Rate limits for the REST API, "Exceeding the rate limit", "Handle rate limit errors
 * appropriately"): a 403 or 429 with `retry-after` is a secondary limit, waited out for that many
 * seconds; one with `x-ratelimit-remaining: 0` is the primary limit, waited out until
 * `x-ratelimit-reset` and a second more, so the retry comes after the reset; any other 429 is a
 * secondary limit of a minute. A 403 with neither header is a refusal, not a limit.
 */
export function rateLimitOf(error: unknown, now: number): RateLimit | undefined {
  const { status, response } = (error ?? {}) as { status?: unknown; response?: { headers?: Headers } };
  if (status !== 403 && status !== 429) return undefined;
  const headers = response?.headers ?? {};
  const resource = headers['x-ratelimit-resource'] === undefined ? {} : { resource: String(headers['x-ratelimit-resource']) };
  if (headers['retry-after'] !== undefined) {
    const seconds = Number(headers['retry-after']);
    return { kind: 'secondary', waitSeconds: Number.isFinite(seconds) && seconds >= 0 ? seconds : SECONDARY_FALLBACK_SECONDS, ...resource };
  }
  if (String(headers['x-ratelimit-remaining']) === '0') {
    const reset = Number(headers['x-ratelimit-reset']);
    const resetMs = Number.isFinite(reset) ? Math.trunc(reset) * 1000 : 0;
    return { kind: 'primary', waitSeconds: Math.max(Math.ceil((resetMs - now) / 1000) + 1, 0), ...resource };
  }
  return status === 429 ? { kind: 'secondary', waitSeconds: SECONDARY_FALLBACK_SECONDS, ...resource } : undefined;
}

/** The request as a hook is handed it: its route template before expansion, and its parameters. */
export interface LimitedRequest {
  method?: unknown;
  url?: unknown;
  owner?: unknown;
  repo?: unknown;
}

export interface RateLimitPolicyOptions {
  logger: Logger;
  service: string;
  maxWaitMs: number;
  registry?: Registry;
}

/**
 * Whether a rate-limited request waits and goes again: while the wait fits `maxWaitMs` and fewer
 * than `MAX_RATE_LIMIT_RETRIES` waits were made. Past that it fails with GitHub's 403/429 at once,
 * so the report's work queue retries it later rather than a worker sleeping for an hour. Either
 * way it is logged and counted in `bowline_github_rate_limited_total`.
 */
export class RateLimitPolicy {
  private readonly limited: Counter<'service' | 'kind' | 'action'> | undefined;

  constructor(private readonly options: RateLimitPolicyOptions) {
    this.limited = options.registry ? rateLimitedCounter(options.registry) : undefined;
  }

  /** `waitsSoFar`: how many times this request has already waited for a limit. */
  waits(limit: RateLimit, request: LimitedRequest, waitsSoFar: number): boolean {
    const { logger, service, maxWaitMs } = this.options;
    const { kind, waitSeconds } = limit;
    const waiting = waitSeconds * 1000 <= maxWaitMs && waitsSoFar < MAX_RATE_LIMIT_RETRIES;
    const fields = {
      route: `${String(request.method)} ${String(request.url)}`,
      ...(typeof request.owner === 'string' && typeof request.repo === 'string' ? { repo: `${request.owner}/${request.repo}` } : {}),
      limit: kind,
      waitSeconds,
      retryCount: waitsSoFar,
    };
    if (waiting) {
      logger.warn(fields, `GitHub ${kind} rate limit: retrying in ${waitSeconds} s`);
    } else {
      const why = waitsSoFar >= MAX_RATE_LIMIT_RETRIES ? `still limited after ${waitsSoFar} waits` : `longer than the ${maxWaitMs / 1000} s allowed`;
      logger.warn({ ...fields, maxWaitSeconds: maxWaitMs / 1000 }, `GitHub ${kind} rate limit: not waiting (${why}), the request fails for its caller to retry`);
    }
    this.limited?.inc({ service, kind, action: waiting ? 'wait' : 'fail' });
    return waiting;
  }
}

// Several Octokit instances (one per identity) may share a registry: `metricOnce`.
function rateLimitedCounter(registry: Registry): Counter<'service' | 'kind' | 'action'> {
  return metricOnce(
    registry,
    'bowline_github_rate_limited_total',
    (registers) =>
      new Counter({
        name: 'bowline_github_rate_limited_total',
        help: 'GitHub rate-limit refusals by kind (primary, secondary) and what followed (wait, fail)',
        labelNames: ['service', 'kind', 'action'],
        registers,
      }),
  );
}
