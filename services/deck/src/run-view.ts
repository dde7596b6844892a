import { toHistoryRecord, type HistoryRecord, type ProwJob } from '@bowline/prowjob';
import { formatDuration } from '@bowline/service';

/** One run as the history pages show it, from a record of HISTORY or from the live bucket. */
export interface RunView {
  prowjob: string;
  job: string;
  state: string;
  description: string;
  repo?: string;
  pr?: number;
  sha?: string;
  /** RFC 3339, as stored. */
  started: string;
  /** Milliseconds from start to completion; undefined while the run goes on. */
  durationMs?: number;
  duration: string;
  buildLink?: string;
  build?: string;
  /** Still in the bucket: its ProwJob and log pages exist. */
  live: boolean;
}

export function runView(record: HistoryRecord, live: boolean): RunView {
  const durationMs = record.completedAt && record.startedAt ? Math.max(0, Date.parse(record.completedAt) - Date.parse(record.startedAt)) : undefined;
  return {
    prowjob: record.prowjob,
    job: record.job,
    state: record.state,
    description: record.description ?? '',
    repo: record.repo,
    pr: record.pr,
    sha: record.sha,
    started: record.startedAt,
    durationMs,
    duration: durationMs === undefined ? '' : formatDuration(durationMs),
    buildLink: record.url,
    build: record.build,
    live,
  };
}

/** The run of a ProwJob still in the bucket: the bucket is newer than any record of it. */
export function liveRun(job: ProwJob): RunView {
  return runView(toHistoryRecord(job, 0), true);
}

/** `2026-12-03 09:40:09`: the stored UTC time, shorter. */
export function shortTime(rfc3339: string): string {
  return rfc3339.replace('T', ' ').replace(/\.\d+Z$|Z$/, '');
}
