import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Config, ConfigSource } from '@bowline/config';
import {
  BUILDS_LISTED_BY_DEFAULT,
  JenkinsError,
  type JenkinsBuild,
  type JenkinsClient,
  type JenkinsQueueItem,
  type JenkinsQueueItemRecord,
} from '@bowline/jenkins';
import { describeError, pushTo, type Logger } from '@bowline/observability';
import { isFinished, transition, type ProwJob, type ProwJobState, type ProwJobStore, type StoredProwJob } from '@bowline/prowjob';
import { formatDuration } from '@bowline/service';
import { buildParameters, jenkinsJobPath } from './build-parameters.js';
import { buildLink, buildStatus } from './build-status.js';
import { JENKINS_MASTER, type JenkinsMasters, type Master } from './jenkins-masters.js';
import {
  BUILD_STOPPED,
  byCreation,
  DESCRIPTIONS,
  ENQUEUED_AT,
  followedBuildOf,
  isHandedOver,
  QUEUE_ITEM,
  queueIdFrom,
  queueItemOf,
} from './job-records.js';
import { isLimited, SlotCount } from './slot-count.js';
import { Priming } from './priming.js';
import { isRefusal, StartRetries } from './start-errors.js';

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
}

const STATES: readonly ProwJobState[] = ['triggered', 'pending', 'success', 'failure', 'aborted', 'error'];

/** How long an enqueued build may stay invisible before the job is called an error. */
const NOT_FOUND_GRACE_MS = 5 * 60_000;
const START_RETRY_MS = 10_000;
/** Builds others started since the last listing, allowed for when a listing must reach far back. */
const DEPTH_SLACK = 20;

/**
 * What one pass learned about a ProwJob: `running` holds a slot (queued or building in Jenkins),
 * `ended` holds none, `startable` has nothing in Jenkins and may be started, and `unknown` could not
 * be looked at (its Jenkins job could not be listed) and is judged by what the bucket says.
 */
type Outcome = 'running' | 'ended' | 'startable' | 'unknown';

/** Where a ProwJob's build lives: a master, and the job's path on it. */
interface Target {
  master: Master;
  client: JenkinsClient;
  path: string;
  /** Master and path together, for what the operator remembers per Jenkins job. */
  key: string;
}

interface Looked {
  job: ProwJob;
  target?: Target;
  outcome: Outcome;
}

/** One build listing of a Jenkins job, and how far back it reaches. */
interface Listing {
  builds: JenkinsBuild[];
  /** Whether a build of this number would be in `builds` if Jenkins still had it. */
  reaches(number: number): boolean;
}

/**
 * Reconciles Jenkins ProwJobs with Jenkins builds. A KV change is a hint to look at that job now;
 * the periodic resync looks at all of them. Syncs run one at a time, so the look-then-start of a
 * job never races with itself.
 */
export class JenkinsOperator {
  private readonly now: () => Date;
  private readonly jobs = new Map<string, StoredProwJob>();
  private readonly dirty = new Set<string>();
  /** Jobs whose start failed or is under way, and when one may be tried again. */
  private readonly retries: StartRetries;
  /**
   * Unfinished jobs this operator handed to Jenkins. Kept until the job ends, not only until the
   * watch shows it enqueued: a read of the bucket sent before that write can still answer after the
   * watch brought it, and must not make the job look startable (or its slot free) again.
   */
  private readonly handedOver = new Set<string>();
  /** Jenkins jobs (target keys) whose build listing failed last time: their ProwJobs hold no place in the line. */
  private readonly unlistable = new Set<string>();
  /** Masters whose queue could not be listed last time; the same goes for their jobs. */
  private readonly unreachable = new Set<string>();
  /** The newest build number each Jenkins job showed, so the next listing knows how deep to reach. */
  private readonly newestBuild = new Map<string, number>();
  private readonly priming: Priming;
  private readonly mayAct: () => boolean;
  private syncing?: Promise<void>;
  /** The pass running now; the next one waits for it (see `sync`). */
  private passes: Promise<void> = Promise.resolve();
  private fullResyncWanted = false;
  private stopped = false;
  private timer?: NodeJS.Timeout;
  private watcher?: { stop(): void };
  private readonly buildsStarted: Counter;
  private readonly resyncSeconds: Histogram;

