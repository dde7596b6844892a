import { Gauge, type Registry } from 'prom-client';
import type { KV } from '@nats-io/kv';
import { BowlineError, metricOnce, SettingsError, type Logger } from '@bowline/observability';
import { leaseHolderId } from './lease-bucket.js';
import { isWrongLastSequence } from './nats-errors.js';

/**
 * Leases: at most one replica of a service does a piece of work at a time (the sinker's passes,
 * the jenkins-operator's reconciliation), and another takes over when the holder stops or dies.
 *
 * A lease is one key in a KV bucket whose `max_age` is the lease's time to live. nats-server 2.9
 * has no per-key or per-message TTL (that came with 2.11), so the TTL belongs to the bucket: every
 * lease in one bucket shares it, and an unrenewed key vanishes by the *server's* clock, whatever
 * the holder's clock says.
 *
 * - acquire: `kv.create(name, holder)`, which fails while another holder's key exists;
 * - renew: `kv.update(name, holder, revision)` at the revision last written, which fails once the
 *   key expired and someone else created it (or it was deleted);
 * - release: `kv.delete(name, { previousSeq: revision })` on stop, so a standby takes over at
 *   once instead of after the TTL, and never deletes a successor's key.
 *
 * Usage (one bucket per process, one Lease per piece of work):
 *
 * ```ts
 * const kv = await openLeaseBucket(nc, { replicas: settings.streams.replicas });
 * const lease = new Lease({ kv, name: 'sinker', logger, registry, connection: nc });
 * lease.start({ onAcquired: () => sinker.kick(), onLost: () => logger.warn('standing by') });
 * // in the work loop, before each action that must not be done twice:
 * if (!lease.isHeld()) return;
 * // on SIGTERM:
 * await lease.stop(); // releases it
 * ```
 *
 * `isHeld()` turns false on its own once a renewal has not succeeded for a whole TTL (counted from
 * when that renewal was *sent*, so the local view expires no later than the server's copy), so a
 * holder cut off from NATS stops acting before a standby can start.
 *
 * The timing is one number, the bucket's TTL (`DEFAULT_LEASE_TTL_MS` in lease-bucket.ts): renewals
 * go out every third of it and an unanswered one is given up after half of that, unless a caller
 * passes its own.
 */

/** What the lease listens to for "connected again": a NATS connection's status events. */
export interface ConnectionStatus {
  status(): AsyncIterable<{ type: string }>;
}

export interface LeaseOptions {
  kv: KV;
  /** The key: what the lease is for (`sinker`, `jenkins-operator`). */
  name: string;
  /** Defaults to `leaseHolderId()`. */
  holder?: string;
  /** How often the holder renews and a standby tries to take over; defaults to a third of the TTL. */
  renewEveryMs?: number;
  /**
   * How long one renewal may take before its outcome is called unknown; defaults to half the
   * renewal interval, so a reply lost in an outage never delays the next try past its turn.
   */
  attemptTimeoutMs?: number;
  /** The NATS connection, so the lease renews the moment it is connected again after an outage. */
  connection?: ConnectionStatus;
  logger: Logger;
  /** When given, `bowline_lease_held{lease}` is 1 while this process holds the lease. */
  registry?: Registry;
  now?: () => number;
}

export interface LeaseCallbacks {
  /** This process has just become the holder. */
  onAcquired?: () => void;
  /** This process was the holder and is no longer (not called by `stop()`). */
  onLost?: () => void;
}

/** What one attempt found out; applied by `tick`, so an attempt given up on changes nothing. */
type Attempt = { held: true; revision: number; sentAt: number } | { held: false; reason: string; heldBy?: string };

class LeaseTimeoutError extends BowlineError {}

/** The first retry after a failed attempt; doubled on each failure, up to the renewal interval. */
const FIRST_RETRY_MS = 250;

/**
 * A lease survives a NATS outage shorter than what is left of its TTL (at least two thirds of it:
 * it was renewed at most a third ago). Renewals go out every third of the TTL, on a fixed beat
 * counted from when each was sent, not after the last one ended. A renewal that fails or times
 * out is not a loss, only an unknown: the holder keeps acting until its own copy of the TTL
 * (counted from the last renewal that surely went through) runs out, retries at once when NATS is
 * back, and soon after a failure. The lease is lost when another holder has the key, or when the
 * TTL ran out locally, which is never later than on the server. After a loss the process goes on
 * competing for the lease as a standby.
 */
