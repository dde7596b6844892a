import { Counter, type Registry } from 'prom-client';
import { BowlineError, metricOnce, type Logger } from '@bowline/observability';
import { WorkQueue, type ProwJob, type StoredProwJob } from '@bowline/prowjob';
import { KubeApiError, type ProwJobApi, type ProwJobInformer } from './kube-api.js';
import { BOWLINE } from './prow-labels.js';
import { importedJob, importVerdict, isImported, isMirroredByBowline, mirroredResource, resourceStatus, writtenRevision, type ProwJobResource } from './resource.js';

/** What the bridge needs of the ProwJob bucket (ProwJobStore is one). */
export interface BridgeBucket {
  list(): Promise<StoredProwJob[]>;
  watch(onChange: (name: string, stored: StoredProwJob | undefined) => void, logger: Logger): Promise<{ stop(): void }>;
  /** False when a job of that name exists already: the guard that imports a resource once. */
  create(job: ProwJob): Promise<boolean>;
}

export interface KubeBridgeOptions {
  bucket: BridgeBucket;
  api: ProwJobApi;
  namespace: string;
  /** Read at each decision, so a config reload turns importing on or off. */
  importEnabled: () => boolean;
  logger: Logger;
  registry: Registry;
  now?: () => Date;
  /** How often every job is compared again, whatever the watches said (a safety net). */
  resyncEveryMs?: number;
  /** How long a stopped informer (API server away) waits before it lists or watches again. */
  reconnectEveryMs?: number;
  /** The longest pause between retries of one job that keeps failing (an outage). */
  maxBackoffMs?: number;
}

/** Conflicting writes in a row on one job before it goes back to the queue with a backoff. */
const MAX_CONFLICTS = 5;

class StillConflictingError extends BowlineError {}

/**
 * Keeps the cluster's ProwJob resources and the bucket in step, one job at a time (a WorkQueue
 * keyed by name, fed by the bucket's watch and the cluster's informer):
 *
 * - a job Bowline created is mirrored as a whole resource, labelled `bowline.dev/origin=bowline`,
 *   and deleted when the sinker deletes it from the bucket;
 * - a resource with `agent: jenkins` someone else created is imported into the bucket under its
 *   name (the bucket's create is the guard: once), and its status is written back as Bowline's
 *   jenkins-operator moves it.
 *
 * Every write carries the bucket revision it comes from (`bowline.dev/kv-revision`) and the
 * resourceVersion it was decided on: a resource already at that revision or newer is not written
 * (no write when nothing changed, no stale write after a backlog), and a 409 re-reads and decides
 * again. Prow's CRD has no status subresource, so status is written with the rest of the object.
 */
export class KubeBridge {
  private readonly desired = new Map<string, StoredProwJob>();
  /** The resource as this process last wrote it, newer than the informer's copy until its event arrives. */
  private readonly written = new Map<string, ProwJobResource>();
  private kvSynced = false;
  private queue?: WorkQueue;
  private informer?: ProwJobInformer;
  private kvWatch?: { stop(): void };
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopped = false;
  private readonly writes: Counter<'operation' | 'outcome'>;

  constructor(private readonly options: KubeBridgeOptions) {
    const name = 'bowline_kube_bridge_writes_total';
    this.writes = metricOnce(
      options.registry,
      name,
      (registers) => new Counter({ name, help: 'Writes to the cluster’s ProwJobs and imports into the bucket, by operation and outcome.', labelNames: ['operation', 'outcome'], registers }),
    );
  }

  /** Reads the bucket and starts the cluster's informer; the writes start once the cluster is listed. */
  async start(): Promise<void> {
    const { bucket, api, logger } = this.options;
    for (const stored of await bucket.list()) this.desired.set(stored.job.metadata.name, stored);
    this.kvSynced = true;
    this.kvWatch = await bucket.watch((name, stored) => {
      const known = this.desired.get(name);
      if (stored && (!known || stored.revision >= known.revision)) this.desired.set(name, stored);
      else if (!stored) this.desired.delete(name);
      this.queue?.add(name);
    }, logger);

    const informer = api.informer();
    this.informer = informer;
    for (const event of ['add', 'update', 'delete'] as const) informer.on(event, (resource) => this.queue?.add(resource.metadata.name));
    informer.on('error', (error) => {
      if (this.stopped) return;
      logger.warn({ err: error }, 'the ProwJob watch of the cluster stopped: watching again shortly');
      this.later(this.options.reconnectEveryMs ?? 2000, () => void informer.start());
    });
    await informer.start();
    // The cluster may be away for long: the rest waits for its first list in the background, so a
    // lease lost or a stop meanwhile is not held up by it.
    void informer.listed().then(() => this.startWriting(informer));
  }

  private startWriting(informer: ProwJobInformer): void {
    if (this.stopped) return;
    const { logger } = this.options;
    this.queue = new WorkQueue((name) => this.reconcile(name), { logger, concurrency: 4, maxBackoffMs: this.options.maxBackoffMs ?? 30_000 });
    this.resync();
    const timer = setInterval(() => this.resync(), this.options.resyncEveryMs ?? 60_000);
    timer.unref();
    this.timers.add(timer);
    logger.info({ namespace: this.options.namespace, jobs: this.desired.size, resources: informer.list().length }, 'kube-bridge in step with the cluster');
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.kvWatch?.stop();
    await this.informer?.stop();
    await this.queue?.stop();
  }

