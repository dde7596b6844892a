import { Counter, type Registry } from 'prom-client';
import type { ConfigSource } from '@bowline/config';
import { JenkinsError, type JenkinsBuild, type JenkinsClient, type JenkinsQueueItem } from '@bowline/jenkins';
import { describeError, type Logger } from '@bowline/observability';
import { isFinished, prowJobTemplateView, transition, type ProwJob, type ProwJobState, type ProwJobStore, type StoredProwJob } from '@bowline/prowjob';
import { buildParameters, jenkinsJobPath } from './build-parameters.js';

export interface OperatorDeps {
  store: ProwJobStore;
  jenkins: JenkinsClient;
  config: ConfigSource;
  logger: Logger;
  registry: Registry;
  now?: () => Date;
}

export const DESCRIPTIONS = {
  triggered: 'Job triggered.',
  enqueued: 'Jenkins job enqueued.',
  pending: 'Job running.',
  success: 'Job succeeded.',
  failure: 'Job failed.',
  aborted: 'Job aborted.',
} as const;

const RESULT_STATES: Record<string, ProwJobState> = {
  SUCCESS: 'success',
  FAILURE: 'failure',
  UNSTABLE: 'failure',
  ABORTED: 'aborted',
};

/** Set on an aborted ProwJob once its build was stopped, so it is stopped once. */
export const BUILD_STOPPED = 'bowline.dev/build-stopped';

/** How long an enqueued build may stay invisible before the job is called an error. */
const NOT_FOUND_GRACE_MS = 5 * 60_000;
/** A failed POST is not sent again before this, so a struggling Jenkins is not hammered. */
const START_RETRY_MS = 10_000;

/**
 * Reconciles Jenkins ProwJobs with Jenkins builds. A KV change is a hint to look at that job now;
 * the periodic resync looks at all of them. Syncs run one at a time, so the look-then-start of a
 * job never races with itself.
 */
export class JenkinsOperator {
  private readonly now: () => Date;
  private readonly jobs = new Map<string, StoredProwJob>();
  private readonly dirty = new Set<string>();
  private readonly startAttempts = new Map<string, number>();
  private syncing?: Promise<void>;
  private fullResyncWanted = false;
  private stopped = false;
  private timer?: NodeJS.Timeout;
  private watcher?: { stop(): void };
  private readonly buildsStarted: Counter;

  constructor(private readonly deps: OperatorDeps) {
    this.now = deps.now ?? (() => new Date());
    this.buildsStarted = new Counter({
      name: 'bowline_operator_builds_started_total',
      help: 'buildWithParameters requests Jenkins accepted',
      registers: [deps.registry],
    });
  }