  constructor(private readonly deps: OperatorDeps) {
    this.now = deps.now ?? (() => new Date());
    this.retries = new StartRetries(deps.startRetryMs ?? START_RETRY_MS);
    this.mayAct = deps.mayAct ?? (() => true);
    this.priming = new Priming({ now: this.now, registry: deps.registry });
    this.buildsStarted = new Counter({
      name: 'bowline_operator_builds_started_total',
      help: 'buildWithParameters requests Jenkins accepted',
      registers: [deps.registry],
    });
    this.resyncSeconds = new Histogram({
      name: 'bowline_operator_resync_seconds',
      help: 'Time a periodic resync of every unfinished Jenkins ProwJob took',
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers: [deps.registry],
    });
    const jobs = this.jobs;
    const byState = new Gauge({
      name: 'bowline_operator_prowjobs',
      help: 'Jenkins ProwJobs in the bucket, by state, as the operator last saw them',
      labelNames: ['state'],
      registers: [deps.registry],
      // Counted when scraped from the watched cache: no bookkeeping on every change, and never stale.
      collect() {
        const counts = new Map<ProwJobState, number>(STATES.map((s) => [s, 0]));
        for (const { job } of jobs.values()) {
          if (job.spec.agent === 'jenkins') counts.set(job.status.state, (counts.get(job.status.state) ?? 0) + 1);
        }
        for (const [state, count] of counts) byState.set({ state }, count);
      },
    });
  }

  async start(): Promise<void> {
    // Started again after its replica lost the lease and won it back (standby.ts): it begins as a
    // new process would, with nothing of its last term in memory but what the bucket and Jenkins say.
    this.stopped = false;
    for (const memory of [this.jobs, this.dirty, this.handedOver, this.unlistable, this.unreachable, this.newestBuild]) memory.clear();
    this.retries.reset();
    this.priming.reset();
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
  }

  /** Resolves when no sync is running or asked for (tests wait on it). */
  async settled(): Promise<void> {
    while (this.syncing) await this.syncing;
  }

