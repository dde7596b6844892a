import { parseArgs } from 'node:util';
import { connectOnce, type NatsConnection } from '@bowline/bus';
import { BowlineError, describeError } from '@bowline/observability';
import { FINAL_STATES, toHistoryRecord, type HistoryRecord, type ProwJobState } from '@bowline/prowjob';
import { formatDuration, parseDuration, type Env } from '@bowline/service';
import { readJob, readJobs, type JobFilter } from './job-history.js';
import { formatTable } from './table.js';
import { UsageError } from './usage.js';

export const JOBS_USAGE = `  bowline jobs list [--repo ORG/REPO] [--pr N] [--job NAME] [--state STATE] [--tenant NAME] [--since 7d|DATE] [--limit N] [--json] [--nats URL]
      ProwJobs, live and from the history, newest first; --tenant: one tenant's (default: a job naming none)
  bowline jobs show PROWJOB [--json] [--nats URL]
      one ProwJob and its timeline
  bowline jobs logs PROWJOB [--operator-url URL]
      its build log, through the jenkins-operator`;

export interface JobsIo {
  /** One line of output. */
  print(line: string): void;
  /** Raw output, for a log streamed as it comes. */
  write(chunk: string): void;
  env: Env;
  now: () => Date;
}

const STATES: readonly ProwJobState[] = ['triggered', 'pending', ...FINAL_STATES];

/** `bowline jobs …`; returns the exit code. */
export async function runJobsCommand(args: string[], io: JobsIo): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === 'list') return list(rest, io);
  if (sub === 'show') return show(rest, io);
  if (sub === 'logs') return logs(rest, io);
  throw new UsageError(sub ? `unknown jobs command "${sub}"` : 'jobs needs a command: list, show or logs');
}

const natsOption = { nats: { type: 'string' } } as const;

async function list(args: string[], io: JobsIo): Promise<number> {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      ...natsOption,
      tenant: { type: 'string' },
      repo: { type: 'string' },
      pr: { type: 'string' },
      job: { type: 'string' },
      state: { type: 'string' },
      since: { type: 'string' },
      limit: { type: 'string' },
      json: { type: 'boolean' },
    },
  });
  const filter: JobFilter = {};
  if (values.repo !== undefined) {
    if (!/^[^/\s]+\/[^/\s]+$/.test(values.repo)) throw new UsageError(`--repo must look like org/repo, not "${values.repo}"`);
    filter.repo = values.repo;
  }
  if (values.tenant !== undefined) {
    if (!/^[a-z0-9-]+$/.test(values.tenant)) throw new UsageError(`--tenant takes a tenant name (lower-case letters, digits and -), not "${values.tenant}"`);
    filter.tenant = values.tenant;
  }
  if (values.pr !== undefined) filter.pr = positiveInteger('--pr', values.pr);
  if (values.job !== undefined) filter.job = values.job;
  if (values.state !== undefined) {
    if (!STATES.includes(values.state as ProwJobState)) throw new UsageError(`--state must be one of ${STATES.join(', ')}`);
    filter.state = values.state as ProwJobState;
  }
  if (values.since !== undefined) filter.since = parseSince(values.since, io.now());
  const limit = values.limit === undefined ? 50 : values.limit === '0' ? 0 : positiveInteger('--limit', values.limit);

  const rows = await withNats(values.nats, io, (nc) => readJobs(nc, filter));
  const shown = limit > 0 ? rows.slice(0, limit) : rows;
  if (values.json) {
    io.print(JSON.stringify(shown, null, 2));
    return 0;
  }
  if (rows.length === 0) {
    io.print('no jobs');
    return 0;
  }
  formatTable(
    ['NAME', 'JOB', 'TYPE', 'REPO', 'PR', 'STATE', 'STARTED', 'DURATION', 'BUILD'],
    shown.map((row) => [
      row.prowjob,
      row.job,
      row.type,
      row.repo ?? '-',
      row.pr === undefined ? '-' : String(row.pr),
      row.live ? row.state : `${row.state}*`,
      formatTime(row.startedAt),
      durationOf(row, io.now()),
      row.build ? `#${row.build}` : '-',
    ]),
  ).forEach(io.print);
  if (shown.some((row) => !row.live)) io.print('* deleted from the bucket by the sinker: from the history');
  if (shown.length < rows.length) io.print(`${shown.length} of ${rows.length} jobs, newest first (--limit 0 for all)`);
  return 0;
}

