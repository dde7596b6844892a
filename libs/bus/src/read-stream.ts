import { DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type MsgHdrs, type NatsConnection } from '@nats-io/transport-node';
import { BowlineError, describeError } from '@bowline/observability';
import { isStreamNotFound } from './nats-errors.js';

/** One message read back from a stream. */
export interface StreamMessage {
  subject: string;
  seq: number;
  /** When the stream stored it. */
  time: Date;
  /** Its NATS headers, by name (empty when it has none). */
  headers: Record<string, string>;
  text: string;
}

/**
 * Every message of `stream` on `filterSubject` (default: all), from `since` on (default: the
 * start), in stream order; an empty list when the stream does not exist. For tools reading
 * history (`bowline jobs`): an ordered consumer, so the server filters by subject and seeks to the
 * start time instead of sending everything, and nothing durable is left behind.
 */
export async function readStream(nc: NatsConnection, stream: string, options: { filterSubject?: string; since?: Date } = {}): Promise<StreamMessage[]> {
  try {
    await (await jetstreamManager(nc)).streams.info(stream);
  } catch (error) {
    if (isStreamNotFound(error)) return [];
    throw new BowlineError(`cannot read stream ${stream}: ${describeError(error)}`, { cause: error, context: { stream } });
  }
  const consumer = await jetstream(nc).consumers.get(stream, {
    // A single subject, which the client sends as `filter_subject`: Debian's nats-server is 2.9,
    // which does not know the list form `filter_subjects`.
    ...(options.filterSubject ? { filter_subjects: options.filterSubject } : {}),
    ...(options.since ? { opt_start_time: options.since.toISOString() } : { deliver_policy: DeliverPolicy.All }),
  });
  const pending = (await consumer.info(true)).num_pending;
  const read: StreamMessage[] = [];
  try {
    // Batches until everything pending at the start is read. An empty batch (the rest expired
    // meanwhile) ends it too, rather than waiting for messages that will not come.
    while (read.length < pending) {
      const batch = await consumer.fetch({ max_messages: Math.min(pending - read.length, 1000), expires: 2000 });
      let received = 0;
      let caughtUp = false;
      for await (const message of batch) {
        received += 1;
        read.push({ subject: message.subject, seq: message.seq, time: message.time, headers: headerRecord(message.headers), text: message.string() });
        caughtUp = message.info.pending === 0;
      }
      if (received === 0 || caughtUp) break;
    }
  } finally {
    await consumer.delete().catch(() => undefined);
  }
  return read;
}

/**
 * A connection for a command-line tool: one try, a short timeout, and an error that says where
 * it tried, where a service would wait for NATS forever (connectBus).
 */
export async function connectOnce(servers: string, options: { name: string; timeoutMs?: number }): Promise<NatsConnection> {
  try {
    return await connect({
      servers: servers.split(',').map((s) => s.trim()),
      name: options.name,
      timeout: options.timeoutMs ?? 3000,
      maxReconnectAttempts: 0,
      reconnect: false,
    });
  } catch (error) {
    throw new BowlineError(`cannot connect to NATS at ${servers}: ${describeError(error)} (set --nats or NATS_URL)`, { cause: error, context: { servers } });
  }
}

/** A message's headers as a plain record, the first value of each. */
export function headerRecord(header: MsgHdrs | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!header) return out;
  for (const key of header.keys()) out[key] = header.get(key);
  return out;
}
