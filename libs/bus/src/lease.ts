import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { jetstreamManager } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import { nanos, type NatsConnection } from '@nats-io/transport-node';
import { Gauge, type Registry } from 'prom-client';
import { BowlineError, describeError, SettingsError, type Env, type Logger } from '@bowline/observability';

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
 * const lease = new Lease({ kv, name: 'sinker', logger, registry });
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
 */

export const LEASES_BUCKET = 'bowline_leases';
/** The TTL of `bowline_leases`: how long a dead holder blocks its standby. */
export const DEFAULT_LEASE_TTL_MS = 15_000;

export interface LeaseBucketOptions {
  /** JetStream replicas, as `BOWLINE_NATS_REPLICAS`. */
  replicas: number;
  /** The bucket's `max_age`, shared by every lease in it. Every user of one bucket passes the same value. */
  ttlMs?: number;
  /** Another bucket, for leases that need another TTL (tests use short ones). */
  bucket?: string;
}

/**
 * Opens the lease bucket, creating it on first use. An existing bucket with another TTL is brought
 * to this one, so a changed default takes effect on the next start.
 */
export async function openLeaseBucket(nc: NatsConnection, options: LeaseBucketOptions): Promise<KV> {
  const ttlMs = options.ttlMs ?? DEFAULT_LEASE_TTL_MS;
  const bucket = options.bucket ?? LEASES_BUCKET;
  // A renewal needs a few tries inside one TTL; below a second there is no room for a slow reply.
  if (!Number.isFinite(ttlMs) || ttlMs < 1000) throw new SettingsError(`lease TTL must be at least 1s, not ${ttlMs}ms`);
  try {
    const kv = await new Kvm(nc).create(bucket, { history: 1, ttl: ttlMs, replicas: options.replicas });
    const status = await kv.status();
    if (status.ttl !== ttlMs) {
      const { config } = status.streamInfo;
      await (await jetstreamManager(nc)).streams.update(config.name, { ...config, max_age: nanos(ttlMs) });
    }
    return kv;
  } catch (error) {
    if (error instanceof SettingsError) throw error;
    throw new BowlineError(`cannot open the lease bucket ${bucket}: ${describeError(error)}`, { cause: error, context: { bucket } });
  }
}

/**
 * Who holds a lease, as seen in logs and in the bucket: the pod's name (Kubernetes sets
 * `HOSTNAME` to it) and a random suffix, so a restarted pod of the same name is a new holder
 * and never mistakes its predecessor's key for its own.
 */
export function leaseHolderId(env: Env = process.env): string {
  return `${env.HOSTNAME?.trim() || hostname()}-${randomBytes(4).toString('hex')}`;
}

export interface LeaseOptions {
  kv: KV;
  /** The key: what the lease is for (`sinker`, `jenkins-operator`). */
  name: string;
  /** Defaults to `leaseHolderId()`. */
  holder?: string;
  /** How often the holder renews and a standby tries to take over; defaults to a third of the TTL. */
  renewEveryMs?: number;
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

export class Lease {
  readonly name: string;
  readonly holder: string;
  private readonly kv: KV;
  private readonly logger: Logger;
  private readonly now: () => number;
  private readonly gauge?: Gauge;
  private renewEveryMs?: number;
  private ttlMs = 0;
  /** The revision this holder last wrote; 0 while not holding. */
  private revision = 0;
  /** Until when the lease is surely ours: when the last successful write was sent, plus the TTL. */
  private validUntil = 0;
  private callbacks: LeaseCallbacks = {};
  private timer?: NodeJS.Timeout;
  private ticking?: Promise<void>;
  private stopped = false;
  private started = false;
  private waiters: (() => void)[] = [];
  /** Attempts failed in a row (NATS unreachable). */
  private failures = 0;

