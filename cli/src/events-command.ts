import { parseArgs } from 'node:util';
import { listDeadLetters, replayDeadLetter, type DeadLetter } from '@bowline/bus';
import type { Env } from '@bowline/observability';
import { parseSince, positiveInteger, withNats } from './jobs-command.js';
import { formatTable } from './table.js';
import { UsageError } from './usage.js';

export const EVENTS_USAGE = `  bowline events dead-letters [--service NAME] [--since 7d|DATE] [--limit N] [--json] [--nats URL]
      messages a service could never handle, newest first
  bowline events dead-letters --replay ID [--nats URL]
      publish one dead event on EVENTS again`;

export interface EventsIo {
  print(line: string): void;
  env: Env;
  now: () => Date;
}

/** `bowline events …`; returns the exit code. */
export async function runEventsCommand(args: string[], io: EventsIo): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === 'dead-letters') return deadLetters(rest, io);
  throw new UsageError(sub ? `unknown events command "${sub}"` : 'events needs a command: dead-letters');
}

async function deadLetters(args: string[], io: EventsIo): Promise<number> {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      nats: { type: 'string' },
      service: { type: 'string' },
      since: { type: 'string' },
      limit: { type: 'string' },
      json: { type: 'boolean' },
      replay: { type: 'string' },
    },
  });
  if (values.replay !== undefined) {
    const id = Number(values.replay);
    if (!Number.isInteger(id) || id <= 0) throw new UsageError(`--replay takes the ID of a dead letter (the first column), not "${values.replay}"`);
    if (values.service || values.since || values.limit || values.json) throw new UsageError('--replay takes no other option than --nats');
    const { letter, subject, duplicate } = await withNats(values.nats, io, (nc) => replayDeadLetter(nc, id));
    const what = `dead letter ${id} (${[letter.event, letter.deliveryId && `delivery ${letter.deliveryId}`].filter(Boolean).join(', ')})`;
    io.print(duplicate ? `${what} was replayed already in the last 24 hours: not sent again` : `${what} sent back to ${subject}`);
    return 0;
  }
  const since = values.since === undefined ? undefined : parseSince(values.since, io.now());
  const limit = values.limit === undefined ? 50 : values.limit === '0' ? 0 : positiveInteger('--limit', values.limit);
  const all = await withNats(values.nats, io, (nc) => listDeadLetters(nc, { service: values.service, since }));
  // Newest first, as `bowline jobs list`.
  const newestFirst = [...all].reverse();
  const shown = limit > 0 ? newestFirst.slice(0, limit) : newestFirst;
  if (values.json) {
    io.print(JSON.stringify(shown, null, 2));
    return 0;
  }
  if (all.length === 0) {
    io.print('no dead letters');
    return 0;
  }
  formatTable(['ID', 'TIME', 'SERVICE', 'REASON', 'EVENT', 'DELIVERY', 'TRIES', 'DETAIL'], shown.map(row)).forEach(io.print);
  if (shown.length < all.length) io.print(`${shown.length} of ${all.length} dead letters, newest first (--limit 0 for all)`);
  return 0;
}

function row(letter: DeadLetter): string[] {
  return [
    String(letter.id),
    letter.time.replace('T', ' ').replace(/\.\d+Z$/, 'Z'),
    letter.service,
    letter.reason,
    letter.event ?? '-',
    letter.deliveryId ?? '-',
    letter.deliveries === undefined ? '-' : String(letter.deliveries),
    truncate(letter.detail ?? '', 80),
  ];
}

function truncate(text: string, length: number): string {
  return text.length <= length ? text : `${text.slice(0, length - 1)}…`;
}
