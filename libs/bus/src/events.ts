import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, type Consumer, type ConsumerMessages, type JetStreamClient, type JsMsg } from '@nats-io/jetstream';
import { nanos, type NatsConnection } from '@nats-io/transport-node';
import type { Registry } from 'prom-client';
import { describeError, type Logger } from '@bowline/observability';
import { DeadLetterSink } from './dead-letters.js';
import { MAX_PAYLOAD_DEPTH, nestsDeeperThan, payloadChecker, type PayloadChecker } from './payloads.js';
import { EVENTS_STREAM, eventsFilter, eventSubject, IMPLICIT_TENANT, parseEventSubject } from './names.js';
import { isConsumerNotFound } from './nats-errors.js';
import { retryStartup } from './startup-retry.js';

/** What the hook publishes for each accepted webhook, on `bowline.events.<tenant>.github.<event>`. */
export interface EventEnvelope<P = Record<string, unknown>> {
  id: string;
  event: string;
  /** The tenant owning the event's repository; absent in events stored before tenants (the implicit tenant's). */
  tenant?: string;
  receivedAt: string;
  payload: P;
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
  const head = JSON.stringify({
    id: envelope.id,
    event: envelope.event,
    ...(envelope.tenant === undefined ? {} : { tenant: envelope.tenant }),
    receivedAt: envelope.receivedAt,
  });
  return `${head.slice(0, -1)},"payload":${payloadJson}}`;
}

