import { DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { BowlineError, describeError } from '@bowline/observability';
import { isStreamNotFound } from './nats-errors.js';
import { headerRecord, type StreamMessage } from './read-stream.js';

/** The sequence numbers a stream holds now, or undefined when it does not exist or is empty. */
export async function streamBounds(nc: NatsConnection, stream: string): Promise<{ first: number; last: number } | undefined> {
  try {
    const { state } = await (await jetstreamManager(nc)).streams.info(stream);
    return state.messages > 0 ? { first: state.first_seq, last: state.last_seq } : undefined;
  } catch (error) {
    if (isStreamNotFound(error)) return undefined;
    throw new BowlineError(`cannot read stream ${stream}: ${describeError(error)}`, { cause: error, context: { stream } });
  }
}

/**
 * The messages on `filterSubject` with sequence numbers from `fromSeq` up to (not including)
 * `toSeq`, in stream order: a page of a stream, where readStream reads to its end. The server
 * filters (one subject, `filter_subject`, as nats-server 2.9 takes it) and starts at `fromSeq`, so
 * a page costs what it holds, not the stream's size.
 */
export async function readStreamRange(
  nc: NatsConnection,
  stream: string,
  options: { filterSubject: string; fromSeq: number; toSeq: number; batch?: number },
): Promise<StreamMessage[]> {
  const read: StreamMessage[] = [];
  if (options.toSeq <= options.fromSeq) return read;
  // The last message on the filter marks where the reading ends when the range reaches past it.
  // The consumer's pending count cannot: nats-server 2.9 overcounts it under wildcard filters, and
  // a fetch waiting for messages that will not come waits out its expiry.
  const last = (await lastMessageOn(nc, stream, options.filterSubject))?.seq;
  if (last === undefined || last < options.fromSeq) return read;
  const consumer = await jetstream(nc).consumers.get(stream, {
    filter_subjects: options.filterSubject,
    deliver_policy: DeliverPolicy.StartSequence,
    opt_start_seq: Math.max(1, options.fromSeq),
  });
  try {
    for (let done = false; !done; ) {
      const batch = await consumer.fetch({ max_messages: options.batch ?? 256, expires: 2000 });
      let received = 0;
      for await (const message of batch) {
        received += 1;
        if (message.seq >= options.toSeq) {
          done = true;
          break;
        }
        read.push({ subject: message.subject, seq: message.seq, time: message.time, headers: headerRecord(message.headers), text: message.string() });
        if (message.seq >= last) {
          done = true;
          break;
        }
      }
      // Nothing came: the rest expired from the stream meanwhile.
      if (received === 0) done = true;
    }
  } finally {
    await consumer.delete().catch(() => undefined);
  }
  return read;
}

/** The newest message on one subject, or undefined when it has none (or the stream is missing). */
export async function lastMessageOn(nc: NatsConnection, stream: string, subject: string): Promise<StreamMessage | undefined> {
  try {
    const stored = await (await jetstreamManager(nc)).streams.getMessage(stream, { last_by_subj: subject });
    if (!stored) return undefined;
    return { subject: stored.subject, seq: stored.seq, time: stored.time, headers: headerRecord(stored.header), text: stored.string() };
  } catch (error) {
    if (isStreamNotFound(error)) return undefined;
    throw new BowlineError(`cannot read the last message on ${subject} in stream ${stream}: ${describeError(error)}`, { cause: error, context: { stream } });
  }
}
