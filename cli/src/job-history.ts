import { bindProwJobBucket, IMPLICIT_TENANT, type NatsConnection } from '@bowline/bus';
import { latestRuns, ProwJobStore, readHistory, toHistoryRecord, type HistoryRecord, type ProwJob, type ProwJobState } from '@bowline/prowjob';

/** A job as `bowline jobs` shows it: its latest known state, and whether the bucket still has it. */
export interface JobRow extends HistoryRecord {
  /** False once the sinker deleted it: only the history knows it. */
  live: boolean;
}

export interface JobFilter {
  /** A job naming no tenant (made before tenants, or by a config without them) is `default`'s. */
  tenant?: string;
  repo?: string;
  pr?: number;
  job?: string;
  state?: ProwJobState;
  /** Jobs started at or after this time. */
  since?: Date;
}

/**
 * Every job the filter takes, from the live bucket and the HISTORY stream, one row per ProwJob
 * with the latest state winning (rows compare by bucket revision, which both sources carry), so
 * jobs the sinker deleted still show. Newest first.
 */
export async function readJobs(nc: NatsConnection, filter: JobFilter): Promise<JobRow[]> {
  const [live, history] = await Promise.all([
    readLive(nc),
    // The subject narrows a repository's records on the server (of both subject layouts); `since`
    // seeks by time.
    readHistory(nc, filter.repo ? { repo: filter.repo } : {}, filter.since ? { since: filter.since } : {}),
  ]);
  const rows = new Map<string, JobRow>();
  for (const record of latestRuns(history).values()) rows.set(record.prowjob, { ...record, live: false });
  for (const { job, revision } of live) rows.set(job.metadata.name, { ...toHistoryRecord(job, revision), live: true });
  return [...rows.values()]
    .filter((row) => matches(row, filter))
    .sort((a, b) => Date.parse(b.startedAt) - Date.parse(a.startedAt) || a.job.localeCompare(b.job) || a.prowjob.localeCompare(b.prowjob));
}

export interface JobDetail {
  /** The ProwJob as the bucket holds it now; undefined once deleted. */
  live?: { job: ProwJob; revision: number };
  /** Its recorded state changes, oldest first. */
  history: HistoryRecord[];
}

/** One job: the live ProwJob if the bucket has it, and its timeline from the history. */
export async function readJob(nc: NatsConnection, prowjob: string): Promise<JobDetail> {
  const kv = await bindProwJobBucket(nc);
  const [live, records] = await Promise.all([kv ? new ProwJobStore(kv).get(prowjob) : undefined, readHistory(nc, { prowjob })]);
  const history = records.sort((a, b) => a.revision - b.revision);
  return { ...(live ? { live } : {}), history };
}

async function readLive(nc: NatsConnection): Promise<{ job: ProwJob; revision: number }[]> {
  const kv = await bindProwJobBucket(nc);
  return kv ? new ProwJobStore(kv).list() : [];
}

function matches(row: JobRow, filter: JobFilter): boolean {
  if (filter.tenant !== undefined && (row.tenant ?? IMPLICIT_TENANT) !== filter.tenant) return false;
  if (filter.repo !== undefined && row.repo !== filter.repo) return false;
  if (filter.pr !== undefined && row.pr !== filter.pr) return false;
  if (filter.job !== undefined && row.job !== filter.job) return false;
  if (filter.state !== undefined && row.state !== filter.state) return false;
  if (filter.since !== undefined && Date.parse(row.startedAt) < filter.since.getTime()) return false;
  return true;
}
