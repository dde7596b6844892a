import { Counter, type Registry } from 'prom-client';
import type { ConfigSource, Periodic } from '@bowline/config';
import type { Logger } from '@bowline/observability';
import { isFinished, transition, type ProwJob, type ProwJobStore, type StoredProwJob } from '@bowline/prowjob';
import { formatDuration } from '@bowline/service';

export interface SinkerDeps {
  store: ProwJobStore;
  config: ConfigSource;
  logger: Logger;
  registry: Registry;
  now?: () => Date;
  /**
   * Whether this replica may act now (the `sinker` lease), asked before every deletion and every
   * ended job, so a replica that lost the lease mid-pass stops at once. Without it: always.
   */
  lease?: { isHeld(): boolean };
  /**
   * The history: a job is deleted only once its last revision is recorded (so what ran stays
   * findable), and the HISTORY stream's retention follows the config. Without it, no such wait.
   */
  history?: { recordedUpTo(atLeast: number): Promise<number>; applyRetention(): Promise<void> };
}

export interface PassResult {
  /** Names of the finished jobs deleted for age. */
  deleted: string[];
  /** Names of the unfinished jobs ended as `error`. */
  ended: string[];
  /** The pass stopped part way: `stop()`, or the lease was lost. The next holder's pass does the rest. */
  interrupted: boolean;
  /** Old jobs left because their last change is not in the history yet. */
  waitingForHistory: number;
}

/** How soon a pass that left jobs waiting for the history is tried again, rather than in an hour. */
const HISTORY_RETRY_MS = 30_000;

/**
 * Prow's sinker, plus ending stuck jobs:
 * - a finished ProwJob whose start is older than `sinker.max_prowjob_age` is deleted, except the
 *   latest run of each periodic still in the config (Prow keeps it, for the job's last result);
 * - an unfinished one older than `bowline.sinker.max_unfinished_age` is set to `error`, so its
 *   commit status stops saying pending forever (Jenkins lost the build, the operator was down…).
 * Every write is a compare-and-set, so a job changed by another service meanwhile is left alone
 * or decided again on its new value.
 */
export class Sinker {
  private readonly now: () => Date;
  private timer?: NodeJS.Timeout;
  private retry?: NodeJS.Timeout;
  private running?: Promise<PassResult | undefined>;
  private kickAgain = false;
  private stopped = false;
  private readonly deleted: Counter;
  private readonly ended: Counter;

  constructor(private readonly deps: SinkerDeps) {
    this.now = deps.now ?? (() => new Date());
    this.deleted = new Counter({
      name: 'bowline_sinker_prowjobs_deleted_total',
      help: 'Finished ProwJobs deleted for age',
      registers: [deps.registry],
    });
    this.ended = new Counter({
      name: 'bowline_sinker_prowjobs_ended_total',
      help: 'Unfinished ProwJobs ended as error for being older than bowline.sinker.max_unfinished_age',
      registers: [deps.registry],
    });
  }

  /** A pass now, then one every `sinker.resync_period` (read again each time, for reloads). */
  start(): void {
    this.stopped = false;
    const tick = (): void => {
      this.kick();
      this.timer = setTimeout(tick, this.deps.config.get().sinker.resyncPeriodMs);
      this.timer.unref();
    };
    tick();
  }

