import { createHash } from 'node:crypto';
import type { JobBase, Periodic, Postsubmit, Presubmit } from '@bowline/config';
import { completePrimaryRefs, refsForPullRequest, type GitHubPullRequest } from './refs.js';
import { FINAL_STATES, TENANT_LABEL, type ProwJob, type ProwJobState, type ProwJobType, type Refs } from './types.js';

export function isFinished(job: ProwJob): boolean {
  return Boolean(job.status.completionTime);
}

export function isFinalState(state: ProwJobState): boolean {
  return FINAL_STATES.includes(state);
}

/**
 * A ProwJob name derived from what caused it: the same delivery and job always give the same name,
 * so a replayed event creates nothing new. Formatted as a UUID like Prow's names.
 */
export function prowJobName(...parts: string[]): string {
  const hex = createHash('sha256').update(parts.join('\u0000')).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/**
 * A numeric build id, as Prow gives each run: time-ordered, with digits of the name so two jobs
 * created in the same millisecond still differ.
 */
export function buildIdFor(name: string, now: Date): string {
  const suffix = parseInt(name.replace(/-/g, '').slice(0, 5), 16) % 100_000;
  return `${now.getTime()}${String(suffix).padStart(5, '0')}`;
}

export type NewPresubmitOptions = {
  name: string;
  now: Date;
  /** Who or what asked for the run: kept as annotations for the job's history. */
  cause: { event: string; deliveryId: string; action?: string; user?: string; comment?: string };
} & (
  | {
      /** The pull request as GitHub gives it: its refs are made as Prow's createRefs makes them. */
      pullRequest: GitHubPullRequest;
      /** The base commit tested; the pull request's `base.sha` when not given. */
      baseSha?: string;
    }
  | {
      /** Refs made by the caller, kept as given. */
      refs: Refs;
    }
);

/**
 * Prow's `NewPresubmit`: a triggered ProwJob for one presubmit on one pull request, its refs
 * completed with the job's clone settings (`path_alias`, …) as `PresubmitSpec` does.
 */
export function newPresubmitJob(presubmit: Presubmit, options: NewPresubmitOptions): ProwJob {
  const refs = 'pullRequest' in options ? refsForPullRequest(options.pullRequest, options.baseSha) : options.refs;
  const pull = refs.pulls?.[0];
  return newProwJob({
    type: 'presubmit',
    job: presubmit,
    name: options.name,
    now: options.now,
    refs: completePrimaryRefs(refs, presubmit.primaryRefs),
    spec: { context: presubmit.context, rerun_command: presubmit.rerunCommand, report: !presubmit.skipReport },
    jenkinsSpec: presubmit.githubBranchSourceJob,
    labels: { 'prow.k8s.io/is-optional': String(presubmit.optional), ...(pull ? { 'prow.k8s.io/refs.pull': String(pull.number) } : {}) },
    annotations: causeAnnotations(options.cause),
  });
}

export interface NewPostsubmitOptions {
  name: string;
  /**
   * The pushed branch or tag, as Prow's trigger makes them from the push: `base_ref` its short
   * name, `base_sha` the push's `after`, `repo_link` the repository's `html_url`, `base_link` the
   * push's `compare` URL; no pulls.
   */
  refs: Refs;
  now: Date;
  /** The push that asked for the run: `user` is who pushed. */
  cause: { event: string; deliveryId: string; user?: string };
}

/**
 * Prow's `PostsubmitSpec` + `NewProwJob`: a triggered ProwJob for one postsubmit on one push. Like
 * Prow, it carries the job's context and reports unless `skip_report`, and has no rerun command
 * (a postsubmit is not rerun by comment).
 */
export function newPostsubmitJob(postsubmit: Postsubmit, options: NewPostsubmitOptions): ProwJob {
  const { pulls: _, ...branch } = options.refs;
  return newProwJob({
    type: 'postsubmit',
    job: postsubmit,
    name: options.name,
    now: options.now,
    refs: completePrimaryRefs(branch, postsubmit.primaryRefs),
    spec: { context: postsubmit.context, rerun_command: '', report: !postsubmit.skipReport },
    jenkinsSpec: postsubmit.githubBranchSourceJob,
    annotations: causeAnnotations(options.cause),
  });
}

/**
 * A periodic's `spec.refs`. Prow's periodics have no refs (a nil pointer) unless `extra_refs`;
 * Bowline's ProwJob type requires the field, which the reporter, the Jenkins operator and the
 * planner read without a check, so a periodic carries these empty refs instead: an empty `org`
 * is how to tell them apart.
 */
export const PERIODIC_REFS: Readonly<Refs> = Object.freeze({ org: '', repo: '', base_ref: '', base_sha: '' });

/** False for a periodic's empty refs: what Prow would see as a nil `Spec.Refs`. */
export function hasRefs(refs: Refs): boolean {
  return refs.org !== '';
}

export interface NewPeriodicOptions {
  name: string;
  now: Date;
  /** The scheduled time this run stands for, and the schedule as written, for the job's history. */
  cause: { scheduledFor: Date; schedule: string };
}

/**
 * Prow's `PeriodicSpec` + `NewProwJob`: a triggered ProwJob for one run of a periodic. As in Prow
 * it has no context, does not report (crier's GitHub reporter has no commit to report a periodic
 * on) and no `jenkins_spec` (a GitHub Branch Source job needs a branch, which a periodic lacks).
 */
export function newPeriodicJob(periodic: Periodic, options: NewPeriodicOptions): ProwJob {
  return newProwJob({
    type: 'periodic',
    job: periodic,
    name: options.name,
    now: options.now,
    refs: { ...PERIODIC_REFS },
    spec: { context: '', rerun_command: '', report: false },
    jenkinsSpec: false,
    annotations: {
      'bowline.dev/event': 'periodic',
      'bowline.dev/scheduled-for': options.cause.scheduledFor.toISOString(),
      'bowline.dev/schedule': options.cause.schedule,
    },
  });
}

/**
 * Prow's `NewProwJob`: the labels and annotations every ProwJob carries (refs labels only when
 * there are refs), the job's own labels and annotations, and a triggered status; the tenant as
 * Prow stores it (`spec.prowjob_defaults.tenant_id`) and as a label (`bowline.dev/tenant`, the
 * name Bowline's services and `bowline jobs list --tenant` read).
 */
/**
 * What Prow writes in `tenant_id` for a job of no tenant (config.DefaultTenantID): its Deck
 * without `--tenant-id` shows only jobs with this id or none, so the implicit tenant's jobs keep
 * showing there.
 */
export const PROW_DEFAULT_TENANT_ID = 'GlobalDefaultID';

/** The tenant the implicit tenant of a config without tenants is called (@bowline/config's DEFAULT_TENANT). */
const IMPLICIT_TENANT = 'default';

/**
 * The job's `spec.prowjob_defaults.tenant_id`, as Prow's config defaulting resolves it: the
 * `tenant_id` the job sets, else its tenant's name, else (the implicit tenant) Prow's default id.
 */
export function tenantIdOf(job: Pick<JobBase, 'tenant' | 'tenantId'>): string {
  return job.tenantId ?? (job.tenant === IMPLICIT_TENANT ? PROW_DEFAULT_TENANT_ID : job.tenant);
}

function newProwJob(parts: {
  type: ProwJobType;
  job: JobBase;
  name: string;
  now: Date;
  refs: Refs;
  spec: Pick<ProwJob['spec'], 'context' | 'rerun_command' | 'report'>;
  jenkinsSpec: boolean;
  labels?: Record<string, string>;
  annotations: Record<string, string>;
}): ProwJob {
  const { job, refs, now } = parts;
  const labels: Record<string, string> = {
    ...job.labels,
    'created-by-prow': 'true',
    'prow.k8s.io/type': parts.type,
    'prow.k8s.io/job': labelValue(job.name),
    [TENANT_LABEL]: job.tenant,
    ...(hasRefs(refs)
      ? {
          'prow.k8s.io/refs.org': labelValue(refs.org),
          'prow.k8s.io/refs.repo': labelValue(refs.repo),
          'prow.k8s.io/refs.base_ref': labelValue(refs.base_ref),
        }
      : {}),
    ...parts.labels,
  };
  return {
    apiVersion: 'prow.k8s.io/v1',
    kind: 'ProwJob',
    metadata: {
      name: parts.name,
      labels,
      annotations: { ...job.annotations, 'prow.k8s.io/job': job.name, ...parts.annotations },
      creationTimestamp: now.toISOString(),
    },
    spec: {
      type: parts.type,
      agent: job.agent,
      job: job.name,
      ...parts.spec,
      max_concurrency: job.maxConcurrency,
      ...(parts.jenkinsSpec ? { jenkins_spec: { github_branch_source_job: true } } : {}),
      refs,
      prowjob_defaults: { tenant_id: tenantIdOf(job) },
    },
    status: triggeredStatus(parts.name, now),
  };
}

/** Who or what asked for a run, kept as annotations for the job's history. */
function causeAnnotations(cause: { event: string; deliveryId: string; action?: string; user?: string; comment?: string }): Record<string, string> {
  return {
    'bowline.dev/event': cause.event,
    ...(cause.action ? { 'bowline.dev/action': cause.action } : {}),
    'bowline.dev/delivery-id': cause.deliveryId,
    ...(cause.user ? { 'bowline.dev/triggered-by': cause.user } : {}),
    ...(cause.comment ? { 'bowline.dev/comment': cause.comment.slice(0, 1000) } : {}),
  };
}

function triggeredStatus(name: string, now: Date): ProwJob['status'] {
  return { state: 'triggered', description: 'Job triggered.', startTime: now.toISOString(), build_id: buildIdFor(name, now) };
}

/** Kubernetes label values: at most 63 characters of `[A-Za-z0-9_.-]`, as Prow trims them. */
function labelValue(value: string): string {
  return value.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 63).replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, '');
}

