import type { NatsConnection } from '@bowline/bus';
import { readHistory, readJobRuns, type HistoryRecord, type RunPage, type RunPageRequest } from '@bowline/prowjob';

/**
 * What the deck reads from the HISTORY stream: a page of one job's runs, and every record of one
 * pull request. Each is one subject filter on the server (libs/prowjob/src/history.ts), never the
 * whole stream.
 */
export interface HistorySource {
  jobRuns(job: string, request: RunPageRequest): Promise<RunPage>;
  pullRecords(repo: string, pr: number): Promise<HistoryRecord[]>;
}

export function natsHistory(nc: NatsConnection): HistorySource {
  return {
    jobRuns: (job, request) => readJobRuns(nc, job, request),
    pullRecords: (repo, pr) => readHistory(nc, { repo, pr }),
  };
}
