import type { KV, KvWatchEntry } from '@nats-io/kv';
import { BowlineError, describeError, type Logger } from '@bowline/observability';
import type { ProwJob } from './types.js';

export interface StoredProwJob {
  job: ProwJob;
  revision: number;
}

export class ProwJobConflictError extends BowlineError {}

/**
 * The ProwJob bucket. Every write is a compare-and-set on the revision that was read, so two
 * services changing one job never overwrite each other: the loser reads again and re-decides.
 */
export class ProwJobStore {
  constructor(private readonly kv: KV) {}

  /** Creates the job; false when a job of that name exists already (a replayed event). */
  async create(job: ProwJob): Promise<boolean> {
    try {
      await this.kv.create(job.metadata.name, JSON.stringify(job));
      return true;
    } catch (error) {
      if (isWrongLastSequence(error)) return false;
      throw new BowlineError(`cannot create ProwJob ${job.metadata.name}: ${describeError(error)}`, { cause: error });
    }
  }

  async get(name: string): Promise<StoredProwJob | undefined> {
    const entry = await this.kv.get(name);
    if (!entry || entry.operation !== 'PUT') return undefined;
    return { job: entry.json<ProwJob>(), revision: entry.revision };
  }

  /**
   * Reads the job, lets `change` decide the new value (or `undefined` for no change), writes it
   * with compare-and-set, and on a conflict starts again from a fresh read.
   */
  async update(name: string, change: (job: ProwJob) => ProwJob | undefined, attempts = 10): Promise<ProwJob | undefined> {
    for (let attempt = 1; attempt <= attempts; attempt += 1) {
      const current = await this.get(name);
      if (!current) return undefined;
      const next = change(current.job);
      if (!next) return undefined;
      try {
        await this.kv.update(name, JSON.stringify(next), current.revision);
        return next;
      } catch (error) {
        if (!isWrongLastSequence(error)) {
          throw new BowlineError(`cannot update ProwJob ${name}: ${describeError(error)}`, { cause: error });
        }
      }
    }
    throw new ProwJobConflictError(`cannot update ProwJob ${name}: still conflicting after ${attempts} attempts`);
  }

  async delete(name: string, revision?: number): Promise<void> {
    await this.kv.delete(name, revision === undefined ? undefined : { previousSeq: revision });
  }

  /** Every job in the bucket. */
  async list(): Promise<StoredProwJob[]> {
    const names: string[] = [];
    for await (const key of await this.kv.keys()) names.push(key);
    const jobs = await Promise.all(names.map((name) => this.get(name)));
    return jobs.filter((j): j is StoredProwJob => j !== undefined);
  }

  /**
   * Watches every job: first the current value of each, then each change as it happens. Deleted
   * jobs are reported with `job` undefined.
   */
  async watch(
    onChange: (name: string, stored: StoredProwJob | undefined) => void,
    logger: Logger,
  ): Promise<{ stop(): void }> {
    const iterator = await this.kv.watch();
    void (async () => {
      for await (const entry of iterator as AsyncIterable<KvWatchEntry>) {
        try {
          if (entry.operation === 'PUT') onChange(entry.key, { job: entry.json<ProwJob>(), revision: entry.revision });
          else onChange(entry.key, undefined);
        } catch (error) {
          logger.error({ prowjob: entry.key, err: error }, 'cannot read ProwJob from the bucket');
        }
      }
    })();
    return { stop: () => iterator.stop() };
  }
}

function isWrongLastSequence(error: unknown): boolean {
  return /wrong last sequence/i.test(describeError(error));
}
