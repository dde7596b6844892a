import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Registry } from 'prom-client';
import { connectBus, ensureEventsStream, MAX_PAYLOAD_DEPTH, payloadChecker, publishEncoded, type BusConnection } from '@bowline/bus';
import { createLogger } from '@bowline/observability';
import { startOpsServer, type OpsServer } from '@bowline/service';
import {
  examplePayload,
  malformedPayloadCases,
  pullRequestCommentPayload,
  pullRequestPayload,
  sendWebhook,
  signWebhook,
  startNats,
  storedEventIds,
  type NatsServer,
} from '@bowline/testing';
import { WebhookSecretBook } from '../src/secret-book.js';
import { parseSecrets } from '../src/secrets.js';
import { createWebhookHandler } from '../src/webhook-route.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- payloads are GitHub's loose JSON, spoilt in place */

const logger = createLogger({ service: 'test', level: 'silent' });
const SECRET = 'payload-secret';

const VALID: Record<string, () => Record<string, any>> = {
  issue_comment: () => pullRequestCommentPayload({ org: 'acme', repo: 'widgets', number: 7, commenter: 'alice', body: '/test all' }),
  pull_request: () => pullRequestPayload({ action: 'opened', org: 'acme', repo: 'widgets', number: 8, author: 'alice', headSha: 'c'.repeat(40) }),
  push: () => examplePayload('push'),
};

describe('POST /hook with signed payloads of the wrong shape', () => {
  let nats: NatsServer;
  let bus: BusConnection;
  let server: OpsServer;
  let url: string;
  const refused: string[] = [];
  let serial = 0;

  beforeAll(async () => {
    nats = await startNats();
    bus = await connectBus({ servers: nats.url, name: 'hook-payloads', logger });
    await ensureEventsStream(bus.nc, { replicas: 1 });
    server = await startOpsServer({
      port: 0,
      logger,
      registry: new Registry(),
      isReady: () => true,
      rawRoutes: {
        '/hook': createWebhookHandler({
          secrets: WebhookSecretBook.fixed(parseSecrets(SECRET, 'secret')),
          maxBodyBytes: 25 * 1024 * 1024,
          logger,
          registry: new Registry(),
          publish: (envelope, encoded) => publishEncoded(bus.nc, envelope, encoded),
        }),
      },
    });
    url = `http://127.0.0.1:${server.port}/hook`;
  });

  afterAll(async () => {
    await server?.close();
    await bus?.close();
    await nats?.stop();
  });

  const deliver = (event: string, payload: unknown) => {
    serial += 1;
    const deliveryId = `payload-${serial}`;
    return { deliveryId, answer: sendWebhook(url, signWebhook({ event, payload, secret: SECRET, deliveryId })) };
  };

  /** Sends a payload that must be refused; remembers its delivery id for the check that nothing was stored. */
  async function refusedAnswer(event: string, payload: unknown): Promise<{ status: number; body: string }> {
    const { deliveryId, answer } = deliver(event, payload);
    refused.push(deliveryId);
    return answer;
  }

  it.each<[string, string, (p: Record<string, any>) => unknown, string]>([
    ['comment.body: null', 'issue_comment', (p) => (p.comment.body = null), 'comment.body: expected string, got null'],
    ['repository.owner: null', 'issue_comment', (p) => (p.repository.owner = null), 'repository.owner: expected object, got null'],
    ['issue.number as a string', 'issue_comment', (p) => (p.issue.number = '7'), 'issue.number: expected integer, got string'],
    ['pull_request.head without its sha', 'pull_request', (p) => delete p.pull_request.head.sha, 'pull_request.head.sha: missing, expected string'],
    ['a push whose ref is a number', 'push', (p) => (p.ref = 7), 'ref: expected string, got integer'],
  ])('answers 400 to %s, naming the field, as issue 14 asks', async (_title, event, spoil, problem) => {
    const payload = VALID[event]!();
    spoil(payload);

    const answer = await refusedAnswer(event, payload);

    expect(answer).toEqual({ status: 400, body: `the ${event} payload is not what GitHub sends: ${problem}\n` });
  });

  it('answers 400 to an object nested 100,000 deep, without overflowing the stack', async () => {
    const payload = VALID.issue_comment!();
    const deep = `${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}`;
    const body = JSON.stringify(payload).replace(/}$/, `,"extra":${deep}}`);

    const answer = await refusedAnswer('issue_comment', body);

    expect(answer).toEqual({ status: 400, body: `the body nests deeper than ${MAX_PAYLOAD_DEPTH} levels, which GitHub never sends\n` });
  });

  describe.each(Object.keys(VALID))('a %s delivery with one field wrong, from the schema', (event) => {
    const cases = malformedPayloadCases(payloadChecker().schemas[event]!, VALID[event]!());

    it.each(cases.map((c) => [c.title, c] as const))('is answered 400 when it %s', async (_title, c) => {
      const answer = await refusedAnswer(event, c.payload);

      expect(answer).toEqual({ status: 400, body: `the ${event} payload is not what GitHub sends: ${c.problem}\n` });
    });
  });

  it('stored none of the refused deliveries, and stores a well-formed one of each event', async () => {
    const accepted = Object.entries(VALID).map(([event, make]) => deliver(event, make()));
    for (const { answer } of accepted) expect((await answer).status).toBe(202);

    const stored = await storedEventIds(bus.nc);

    expect(refused.length).toBeGreaterThan(100);
    expect(stored.filter((id) => refused.includes(id))).toEqual([]);
    expect(stored).toEqual(accepted.map((a) => a.deliveryId));
  });
});
