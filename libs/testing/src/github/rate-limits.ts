import type { Fault } from '../http-fake.js';
import type { RateLimitOptions } from './types.js';

const RATE_LIMIT = 5000;
const RATE_WINDOW_SECONDS = 3600;

/**
 * GitHub's primary quota as the fake keeps it: an hourly window of 5000 requests on the real
 * clock (clients wait on the reset with timers), reported in the `x-ratelimit-*` headers.
 */
export class RateLimits {
  private remaining = RATE_LIMIT;
  private charged = 0;
  private resetAt = nowSeconds() + RATE_WINDOW_SECONDS;

  /** Starts a new window once the hour is over. */
  roll(): void {
    if (nowSeconds() < this.resetAt) return;
    this.remaining = RATE_LIMIT;
    this.resetAt = nowSeconds() + RATE_WINDOW_SECONDS;
  }

  charge(): void {
    this.remaining = Math.max(0, this.remaining - 1);
    this.charged += 1;
  }

  /** Requests charged since the fake started; unlike `x-ratelimit-used` it never goes back to zero. */
  get used(): number {
    return this.charged;
  }

  headers(): Record<string, string> {
    return {
      'x-ratelimit-limit': String(RATE_LIMIT),
      'x-ratelimit-remaining': String(this.remaining),
      'x-ratelimit-reset': String(this.resetAt),
      'x-ratelimit-used': String(RATE_LIMIT - this.remaining),
      'x-ratelimit-resource': 'core',
    };
  }

  /**
   * The fault refusing a client the way GitHub does over its limits, with every trait a client may
   * tell the kinds apart by: a secondary limit by `retry-after` (Bowline's rate-limits.ts) or
   * "secondary rate" in the message (@octokit/plugin-throttling), a primary one by
   * `x-ratelimit-remaining: 0` (waiting until `x-ratelimit-reset`), on a 403 or a 429. `requestId` numbers the answer as the fake's
   * other answers are numbered.
   */
  refusal(options: RateLimitOptions, requestId: () => string): Fault {
    const status = options.status ?? 403;
    const times = options.times ?? 1;
    // Headers computed when the fake answers, so a reset counts from the refused request.
    const live = (compute: () => Record<string, string>) => (): Record<string, string> => ({ ...compute(), 'x-github-request-id': requestId() });
    if (options.kind === 'primary') {
      const resetIn = options.resetInSeconds ?? 1;
      return {
        status,
        times,
        headers: live(() => ({
          'x-ratelimit-limit': String(RATE_LIMIT),
          'x-ratelimit-remaining': '0',
          'x-ratelimit-reset': String(nowSeconds() + resetIn),
          'x-ratelimit-used': String(RATE_LIMIT),
          'x-ratelimit-resource': 'core',
        })),
        body: {
          message: 'API rate limit exceeded for user ID 1.',
          documentation_url: 'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api',
        },
      };
    }
    const retryAfter = String(options.retryAfterSeconds ?? 1);
    return {
      status,
      times,
      // GitHub still reports the primary quota on a secondary refusal, and it is not exhausted.
      headers: live(() => ({ ...this.headers(), 'retry-after': retryAfter })),
      body: {
        message: 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.',
        documentation_url: 'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits',
      },
    };
  }
}

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}