  constructor(options: LeaseOptions) {
    this.kv = options.kv;
    this.name = options.name;
    this.holder = options.holder ?? leaseHolderId();
    this.renewEveryMs = options.renewEveryMs;
    this.now = options.now ?? Date.now;
    this.logger = options.logger.child({ lease: options.name, holder: this.holder });
    if (options.registry) {
      const existing = options.registry.getSingleMetric('bowline_lease_held');
      this.gauge =
        (existing as Gauge | undefined) ??
        new Gauge({ name: 'bowline_lease_held', help: 'Whether this process holds the lease (1) or stands by (0)', labelNames: ['lease'], registers: [options.registry] });
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
    // A holder renewing less than twice per TTL loses its lease to one slow reply.
    if (this.renewEveryMs <= 0 || this.renewEveryMs * 2 > this.ttlMs) {
      throw new SettingsError(`lease ${this.name}: renewing every ${this.renewEveryMs}ms does not fit twice in its TTL of ${this.ttlMs}ms`);
    }
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
    await this.ticking;
    const revision = this.revision;
    this.setHeld(0, 0);
    if (revision === 0) return;
    try {
      await this.kv.delete(this.name, { previousSeq: revision });
      this.logger.info('lease released');
    } catch (error) {
      // Lost meanwhile (someone else holds it now) or NATS is gone: the TTL ends it either way.
      this.logger.warn({ err: describeError(error) }, 'cannot release the lease: it expires by itself');
    }
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.tick(), this.renewEveryMs);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    const attempt = (async () => {
      const sentAt = this.now();
      try {
        if (this.revision > 0) await this.renew(sentAt);
        else await this.acquire(sentAt);
        this.failures = 0;
      } catch (error) {
        // NATS unreachable or slow: keep the lease while it is surely valid, then give it up.
        // One warning per outage, not one per attempt.
        this.failures += 1;
        const level = this.failures === 1 || this.revision > 0 ? 'warn' : 'debug';
        this.logger[level]({ err: describeError(error), attempt: this.failures }, this.revision > 0 ? 'cannot renew the lease' : 'cannot try to acquire the lease');
        if (this.revision > 0 && this.now() >= this.validUntil) this.lose('not renewed within its TTL');
      }
    })();
    this.ticking = attempt;
    await attempt;
    this.schedule();
  }

  private async acquire(sentAt: number): Promise<void> {
    try {
      const revision = await this.kv.create(this.name, this.holder);
      if (this.stopped) {
        await this.kv.delete(this.name, { previousSeq: revision }).catch(() => undefined);
        return;
      }
      this.setHeld(revision, sentAt + this.ttlMs);
      this.logger.info('lease acquired');
      this.callback('onAcquired');
    } catch (error) {
      if (!isWrongLastSequence(error)) throw error;
      const current = await this.kv.get(this.name).catch(() => null);
      this.logger.debug({ heldBy: current?.operation === 'PUT' ? current.string() : undefined }, 'lease held by another: standing by');
    }
  }

  private async renew(sentAt: number): Promise<void> {
    try {
      this.setHeld(await this.kv.update(this.name, this.holder, this.revision), sentAt + this.ttlMs);
    } catch (error) {
      if (!isWrongLastSequence(error)) throw error;
      // A renewal whose reply was lost wrote the key at a revision we never saw: still ours.
      const current = await this.kv.get(this.name);
      if (current?.operation === 'PUT' && current.string() === this.holder) {
        this.revision = current.revision;
        return;
      }
      this.lose(current?.operation === 'PUT' ? `now held by ${current.string()}` : 'it expired');
    }
  }

  private lose(reason: string): void {
    if (this.revision === 0) return;
    this.setHeld(0, 0);
    this.logger.warn({ reason }, 'lease lost');
    this.callback('onLost');
  }

  private setHeld(revision: number, validUntil: number): void {
    this.revision = revision;
    this.validUntil = validUntil;
    this.gauge?.set({ lease: this.name }, revision > 0 ? 1 : 0);
    if (revision > 0) {
      const waiters = this.waiters;
      this.waiters = [];
      waiters.forEach((resolve) => resolve());
    }
  }

  private callback(which: keyof LeaseCallbacks): void {
    try {
      this.callbacks[which]?.();
    } catch (error) {
      this.logger.error({ err: describeError(error) }, `lease ${which} callback failed`);
    }
  }
}

function isWrongLastSequence(error: unknown): boolean {
  return /wrong last sequence/i.test(describeError(error));
}
