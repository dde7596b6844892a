import { Counter, type Registry } from 'prom-client';
import { JenkinsError, type JenkinsBuild, type JenkinsClient } from '@bowline/jenkins';
import type { Logger } from '@bowline/observability';
import { queueIdFrom } from './job-records.js';
import { NeverParameterizedError } from './start-errors.js';

/**
 * A priming build is not queued again before this: the first one may still be waiting for an
 * executor, and one run is all a pipeline needs to learn its parameters.
 */
const PRIME_AGAIN_MS = 10 * 60_000;

/** A Jenkins job on a master; `key` names the pair. */
export interface PrimingTarget {
  master: { name: string };
  client: JenkinsClient;
  path: string;
  key: string;
}

/**
 * A pipeline declaring its `parameters` in its Jenkinsfile has none until it first runs, and
 * Jenkins refuses `buildWithParameters` until then (JENKINS-41929). One parameterless build
 * teaches it; the ProwJob's own build is requested by a later pass, and the priming build is
 * stopped once a real one was accepted. A job refused after a build of it ran to its end (its
 * priming build, or any earlier one) declares no parameters at all, and is not primed: as in
 * Prow's EnsureBuildableJob, only a job that has never run is.
 */
export class Priming {
  /** Jenkins jobs primed with a parameterless build (target key → when, and its queue item). */
  private readonly primed = new Map<string, { at: number; queueId?: number }>();
  private readonly jobsPrimed: Counter;

  constructor(private readonly deps: { now: () => Date; registry: Registry }) {
    this.jobsPrimed = new Counter({
      name: 'bowline_operator_jobs_primed_total',
      help: 'Parameterless builds queued to teach a never-run pipeline its parameters',
      registers: [deps.registry],
    });
  }

  /**
   * Queues a priming build of the Jenkins job, unless one was queued lately. Throws
   * NeverParameterizedError when a build of it (the last priming build, or an earlier one) ran to
   * its end and Jenkins still refuses.
   */
  async prime(target: PrimingTarget, log: Logger): Promise<void> {
    const last = this.primed.get(target.key);
    const ranBefore = last ? last.queueId !== undefined && (await this.ranToItsEnd(target, last.queueId)) : await this.hasEndedBuilds(target);
    if (ranBefore) {
      throw new NeverParameterizedError(`Jenkins job ${target.path} on ${target.master.name} declares no parameters, though it has run`, {
        context: { master: target.master.name, path: target.path },
      });
    }
    const now = this.deps.now().getTime();
    if (last && now - last.at <= PRIME_AGAIN_MS) return;
    this.primed.set(target.key, { at: now });
    const { queueUrl } = await target.client.build(target.path);
    this.primed.set(target.key, { at: this.deps.now().getTime(), queueId: queueIdFrom(queueUrl) });
    this.jobsPrimed.inc();
    log.info({ path: target.path, queueUrl }, 'Jenkins job is not parameterized yet: queued a priming build');
  }

  /** Forgets every priming build: the operator begins a new term (standby.ts). */
  reset(): void {
    this.primed.clear();
  }

  /** A real build was accepted: the priming build, if any, has done its work and is stopped or taken out of the queue. */
  async done(target: PrimingTarget, log: Logger): Promise<void> {
    const primed = this.primed.get(target.key);
    if (!primed) return;
    this.primed.delete(target.key);
    const { queueId } = primed;
    if (queueId === undefined) return;
    try {
      const item = await target.client.getQueueItem(queueId);
      if (item.executable) {
        const build = await target.client.getBuild(target.path, item.executable.number);
        if (build.building && build.parameters.PROW_JOB_ID === undefined) await target.client.stopBuild(target.path, build.number);
      } else if (!item.cancelled) {
        await target.client.cancelQueueItem(queueId);
      }
      log.info({ queueItem: queueId }, 'priming build stopped');
    } catch (error) {
      // Jenkins forgot the item, or the build finished: nothing is left running either way.
      log.debug({ queueItem: queueId, err: error }, 'priming build not stopped');
    }
  }

  private async hasEndedBuilds(target: PrimingTarget): Promise<boolean> {
    const builds = (await orUndefinedOn404(target.client.listBuilds(target.path))) ?? [];
    return builds.some((build) => !build.building && build.result !== null);
  }

  /** Whether the priming build queued as this item has ended; unknown (Jenkins forgot the item or the build) counts as no. */
  private async ranToItsEnd(target: PrimingTarget, queueId: number): Promise<boolean> {
    const item = await orUndefinedOn404(target.client.getQueueItem(queueId));
    if (!item?.executable) return false;
    const build: JenkinsBuild | undefined = await orUndefinedOn404(target.client.getBuild(target.path, item.executable.number));
    return build !== undefined && !build.building && build.result !== null;
  }
}

async function orUndefinedOn404<T>(request: Promise<T>): Promise<T | undefined> {
  try {
    return await request;
  } catch (error) {
    if (error instanceof JenkinsError && error.status === 404) return undefined;
    throw error;
  }
}
