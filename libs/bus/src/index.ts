export { connectBus, type BusConnection, type NatsConnection } from './connect.js';
export {
  EVENTS_STREAM,
  eventsFilter,
  eventSubject,
  IMPLICIT_TENANT,
  parseEventSubject,
  tenantConsumer,
  HISTORY_STREAM,
  HISTORY_SUBJECT_PREFIX,
  JENKINS_OPERATOR_LEASE,
  KUBE_BRIDGE_LEASE,
  LEASES_BUCKET,
  PLANNER_CLAIMS_BUCKET,
  PLANNER_CONSUMER,
  PROWJOBS_STREAM,
  PROWJOBS_SUBJECT_PREFIX,
  REPORTER_LEASE,
  SINKER_HISTORY_CONSUMER,
  SINKER_LEASE,
} from './names.js';
export {
  bindProwJobBucket,
  ensureEventsStream,
  ensureHistoryStream,
  openPlannerClaims,
  openProwJobBucket,
  openRedeliveryClaims,
  openReporterClaims,
  type StreamSettings,
} from './streams.js';
export {
  ack,
  backoffMs,
  consumeEvents,
  encodeEnvelope,
  publishEncoded,
  publishEvent,
  type EventConsumer,
  type EventEnvelope,
  type Outcome,
} from './events.js';
export { Lease } from './lease.js';
export { DEFAULT_LEASE_TTL_MS, openLeaseBucket, readLeaseSettings } from './lease-bucket.js';
export { connectOnce, readStream, type StreamMessage } from './read-stream.js';
export { lastMessageOn, readStreamRange, streamBounds } from './stream-range.js';
export type { ReadSchema } from './payload-schema.js';
export { MAX_PAYLOAD_DEPTH, nestsDeeperThan, payloadChecker, type PayloadChecker } from './payloads.js';
export { DeadLetterSink, ensureDeadLetterStream, listDeadLetters, replayDeadLetter, type DeadLetter } from './dead-letters.js';
export { isConsumerNotFound, isStreamNotFound, isWrongLastSequence } from './nats-errors.js';
export { retryStartup } from './startup-retry.js';
