import type { Config, ConfigSource } from '@bowline/config';
import type { JenkinsBuild, JenkinsQueueItem, JenkinsQueueItemRecord } from '@bowline/jenkins';
import type { Logger } from '@bowline/observability';
import { isFinished, transition, type ProwJob } from '@bowline/prowjob';
import { buildLink, buildStatus } from './build-status.js';
import type { Listing, Target } from './jenkins-view.js';
import { BUILD_STOPPED, DESCRIPTIONS, ENQUEUED_AT, isHandedOver } from './job-records.js';
import { writeState, type StateWriting } from './job-writes.js';

/** How long an enqueued build may stay invisible before the job is called an error. */
const NOT_FOUND_GRACE_MS = 5 * 60_000;

/**
 * What one pass learned about a ProwJob: `running` holds a slot (queued or building in Jenkins),
 * `ended` holds none, `startable` has nothing in Jenkins and may be started, and `unknown` could not
 * be looked at (its Jenkins job could not be listed) and is judged by what the bucket says.
 */
export type Outcome = 'running' | 'ended' | 'startable' | 'unknown';

/**
 * The row of the reconcile table a ProwJob falls in, from its state in the bucket and what Jenkins
 * shows of it. Prow splits the same decision by state (syncTriggeredJob, syncPendingJob,
 * syncAbortedJob in pkg/jenkins/controller.go); here the rows are tried in this order:
 *
 * | row       | the ProwJob                              | Jenkins shows                   | what is done                         |
 * |-----------|------------------------------------------|---------------------------------|--------------------------------------|
 * | aborted   | aborted, build not stopped yet           | anything                        | stop the build once (syncAbortedJob) |
 * | overdue   | triggered or pending past `max_pending`  | no build that ended             | stop the build, end as error         |
 * | built     | triggered or pending                     | a build of it                   | follow the build (syncPendingJob)    |
 * | queued    | triggered or pending                     | its queue item                  | record it enqueued                   |
 * | lost      | pending                                  | nothing                         | end as error (syncPendingJob)        |
 * | unseen    | triggered, handed to Jenkins             | nothing                         | ask the queue item's record          |
 * | startable | triggered, never handed to Jenkins       | nothing                         | start it, in line (syncTriggeredJob) |
 */
export type Row = 'aborted' | 'overdue' | 'built' | 'queued' | 'lost' | 'unseen' | 'startable';

/** Picks the job's row of the table; `nowMs` and the master's `max_pending` decide `overdue`. */
export function rowOf(job: ProwJob, build: JenkinsBuild | undefined, queued: JenkinsQueueItem | undefined, nowMs: number, maxPendingMs: number): Row {
  if (isFinished(job)) return 'aborted';
  // A build that ended still gets its own result, however late the operator sees it.
  const buildEnded = build !== undefined && !build.building && build.result !== null;
  if (!buildEnded && nowMs - Date.parse(job.status.startTime) > maxPendingMs) return 'overdue';
  if (build) return 'built';
  if (queued) return 'queued';
  if (job.status.state !== 'triggered') return 'lost';
  if (isHandedOver(job)) return 'unseen';
  return 'startable';
}

/** The reads of Jenkins reconcile makes beyond the pass's listings (the Jenkins view makes them). */
export interface JenkinsReads {
  buildOf(job: ProwJob, target: Target, listing: Listing): Promise<JenkinsBuild | undefined>;
  readBuild(target: Target, number: number): Promise<JenkinsBuild | undefined>;
  readQueueItem(job: ProwJob, target: Target): Promise<JenkinsQueueItemRecord | undefined>;
}

/** What reconcile leaves to the starter: recording a build Jenkins queued for a job. */
export interface EnqueueRecord {
  markEnqueued(job: ProwJob, target: Target, queueId: number | undefined): Promise<void>;
}

/** What reconcile leaves to the stopper. */
export interface Stopping {
  stopAborted(job: ProwJob, target: Target, build: JenkinsBuild | undefined, queued: JenkinsQueueItem | undefined, log: Logger): Promise<void>;
  endOverdue(job: ProwJob, target: Target, build: JenkinsBuild | undefined, queued: JenkinsQueueItem | undefined, log: Logger): Promise<void>;
}

export interface ReconcileDeps extends StateWriting {
  config: ConfigSource;
  logger: Logger;
  jenkins: JenkinsReads;
  starter: EnqueueRecord;
  stopper: Stopping;
}

/** One ProwJob as the pass saw it, handed to its row of the table. */
interface Seen {
  job: ProwJob;
  target: Target;
  build?: JenkinsBuild;
  queued?: JenkinsQueueItem;
  config: Config;
  log: Logger;
}

