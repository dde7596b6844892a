import { Gauge, Histogram, type Registry } from 'prom-client';
import { ALL_TENANTS, type Config, type ConfigSource, type TenantFilter } from '@bowline/config';
import type { JenkinsQueueItem } from '@bowline/jenkins';
import { pushTo, type Logger } from '@bowline/observability';
import { isFinished, type ProwJob, type ProwJobState, type ProwJobStore, type StoredProwJob, tenantOfJob } from '@bowline/prowjob';
import { jenkinsJobPath } from './build-parameters.js';
import { BuildStarter, type Looked } from './build-starter.js';
import { BuildStopper } from './build-stopper.js';
import type { JenkinsMasters, Master } from './jenkins-masters.js';
import { JenkinsView, type Listing } from './jenkins-view.js';
import { isHandedOver, needsSync } from './job-records.js';
import { Reconciler, type Outcome } from './reconcile.js';

export interface OperatorDeps {
  store: ProwJobStore;
  masters: JenkinsMasters;
  config: ConfigSource;
  logger: Logger;
  registry: Registry;
  now?: () => Date;
  /** A failed POST is not sent again before this (default 10 s, doubling with each failure in a row), so a struggling Jenkins is not hammered. */
  startRetryMs?: number;
  /**
   * Whether this replica may act on Jenkins now: it holds the operator's lease. Asked before every
   * pass and again right before each POST, so a replica that lost its lease mid-pass starts nothing.
   */
  mayAct?: () => boolean;
  /** `BOWLINE_TENANTS`: the tenants whose ProwJobs this operator acts on (default every tenant). */
  tenants?: TenantFilter;
  /** How long after a master stopped answering it is asked again (default 5 s, doubling to a minute). */
  probeFirstMs?: number;
}

/** The fewest jobs a resync moves in one turn before it gives way to a waiting pass, so it always gets on (`resync`). */
const RESYNC_JOBS_PER_TURN = 1;

const STATES: readonly ProwJobState[] = ['triggered', 'pending', 'success', 'failure', 'aborted', 'error'];

/** What one master showed a pass: its queue, and the builds of each Jenkins job (path); undefined where it could not be read. */
interface MasterListing {
  queue?: JenkinsQueueItem[];
  builds: Map<string, Listing | undefined>;
}

/**
 * Reconciles Jenkins ProwJobs with Jenkins builds. A KV change is a hint to look at that job now;
 * the periodic resync looks at all of them. Syncs run one at a time, so the look-then-start of a
 * job never races with itself. This file is the loop and the order of one pass; what a pass does
 * to one job is reconcile.ts, starting builds build-starter.ts, stopping them build-stopper.ts,
 * and what Jenkins shows jenkins-view.ts (issue 16).
 */
export class JenkinsOperator {
  private readonly now: () => Date;
  /** Every ProwJob in the bucket, as the watch last showed it. */
  private readonly jobs = new Map<string, StoredProwJob>();
  /** Jobs a change asked to be looked at by the next pass. */
  private readonly dirty = new Set<string>();
  /**
   * Jobs created while this operator has been acting: first shown by its watch, after the listing
   * it started from. No other operator can have started their builds (the last lease holder
   * stopped acting before this one started), so their first start needs no listing (`startsUnlisted`).
   */
  private readonly createdWhileActing = new Set<string>();
  private readonly jenkins: JenkinsView;
  private readonly starter: BuildStarter;
  private readonly stopper: BuildStopper;
  private readonly reconciler: Reconciler;
  private readonly mayAct: () => boolean;
  private readonly tenants: TenantFilter;
  private syncing?: Promise<void>;
  /** The pass running now; the next one waits for it (see `sync`). */
  private passes: Promise<unknown> = Promise.resolve();
  /** Passes waiting for their turn: the resync gives its turn up to them between jobs (`resync`). */
  private waitingPasses = 0;
  private fullResyncWanted = false;
  /** The periodic resync under way, whose Jenkins listings are read outside the passes' turn (`resync`). */
  private resyncing?: Promise<void>;
  private stopped = false;
  private timer?: NodeJS.Timeout;
  private watcher?: { stop(): void };
  private readonly resyncSeconds: Histogram;