export async function publishEncoded(
  nc: NatsConnection,
  envelope: Pick<EventEnvelope<unknown>, 'id' | 'event' | 'tenant'>,
  data: string,
  options: { timeoutMs?: number } = {},
): Promise<{ duplicate: boolean; seq: number }> {
  const ack = await jetStreamOf(nc).publish(eventSubject(envelope.tenant ?? IMPLICIT_TENANT, envelope.event), data, {
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
  /** The service, naming its dead-letter subject and metric label; defaults to `durable`. */
  service?: string;
  logger: Logger;
  /** Where `bowline_events_rejected_total` is counted. */
  registry?: Registry;
  /** How many messages are handled at once. */
  concurrency?: number;
  /** Deliveries of an event that keeps failing before it is put aside as a dead letter. */
  maxDeliver?: number;
  /** How long a delivery may go unacknowledged before NATS gives it to another replica. */
  ackWaitMs?: number;
  /** What a payload must look like to be handled; defaults to the hook's (the fields Bowline reads). */
  checker?: PayloadChecker;
  /** Only this tenant's events (`BOWLINE_TENANTS`; name the durable with `tenantConsumer`); default every event. */
  tenant?: string;
  /**
   * A durable consumer whose acknowledged position a newly created one starts from, rather than
   * from the stream's first event: a planner of one tenant taking over from the all-tenant
   * `planner` does not plan a week of events again.
   */
  startFrom?: string;
  handle: (envelope: EventEnvelope, message: JsMsg) => Promise<Outcome>;
}

export interface EventConsumer {
  stop(): Promise<void>;
}

export const DEFAULT_MAX_DELIVER = 20;

/**
 * Deliveries JetStream allows past `maxDeliver`. The consumer counts deliveries itself and puts an
 * event aside on its last allowed try, but a try can end without a word (the process killed, the
 * handler past `ack_wait`): the next delivery, over the count, is then put aside unhandled. A few
 * more cover a dead-letter copy that could not be stored. JetStream's own limit, reached silently,
 * would leave the event unhandled and unrecorded (its MAX_DELIVERIES advisory is plain NATS, lost
 * when nobody listens at that moment), so the consumer never relies on it.
 */
const DEAD_LETTER_HEADROOM = 5;

/**
 * A durable, explicitly acknowledged consumer of EVENTS. An event it can never handle (not JSON,
 * nested too deep, a payload without the fields Bowline reads, or one the handler refuses) is put
 * aside at once as a dead letter: copied to `bowline.deadletter.<service>`, counted, logged, and
 * terminated. A handler that throws is retried with backoff, up to `maxDeliver` deliveries, and
 * then put aside the same way: no event is redelivered for ever, none is lost.
 */
export async function consumeEvents(options: EventConsumerOptions): Promise<EventConsumer> {
  const { nc, durable, logger } = options;
  const service = options.service ?? durable;
  const maxDeliver = options.maxDeliver ?? DEFAULT_MAX_DELIVER;
  const ackWaitMs = options.ackWaitMs ?? 60_000;
  const checker = options.checker ?? payloadChecker();
  const deadLetters = new DeadLetterSink({ nc, service, logger, registry: options.registry });
  const config = {
    durable_name: durable,
    ack_policy: AckPolicy.Explicit,
    // No deliver_policy: it is set when the consumer is made (startingPoint) and cannot change.
    ack_wait: nanos(ackWaitMs),
    max_deliver: maxDeliver + DEAD_LETTER_HEADROOM,
    // One filter, not `filter_subjects`: Debian's nats-server is 2.9, which has only the former;
    // a service of several tenants runs one consumer per tenant.
    filter_subject: eventsFilter(options.tenant),
  };
  const consumer = await retryStartup(`create consumer ${durable} on stream ${EVENTS_STREAM}`, async () => {
    const jsm = await jetstreamManager(nc);
    try {
      await jsm.consumers.info(EVENTS_STREAM, durable);
      await jsm.consumers.update(EVENTS_STREAM, durable, config);
    } catch (error) {
      if (!isConsumerNotFound(error)) throw error;
      await jsm.consumers.add(EVENTS_STREAM, { ...config, ...(await startingPoint(jsm, options.startFrom)) });
    }
    return jetstream(nc).consumers.get(EVENTS_STREAM, durable);
  });
  const concurrency = options.concurrency ?? 8;
  const inFlight = new Set<Promise<void>>();

  const settle = async (message: JsMsg): Promise<void> => {
    const attempt = message.info.deliveryCount;
    // Checked on the bytes before parsing, as at the hook: an event stored by anything else than
    // the hook (a replay, an older hook) gets the same checks.
    if (nestsDeeperThan(message.data, MAX_PAYLOAD_DEPTH)) {
      await deadLetters.reject(message, 'too_deep', `nested deeper than ${MAX_PAYLOAD_DEPTH} levels`, { event: eventOf(message.subject) });
      return;
    }
    let envelope: EventEnvelope;
    try {
      envelope = message.json<EventEnvelope>();
    } catch {
      await deadLetters.reject(message, 'not_json', 'the message is not JSON', { event: eventOf(message.subject) });
      return;
    }
    const problem = envelopeProblem(envelope) ?? checker.check(envelope.event, envelope.payload);
    if (problem) {
      await deadLetters.reject(message, 'invalid_payload', problem, envelopeIds(envelope));
      return;
    }
    if (attempt > maxDeliver) {
      const detail = `delivered ${attempt} times; the last tries did not finish (the process stopped, or the handler ran past ack_wait)`;
      await deadLetters.reject(message, 'max_deliver', detail, envelopeIds(envelope));
      return;
    }
    const log = logger.child({ deliveryId: envelope.id, event: envelope.event });
    // A handler waiting out GitHub's rate limit can take minutes: NATS is told it is still at
    // work, so the wait is not mistaken for a lost delivery and counted against maxDeliver.
    const heartbeat = setInterval(() => {
      try {
        message.working();
      } catch {
        // The connection is gone: the delivery will be redelivered anyway.
      }
    }, Math.max(1000, ackWaitMs / 3));
    heartbeat.unref();
    let outcome: Outcome;
    try {
      outcome = await options.handle(envelope, message);
    } catch (error) {
      outcome = { kind: 'retry', delayMs: backoffMs(attempt), reason: describeError(error) };
    } finally {
      clearInterval(heartbeat);
    }
    if (outcome.kind === 'ack') {
      message.ack();
    } else if (outcome.kind === 'retry' && attempt < maxDeliver) {
      log.warn({ attempt, delayMs: outcome.delayMs, reason: outcome.reason }, 'event will be retried');
      message.nak(outcome.delayMs);
    } else if (outcome.kind === 'retry') {
      await deadLetters.reject(message, 'max_deliver', `failed ${attempt} times; the last time: ${outcome.reason}`, envelopeIds(envelope));
    } else {
      await deadLetters.reject(message, 'handler', outcome.reason, envelopeIds(envelope));
    }
  };

  let stopping = false;
  let messages: ConsumerMessages | undefined;
  const loop = (async () => {
    // A closed connection ends it too: a caller that closed NATS without stop() leaves no loop behind.
    while (!stopping && !nc.isClosed()) {
      try {
        messages = await pullMessages(consumer, concurrency, logger.child({ consumer: durable }));
      } catch (error) {
        // The consumer's leader is being elected (or NATS is away): pull again in a moment.
        logger.debug({ err: error, consumer: durable }, 'cannot pull events yet: trying again');
        await new Promise((resolve) => setTimeout(resolve, PULL_HEARTBEAT_MS).unref());
        continue;
      }
      if (stopping) await messages.close();
      for await (const message of messages) {
        const task = settle(message)
          .catch((error: unknown) => logger.error({ seq: message.seq, err: error }, 'cannot settle an event: it will be delivered again'))
          .finally(() => inFlight.delete(task));
        inFlight.add(task);
        if (inFlight.size >= concurrency) await Promise.race(inFlight);
      }
    }
  })();

  return {
    stop: async () => {
      stopping = true;
      await messages?.close();
      await loop.catch(() => undefined);
      await Promise.allSettled(inFlight);
    },
  };
}

/**
 * How long one pull request waits at the server, and how often the server says it is still there
 * while none come. nats.js defaults to 30 s and 15 s: a pull request lives only on the consumer's
 * leader, so when that server dies the replica heard nothing for up to 30 s (issue 15: planners
 * stalled 20–30 s after a failover). nats.js reports heartbeats missed after two intervals (1 s to
 * 1.5 s here), and the consumer then pulls anew; a new consumer leader is elected within a few
 * seconds, so events flow again in under 5 s. nats.js takes no interval under 500 ms. A pull
 * dropped on a false alarm (a stalled event loop) loses nothing: the server drops a pull request
 * whose inbox has no subscriber left, rather than sending messages there.
 */
export const PULL_EXPIRES_MS = 2000;
export const PULL_HEARTBEAT_MS = 500;

/**
 * A pull on the consumer that ends (so the caller pulls again) when heartbeats stop, rather than
 * waiting for nats.js to look for the consumer after a whole expiry.
 */
async function pullMessages(consumer: Consumer, concurrency: number, logger: Logger): Promise<ConsumerMessages> {
  const messages = await consumer.consume({ max_messages: concurrency, expires: PULL_EXPIRES_MS, idle_heartbeat: PULL_HEARTBEAT_MS });
  void (async () => {
    for await (const status of messages.status()) {
      if (status.type === 'heartbeats_missed') {
        logger.info({ missed: status.count }, 'no heartbeat from the consumer’s server (its leader changed?): pulling again');
        messages.stop();
        return;
      }
    }
  })().catch(() => undefined);
  return messages;
}

/** `bowline.events.payments.github.push` → `push`. */
function eventOf(subject: string): string | undefined {
  return parseEventSubject(subject)?.event ?? subject.split('.').at(-1);
}

/** Just past what `durable` acknowledged, when that consumer exists; else the stream's start. */
async function startingPoint(jsm: Awaited<ReturnType<typeof jetstreamManager>>, durable: string | undefined): Promise<{ deliver_policy: DeliverPolicy; opt_start_seq?: number }> {
  if (durable === undefined) return { deliver_policy: DeliverPolicy.All };
  try {
    const info = await jsm.consumers.info(EVENTS_STREAM, durable);
    return { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: info.ack_floor.stream_seq + 1 };
  } catch (error) {
    if (isConsumerNotFound(error)) return { deliver_policy: DeliverPolicy.All };
    throw error;
  }
}

/** What is wrong with the envelope itself (the hook always writes all of it), if anything. */
function envelopeProblem(envelope: unknown): string | undefined {
  const e = envelope as Partial<EventEnvelope<unknown>> | null;
  if (typeof e !== 'object' || e === null || Array.isArray(e)) return '(envelope): expected object';
  if (typeof e.id !== 'string' || e.id === '') return 'id: expected a delivery id';
  if (typeof e.event !== 'string' || e.event === '') return 'event: expected an event name';
  if (typeof e.payload !== 'object' || e.payload === null || Array.isArray(e.payload)) return 'payload: expected object';
  return undefined;
}

function envelopeIds(envelope: Partial<EventEnvelope<unknown>> | null): { deliveryId?: string; event?: string } {
  return {
    deliveryId: typeof envelope?.id === 'string' ? envelope.id : undefined,
    event: typeof envelope?.event === 'string' ? envelope.event : undefined,
  };
}

/** 1s, 2s, 4s … capped at a minute: a GitHub or NATS hiccup passes, a long outage does not spin. */
export function backoffMs(attempt: number): number {
  return Math.min(60_000, 1000 * 2 ** Math.max(0, attempt - 1));
}
