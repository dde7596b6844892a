import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import { Counter, Histogram, type Registry } from 'prom-client';
import type { EventEnvelope } from '@bowline/bus';
import { describeError, type Logger } from '@bowline/observability';
import { verifySignature } from './signature.js';

/** The events the planner acts on; others are accepted and counted but not published. */
export const PUBLISHED_EVENTS = new Set(['issue_comment', 'pull_request', 'push']);

/** The metric label of requests whose signature was not (or could not be) checked. */
const UNVERIFIED = 'unverified';

export interface WebhookRouteOptions {
  secrets: readonly string[];
  maxBodyBytes: number;
  logger: Logger;
  registry: Registry;
  /** Stores the envelope durably; resolves only once JetStream has acknowledged it. */
  publish: (envelope: EventEnvelope<unknown>) => Promise<{ duplicate: boolean }>;
  now?: () => Date;
}

/** Adds `POST /hook` to the app: verify, parse, publish, and only then answer 202. */
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

  const reply = (res: Response, event: string, outcome: string, status: number, message: string): void => {
    requests.inc({ event, outcome });
    res.status(status).type('text/plain').send(`${message}\n`);
  };

  app.post(
    '/hook',
    express.raw({ type: () => true, limit: options.maxBodyBytes }),
    async (req: Request, res: Response) => {
      const event = req.header('x-github-event');
      const deliveryId = req.header('x-github-delivery');
      const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const signed = verifySignature(body, req.header('x-hub-signature-256'), options.secrets);
      // Anyone can send any X-GitHub-Event; only a signed request's value (from GitHub's bounded
      // set of events) becomes a metric label, so forged requests cannot grow the label set.
      const label = signed ? (event ?? 'unknown') : UNVERIFIED;

      if (!signed) {
        logger.warn({ deliveryId, event }, 'webhook refused: bad or missing signature');
        return reply(res, label, 'bad_signature', 401, 'X-Hub-Signature-256 is missing or does not match');
      }
      if (!event) return reply(res, label, 'bad_request', 400, 'X-GitHub-Event header is missing');
      if (!deliveryId) return reply(res, label, 'bad_request', 400, 'X-GitHub-Delivery header is missing');
      const log = logger.child({ deliveryId, event });
      if (!/^application\/json\b/i.test(req.header('content-type') ?? '')) {
        return reply(res, label, 'unsupported_media_type', 415, 'configure the webhook with content type application/json');
      }
      let payload: unknown;
      try {
        payload = JSON.parse(body.toString('utf8'));
      } catch {
        return reply(res, label, 'bad_json', 400, 'the body is not valid JSON');
      }
      // Every GitHub payload is an object; `null` would otherwise crash the handler into a 500.
      if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
        return reply(res, label, 'bad_json', 400, 'the body is not a JSON object');
      }
      if (event === 'ping') return reply(res, label, 'ping', 200, 'pong');
      if (!PUBLISHED_EVENTS.has(event)) return reply(res, label, 'ignored', 202, `event ${event} is not used`);

      const repo = (payload as { repository?: { full_name?: string } }).repository?.full_name;
      const stopTimer = publishSeconds.startTimer();
      try {
        const { duplicate } = await options.publish({ id: deliveryId, event, receivedAt: now().toISOString(), payload });
        stopTimer();
        log.info({ repo, duplicate }, 'webhook accepted');
        return reply(res, label, duplicate ? 'duplicate' : 'published', 202, duplicate ? 'already received' : 'accepted');
      } catch (error) {
        log.error({ repo, err: describeError(error) }, 'webhook not stored: NATS did not acknowledge');
        res.setHeader('Retry-After', '30');
        return reply(res, label, 'unavailable', 503, 'cannot store the event right now; redeliver later');
      }
    },
  );

  // express.raw rejects a body over the limit with a 413 before reading the rest of it.
  app.use((error: { status?: number; type?: string }, _req: Request, res: Response, next: NextFunction) => {
    if (error.type === 'entity.too.large') {
      return reply(res, UNVERIFIED, 'too_large', 413, `body larger than ${options.maxBodyBytes} bytes`);
    }
    next(error);
  });
}
