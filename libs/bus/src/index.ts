export { connectBus, type BusConnection, type NatsConnection } from './connect.js';
export {
  bindProwJobBucket,
  ensureEventsStream,
  ensureHistoryStream,
  EVENTS_STREAM,
  HISTORY_STREAM,
  HISTORY_SUBJECT_PREFIX,
  openPlannerClaims,
  openProwJobBucket,
  openRedeliveryClaims,
  PROWJOBS_BUCKET,
  PROWJOBS_STREAM,
  type StreamSettings,
} from './streams.js';
export {
  ack,
  backoffMs,
  consumeEvents,
  encodeEnvelope,
  eventSubject,
  publishEncoded,
  publishEvent,
  type EventConsumer,
  type EventEnvelope,
  type Outcome,
} from './events.js';
export { Lease } from './lease.js';
export { DEFAULT_LEASE_TTL_MS, LEASES_BUCKET, openLeaseBucket, readLeaseSettings } from './lease-bucket.js';
export { connectOnce, readStream, type StreamMessage } from './read-stream.js';
export type { ReadSchema } from './payload-schema.js';
export { MAX_PAYLOAD_DEPTH, nestsDeeperThan, payloadChecker, type PayloadChecker } from './payloads.js';
export { DeadLetterSink, ensureDeadLetterStream, listDeadLetters, replayDeadLetter, type DeadLetter } from './dead-letters.js';