  constructor(private readonly deps: OperatorDeps) {
    const now = deps.now ?? (() => new Date());
    this.now = now;
    this.mayAct = deps.mayAct ?? (() => true);
    this.tenants = deps.tenants ?? ALL_TENANTS;
    const tenants = this.tenants;
    const { store, config, logger, registry, masters } = deps;
    this.jenkins = new JenkinsView({
      logger,
      probeFirstMs: deps.probeFirstMs,
      // A silent master answers again: its jobs are looked at now, not at the next resync.
      onReachable: (name) => this.requestSync([...this.jobs.values()].filter(({ job }) => masters.forJob(job)?.name === name).map(({ job }) => job.metadata.name)),
    });
    this.starter = new BuildStarter({
      store,
      masters,
      config,
      logger,
      registry,
      now,
      startRetryMs: deps.startRetryMs,
      mayAct: this.mayAct,
      jenkins: this.jenkins,
      requestSync: (names) => this.requestSync(names),
    });
    this.stopper = new BuildStopper({ store, config, logger, now, jenkins: this.jenkins });
    this.reconciler = new Reconciler({ store, config, logger, now, jenkins: this.jenkins, starter: this.starter, stopper: this.stopper });
    this.resyncSeconds = new Histogram({
      name: 'bowline_operator_resync_seconds',
      help: 'Time a periodic resync of every unfinished Jenkins ProwJob took',
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers: [registry],
    });
    const jobs = this.jobs;
    const byState = new Gauge({
      name: 'bowline_operator_prowjobs',
      help: 'Jenkins ProwJobs of the tenants this operator serves, by state and tenant, as the operator last saw them',
      labelNames: ['state', 'tenant'],
      registers: [registry],
      // Counted when scraped from the watched cache: no bookkeeping on every change, and never stale.
      collect() {
        const current = config.get();
        const counts = new Map<string, Map<ProwJobState, number>>();
        const countsOf = (tenant: string): Map<ProwJobState, number> => {
          let found = counts.get(tenant);
          if (!found) counts.set(tenant, (found = new Map(STATES.map((s) => [s, 0]))));
          return found;
        };
        for (const tenant of current.bowline.tenants) if (tenants.includes(tenant.name)) countsOf(tenant.name);
        for (const { job } of jobs.values()) {
          const tenant = tenantOfJob(current, job).name;
          if (job.spec.agent !== 'jenkins' || !tenants.includes(tenant)) continue;
          const ofTenant = countsOf(tenant);
          ofTenant.set(job.status.state, (ofTenant.get(job.status.state) ?? 0) + 1);
        }
        // A tenant gone from the config leaves no stale series behind.
        byState.reset();
        for (const [tenant, ofTenant] of counts) for (const [state, count] of ofTenant) byState.set({ state, tenant }, count);
      },
    });
  }

  async start(): Promise<void> {
    // Started again after its replica lost the lease and won it back (standby.ts): it begins as a
    // new process would, with nothing of its last term in memory but what the bucket and Jenkins say.
    this.stopped = false;
    this.jobs.clear();
    this.dirty.clear();
    this.createdWhileActing.clear();
    this.jenkins.reset();
    this.starter.reset();
    this.fullResyncWanted = false;
    // The whole bucket first, so the first pass already counts every build that holds a slot: the
    // watch replays jobs one at a time, and a pass begun on the first of them would see free slots
    // that the jobs still to come hold.
    for (const stored of await this.deps.store.list()) this.jobs.set(stored.job.metadata.name, stored);
    this.watcher = await this.deps.store.watch((name, stored) => this.observe(name, stored), this.deps.logger);
    this.scheduleResync();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.watcher?.stop();
    await this.settled();
    this.jenkins.reset();
  }

  /** Resolves when no sync is running or asked for (tests wait on it). */
  async settled(): Promise<void> {
    while (this.syncing || this.resyncing) await Promise.all([this.syncing, this.resyncing]);
  }

