import { jetstream, jetstreamManager, type JsMsg, type StreamConfig } from '@nats-io/jetstream';
import { headers as natsHeaders, nanos, type NatsConnection } from '@nats-io/transport-node';
import { Counter, type Registry } from 'prom-client';
import { BowlineError, describeError, metricOnce, type Logger } from '@bowline/observability';
import { headerRecord, readStream } from './read-stream.js';
import { DEADLETTER_STREAM, DEADLETTER_SUBJECT_PREFIX, deadLetterSubject, EVENTS_STREAM, EVENTS_SUBJECT_PREFIX } from './names.js';
import { ensureStream, sameRetention, type StreamSettings } from './streams.js';

/**
 * Dead letters: messages a consumer can never handle, copied out of its way so it moves on (no
 * poison message redelivered for ever), kept for a week where `bowline events dead-letters` lists
 * them and `--replay` sends one back. One subject per service: `bowline.deadletter.<service>`.
 */

const DAY_MS = 86_400_000;
/** Long enough for someone back from a weekend to look, as the issue asks. */
export const DEADLETTER_MAX_AGE_MS = 7 * DAY_MS;

/** Why a message was put aside: the label of `bowline_events_rejected_total`, a closed set. */
export type RejectReason = 'not_json' | 'too_deep' | 'invalid_payload' | 'handler' | 'max_deliver';

/** Headers a dead letter carries beside the original bytes. */
const H = {
  service: 'Bowline-Service',
  reason: 'Bowline-Reason',
  detail: 'Bowline-Detail',
  stream: 'Bowline-Stream',
  streamSeq: 'Bowline-Stream-Seq',
  subject: 'Bowline-Subject',
  deliveryId: 'Bowline-Delivery-Id',
  event: 'Bowline-Event',
  deliveries: 'Bowline-Deliveries',
} as const;

/** Creates or updates the DEADLETTER stream; every service calls it at start, like EVENTS. */
export async function ensureDeadLetterStream(nc: NatsConnection, settings: StreamSettings): Promise<void> {
  const config: Partial<StreamConfig> & { name: string } = {
    name: DEADLETTER_STREAM,
    subjects: [`${DEADLETTER_SUBJECT_PREFIX}.>`],
    max_age: nanos(DEADLETTER_MAX_AGE_MS),
    // A consumer that dies between the copy and the `term` copies the message again when it is
    // redelivered (at most `ack_wait` later); the copy's id drops the second one.
    duplicate_window: nanos(3_600_000),
    num_replicas: settings.replicas,
  };
  await ensureStream(nc, config, sameRetention);
}

/** The one counter of rejected messages in a registry, shared by every consumer of a process. */
export function rejectedCounter(registry: Registry): Counter {
  return metricOnce(
    registry,
    'bowline_events_rejected_total',
    (registers) =>
      new Counter({
        name: 'bowline_events_rejected_total',
        help: 'Messages a consumer can never handle, put in the dead-letter stream, by service and reason',
        labelNames: ['service', 'reason'],
        registers,
      }),
  );
}

export interface DeadLetterContext {
  deliveryId?: string;
  event?: string;
  /** Log fields that say which message it was (`prowjob` …). */
  log?: Record<string, unknown>;
}

/**
 * How a consumer rejects a message: copy it to the dead letters, count it, log it, and `term` it
 * so it is never delivered again. If the copy cannot be stored (NATS is struggling) the message is
 * left to be redelivered instead: a rejected message is never lost.
 */
export class DeadLetterSink {
  private readonly counter?: Counter;

  constructor(private readonly deps: { nc: NatsConnection; service: string; logger: Logger; registry?: Registry }) {
    this.counter = deps.registry ? rejectedCounter(deps.registry) : undefined;
  }

  /** True once the message is copied and terminated; false when it was left for redelivery. */
  async reject(message: JsMsg, reason: RejectReason, detail: string, context: DeadLetterContext = {}): Promise<boolean> {
    const { service, logger } = this.deps;
    const source = message.info.stream;
    const seq = message.seq;
    const header = natsHeaders();
    const set = (name: string, value: string | number | undefined): void => {
      if (value !== undefined && value !== '') header.set(name, oneLine(String(value)));
    };
    set(H.service, service);
    set(H.reason, reason);
    set(H.detail, detail);
    set(H.stream, source);
    set(H.streamSeq, seq);
    set(H.subject, message.subject);
    set(H.deliveryId, context.deliveryId);
    set(H.event, context.event);
    set(H.deliveries, message.info.deliveryCount);
    const fields = { deliveryId: context.deliveryId, event: context.event, ...context.log, reason, detail, stream: source, seq };
    try {
      await jetstream(this.deps.nc).publish(deadLetterSubject(service), message.data, { msgID: `${service}.${source}.${seq}`, headers: header });
    } catch (error) {
      logger.warn({ ...fields, err: error }, 'cannot store a dead letter: the message will be delivered again');
      message.nak(5000);
      return false;
    }
    // No reason text: nats-server 2.9 takes only a bare `+TERM`, and ignores one with a reason,
    // which left the message to be redelivered (the reason is in the dead letter instead).
    message.term();
    this.counter?.inc({ service, reason });
    logger.error(fields, `message rejected: copied to ${deadLetterSubject(service)}`);
    return true;
  }
}

