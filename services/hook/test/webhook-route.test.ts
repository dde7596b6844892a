import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { Registry } from 'prom-client';
import { connectBus, ensureEventsStream, EVENTS_STREAM, publishEncoded, publishEvent, type BusConnection, type EventEnvelope } from '@bowline/bus';
import { createLogger } from '@bowline/observability';
import { examplePayload, pullRequestCommentPayload, pullRequestPayload, sendWebhook, signBody, signWebhook, startNats, type NatsServer } from '@bowline/testing';
import { startOpsServer } from '@bowline/service';
import { verifySignature } from '../src/signature.js';
import { WebhookSecretBook } from '../src/secret-book.js';
import { parseSecrets } from '../src/secrets.js';
import { createWebhookHandler, type WebhookRouteOptions } from '../src/webhook-route.js';

const logger = createLogger({ service: 'test', level: 'silent' });
const SECRET = 'current-secret';
const OLD_SECRET = 'previous-secret';
const MAX_BODY_BYTES = 64 * 1024;
const RECEIVED_AT = new Date('2024-05-06T07:08:09.000Z');

interface Hook {
  url: string;
  registry: Registry;
  /** Every envelope handed to `publish`, whatever publish then did with it. */
  published: EventEnvelope<unknown>[];
  close(): Promise<void>;
}

/** The hook's route on the service's HTTP server, on a free port, as main.ts mounts it. */
async function startHook(publish: WebhookRouteOptions['publish'], secretFile = `${SECRET}\n${OLD_SECRET}\n`): Promise<Hook> {
  const registry = new Registry();
  const published: EventEnvelope<unknown>[] = [];
  const server = await startOpsServer({
    port: 0,
    logger,
    registry,
    isReady: () => true,
    rawRoutes: {
      '/hook': createWebhookHandler({
        secrets: WebhookSecretBook.fixed(parseSecrets(secretFile, 'secret')),
        maxBodyBytes: MAX_BODY_BYTES,
        logger,
        registry,
        now: () => RECEIVED_AT,
        publish: (envelope, encoded) => {
          published.push(envelope);
          return publish(envelope, encoded);
        },
      }),
    },
  });
  return { url: `http://127.0.0.1:${server.port}/hook`, registry, published, close: () => server.close() };
}

const comment = (body = '/test all') => pullRequestCommentPayload({ org: 'acme', repo: 'widgets', number: 7, commenter: 'alice', body });

describe('verifySignature', () => {
  // https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries#testing-the-webhook-payload-validation
  const body = Buffer.from('Hello, World!');
  const secret = "It's a Secret to Everybody";
  const documented = 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17';

  it.each<[string, string | undefined, readonly string[], boolean]>([
    ["accepts GitHub's documented example", documented, [secret], true],
    ['accepts the documented signature when the secret is second in a rotation', documented, ['new-secret', secret], true],
    ['accepts the documented signature when the secret is first in a rotation', documented, [secret, 'new-secret'], true],
    ['accepts upper-case hex and surrounding spaces', `  ${documented.toUpperCase().replace('SHA256', 'sha256')}  `, [secret], true],
    ['refuses a missing header', undefined, [secret], false],
    ['refuses an empty header', '', [secret], false],
    ['refuses the right digest under the SHA-1 prefix', documented.replace('sha256=', 'sha1='), [secret], false],
    ['refuses a digest without a prefix', documented.slice('sha256='.length), [secret], false],
    ['refuses a digest one hex digit short', documented.slice(0, -1), [secret], false],
    ['refuses a digest one hex digit long', `${documented}0`, [secret], false],
    ['refuses a digest with a non-hex character', `${documented.slice(0, -1)}g`, [secret], false],
    ['refuses a digest with one digit changed', `${documented.slice(0, -1)}6`, [secret], false],
    ['refuses the right header under another secret', documented, ['not the secret'], false],
    ['refuses everything when no secret is configured', documented, [], false],
  ])('%s', (_title, header, secrets, expected) => {
    expect(verifySignature(body, header, secrets)).toBe(expected);
  });

  it('refuses the documented signature over a body that differs by one byte', () => {
    expect(verifySignature(Buffer.from('Hello, World?'), documented, [secret])).toBe(false);
  });
});

