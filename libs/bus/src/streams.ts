import { jetstreamManager, type StreamConfig } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import { nanos, type NatsConnection } from '@nats-io/transport-node';

export const EVENTS_STREAM = 'EVENTS';
export const EVENTS_SUBJECT_PREFIX = 'bowline.events';
export const PROWJOBS_BUCKET = 'prowjobs';

export interface StreamSettings {
  /** JetStream replicas for every stream and bucket Bowline creates (3 in production clusters). */
  replicas: number;
}

const HOUR_MS = 3_600_000;

/**
 * Creates or updates the EVENTS stream. Every service calls this at start, so whichever comes up
 * first makes it. The duplicate window is a day, not NATS's default two minutes, because GitHub's
 * "Redeliver" button is pressed by people, often much later than two minutes.
 */
export async function ensureEventsStream(nc: NatsConnection, settings: StreamSettings): Promise<void> {
  const jsm = await jetstreamManager(nc);
  const config: Partial<StreamConfig> & { name: string } = {
    name: EVENTS_STREAM,
    subjects: [`${EVENTS_SUBJECT_PREFIX}.>`],
    duplicate_window: nanos(24 * HOUR_MS),
    max_age: nanos(7 * 24 * HOUR_MS),
    num_replicas: settings.replicas,
  };
  try {
    await jsm.streams.info(EVENTS_STREAM);
    await jsm.streams.update(EVENTS_STREAM, config);
  } catch (error) {
    if (!isNotFound(error)) throw error;
    await jsm.streams.add(config);
  }
}

/** Opens the ProwJob bucket, creating it on first use. */
export async function openProwJobBucket(nc: NatsConnection, settings: StreamSettings): Promise<KV> {
  // History of a few revisions helps when reading what happened to a job; the bucket itself is
  // the state, the HISTORY stream (sinker) keeps the long record.
  return new Kvm(nc).create(PROWJOBS_BUCKET, { history: 5, replicas: settings.replicas });
}

function isNotFound(error: unknown): boolean {
  return error instanceof Error && /not found/i.test(error.message);
}

/**
 * The hook's record of which failed webhook deliveries it has asked GitHub to send again; entries
 * expire after GitHub's three days of delivery history.
 */
export async function openRedeliveryClaims(nc: NatsConnection, settings: StreamSettings): Promise<KV> {
  return new Kvm(nc).create('hook_redeliveries', { history: 1, ttl: 3 * 24 * HOUR_MS, replicas: settings.replicas });
}

/**
 * The planner's claims: which periodic slot has run, and which commit an `/ok-to-test` approved
 * (`bowline.trust.ok_to_test: per_commit`). A create on an existing key fails, which is how one
 * replica among several wins a claim.
 */
export async function openPlannerClaims(nc: NatsConnection, settings: StreamSettings): Promise<KV> {
  return new Kvm(nc).create('planner_claims', { history: 1, replicas: settings.replicas });
}
