import { hasRefs, prowRefsOf, type ProwJob } from '@bowline/prowjob';
import { formatDuration } from '@bowline/service';

/** Where links to GitHub point when a job's refs carry none (jobs without pull requests). */
export interface LinkSettings {
  /** `DECK_GITHUB_URL`: GitHub's web address, `https://github.com` or a GitHub Enterprise host. */
  githubUrl: string;
}

/** What one row of the job list shows, with every link already chosen. */
export interface JobView {
  name: string;
  state: string;
  description: string;
  type: string;
  job: string;
  repo: string;
  repoLink?: string;
  branch: string;
  pull?: { number: number; link?: string; title: string };
  revision?: { sha: string; link?: string };
  author?: { login: string; link?: string };
  /** RFC 3339, as stored. */
  started: string;
  duration: string;
  buildLink?: string;
  rerunCommand: string;
}

/**
 * The row of a job as Prow's deck shows it: the pull request's head for a presubmit, the base
 * commit otherwise; links from the refs, as the planner stored them from GitHub, or made from
 * `githubUrl` where they are missing.
 */
export function jobView(job: ProwJob, links: LinkSettings): JobView {
  // A periodic's refs are empty: Prow's would be nil, and the row shows no repository.
  const refs = job.spec.refs && hasRefs(job.spec.refs) ? prowRefsOf(job.spec.refs) : undefined;
  const repo = refs ? `${refs.org}/${refs.repo}` : '';
  const repoLink = refs ? refs.repo_link || `${links.githubUrl}/${repo}` : undefined;
  const pull = refs?.pulls?.[0];
  const started = job.status.startTime ?? '';
  const finished = job.status.completionTime;
  return {
    name: job.metadata.name,
    state: job.status.state,
    description: job.status.description ?? '',
    type: job.spec.type,
    job: job.spec.job,
    repo,
    repoLink,
    branch: refs?.base_ref ?? '',
    pull: pull && { number: pull.number, link: pull.link || `${repoLink}/pull/${pull.number}`, title: pull.title ?? '' },
    revision: pull
      ? { sha: pull.sha, link: pull.commit_link || `${repoLink}/pull/${pull.number}/commits/${pull.sha}` }
      : refs?.base_sha
        ? { sha: refs.base_sha, link: refs.base_link || `${repoLink}/commit/${refs.base_sha}` }
        : undefined,
    author: pull?.author ? { login: pull.author, link: pull.author_link || `${links.githubUrl}/${pull.author}` } : undefined,
    started,
    // As Prow's deck: a duration once the job has finished, nothing while it runs.
    duration: finished && started ? formatDuration(Date.parse(finished) - Date.parse(started)) : '',
    buildLink: job.status.url,
    rerunCommand: job.spec.rerun_command ?? '',
  };
}
