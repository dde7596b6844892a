import type { IncomingMessage, ServerResponse } from 'node:http';
import { Counter, Histogram, type Registry } from 'prom-client';
import { encodeEnvelope, MAX_PAYLOAD_DEPTH, nestsDeeperThan, payloadChecker, type EventEnvelope, type PayloadChecker } from '@bowline/bus';
import type { Logger } from '@bowline/observability';
import type { RawHandler } from '@bowline/service';
import { answerThenDrain, BodyAbortedError, BodyTimeoutError, BodyTooLargeError, readLimitedBody } from './body.js';
import type { SecretLookup } from './secret-book.js';
import { ownerOf } from './secrets.js';
import { verifySignature } from './signature.js';

/** The events the planner acts on; others are accepted and counted but not published. */
export const PUBLISHED_EVENTS = new Set(['issue_comment', 'pull_request', 'push']);

/** The metric label of requests whose signature was not (or could not be) checked. */
const UNVERIFIED = 'unverified';
/** The tenant label of requests no tenant owns (yet, or at all): unread, ownerless or unknown. */
const NO_TENANT = 'none';

/** Asks GitHub to wait before redelivering by hand; an outage of NATS rarely lasts less. */
const RETRY_AFTER_SECONDS = '30';

/** GitHub gives up on a delivery after 10 s; a body still arriving then is not GitHub's. */
export const BODY_TIMEOUT_MS = 10_000;

export interface WebhookRouteOptions {
  /** Whose secret checks a webhook: its repository's tenant's (`WebhookSecretBook`). */
  secrets: SecretLookup;
  maxBodyBytes: number;
  /** The body must arrive within this of the headers; default `BODY_TIMEOUT_MS`. */
  bodyTimeoutMs?: number;
  /** What a payload must look like to be stored; default: the fields Bowline reads, typed by GitHub's schemas. */
  checker?: PayloadChecker;
  logger: Logger;
  registry: Registry;
  /**
   * Stores the envelope durably; resolves only once JetStream has acknowledged it. `encoded` is the
   * envelope as JSON, built around the body as received.
   */
  publish: (envelope: EventEnvelope<unknown>, encoded: string) => Promise<{ duplicate: boolean }>;
  now?: () => Date;
}

/**
 * The handler of `/hook`, on plain node:http (it is the one hot path): read at most the limit,
 * verify the signature, parse, publish, and only then answer 202. Nothing reaches NATS before the
 * signature is checked; nothing is acknowledged before JetStream has stored it.
 */
