import { BUILDS_LISTED_BY_DEFAULT, JenkinsError, type JenkinsBuild, type JenkinsClient, type JenkinsQueueItem, type JenkinsQueueItemRecord } from '@bowline/jenkins';
import type { Logger } from '@bowline/observability';
import type { ProwJob } from '@bowline/prowjob';
import { jenkinsJobPath } from './build-parameters.js';
import type { Master } from './jenkins-masters.js';
import { followedBuildOf, queueItemOf } from './job-records.js';

/** Builds others started since the last listing, allowed for when a listing must reach far back. */
const DEPTH_SLACK = 20;

/**
 * How long after a master's queue could not be listed it is asked again, in the background, the
 * wait doubling up to `PROBE_MAX_MS` while it stays silent. Passes meanwhile do not ask it: a
 * Jenkins that hangs costs its client's timeouts (30 s, retried) once, not in every pass, so
 * the other masters' (and tenants') jobs are not held behind it (issue 17).
 */
const PROBE_FIRST_MS = 5_000;
const PROBE_MAX_MS = 60_000;

export interface JenkinsViewDeps {
  logger: Logger;
  /** A master that had stopped answering answers again: its jobs are worth a look now. */
  onReachable?: (master: string) => void;
  /** Test seam: the first wait before a silent master is asked again. */
  probeFirstMs?: number;
}

/** Where a ProwJob's build lives: a master, and the job's path on it. */
export interface Target {
  master: Master;
  client: JenkinsClient;
  path: string;
  /** Master and path together, for what the operator remembers per Jenkins job. */
  key: string;
}

/** One build listing of a Jenkins job, and how far back it reaches. */
export interface Listing {
  builds: JenkinsBuild[];
  /** Whether a build of this number would be in `builds` if Jenkins still had it. */
  reaches(number: number): boolean;
}

/**
 * What a pass reads of Jenkins: one queue listing per master and one build listing per Jenkins
 * job, never one request per ProwJob (as Prow's ListBuilds: GetEnqueuedBuilds, then GetBuilds per job),
 * and a single build or queue item only where a listing cannot answer. What carries over from one
 * pass to the next is kept here: how deep the last listing reached, and which masters and Jenkins
 * jobs did not answer, whose waiting ProwJobs then keep no place in the line (build-starter.ts).
 */
export class JenkinsView {
  /** Jenkins jobs (target keys) whose build listing failed last time: their ProwJobs hold no place in the line. */
  private readonly unlistable = new Set<string>();
  /** Masters whose queue could not be listed last time; the same goes for their jobs. */
  private readonly unreachable = new Set<string>();
  /** The newest build number each Jenkins job showed, so the next listing knows how deep to reach. */
  private readonly newestBuild = new Map<string, number>();
  /** The background look at each silent master, and the client a pass last named for it (a reload may rotate its token). */
  private readonly probes = new Map<string, { timer?: NodeJS.Timeout; client: JenkinsClient }>();
  /** Bumped by `reset`: a probe answering after it belongs to an earlier term. */
  private term = 0;

  constructor(private readonly deps: JenkinsViewDeps) {}

  /** Forgets what earlier passes saw, and stops looking at silent masters: the operator begins a new term or stops (standby.ts). */
  reset(): void {
    this.term += 1;
    for (const probe of this.probes.values()) clearTimeout(probe.timer);
    this.probes.clear();
    this.unlistable.clear();
    this.unreachable.clear();
    this.newestBuild.clear();
  }

  /** Whether the master and the job's Jenkins job both answered the last time they were listed. */
  answeredLastTime(master: Master, job: ProwJob): boolean {
    return !this.unreachable.has(master.name) && !this.unlistable.has(targetKey(master.name, jenkinsJobPath(job)));
  }

  targetOf(master: Master, client: JenkinsClient, path: string): Target {
    return { master, client, path, key: targetKey(master.name, path) };
  }

  /**
   * The master's queue, or undefined when it cannot be reached: its jobs wait. A master that did
   * not answer last time is not asked by a pass at all until a background look finds it back.
   */
  async listQueue(master: Master, client: JenkinsClient): Promise<JenkinsQueueItem[] | undefined> {
    const probe = this.probes.get(master.name);
    if (probe) {
      probe.client = client;
      return undefined;
    }
    try {
      const queue = await client.listQueue();
      this.unreachable.delete(master.name);
      return queue;
    } catch (error) {
      this.unreachable.add(master.name);
      this.deps.logger.warn({ master: master.name, tenant: master.tenant, err: error }, 'cannot list the Jenkins queue: its jobs wait until it answers again');
      this.probes.set(master.name, { client });
      this.probeLater(master.name, this.deps.probeFirstMs ?? PROBE_FIRST_MS);
      return undefined;
    }
  }

  private probeLater(name: string, waitMs: number): void {
    const probe = this.probes.get(name);
    if (!probe) return;
    const term = this.term;
    probe.timer = setTimeout(() => {
      probe.client.listQueue().then(
        () => {
          if (term !== this.term) return;
          this.probes.delete(name);
          this.unreachable.delete(name);
          this.deps.logger.info({ master: name }, 'Jenkins master answers again');
          this.deps.onReachable?.(name);
        },
        () => {
          if (term === this.term) this.probeLater(name, Math.min(waitMs * 2, PROBE_MAX_MS));
        },
      );
    }, waitMs);
    probe.timer.unref();
  }

  /** The Jenkins job's builds, or undefined when they cannot be listed: its jobs wait for the next pass. */
  async listBuilds(target: Target, jobs: ProwJob[]): Promise<Listing | undefined> {
    try {
      const listing = await this.reachBack(target, jobs);
      this.unlistable.delete(target.key);
      return listing;
    } catch (error) {
      this.unlistable.add(target.key);
      this.deps.logger.warn({ master: target.master.name, job: target.path, err: error }, 'cannot list builds: will try again at next sync');
      return undefined;
    }
  }

  /**
   * The builds of one Jenkins job, reaching back to the oldest build its ProwJobs follow, in one
   * request: Jenkins' `builds` stops at the newest 100, so with more in flight the listing asks
   * `allBuilds` for as many as reach back that far. Only when the last listing cannot say how far
   * that is (the first pass after a start) does a second listing reach further. A Jenkins job
   * that does not exist has no builds, as Prow's GetBuilds has it: its new jobs are then refused
   * at the start, and its running ones are not found.
   */
  private async reachBack(target: Target, jobs: ProwJob[]): Promise<Listing> {
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
   * The job's build: the one it already follows, else the one its queue item became, else the
   * first one Jenkins started for it. The build it follows may have left `builds`, which holds the
   * newest 100 only (Job#getNewBuilds), so it is asked for by number; a later build with the same
   * PROW_JOB_ID (Jenkins' Rebuild copies parameters) is someone else's run and never replaces it.
   */
  async buildOf(job: ProwJob, target: Target, listing: Listing): Promise<JenkinsBuild | undefined> {
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
  async readBuild(target: Target, number: number): Promise<JenkinsBuild | undefined> {
    try {
      return await target.client.getBuild(target.path, number);
    } catch (error) {
      if (error instanceof JenkinsError && error.status === 404) return undefined;
      throw error;
    }
  }

  /** Jenkins' record of the job's queue item; undefined when there is none, or it is someone else's. */
  async readQueueItem(job: ProwJob, target: Target): Promise<JenkinsQueueItemRecord | undefined> {
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
}

function targetKey(master: string, path: string): string {
  return `${master} ${path}`;
}