/** Moves each ProwJob to what Jenkins shows for it. Holds no state: all it learns is written on the job. */
export class Reconciler {
  private readonly rows: Record<Row, (seen: Seen) => Promise<Outcome>> = {
    aborted: async ({ job, target, build, queued, log }) => {
      await this.deps.stopper.stopAborted(job, target, build, queued, log);
      return 'ended';
    },
    overdue: async ({ job, target, build, queued, log }) => {
      await this.deps.stopper.endOverdue(job, target, build, queued, log);
      return 'ended';
    },
    built: ({ job, build, config, log }) => this.follow(job, build!, config, log),
    queued: async ({ job, target, queued }) => {
      await this.deps.starter.markEnqueued(job, target, queued!.id);
      return 'running';
    },
    lost: async ({ job, target, config, log }) => {
      // Prow's syncPendingJob: a pending job whose build Jenkins no longer shows.
      await writeState(this.deps, job.metadata.name, 'error', { description: DESCRIPTIONS.notFound, url: config.statusErrorLink });
      log.warn({ path: target.path }, 'the Jenkins build of a running job disappeared: the job ended as an error');
      return 'ended';
    },
    unseen: ({ job, target, log }) => this.lookForLostBuild(job, target, log),
    startable: async () => 'startable',
  };

  constructor(private readonly deps: ReconcileDeps) {}

  /** Moves one ProwJob to what Jenkins shows for it, and says whether it holds a slot. */
  async reconcile(job: ProwJob, target: Target, listing: Listing, queue: JenkinsQueueItem[], config: Config): Promise<Outcome> {
    const name = job.metadata.name;
    const log = this.deps.logger.child({ prowjob: name, job: job.spec.job, master: target.master.name });
    const queued = queue.find((item) => item.parameters.PROW_JOB_ID === name);
    const build = await this.deps.jenkins.buildOf(job, target, listing);
    const row = rowOf(job, build, queued, this.deps.now().getTime(), target.master.maxPendingMs);
    return this.rows[row]({ job, target, build, queued, config, log });
  }

  /**
   * An enqueued job Jenkins shows neither queued nor built. Its queue item's record says why: taken
   * out of the queue by someone (the job is aborted), or turned into a build the listing does not
   * show (yet, or any more), which is then followed. With no record to ask, the build gets a grace
   * period to show up before the job is called an error.
   */
  private async lookForLostBuild(job: ProwJob, target: Target, log: Logger): Promise<Outcome> {
    const name = job.metadata.name;
    const item = await this.deps.jenkins.readQueueItem(job, target);
    if (item?.cancelled) {
      await writeState(this.deps, name, 'aborted', { description: DESCRIPTIONS.cancelled }, { [BUILD_STOPPED]: 'true' });
      log.info({ queueItem: item.id }, 'ProwJob aborted: its queue item was cancelled in Jenkins');
      return 'ended';
    }
    if (item?.executable) {
      const build = await this.deps.jenkins.readBuild(target, item.executable.number);
      if (build?.parameters.PROW_JOB_ID === name) return this.follow(job, build, this.deps.config.get(), log);
    }
    const enqueuedAt = Date.parse(job.metadata.annotations[ENQUEUED_AT] ?? job.metadata.creationTimestamp);
    if (this.deps.now().getTime() - enqueuedAt > NOT_FOUND_GRACE_MS) {
      await writeState(this.deps, name, 'error', { description: DESCRIPTIONS.neverFound, url: this.deps.config.get().statusErrorLink });
      return 'ended';
    }
    return 'running';
  }

  /** Moves the job to what its build shows, linked through `job_url_template` rendered over that new state. */
  private async follow(job: ProwJob, build: JenkinsBuild, config: Config, log: Logger): Promise<Outcome> {
    const { state, description, finished } = buildStatus(build);
    // Prow's controller names the build's pod after the ProwJob, so templates can use `.Status.PodName`.
    const fields = { description, jenkins_build_id: String(build.number), pod_name: job.metadata.name };
    const next = transition(job, state, this.deps.now(), fields);
    const url = next && buildLink(next, build, config, log);
    if (next && (state !== job.status.state || url !== job.status.url || description !== job.status.description)) {
      await this.deps.store.update(job.metadata.name, (current) => {
        const moved = transition(current, state, this.deps.now(), fields);
        return moved && { ...moved, status: { ...moved.status, url: buildLink(moved, build, config, log) } };
      });
      log.info({ build: build.number, state }, 'ProwJob follows its build');
    }
    return finished ? 'ended' : 'running';
  }
}