export class Lease {
  readonly name: string;
  readonly holder: string;
  private readonly kv: KV;
  private readonly logger: Logger;
  private readonly now: () => number;
  private readonly gauge?: Gauge;
  private readonly connection?: ConnectionStatus;
  private renewEveryMs?: number;
  private attemptTimeoutMs?: number;
  private ttlMs = 0;
  /** The revision this holder last wrote; 0 while not holding. */
  private revision = 0;
  /** Until when the lease is surely ours: when the last successful write was sent, plus the TTL. */
  private validUntil = 0;
  private callbacks: LeaseCallbacks = {};
  private timer?: NodeJS.Timeout;
  /** Fires when the TTL runs out locally, whether or not an attempt is under way. */
  private expiry?: NodeJS.Timeout;
  private ticking?: Promise<void>;
  /** A tick was asked for while one ran (NATS came back): it runs as soon as this one ends. */
  private tickAgain = false;
  private connected = true;
  private statusIterator?: AsyncIterator<{ type: string }>;
  private stopped = false;
  private started = false;
  private waiters: (() => void)[] = [];
  /** Attempts failed in a row (NATS unreachable or slow). */
  private failures = 0;

  constructor(options: LeaseOptions) {
    this.kv = options.kv;
    this.name = options.name;
    this.holder = options.holder ?? leaseHolderId();
    this.renewEveryMs = options.renewEveryMs;
    this.attemptTimeoutMs = options.attemptTimeoutMs;
    this.connection = options.connection;
    this.now = options.now ?? Date.now;
    this.logger = options.logger.child({ lease: options.name, holder: this.holder });
    if (options.registry) {
      this.gauge = metricOnce(
        options.registry,
        'bowline_lease_held',
        (registers) => new Gauge({ name: 'bowline_lease_held', help: 'Whether this process holds the lease (1) or stands by (0)', labelNames: ['lease'], registers }),
      );
      this.gauge.set({ lease: this.name }, 0);
    }
  }

  /** Starts trying to acquire (and then renewing); resolves after the first attempt. */
  async start(callbacks: LeaseCallbacks = {}): Promise<void> {
    if (this.started) throw new BowlineError(`lease ${this.name} is started already`);
    this.started = true;
    this.callbacks = callbacks;
    this.ttlMs = (await this.kv.status()).ttl;
    if (!this.ttlMs) throw new SettingsError(`the bucket of lease ${this.name} has no TTL: open it with openLeaseBucket()`);
    this.renewEveryMs ??= Math.floor(this.ttlMs / 3);
    this.attemptTimeoutMs ??= Math.max(100, Math.floor(this.renewEveryMs / 2));
    // A holder renewing less than twice per TTL loses its lease to one slow reply.
    if (this.renewEveryMs <= 0 || this.renewEveryMs * 2 > this.ttlMs) {
      throw new SettingsError(`lease ${this.name}: renewing every ${this.renewEveryMs}ms does not fit twice in its TTL of ${this.ttlMs}ms`);
    }
    this.followConnection();
    await this.tick();
  }

  /** True while this process surely holds the lease: check it before each action. */
  isHeld(): boolean {
    return this.revision > 0 && this.now() < this.validUntil;
  }

  /** Resolves when this process holds the lease (at once if it does). */
  whenHeld(): Promise<void> {
    if (this.isHeld()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Stops renewing and releases the lease, so a standby takes over without waiting for the TTL. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    clearTimeout(this.expiry);
    void this.statusIterator?.return?.();
    await this.ticking;
    const revision = this.revision;
    this.setHeld(0, 0);
    if (revision === 0) return;
    try {
      await this.kv.delete(this.name, { previousSeq: revision });
      this.logger.info('lease released');
    } catch (error) {
      // Lost meanwhile (someone else holds it now) or NATS is gone: the TTL ends it either way.
      this.logger.warn({ err: error }, 'cannot release the lease: it expires by itself');
    }
  }

  /** Notes disconnections, and asks for a renewal the moment the connection is back. */
  private followConnection(): void {
    if (!this.connection) return;
    const iterator = this.connection.status()[Symbol.asyncIterator]();
    this.statusIterator = iterator;
    void (async () => {
      for (;;) {
        const next = await iterator.next().catch(() => ({ done: true as const, value: undefined }));
        if (next.done || this.stopped) return;
        if (next.value.type === 'disconnect') this.connected = false;
        if (next.value.type === 'reconnect') {
          this.connected = true;
          this.logger.info('NATS is back: renewing the lease now');
          this.requestTick();
        }
      }
    })();
  }

  private requestTick(): void {
    if (this.stopped) return;
    if (this.ticking) {
      this.tickAgain = true;
      return;
    }
    clearTimeout(this.timer);
    void this.tick();
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.tick(), Math.max(0, delayMs));
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    if (this.stopped || this.ticking) return;
    const startedAt = this.now();
    let succeeded = false;
    const attempt = (async () => {
      // While NATS is known to be away an attempt could only wait out its timeout (the client
      // buffers the request); the reconnect asks for one instead.
      if (!this.connected) return;
      const holding = this.revision > 0;
      try {
        const outcome = await this.withTimeout(holding ? this.renew() : this.acquire());
        succeeded = true;
        this.failures = 0;
        this.apply(outcome, holding);
      } catch (error) {
        this.failures += 1;
        // One warning per outage, not one per try, except while holding: then each one matters.
        const level = this.failures === 1 || holding ? 'warn' : 'debug';
        const timedOut = error instanceof LeaseTimeoutError;
        this.logger[level](
          { err: error, attempt: this.failures, validForMs: holding ? this.validUntil - this.now() : undefined },
          holding ? `cannot renew the lease (${timedOut ? 'no answer in time' : 'failed'}): outcome unknown, still held until its TTL ends` : 'cannot try to acquire the lease',
        );
      }
    })();
    this.ticking = attempt;
    await attempt;
    this.ticking = undefined;
    if (this.tickAgain) {
      this.tickAgain = false;
      return this.schedule(0);
    }
    const sinceStart = this.now() - startedAt;
    const retry = Math.min(this.renewEveryMs!, FIRST_RETRY_MS * 2 ** Math.max(0, this.failures - 1));
    // A standby tries twice per renewal interval: a dead holder's key is gone at most a TTL after
    // its last renewal, and its replacement starts half an interval later, not a whole one (issue
    // 15: builds again within 10 s of an operator's death).
    const beat = this.revision > 0 ? this.renewEveryMs! : Math.ceil(this.renewEveryMs! / 2);
    this.schedule(succeeded || this.failures === 0 ? beat - sinceStart : retry);
  }

