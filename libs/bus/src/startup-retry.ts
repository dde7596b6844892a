import { TimeoutError } from '@nats-io/transport-node';
import { BowlineError } from '@bowline/observability';
import { isTransientNatsError, transientReason } from './nats-errors.js';

/**
 * How long start-up keeps trying one call to JetStream. Ten replicas started together on a fresh
 * three-server cluster all create the same streams and buckets at once, and some of those calls
 * time out while the cluster elects their leaders (issue 15); half a minute rides that out and
 * still fails a pod whose NATS is really away soon enough for Kubernetes to say so.
 */
export const STARTUP_RETRY_BUDGET_MS = 30_000;

/** A start-up call to JetStream that still failed when its time was up; the message names it. */
export class StartupError extends BowlineError {}

export interface StartupRetryOptions<T = unknown> {
  budgetMs?: number;
  /**
   * How long one try may take before it counts as a timeout and the next one starts; by default
   * the client's own request timeout (5 s). A request sent while the cluster elects a leader is
   * answered by no one until that timeout: a shorter one tries again sooner once a leader is there.
   */
  attemptTimeoutMs?: number;
  /** What to do with the result of a try that answered after it was given up on (stop a watch). */
  discard?: (late: T) => void;
  /** The first pause between tries, doubled after each, up to two seconds. */
  firstDelayMs?: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Runs `call` (creating or checking a stream, bucket or consumer) and tries again with backoff
 * while it fails for a reason that passes (a timeout, no responders, a cluster electing leaders),
 * for at most `budgetMs`. Any other failure, or the last transient one, is thrown as a
 * StartupError whose message says what was being done: `cannot create stream EVENTS: timeout
 * after 30 s`, with the client's error as `cause`.
 */
export async function retryStartup<T>(what: string, call: () => Promise<T>, options: StartupRetryOptions<T> = {}): Promise<T> {
  const budgetMs = options.budgetMs ?? STARTUP_RETRY_BUDGET_MS;
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const startedAt = now();
  let delayMs = options.firstDelayMs ?? 100;
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await (options.attemptTimeoutMs === undefined ? call() : withinTime(call(), options.attemptTimeoutMs, options.discard));
    } catch (error) {
      if (error instanceof StartupError) throw error;
      const context = { call: what, attempts: attempt };
      if (!isTransientNatsError(error)) {
        throw new StartupError(`cannot ${what}: ${error instanceof Error ? error.message : String(error)}`, { cause: error, context });
      }
      const left = budgetMs - (now() - startedAt);
      if (left <= 0) {
        throw new StartupError(`cannot ${what}: ${transientReason(error)} after ${Number((budgetMs / 1000).toFixed(1))} s`, { cause: error, context });
      }
      // The last pause ends at the budget, so a call is always tried once more right at its end.
      await sleep(Math.min(delayMs, left));
      delayMs = Math.min(2000, delayMs * 2);
    }
  }
}

/** The call's result, or a nats.js TimeoutError (transient, so tried again) after `ms`. */
function withinTime<T>(attempt: Promise<T>, ms: number, discard?: (late: T) => void): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  let gaveUp = false;
  attempt.then((late) => gaveUp && discard?.(late)).catch(() => undefined);
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      gaveUp = true;
      reject(new TimeoutError());
    }, ms);
  });
  return Promise.race([attempt, timeout]).finally(() => clearTimeout(timer));
}