/** Header values are one line; NATS refuses CR and LF in them. */
function oneLine(text: string): string {
  return text.replace(/[\r\n]+/g, ' ').slice(0, 1024);
}

/** A dead letter as `bowline events dead-letters` shows it. */
export interface DeadLetter {
  /** Its sequence in the DEADLETTER stream: what `--replay` takes. */
  id: number;
  time: string;
  service: string;
  reason: string;
  detail?: string;
  deliveryId?: string;
  event?: string;
  deliveries?: number;
  /** Where the message came from. */
  stream?: string;
  streamSeq?: number;
  subject?: string;
  /** The message as it was, parsed when it is JSON. */
  message: unknown;
}

/** Every dead letter, oldest first, of one service or of all. */
export async function listDeadLetters(nc: NatsConnection, options: { service?: string; since?: Date } = {}): Promise<DeadLetter[]> {
  const messages = await readStream(nc, DEADLETTER_STREAM, {
    filterSubject: options.service ? deadLetterSubject(options.service) : undefined,
    since: options.since,
  });
  return messages.map((m) => toDeadLetter(m.seq, m.time, m.subject, m.headers, m.text));
}

function toDeadLetter(seq: number, time: Date, subject: string, header: Record<string, string>, text: string): DeadLetter {
  let message: unknown = text;
  try {
    message = JSON.parse(text);
  } catch {
    // kept as the text it was: a dead letter for "not JSON" is exactly that
  }
  const number = (value: string | undefined) => (value === undefined ? undefined : Number(value));
  return {
    id: seq,
    time: time.toISOString(),
    service: header[H.service] ?? subject.slice(DEADLETTER_SUBJECT_PREFIX.length + 1),
    reason: header[H.reason] ?? 'unknown',
    detail: header[H.detail],
    deliveryId: header[H.deliveryId],
    event: header[H.event],
    deliveries: number(header[H.deliveries]),
    stream: header[H.stream],
    streamSeq: number(header[H.streamSeq]),
    subject: header[H.subject],
    message,
  };
}

export class DeadLetterError extends BowlineError {}

/**
 * Sends one dead letter back to the EVENTS stream, to the subject it came from, for every
 * consumer of EVENTS to handle again (after a fix, or once what it needed is back).
 *
 * Its `Nats-Msg-Id` is `<delivery id>.replay.<dead letter id>`, not the delivery id: EVENTS drops a
 * message id seen in the last 24 hours, so the delivery id would make the replay vanish as a
 * duplicate. The envelope inside keeps the delivery id, and the planner names ProwJobs after it
 * (and marks its comments with it), so a replay creates only what the first try did not. Replaying
 * the same dead letter twice within a day stores it once.
 */
export async function replayDeadLetter(nc: NatsConnection, id: number): Promise<{ letter: DeadLetter; subject: string; duplicate: boolean }> {
  const jsm = await jetstreamManager(nc);
  let stored;
  try {
    stored = await jsm.streams.getMessage(DEADLETTER_STREAM, { seq: id });
  } catch (error) {
    throw new DeadLetterError(`cannot read dead letter ${id}: ${describeError(error)}`, { cause: error, context: { id } });
  }
  if (!stored) throw new DeadLetterError(`there is no dead letter ${id} (they are kept ${DEADLETTER_MAX_AGE_MS / DAY_MS} days)`, { context: { id } });
  const letter = toDeadLetter(stored.seq, stored.time, stored.subject, headerRecord(stored.header), stored.string());
  if (letter.stream !== EVENTS_STREAM || !letter.subject?.startsWith(`${EVENTS_SUBJECT_PREFIX}.`)) {
    throw new DeadLetterError(
      `dead letter ${id} came from ${letter.stream ?? 'an unknown stream'}, not from ${EVENTS_STREAM}: only events can be replayed (the ${letter.service}'s is a record to read)`,
      { context: { id } },
    );
  }
  const ack = await jetstream(nc).publish(letter.subject, stored.data, { msgID: `${letter.deliveryId ?? `seq-${letter.streamSeq}`}.replay.${id}` });
  return { letter, subject: letter.subject, duplicate: ack.duplicate };
}