describe('POST /hook with a real nats-server behind it', () => {
  let nats: NatsServer;
  let bus: BusConnection;
  let jsm: JetStreamManager;
  let hook: Hook;

  beforeAll(async () => {
    nats = await startNats();
    bus = await connectBus({ servers: nats.url, name: 'hook-test', logger });
    await ensureEventsStream(bus.nc, { replicas: 1 });
    jsm = await jetstreamManager(bus.nc);
    // The hook's own path: the envelope built around the body as received.
    hook = await startHook((envelope, encoded) => publishEncoded(bus.nc, envelope, encoded));
  });

  afterAll(async () => {
    await hook?.close();
    await bus?.close();
    await nats?.stop();
  });

  /** Every message in EVENTS, read back by sequence: subject, message id and the decoded envelope. */
  async function storedEvents(): Promise<Array<{ subject: string; msgId: string | undefined; envelope: EventEnvelope<unknown> }>> {
    const { state } = await jsm.streams.info(EVENTS_STREAM);
    const out = [];
    for (let seq = state.first_seq; seq <= state.last_seq && state.messages > 0; seq += 1) {
      const message = await jsm.streams.getMessage(EVENTS_STREAM, { seq });
      if (!message) continue;
      out.push({ subject: message.subject, msgId: message.header?.get('Nats-Msg-Id'), envelope: message.json<EventEnvelope<unknown>>() });
    }
    return out;
  }

  const storedWithId = async (deliveryId: string) => (await storedEvents()).filter((e) => e.msgId === deliveryId);

  /** Posts raw bytes with the given headers: for the requests GitHub itself would never send. */
  const post = async (headers: Record<string, string>, body: string | Buffer) => {
    const response = await fetch(hook.url, { method: 'POST', headers, body });
    return { status: response.status, body: await response.text(), headers: response.headers };
  };

  const signedHeaders = (deliveryId: string, body: string | Buffer, event = 'issue_comment'): Record<string, string> => ({
    'content-type': 'application/json',
    'x-github-event': event,
    'x-github-delivery': deliveryId,
    'x-hub-signature-256': signBody(body, SECRET),
  });

  it('answers 202 to a signed issue_comment and stores exactly one envelope on bowline.events.default.github.issue_comment', async () => {
    const payload = comment();
    const answer = await sendWebhook(hook.url, signWebhook({ event: 'issue_comment', payload, secret: SECRET, deliveryId: 'delivery-accepted' }));

    expect(answer).toEqual({ status: 202, body: 'accepted\n' });
    const stored = await storedWithId('delivery-accepted');
    expect(stored).toHaveLength(1);
    expect(stored[0]!.subject).toBe('bowline.events.default.github.issue_comment');
    expect(stored[0]!.envelope).toEqual({ id: 'delivery-accepted', event: 'issue_comment', tenant: 'default', receivedAt: RECEIVED_AT.toISOString(), payload });
  });

  it.each<[string, () => unknown]>([
    ['pull_request', () => pullRequestPayload({ action: 'opened', org: 'acme', repo: 'widgets', number: 8, author: 'alice', headSha: 'c'.repeat(40) })],
    ['push', () => examplePayload('push')],
  ])('publishes a %s delivery on its own subject', async (event, makePayload) => {
    const payload = makePayload();
    const deliveryId = `delivery-${event}`;
    const answer = await sendWebhook(hook.url, signWebhook({ event, payload, secret: SECRET, deliveryId }));

    expect(answer.status).toBe(202);
    const stored = await storedWithId(deliveryId);
    expect(stored.map((s) => [s.subject, s.envelope.event])).toEqual([[`bowline.events.default.github.${event}`, event]]);
  });

  it('answers "already received" to the same delivery sent twice, and the stream holds it once', async () => {
    const webhook = signWebhook({ event: 'issue_comment', payload: comment(), secret: SECRET, deliveryId: 'delivery-twice' });
    const first = await sendWebhook(hook.url, webhook);
    const second = await sendWebhook(hook.url, webhook);

    expect(first).toEqual({ status: 202, body: 'accepted\n' });
    expect(second).toEqual({ status: 202, body: 'already received\n' });
    expect(await storedWithId('delivery-twice')).toHaveLength(1);
  });

  it.each([
    ['signed with the current secret', SECRET],
    ['signed with the previous secret, during a rotation', OLD_SECRET],
  ])('accepts a delivery %s', async (_title, secret) => {
    const deliveryId = `delivery-rotation-${secret}`;
    const answer = await sendWebhook(hook.url, signWebhook({ event: 'issue_comment', payload: comment(), secret, deliveryId }));

    expect(answer.status).toBe(202);
    expect(await storedWithId(deliveryId)).toHaveLength(1);
  });

  const body = JSON.stringify(comment());
  const digest = signBody(body, SECRET).slice('sha256='.length);
  it.each<[string, string | undefined]>([
    ['no signature', undefined],
    ['a SHA-1 signature', `sha1=${digest.slice(0, 40)}`],
    ['the right digest under sha1=', `sha1=${digest}`],
    ['a signature one hex digit short', `sha256=${digest.slice(0, -1)}`],
    ['a signature that is not hex', `sha256=${'z'.repeat(64)}`],
    ['a signature made with another secret', signBody(body, 'not-the-secret')],
    ['a signature of a different body', signBody(`${body} `, SECRET)],
  ])('answers 401 to a delivery with %s and publishes nothing', async (title, signature) => {
    const deliveryId = `delivery-401-${title}`;
    const headers = signedHeaders(deliveryId, body);
    if (signature === undefined) delete headers['x-hub-signature-256'];
    else headers['x-hub-signature-256'] = signature;

    const answer = await post(headers, body);

    expect(answer.status).toBe(401);
    expect(answer.body).toContain('X-Hub-Signature-256');
    expect(hook.published.filter((e) => e.id === deliveryId)).toEqual([]);
    expect(await storedWithId(deliveryId)).toEqual([]);
  });

  it.each([
    ['X-GitHub-Event', 'x-github-event'],
    ['X-GitHub-Delivery', 'x-github-delivery'],
  ])('answers 400 naming the header when %s is missing', async (name, header) => {
    const deliveryId = `delivery-missing-${header}`;
    const headers = signedHeaders(deliveryId, body);
    delete headers[header];

    const answer = await post(headers, body);

    expect(answer.status).toBe(400);
    expect(answer.body).toContain(name);
    expect(hook.published.filter((e) => e.id === deliveryId)).toEqual([]);
  });

  it('answers 415 to a form-encoded delivery, saying to configure JSON', async () => {
    const form = `payload=${encodeURIComponent(body)}`;
    const headers = { ...signedHeaders('delivery-form', form), 'content-type': 'application/x-www-form-urlencoded' };

    const answer = await post(headers, form);

    expect(answer.status).toBe(415);
    expect(answer.body).toMatch(/configure .*application\/json/);
    expect(await storedWithId('delivery-form')).toEqual([]);
  });

  it('accepts a JSON content type with a charset parameter', async () => {
    const headers = { ...signedHeaders('delivery-charset', body), 'content-type': 'application/json; charset=utf-8' };
    expect((await post(headers, body)).status).toBe(202);
    expect(await storedWithId('delivery-charset')).toHaveLength(1);
  });

  /** A JSON body of exactly `size` bytes: the comment payload with a padding field. */
  const bodyOfSize = (size: number): string => {
    const base = JSON.stringify({ ...comment(), padding: '' });
    return base.replace('"padding":""', `"padding":"${'x'.repeat(size - Buffer.byteLength(base))}"`);
  };

  it('accepts a body of exactly maxBodyBytes', async () => {
    const exact = bodyOfSize(MAX_BODY_BYTES);
    expect(Buffer.byteLength(exact)).toBe(MAX_BODY_BYTES);
    expect((await post(signedHeaders('delivery-at-limit', exact), exact)).status).toBe(202);
  });

  it('answers 413 to a body one byte over maxBodyBytes and publishes nothing', async () => {
    const over = bodyOfSize(MAX_BODY_BYTES + 1);

    const answer = await post(signedHeaders('delivery-too-large', over), over);

    expect(answer.status).toBe(413);
    expect(answer.body).toContain(String(MAX_BODY_BYTES));
    expect(hook.published.filter((e) => e.id === 'delivery-too-large')).toEqual([]);
    expect(await storedWithId('delivery-too-large')).toEqual([]);
  });

  it('answers 413 to a declared oversized body before a byte of it is sent', async () => {
    // Headers promise 100 MB; only the headers go out. The answer must not wait for the body.
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(hook.url, { method: 'POST', headers: { ...signedHeaders('delivery-declared', 'x'), 'content-length': String(100 * 1024 * 1024) } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
        req.destroy();
      });
      req.on('error', reject);
      req.flushHeaders();
    });
    expect(status).toBe(413);
    expect(hook.published.filter((e) => e.id === 'delivery-declared')).toEqual([]);
  });

  it.each([
    ['GET', 405, 'POST'],
    ['PUT', 405, 'POST'],
  ])('answers %s /hook with %d and Allow: %s', async (method, status, allow) => {
    const response = await fetch(hook.url, { method });
    expect(response.status).toBe(status);
    expect(response.headers.get('allow')).toBe(allow);
  });

  it('answers 404 to any other path', async () => {
    const response = await fetch(hook.url.replace('/hook', '/webhook'), { method: 'POST', body: '{}' });
    expect(response.status).toBe(404);
    expect(await response.text()).toBe('not found\n');
  });

  it('answers 413 to an oversized body sent in chunks without a Content-Length', async () => {
    const over = Buffer.from(bodyOfSize(MAX_BODY_BYTES * 2));
    const chunks = [over.subarray(0, MAX_BODY_BYTES), over.subarray(MAX_BODY_BYTES)];
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        const next = chunks.shift();
        if (next) controller.enqueue(next);
        else controller.close();
      },
    });
    const response = await fetch(hook.url, {
      method: 'POST',
      headers: signedHeaders('delivery-chunked', over),
      body: stream,
      duplex: 'half',
    } as RequestInit);

    expect(response.status).toBe(413);
    expect(await storedWithId('delivery-chunked')).toEqual([]);
  });

  it.each([
    ['a truncated object', '{"action": "created"'],
    ['an empty body', ''],
    ['plain text', 'hello'],
  ])('answers 400 to a signed body that is %s', async (title, text) => {
    const deliveryId = `delivery-bad-json-${title}`;
    const answer = await post(signedHeaders(deliveryId, text), text);

    expect(answer.status).toBe(400);
    expect(answer.body).toContain('JSON');
    expect(hook.published.filter((e) => e.id === deliveryId)).toEqual([]);
  });

  it.each(['null', '[]', '42', '"text"'])('answers 400 to signed JSON %s that is not an object', async (text) => {
    const deliveryId = `delivery-not-object-${text}`;
    const answer = await post(signedHeaders(deliveryId, text), text);

    expect(answer.status).toBe(400);
    expect(answer.body).toContain('JSON object');
    expect(hook.published.filter((e) => e.id === deliveryId)).toEqual([]);
  });

  it('answers 200 to the ping GitHub sends when a webhook is created, and publishes nothing', async () => {
    const ping = { zen: 'Keep it logically awesome.', hook_id: 1, hook: { type: 'Organization', events: ['*'] } };
    const answer = await sendWebhook(hook.url, signWebhook({ event: 'ping', payload: ping, secret: SECRET, deliveryId: 'delivery-ping' }));

    expect(answer.status).toBe(200);
    expect(await storedWithId('delivery-ping')).toEqual([]);
  });

  it.each(['star', 'issues', 'check_run'])('accepts a %s delivery with 202 but publishes nothing, since Bowline does not use it', async (event) => {
    const deliveryId = `delivery-unused-${event}`;
    const answer = await sendWebhook(hook.url, signWebhook({ event, payload: { action: 'created' }, secret: SECRET, deliveryId }));

    expect(answer.status).toBe(202);
    expect(answer.body).toContain(event);
    expect(hook.published.filter((e) => e.id === deliveryId)).toEqual([]);
    expect(await storedWithId(deliveryId)).toEqual([]);
  });

  const requestCount = async (labels: Record<string, string>): Promise<number> => {
    const metric = await hook.registry.getSingleMetric('bowline_hook_requests_total')!.get();
    return metric.values.find((v) => Object.entries(labels).every(([k, value]) => v.labels[k] === value))?.value ?? 0;
  };

  it('counts signed requests by event and outcome', async () => {
    const before = await requestCount({ event: 'issue_comment', outcome: 'published' });
    await sendWebhook(hook.url, signWebhook({ event: 'issue_comment', payload: comment(), secret: SECRET, deliveryId: 'delivery-counted' }));
    expect(await requestCount({ event: 'issue_comment', outcome: 'published' })).toBe(before + 1);
  });

  it('counts forged requests under one label, whatever X-GitHub-Event they claim', async () => {
    const before = await requestCount({ event: 'unverified', outcome: 'bad_signature' });
    for (let i = 0; i < 3; i += 1) {
      const forged = signWebhook({ event: `made-up-${i}`, payload: comment(), secret: 'wrong', deliveryId: `delivery-forged-${i}` });
      expect((await sendWebhook(hook.url, forged)).status).toBe(401);
    }

    expect(await requestCount({ event: 'unverified', outcome: 'bad_signature' })).toBe(before + 3);
    const metric = await hook.registry.getSingleMetric('bowline_hook_requests_total')!.get();
    expect(metric.values.map((v) => v.labels.event)).not.toContainEqual(expect.stringMatching(/^made-up/));
  });
});