  private withTimeout<T>(operation: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new LeaseTimeoutError(`no answer from NATS within ${this.attemptTimeoutMs}ms`)), this.attemptTimeoutMs);
    });
    // A late answer is dropped: the next attempt finds out what it did (see renew and acquire).
    operation.catch(() => undefined);
    return Promise.race([operation, timeout]).finally(() => clearTimeout(timer));
  }

  private apply(outcome: Attempt, wasHolding: boolean): void {
    if (outcome.held) {
      if (this.stopped) {
        void this.kv.delete(this.name, { previousSeq: outcome.revision }).catch(() => undefined);
        return;
      }
      this.setHeld(outcome.revision, outcome.sentAt + this.ttlMs);
      if (!wasHolding) {
        this.logger.info('lease acquired');
        this.callback('onAcquired');
      }
      return;
    }
    if (wasHolding) this.lose(outcome.reason);
    else this.logger.debug({ heldBy: outcome.heldBy }, 'lease held by another: standing by');
  }

  /** Creates the key; if it exists and is ours (a create whose answer was lost), renews it. */
  private async acquire(): Promise<Attempt> {
    const sentAt = this.now();
    try {
      return { held: true, revision: await this.kv.create(this.name, this.holder), sentAt };
    } catch (error) {
      if (!isWrongLastSequence(error)) throw error;
      return this.adoptIfOurs();
    }
  }

  /** Updates the key at the revision last written; a renewal whose answer was lost wrote one we never saw. */
  private async renew(): Promise<Attempt> {
    const sentAt = this.now();
    try {
      return { held: true, revision: await this.kv.update(this.name, this.holder, this.revision), sentAt };
    } catch (error) {
      if (!isWrongLastSequence(error)) throw error;
      return this.adoptIfOurs();
    }
  }

  private async adoptIfOurs(): Promise<Attempt> {
    const current = await this.kv.get(this.name);
    if (current?.operation !== 'PUT') return { held: false, reason: 'it expired' };
    const heldBy = current.string();
    if (heldBy !== this.holder) return { held: false, reason: `now held by ${heldBy}`, heldBy };
    const sentAt = this.now();
    return { held: true, revision: await this.kv.update(this.name, this.holder, current.revision), sentAt };
  }

  private lose(reason: string): void {
    if (this.revision === 0) return;
    this.setHeld(0, 0);
    this.logger.warn({ reason }, 'lease lost: standing by and competing for it again');
    this.callback('onLost');
  }

  private setHeld(revision: number, validUntil: number): void {
    this.revision = revision;
    this.validUntil = validUntil;
    this.gauge?.set({ lease: this.name }, revision > 0 ? 1 : 0);
    clearTimeout(this.expiry);
    if (revision === 0) return;
    this.armExpiry();
    const waiters = this.waiters;
    this.waiters = [];
    waiters.forEach((resolve) => resolve());
  }

  /** The TTL ends locally even while NATS is away and no attempt is made. */
  private armExpiry(): void {
    this.expiry = setTimeout(() => {
      if (this.revision === 0) return;
      // A timer may fire a millisecond before the clock says so: then it waits out the rest.
      if (this.now() < this.validUntil) return this.armExpiry();
      this.lose('not renewed within its TTL');
    }, Math.max(1, this.validUntil - this.now()));
    this.expiry.unref();
  }

  private callback(which: keyof LeaseCallbacks): void {
    try {
      this.callbacks[which]?.();
    } catch (error) {
      this.logger.error({ err: error }, `lease ${which} callback failed`);
    }
  }
}
