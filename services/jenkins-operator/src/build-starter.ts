import { Counter, type Registry } from 'prom-client';
import type { Config, ConfigSource } from '@bowline/config';
import { JenkinsError } from '@bowline/jenkins';
import type { Logger } from '@bowline/observability';
import { isFinished, transition, type ProwJob, type ProwJobStore, type StoredProwJob } from '@bowline/prowjob';
import { buildParameters } from './build-parameters.js';
import { JENKINS_MASTER, type JenkinsMasters, type Master } from './jenkins-masters.js';
import type { Target } from './jenkins-view.js';
import { byCreation, DESCRIPTIONS, ENQUEUED_AT, isHandedOver, needsSync, QUEUE_ITEM, queueIdFrom } from './job-records.js';
import { writeState, type StateWriting } from './job-writes.js';
import { Priming } from './priming.js';
import type { Outcome } from './reconcile.js';
import { isLimited, SlotCount } from './slot-count.js';
import { isRefusal, StartRetries } from './start-errors.js';

const START_RETRY_MS = 10_000;

/** Which masters and Jenkins jobs answered the last pass (the Jenkins view knows). */
export interface LastAnswers {
  answeredLastTime(master: Master, job: ProwJob): boolean;
}

export interface BuildStarterDeps extends StateWriting {
  /** Read again right before a POST: the watch may be behind the bucket. */
  store: Pick<ProwJobStore, 'get' | 'update'>;
  masters: Pick<JenkinsMasters, 'forJob'>;
  config: ConfigSource;
  logger: Logger;
  registry: Registry;
  /** A failed POST is not sent again before this (default 10 s, doubling with each failure in a row). */
  startRetryMs?: number;
  /** Whether this replica may act on Jenkins now (it holds the lease): asked right before each POST. */
  mayAct: () => boolean;
  jenkins: LastAnswers;
  /** Asks the loop to look at these jobs soon: an older waiting job outside this pass keeps its place. */
  requestSync: (names: string[]) => void;
}

/** What one pass learned of a ProwJob it looked at, and where its build would go. */
export interface Looked {
  job: ProwJob;
  target?: Target;
  outcome: Outcome;
}

/**
 * Starts builds: in creation order, as far as the limits allow, each POST once, a failed one tried
 * again later, and a never-run pipeline primed first. It owns what that needs to remember: which
 * jobs it handed to Jenkins, when each may be tried again, and which Jenkins jobs it primed.
 */
export class BuildStarter {
  /** Jobs whose start failed or is under way, and when one may be tried again. */
  private readonly retries: StartRetries;
  /**
   * Unfinished jobs this operator handed to Jenkins. Kept until the job ends, not only until the
   * watch shows it enqueued: a read of the bucket sent before that write can still answer after the
   * watch brought it, and must not make the job look startable (or its slot free) again.
   */
  private readonly handedOver = new Set<string>();
  private readonly priming: Priming;
  private readonly buildsStarted: Counter;
  private readonly quotaWaits: Counter;
  /** Starts tried so far, and the number of each job's last one: see `attemptedSince`. */
  private attemptCount = 0;
  private readonly lastAttempt = new Map<string, number>();

  constructor(private readonly deps: BuildStarterDeps) {
    this.retries = new StartRetries(deps.startRetryMs ?? START_RETRY_MS);
    this.priming = new Priming({ now: deps.now, registry: deps.registry });
    this.buildsStarted = new Counter({
      name: 'bowline_operator_builds_started_total',
      help: 'buildWithParameters requests Jenkins accepted, by tenant',
      labelNames: ['tenant'],
      registers: [deps.registry],
    });
    this.quotaWaits = new Counter({
      name: 'bowline_operator_quota_waits_total',
      help: "Jobs set waiting by their tenant's quotas.max_concurrency, by tenant",
      labelNames: ['tenant'],
      registers: [deps.registry],
    });
  }

  /** Forgets every start, retry and priming build: the operator begins a new term (standby.ts). */
  reset(): void {
    this.lastAttempt.clear();
    this.handedOver.clear();
    this.retries.reset();
    this.priming.reset();
  }

  /** The job ended or left the bucket: nothing of its start is kept. */
  forget(name: string): void {
    this.lastAttempt.delete(name);
    this.handedOver.delete(name);
    this.retries.clear(name);
  }

  /** How many starts were tried so far: a mark for `attemptedSince`. */
  attempts(): number {
    return this.attemptCount;
  }

  /**
   * Whether a start of the job was tried after the mark: Jenkins listings read before then may
   * not show a build that start asked for (its answer lost), so they cannot clear another.
   */
  attemptedSince(name: string, mark: number): boolean {
    return (this.lastAttempt.get(name) ?? 0) > mark;
  }

  /** The job could not be looked at: passes that wait on it do not ask for it again at once. */
  holdBack(name: string): void {
    this.retries.hold(name, this.deps.now().getTime());
  }

