/**
 * Writes that may go out at once after a quiet spell, before the pace of one per
 * `writeIntervalMs` applies. GitHub's secondary limits allow about 80 content-creating requests a
 * minute per user (docs: Rate limits for the REST API, "About secondary rate limits"); a bucket of
 * 10 refilled one a second sends at most 10 + 60 = 70 in any minute. Prow's client is a token
 * bucket too (`github-hourly-tokens`, `github-allowed-burst`), over every request.
 */
export const WRITE_BURST = 10;

/**
 * Requests that create content people are notified of (a comment, an issue, a review, a merge) go
 * three write intervals apart: GitHub's secondary limits are tightest for them (docs: Rate limits
 * for the REST API, "creating too much content on GitHub in a short amount of time").
 */
export const NOTIFYING_SPACING = 3;

/**
 * GitHub's search API allows 30 requests a minute (docs: Rate limits for the REST API, "Primary
 * rate limit for the search API"): one every two seconds never meets it.
 */
export const SEARCH_INTERVAL_MS = 2000;

/** What pacing needs to know of a request. */
export type RequestKind = 'read' | 'write' | 'notifying-write' | 'search';

/** How one identity's writes and searches are paced; `undefined` where nothing is. */
export interface PaceSettings {
  writeBurst: number;
  writeIntervalMs: number;
  searchIntervalMs: number;
}

/**
 * The pace for a `writeIntervalMs` setting. Unset: one write a second with no burst, GitHub's own
 * advice taken literally (docs: Best practices for using the REST API, "Pause between mutative
 * requests"; what the services had before the burst was added, kept for callers that set nothing).
 * 0: a local stand-in for GitHub (tests, the demo), where nothing is paced.
 */
export function paceFor(writeIntervalMs: number | undefined): PaceSettings | undefined {
  if (writeIntervalMs === 0) return undefined;
  if (writeIntervalMs === undefined) return { writeBurst: 1, writeIntervalMs: 1000, searchIntervalMs: SEARCH_INTERVAL_MS };
  return { writeBurst: WRITE_BURST, writeIntervalMs, searchIntervalMs: SEARCH_INTERVAL_MS };
}

// Paths of the requests that notify people, as templates (`/repos/{owner}/…`) or expanded paths:
// new issues and pull requests, their comments, review comments and replies, reviews, review
// requests, merges, commit comments, releases, collaborators and org invitations, team discussions.
const NOTIFYING_PATHS = [
  /^\/repos\/[^/]+\/[^/]+\/(?:issues|pulls|releases)$/,
  /^\/repos\/[^/]+\/[^/]+\/issues\/[^/]+\/(?:comments|sub_issues?(?:\/priority)?)$/,
  /^\/repos\/[^/]+\/[^/]+\/pulls\/[^/]+\/(?:comments(?:\/[^/]+\/replies)?|reviews|requested_reviewers|merge)$/,
  /^\/repos\/[^/]+\/[^/]+\/commits\/[^/]+\/comments$/,
  /^\/repos\/[^/]+\/[^/]+\/collaborators\/[^/]+$/,
  /^\/orgs\/[^/]+\/invitations(?:\/[^/]+)?$/,
  /^\/(?:orgs\/[^/]+\/teams|teams)\/[^/]+\/discussions(?:\/[^/]+\/comments)?$/,
];

/**
 * Tells reads, writes, notifying writes and searches apart by method and path. `path` is the
 * request's URL as a hook sees it: a route template, or a URL already expanded (without the API's
 * base; a query string is ignored).
 */
export function requestKind(method: string, path: string): RequestKind {
  const bare = path.split('?')[0]!;
  if (method === 'GET' || method === 'HEAD') return bare.startsWith('/search/') ? 'search' : 'read';
  return NOTIFYING_PATHS.some((pattern) => pattern.test(bare)) ? 'notifying-write' : 'write';
}

/** One paced kind of request: when the next may go, and taking its turn. */
export interface Pace {
  /** Milliseconds until a request of `kind` may go; 0 when it may go now. */
  waitMs(kind: RequestKind, now: number): number;
  take(kind: RequestKind, now: number): void;
}

/**
 * The writes' pace: a token bucket of `writeBurst`, refilled one per interval (so the first status
 * of a quiet pull request goes at once rather than an interval after the last write), and notifying
 * writes also `NOTIFYING_SPACING` intervals after the previous one. Refilled when asked, not by a
 * timer: an idle identity costs nothing.
 */
export class WriteBucket implements Pace {
  private tokens: number;
  private refilledAt: number;
  private lastNotifyingAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly burst: number,
    private readonly intervalMs: number,
    now: number,
  ) {
    this.tokens = burst;
    this.refilledAt = now;
  }

  waitMs(kind: RequestKind, now: number): number {
    this.refill(now);
    const forToken = this.tokens >= 1 ? 0 : this.refilledAt + this.intervalMs - now;
    const forSpacing = kind === 'notifying-write' ? this.lastNotifyingAt + NOTIFYING_SPACING * this.intervalMs - now : 0;
    return Math.max(0, forToken, forSpacing);
  }

  take(kind: RequestKind, now: number): void {
    this.tokens -= 1;
    if (kind === 'notifying-write') this.lastNotifyingAt = now;
  }

  private refill(now: number): void {
    // A full bucket gains nothing from waiting: its next token is due an interval after it is used.
    if (this.tokens >= this.burst) {
      this.refilledAt = now;
      return;
    }
    const due = Math.floor((now - this.refilledAt) / this.intervalMs);
    if (due <= 0) return;
    this.tokens = Math.min(this.burst, this.tokens + due);
    this.refilledAt += due * this.intervalMs;
  }
}

/** A plain spacing: each request at least `intervalMs` after the one before. */
export class Spacing implements Pace {
  private lastAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly intervalMs: number) {}

  waitMs(_kind: RequestKind, now: number): number {
    return Math.max(0, this.lastAt + this.intervalMs - now);
  }

  take(_kind: RequestKind, now: number): void {
    this.lastAt = now;
  }
}
