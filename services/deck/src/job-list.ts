import { hasRefs, type ProwJob, type ProwJobState } from '@bowline/prowjob';
import { addDuration, emptyDurations, type DurationBins } from './duration-histogram.js';
import { jobMatcher, type JobFilters } from './filters.js';

/** Every state a ProwJob can be in, in the order of a job's life: the state bar's order. */
export const STATES: readonly ProwJobState[] = ['triggered', 'pending', 'success', 'failure', 'aborted', 'error'];
export const TYPES = ['presubmit', 'postsubmit', 'periodic', 'batch'] as const;

/** The jobs a filtered list shows, and the counts of all that match. */
export interface JobList {
  /** The newest matching jobs, at most the page's limit. */
  shown: ProwJob[];
  /** How many jobs match the filters. */
  total: number;
  /** How many matching jobs are in each state. */
  counts: Record<ProwJobState, number>;
  /** How long the matching jobs that finished took. */
  durations: DurationBins;
}

export function emptyCounts(): Record<ProwJobState, number> {
  return Object.fromEntries(STATES.map((state) => [state, 0])) as Record<ProwJobState, number>;
}

/** One pass over the index (newest first): the first `limit` matches, and the counts of all. */
export function listJobs(jobs: readonly ProwJob[], filters: JobFilters, limit: number): JobList {
  const matches = jobMatcher(filters);
  const shown: ProwJob[] = [];
  const counts = emptyCounts();
  const durations = emptyDurations();
  let total = 0;
  for (const job of jobs) {
    if (!matches(job)) continue;
    total += 1;
    counts[job.status.state] = (counts[job.status.state] ?? 0) + 1;
    addDuration(durations, job);
    if (shown.length < limit) shown.push(job);
  }
  return { shown, total, counts, durations };
}

/** The values the filter fields suggest: every repository, author, branch and job in the index. */
export interface FilterChoices {
  repo: string[];
  author: string[];
  branch: string[];
  job: string[];
}

export function filterChoices(jobs: readonly ProwJob[]): FilterChoices {
  const sets = { repo: new Set<string>(), author: new Set<string>(), branch: new Set<string>(), job: new Set<string>() };
  for (const job of jobs) {
    const refs = job.spec.refs && hasRefs(job.spec.refs) ? job.spec.refs : undefined;
    if (refs) sets.repo.add(`${refs.org}/${refs.repo}`);
    if (refs?.base_ref) sets.branch.add(refs.base_ref);
    for (const pull of refs?.pulls ?? []) if (pull.author) sets.author.add(pull.author);
    sets.job.add(job.spec.job);
  }
  const sorted = (set: Set<string>): string[] => [...set].sort();
  return { repo: sorted(sets.repo), author: sorted(sets.author), branch: sorted(sets.branch), job: sorted(sets.job) };
}
