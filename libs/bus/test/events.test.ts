import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { jetstream } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { Registry } from 'prom-client';
import { createLogger } from '@bowline/observability';
import { pullRequestCommentPayload, startNats, waitFor, type NatsServer } from '@bowline/testing';
import { connectBus, type BusConnection } from '../src/connect.js';
import { ensureDeadLetterStream, listDeadLetters, replayDeadLetter, type DeadLetter } from '../src/dead-letters.js';
import { ack, consumeEvents, encodeEnvelope, publishEvent, type EventEnvelope, type Outcome } from '../src/events.js';
import { DEADLETTER_STREAM, deadLetterSubject, eventSubject, parseEventSubject, tenantConsumer } from '../src/names.js';
import { readStream } from '../src/read-stream.js';
import { ensureEventsStream } from '../src/streams.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- payloads are GitHub's loose JSON, spoilt in place */

const logger = createLogger({ service: 'test', level: 'silent' });

/** A well-formed issue_comment event, so the consumer's payload check lets it through to the handler. */
function envelope(id: string, spoil?: (payload: Record<string, any>) => void): EventEnvelope {
  const payload = pullRequestCommentPayload({ org: 'acme', repo: 'widgets', number: 7, commenter: 'alice', body: `/test ${id}` });
  spoil?.(payload);
  return { id, event: 'issue_comment', receivedAt: new Date().toISOString(), payload };
}

