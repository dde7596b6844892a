import { hasRefs } from './prowjob.js';
import { TENANT_LABEL, type ProwJob, type ProwJobState, type ProwJobType } from './types.js';

/**
 * One state change of one ProwJob, as kept in the HISTORY stream after the job itself is deleted
 * from the bucket: enough to answer "what ran on this pull request, who asked, and how did it end"
 * without the ProwJob. Field names follow the logger's vocabulary (`prowjob`, `job`, `repo`, `pr`,
 * `build`).
 */
export interface HistoryRecord {
  /** The ProwJob's name. */
  prowjob: string;
  job: string;
  type: ProwJobType;
  /** `org/repo`; absent for periodics, which have no repository. */
  repo?: string;
  baseRef?: string;
  pr?: number;
  /** The pull request's head commit, or the pushed commit (base sha). */
  sha?: string;
  /** The pull request's author. */
  author?: string;
  /** Who asked: the commenter, the pull request's author or labeller, the pusher. */
  triggeredBy?: string;
  /** What asked: the comment's commands (`/test all`), or the event (`pull_request opened`, `push`, `periodic`). */
  trigger: string;
  state: ProwJobState;
  description?: string;
  /** The build's page (`status.url`). */
  url?: string;
  /** The Jenkins build number (`status.jenkins_build_id`). */
  build?: string;
  context?: string;
  createdAt: string;
  startedAt: string;
  pendingAt?: string;
  completedAt?: string;
  /** The bucket revision this state was read at: orders a job's records, newest highest. */
  revision: number;
  /** The tenant the job names (`tenantOfProwJob`); absent: the implicit tenant, `default`. */
  tenant?: string;
}

export { TENANT_LABEL };

/** The tenant a ProwJob names: its `bowline.dev/tenant` label, else Prow's `spec.prowjob_defaults.tenant_id`. */
export function tenantOfProwJob(job: ProwJob): string | undefined {
  const fromSpec: unknown = job.spec.prowjob_defaults?.tenant_id;
  return job.metadata.labels?.[TENANT_LABEL] || (typeof fromSpec === 'string' && fromSpec !== '' ? fromSpec : undefined);
}

export const PERIODIC_HISTORY_SCOPE = '_periodic';

/** The record of the job's current state, read at `revision` of the bucket. */
export function toHistoryRecord(job: ProwJob, revision: number): HistoryRecord {
  const { metadata, spec, status } = job;
  const pull = spec.refs.pulls?.[0];
  const withRefs = hasRefs(spec.refs);
  const annotations = metadata.annotations ?? {};
  return definedOnly({
    prowjob: metadata.name,
    job: spec.job,
    type: spec.type,
    repo: withRefs ? `${spec.refs.org}/${spec.refs.repo}` : undefined,
    baseRef: withRefs ? spec.refs.base_ref : undefined,
    pr: pull?.number,
    sha: pull?.sha ?? (withRefs ? spec.refs.base_sha : undefined),
    author: pull?.author,
    triggeredBy: annotations['bowline.dev/triggered-by'],
    trigger: triggerOf(annotations),
    state: status.state,
    description: status.description,
    url: status.url,
    build: status.jenkins_build_id,
    context: spec.context || undefined,
    createdAt: metadata.creationTimestamp,
    startedAt: status.startTime,
    pendingAt: status.pendingTime,
    completedAt: status.completionTime,
    revision,
    tenant: tenantOfProwJob(job),
  }) as HistoryRecord;
}

/**
 * What asked for the run, from the planner's annotations: the command lines of a comment (a comment
 * is mostly prose around `/test all`), else the event and its action.
 */
function triggerOf(annotations: Record<string, string>): string {
  const comment = annotations['bowline.dev/comment'];
  if (comment) {
    const commands = comment
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line.startsWith('/'));
    return (commands.length > 0 ? commands.join('; ') : comment.trim()).slice(0, 200);
  }
  const event = annotations['bowline.dev/event'] ?? 'unknown';
  const action = annotations['bowline.dev/action'];
  if (event === 'periodic' && annotations['bowline.dev/schedule']) return `periodic (${annotations['bowline.dev/schedule']})`;
  return action ? `${event} ${action}` : event;
}

/**
 * The record's subject under the HISTORY stream's prefix: `<org>.<repo>.<pr>.<job>.<prowjob>`
 * (`_` for the pull request of a job without one), periodics as `_periodic._._.<job>.<prowjob>`
 * (GitHub names never start with `_`). Each reader then names its records with one subject filter,
 * the only kind nats-server 2.9 takes (`filter_subject`): one repository's (`bowline jobs --repo`),
 * one pull request's (deck's `/pr`), one job's (deck's `/job-history`), one run's. The server
 * filters, so none of them reads the whole stream.
 *
 * Records written before the pull request and job were in the subject (`<org>.<repo>.<prowjob>`,
 * `_periodic.<job>.<prowjob>`) stay until the stream's max_age drops them: the repository filter
 * still takes them, and `legacyHistoryFilter` finds one run's.
 */
export function historySubject(prefix: string, record: Pick<HistoryRecord, 'prowjob' | 'repo' | 'job' | 'pr'>): string {
  const scope = record.repo ? repoScope(record.repo) : `${PERIODIC_HISTORY_SCOPE}._`;
  const pr = record.repo && record.pr !== undefined ? String(record.pr) : '_';
  return `${prefix}.${scope}.${pr}.${subjectToken(record.job)}.${subjectToken(record.prowjob)}`;
}

export interface HistoryFilter {
  /** `org/repo`. */
  repo?: string;
  /** A pull request of `repo`. */
  pr?: number;
  job?: string;
  prowjob?: string;
}

/**
 * The one subject filter of the records a filter names. Subject tokens lose characters (see
 * subjectToken), so readers compare the records' own fields again.
 */
export function historyFilter(prefix: string, filter: HistoryFilter): string {
  const scope = filter.repo ? repoScope(filter.repo) : '*.*';
  // A repository alone (or nothing) ends in `>`, which takes the records of both layouts.
  if (filter.pr === undefined && !filter.job && !filter.prowjob) return filter.repo ? `${prefix}.${scope}.>` : `${prefix}.>`;
  const pr = filter.pr !== undefined ? String(filter.pr) : '*';
  return `${prefix}.${scope}.${pr}.${filter.job ? subjectToken(filter.job) : '*'}.${filter.prowjob ? subjectToken(filter.prowjob) : '*'}`;
}

/** The filter of one run's records in the layout before the pull request and job were added. */
export function legacyHistoryFilter(prefix: string, prowjob: string): string {
  return `${prefix}.*.*.${subjectToken(prowjob)}`;
}

/** `Nats-Msg-Id` of a record: a state of a job is stored once, however often it is seen. */
export function historyMessageId(record: Pick<HistoryRecord, 'prowjob' | 'state'>): string {
  return `${record.prowjob}:${record.state}`;
}

function repoScope(repo: string): string {
  const [org = '', name = ''] = repo.split('/');
  return `${subjectToken(org)}.${subjectToken(name)}`;
}

/**
 * A subject token: GitHub allows `.` in repository names and Jenkins `/` in job names, both
 * separators or wildcards to NATS. The record keeps the real name; readers filter on it again.
 */
export function subjectToken(text: string): string {
  return text.replace(/[^A-Za-z0-9_-]/g, '_') || '_';
}

function definedOnly<T extends object>(fields: T): T {
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)) as T;
}
