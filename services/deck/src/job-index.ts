import type { KV, KvWatchEntry } from '@nats-io/kv';
import { Gauge, type Registry } from 'prom-client';
import { BowlineError, type Logger } from '@bowline/observability';
import type { ProwJob } from '@bowline/prowjob';

/** One ProwJob that changed: `job` is its new value, undefined once it is deleted. */
export interface JobChange {
  name: string;
  job: ProwJob | undefined;
  /** The bucket's revision of the change: later changes have higher ones. */
  revision: number;
}

export type ChangeListener = (change: JobChange) => void;

export class JobIndexError extends BowlineError {}

export interface JobIndexOptions {
  kv: KV;
  logger: Logger;
  registry: Registry;
  /** How many recent changes are kept for a page's live updates to catch up on. */
  recentChanges?: number;
}

/** Enough for a page that took a few seconds to connect while thousands of jobs changed. */
const RECENT_CHANGES = 10_000;

/**
 * Every ProwJob in the `prowjobs` bucket, in memory, kept by one watch of the bucket. The deck's
 * pages, data endpoint and live updates all read this one copy; nothing else holds jobs.
 */
export class JobIndex {
  private readonly jobs = new Map<string, ProwJob>();
  private readonly listeners = new Set<ChangeListener>();
  private sorted: ProwJob[] | undefined;
  private watcher: { stop(): void } | undefined;
  private lastRevision = 0;
  /** The latest changes, oldest first: [revision, name]. */
  private readonly recent: [number, string][] = [];
  private trimmed = false;
  private readonly size: Gauge;

  constructor(private readonly options: JobIndexOptions) {
    this.size = new Gauge({ name: 'bowline_deck_prowjobs', help: 'ProwJobs in the deck’s index of the prowjobs bucket', registers: [options.registry] });
  }

  /**
   * Starts the watch and resolves once the bucket's current jobs are all in the index, so the
   * first page served already lists them.
   */
  async start(): Promise<void> {
    const { kv, logger } = this.options;
    const status = await kv.status();
    const iterator = await kv.watch();
    this.watcher = iterator;
    let loaded!: () => void;
    const initial = new Promise<void>((resolve) => (loaded = resolve));
    // The watch replays the last value of every key, each with `delta`: how many are still to
    // come. An empty bucket replays nothing, so there is nothing to wait for.
    if (status.values === 0) loaded();
    void (async () => {
      for await (const entry of iterator as AsyncIterable<KvWatchEntry>) {
        this.apply(entry);
        // The replay's last entry is the first marked as an update.
        if (entry.isUpdate || entry.delta === 0) loaded();
      }
    })().catch((error: unknown) => logger.error({ err: error }, 'the watch of the prowjobs bucket ended'));
    await initial;
  }

  stop(): void {
    this.watcher?.stop();
    this.listeners.clear();
  }

  get(name: string): ProwJob | undefined {
    return this.jobs.get(name);
  }

  /** Every job, newest first, as Prow's deck orders them (start time, then job name). */
  all(): readonly ProwJob[] {
    this.sorted ??= [...this.jobs.values()].sort(newestFirst);
    return this.sorted;
  }

  /** The revision of the last change in the index: a page shows the jobs as of this. */
  get revision(): number {
    return this.lastRevision;
  }

  /**
   * The names of the jobs changed after `revision` (a page's), or undefined when changes that
   * old are no longer kept and the page must load again.
   */
  changedSince(revision: number): Set<string> | undefined {
    if (revision >= this.lastRevision) return new Set();
    const oldest = this.recent[0]?.[0];
    if (this.trimmed && (oldest === undefined || oldest > revision + 1)) return undefined;
    const names = new Set<string>();
    for (let i = this.recent.length - 1; i >= 0 && this.recent[i]![0] > revision; i -= 1) names.add(this.recent[i]![1]);
    return names;
  }

  /** Calls `listener` on every change from now on; returns the function that stops it. */
  subscribe(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private apply(entry: KvWatchEntry): void {
    let job: ProwJob | undefined;
    if (entry.operation === 'PUT') {
      try {
        job = entry.json<ProwJob>();
      } catch (error) {
        // A value that is not a ProwJob is left out and the page goes on with the rest.
        this.options.logger.error({ err: new JobIndexError(`ProwJob ${entry.key} is not JSON`, { cause: error }), prowjob: entry.key }, 'cannot read ProwJob from the bucket');
        return;
      }
      this.jobs.set(entry.key, job);
    } else {
      this.jobs.delete(entry.key);
    }
    this.sorted = undefined;
    this.size.set(this.jobs.size);
    this.lastRevision = Math.max(this.lastRevision, entry.revision);
    this.recent.push([entry.revision, entry.key]);
    if (this.recent.length > (this.options.recentChanges ?? RECENT_CHANGES)) {
      this.recent.shift();
      this.trimmed = true;
    }
    for (const listener of this.listeners) {
      try {
        listener({ name: entry.key, job, revision: entry.revision });
      } catch (error) {
        this.options.logger.error({ err: error, prowjob: entry.key }, 'a live update failed');
      }
    }
  }
}

export function newestFirst(a: ProwJob, b: ProwJob): number {
  const started = (b.status.startTime ?? '').localeCompare(a.status.startTime ?? '');
  if (started !== 0) return started;
  return a.spec.job < b.spec.job ? -1 : a.spec.job > b.spec.job ? 1 : a.metadata.name.localeCompare(b.metadata.name);
}
