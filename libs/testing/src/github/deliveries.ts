import { createHmac, randomUUID } from 'node:crypto';
import { signBody } from '../webhooks.js';
import { timestamp } from './state.js';
import type { FakeDelivery, FakeWebhook } from './types.js';

export interface DeliveryRecord {
  delivery: FakeDelivery;
  /** The exact bytes sent, so a redelivery repeats them and its signature covers the same body. */
  body: string;
}

interface Attempt {
  event: string;
  guid: string;
  body: string;
  redelivery: boolean;
}

// An App has a single webhook, so its id never changes; setWebhook edits that hook's settings.
const APP_HOOK_ID = 1;

/**
 * The App's webhook: where GitHub sends events, every attempt it made with its outcome, and the
 * sends still running, so a test can wait for them and none outlives the fake.
 */
export class WebhookDeliveries {
  private webhook?: FakeWebhook;
  private nextDeliveryId = 1;
  private readonly records: DeliveryRecord[] = [];
  private readonly inFlight = new Set<Promise<unknown>>();
  // Aborts the sends still running when the fake closes, so none outlives it.
  private readonly closing = new AbortController();

  constructor(
    private readonly timeoutMs: number,
    /** The App's id, sent as the hook's target; none before an App is set. */
    private readonly appId: () => number | undefined,
  ) {}

  /** Points the App's webhook somewhere else or rotates its secret; redeliveries use the new one. */
  setWebhook(webhook: FakeWebhook): void {
    this.webhook = { url: webhook.url, secret: webhook.secret };
  }

  /** A first delivery of `payload`, tracked until it has its outcome. */
  send(event: string, payload: Record<string, unknown>, guid: string = randomUUID()): Promise<FakeDelivery> {
    return this.track(this.deliver({ event, body: JSON.stringify(payload), guid, redelivery: false }));
  }

  /** Sends the recorded delivery again, after the caller has answered; false when there is no such delivery. */
  redeliver(id: number): boolean {
    const record = this.find(id);
    if (!record) return false;
    const { event, guid } = record.delivery;
    // GitHub only queues the attempt before it answers 202; setImmediate lets HttpFake write the
    // answer first, and tracking the send lets a test wait for it with settled().
    const queued = new Promise((resolve) => setImmediate(resolve));
    void this.track(queued.then(() => this.deliver({ event, guid, body: record.body, redelivery: true }))).catch(() => undefined);
    return true;
  }

  find(id: number): DeliveryRecord | undefined {
    return this.records.find((r) => r.delivery.id === id);
  }

  /** Every delivery attempt, redeliveries included, oldest first (the fake's own objects: clone before giving out). */
  all(): FakeDelivery[] {
    return this.records.map((record) => record.delivery);
  }

  /** Resolves once no delivery is in flight, including redeliveries queued by the API. */
  async settled(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  async close(): Promise<void> {
    this.closing.abort();
    await this.settled();
  }

  private track<T>(work: Promise<T>): Promise<T> {
    this.inFlight.add(work);
    const forget = (): void => {
      this.inFlight.delete(work);
    };
    work.then(forget, forget);
    return work;
  }

  private async deliver(attempt: Attempt): Promise<FakeDelivery> {
    const webhook = this.webhook;
    if (!webhook) throw new Error('FakeGitHub has no webhook to deliver to: pass options.webhook or call setWebhook()');
    const id = this.nextDeliveryId++;
    const payload = JSON.parse(attempt.body) as Record<string, unknown>;
    const headers = this.webhookHeaders(attempt.event, attempt.guid, attempt.body, webhook.secret);
    const deliveredAt = timestamp();
    const started = performance.now();

    const deadline = AbortSignal.timeout(this.timeoutMs);
    let outcome: Pick<FakeDelivery, 'status' | 'status_code' | 'response'>;
    try {
      const response = await fetch(webhook.url, {
        method: 'POST',
        headers,
        body: attempt.body,
        // GitHub does not follow redirects: a 3xx is the delivery's answer.
        redirect: 'manual',
        signal: AbortSignal.any([deadline, this.closing.signal]),
      });
      const text = await response.text();
      outcome = {
        status: response.ok ? 'OK' : `Invalid HTTP Response: ${response.status}`,
        status_code: response.status,
        response: { headers: Object.fromEntries(response.headers), payload: text },
      };
    } catch {
      // The deadline, not the error, tells a timeout from a failed connection: fetch's DOMException
      // is not `instanceof Error` inside jest's VM context.
      const status = deadline.aborted ? 'timed out' : 'failed to connect to host';
      outcome = { status, status_code: 0, response: { headers: null, payload: null } };
    }

    const delivery: FakeDelivery = {
      id,
      guid: attempt.guid,
      delivered_at: deliveredAt,
      redelivery: attempt.redelivery,
      duration: Math.round(performance.now() - started) / 1000,
      ...outcome,
      event: attempt.event,
      action: typeof payload.action === 'string' ? payload.action : null,
      installation_id: idOf(payload.installation),
      repository_id: idOf(payload.repository),
      throttled_at: null,
      url: webhook.url,
      request: { headers, payload },
    };
    // Kept in id order, the order attempts started, though a slow one may finish after a later one.
    const at = this.records.findIndex((r) => r.delivery.id > id);
    this.records.splice(at < 0 ? this.records.length : at, 0, { delivery, body: attempt.body });
    return structuredClone(delivery);
  }

  /** The headers GitHub sends with an App webhook; it signs only when the webhook has a secret. */
  private webhookHeaders(event: string, guid: string, body: string, secret: string): Record<string, string> {
    const headers: Record<string, string> = {
      Accept: '*/*',
      'Content-Type': 'application/json',
      'User-Agent': 'GitHub-Hookshot/fake',
      'X-GitHub-Delivery': guid,
      'X-GitHub-Event': event,
      'X-GitHub-Hook-ID': String(APP_HOOK_ID),
      'X-GitHub-Hook-Installation-Target-Type': 'integration',
    };
    const appId = this.appId();
    if (appId !== undefined) headers['X-GitHub-Hook-Installation-Target-ID'] = String(appId);
    if (secret !== '') {
      // GitHub still sends the legacy SHA-1 signature next to the SHA-256 one.
      headers['X-Hub-Signature'] = `sha1=${createHmac('sha1', secret).update(body).digest('hex')}`;
      headers['X-Hub-Signature-256'] = signBody(body, secret);
    }
    return headers;
  }
}

function idOf(value: unknown): number | null {
  const id = (value as { id?: unknown } | null | undefined)?.id;
  return typeof id === 'number' ? id : null;
}
