import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, type JetStreamClient, type JsMsg } from '@nats-io/jetstream';
import { nanos, type NatsConnection } from '@nats-io/transport-node';
import { describeError, type Logger } from '@bowline/observability';
import { EVENTS_STREAM, EVENTS_SUBJECT_PREFIX } from './streams.js';

/** What the hook publishes for each accepted webhook, on `bowline.events.github.<event>`. */
export interface EventEnvelope<P = Record<string, unknown>> {
  id: string;
  event: string;
  receivedAt: string;
  payload: P;
}

export function eventSubject(event: string): string {
  return `${EVENTS_SUBJECT_PREFIX}.github.${event}`;
}

/**
 * Publishes an envelope and resolves only when JetStream has stored it. The delivery id is the
 * message id, so a delivery sent twice inside the duplicate window is stored once.
 */
export async function publishEvent(
  nc: NatsConnection,
  envelope: EventEnvelope<unknown>,
  options: { timeoutMs?: number } = {},
): Promise<{ duplicate: boolean; seq: number }> {
  return publishEncoded(nc, envelope, JSON.stringify(envelope), options);
}

/**
 * The envelope around a payload that is already JSON text (the webhook body as received), without
 * re-serialising it: JSON equal to JSON.stringify of the envelope with the parsed payload, for the
 * cost of a string concatenation instead of a walk over a payload of kilobytes.
 */
export function encodeEnvelope(envelope: Omit<EventEnvelope<unknown>, 'payload'>, payloadJson: string): string {
  const head = JSON.stringify({ id: envelope.id, event: envelope.event, receivedAt: envelope.receivedAt });
  return `${head.slice(0, -1)},"payload":${payloadJson}}`;
}

export async function publishEncoded(
  nc: NatsConnection,
  envelope: Pick<EventEnvelope<unknown>, 'id' | 'event'>,
  data: string,
  options: { timeoutMs?: number } = {},
): Promise<{ duplicate: boolean; seq: number }> {
  const ack = await jetStreamOf(nc).publish(eventSubject(envelope.event), data, {
    msgID: envelope.id,
    timeout: options.timeoutMs ?? 5000,
  });
  return { duplicate: ack.duplicate, seq: ack.seq };
}

const clients = new WeakMap<NatsConnection, JetStreamClient>();

/** One JetStream client per connection, not one per publish. */
function jetStreamOf(nc: NatsConnection): JetStreamClient {
  let client = clients.get(nc);
  if (!client) {
    client = jetstream(nc);
    clients.set(nc, client);
  }
  return client;
}

/** What a handler tells the consumer to do with a message. */
export type Outcome = { kind: 'ack' } | { kind: 'retry'; delayMs: number; reason: string } | { kind: 'drop'; reason: string };

export const ack: Outcome = { kind: 'ack' };

export interface EventConsumerOptions {
  nc: NatsConnection;
  /** Durable consumer name, one per service. */
  durable: string;
  logger: Logger;
  /** How many messages are handled at once. */
  concurrency?: number;
  handle: (envelope: EventEnvelope, message: JsMsg) => Promise<Outcome>;
}

export interface EventConsumer {
  stop(): Promise<void>;
}

/**
 * A durable, explicitly acknowledged consumer of EVENTS. A handler that throws is retried after
 * a delay (NATS redelivers); JSON that cannot be parsed is terminated, since it never will parse.
 */
export async function consumeEvents(options: EventConsumerOptions): Promise<EventConsumer> {
  const { nc, durable, logger } = options;
  const jsm = await jetstreamManager(nc);
  const config = {
    durable_name: durable,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ack_wait: nanos(60_000),
    max_deliver: 20,
    // One filter, not `filter_subjects`: Debian's nats-server is 2.9, which has only the former.
    filter_subject: `${EVENTS_SUBJECT_PREFIX}.github.>`,
  };
  try {
    await jsm.consumers.info(EVENTS_STREAM, durable);
    await jsm.consumers.update(EVENTS_STREAM, durable, config);
  } catch (error) {
    if (!/not found/i.test(describeError(error))) throw error;
    await jsm.consumers.add(EVENTS_STREAM, config);
  }
  const consumer = await jetstream(nc).consumers.get(EVENTS_STREAM, durable);
  const concurrency = options.concurrency ?? 8;
  const messages = await consumer.consume({ max_messages: concurrency });
  const inFlight = new Set<Promise<void>>();

  const settle = async (message: JsMsg): Promise<void> => {
    let envelope: EventEnvelope;
    try {
      envelope = message.json<EventEnvelope>();
    } catch (error) {
      logger.error({ seq: message.seq, err: error }, 'event is not JSON: dropped');
      message.term('not JSON');
      return;
    }
    const log = logger.child({ deliveryId: envelope.id, event: envelope.event });
    let outcome: Outcome;
    try {
      outcome = await options.handle(envelope, message);
    } catch (error) {
      outcome = { kind: 'retry', delayMs: backoffMs(message.info.deliveryCount), reason: describeError(error) };
    }
    if (outcome.kind === 'ack') {
      message.ack();
    } else if (outcome.kind === 'retry') {
      log.warn({ attempt: message.info.deliveryCount, delayMs: outcome.delayMs, reason: outcome.reason }, 'event will be retried');
      message.nak(outcome.delayMs);
    } else {
      log.error({ reason: outcome.reason }, 'event dropped');
      message.term(outcome.reason);
    }
  };

  const loop = (async () => {
    for await (const message of messages) {
      const task = settle(message).finally(() => inFlight.delete(task));
      inFlight.add(task);
      if (inFlight.size >= concurrency) await Promise.race(inFlight);
    }
  })();

  return {
    stop: async () => {
      await messages.close();
      await loop.catch(() => undefined);
      await Promise.allSettled(inFlight);
    },
  };
}

/** 1s, 2s, 4s … capped at a minute: a GitHub or NATS hiccup passes, a long outage does not spin. */
export function backoffMs(attempt: number): number {
  return Math.min(60_000, 1000 * 2 ** Math.max(0, attempt - 1));
}
