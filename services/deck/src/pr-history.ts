import { hasRefs, latestRuns, toHistoryRecord, type HistoryRecord, type ProwJob } from '@bowline/prowjob';
import { runView, type RunView } from './run-view.js';

/** What `/pr/<org>/<repo>/<number>` shows, as Prow's pr-history builds it. */
export interface PullHistory {
  repo: string;
  pr: number;
  /** The pull request's head commit: that of its newest run. */
  head?: string;
  /** The newest run of each job on the head commit, by job name. */
  onHead: RunView[];
  /** Commits newest first (by their newest run), as the grid's columns. */
  commits: string[];
  /** Job names, sorted, as the grid's rows. */
  jobs: string[];
  /** The grid: job → commit → runs, newest first. */
  grid: Map<string, Map<string, RunView[]>>;
}

/**
 * Every run of a pull request, one per ProwJob: the live bucket's (newest, and runs the sinker has
 * not recorded yet) over HISTORY's (runs the sinker deleted), the latest record of each.
 */
export function pullHistory(repo: string, pr: number, records: readonly HistoryRecord[], live: readonly ProwJob[]): PullHistory {
  const runs = new Map<string, RunView>();
  for (const record of latestRuns(records).values()) runs.set(record.prowjob, runView(record, false));
  for (const job of live) if (isOnPull(job, repo, pr)) runs.set(job.metadata.name, runView(toHistoryRecord(job, 0), true));
  const all = [...runs.values()].sort((a, b) => b.started.localeCompare(a.started) || a.job.localeCompare(b.job));
  const head = all.find((run) => run.sha)?.sha;
  const onHead = new Map<string, RunView>();
  for (const run of all) if (run.sha === head && !onHead.has(run.job)) onHead.set(run.job, run);

  const grid = new Map<string, Map<string, RunView[]>>();
  const commits: string[] = [];
  for (const run of all) {
    const sha = run.sha ?? '';
    if (!commits.includes(sha)) commits.push(sha);
    const byCommit = grid.get(run.job) ?? new Map<string, RunView[]>();
    grid.set(run.job, byCommit);
    byCommit.set(sha, [...(byCommit.get(sha) ?? []), run]);
  }
  return { repo, pr, head, onHead: [...onHead.values()].sort((a, b) => a.job.localeCompare(b.job)), commits, jobs: [...grid.keys()].sort(), grid };
}

function isOnPull(job: ProwJob, repo: string, pr: number): boolean {
  const refs = job.spec.refs;
  return !!refs && hasRefs(refs) && `${refs.org}/${refs.repo}` === repo && (refs.pulls ?? []).some((pull) => pull.number === pr);
}
