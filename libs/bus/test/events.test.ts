import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { jetstream } from '@nats-io/jetstream';
import { createLogger } from '@bowline/observability';
import { startNats, waitFor, type NatsServer } from '@bowline/testing';
import { connectBus, type BusConnection } from '../src/connect.js';
import { ack, consumeEvents, encodeEnvelope, eventSubject, publishEvent, type EventEnvelope, type Outcome } from '../src/events.js';
import { ensureEventsStream } from '../src/streams.js';

const logger = createLogger({ service: 'test', level: 'silent' });

function envelope(id: string, event = 'issue_comment'): EventEnvelope {
  return { id, event, receivedAt: new Date().toISOString(), payload: { n: id } };
}

describe('the EVENTS stream', () => {
  let nats: NatsServer;
  let bus: BusConnection;

  beforeAll(async () => {
    nats = await startNats();
    bus = await connectBus({ servers: nats.url, name: 'test', logger });
    await ensureEventsStream(bus.nc, { replicas: 1 });
    await ensureEventsStream(bus.nc, { replicas: 1 }); // a second service starting finds it there
  });

  afterAll(async () => {
    await bus?.close();
    await nats?.stop();
  });

  it('stores a delivery once however often it is published', async () => {
    const first = await publishEvent(bus.nc, envelope('dup-1'));
    const second = await publishEvent(bus.nc, envelope('dup-1'));
    expect(first.duplicate).toBe(false);
    expect(second).toEqual({ duplicate: true, seq: first.seq });
  });

  it('hands each event to the durable consumer: acked, retried after a failure, dropped when told', async () => {
    const calls: string[] = [];
    const outcomes: Record<string, Outcome[]> = {
      'c-ack': [ack],
      'c-retry': [{ kind: 'retry', delayMs: 10, reason: 'GitHub 502' }, ack],
      'c-drop': [{ kind: 'drop', reason: 'can never succeed' }],
    };
    let thrown = false;
    const consumer = await consumeEvents({
      nc: bus.nc,
      durable: 'test-consumer',
      logger,
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
    // A message that is not JSON is terminated, never handed to the handler.
    await jetstream(bus.nc).publish(eventSubject('issue_comment'), 'not json', { msgID: 'c-bad' });
    await waitFor('the retried events', () => calls.filter((c) => c === 'c-retry').length === 2 && calls.filter((c) => c === 'c-throw').length === 2, { timeoutMs: 10_000 });
    await new Promise((resolve) => setTimeout(resolve, 200));
    await consumer.stop();
    expect(calls.filter((c) => c === 'c-ack')).toHaveLength(1);
    expect(calls.filter((c) => c === 'c-drop')).toHaveLength(1);
    expect(calls).not.toContain('c-bad');
  });
});

describe('the envelope built around a body as received', () => {
  it.each([
    ['compact JSON', '{"action":"created","n":1}'],
    ['JSON with whitespace and unicode', ' {\n  "action": "created",\n  "body": "/test all \u2713 ✓"\n}\n'],
  ])('is the envelope JSON.stringify would give, for %s', (_title, body) => {
    const meta = { id: 'd-1', event: 'issue_comment', receivedAt: '2026-01-01T00:00:00.000Z' };
    expect(JSON.parse(encodeEnvelope(meta, body))).toEqual({ ...meta, payload: JSON.parse(body) });
  });
});
