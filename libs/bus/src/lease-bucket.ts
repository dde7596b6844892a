import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { jetstreamManager } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import { nanos, type NatsConnection } from '@nats-io/transport-node';
import { BowlineError, describeError, SettingsError } from '@bowline/observability';
import { LEASES_BUCKET } from './names.js';
import { retryStartup, StartupError } from './startup-retry.js';

// Where leases live (see Lease in lease.ts), how long they last, and what a replica does when it
// loses one.

/** The TTL of `bowline_leases`: how long a dead holder blocks its standby. */
export const DEFAULT_LEASE_TTL_MS = 6_000;

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
    return await retryStartup(`open bucket ${bucket}`, async () => {
      const kv = await new Kvm(nc).create(bucket, { history: 1, ttl: ttlMs, replicas: options.replicas });
      const status = await kv.status();
      if (status.ttl !== ttlMs) {
        const { config } = status.streamInfo;
        await (await jetstreamManager(nc)).streams.update(config.name, { ...config, max_age: nanos(ttlMs) });
      }
      return kv;
    });
  } catch (error) {
    if (error instanceof SettingsError || error instanceof StartupError) throw error;
    throw new BowlineError(`cannot open the lease bucket ${bucket}: ${describeError(error)}`, { cause: error, context: { bucket } });
  }
}

/**
 * Who holds a lease, as seen in logs and in the bucket: the pod's name (Kubernetes sets
 * `HOSTNAME` to it) and a random suffix, so a restarted pod of the same name is a new holder
 * and never mistakes its predecessor's key for its own.
 */
export function leaseHolderId(env: NodeJS.ProcessEnv = process.env): string {
  return `${env.HOSTNAME?.trim() || hostname()}-${randomBytes(4).toString('hex')}`;
}

/** Lease behaviour an operator chooses (`BOWLINE_EXIT_ON_LEASE_LOSS`). */
export interface LeaseSettings {
  /**
   * Exit when the lease is lost, as controller-runtime's leader election does, for those who want
   * a restart to be the only way back. By default a replica that loses the lease stays up as a
   * standby and competes again: run any other way than under Kubernetes, an exited replica stays down.
   */
  exitOnLoss: boolean;
}

export function readLeaseSettings(env: NodeJS.ProcessEnv): LeaseSettings {
  const raw = env.BOWLINE_EXIT_ON_LEASE_LOSS?.trim().toLowerCase() ?? '';
  if (!['', 'true', 'false', '1', '0'].includes(raw)) {
    throw new SettingsError(`BOWLINE_EXIT_ON_LEASE_LOSS is "${raw}": set it to true or false`, { context: { variable: 'BOWLINE_EXIT_ON_LEASE_LOSS' } });
  }
  return { exitOnLoss: raw === 'true' || raw === '1' };
}