  async start(): Promise<void> {
    this.watcher = await this.deps.store.watch((name, stored) => {
      if (!stored) {
        this.jobs.delete(name);
        return;
      }
      this.jobs.set(name, stored);
      if (this.wants(stored.job)) this.requestSync([name]);
    }, this.deps.logger);
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

  private kick(): void {
    if (this.syncing || this.stopped) return;
    this.syncing = (async () => {
      while (this.fullResyncWanted || this.dirty.size > 0) {
        const names = this.fullResyncWanted ? [...this.jobs.keys()] : [...this.dirty];
        this.fullResyncWanted = false;
        this.dirty.clear();
        const jobs = names.flatMap((n) => {
          const stored = this.jobs.get(n);
          return stored && this.wants(stored.job) ? [stored.job] : [];
        });
        try {
          await this.sync(jobs);
        } catch (error) {
          this.deps.logger.error({ err: describeError(error) }, 'sync failed');
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
   * One pass over the unfinished Jenkins jobs among `given`: one queue listing, one build listing
   * per Jenkins job, then each ProwJob is moved to what Jenkins shows. A Jenkins job that cannot be
   * listed leaves its ProwJobs for the next pass and does not hold up the others.
   */
  async sync(given: ProwJob[]): Promise<void> {
    const jobs = given.filter((job) => this.wants(job));
    if (jobs.length === 0) return;
    const queue = await this.deps.jenkins.listQueue();
    const byPath = new Map<string, ProwJob[]>();
    for (const job of jobs) {
      const path = jenkinsJobPath(job);
      byPath.set(path, [...(byPath.get(path) ?? []), job]);
    }
    await Promise.all(
      [...byPath].map(async ([path, pathJobs]) => {
        let builds: JenkinsBuild[];
        try {
          builds = await this.deps.jenkins.listBuilds(path);
        } catch (error) {
          this.deps.logger.warn({ job: path, err: describeError(error) }, 'cannot list builds: will try again at next sync');
          return;
        }
        for (const job of pathJobs) {
          const name = job.metadata.name;
          const queued = queue.find((item) => item.parameters.PROW_JOB_ID === name);
          try {
            const build = await this.findBuild(job, path, builds);
            if (isFinished(job)) await this.stopAbortedBuild(job, path, build, queued);
            else await this.reconcile(job, path, build, queued);
          } catch (error) {
            this.deps.logger.error({ prowjob: name, job: job.spec.job, err: describeError(error) }, 'cannot reconcile ProwJob');
          }
        }
      }),
    );
  }

  /**
   * The job's build: the one it already follows, else the first one Jenkins started for it. The
   * build it follows may have left `builds`, which holds the newest 100 only (Job#getNewBuilds),
   * so it is asked for by number; a later build with the same PROW_JOB_ID (Jenkins' Rebuild copies
   * parameters) is someone else's run and never replaces it.
   */
  private async findBuild(job: ProwJob, path: string, builds: JenkinsBuild[]): Promise<JenkinsBuild | undefined> {
    const name = job.metadata.name;
    const own = builds.filter((b) => b.parameters.PROW_JOB_ID === name);
    const followed = Number(job.status.jenkins_build_id);
    if (job.status.jenkins_build_id && Number.isInteger(followed)) {
      const listed = own.find((b) => b.number === followed);
      if (listed) return listed;
      if (!builds.some((b) => b.number === followed)) {
        try {
          const build = await this.deps.jenkins.getBuild(path, followed);
          if (build.parameters.PROW_JOB_ID === name) return build;
        } catch (error) {
          // Gone from Jenkins (discarded by its log rotation): the job is judged on what is left.
          if (!(error instanceof JenkinsError && error.status === 404)) throw error;
        }
      }
    }
    return own.reduce<JenkinsBuild | undefined>((first, b) => (first && first.number < b.number ? first : b), undefined);
  }

  private async reconcile(job: ProwJob, path: string, build: JenkinsBuild | undefined, queued: JenkinsQueueItem | undefined): Promise<void> {
    const name = job.metadata.name;
    const log = this.deps.logger.child({ prowjob: name, job: job.spec.job });
    if (build) {
      const finished = !build.building && build.result !== null;
      const state: ProwJobState = finished ? (RESULT_STATES[build.result ?? ''] ?? 'error') : 'pending';
      const url = this.buildLink(job, build, log);
      if (state === job.status.state && job.status.url === url) return;
      const description = state === 'error' ? `Jenkins build ended with result ${build.result}.` : DESCRIPTIONS[state as keyof typeof DESCRIPTIONS];
      await this.write(name, state, { description, url, jenkins_build_id: String(build.number) });
      log.info({ build: build.number, state }, 'ProwJob follows its build');
      return;
    }
    if (queued) {
      if (job.status.description !== DESCRIPTIONS.enqueued) await this.write(name, 'triggered', { description: DESCRIPTIONS.enqueued });
      return;
    }
    if (job.status.state !== 'triggered') {
      await this.write(name, 'error', { description: `The Jenkins build of this job disappeared from ${path}.` });
      return;
    }
    if (job.status.description === DESCRIPTIONS.enqueued) {
      // Enqueued earlier but neither queued nor built now: Jenkins lost it or cannot match it.
      if (this.now().getTime() - Date.parse(job.metadata.creationTimestamp) > NOT_FOUND_GRACE_MS) {
        await this.write(name, 'error', {
          description: 'Jenkins build not found: the Jenkins job must declare the BUILD_ID and PROW_JOB_ID parameters.',
        });
      }
      return;
    }
    const lastAttempt = this.startAttempts.get(name);
    if (lastAttempt !== undefined && this.now().getTime() - lastAttempt < START_RETRY_MS) return;
    // Taken before the first await, so a second pass over the job cannot slip in behind this one.
    this.startAttempts.set(name, this.now().getTime());
    // What the watch showed may be behind the bucket: a job aborted a moment ago (a newer push),
    // or enqueued by this operator's last pass, must not get a build.
    const fresh = await this.deps.store.get(name);
    if (!fresh || !this.wants(fresh.job) || fresh.job.status.state !== 'triggered' || fresh.job.status.description === DESCRIPTIONS.enqueued) {
      this.startAttempts.delete(name);
      return;
    }
    // Looked in the queue and the builds just above: only now is a POST safe. It is never
    // repeated blindly; a failed POST is retried by a later sync after looking again.
    await this.deps.jenkins.buildWithParameters(path, buildParameters(fresh.job));
    this.buildsStarted.inc();
    this.startAttempts.delete(name);
    log.info({ path }, 'Jenkins build requested');
    await this.write(name, 'triggered', { description: DESCRIPTIONS.enqueued });
  }

  /** Stops the build of an aborted ProwJob (or takes it out of the queue), once. */
  private async stopAbortedBuild(job: ProwJob, path: string, build: JenkinsBuild | undefined, queued: JenkinsQueueItem | undefined): Promise<void> {
    const log = this.deps.logger.child({ prowjob: job.metadata.name, job: job.spec.job });
    if (queued) {
      await this.deps.jenkins.cancelQueueItem(queued.id);
      log.info({ queueItem: queued.id }, 'queued build of an aborted ProwJob cancelled');
    }
    if (build?.building) {
      await this.deps.jenkins.stopBuild(path, build.number);
      log.info({ build: build.number }, 'build of an aborted ProwJob stopped');
    }
    await this.deps.store.update(job.metadata.name, (current) =>
      current.metadata.annotations[BUILD_STOPPED] ? undefined : { ...current, metadata: { ...current.metadata, annotations: { ...current.metadata.annotations, [BUILD_STOPPED]: 'true' } } },
    );
  }

  /**
   * The link GitHub shows for the build: the `job_url_template` of the first `jenkins_operators`
   * entry whose selector takes the job (Prow's), else the build's own page.
   */
  private buildLink(job: ProwJob, build: JenkinsBuild, log: Logger): string {
    const entry = this.deps.config.get().jenkinsOperators.find((o) => o.labelSelector.matches(job.metadata.labels));
    if (!entry?.jobUrlTemplate) return build.url;
    try {
      return entry.jobUrlTemplate.execute(prowJobTemplateView({ ...job, status: { ...job.status, jenkins_build_id: String(build.number) } }));
    } catch (error) {
      log.warn({ err: describeError(error) }, 'job_url_template failed: linking the build page instead');
      return build.url;
    }
  }

  private async write(name: string, state: ProwJobState, fields: { description?: string; url?: string; jenkins_build_id?: string }): Promise<void> {
    await this.deps.store.update(name, (current) => transition(current, state, this.now(), fields));
  }
}
