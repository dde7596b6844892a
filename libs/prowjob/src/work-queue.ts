import type { Logger } from '@bowline/observability';

/** Slots beyond `concurrency` that only keys added `ahead` may use. */
export const AHEAD_SLOTS = 2;

/**
 * A queue of keys to work on, as Kubernetes controllers use: a key added many times before it is
 * handled is handled once; one key is never handled twice at the same time (added again while
 * running, it runs once more after); a failure retries the key with backoff; at most
 * `concurrency` keys run at once. Keys added `ahead` go before every other waiting key, and may
 * run in `AHEAD_SLOTS` more: they never wait for a slot held by slower work.
 */
export class WorkQueue {
  private readonly waiting = new Set<string>();
  private readonly waitingAhead = new Set<string>();
  private readonly running = new Set<string>();
  /** Keys added while running, to run once more after: whether any of those adds was `ahead`. */
  private readonly again = new Map<string, boolean>();
  private readonly failures = new Map<string, number>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private idleWaiters: (() => void)[] = [];
  private stopped = false;

  constructor(
    private readonly handle: (key: string) => Promise<void>,
    private readonly options: { logger: Logger; concurrency?: number; maxBackoffMs?: number },
  ) {}

  /** `ahead`: before the keys waiting now (the reporter's first status of a job, issue 21). */
  add(key: string, options: { ahead?: boolean } = {}): void {
    if (this.stopped) return;
    if (this.running.has(key)) this.again.set(key, (this.again.get(key) ?? false) || options.ahead === true);
    else if (options.ahead) {
      this.waiting.delete(key);
      this.waitingAhead.add(key);
    } else if (!this.waitingAhead.has(key)) this.waiting.add(key);
    this.pump();
  }

  /** Resolves when nothing is waiting or running (tests and shutdown use it). */
  idle(): Promise<void> {
    if (this.waitingAhead.size === 0 && this.waiting.size === 0 && this.running.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.waiting.clear();
    this.waitingAhead.clear();
    this.again.clear();
    for (const timer of this.timers) clearTimeout(timer);
    await this.idle();
  }

  private pump(): void {
    const concurrency = this.options.concurrency ?? 4;
    for (const waiting of [this.waitingAhead, this.waiting]) {
      const slots = waiting === this.waitingAhead ? concurrency + AHEAD_SLOTS : concurrency;
      for (const key of waiting) {
        if (this.running.size >= slots) break;
        if (this.running.has(key)) continue;
        waiting.delete(key);
        this.running.add(key);
        void this.run(key);
      }
    }
    if (this.waitingAhead.size === 0 && this.waiting.size === 0 && this.running.size === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  private async run(key: string): Promise<void> {
    try {
      await this.handle(key);
      this.failures.delete(key);
    } catch (error) {
      const attempt = (this.failures.get(key) ?? 0) + 1;
      this.failures.set(key, attempt);
      const delayMs = Math.min(this.options.maxBackoffMs ?? 60_000, 250 * 2 ** (attempt - 1));
      this.options.logger.warn({ key, attempt, delayMs, err: error }, 'work failed: will retry');
      if (!this.stopped) {
        const timer = setTimeout(() => {
          this.timers.delete(timer);
          this.add(key);
        }, delayMs);
        timer.unref();
        this.timers.add(timer);
      }
    } finally {
      this.running.delete(key);
      const again = this.again.get(key);
      this.again.delete(key);
      if (again !== undefined && !this.stopped) (again ? this.waitingAhead : this.waiting).add(key);
      this.pump();
    }
  }
}