async function show(args: string[], io: JobsIo): Promise<number> {
  const { values, positionals } = parseArgs({ args, strict: true, allowPositionals: true, options: { ...natsOption, json: { type: 'boolean' } } });
  const name = onePositional(positionals, 'show');
  const detail = await withNats(values.nats, io, (nc) => readJob(nc, name));
  if (!detail.live && detail.history.length === 0) {
    io.print(`bowline: no ProwJob named ${name} in the bucket or the history`);
    return 1;
  }
  if (values.json) {
    io.print(JSON.stringify({ prowjob: detail.live?.job ?? null, history: detail.history }, null, 2));
    return 0;
  }
  // One shape whichever source it came from: the live ProwJob read as a record, or the last record.
  const latest = detail.live ? toHistoryRecord(detail.live.job, detail.live.revision) : detail.history[detail.history.length - 1]!;
  const fields: [string, string | undefined][] = [
    ['prowjob', latest.prowjob],
    ['job', `${latest.job} (${latest.type})`],
    ['tenant', latest.tenant],
    ['repo', latest.repo && [latest.repo, latest.baseRef && `branch ${latest.baseRef}`].filter(Boolean).join(', ')],
    ['pull request', latest.pr === undefined ? undefined : `#${latest.pr}${latest.author ? ` by ${latest.author}` : ''}`],
    ['commit', latest.sha],
    ['context', latest.context],
    ['triggered by', [latest.trigger, latest.triggeredBy && `(${latest.triggeredBy})`].filter(Boolean).join(' ')],
    ['state', [latest.state, latest.description].filter(Boolean).join(': ')],
    ['build', latest.build && `#${latest.build}`],
    ['url', latest.url],
    ['started', formatTime(latest.startedAt)],
    ['duration', durationOf(latest, io.now())],
    ['in the bucket', detail.live ? `yes (revision ${detail.live.revision})` : 'no: deleted by the sinker, shown from the history'],
  ];
  formatTable(
    [],
    fields.filter((f): f is [string, string] => Boolean(f[1])),
  ).forEach(io.print);
  io.print('');
  io.print('history:');
  if (detail.history.length === 0) io.print('  (nothing recorded yet)');
  else formatTable(['  TIME', 'STATE', 'DESCRIPTION'], detail.history.map((r) => [`  ${formatTime(changedAt(r))}`, r.state, r.description ?? ''])).forEach(io.print);
  return 0;
}

async function logs(args: string[], io: JobsIo): Promise<number> {
  const { values, positionals } = parseArgs({ args, strict: true, allowPositionals: true, options: { 'operator-url': { type: 'string' } } });
  const name = onePositional(positionals, 'logs');
  const base = (values['operator-url'] ?? io.env.BOWLINE_OPERATOR_URL ?? 'http://127.0.0.1:8082').replace(/\/+$/, '');
  const url = `${base}/logs/${encodeURIComponent(name)}`;
  let response: Response;
  try {
    response = await fetch(url);
  } catch (error) {
    // fetch says only "fetch failed"; the reason (ECONNREFUSED…) is its cause.
    const reason = describeError((error as { cause?: unknown }).cause ?? error);
    throw new BowlineError(`cannot reach the jenkins-operator at ${base}: ${reason} (set --operator-url or BOWLINE_OPERATOR_URL)`, { cause: error });
  }
  if (!response.ok) {
    const text = (await response.text()).trim();
    io.print(`bowline: no log for ${name}: ${response.status} ${text}`);
    return 1;
  }
  const decoder = new TextDecoder();
  for await (const chunk of response.body ?? []) io.write(decoder.decode(chunk as Uint8Array, { stream: true }));
  const tail = decoder.decode();
  if (tail) io.write(tail);
  return 0;
}

/** Runs `read` on a connection to `--nats`, `NATS_URL` or the default, closed afterwards. */
export async function withNats<T>(flag: string | undefined, io: Pick<JobsIo, 'env'>, read: (nc: NatsConnection) => Promise<T>): Promise<T> {
  const servers = flag ?? io.env.NATS_URL ?? 'nats://127.0.0.1:4222';
  const nc = await connectOnce(servers, { name: 'bowline-cli' });
  try {
    return await read(nc);
  } finally {
    await nc.close();
  }
}

/** `7d`, `36h`, `90m` back from now, or a date (`2024-06-01`, `2024-06-01T12:00:00Z`). */
export function parseSince(text: string, now: Date): Date {
  const days = /^(\d+)d$/.exec(text);
  if (days) return new Date(now.getTime() - Number(days[1]) * 86_400_000);
  if (/^[\d.]+(ns|us|µs|ms|s|m|h)/.test(text)) {
    try {
      return new Date(now.getTime() - parseDuration(text));
    } catch {
      // not a duration: try it as a date
    }
  }
  const date = /^\d{4}-\d{2}-\d{2}/.test(text) ? new Date(text) : new Date(NaN);
  if (Number.isNaN(date.getTime())) throw new UsageError(`--since takes a duration such as 7d or 36h, or a date such as 2024-06-01, not "${text}"`);
  return date;
}

export function positiveInteger(flag: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`${flag} must be a positive whole number, not "${text}"`);
  return n;
}

function onePositional(positionals: string[], command: string): string {
  if (positionals.length !== 1) throw new UsageError(`jobs ${command} needs one ProwJob name`);
  return positionals[0]!;
}

/** When a record's state began. */
function changedAt(record: HistoryRecord): string {
  if (record.completedAt && FINAL_STATES.includes(record.state)) return record.completedAt;
  if (record.state === 'pending' && record.pendingAt) return record.pendingAt;
  return record.startedAt;
}

/** UTC, to the second: one reading for everyone looking at one job. */
function formatTime(iso: string): string {
  return iso.replace('T', ' ').replace(/\.\d+Z$|Z$/, 'Z');
}

function durationOf(record: Pick<HistoryRecord, 'startedAt' | 'completedAt'>, now: Date): string {
  const end = record.completedAt ? Date.parse(record.completedAt) : now.getTime();
  const text = formatDuration(Math.max(0, end - Date.parse(record.startedAt)));
  return record.completedAt ? text : `${text}+`;
}