  /**
   * A pass now, or right after the one running (the lease was just acquired, or NATS is back and
   * the running pass may have left jobs whose requests were lost in the outage).
   */
  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.kickAgain = true;
      return;
    }
    this.running = this.pass()
      .then((result) => {
        if (result.waitingForHistory > 0 && !this.stopped) {
          clearTimeout(this.retry);
          this.retry = setTimeout(() => this.kick(), HISTORY_RETRY_MS);
          this.retry.unref();
        }
        return result;
      })
      .catch((error: unknown) => {
        this.deps.logger.error({ err: error }, 'sinker pass failed');
        return undefined;
      })
      .finally(() => {
        this.running = undefined;
        if (this.kickAgain) {
          this.kickAgain = false;
          this.kick();
        }
      });
  }

  /** Stops between two jobs: a pass in progress ends after the job it is on. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    clearTimeout(this.retry);
    await this.running;
  }

  /** One pass over the bucket. Unfinished jobs are never deleted. */
  async pass(): Promise<PassResult> {
    const result: PassResult = { deleted: [], ended: [], interrupted: false, waitingForHistory: 0 };
    if (!this.mayAct()) return { ...result, interrupted: true };
    const config = this.deps.config.get();
    const now = this.now().getTime();
    await this.deps.history?.applyRetention();
    const listed = await this.deps.store.list();
    const keep = latestRunsOf(config.periodics, listed);
    const stuck: StoredProwJob[] = [];
    const old: StoredProwJob[] = [];
    for (const stored of listed) {
      const { job } = stored;
      const started = Date.parse(job.status.startTime);
      if (!isFinished(job)) {
        if (started < now - config.sinker.maxUnfinishedAgeMs) stuck.push(stored);
      } else if (started < now - config.sinker.maxProwJobAgeMs && !keep.has(job.metadata.name)) {
        old.push(stored);
      }
    }
    const newest = old.reduce((max, { revision }) => Math.max(max, revision), 0);
    const recordedUpTo = this.deps.history && old.length > 0 ? await this.deps.history.recordedUpTo(newest) : Infinity;

    for (const [action, { job, revision }] of [...stuck.map((s) => ['end', s] as const), ...old.map((s) => ['delete', s] as const)]) {
      if (!this.mayAct()) {
        result.interrupted = true;
        this.deps.logger.info({ deleted: result.deleted.length, ended: result.ended.length }, 'sinker pass interrupted: the next holder finishes it');
        break;
      }
      if (action === 'end') {
        if (await this.end(job, config.sinker.maxUnfinishedAgeMs)) result.ended.push(job.metadata.name);
      } else if (revision <= recordedUpTo) {
        if (await this.delete(job, revision)) result.deleted.push(job.metadata.name);
      }
    }
    result.waitingForHistory = old.filter(({ revision }) => revision > recordedUpTo).length;
    if (result.waitingForHistory > 0) this.deps.logger.info({ waiting: result.waitingForHistory }, 'old ProwJobs kept until their end is in the history');
    return result;
  }

  private mayAct(): boolean {
    return !this.stopped && (this.deps.lease?.isHeld() ?? true);
  }

  /** Deletes at the revision read: a job that changed since is left for the next pass. */
  private async delete(job: ProwJob, revision: number): Promise<boolean> {
    const log = this.deps.logger.child(fieldsOf(job));
    try {
      await this.deps.store.delete(job.metadata.name, revision);
    } catch (error) {
      log.warn({ err: error }, 'cannot delete ProwJob: left for the next pass');
      return false;
    }
    this.deleted.inc();
    log.info({ state: job.status.state, started: job.status.startTime }, 'old ProwJob deleted');
    return true;
  }

  /** Ends a stuck job as `error`, deciding again on the job's latest value. */
  private async end(job: ProwJob, maxUnfinishedAgeMs: number): Promise<boolean> {
    const log = this.deps.logger.child(fieldsOf(job));
    const age = formatDuration(maxUnfinishedAgeMs);
    const description = `Ended by sinker: unfinished after ${age} (bowline.sinker.max_unfinished_age); check the Jenkins build and the jenkins-operator's logs.`;
    try {
      // `transition` refuses a job that finished since it was listed: then nothing is written.
      const ended = await this.deps.store.update(job.metadata.name, (current) => transition(current, 'error', this.now(), { description }));
      if (!ended) return false;
    } catch (error) {
      log.warn({ err: error }, 'cannot end stuck ProwJob: left for the next pass');
      return false;
    }
    this.ended.inc();
    log.warn({ state: job.status.state, started: job.status.startTime, maxUnfinishedAge: age }, 'stuck ProwJob ended as error');
    return true;
  }
}

/**
 * Prow's `GetLatestProwJobs` for periodics still in the config: the newest run of each (finished
 * or not), which the sinker keeps however old it is.
 */
function latestRunsOf(periodics: readonly Periodic[], listed: readonly StoredProwJob[]): Set<string> {
  const configured = new Set(periodics.map((p) => p.name));
  const latest = new Map<string, ProwJob>();
  for (const { job } of listed) {
    if (job.spec.type !== 'periodic' || !configured.has(job.spec.job)) continue;
    const current = latest.get(job.spec.job);
    if (!current || Date.parse(job.status.startTime) > Date.parse(current.status.startTime)) latest.set(job.spec.job, job);
  }
  return new Set([...latest.values()].map((job) => job.metadata.name));
}

function fieldsOf(job: ProwJob): Record<string, unknown> {
  const { refs } = job.spec;
  return {
    prowjob: job.metadata.name,
    job: job.spec.job,
    ...(refs.org ? { repo: `${refs.org}/${refs.repo}` } : {}),
    ...(refs.pulls?.[0] ? { pr: refs.pulls[0].number } : {}),
    ...(job.status.jenkins_build_id ? { build: job.status.jenkins_build_id } : {}),
  };
}