describe('the EVENTS stream', () => {
  let nats: NatsServer;
  let bus: BusConnection;

  // A server of its own for each test: a new durable consumer starts at the beginning of EVENTS,
  // and must not meet the events of the tests before it.
  beforeEach(async () => {
    nats = await startNats();
    bus = await connectBus({ servers: nats.url, name: 'test', logger });
    await ensureEventsStream(bus.nc, { replicas: 1 });
    await ensureEventsStream(bus.nc, { replicas: 1 }); // a second service starting finds it there
    await ensureDeadLetterStream(bus.nc, { replicas: 1 });
  });

  afterEach(async () => {
    await bus?.close();
    await nats?.stop();
  });

  const rejected = async (registry: Registry) =>
    Object.fromEntries((await registry.getSingleMetric('bowline_events_rejected_total')!.get()).values.map((v) => [`${v.labels.service}/${v.labels.reason}`, v.value]));

  it('stores a delivery once however often it is published', async () => {
    const first = await publishEvent(bus.nc, envelope('dup-1'));
    const second = await publishEvent(bus.nc, envelope('dup-1'));
    expect(first.duplicate).toBe(false);
    expect(second).toEqual({ duplicate: true, seq: first.seq });
  });

  it('hands each event to the durable consumer: acked, retried after a failure, put aside when it can never succeed', async () => {
    const calls: string[] = [];
    const outcomes: Record<string, Outcome[]> = {
      'c-ack': [ack],
      'c-retry': [{ kind: 'retry', delayMs: 10, reason: 'GitHub 502' }, ack],
      'c-drop': [{ kind: 'drop', reason: 'can never succeed' }],
    };
    let thrown = false;
    const registry = new Registry();
    const consumer = await consumeEvents({
      nc: bus.nc,
      durable: 'test-consumer',
      service: 'tester',
      logger,
      registry,
      handle: async (e) => {
        calls.push(e.id);
        if (e.id === 'c-throw' && !thrown) {
          thrown = true;
          throw new Error('passing failure');
        }
        return outcomes[e.id]?.shift() ?? ack;
      },
    });
    for (const id of ['c-ack', 'c-retry', 'c-drop', 'c-throw']) await publishEvent(bus.nc, envelope(id));
    // Never handed to the handler: not JSON, nested 100,000 deep, and a payload of the wrong shape.
    const js = jetstream(bus.nc);
    await js.publish(eventSubject('default', 'issue_comment'), 'not json', { msgID: 'c-bad' });
    await js.publish(eventSubject('default', 'issue_comment'), `${'['.repeat(100_000)}${']'.repeat(100_000)}`, { msgID: 'c-deep' });
    await publishEvent(bus.nc, envelope('c-null-body', (p) => (p.comment.body = null)));
    await waitFor('the retried events', () => calls.filter((c) => c === 'c-retry').length === 2 && calls.filter((c) => c === 'c-throw').length === 2, { timeoutMs: 10_000 });
    const letters = await waitFor('four dead letters', async () => {
      const all = await listDeadLetters(bus.nc, { service: 'tester' });
      return all.length >= 4 && all;
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    await consumer.stop();

    expect(calls.filter((c) => c === 'c-ack')).toHaveLength(1);
    expect(calls.filter((c) => c === 'c-drop')).toHaveLength(1);
    expect(calls).not.toContain('c-bad');
    expect(calls).not.toContain('c-null-body');
    const summary = (l: DeadLetter) => [l.reason, l.deliveryId ?? '-', l.detail];
    expect(letters.map(summary).sort()).toEqual(
      [
        ['handler', 'c-drop', 'can never succeed'],
        ['not_json', '-', 'the message is not JSON'],
        ['too_deep', '-', 'nested deeper than 32 levels'],
        ['invalid_payload', 'c-null-body', 'comment.body: expected string, got null'],
      ].sort(),
    );
    expect(letters.every((l) => l.service === 'tester' && l.stream === 'EVENTS' && l.subject === eventSubject('default', 'issue_comment'))).toBe(true);
    expect(letters.find((l) => l.reason === 'not_json')!.message).toBe('not json');
    expect(new Set((await readStream(bus.nc, DEADLETTER_STREAM)).map((m) => m.subject))).toEqual(new Set([deadLetterSubject('tester')]));
    expect(await rejected(registry)).toEqual({ 'tester/handler': 1, 'tester/not_json': 1, 'tester/too_deep': 1, 'tester/invalid_payload': 1 });
    // Terminated, not redelivered: the dead letters are still four.
    expect(await listDeadLetters(bus.nc, { service: 'tester' })).toHaveLength(4);
  });

  it('puts an event aside after maxDeliver failed tries, with the last failure', async () => {
    const registry = new Registry();
    let tries = 0;
    const consumer = await consumeEvents({
      nc: bus.nc,
      durable: 'failing-consumer',
      service: 'failing',
      logger,
      registry,
      maxDeliver: 3,
      handle: async (e) => {
        if (e.id !== 'always-fails') return ack;
        tries += 1;
        return { kind: 'retry', delayMs: 10, reason: `GitHub 502 on try ${tries}` };
      },
    });
    await publishEvent(bus.nc, envelope('always-fails'));

    const [letter] = await waitFor('the dead letter', async () => {
      const all = await listDeadLetters(bus.nc, { service: 'failing' });
      return all.length > 0 && all;
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    await consumer.stop();

    expect(tries).toBe(3);
    expect(letter).toMatchObject({ reason: 'max_deliver', deliveryId: 'always-fails', event: 'issue_comment', deliveries: 3, detail: 'failed 3 times; the last time: GitHub 502 on try 3' });
    expect(await rejected(registry)).toEqual({ 'failing/max_deliver': 1 });
  });

  it('puts aside, unhandled, an event whose last allowed try ended with the process', async () => {
    const durable = 'crashing-consumer';
    const doomed = await connect({ servers: nats.url });
    let received = 0;
    // The first replica takes the event on its only allowed try and dies with it in hand.
    await consumeEvents({ nc: doomed, durable, service: 'crashing', logger, maxDeliver: 1, ackWaitMs: 1000, handle: () => new Promise<Outcome>(() => void (received += 1)) });
    await publishEvent(bus.nc, envelope('dies-in-hand'));
    await waitFor('the first replica to take it', () => received === 1);
    await doomed.close();

    const handled: string[] = [];
    const survivor = await consumeEvents({
      nc: bus.nc,
      durable,
      service: 'crashing',
      logger,
      maxDeliver: 1,
      ackWaitMs: 1000,
      handle: async (e) => {
        handled.push(e.id);
        return ack;
      },
    });
    const [letter] = await waitFor('the dead letter', async () => {
      const all = await listDeadLetters(bus.nc, { service: 'crashing' });
      return all.length > 0 && all;
    });
    await survivor.stop();

    expect(handled).toEqual([]);
    expect(letter).toMatchObject({ reason: 'max_deliver', deliveryId: 'dies-in-hand', deliveries: 2 });
  });

  it('replays a dead letter to EVENTS under a new message id, so the 24-hour duplicate window does not drop it, and only once', async () => {
    const seen: EventEnvelope[] = [];
    let refuse = true;
    const consumer = await consumeEvents({
      nc: bus.nc,
      durable: 'replayed-consumer',
      service: 'replayer',
      logger,
      handle: async (e) => {
        if (e.id !== 'to-replay') return ack;
        seen.push(e);
        return refuse ? { kind: 'drop', reason: 'GitHub App not installed yet' } : ack;
      },
    });
    const original = envelope('to-replay');
    await publishEvent(bus.nc, original);
    const [letter] = await waitFor('the dead letter', async () => {
      const all = await listDeadLetters(bus.nc, { service: 'replayer' });
      return all.length > 0 && all;
    });
    refuse = false;

    const first = await replayDeadLetter(bus.nc, letter!.id);
    const again = await replayDeadLetter(bus.nc, letter!.id);
    await waitFor('the replay handled', () => seen.length === 2);
    await new Promise((resolve) => setTimeout(resolve, 300));
    await consumer.stop();

    expect(first).toMatchObject({ subject: eventSubject('default', 'issue_comment'), duplicate: false });
    expect(again.duplicate).toBe(true);
    // The same envelope, delivery id included: the planner's ProwJob names come from it.
    expect(seen.map((e) => e.id)).toEqual(['to-replay', 'to-replay']);
    expect(seen[1]!.payload).toEqual(original.payload);
    expect(await listDeadLetters(bus.nc, { service: 'replayer' })).toHaveLength(1);
  });
});

describe('parseEventSubject', () => {
  it.each([
    ["a tenant's event", 'bowline.events.payments.github.pull_request', { tenant: 'payments', event: 'pull_request' }],
    ['an event stored before tenants, as the implicit tenant’s', 'bowline.events.github.push', { tenant: 'default', event: 'push' }],
    ['another stream’s subject', 'bowline.history.acme.widgets.x', undefined],
  ])('reads %s', (_case, subject, expected) => {
    expect(parseEventSubject(subject)).toEqual(expected);
  });
});

describe('event subjects by tenant', () => {
  let nats: NatsServer;
  let bus: BusConnection;

  beforeEach(async () => {
    nats = await startNats();
    bus = await connectBus({ servers: nats.url, name: 'test', logger });
    await ensureEventsStream(bus.nc, { replicas: 1 });
    await ensureDeadLetterStream(bus.nc, { replicas: 1 });
  });

  afterEach(async () => {
    await bus?.close();
    await nats?.stop();
  });

  const tenantEnvelope = (id: string, tenant?: string): EventEnvelope => ({ ...envelope(id), ...(tenant ? { tenant } : {}) });

  /** The ids a consumer is handed until `last` arrives. */
  async function consumed(options: { durable: string; tenant?: string; startFrom?: string }, last: string): Promise<string[]> {
    const seen: string[] = [];
    const consumer = await consumeEvents({ nc: bus.nc, service: 'tester', logger, ...options, handle: async (e) => (seen.push(e.id), ack) });
    await waitFor(`${options.durable} handed ${last}`, () => seen.includes(last));
    await consumer.stop();
    return seen;
  }

  it("publishes under the envelope's tenant, and an envelope without one under the implicit tenant", async () => {
    const js = jetstream(bus.nc);
    await publishEvent(bus.nc, tenantEnvelope('pay-1', 'payments'));
    await publishEvent(bus.nc, tenantEnvelope('plain-1'));
    const subjects: string[] = [];
    for (const seq of [1, 2]) subjects.push((await (await js.streams.get('EVENTS')).getMessage({ seq }))!.subject);
    expect(subjects).toEqual(['bowline.events.payments.github.issue_comment', 'bowline.events.default.github.issue_comment']);
  });

  it("hands a tenant's consumer its tenant's events only, and the all-tenant consumer every event, those stored before tenants included", async () => {
    await publishEvent(bus.nc, tenantEnvelope('pay-1', 'payments'));
    await publishEvent(bus.nc, tenantEnvelope('search-1', 'search'));
    // What a hook of the version before tenants stored, and an upgrade leaves in the stream.
    await jetstream(bus.nc).publish('bowline.events.github.issue_comment', JSON.stringify(envelope('old-1')), { msgID: 'old-1' });
    await publishEvent(bus.nc, tenantEnvelope('pay-2', 'payments'));

    expect(await consumed({ durable: tenantConsumer('planner', 'payments'), tenant: 'payments' }, 'pay-2')).toEqual(['pay-1', 'pay-2']);
    expect(await consumed({ durable: tenantConsumer('planner', 'search'), tenant: 'search' }, 'search-1')).toEqual(['search-1']);
    expect(await consumed({ durable: tenantConsumer('planner') }, 'pay-2')).toEqual(['pay-1', 'search-1', 'old-1', 'pay-2']);
  });

  it("starts a new tenant's consumer after what the all-tenant consumer acknowledged, not at the stream's start", async () => {
    await publishEvent(bus.nc, tenantEnvelope('pay-1', 'payments'));
    expect(await consumed({ durable: 'planner' }, 'pay-1')).toEqual(['pay-1']);
    await publishEvent(bus.nc, tenantEnvelope('pay-2', 'payments'));

    expect(await consumed({ durable: 'planner-payments', tenant: 'payments', startFrom: 'planner' }, 'pay-2')).toEqual(['pay-2']);
    // Without a consumer to start from (a new installation), from the start.
    expect(await consumed({ durable: 'planner-other', tenant: 'payments', startFrom: 'nobody' }, 'pay-2')).toEqual(['pay-1', 'pay-2']);
  });
});

describe('the envelope built around a body as received', () => {
  it.each([
    ['compact JSON', '{"action":"created","n":1}'],
    ['JSON with whitespace and unicode', ' {\n  "action": "created",\n  "body": "/test all \u2713 ✓"\n}\n'],
  ])('is the envelope JSON.stringify would give, for %s', (_title, body) => {
    const meta = { id: 'd-1', event: 'issue_comment', receivedAt: '2024-01-01T00:00:00.000Z' };
    expect(JSON.parse(encodeEnvelope(meta, body))).toEqual({ ...meta, payload: JSON.parse(body) });
    expect(JSON.parse(encodeEnvelope({ ...meta, tenant: 'payments' }, body))).toEqual({ ...meta, tenant: 'payments', payload: JSON.parse(body) });
  });
});
