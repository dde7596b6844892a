import type { KV, KvEntry } from '@nats-io/kv';
import { isWrongLastSequence, retryStartup } from '@bowline/bus';
import { BowlineError, describeError, type Logger } from '@bowline/observability';
import { watchBucket } from './bucket-watch.js';
import type { ProwJob } from './types.js';

export interface StoredProwJob {
  job: ProwJob;
  revision: number;
}

export class ProwJobConflictError extends BowlineError {}

/**
 * A read that stayed older than a revision this process had already seen of the job, however long
 * it waited: the caller looks again later (a work queue retries it), never takes it as the answer.
 */
export class StaleReadError extends BowlineError {}

/** What this process last saw of a key: its revision, and whether that was a delete. */
interface Seen {
  revision: number;
  deleted: boolean;
  at: number;
}

/** Pauses while a lagging replica catches up: 25 ms doubling, about 1.6 s in all, then StaleReadError. */
const STALE_READ_DELAYS_MS = [25, 50, 100, 200, 400, 800];
/**
 * Listing and watching make a consumer on the bucket's stream, which needs the cluster's leaders:
 * for seconds after a server died (an election, 3–7 s measured on nats-server 2.9) the request is
 * answered by no one. Each try is given 2 s, not the client's 5, and tried again for 20 s rather
 * than failing the caller's start: an operator taking the lease over lists and watches at once,
 * and its builds wait for it (issue 15: builds again within 10 s of a kill).
 */
const BUCKET_RETRY_BUDGET_MS = 20_000;
const BUCKET_ATTEMPT_TIMEOUT_MS = 2000;
/** How long a delete is remembered, so a lagging replica's older copy of a deleted job is not believed. */
const DELETED_MEMORY_MS = 60_000;

/**
 * The ProwJob bucket. Every write is a compare-and-set on the revision that was read, so two
 * services changing one job never overwrite each other: the loser reads again and re-decides.
 *
 * Reads are never older than what this process already saw (issue 15). `KV_prowjobs` allows direct
 * gets, which any replica of the stream answers, one that may be behind the leader: a `get` right
 * after the watch showed revision 7 could answer revision 5, or nothing for a job just created, and
 * a caller deciding on that ("already reported", "no such job") would do nothing where something
 * was due. The store remembers the newest revision of each job it watched, read or wrote, and a
 * read older than that is asked again after a pause, then refused with StaleReadError.
 */
export class ProwJobStore {
  private readonly seen = new Map<string, Seen>();
  private notes = 0;

  constructor(
    private readonly kv: KV,
    private readonly options: { now?: () => number; sleep?: (ms: number) => Promise<void> } = {},
  ) {}

  /** Creates the job; false when a job of that name exists already (a replayed event). */
  async create(job: ProwJob): Promise<boolean> {
    try {
      this.note(job.metadata.name, await this.kv.create(job.metadata.name, JSON.stringify(job)), false);
      return true;
    } catch (error) {
      if (isWrongLastSequence(error)) return false;
      throw new BowlineError(`cannot create ProwJob ${job.metadata.name}: ${describeError(error)}`, { cause: error });
    }
  }

  /** The job at a revision no older than any this process has seen of it. */
  async get(name: string): Promise<StoredProwJob | undefined> {
    for (let attempt = 0; ; attempt += 1) {
      const entry = await this.kv.get(name);
      const floor = this.seen.get(name);
      if (!floor || isCurrent(entry, floor)) {
        if (!entry) return undefined;
        this.note(name, entry.revision, entry.operation !== 'PUT');
        if (entry.operation !== 'PUT') return undefined;
        return { job: entry.json<ProwJob>(), revision: entry.revision };
      }
      const delayMs = STALE_READ_DELAYS_MS[attempt];
      if (delayMs === undefined) {
        throw new StaleReadError(`ProwJob ${name}: NATS answered revision ${entry?.revision ?? 'none'}, older than revision ${floor.revision} already seen; look again later`, {
          context: { prowjob: name, seen: floor.revision, read: entry?.revision },
        });
      }
      await (this.options.sleep ?? sleep)(delayMs);
    }
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
        this.note(name, await this.kv.update(name, JSON.stringify(next), current.revision), false);
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
    // Only making the listing's consumer is timed: reading a large bucket's keys may take longer.
    const keys = await retryStartup('list the ProwJob bucket', () => this.kv.keys(), {
      budgetMs: BUCKET_RETRY_BUDGET_MS,
      attemptTimeoutMs: BUCKET_ATTEMPT_TIMEOUT_MS,
      discard: (late) => late.stop(),
    });
    const names: string[] = [];
    for await (const key of keys) names.push(key);
    const jobs = await Promise.all(names.map((name) => this.get(name)));
    return jobs.filter((j): j is StoredProwJob => j !== undefined);
  }

  /**
   * Watches every job: first the current value of each, then each change as it happens. Deleted
   * jobs are reported with `job` undefined. The revision given is the floor of later reads.
   */
  async watch(
    onChange: (name: string, stored: StoredProwJob | undefined) => void,
    logger: Logger,
  ): Promise<{ stop(): void }> {
    return watchBucket(
      this.kv,
      (entry) => {
        try {
          this.note(entry.key, entry.revision, entry.operation !== 'PUT');
          if (entry.operation === 'PUT') onChange(entry.key, { job: entry.json<ProwJob>(), revision: entry.revision });
          else onChange(entry.key, undefined);
        } catch (error) {
          logger.error({ prowjob: entry.key, err: error }, 'cannot read ProwJob from the bucket');
        }
      },
      logger,
      { budgetMs: BUCKET_RETRY_BUDGET_MS, attemptTimeoutMs: BUCKET_ATTEMPT_TIMEOUT_MS },
    );
  }

  /** Raises the floor of later reads of `name` to `revision`. */
  private note(name: string, revision: number, deleted: boolean): void {
    const now = (this.options.now ?? Date.now)();
    const known = this.seen.get(name);
    if (!known || revision >= known.revision) this.seen.set(name, { revision, deleted, at: now });
    // Deleted jobs are forgotten a while after: the sinker deletes every job in the end.
    this.notes += 1;
    if (this.notes % 1000 !== 0) return;
    for (const [key, seen] of this.seen) if (seen.deleted && now - seen.at > DELETED_MEMORY_MS) this.seen.delete(key);
  }
}

/**
 * Whether a read is at least as new as what was seen. A missing entry is current only for a job
 * seen deleted (its delete marker may since have been purged).
 */
function isCurrent(entry: KvEntry | null, floor: Seen): boolean {
  if (!entry) return floor.deleted;
  return entry.revision >= floor.revision;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