  private observe(name: string, stored: StoredProwJob | undefined): void {
    const seen = this.jobs.get(name);
    const previous = seen?.job;
    if (!stored) {
      this.jobs.delete(name);
      this.createdWhileActing.delete(name);
      this.starter.forget(name);
      if (previous && previous.spec.agent === 'jenkins' && !isFinished(previous)) this.requestWaiting();
      return;
    }
    this.jobs.set(name, stored);
    const { job } = stored;
    if (!seen && !isFinished(job)) this.createdWhileActing.add(name);
    if (isFinished(job)) {
      this.starter.forget(name);
      this.createdWhileActing.delete(name);
    }
    // A new job, the watch's first showing of one (start-up), or a new state (an abort) asks for a
    // pass. Other changes do not: the operator's own record of a start and the reporter's record
    // of each status each cost a pass of Jenkins listings for nothing, three passes per build
    // (issue 21); what Jenkins does meanwhile is the resync's to see. Nor does a move to pending:
    // only an operator writes it, following the build it just saw start, and a pass of listings
    // for each of those was most of the operator's Jenkins reads in a busy minute (issue 21: 0.8
    // queue and build listings per comment, after starts had stopped listing).
    const news = !seen || seen.revision === stored.revision || (previous!.status.state !== job.status.state && job.status.state !== 'pending');
    if (news && needsSync(job)) this.requestSync([name]);
    // A job that ended gave back its slot: the jobs waiting for one are looked at now, not at the
    // next resync.
    if (previous && !isFinished(previous) && isFinished(job) && job.spec.agent === 'jenkins') this.requestWaiting();
  }

  private scheduleResync(): void {
    this.timer = setTimeout(() => {
      this.fullResyncWanted = true;
      this.kick();
      this.scheduleResync();
    }, this.deps.config.get().jenkinsOperator.resyncPeriodMs);
    this.timer.unref();
  }

  private requestSync(names: string[]): void {
    for (const name of names) this.dirty.add(name);
    this.kick();
  }

  private requestWaiting(): void {
    const waiting = this.starter.waitingForSlots(this.jobs.values());
    if (waiting.length > 0) this.requestSync(waiting);
  }

  private kick(): void {
    if (this.syncing || this.stopped) return;
    this.syncing = (async () => {
      while (this.fullResyncWanted || this.dirty.size > 0) {
        if (this.fullResyncWanted) {
          this.fullResyncWanted = false;
          this.startResync();
        }
        const names = [...this.dirty];
        this.dirty.clear();
        const jobs = names.flatMap((n) => {
          const stored = this.jobs.get(n);
          return stored && needsSync(stored.job) ? [stored.job] : [];
        });
        if (jobs.length === 0) continue;
        try {
          await this.sync(jobs);
        } catch (error) {
          this.deps.logger.error({ err: error }, 'sync failed');
        }
      }
    })().finally(() => {
      this.syncing = undefined;
      // A change that came after the loop's last look, while `syncing` was still set, was only
      // put in `dirty`: without this it would wait for the next resync.
      if (this.fullResyncWanted || this.dirty.size > 0) this.kick();
    });
  }

  /**
   * One pass over the unfinished Jenkins jobs among `given`: older duplicates are aborted, then one
   * queue listing and one build listing per Jenkins job, each ProwJob is moved to what Jenkins
   * shows, and last the jobs without a build are started, oldest first, as far as the limits
   * allow. A Jenkins job that cannot be listed leaves its ProwJobs for the next pass and does not
   * hold up the others.
   */
  async sync(given: ProwJob[]): Promise<void> {
    await this.inTurn(() => this.syncOnce(given));
  }

  /**
   * One pass at a time, whoever asks: two passes counting free slots at once would each see the
   * same slot free and start a job in it.
   */
  private inTurn<T>(pass: () => Promise<T>): Promise<T> {
    this.waitingPasses += 1;
    const run = this.passes.then(() => {
      this.waitingPasses -= 1;
      return pass();
    });
    this.passes = run.catch(() => undefined);
    return run;
  }

  private startResync(): void {
    if (this.resyncing || this.stopped) return;
    const timer = this.resyncSeconds.startTimer();
    this.resyncing = this.resync()
      .catch((error: unknown) => this.deps.logger.error({ err: error }, 'resync failed'))
      .finally(() => {
        timer();
        this.resyncing = undefined;
      });
  }

