import { hasRefs, type ProwJob } from '@bowline/prowjob';

/**
 * The job list's filters, named as Prow's deck names them in its URL (`type`, `repo`, `pull`,
 * `author`, `job`, `state`), plus `branch` (kubernetes/test-infra #6144). Kept in the query string
 * so a shared link and the back button restore them (#19397).
 */
export const FILTER_NAMES = ['type', 'repo', 'pull', 'author', 'branch', 'state', 'job'] as const;
export type FilterName = (typeof FILTER_NAMES)[number];
export type JobFilters = Partial<Record<FilterName, string>>;

/** The filters whose text may hold `*` wildcards; the others are chosen from a list. */
export const TEXT_FILTERS: readonly FilterName[] = ['repo', 'author', 'branch', 'job'];

/** The filters in a request's query; empty and repeated fields count once, as the form sends them. */
export function readFilters(query: Record<string, unknown>): JobFilters {
  const filters: JobFilters = {};
  for (const name of FILTER_NAMES) {
    const raw = query[name];
    const value = (Array.isArray(raw) ? raw[0] : raw) as unknown;
    if (typeof value === 'string' && value.trim() !== '') filters[name] = value.trim();
  }
  return filters;
}

/** The query string of the filters in a fixed order, without empty ones: `?repo=acme%2Fwidgets`. */
export function filterQuery(filters: JobFilters): string {
  const params = new URLSearchParams();
  for (const name of FILTER_NAMES) {
    const value = filters[name];
    if (value) params.set(name, value);
  }
  const text = params.toString();
  return text ? `?${text}` : '';
}

/**
 * A text filter as a pattern matched against the whole value, `*` standing for any run of
 * characters, as Prow's deck matches its job filter; case counts, as it does there.
 */
export function wildcardPattern(text: string): RegExp {
  const parts = text.split('*').map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${parts.join('.*')}$`);
}

/** The test a job must pass to be listed under these filters. */
export function jobMatcher(filters: JobFilters): (job: ProwJob) => boolean {
  const tests: ((job: ProwJob) => boolean)[] = [];
  const text = (name: FilterName): RegExp | undefined => (filters[name] ? wildcardPattern(filters[name]) : undefined);
  if (filters.type) tests.push((job) => job.spec.type === filters.type);
  if (filters.state) tests.push((job) => job.status.state === filters.state);
  const repo = text('repo');
  if (repo) tests.push((job) => repo.test(job.spec.refs && hasRefs(job.spec.refs) ? `${job.spec.refs.org}/${job.spec.refs.repo}` : ''));
  const branch = text('branch');
  if (branch) tests.push((job) => branch.test(job.spec.refs?.base_ref ?? ''));
  const jobName = text('job');
  if (jobName) tests.push((job) => jobName.test(job.spec.job));
  if (filters.pull) tests.push((job) => (job.spec.refs?.pulls ?? []).some((pull) => String(pull.number) === filters.pull));
  const author = text('author');
  if (author) tests.push((job) => (job.spec.refs?.pulls ?? []).some((pull) => author.test(pull.author ?? '')));
  return (job) => tests.every((test) => test(job));
}