/**
 * Prow's `Refs.String()`, sent as `PULL_REFS`: `base:sha,num:sha` (the base ref alone without a
 * base sha, and a pull's fetchable `ref` after its sha when it has one). Give it `prowRefsOf(refs)`.
 */
export function pullRefs(refs: Refs): string {
  const parts = [refs.base_sha ? `${refs.base_ref}:${refs.base_sha}` : refs.base_ref];
  for (const pull of refs.pulls ?? []) parts.push(pull.ref ? `${pull.number}:${pull.sha}:${pull.ref}` : `${pull.number}:${pull.sha}`);
  return parts.join(',');
}

const RANK: Record<ProwJobState, number> = { triggered: 0, pending: 1, success: 2, failure: 2, aborted: 2, error: 2 };

/**
 * Moves a job to a new state, stamping the times Prow stamps. Only forward: a finished job never
 * changes and a running one never goes back to triggered; the caller then gets `undefined` back
 * and writes nothing.
 */
export function transition(
  job: ProwJob,
  state: ProwJobState,
  now: Date,
  fields: { description?: string; url?: string; jenkins_build_id?: string; pod_name?: string } = {},
): ProwJob | undefined {
  if (isFinished(job) || RANK[state] < RANK[job.status.state]) return undefined;
  const status = { ...job.status, ...definedOnly(fields), state };
  if (state === 'pending' && !status.pendingTime) status.pendingTime = now.toISOString();
  if (isFinalState(state)) status.completionTime = now.toISOString();
  return { ...job, status };
}

function definedOnly<T extends object>(fields: T): Partial<T> {
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)) as Partial<T>;
}
