import { HISTORY_STREAM, HISTORY_SUBJECT_PREFIX, lastMessageOn, readStream, readStreamRange, streamBounds, type NatsConnection, type StreamMessage } from '@bowline/bus';
import { BowlineError } from '@bowline/observability';
import { historyFilter, historySubject, legacyHistoryFilter, type HistoryFilter, type HistoryRecord } from './history.js';

export class HistoryReadError extends BowlineError {}

/**
 * Every record the filter names, in stream order, from `since` on. The subject filter narrows on
 * the server; the records' own fields are compared again, since subject tokens lose characters.
 * One run's records are also looked for in the layout before pull requests and jobs were in the
 * subject, so `bowline jobs show` finds runs recorded before it.
 */
export async function readHistory(nc: NatsConnection, filter: HistoryFilter, options: { since?: Date } = {}): Promise<HistoryRecord[]> {
  const subjects = [historyFilter(HISTORY_SUBJECT_PREFIX, filter)];
  if (filter.prowjob) subjects.push(legacyHistoryFilter(HISTORY_SUBJECT_PREFIX, filter.prowjob));
  const reads = await Promise.all(subjects.map((filterSubject) => readStream(nc, HISTORY_STREAM, { filterSubject, ...(options.since ? { since: options.since } : {}) })));
  return reads
    .flat()
    .sort((a, b) => a.seq - b.seq)
    .map(parseRecord)
    .filter((record) => matchesFilter(record, filter));
}

/** The latest record of each run (the highest bucket revision wins), by ProwJob name. */
export function latestRuns(records: Iterable<HistoryRecord>): Map<string, HistoryRecord> {
  const runs = new Map<string, HistoryRecord>();
  for (const record of records) {
    const current = runs.get(record.prowjob);
    if (!current || current.revision < record.revision) runs.set(record.prowjob, record);
  }
  return runs;
}

/** One run on a page of a job's history: its latest record and where that sits in the stream. */
export interface HistoryRun {
  record: HistoryRecord;
  /** The stream sequence of the run's latest record: the position pages are cut at. */
  seq: number;
}

export interface RunPage {
  /** Newest first (by the latest record's position). */
  runs: HistoryRun[];
  /** `before` of the next older page, when there is one. */
  older?: number;
  /** `after` of the next newer page, when there is one. */
  newer?: number;
}

export interface RunPageRequest {
  /** Runs whose latest record is before this stream sequence (the older link). */
  before?: number;
  /** Runs whose latest record is after this stream sequence (the newer link). */
  after?: number;
  /** Runs on a page. */
  limit: number;
  /** Stream sequences read at once at first; doubled while a page is short. */
  window?: number;
}

/**
 * A page of one job's runs from the HISTORY stream, newest first, in the manner of Prow's
 * job-history (`?buildId=` older and newer links) but cut at stream positions: a run belongs where
 * its latest record is, so every run is on exactly one page however its states were interleaved
 * with other runs'. It reads only the job's subject (`*.*.*.<job>.*`), a window of the stream at a
 * time starting at the cursor, and the latest record of each run it meets (one direct get on the
 * run's own subject): a page costs about what it shows, at any size of stream.
 */
export async function readJobRuns(nc: NatsConnection, job: string, request: RunPageRequest): Promise<RunPage> {
  const bounds = await streamBounds(nc, HISTORY_STREAM);
  if (!bounds) return { runs: [] };
  const filterSubject = historyFilter(HISTORY_SUBJECT_PREFIX, { job });
  const reader = new RunReader(nc, job);
  let step = request.window ?? 4096;
  if (request.after !== undefined) {
    // Forward from the cursor: the runs whose latest records come first after it.
    let from = request.after + 1;
    while (from <= bounds.last) {
      const to = Math.min(bounds.last + 1, from + step);
      await reader.take(await readStreamRange(nc, HISTORY_STREAM, { filterSubject, fromSeq: from, toSeq: to }));
      from = to;
      // Every run whose latest record is before `from` has been met by now.
      if (reader.within(request.after, from).length > request.limit) break;
      step *= 2;
    }
    const runs = reader.within(request.after, from).sort((a, b) => a.seq - b.seq);
    const page = runs.slice(0, request.limit).reverse();
    return {
      runs: page,
      ...(runs.length > request.limit ? { newer: page[0]!.seq } : {}),
      ...(page.length > 0 ? { older: page[page.length - 1]!.seq } : {}),
    };
  }
  const before = Math.min(request.before ?? Infinity, bounds.last + 1);
  let to = before;
  while (to > bounds.first && reader.within(0, before).length <= request.limit) {
    const from = Math.max(bounds.first, to - step);
    await reader.take(await readStreamRange(nc, HISTORY_STREAM, { filterSubject, fromSeq: from, toSeq: to }));
    to = from;
    step *= 2;
  }
  const runs = reader.within(0, before).sort((a, b) => b.seq - a.seq);
  const page = runs.slice(0, request.limit);
  // A newer page exists when the job's newest record (some run's latest) comes after this page's.
  const newest = page.length > 0 && request.before !== undefined ? (await lastMessageOn(nc, HISTORY_STREAM, filterSubject))?.seq : undefined;
  return {
    runs: page,
    ...(runs.length > request.limit ? { older: page[page.length - 1]!.seq } : {}),
    ...(newest !== undefined && newest > page[0]!.seq ? { newer: page[0]!.seq } : {}),
  };
}

/** The runs met while reading a job's records, each with its latest record looked up once. */
class RunReader {
  private readonly runs = new Map<string, HistoryRun>();

  constructor(
    private readonly nc: NatsConnection,
    private readonly job: string,
  ) {}

  async take(messages: StreamMessage[]): Promise<void> {
    const met = new Map<string, HistoryRecord>();
    for (const message of messages) {
      const record = parseRecord(message);
      if (record.job === this.job && !this.runs.has(record.prowjob)) met.set(record.prowjob, record);
    }
    await Promise.all(
      [...met.values()].map(async (record) => {
        const last = await lastMessageOn(this.nc, HISTORY_STREAM, historySubject(HISTORY_SUBJECT_PREFIX, record));
        if (last) this.runs.set(record.prowjob, { record: parseRecord(last), seq: last.seq });
      }),
    );
  }

  /** The runs whose latest record lies after `after` and before `before`. */
  within(after: number, before: number): HistoryRun[] {
    return [...this.runs.values()].filter((run) => run.seq > after && run.seq < before);
  }
}

function parseRecord(message: StreamMessage): HistoryRecord {
  try {
    return JSON.parse(message.text) as HistoryRecord;
  } catch (error) {
    throw new HistoryReadError(`history record ${message.seq} on ${message.subject} is not JSON`, { cause: error, context: { seq: message.seq } });
  }
}

function matchesFilter(record: HistoryRecord, filter: HistoryFilter): boolean {
  if (filter.repo !== undefined && record.repo !== filter.repo) return false;
  if (filter.pr !== undefined && record.pr !== filter.pr) return false;
  if (filter.job !== undefined && record.job !== filter.job) return false;
  if (filter.prowjob !== undefined && record.prowjob !== filter.prowjob) return false;
  return true;
}