describe('POST /hook when the event cannot be stored', () => {
  it('answers 503 with Retry-After when publish rejects', async () => {
    const hook = await startHook(() => Promise.reject(new Error('nats: timeout')));
    try {
      const webhook = signWebhook({ event: 'issue_comment', payload: comment(), secret: SECRET, deliveryId: 'delivery-unstored' });
      const response = await fetch(hook.url, { method: 'POST', headers: webhook.headers, body: webhook.body });

      expect(response.status).toBe(503);
      expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(await response.text()).toContain('redeliver');
      expect(hook.published.map((e) => e.id)).toEqual(['delivery-unstored']);
    } finally {
      await hook.close();
    }
  });

  it('answers 503 when the nats-server has no EVENTS stream to store it in', async () => {
    const nats = await startNats();
    const bus = await connectBus({ servers: nats.url, name: 'hook-test-no-stream', logger });
    const hook = await startHook((envelope) => publishEvent(bus.nc, envelope, { timeoutMs: 2000 }));
    try {
      const webhook = signWebhook({ event: 'issue_comment', payload: comment(), secret: SECRET, deliveryId: 'delivery-no-stream' });
      const answer = await sendWebhook(hook.url, webhook);

      expect(answer.status).toBe(503);
    } finally {
      await hook.close();
      await bus.close();
      await nats.stop();
    }
  });
});

