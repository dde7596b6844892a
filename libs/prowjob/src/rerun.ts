import { isFinished, prowJobName, transition, triggeredStatus } from './prowjob.js';
import type { ProwJobStore } from './store.js';
import type { ProwJob } from './types.js';

export const RERUN_OF = 'bowline.dev/rerun-of';
export const RERUN_BY = 'bowline.dev/rerun-by';

/**
 * Annotations that record what asked for the first run, or what the operator and reporter did
 * with it: a rerun is asked for by someone else and has done nothing yet. (The planner's
 * `abortUnfinished` also reads `delivery-id`: a rerun must not pass for the first run's event.)
 */
const NOT_COPIED = /^bowline\.dev\/(event|action|delivery-id|triggered-by|comment|scheduled-for|schedule|enqueued-at|queue-item|jenkins-master|build-stopped|github-reported-status)$/;

export interface RerunOptions {
  /** Who asked, a GitHub login: `bowline.dev/rerun-by` and `triggered-by`. */
  user: string;
  now: Date;
  /**
   * What makes this request one request: the same request sent twice (a form submitted again)
   * names the same ProwJob, which is then created once.
   */
  requestId: string;
}

/**
 * Prow's deck rerun (`NewProwJob(pj.Spec, pj.Labels, pj.Annotations)`): a new triggered ProwJob
 * with the same spec and labels, the first run's job annotations, and who reran what.
 */
export function newRerunJob(original: ProwJob, options: RerunOptions): ProwJob {
  const name = prowJobName('rerun', original.metadata.name, options.requestId);
  const annotations = Object.fromEntries(Object.entries(original.metadata.annotations ?? {}).filter(([key]) => !NOT_COPIED.test(key)));
  return {
    apiVersion: original.apiVersion,
    kind: original.kind,
    metadata: {
      name,
      labels: { ...original.metadata.labels },
      annotations: {
        ...annotations,
        'bowline.dev/event': 'deck',
        'bowline.dev/action': 'rerun',
        'bowline.dev/triggered-by': options.user,
        [RERUN_OF]: original.metadata.name,
        [RERUN_BY]: options.user,
      },
      creationTimestamp: options.now.toISOString(),
    },
    spec: structuredClone(original.spec),
    status: { ...triggeredStatus(name, options.now), description: `${options.user} reran ${original.metadata.name}.` },
  };
}

/** What a rerun or an abort did. */
export type JobAction =
  /** `repeated`: this very request had already done it (a form sent twice); nothing new was made. */
  | { done: true; job: ProwJob; repeated?: boolean }
  /** Nothing to do: the job is not in a state the action applies to (or is gone). */
  | { done: false; why: string };

/**
 * Reruns a finished job through the same store the planner creates jobs with; a request sent
 * twice creates one job (`create` on an existing name is a no-op).
 */
export async function rerunJob(store: ProwJobStore, name: string, options: RerunOptions): Promise<JobAction> {
  const current = await store.get(name);
  if (!current) return { done: false, why: `there is no ProwJob named ${name}` };
  if (!isFinished(current.job)) return { done: false, why: `${current.job.spec.job} is still ${current.job.status.state}: abort it or wait for it to finish` };
  const rerun = newRerunJob(current.job, options);
  const created = await store.create(rerun);
  return created ? { done: true, job: rerun } : { done: true, job: rerun, repeated: true };
}

/**
 * Aborts an unfinished job as the planner's `abortUnfinished` does: the state `aborted` written
 * with compare-and-set, after which the jenkins-operator stops its build (`stopAborted`).
 */
export async function abortJob(store: ProwJobStore, name: string, options: { user: string; now: Date }): Promise<JobAction> {
  const description = `${options.user} aborted this job.`;
  const aborted = await store.update(name, (job) => transition(job, 'aborted', options.now, { description }));
  if (aborted) return { done: true, job: aborted };
  const current = await store.get(name);
  return { done: false, why: current ? `${current.job.spec.job} is ${current.job.status.state} already: only a triggered or pending job can be aborted` : `there is no ProwJob named ${name}` };
}
