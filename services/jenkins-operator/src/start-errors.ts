import { JenkinsError } from '@bowline/jenkins';
import { BowlineError } from '@bowline/observability';

/**
 * Jenkins will not start this job however often it is asked: a pipeline primed with a first run
 * that still declares no parameters (its Jenkinsfile has no `parameters` directive, or the job is
 * a freestyle job without them).
 */
export class NeverParameterizedError extends BowlineError {}

/**
 * 4xx answers that a later request can get past without anyone changing the Jenkins job: a
 * credential fixed or rotated (401, 403; the operator re-reads its token files), a request that
 * timed out or came too fast (408, 429). Prow ends the job at the first failed request whatever
 * the answer; Bowline waits these out, up to the master's `max_pending`.
 */
const PASSING_4XX = new Set([401, 403, 408, 429]);

/**
 * Whether a failed start can never succeed on retry, so the job ends at once as Prow's
 * jenkins-operator ends it ("Error starting Jenkins job."): Jenkins refused the request itself
 * (a 4xx: the job does not exist, the request is malformed), or the job stays unparameterized
 * after priming. Anything else (no answer, a timeout, a 5xx) may pass and is tried again later.
 */
export function isRefusal(error: unknown): boolean {
  if (error instanceof NeverParameterizedError) return true;
  if (!(error instanceof JenkinsError) || error.status === undefined || error.notParameterized) return false;
  return error.status >= 400 && error.status < 500 && !PASSING_4XX.has(error.status);
}

/** The longest wait between two attempts to start one job. */
const MAX_RETRY_MS = 5 * 60_000;

/**
 * When each job may be tried again after a failed or held start: the first wait is `baseMs`, and
 * each further failure in a row doubles it, up to five minutes, so a Jenkins that keeps failing
 * is not hammered.
 */
export class StartRetries {
  private readonly retryAt = new Map<string, number>();
  private readonly failures = new Map<string, number>();

  constructor(private readonly baseMs: number) {}

  /** Whether the job must wait before another attempt. */
  waiting(name: string, now: number): boolean {
    return now < (this.retryAt.get(name) ?? 0);
  }

  /** Holds the job for one base wait: an attempt is under way, or it could not be looked at. */
  hold(name: string, now: number): void {
    this.retryAt.set(name, now + this.baseMs);
  }

  /** The attempt failed: the next one waits longer than the last. */
  failed(name: string, now: number): void {
    const failures = (this.failures.get(name) ?? 0) + 1;
    this.failures.set(name, failures);
    this.retryAt.set(name, now + Math.min(this.baseMs * 2 ** (failures - 1), MAX_RETRY_MS));
  }

  /** The job started, ended or left the bucket. */
  clear(name: string): void {
    this.retryAt.delete(name);
    this.failures.delete(name);
  }

  /** Forgets every job: the operator begins a new term (standby.ts). */
  reset(): void {
    this.retryAt.clear();
    this.failures.clear();
  }
}