  /**
   * The periodic pass over every unfinished job. Its Jenkins listings, the slow part with many
   * jobs or a slow Jenkins, are read before it takes its turn, so the passes that start new jobs
   * go on meanwhile instead of waiting behind them (issue 21: a new job waited out the resync's
   * listings, which doubled the tail from webhook to build). In its turn it then moves only the
   * jobs nothing touched since it read them: same revision in the bucket, and no start tried by
   * this operator since. A job that changed is looked at by the pass its change asked for, with
   * listings newer than that change, as every job is today; and a POST for it is only ever sent
   * after listings newer than the last one sent for it (`BuildStarter.attemptedSince`).
   *
   * Moving the jobs is a KV write for each one whose build moved on, a few milliseconds each: with
   * a few hundred builds running that is most of a second, and a new job's start waited all of it
   * (issue 21: every comment whose start fell in a resync's turn, the whole tail above 100 ms). So
   * the resync gives its turn up whenever another pass waits for it, after at least
   * `RESYNC_JOBS_PER_TURN` jobs, and goes on with the rest in a later turn.
   */
  private async resync(): Promise<void> {
    if (!this.mayAct()) return;
    const config = this.deps.config.get();
    const seen = [...this.jobs.values()].filter(({ job }) => needsSync(job) && this.isMine(config, job));
    const revisions = new Map(seen.map(({ job, revision }) => [job.metadata.name, revision]));
    const attempts = this.starter.attempts();
    const byMaster = new Map<Master, ProwJob[]>();
    for (const { job } of seen) {
      const master = this.deps.masters.forJob(job);
      if (master?.client) pushTo(byMaster, master, job);
    }
    const listed = new Map<Master, MasterListing>();
    await Promise.all([...byMaster].map(async ([master, jobs]) => listed.set(master, await this.listMaster(master, jobs))));
    let left = seen.map(({ job }) => job.metadata.name);
    while (left.length > 0 && !this.stopped) {
      left = await this.inTurn(async () => {
        const untouched = left.flatMap((name) => {
          const stored = this.jobs.get(name);
          return stored && stored.revision === revisions.get(name) && !this.starter.attemptedSince(name, attempts) ? [stored.job] : [];
        });
        let moved = 0;
        const deferred = await this.syncOnce(untouched, listed, () => ++moved > RESYNC_JOBS_PER_TURN && this.waitingPasses > 0);
        return left.filter((name) => deferred.has(name));
      });
    }
  }

  /**
   * Another tenant's jobs are another operator's (BOWLINE_TENANTS): not listed, started, stopped
   * or counted here. The tenant is read at each pass: a reload may move a repository.
   */
  private isMine(config: Config, job: ProwJob): boolean {
    return this.tenants === ALL_TENANTS || this.tenants.includes(tenantOfJob(config, job).name);
  }

  /** `giveWay`, asked before each job is moved: true defers it and the rest to a later pass, whose names are returned. */
  private async syncOnce(asked: ProwJob[], listed?: Map<Master, MasterListing>, giveWay?: () => boolean): Promise<Set<string>> {
    const deferred = new Set<string>();
    const config = this.deps.config.get();
    const mine = (job: ProwJob): boolean => this.isMine(config, job);
    const given = asked.filter(mine);
    if (!this.mayAct() || !given.some(needsSync)) return deferred;
    // Everything the operator knows, with the caller's copies over the watched ones: limits and
    // duplicates are about all ProwJobs, not only the ones this pass looks at.
    const view = new Map<string, ProwJob>([...this.jobs].flatMap(([name, stored]) => (mine(stored.job) ? [[name, stored.job] as const] : [])));
    for (const job of given) view.set(job.metadata.name, job);
    const superseded = await this.stopper.terminateDupes(view);
    const jobs = given.map((job) => superseded.get(job.metadata.name) ?? job).filter(needsSync);
    if (jobs.length === 0) return deferred;
    const deferring = giveWay && { giveWay, deferred };

    const looked = new Map<string, Looked>();
    const byMaster = new Map<Master, ProwJob[]>();
    for (const job of jobs) {
      const master = this.deps.masters.forJob(job);
      if (master?.client) {
        pushTo(byMaster, master, job);
        continue;
      }
      looked.set(job.metadata.name, { job, outcome: 'unknown' });
      await this.starter.markWaiting(job, this.deps.masters.waitingFor(job));
    }
    await Promise.all([...byMaster].map(([master, masterJobs]) => this.syncMaster(master, masterJobs, config, looked, listed?.get(master), deferring)));
    // A deferred job is judged here by what the bucket says of it, as one whose master cannot be read.
    await this.starter.startInOrder(view, looked, config);
    return deferred;
  }

