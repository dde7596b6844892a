import type { ConfigSource } from '@bowline/config';
import { JenkinsError, type JenkinsBuild, type JenkinsQueueItem, type JenkinsQueueItemRecord } from '@bowline/jenkins';
import { formatDuration, pushTo, type Logger } from '@bowline/observability';
import { isFinished, transition, type ProwJob } from '@bowline/prowjob';
import type { Target } from './jenkins-view.js';
import { BUILD_STOPPED, byCreation, DESCRIPTIONS, isHandedOver } from './job-records.js';
import { writeState, type StateWriting } from './job-writes.js';

/** The stopper's one read of Jenkins beyond what the pass listed. */
export interface QueueRecords {
  readQueueItem(job: ProwJob, target: Target): Promise<JenkinsQueueItemRecord | undefined>;
}

export interface BuildStopperDeps extends StateWriting {
  config: ConfigSource;
  logger: Logger;
  jenkins: QueueRecords;
}

/**
 * Everything that stops a build or ends a job before its build does: older duplicates aborted,
 * the builds of aborted jobs stopped once, and jobs past `max_pending` given up. It holds no state
 * of its own; what it did is written on the ProwJob (BUILD_STOPPED, the aborted state).
 */
export class BuildStopper {
  constructor(private readonly deps: BuildStopperDeps) {}

  /**
   * Prow's terminateDupes: of the unfinished runs of one presubmit on one pull request only the
   * newest goes on; the older ones are aborted, and their builds stopped by the aborted-job path.
   * Returns the jobs it aborted, and puts them in `view`.
   */
  async terminateDupes(view: Map<string, ProwJob>): Promise<Map<string, ProwJob>> {
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
          isFinished(current) ? undefined : transition(current, 'aborted', this.deps.now(), { description: DESCRIPTIONS.superseded }),
        );
        if (!written) continue;
        view.set(name, written);
        aborted.set(name, written);
        this.deps.logger.info({ prowjob: name, job: job.spec.job, newer: newest!.metadata.name }, 'ProwJob aborted: a newer run of the same job and pull request exists');
      }
    }
    return aborted;
  }

  /** Stops the build of an aborted ProwJob (or takes it out of the queue), once: Prow's syncAbortedJob. */
  async stopAborted(job: ProwJob, target: Target, build: JenkinsBuild | undefined, queued: JenkinsQueueItem | undefined, log: Logger): Promise<void> {
    await this.stopBuildOf(job, target, build, queued, log);
    await this.deps.store.update(job.metadata.name, (current) =>
      current.metadata.annotations[BUILD_STOPPED] ? undefined : { ...current, metadata: { ...current.metadata, annotations: { ...current.metadata.annotations, [BUILD_STOPPED]: 'true' } } },
    );
  }

  /**
   * A job past `max_pending` (Prow's plank setting) is given up: its build stopped or its queue
   * item cancelled first, so a failed stop is tried again by the next pass while the job is still
   * unfinished.
   */
  async endOverdue(job: ProwJob, target: Target, build: JenkinsBuild | undefined, queued: JenkinsQueueItem | undefined, log: Logger): Promise<void> {
    const { maxPendingMs } = target.master;
    await this.stopBuildOf(job, target, build, queued, log);
    if (!build && !queued && !isHandedOver(job)) {
      // Never started: Jenkins kept failing (or the job kept waiting for a slot) all along.
      await writeState(this.deps, job.metadata.name, 'error', { description: DESCRIPTIONS.startError, url: this.deps.config.get().statusErrorLink });
      log.warn({ maxPendingMs }, 'ProwJob could not be started within max_pending: ended as an error');
      return;
    }
    await writeState(this.deps, job.metadata.name, 'error', {
      description: `The job ran longer than the ${formatDuration(maxPendingMs)} allowed (max_pending); its Jenkins build was stopped.`,
    });
    log.warn({ maxPendingMs }, 'ProwJob ran longer than max_pending: ended as an error');
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
      const executable = (await this.deps.jenkins.readQueueItem(job, target))?.executable;
      if (executable) {
        await client.stopBuild(path, executable.number);
        log.info({ build: executable.number }, 'build stopped');
      }
    }
  }
}