  private observe(name: string, stored: StoredProwJob | undefined): void {
    const previous = this.jobs.get(name)?.job;
    if (!stored) {
      this.jobs.delete(name);
      this.handedOver.delete(name);
      this.retries.clear(name);
      if (previous && previous.spec.agent === 'jenkins' && !isFinished(previous)) this.requestWaiting();
      return;
    }
    this.jobs.set(name, stored);
    const { job } = stored;
    if (isFinished(job)) {
      this.handedOver.delete(name);
      this.retries.clear(name);
    }
    if (this.wants(job)) this.requestSync([name]);
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

  /**
   * Unfinished Jenkins jobs, and aborted ones whose build has not been stopped yet: the planner
   * aborts a ProwJob (a newer push, a closed pull request) and the operator stops its build.
   */
  private wants(job: ProwJob): boolean {
    if (job.spec.agent !== 'jenkins') return false;
    if (!isFinished(job)) return true;
    return job.status.state === 'aborted' && !job.metadata.annotations[BUILD_STOPPED];
  }

  private requestSync(names: string[]): void {
    for (const name of names) this.dirty.add(name);
    this.kick();
  }

  private requestWaiting(): void {
    const config = this.deps.config.get();
    const waiting = [...this.jobs.values()]
      .filter(({ job }) => this.mayStart(job) && isLimited(job, config, this.deps.masters.forJob(job)))
      .map(({ job }) => job.metadata.name);
    if (waiting.length > 0) this.requestSync(waiting);
  }

  private kick(): void {
    if (this.syncing || this.stopped) return;
    this.syncing = (async () => {
      while (this.fullResyncWanted || this.dirty.size > 0) {
        const full = this.fullResyncWanted;
        const names = full ? [...this.jobs.keys()] : [...this.dirty];
        this.fullResyncWanted = false;
        this.dirty.clear();
        const jobs = names.flatMap((n) => {
          const stored = this.jobs.get(n);
          return stored && this.wants(stored.job) ? [stored.job] : [];
        });
        const timer = full ? this.resyncSeconds.startTimer() : undefined;
        try {
          await this.sync(jobs);
        } catch (error) {
          this.deps.logger.error({ err: describeError(error) }, 'sync failed');
        } finally {
          timer?.();
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
    // One pass at a time, whoever asks: two passes counting free slots at once would each see the
    // same slot free and start a job in it.
    const pass = this.passes.then(() => this.syncOnce(given));
    this.passes = pass.catch(() => undefined);
    return pass;
  }

  private async syncOnce(given: ProwJob[]): Promise<void> {
    if (!this.mayAct() || !given.some((job) => this.wants(job))) return;
    const config = this.deps.config.get();
    // Everything the operator knows, with the caller's copies over the watched ones: limits and
    // duplicates are about all ProwJobs, not only the ones this pass looks at.
    const view = new Map<string, ProwJob>([...this.jobs].map(([name, stored]) => [name, stored.job]));
    for (const job of given) view.set(job.metadata.name, job);
    const superseded = await this.terminateDupes(view);
    const jobs = given.map((job) => superseded.get(job.metadata.name) ?? job).filter((job) => this.wants(job));
    if (jobs.length === 0) return;

    const looked = new Map<string, Looked>();
    const byMaster = new Map<Master, ProwJob[]>();
    for (const job of jobs) {
      const master = this.deps.masters.forJob(job);
      if (master?.client) {
        pushTo(byMaster, master, job);
        continue;
      }
      looked.set(job.metadata.name, { job, outcome: 'unknown' });
      await this.markWaiting(job, master?.problem ?? 'Waiting: no Jenkins master in bowline.jenkins takes this job (check the label_selector of each).');
    }
    await Promise.all([...byMaster].map(([master, masterJobs]) => this.syncMaster(master, masterJobs, config, looked)));
    await this.startInOrder(view, looked, config);
  }

  /**
   * One master's part of a pass: one queue listing, then one build listing per Jenkins job. A
   * master that cannot be reached leaves its jobs for the next pass and holds up no other master.
   */
  private async syncMaster(master: Master, jobs: ProwJob[], config: Config, looked: Map<string, Looked>): Promise<void> {
    const client = master.client!;
    let queue: JenkinsQueueItem[];
    try {
      queue = await client.listQueue();
      this.unreachable.delete(master.name);
    } catch (error) {
      this.unreachable.add(master.name);
      this.deps.logger.warn({ master: master.name, err: describeError(error) }, 'cannot list the Jenkins queue: will try again at next sync');
      for (const job of jobs) looked.set(job.metadata.name, { job, outcome: 'unknown' });
      return;
    }
    const byPath = new Map<string, ProwJob[]>();
    for (const job of jobs) pushTo(byPath, jenkinsJobPath(job), job);
    await Promise.all(
      [...byPath].map(async ([path, pathJobs]) => {
        const target: Target = { master, client, path, key: targetKey(master.name, path) };
        let listing: Listing;
        try {
          listing = await this.listBuilds(target, pathJobs);
          this.unlistable.delete(target.key);
        } catch (error) {
          this.unlistable.add(target.key);
          this.deps.logger.warn({ master: master.name, job: path, err: describeError(error) }, 'cannot list builds: will try again at next sync');
          for (const job of pathJobs) looked.set(job.metadata.name, { job, target, outcome: 'unknown' });
          return;
        }
        for (const job of pathJobs) {
          const name = job.metadata.name;
          let outcome: Outcome;
          try {
            outcome = await this.reconcile(job, target, listing, queue, config);
          } catch (error) {
            outcome = 'unknown';
            // Also keeps it from being asked for again and again by passes that wait on it.
            if (!isFinished(job)) this.retries.hold(name, this.now().getTime());
            this.deps.logger.error({ prowjob: name, job: job.spec.job, err: describeError(error) }, 'cannot reconcile ProwJob');
          }
          looked.set(name, { job, target, outcome });
        }
      }),
    );
  }

  /**
   * The builds of one Jenkins job, reaching back to the oldest build its ProwJobs follow, in one
   * request: Jenkins' `builds` stops at the newest 100, so with more in flight the listing asks
   * `allBuilds` for as many as reach back that far. Only when the last listing cannot say how far
   * that is (the first pass after a start) does a second listing reach further. A Jenkins job
   * that does not exist has no builds, as Prow's GetBuilds has it: its new jobs are then refused
   * at the start, and its running ones are not found.
   */
  private async listBuilds(target: Target, jobs: ProwJob[]): Promise<Listing> {
    const followed = jobs.map(followedBuildOf).filter((n): n is number => n !== undefined);
    const oldest = followed.length > 0 ? Math.min(...followed) : undefined;
    const newest = this.newestBuild.get(target.key);
    let depth = BUILDS_LISTED_BY_DEFAULT;
    if (oldest !== undefined && newest !== undefined) depth = Math.max(depth, newest - oldest + 1 + DEPTH_SLACK);
    let builds = await target.client.listBuilds(target.path, { depth }).catch((error: unknown) => {
      if (error instanceof JenkinsError && error.status === 404) return [];
      throw error;
    });
    const newestListed = builds[0]?.number;
    const oldestListed = builds.at(-1)?.number;
    if (oldest !== undefined && newestListed !== undefined && oldestListed !== undefined && builds.length >= depth && oldest < oldestListed) {
      depth = newestListed - oldest + 1 + DEPTH_SLACK;
      builds = await target.client.listBuilds(target.path, { depth });
    }
    if (builds[0]) this.newestBuild.set(target.key, builds[0].number);
    const complete = builds.length < depth;
    const from = builds.at(-1)?.number ?? Number.POSITIVE_INFINITY;
    return { builds, reaches: (number) => complete || number >= from };
  }

  /**
   * Prow's terminateDupes: of the unfinished runs of one presubmit on one pull request only the
   * newest goes on; the older ones are aborted, and their builds stopped by the aborted-job path.
   * Returns the jobs it aborted.
   */
  private async terminateDupes(view: Map<string, ProwJob>): Promise<Map<string, ProwJob>> {
    const runs = new Map<string, ProwJob[]>();
    for (const job of view.values()) {
      const pull = job.spec.refs.pulls?.[0]?.number;
      if (job.spec.agent !== 'jenkins' || job.spec.type !== 'presubmit' || isFinished(job) || pull === undefined) continue;
      const key = JSON.stringify([job.spec.job, job.spec.refs.org, job.spec.refs.repo, pull]);
      pushTo(runs, key, job);
    }
    const aborted = new Map<string, ProwJob>();
    for (const same of runs.values()) {
      if (same.length < 2) continue;
      const [newest, ...older] = same.sort(byCreation).reverse();
      for (const job of older) {
        const name = job.metadata.name;
        const written = await this.deps.store.update(name, (current) =>
          isFinished(current) ? undefined : transition(current, 'aborted', this.now(), { description: DESCRIPTIONS.superseded }),
        );
        if (!written) continue;
        view.set(name, written);
        aborted.set(name, written);
        this.deps.logger.info({ prowjob: name, job: job.spec.job, newer: newest!.metadata.name }, 'ProwJob aborted: a newer run of the same job and pull request exists');
      }
    }
    return aborted;
  }

  /** Moves one ProwJob to what Jenkins shows for it, and says whether it holds a slot. */
  private async reconcile(job: ProwJob, target: Target, listing: Listing, queue: JenkinsQueueItem[], config: Config): Promise<Outcome> {
    const name = job.metadata.name;
    const log = this.deps.logger.child({ prowjob: name, job: job.spec.job, master: target.master.name });
    const queued = queue.find((item) => item.parameters.PROW_JOB_ID === name);
    const build = await this.findBuild(job, target, listing);
    if (isFinished(job)) {
      await this.stopAbortedBuild(job, target, build, queued);
      return 'ended';
    }
    const buildEnded = build !== undefined && !build.building && build.result !== null;
    const { maxPendingMs } = target.master;
    // A build that ended still gets its own result, however late the operator sees it.
    if (!buildEnded && this.now().getTime() - Date.parse(job.status.startTime) > maxPendingMs) {
      await this.endOverdue(job, target, build, queued, maxPendingMs, log);
      return 'ended';
    }
    if (build) return this.follow(job, build, config, log);
    if (queued) {
      await this.markEnqueued(job, target, queued.id);
      return 'running';
    }
    if (job.status.state !== 'triggered') {
      // Prow's syncPendingJob: a pending job whose build Jenkins no longer shows.
      await this.write(name, 'error', { description: DESCRIPTIONS.notFound, url: config.statusErrorLink });
      log.warn({ path: target.path }, 'the Jenkins build of a running job disappeared: the job ended as an error');
      return 'ended';
    }
    if (isHandedOver(job)) return this.lookForLostBuild(job, target, log);
    return 'startable';
  }

  /**
   * The job's build: the one it already follows, else the one its queue item became, else the
   * first one Jenkins started for it. The build it follows may have left `builds`, which holds the
   * newest 100 only (Job#getNewBuilds), so it is asked for by number; a later build with the same
   * PROW_JOB_ID (Jenkins' Rebuild copies parameters) is someone else's run and never replaces it.
   */
  private async findBuild(job: ProwJob, target: Target, listing: Listing): Promise<JenkinsBuild | undefined> {
    const name = job.metadata.name;
    const own = listing.builds.filter((b) => b.parameters.PROW_JOB_ID === name);
    const followed = followedBuildOf(job);
    if (followed !== undefined) {
      const listed = own.find((b) => b.number === followed);
      if (listed) return listed;
      // Only a build the listing could not reach is asked for on its own; one it reaches and does
      // not show was discarded by the job's log rotation.
      if (!listing.reaches(followed)) {
        const build = await this.readBuild(target, followed);
        if (build?.parameters.PROW_JOB_ID === name) return build;
      }
    }
    const queueItem = queueItemOf(job);
    const fromItem = queueItem === undefined ? undefined : own.find((b) => b.queueId === queueItem);
    return fromItem ?? own.reduce<JenkinsBuild | undefined>((first, b) => (first && first.number < b.number ? first : b), undefined);
  }

  /** The build by number, or undefined when Jenkins no longer has it (discarded by its log rotation). */
  private async readBuild(target: Target, number: number): Promise<JenkinsBuild | undefined> {
    try {
      return await target.client.getBuild(target.path, number);
    } catch (error) {
      if (error instanceof JenkinsError && error.status === 404) return undefined;
      throw error;
    }
  }

  /** Moves the job to what its build shows, linked through `job_url_template` rendered over that new state. */
  private async follow(job: ProwJob, build: JenkinsBuild, config: Config, log: Logger): Promise<Outcome> {
    const { state, description, finished } = buildStatus(build);
    // Prow's controller names the build's pod after the ProwJob, so templates can use `.Status.PodName`.
    const fields = { description, jenkins_build_id: String(build.number), pod_name: job.metadata.name };
    const next = transition(job, state, this.now(), fields);
    const url = next && buildLink(next, build, config, log);
    if (next && (state !== job.status.state || url !== job.status.url || description !== job.status.description)) {
      await this.deps.store.update(job.metadata.name, (current) => {
        const moved = transition(current, state, this.now(), fields);
        return moved && { ...moved, status: { ...moved.status, url: buildLink(moved, build, config, log) } };
      });
      log.info({ build: build.number, state }, 'ProwJob follows its build');
    }
    return finished ? 'ended' : 'running';
  }

  /**
   * An enqueued job Jenkins shows neither queued nor built. Its queue item's record says why: taken
   * out of the queue by someone (the job is aborted), or turned into a build the listing does not
   * show (yet, or any more), which is then followed. With no record to ask, the build gets a grace
   * period to show up before the job is called an error.
   */
  private async lookForLostBuild(job: ProwJob, target: Target, log: Logger): Promise<Outcome> {
    const name = job.metadata.name;
    const item = await this.readQueueItem(job, target);
    if (item?.cancelled) {
      await this.write(name, 'aborted', { description: DESCRIPTIONS.cancelled }, { [BUILD_STOPPED]: 'true' });
      log.info({ queueItem: item.id }, 'ProwJob aborted: its queue item was cancelled in Jenkins');
      return 'ended';
    }
    if (item?.executable) {
      const build = await this.readBuild(target, item.executable.number);
      if (build?.parameters.PROW_JOB_ID === name) return this.follow(job, build, this.deps.config.get(), log);
    }
    const enqueuedAt = Date.parse(job.metadata.annotations[ENQUEUED_AT] ?? job.metadata.creationTimestamp);
    if (this.now().getTime() - enqueuedAt > NOT_FOUND_GRACE_MS) {
      await this.write(name, 'error', { description: DESCRIPTIONS.neverFound, url: this.deps.config.get().statusErrorLink });
      return 'ended';
    }
    return 'running';
  }

  /** Jenkins' record of the job's queue item; undefined when there is none, or it is someone else's. */
  private async readQueueItem(job: ProwJob, target: Target): Promise<JenkinsQueueItemRecord | undefined> {
    const id = queueItemOf(job);
    if (id === undefined) return undefined;
    let item: JenkinsQueueItemRecord;
    try {
      item = await target.client.getQueueItem(id);
    } catch (error) {
      // Jenkins forgets a left item after five minutes, and its whole queue on a restart.
      if (error instanceof JenkinsError && error.status === 404) return undefined;
      throw error;
    }
    const owner = item.parameters.PROW_JOB_ID;
    return owner === undefined || owner === job.metadata.name ? item : undefined;
  }

  /**
   * Puts the waiting jobs in creation order and starts each one the limits allow: `max_concurrency`
   * of its job (counted across repositories, as Prow does), of its `jenkins_operators` entry and of
   * its master. Queued builds count, not only running ones (Prow counts pending ProwJobs only, so a
   * long queue went past the limit). An older waiting job that is not part of this pass still
   * comes first: its slot is kept and it is asked for, so a newer job never takes its place.
   */
  private async startInOrder(view: Map<string, ProwJob>, looked: Map<string, Looked>, config: Config): Promise<void> {
    const slots = new SlotCount(config, this.deps.masters);
    const waiting: { job: ProwJob; target?: Target }[] = [];
    for (const job of view.values()) {
      const seen = looked.get(job.metadata.name);
      if (seen && seen.outcome !== 'unknown') {
        if (seen.outcome === 'running') slots.take(seen.job);
        else if (seen.outcome === 'startable') waiting.push({ job: seen.job, target: seen.target });
        continue;
      }
      if (job.spec.agent !== 'jenkins' || isFinished(job)) continue;
      if (this.holdsSlot(job)) slots.take(job);
      else if (!seen && this.mayStart(job) && this.mayWaitInLine(job, config)) waiting.push({ job });
    }
    waiting.sort((a, b) => byCreation(a.job, b.job));
    for (const { job, target } of waiting) {
      const name = job.metadata.name;
      const full = slots.fullFor(job);
      if (!full) slots.take(job);
      if (target === undefined) {
        if (!full && !this.inRetryWait(name)) this.requestSync([name]);
        continue;
      }
      try {
        if (full) await this.markWaiting(job, full);
        else await this.startBuild(job, target);
      } catch (error) {
        this.deps.logger.error({ prowjob: name, job: job.spec.job, err: describeError(error) }, 'cannot start the Jenkins build');
      }
    }
  }

  /** A limited job outside this pass whose master and Jenkins job answered last time. */
  private mayWaitInLine(job: ProwJob, config: Config): boolean {
    const master = this.deps.masters.forJob(job);
    if (!master?.client || this.unreachable.has(master.name) || !isLimited(job, config, master)) return false;
    return !this.unlistable.has(targetKey(master.name, jenkinsJobPath(job)));
  }

  /** Queued or building in Jenkins, as far as the bucket (and this operator's own starts) tell. */
  private holdsSlot(job: ProwJob): boolean {
    return !isFinished(job) && (job.status.state === 'pending' || isHandedOver(job) || this.handedOver.has(job.metadata.name));
  }

  /** A triggered Jenkins job never handed to Jenkins. */
  private mayStart(job: ProwJob): boolean {
    return job.spec.agent === 'jenkins' && !isFinished(job) && job.status.state === 'triggered' && !isHandedOver(job) && !this.handedOver.has(job.metadata.name);
  }

  private inRetryWait(name: string): boolean {
    return this.retries.waiting(name, this.now().getTime());
  }

  private async markWaiting(job: ProwJob, description: string): Promise<void> {
    if (job.status.description === description) return;
    await this.deps.store.update(job.metadata.name, (current) =>
      this.mayStart(current) && current.status.description !== description ? transition(current, 'triggered', this.now(), { description }) : undefined,
    );
  }

  private async startBuild(job: ProwJob, target: Target): Promise<void> {
    const name = job.metadata.name;
    const log = this.deps.logger.child({ prowjob: name, job: job.spec.job, master: target.master.name });
    if (this.inRetryWait(name)) return;
    // Taken before the first await, so a second pass over the job cannot slip in behind this one.
    this.retries.hold(name, this.now().getTime());
    // What the watch showed may be behind the bucket: a job aborted a moment ago (a newer push),
    // or enqueued by this operator's last pass, must not get a build.
    const fresh = await this.deps.store.get(name);
    if (!fresh || !this.wants(fresh.job) || !this.mayStart(fresh.job) || !this.mayAct()) {
      this.retries.clear(name);
      return;
    }
    // Looked in the queue and the builds just before: only now is a POST safe. It is never
    // repeated blindly; a failed POST is retried by a later sync after looking again.
    let queueUrl: string | undefined;
    try {
      ({ queueUrl } = await target.client.buildWithParameters(target.path, buildParameters(fresh.job)));
    } catch (error) {
      return this.startFailed(fresh.job, target, error, log);
    }
    this.handedOver.add(name);
    this.buildsStarted.inc();
    this.retries.clear(name);
    log.info({ path: target.path, queueUrl }, 'Jenkins build requested');
    await this.markEnqueued(fresh.job, target, queueIdFrom(queueUrl));
    await this.priming.done(target, log);
  }

  /**
   * A start Jenkins refused for good ends the job at once, as Prow's syncTriggeredJob ends it,
   * linked to `status_error_link`; a pipeline that has never run is primed first; anything else
   * is tried again later, each wait longer, until `max_pending` ends the job.
   */
  private async startFailed(job: ProwJob, target: Target, error: unknown, log: Logger): Promise<void> {
    const name = job.metadata.name;
    try {
      if (!(error instanceof JenkinsError && error.notParameterized)) throw error;
      await this.priming.prime(target, log);
      await this.markWaiting(job, DESCRIPTIONS.priming);
    } catch (failure) {
      if (!isRefusal(failure)) {
        this.retries.failed(name, this.now().getTime());
        throw failure;
      }
      await this.write(name, 'error', { description: DESCRIPTIONS.startError, url: this.deps.config.get().statusErrorLink });
      log.warn({ path: target.path, err: describeError(failure) }, 'Jenkins refused to start the build: the job ended as an error');
    }
  }

  private async markEnqueued(job: ProwJob, target: Target, queueId: number | undefined): Promise<void> {
    const known = job.metadata.annotations[QUEUE_ITEM];
    if (isHandedOver(job) && (known !== undefined || queueId === undefined)) return;
    this.handedOver.add(job.metadata.name);
    const annotations: Record<string, string> = { [ENQUEUED_AT]: this.now().toISOString(), [JENKINS_MASTER]: target.master.name };
    if (queueId !== undefined) annotations[QUEUE_ITEM] = String(queueId);
    await this.deps.store.update(job.metadata.name, (current) => {
      const next = transition(current, 'triggered', this.now(), { description: DESCRIPTIONS.enqueued });
      if (!next) return undefined;
      // The first record stands: the item a restart finds in the queue is the one requested before.
      return { ...next, metadata: { ...next.metadata, annotations: { ...annotations, ...current.metadata.annotations } } };
    });
  }

  /**
   * A job past `max_pending` is given up: its build stopped or its queue item cancelled first, so
   * a failed stop is tried again by the next pass while the job is still unfinished.
   */
  private async endOverdue(
    job: ProwJob,
    target: Target,
    build: JenkinsBuild | undefined,
    queued: JenkinsQueueItem | undefined,
    maxPendingMs: number,
    log: Logger,
  ): Promise<void> {
    await this.stopBuildOf(job, target, build, queued, log);
    if (!build && !queued && !isHandedOver(job)) {
      // Never started: Jenkins kept failing (or the job kept waiting for a slot) all along.
      await this.write(job.metadata.name, 'error', { description: DESCRIPTIONS.startError, url: this.deps.config.get().statusErrorLink });
      log.warn({ maxPendingMs }, 'ProwJob could not be started within max_pending: ended as an error');
      return;
    }
    await this.write(job.metadata.name, 'error', {
      description: `The job ran longer than the ${formatDuration(maxPendingMs)} allowed (max_pending); its Jenkins build was stopped.`,
    });
    log.warn({ maxPendingMs }, 'ProwJob ran longer than max_pending: ended as an error');
  }

  /** Stops the build of an aborted ProwJob (or takes it out of the queue), once. */
  private async stopAbortedBuild(job: ProwJob, target: Target, build: JenkinsBuild | undefined, queued: JenkinsQueueItem | undefined): Promise<void> {
    const log = this.deps.logger.child({ prowjob: job.metadata.name, job: job.spec.job, master: target.master.name });
    await this.stopBuildOf(job, target, build, queued, log);
    await this.deps.store.update(job.metadata.name, (current) =>
      current.metadata.annotations[BUILD_STOPPED] ? undefined : { ...current, metadata: { ...current.metadata, annotations: { ...current.metadata.annotations, [BUILD_STOPPED]: 'true' } } },
    );
  }

  /**
   * Cancels the queue item and stops the running build. A queued build is only ever cancelled in
   * the queue, never stopped by a build number it does not have yet (Prow posted to build 0). When
   * neither shows, the item may have just left the queue as a build the listing does not show yet:
   * the item's record names it.
   */
  private async stopBuildOf(job: ProwJob, target: Target, build: JenkinsBuild | undefined, queued: JenkinsQueueItem | undefined, log: Logger): Promise<void> {
    const { client, path } = target;
    if (queued) {
      try {
        await client.cancelQueueItem(queued.id);
        log.info({ queueItem: queued.id }, 'queued build cancelled');
      } catch (error) {
        // It left the queue between the listing and the cancel: the build it became is stopped.
        const left = error instanceof JenkinsError ? error.context.build : undefined;
        if (typeof left !== 'number') throw error;
        if (build?.number !== left) {
          await client.stopBuild(path, left);
          log.info({ queueItem: queued.id, build: left }, 'build stopped');
        }
      }
    }
    if (build?.building) {
      await client.stopBuild(path, build.number);
      log.info({ build: build.number }, 'build stopped');
    }
    if (!queued && !build) {
      const executable = (await this.readQueueItem(job, target))?.executable;
      if (executable) {
        await client.stopBuild(path, executable.number);
        log.info({ build: executable.number }, 'build stopped');
      }
    }
  }

  private async write(
    name: string,
    state: ProwJobState,
    fields: { description?: string; url?: string; jenkins_build_id?: string },
    annotations: Record<string, string> = {},
  ): Promise<void> {
    await this.deps.store.update(name, (current) => {
      const next = transition(current, state, this.now(), fields);
      if (!next || Object.keys(annotations).length === 0) return next;
      return { ...next, metadata: { ...next.metadata, annotations: { ...next.metadata.annotations, ...annotations } } };
    });
  }
}

function targetKey(master: string, path: string): string {
  return `${master} ${path}`;
}