  /** Whether the cluster was listed and the writes started. */
  isWriting(): boolean {
    return this.queue !== undefined;
  }

  private resync(): void {
    for (const name of this.desired.keys()) this.queue?.add(name);
    for (const resource of this.informer?.list() ?? []) this.queue?.add(resource.metadata.name);
  }

  private later(ms: number, run: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (!this.stopped) run();
    }, ms);
    timer.unref();
    this.timers.add(timer);
  }

  /** The newest copy of a resource this process has: its own last write, or the informer's. */
  private observed(name: string): ProwJobResource | undefined {
    const cached = this.informer?.get(name);
    const mine = this.written.get(name);
    if (!mine) return cached;
    if (writtenRevision(mine) > writtenRevision(cached)) return mine;
    // The informer has caught up with this write: its copy is as new, and the memory can go.
    if (cached) this.written.delete(name);
    return cached;
  }

  private async reconcile(name: string): Promise<void> {
    const desired = this.desired.get(name);
    if (desired) return isImported(desired.job) ? this.writeBack(name, desired) : this.mirror(name, desired);
    const observed = this.observed(name);
    if (!observed || !this.kvSynced) return;
    if (isMirroredByBowline(observed)) return this.remove(name, observed);
    if (this.options.importEnabled()) return this.import(name, observed);
  }

  /** A job Bowline created, written whole: created when absent, patched when the bucket is newer. */
  private async mirror(name: string, { job, revision }: StoredProwJob): Promise<void> {
    await this.withConflictRetries(name, 'mirror', async (current) => {
      if (!current) {
        this.remember(await this.options.api.create(mirroredResource(job, revision)));
        return 'create';
      }
      if (writtenRevision(current) >= revision) return undefined;
      const { metadata, spec, status } = mirroredResource(job, revision);
      const patch = { metadata: { resourceVersion: current.metadata.resourceVersion, labels: metadata.labels, annotations: metadata.annotations }, spec, status };
      this.remember(await this.options.api.mergePatch(name, patch));
      return 'patch';
    });
  }

  /** An imported job: only its status goes back, as Prow's jenkins-operator writes it. */
  private async writeBack(name: string, { job, revision }: StoredProwJob): Promise<void> {
    await this.withConflictRetries(name, 'write-back', async (current) => {
      if (!current || writtenRevision(current) >= revision) return undefined;
      const patch = { metadata: { resourceVersion: current.metadata.resourceVersion, annotations: { [BOWLINE.kvRevision]: String(revision) } }, status: resourceStatus(job) };
      this.remember(await this.options.api.mergePatch(name, patch));
      return 'patch';
    });
  }

  /** The sinker deleted the job from the bucket: its resource goes too. */
  private async remove(name: string, observed: ProwJobResource): Promise<void> {
    await this.withConflictRetries(
      name,
      'delete',
      async (current) => {
        if (!current || !isMirroredByBowline(current)) return undefined;
        await this.options.api.delete(name, current.metadata.resourceVersion ?? '');
        this.written.delete(name);
        return 'delete';
      },
      observed,
    );
  }

  private async import(name: string, observed: ProwJobResource): Promise<void> {
    const verdict = importVerdict(observed);
    if (!verdict.import) return;
    const job = importedJob(observed, this.options.namespace, (this.options.now ?? (() => new Date()))());
    if (await this.options.bucket.create(job)) {
      this.writes.inc({ operation: 'import', outcome: 'done' });
      this.options.logger.info({ prowjob: name, job: job.spec.job }, 'imported a Jenkins ProwJob created in the cluster');
    }
  }

  /**
   * Runs `write` on the newest copy of the resource; a 409 (someone wrote in between, or it was
   * created meanwhile) reads it again from the API server and decides again. A 404 on a patch or
   * delete means it is gone, which the informer's delete event handles.
   */
  private async withConflictRetries(
    name: string,
    operation: string,
    write: (current: ProwJobResource | undefined) => Promise<string | undefined>,
    first: ProwJobResource | undefined = this.observed(name),
  ): Promise<void> {
    let current = first;
    for (let attempt = 1; attempt <= MAX_CONFLICTS; attempt += 1) {
      try {
        const done = await write(current);
        if (done) this.writes.inc({ operation: done, outcome: 'done' });
        return;
      } catch (error) {
        if (!(error instanceof KubeApiError) || (error.code !== 409 && error.code !== 404)) {
          this.writes.inc({ operation, outcome: 'error' });
          throw error;
        }
        this.writes.inc({ operation, outcome: error.code === 409 ? 'conflict' : 'gone' });
        this.options.logger.debug({ prowjob: name, code: error.code }, `${operation}: the resource changed meanwhile; reading it again`);
        current = await this.options.api.get(name);
        if (current) this.remember(current);
        else this.written.delete(name);
      }
    }
    throw new StillConflictingError(`cannot ${operation} ProwJob ${name}: still conflicting after ${MAX_CONFLICTS} attempts`, { context: { prowjob: name } });
  }

  private remember(resource: ProwJobResource): void {
    this.written.set(resource.metadata.name, resource);
  }
}
