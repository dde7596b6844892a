import { Counter, type Registry } from 'prom-client';
import type { ConfigSource } from '@bowline/config';
import { describeError, type Logger } from '@bowline/observability';
import { isFinished, type ProwJobStore } from '@bowline/prowjob';

export interface SinkerDeps {
  store: ProwJobStore;
  config: ConfigSource;
  logger: Logger;
  registry: Registry;
  now?: () => Date;
}

/** Prow's sinker: deletes finished ProwJobs whose start is older than `sinker.max_prowjob_age`. */
export class Sinker {
  private readonly now: () => Date;
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private readonly deleted: Counter;

  constructor(private readonly deps: SinkerDeps) {
    this.now = deps.now ?? (() => new Date());
    this.deleted = new Counter({
      name: 'bowline_sinker_prowjobs_deleted_total',
      help: 'Finished ProwJobs deleted for age',
      registers: [deps.registry],
    });
  }

  start(): void {
    const tick = (): void => {
      this.running = this.clean()
        .then(() => undefined)
        .catch((error: unknown) => this.deps.logger.error({ err: describeError(error) }, 'clean-up pass failed'));
      this.timer = setTimeout(tick, this.deps.config.get().sinker.resyncPeriodMs);
      this.timer.unref();
    };
    tick();
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    await this.running;
  }

  /** One pass; returns the names deleted. Unfinished jobs are never deleted. */
  async clean(): Promise<string[]> {
    const { maxProwJobAgeMs } = this.deps.config.get().sinker;
    const cutoff = this.now().getTime() - maxProwJobAgeMs;
    const deleted: string[] = [];
    for (const { job, revision } of await this.deps.store.list()) {
      if (!isFinished(job) || Date.parse(job.status.startTime) >= cutoff) continue;
      try {
        // Deleting at the revision read: a job that changed since is left for the next pass.
        await this.deps.store.delete(job.metadata.name, revision);
        deleted.push(job.metadata.name);
        this.deleted.inc();
        this.deps.logger.info({ prowjob: job.metadata.name, job: job.spec.job, started: job.status.startTime }, 'old ProwJob deleted');
      } catch (error) {
        this.deps.logger.warn({ prowjob: job.metadata.name, err: describeError(error) }, 'cannot delete ProwJob');
      }
    }
    return deleted;
  }
}