export function createWebhookHandler(options: WebhookRouteOptions): RawHandler {
  const { logger } = options;
  const now = options.now ?? (() => new Date());
  const bodyTimeoutMs = options.bodyTimeoutMs ?? BODY_TIMEOUT_MS;
  const checker = options.checker ?? payloadChecker();
  for (const event of PUBLISHED_EVENTS) {
    if (!checker.events.has(event)) throw new Error(`the hook publishes ${event} events but has no schema for their payload`);
  }
  const requests = new Counter({
    name: 'bowline_hook_requests_total',
    help: 'Webhook requests by tenant, event and outcome',
    labelNames: ['tenant', 'event', 'outcome'],
    registers: [options.registry],
  });
  const publishSeconds = new Histogram({
    name: 'bowline_hook_publish_seconds',
    help: 'Time until JetStream acknowledged a published event',
    labelNames: ['tenant'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
    registers: [options.registry],
  });
  const bodyBytes = new Histogram({
    name: 'bowline_hook_body_bytes',
    help: 'Size of webhook bodies read',
    buckets: [1024, 4096, 16_384, 65_536, 262_144, 1_048_576, 4_194_304, 26_214_400],
    registers: [options.registry],
  });

  const unknownOwners = new Counter({
    name: 'bowline_hook_unknown_owner_total',
    help: 'Webhooks refused with 404 because no tenant owns their repository (or org)',
    labelNames: ['reason'],
    registers: [options.registry],
  });

  const reply = (res: ServerResponse, event: string, outcome: string, status: number, message: string, headers: Record<string, string> = {}, tenant = NO_TENANT): void => {
    requests.inc({ tenant, event, outcome });
    res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...headers });
    res.end(`${message}\n`);
  };

  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (req.method !== 'POST') {
      req.resume();
      return reply(res, UNVERIFIED, 'bad_method', 405, 'webhooks are POSTed to /hook', { allow: 'POST' });
    }
    const header = (name: string): string | undefined => {
      const value = req.headers[name];
      return Array.isArray(value) ? value[0] : value;
    };
    const event = header('x-github-event');
    const deliveryId = header('x-github-delivery');
    let body: Buffer;
    try {
      body = await readLimitedBody(req, options.maxBodyBytes, bodyTimeoutMs);
    } catch (error) {
      if (error instanceof BodyTooLargeError) {
        logger.warn({ deliveryId, event }, 'webhook refused: body too large');
        requests.inc({ tenant: NO_TENANT, event: UNVERIFIED, outcome: 'too_large' });
        const message = `the body is larger than ${options.maxBodyBytes} bytes`;
        answerThenDrain(req, res, { status: 413, message }, { maxBytes: options.maxBodyBytes, timeoutMs: bodyTimeoutMs });
        return;
      }
      if (error instanceof BodyTimeoutError) {
        logger.warn({ deliveryId, event, timeoutMs: bodyTimeoutMs }, 'webhook refused: body too slow');
        return reply(res, UNVERIFIED, 'timeout', 408, `the body did not arrive within ${bodyTimeoutMs / 1000} s`, { connection: 'close' });
      }
      if (error instanceof BodyAbortedError) {
        requests.inc({ tenant: NO_TENANT, event: UNVERIFIED, outcome: 'aborted' });
        logger.debug({ deliveryId, event }, 'client went away before the body ended');
        return;
      }
      throw error;
    }
    bodyBytes.observe(body.length);

    // With tenants, or per-org or per-repo secrets, the payload names whose secret applies, so it
    // is parsed first, but only once it is known to be within the size limit and the nesting limit
    // (checked without recursion, before anything recursive sees it).
    const text = body.toString('utf8');
    let payload: unknown;
    let parsed: 'ok' | 'too_deep' | 'bad_json' | undefined;
    const parse = (): boolean => {
      if (!parsed) {
        if (nestsDeeperThan(body, MAX_PAYLOAD_DEPTH)) {
          parsed = 'too_deep';
        } else {
          try {
            payload = JSON.parse(text);
            parsed = 'ok';
          } catch {
            parsed = 'bad_json';
          }
        }
      }
      return parsed === 'ok';
    };
    const verdict = options.secrets.verdict(options.secrets.needsPayload() && parse() ? payload : undefined);
    if (verdict.kind === 'unknown') {
      // Refused before its signature is checked: no tenant's secret may vouch for it.
      unknownOwners.inc({ reason: verdict.reason });
      logger.warn({ deliveryId, event, repo: verdict.owner, reason: verdict.reason }, 'webhook refused: no tenant owns its repository');
      return reply(res, UNVERIFIED, verdict.reason, 404, `${verdict.owner} belongs to no tenant of this Bowline`);
    }
    const tenant = verdict.kind === 'tenant' ? verdict.tenant : NO_TENANT;
    const signed = verifySignature(body, header('x-hub-signature-256'), verdict.secrets);
    // Anyone can send any X-GitHub-Event; only a signed request's value (from GitHub's bounded
    // set of events) becomes a metric label, so forged requests cannot grow the label set. The
    // tenant label is one of the config's tenants, whoever sent the request.
    const label = signed ? (event ?? 'unknown') : UNVERIFIED;
    const answer = (outcome: string, status: number, message: string, headers: Record<string, string> = {}): void =>
      reply(res, label, outcome, status, message, headers, tenant);
    if (!signed) {
      logger.warn({ deliveryId, event, tenant }, 'webhook refused: bad or missing signature');
      return answer('bad_signature', 401, 'X-Hub-Signature-256 is missing or does not match');
    }
    if (!event) return answer('bad_request', 400, 'the X-GitHub-Event header is missing');
    if (!deliveryId) return answer('bad_request', 400, 'the X-GitHub-Delivery header is missing');
    if (!/^application\/json\b/i.test(header('content-type') ?? '')) {
      return answer('unsupported_media_type', 415, 'configure the webhook with content type application/json');
    }
    if (!parse()) {
      if (parsed === 'too_deep') {
        logger.warn({ deliveryId, event, maxDepth: MAX_PAYLOAD_DEPTH }, 'webhook refused: nested too deeply');
        return answer('too_deep', 400, `the body nests deeper than ${MAX_PAYLOAD_DEPTH} levels, which GitHub never sends`);
      }
      return answer('bad_json', 400, 'the body is not valid JSON');
    }
    // Every GitHub payload is an object; `null` would otherwise crash the handler into a 500.
    if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
      return answer('bad_json', 400, 'the body is not a JSON object');
    }
    if (event === 'ping') return answer('ping', 200, 'pong');
    if (!PUBLISHED_EVENTS.has(event)) return answer('ignored', 202, `event ${event} is not used`);
    // Stored only with every field the services read, of the type they read it as: a wrong shape
    // would otherwise fail in the planner on every redelivery (issue 14).
    const wrong = checker.check(event, payload);
    if (wrong) {
      logger.warn({ deliveryId, event, repo: ownerOf(payload), problem: wrong }, 'webhook refused: payload does not have the fields Bowline reads');
      return answer('bad_payload', 400, `the ${event} payload is not what GitHub sends: ${wrong}`);
    }

    if (verdict.kind !== 'tenant') return answer('bad_payload', 400, `the ${event} payload names no repository`);
    const envelope: EventEnvelope<unknown> = { id: deliveryId, event, tenant, receivedAt: now().toISOString(), payload };
    const stopTimer = publishSeconds.startTimer({ tenant });
    try {
      const { duplicate } = await options.publish(envelope, encodeEnvelope(envelope, text));
      stopTimer();
      logger.info({ deliveryId, event, tenant, repo: ownerOf(payload), duplicate }, 'webhook accepted');
      return answer(duplicate ? 'duplicate' : 'published', 202, duplicate ? 'already received' : 'accepted');
    } catch (error) {
      logger.error({ deliveryId, event, tenant, repo: ownerOf(payload), err: error }, 'webhook not stored: NATS did not acknowledge it');
      return answer('unavailable', 503, 'cannot store the event right now; redeliver it later', { 'retry-after': RETRY_AFTER_SECONDS });
    }
  };
}