  /** The jobs waiting for a slot: when one is given back they are looked at now, not at the next resync. */
  waitingForSlots(jobs: Iterable<StoredProwJob>): string[] {
    const config = this.deps.config.get();
    return [...jobs].filter(({ job }) => this.mayStart(job) && isLimited(job, config, this.deps.masters.forJob(job))).map(({ job }) => job.metadata.name);
  }

  /**
   * Puts the waiting jobs in creation order and starts each one the limits allow: `max_concurrency`
   * of its job (counted across repositories, as Prow does), of its `jenkins_operators` entry and of
   * its master. Queued builds count, not only running ones (Prow counts pending ProwJobs only, so a
   * long queue went past the limit). An older waiting job that is not part of this pass still
   * comes first: its slot is kept and it is asked for, so a newer job never takes its place.
   */
  async startInOrder(view: Map<string, ProwJob>, looked: Map<string, Looked>, config: Config): Promise<void> {
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
        if (!full && !this.inRetryWait(name)) this.deps.requestSync([name]);
        continue;
      }
      try {
        if (full) {
          if (full.limit === 'tenant' && job.status.description !== full.description) this.quotaWaits.inc({ tenant: slots.tenantOf(job) });
          await this.markWaiting(job, full.description);
        } else await this.startBuild(job, target, slots.tenantOf(job));
      } catch (error) {
        this.deps.logger.error({ prowjob: name, job: job.spec.job, err: error }, 'cannot start the Jenkins build');
      }
    }
  }

  /** Says on the job why it waits (a full limit, no master, priming), once. */
  async markWaiting(job: ProwJob, description: string): Promise<void> {
    if (job.status.description === description) return;
    await this.deps.store.update(job.metadata.name, (current) =>
      this.mayStart(current) && current.status.description !== description ? transition(current, 'triggered', this.deps.now(), { description }) : undefined,
    );
  }

  /** Records the build Jenkins queued for the job (the first record stands), and that this operator handed it over. */
  async markEnqueued(job: ProwJob, target: Target, queueId: number | undefined): Promise<void> {
    const known = job.metadata.annotations[QUEUE_ITEM];
    if (isHandedOver(job) && (known !== undefined || queueId === undefined)) return;
    this.handedOver.add(job.metadata.name);
    const annotations: Record<string, string> = { [ENQUEUED_AT]: this.deps.now().toISOString(), [JENKINS_MASTER]: target.master.name };
    if (queueId !== undefined) annotations[QUEUE_ITEM] = String(queueId);
    await this.deps.store.update(job.metadata.name, (current) => {
      const next = transition(current, 'triggered', this.deps.now(), { description: DESCRIPTIONS.enqueued });
      if (!next) return undefined;
      // The first record stands: the item a restart finds in the queue is the one requested before.
      return { ...next, metadata: { ...next.metadata, annotations: { ...annotations, ...current.metadata.annotations } } };
    });
  }

  /** A limited job outside this pass whose master and Jenkins job answered last time. */
  private mayWaitInLine(job: ProwJob, config: Config): boolean {
    const master = this.deps.masters.forJob(job);
    if (!master?.client || !isLimited(job, config, master)) return false;
    return this.deps.jenkins.answeredLastTime(master, job);
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
    return this.retries.waiting(name, this.deps.now().getTime());
  }

  private async startBuild(job: ProwJob, target: Target, tenant: string): Promise<void> {
    const name = job.metadata.name;
    const log = this.deps.logger.child({ prowjob: name, job: job.spec.job, master: target.master.name, tenant });
    if (this.inRetryWait(name)) return;
    // Taken before the first await, so a second pass over the job cannot slip in behind this one.
    this.retries.hold(name, this.deps.now().getTime());
    // What the watch showed may be behind the bucket: a job aborted a moment ago (a newer push),
    // or enqueued by this operator's last pass, must not get a build.
    const fresh = await this.deps.store.get(name);
    if (!fresh || !needsSync(fresh.job) || !this.mayStart(fresh.job) || !this.deps.mayAct()) {
      this.retries.clear(name);
      return;
    }
    // Looked in the queue and the builds just before: only now is a POST safe. It is never
    // repeated blindly; a failed POST is retried by a later sync after looking again.
    let queueUrl: string | undefined;
    // Marked when sent and again when answered: a listing read while the POST was out may not
    // show its build either.
    this.lastAttempt.set(name, ++this.attemptCount);
    try {
      ({ queueUrl } = await target.client.buildWithParameters(target.path, buildParameters(fresh.job)));
    } catch (error) {
      this.lastAttempt.set(name, ++this.attemptCount);
      return this.startFailed(fresh.job, target, error, log);
    }
    this.lastAttempt.set(name, ++this.attemptCount);
    this.handedOver.add(name);
    this.buildsStarted.inc({ tenant });
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
        this.retries.failed(name, this.deps.now().getTime());
        throw failure;
      }
      await writeState(this.deps, name, 'error', { description: DESCRIPTIONS.startError, url: this.deps.config.get().statusErrorLink });
      log.warn({ path: target.path, err: failure }, 'Jenkins refused to start the build: the job ended as an error');
    }
  }
}