  /**
   * A job whose first start needs no look at Jenkins first, because Jenkins cannot have a build of
   * it: created while this operator has been acting, never handed to Jenkins (no record on the
   * job), never tried by this operator (a POST that failed may still have queued a build), not
   * past `max_pending`, which only a listing can judge, and on a master (and Jenkins job) that
   * answered its last listing: a start on a silent master would hold up the pass for the client's
   * whole timeout, where a listing is not even tried (jenkins-view.ts). Listing the newest 100 builds of the
   * Jenkins job before every start was a quarter of the operator's CPU and a third of its part of
   * each comment's path (issue 21); Prow's operator lists once per 30 s sync, not per start. A job
   * whose first start failed, and every job after a restart or a change of lease holder, is listed
   * before it is started, as before.
   */
  private startsUnlisted(job: ProwJob, master: Master): boolean {
    const name = job.metadata.name;
    return (
      this.createdWhileActing.has(name) &&
      job.status.state === 'triggered' &&
      !isHandedOver(job) &&
      !this.starter.attemptedSince(name, 0) &&
      this.now().getTime() - Date.parse(job.status.startTime) <= master.maxPendingMs &&
      this.jenkins.answeredLastTime(master, job)
    );
  }

  /**
   * What one master shows of these jobs: one queue listing, then one build listing per Jenkins
   * job (the queue first: a build that leaves it meanwhile is then in the build listing).
   */
  private async listMaster(master: Master, jobs: ProwJob[]): Promise<MasterListing> {
    const client = master.client!;
    const queue = await this.jenkins.listQueue(master, client);
    const builds = new Map<string, Listing | undefined>();
    if (!queue) return { builds };
    const byPath = new Map<string, ProwJob[]>();
    for (const job of jobs) pushTo(byPath, jenkinsJobPath(job), job);
    await Promise.all([...byPath].map(async ([path, pathJobs]) => builds.set(path, await this.jenkins.listBuilds(this.jenkins.targetOf(master, client, path), pathJobs))));
    return { queue, builds };
  }

  /**
   * One master's part of a pass: its listings (read now unless the resync read them already),
   * then each job moved to what they show. A master that cannot be reached leaves its jobs for
   * the next pass and holds up no other master.
   */
  private async syncMaster(
    master: Master,
    given: ProwJob[],
    config: Config,
    looked: Map<string, Looked>,
    listed?: MasterListing,
    deferring?: { giveWay: () => boolean; deferred: Set<string> },
  ): Promise<void> {
    const client = master.client!;
    const jobs: ProwJob[] = [];
    for (const job of given) {
      if (this.startsUnlisted(job, master)) looked.set(job.metadata.name, { job, target: this.jenkins.targetOf(master, client, jenkinsJobPath(job)), outcome: 'startable' });
      else jobs.push(job);
    }
    if (jobs.length === 0) return;
    const byPath = new Map<string, ProwJob[]>();
    for (const job of jobs) pushTo(byPath, jenkinsJobPath(job), job);
    // A Jenkins job the resync did not list (a config reload moved a job to it) is listed now.
    const complete = listed && (listed.queue === undefined || [...byPath.keys()].every((path) => listed.builds.has(path)));
    const { queue, builds } = complete ? listed : await this.listMaster(master, jobs);
    if (!queue) {
      for (const job of jobs) looked.set(job.metadata.name, { job, outcome: 'unknown' });
      return;
    }
    await Promise.all(
      [...byPath].map(async ([path, pathJobs]) => {
        const target = this.jenkins.targetOf(master, client, path);
        const listing = builds.get(path);
        if (!listing) {
          for (const job of pathJobs) looked.set(job.metadata.name, { job, target, outcome: 'unknown' });
          return;
        }
        for (const job of pathJobs) {
          const name = job.metadata.name;
          if (deferring && (deferring.deferred.size > 0 || deferring.giveWay())) {
            deferring.deferred.add(name);
            continue;
          }
          let outcome: Outcome;
          try {
            outcome = await this.reconciler.reconcile(job, target, listing, queue, config);
          } catch (error) {
            outcome = 'unknown';
            // Also keeps it from being asked for again and again by passes that wait on it.
            if (!isFinished(job)) this.starter.holdBack(name);
            this.deps.logger.error({ prowjob: name, job: job.spec.job, err: error }, 'cannot reconcile ProwJob');
          }
          looked.set(name, { job, target, outcome });
        }
      }),
    );
  }
}
