import type { KV } from '@nats-io/kv';
import { Counter, type Registry } from 'prom-client';
import type { Octokit } from '@bowline/github';
import { describeError, pushTo, type Logger } from '@bowline/observability';

export interface RedeliverySettings {
  /** How often the task looks. */
  intervalMs: number;
  /** Deliveries older than this are left alone (GitHub keeps them for three days). */
  lookbackMs: number;
  /** At most this many redeliveries asked per pass, so a long outage heals in steps. */
  maxPerPass: number;
  /** A delivery already attempted this many times (first try included) is given up. */
  maxAttempts: number;
  /** A failure younger than this is left for a moment: GitHub may still be retrying it. */
  settleMs: number;
}

export const DEFAULT_REDELIVERY: RedeliverySettings = {
  intervalMs: 5 * 60_000,
  lookbackMs: 6 * 3_600_000,
  maxPerPass: 50,
  maxAttempts: 5,
  settleMs: 30_000,
};

interface Delivery {
  id: number;
  guid: string;
  delivered_at: string;
  status_code: number;
  event: string;
}

export interface PassResult {
  examined: number;
  redelivered: number;
  givenUp: number;
}

/**
 * Heals deliveries GitHub could not hand over (the hook or NATS was down: GitHub does not retry
 * by itself). Lists the App's recent deliveries, and for each delivery (by GUID) that never got a
 * 2xx asks GitHub to send it again. Idempotent across passes, restarts and replicas: the attempt
 * being redelivered is claimed in a KV bucket first, so each failed attempt is redelivered once;
 * if that fails too, its own failed attempt is eligible next pass, up to `maxAttempts`.
 */
export class RedeliveryTask {
  private timer?: NodeJS.Timeout;
  private running?: Promise<unknown>;
  private readonly counters: { redelivered: Counter; failed: Counter; givenUp: Counter; passes: Counter };

  constructor(
    private readonly deps: {
      github: Octokit;
      claims: KV;
      logger: Logger;
      registry: Registry;
      settings?: Partial<RedeliverySettings>;
      now?: () => Date;
    },
  ) {
    const registers = [deps.registry];
    this.counters = {
      passes: new Counter({ name: 'bowline_hook_redelivery_passes_total', help: 'Passes over recent webhook deliveries', labelNames: ['result'], registers }),
      redelivered: new Counter({ name: 'bowline_hook_redeliveries_total', help: 'Failed deliveries GitHub was asked to send again', registers }),
      failed: new Counter({ name: 'bowline_hook_redelivery_errors_total', help: 'Redelivery requests GitHub refused', registers }),
      givenUp: new Counter({ name: 'bowline_hook_redeliveries_given_up_total', help: 'Deliveries left failed after the attempt limit', registers }),
    };
  }

  private get settings(): RedeliverySettings {
    return { ...DEFAULT_REDELIVERY, ...this.deps.settings };
  }

  start(): void {
    const tick = (): void => {
      this.running = this.runOnce().catch((error: unknown) => {
        this.counters.passes.inc({ result: 'error' });
        this.deps.logger.warn({ err: error }, 'cannot list webhook deliveries: will try at the next pass');
      });
      this.timer = setTimeout(tick, this.settings.intervalMs);
      this.timer.unref();
    };
    tick();
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    await this.running;
  }

  async runOnce(): Promise<PassResult> {
    const { github, logger } = this.deps;
    const settings = this.settings;
    const now = (this.deps.now ?? (() => new Date()))().getTime();
    const deliveries = await this.recentDeliveries(now - settings.lookbackMs);
    const byGuid = new Map<string, Delivery[]>();
    for (const d of deliveries) pushTo(byGuid, d.guid, d);

    const result: PassResult = { examined: byGuid.size, redelivered: 0, givenUp: 0 };
    for (const [guid, attempts] of byGuid) {
      if (result.redelivered >= settings.maxPerPass) break;
      if (attempts.some((a) => a.status_code >= 200 && a.status_code < 300)) continue;
      const latest = attempts.reduce((a, b) => (Date.parse(b.delivered_at) > Date.parse(a.delivered_at) ? b : a));
      if (now - Date.parse(latest.delivered_at) < settings.settleMs) continue;
      if (attempts.length >= settings.maxAttempts) {
        if (await this.claim(`given-up.${guid}`)) {
          result.givenUp += 1;
          this.counters.givenUp.inc();
          logger.error({ deliveryId: guid, event: latest.event, attempts: attempts.length }, 'webhook delivery still failing: given up');
        }
        continue;
      }
      if (!(await this.claim(`attempt.${latest.id}`))) continue;
      try {
        await github.request('POST /app/hook/deliveries/{delivery_id}/attempts', { delivery_id: latest.id });
        result.redelivered += 1;
        this.counters.redelivered.inc();
        logger.info({ deliveryId: guid, event: latest.event, attempt: attempts.length + 1 }, 'asked GitHub to redeliver a failed webhook');
      } catch (error) {
        this.counters.failed.inc();
        logger.warn({ deliveryId: guid, err: error }, 'GitHub refused to redeliver a webhook');
      }
    }
    this.counters.passes.inc({ result: 'ok' });
    return result;
  }

  /** Deliveries newer than `since`, newest first; stops paging once past it. */
  private async recentDeliveries(since: number): Promise<Delivery[]> {
    const out: Delivery[] = [];
    const pages = this.deps.github.paginate.iterator('GET /app/hook/deliveries', { per_page: 100 });
    for await (const page of pages) {
      const deliveries = page.data as Delivery[];
      for (const delivery of deliveries) if (Date.parse(delivery.delivered_at) >= since) out.push(delivery);
      if (deliveries.length === 0 || Date.parse(deliveries.at(-1)!.delivered_at) < since) break;
    }
    return out;
  }

  /** True for the one caller (in any replica, ever) that creates the key. */
  private async claim(key: string): Promise<boolean> {
    try {
      await this.deps.claims.create(key, String(Date.now()));
      return true;
    } catch (error) {
      if (/wrong last sequence|key exists/i.test(describeError(error))) return false;
      throw error;
    }
  }
}
