import type { Express, Request, Response } from 'express';
import { Counter, Histogram, type Registry } from 'prom-client';
import type { EventEnvelope } from '@bowline/bus';
import { describeError, type Logger } from '@bowline/observability';
import { BodyTooLargeError, readLimitedBody } from './body.js';
import { ownerOf, secretsFor, type WebhookSecrets } from './secrets.js';
import { verifySignature } from './signature.js';

/** The events the planner acts on; others are accepted and counted but not published. */
export const PUBLISHED_EVENTS = new Set(['issue_comment', 'pull_request', 'push']);

/** The metric label of requests whose signature was not (or could not be) checked. */
const UNVERIFIED = 'unverified';

export interface WebhookRouteOptions {
  secrets: WebhookSecrets;
  maxBodyBytes: number;
  logger: Logger;
  registry: Registry;
  /** Stores the envelope durably; resolves only once JetStream has acknowledged it. */
  publish: (envelope: EventEnvelope<unknown>) => Promise<{ duplicate: boolean }>;
  now?: () => Date;
}

/** Asks GitHub to wait before redelivering by hand; an outage of NATS rarely lasts less. */
const RETRY_AFTER_SECONDS = '30';

/**
 * `POST /hook`: read at most the limit, verify the signature, parse, publish, and only then answer
 * 202. Nothing reaches NATS before the signature is checked; nothing is acknowledged before
 * JetStream has stored it.
 */
export function addWebhookRoute(app: Express, options: WebhookRouteOptions): void {
  const { logger } = options;
  const now = options.now ?? (() => new Date());
  const requests = new Counter({
    name: 'bowline_hook_requests_total',
    help: 'Webhook requests by event and outcome',
    labelNames: ['event', 'outcome'],
    registers: [options.registry],
  });
  const publishSeconds = new Histogram({
    name: 'bowline_hook_publish_seconds',
    help: 'Time until JetStream acknowledged a published event',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
    registers: [options.registry],
  });
  const bodyBytes = new Histogram({
    name: 'bowline_hook_body_bytes',
    help: 'Size of webhook bodies read',
    buckets: [1024, 4096, 16_384, 65_536, 262_144, 1_048_576, 4_194_304, 26_214_400],
    registers: [options.registry],
  });

  const reply = (res: Response, event: string, outcome: string, status: number, message: string): void => {
    requests.inc({ event, outcome });
    res.status(status).type('text/plain').send(`${message}\n`);
  };

  app.post('/hook', async (req: Request, res: Response) => {
    const event = req.header('x-github-event');
    const deliveryId = req.header('x-github-delivery');
    let body: Buffer;
    try {
      body = await readLimitedBody(req, options.maxBodyBytes);
    } catch (error) {
      if (!(error instanceof BodyTooLargeError)) throw error;
      // The rest of the body is never read: the connection is closed after this answer.
      res.setHeader('Connection', 'close');
      logger.warn({ deliveryId, event }, 'webhook refused: body too large');
      return reply(res, UNVERIFIED, 'too_large', 413, `the body is larger than ${options.maxBodyBytes} bytes`);
    }
    bodyBytes.observe(body.length);

    // With per-org or per-repo secrets the payload names whose secret applies, so it is parsed
    // first, but only once it is known to be within the size limit.
    let payload: unknown;
    let parsed = false;
    const parse = (): boolean => {
      if (!parsed) {
        parsed = true;
        try {
          payload = JSON.parse(body.toString('utf8'));
        } catch {
          payload = undefined;
        }
      }
      return payload !== undefined;
    };
    const secrets = options.secrets.scoped && parse() ? secretsFor(options.secrets, ownerOf(payload)) : options.secrets.global;
    const signed = verifySignature(body, req.header('x-hub-signature-256'), secrets);
    // Anyone can send any X-GitHub-Event; only a signed request's value (from GitHub's bounded
    // set of events) becomes a metric label, so forged requests cannot grow the label set.
    const label = signed ? (event ?? 'unknown') : UNVERIFIED;
    if (!signed) {
      logger.warn({ deliveryId, event }, 'webhook refused: bad or missing signature');
      return reply(res, label, 'bad_signature', 401, 'X-Hub-Signature-256 is missing or does not match');
    }
    if (!event) return reply(res, label, 'bad_request', 400, 'the X-GitHub-Event header is missing');
    if (!deliveryId) return reply(res, label, 'bad_request', 400, 'the X-GitHub-Delivery header is missing');
    if (!/^application\/json\b/i.test(req.header('content-type') ?? '')) {
      return reply(res, label, 'unsupported_media_type', 415, 'configure the webhook with content type application/json');
    }
    if (!parse()) return reply(res, label, 'bad_json', 400, 'the body is not valid JSON');
    // Every GitHub payload is an object; `null` would otherwise crash the handler into a 500.
    if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
      return reply(res, label, 'bad_json', 400, 'the body is not a JSON object');
    }
    if (event === 'ping') return reply(res, label, 'ping', 200, 'pong');
    if (!PUBLISHED_EVENTS.has(event)) return reply(res, label, 'ignored', 202, `event ${event} is not used`);

    const log = logger.child({ deliveryId, event, repo: ownerOf(payload) });
    const stopTimer = publishSeconds.startTimer();
    try {
      const { duplicate } = await options.publish({ id: deliveryId, event, receivedAt: now().toISOString(), payload });
      stopTimer();
      log.info({ duplicate }, 'webhook accepted');
      return reply(res, label, duplicate ? 'duplicate' : 'published', 202, duplicate ? 'already received' : 'accepted');
    } catch (error) {
      log.error({ err: describeError(error) }, 'webhook not stored: NATS did not acknowledge it');
      res.setHeader('Retry-After', RETRY_AFTER_SECONDS);
      return reply(res, label, 'unavailable', 503, 'cannot store the event right now; redeliver it later');
    }
  });

  app.all('/hook', (_req: Request, res: Response) => {
    res.setHeader('Allow', 'POST');
    reply(res, UNVERIFIED, 'bad_method', 405, 'webhooks are POSTed to /hook');
  });
}
