/** Retries of a request GitHub answered with a server error, unless the caller says otherwise. */
export const DEFAULT_SERVER_RETRIES = 3;

/** The unit of the backoff between retries: the n-th retry waits n² of it. */
export const DEFAULT_RETRY_BASE_MS = 1000;

/**
 * Whether GitHub may answer differently a moment later: a 5xx, or a request that never got an
 * answer (Octokit reports a failed connection as a 500). A client error (4xx) is the same on a
 * second try, and a 403/429 over a rate limit is rate-limits.ts's to judge, so neither is retried.
 */
export function isServerError(error: unknown): boolean {
  const status = (error as { status?: unknown } | null)?.status;
  return typeof status === 'number' && status >= 500 && status <= 599;
}

/**
 * The wait before retry `retriesSoFar + 1`: 1, 4, 9 … units, the growing backoff GitHub asks for
 * after errors (docs: Best practices for using the REST API, "Handle rate limit errors
 * appropriately": wait longer between retries), as @octokit/plugin-retry had it.
 */
export function serverRetryDelayMs(retriesSoFar: number, baseMs: number): number {
  return (retriesSoFar + 1) ** 2 * baseMs;
}
