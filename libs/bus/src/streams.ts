import { jetstreamManager, type StreamConfig } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import { nanos, type NatsConnection } from '@nats-io/transport-node';
import { EVENTS_STREAM, EVENTS_SUBJECT_PREFIX, HISTORY_STREAM, HISTORY_SUBJECT_PREFIX, HOOK_REDELIVERIES_BUCKET, PLANNER_CLAIMS_BUCKET, PROWJOBS_BUCKET, REPORTER_CLAIMS_BUCKET } from './names.js';
import { isStreamNameInUse, isStreamNotFound } from './nats-errors.js';
import { retryStartup, type StartupRetryOptions } from './startup-retry.js';

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
export async function ensureEventsStream(nc: NatsConnection, settings: StreamSettings, retry: StartupRetryOptions = {}): Promise<void> {
  const config: Partial<StreamConfig> & { name: string } = {
    name: EVENTS_STREAM,
    subjects: [`${EVENTS_SUBJECT_PREFIX}.>`],
    duplicate_window: nanos(24 * HOUR_MS),
    max_age: nanos(7 * 24 * HOUR_MS),
    num_replicas: settings.replicas,
  };
  await ensureStream(nc, config, () => false, retry);
}

/**
 * Creates or updates the HISTORY stream: one record per state change of every ProwJob, kept for
 * `bowline.history.max_age` (config), long after the sinker deleted the job from the bucket.
 * Records carry `Nats-Msg-Id` = `<prowjob>:<state>`; the duplicate window of a day (or the whole
 * retention, if shorter: the server refuses a window longer than max_age) drops the copies a
 * replayed consumer or a second sinker would write.
 */
export async function ensureHistoryStream(nc: NatsConnection, settings: StreamSettings & { maxAgeMs: number }): Promise<void> {
  const config: Partial<StreamConfig> & { name: string } = {
    name: HISTORY_STREAM,
    subjects: [`${HISTORY_SUBJECT_PREFIX}.>`],
    duplicate_window: nanos(Math.min(24 * HOUR_MS, settings.maxAgeMs)),
    max_age: nanos(settings.maxAgeMs),
    num_replicas: settings.replicas,
  };
  await ensureStream(nc, config, sameRetention);
}

/** True when a stream's limits are those wanted, so it needs no update. */
export function sameRetention(current: StreamConfig, wanted: Partial<StreamConfig>): boolean {
  return current.max_age === wanted.max_age && current.num_replicas === wanted.num_replicas && current.duplicate_window === wanted.duplicate_window;
}

/**
 * Creates the stream, or updates it unless `isCurrent` says it is as wanted. Many replicas do this
 * at once at start: each step is retried while the cluster is busy (retryStartup), and a create
 * that lost the race to another replica's turns into an update.
 */
export async function ensureStream(
  nc: NatsConnection,
  config: Partial<StreamConfig> & { name: string },
  isCurrent: (current: StreamConfig, wanted: Partial<StreamConfig>) => boolean,
  retry: StartupRetryOptions = {},
): Promise<void> {
  await retryStartup(`create stream ${config.name}`, async () => {
    const jsm = await jetstreamManager(nc);
    try {
      const { config: current } = await jsm.streams.info(config.name);
      if (!isCurrent(current, config)) await jsm.streams.update(config.name, config);
    } catch (error) {
      if (!isStreamNotFound(error)) throw error;
      try {
        await jsm.streams.add(config);
      } catch (addError) {
        if (!isStreamNameInUse(addError)) throw addError;
        await jsm.streams.update(config.name, config);
      }
    }
  }, retry);
}

/** Opens the ProwJob bucket, creating it on first use. */
export async function openProwJobBucket(nc: NatsConnection, settings: StreamSettings): Promise<KV> {
  // History of a few revisions helps when reading what happened to a job; the bucket itself is
  // the state, the HISTORY stream (sinker) keeps the long record.
  return retryStartup(`open bucket ${PROWJOBS_BUCKET}`, () => new Kvm(nc).create(PROWJOBS_BUCKET, { history: 5, replicas: settings.replicas }));
}

/**
 * The ProwJob bucket for a reader that must not create it (`bowline jobs`: a bucket created by a
 * tool would get the tool's replica count); undefined when it does not exist yet.
 */
export async function bindProwJobBucket(nc: NatsConnection): Promise<KV | undefined> {
  const kv = await new Kvm(nc).open(PROWJOBS_BUCKET);
  try {
    await kv.status();
    return kv;
  } catch (error) {
    if (isStreamNotFound(error)) return undefined;
    throw error;
  }
}

/**
 * The hook's record of which failed webhook deliveries it has asked GitHub to send again; entries
 * expire after GitHub's three days of delivery history.
 */
export async function openRedeliveryClaims(nc: NatsConnection, settings: StreamSettings): Promise<KV> {
  return retryStartup(`open bucket ${HOOK_REDELIVERIES_BUCKET}`, () => new Kvm(nc).create(HOOK_REDELIVERIES_BUCKET, { history: 1, ttl: 3 * 24 * HOUR_MS, replicas: settings.replicas }));
}

/**
 * The planner's claims: which periodic slot has run, and which commit an `/ok-to-test` approved
 * (`bowline.trust.ok_to_test: per_commit`). A create on an existing key fails, which is how one
 * replica among several wins a claim.
 */
export async function openPlannerClaims(nc: NatsConnection, settings: StreamSettings): Promise<KV> {
  return retryStartup(`open bucket ${PLANNER_CLAIMS_BUCKET}`, () => new Kvm(nc).create(PLANNER_CLAIMS_BUCKET, { history: 1, replicas: settings.replicas }));
}

/**
 * The reporter's claims on pull requests: the replica that rewrites a pull request's failure
 * comment holds its key for the time it takes, so two replicas (a lease handed over mid-comment)
 * never post two comments. A claim left by a replica that died is taken over by compare-and-set
 * once it is old (see services/reporter), not by a bucket TTL, which would end a slow holder's
 * claim while it still writes.
 */
export async function openReporterClaims(nc: NatsConnection, settings: StreamSettings): Promise<KV> {
  return retryStartup(`open bucket ${REPORTER_CLAIMS_BUCKET}`, () => new Kvm(nc).create(REPORTER_CLAIMS_BUCKET, { history: 1, replicas: settings.replicas }));
}