describe("per-org and per-repo secrets in Prow's hmac file format", () => {
  const HMAC_FILE = [
    "'*':",
    '- value: global-secret',
    '  created_at: 2026-01-01T00:00:00Z',
    'acme:',
    '- value: acme-secret',
    '  created_at: 2026-01-01T00:00:00Z',
    'acme/widgets:',
    '- value: widgets-old',
    '  created_at: 2026-01-01T00:00:00Z',
    '- value: widgets-new',
    '  created_at: 2026-02-01T00:00:00Z',
  ].join('\n');
  let hook: Hook;

  beforeAll(async () => {
    hook = await startHook(async () => ({ duplicate: false }), HMAC_FILE);
  });

  afterAll(async () => {
    await hook?.close();
  });

  it.each([
    ['acme', 'widgets', 'widgets-new', 202],
    ['acme', 'widgets', 'widgets-old', 202],
    ['acme', 'widgets', 'acme-secret', 401],
    ['acme', 'widgets', 'global-secret', 401],
    ['acme', 'gadgets', 'acme-secret', 202],
    ['acme', 'gadgets', 'global-secret', 401],
    ['other', 'thing', 'global-secret', 202],
    ['other', 'thing', 'acme-secret', 401],
  ])('a delivery for %s/%s signed with %s gets %d', async (org, repo, secret, status) => {
    const payload = pullRequestCommentPayload({ org, repo, number: 1, commenter: 'alice', body: '/test all' });
    const answer = await sendWebhook(hook.url, signWebhook({ event: 'issue_comment', payload, secret, deliveryId: `scoped-${org}-${repo}-${secret}` }));
    expect(answer.status).toBe(status);
  });

  it('refuses an unparsable body signed with a scoped secret, since it names no repository', async () => {
    const body = '{"repository": ';
    const response = await fetch(hook.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-github-event': 'push', 'x-github-delivery': 'scoped-bad', 'x-hub-signature-256': signBody(body, 'acme-secret') },
      body,
    });
    expect(response.status).toBe(401);
  });
});
