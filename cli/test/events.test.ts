import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { jetstream } from '@nats-io/jetstream';
import { Registry } from 'prom-client';
import { ack, connectBus, consumeEvents, ensureDeadLetterStream, ensureEventsStream, eventSubject, PLANNER_CONSUMER, publishEvent, type BusConnection, type EventConsumer, type EventEnvelope } from '@bowline/bus';
import { createLogger } from '@bowline/observability';
import { pullRequestCommentPayload, startNats, storedEventIds, waitFor, type NatsServer } from '@bowline/testing';
import { runCli } from '../src/cli.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- payloads are GitHub's loose JSON, spoilt in place */

const logger = createLogger({ service: 'test', level: 'silent' });
const NOW = new Date();

function comment(id: string, spoil?: (payload: Record<string, any>) => void): EventEnvelope {
  const payload = pullRequestCommentPayload({ org: 'acme', repo: 'widgets', number: 7, commenter: 'alice', body: '/test all' });
  spoil?.(payload);
  return { id, event: 'issue_comment', receivedAt: NOW.toISOString(), payload };
}

describe('bowline events dead-letters', () => {
  let nats: NatsServer;
  let bus: BusConnection;
  let consumer: EventConsumer;
  const handled: string[] = [];

  beforeAll(async () => {
    nats = await startNats();
    bus = await connectBus({ servers: nats.url, name: 'cli-test', logger });
    await ensureEventsStream(bus.nc, { replicas: 1 });
    await ensureDeadLetterStream(bus.nc, { replicas: 1 });
    // A planner that refuses one event, meets a malformed one and a message that is not JSON.
    consumer = await consumeEvents({
      nc: bus.nc,
      durable: PLANNER_CONSUMER,
      service: 'planner',
      logger,
      registry: new Registry(),
      handle: async (e) => {
        handled.push(e.id);
        return e.id === 'refused-once' && handled.filter((id) => id === e.id).length === 1 ? { kind: 'drop', reason: 'the GitHub App is not installed on acme' } : ack;
      },
    });
    await publishEvent(bus.nc, comment('refused-once'));
    await publishEvent(bus.nc, comment('number-as-text', (p) => (p.issue.number = '7')));
    await jetstream(bus.nc).publish(eventSubject('default', 'issue_comment'), '{"id": "truncated"', { msgID: 'garbled' });
    await waitFor('three dead letters', async () => (await bowline('events', 'dead-letters', '--json')).out.includes('"id": 3'));
  });

  afterAll(async () => {
    await consumer?.stop();
    await bus?.close();
    await nats?.stop();
  });

  async function bowline(...argv: string[]): Promise<{ code: number; out: string; lines: string[] }> {
    let out = '';
    const code = await runCli(argv, (line) => (out += `${line}\n`), { env: { NATS_URL: nats.url }, now: () => new Date() });
    return { code, out, lines: out.trimEnd().split('\n') };
  }

  it('lists them newest first in a table: id, time, service, reason, event, delivery, tries, detail', async () => {
    const { code, lines } = await bowline('events', 'dead-letters');

    expect(code).toBe(0);
    expect(lines[0]).toMatch(/^ID +TIME +SERVICE +REASON +EVENT +DELIVERY +TRIES +DETAIL$/);
    const rows = lines.slice(1).map((l) => l.split(/\s{2,}/));
    expect(rows.map((r) => [r[0], r[2], r[3], r[4], r[5], r[6], r[7]])).toEqual([
      ['3', 'planner', 'not_json', 'issue_comment', '-', '1', 'the message is not JSON'],
      ['2', 'planner', 'invalid_payload', 'issue_comment', 'number-as-text', '1', 'issue.number: expected integer, got string'],
      ['1', 'planner', 'handler', 'issue_comment', 'refused-once', '1', 'the GitHub App is not installed on acme'],
    ]);
    expect(rows[0]![1]).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}Z$/);
  });

  it('prints JSON for scripts, with the message as it was', async () => {
    const { code, out } = await bowline('events', 'dead-letters', '--json', '--limit', '2');

    expect(code).toBe(0);
    const letters = JSON.parse(out) as Record<string, any>[];
    expect(letters.map((l) => l.id)).toEqual([3, 2]);
    expect(letters[0]).toMatchObject({ service: 'planner', reason: 'not_json', stream: 'EVENTS', subject: 'bowline.events.default.github.issue_comment', message: '{"id": "truncated"' });
    expect(letters[1]!.message).toMatchObject({ id: 'number-as-text', event: 'issue_comment', payload: { issue: { number: '7' } } });
  });

  it('filters by service and says so when there are none', async () => {
    expect((await bowline('events', 'dead-letters', '--service', 'sinker')).lines).toEqual(['no dead letters']);
    expect((await bowline('events', 'dead-letters', '--service', 'planner')).lines).toHaveLength(4);
  });

  it('shows the newest up to --limit and says how many there are', async () => {
    const { lines } = await bowline('events', 'dead-letters', '--limit', '1');

    expect(lines).toHaveLength(3);
    expect(lines.at(-1)).toBe('1 of 3 dead letters, newest first (--limit 0 for all)');
  });

  it('sends one back with --replay ID, which the planner then handles, and only once however often it is asked', async () => {
    const before = await storedEventIds(bus.nc);

    const first = await bowline('events', 'dead-letters', '--replay', '1');
    const second = await bowline('events', 'dead-letters', '--replay', '1');

    expect(first).toMatchObject({ code: 0, lines: ['dead letter 1 (issue_comment, delivery refused-once) sent back to bowline.events.default.github.issue_comment'] });
    expect(second).toMatchObject({ code: 0, lines: ['dead letter 1 (issue_comment, delivery refused-once) was replayed already in the last 24 hours: not sent again'] });
    await waitFor('the planner to handle it again', () => handled.filter((id) => id === 'refused-once').length === 2);
    expect((await storedEventIds(bus.nc)).slice(before.length)).toEqual(['refused-once.replay.1']);
  });

  it.each([
    [['--replay', '99'], 1, 'bowline: there is no dead letter 99 (they are kept 7 days)'],
    [['--replay', 'abc'], 2, 'bowline: --replay takes the ID of a dead letter (the first column), not "abc"'],
    [['--replay', '1', '--json'], 2, 'bowline: --replay takes no other option than --nats'],
    [['--limit', '1.5'], 2, 'bowline: --limit must be a positive whole number, not "1.5"'],
  ])('refuses %j with exit %d and a line saying why', async (flags, code, message) => {
    const answer = await bowline('events', 'dead-letters', ...(flags as string[]));

    expect(answer.code).toBe(code);
    expect(answer.lines[0]).toBe(message);
  });
});
