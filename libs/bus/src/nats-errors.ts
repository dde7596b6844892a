import { JetStreamApiCodes, JetStreamApiError } from '@nats-io/jetstream';
import { NoRespondersError, RequestError, TimeoutError } from '@nats-io/transport-node';

// What a NATS or JetStream error means, read from the typed errors and API codes @nats-io/jetstream
// 3.x exports, never from message text (issue 16 item 6). Every check walks the `cause` chain,
// since the client wraps (a RequestError around a NoRespondersError) and so does Bowline.

/** JetStream's `err_code` values Bowline reacts to (nats-server's errors.json). */
export const JetStreamErrorCode = {
  streamNotFound: JetStreamApiCodes.StreamNotFound,
  consumerNotFound: JetStreamApiCodes.ConsumerNotFound,
  wrongLastSequence: JetStreamApiCodes.StreamWrongLastSequence,
  wrongLastSequenceUnknown: JetStreamApiCodes.StreamWrongLastSequenceUnknown,
  /** "JetStream system temporarily unavailable": a cluster electing its meta leader. */
  clusterNotAvailable: 10008,
  /** "JetStream not enabled for account": what a server answers before its cluster has formed. */
  notEnabledForAccount: JetStreamApiCodes.JetStreamNotEnabledForAccount,
  /** "JetStream cluster not assigned to this account": seen while a fresh cluster forms. */
  clusterNotAssigned: 10076,
  /** "stream name already in use with a different configuration": a racing create. */
  streamNameInUse: 10058,
} as const;

function* causes(error: unknown): Generator<unknown> {
  for (let current = error, depth = 0; current !== undefined && current !== null && depth < 10; depth += 1) {
    yield current;
    current = current instanceof Error ? current.cause : undefined;
  }
}

/** The JetStream API `err_code` of the error or of one of its causes, if it has one. */
export function jetStreamErrorCode(error: unknown): number | undefined {
  for (const e of causes(error)) if (e instanceof JetStreamApiError) return e.code;
  return undefined;
}

function hasCode(error: unknown, ...codes: number[]): boolean {
  const code = jetStreamErrorCode(error);
  return code !== undefined && codes.includes(code);
}

export function isStreamNotFound(error: unknown): boolean {
  return hasCode(error, JetStreamErrorCode.streamNotFound);
}

export function isConsumerNotFound(error: unknown): boolean {
  return hasCode(error, JetStreamErrorCode.consumerNotFound);
}

/** A compare-and-set that lost: the key (or stream) is no longer at the revision the write expected. */
export function isWrongLastSequence(error: unknown): boolean {
  return hasCode(error, JetStreamErrorCode.wrongLastSequence, JetStreamErrorCode.wrongLastSequenceUnknown);
}

export function isStreamNameInUse(error: unknown): boolean {
  return hasCode(error, JetStreamErrorCode.streamNameInUse);
}

/**
 * A failure that a moment later may not be one: no answer in time, nobody answering the JetStream
 * API (a server restarting), or a cluster still electing its leaders.
 */
export function isTransientNatsError(error: unknown): boolean {
  for (const e of causes(error)) {
    // nats.js wraps "no responders" from the JetStream API in a JetStreamNotEnabled: the cause says which.
    if (e instanceof TimeoutError || e instanceof NoRespondersError) return true;
    if (e instanceof RequestError && e.isNoResponders()) return true;
  }
  return hasCode(error, JetStreamErrorCode.clusterNotAvailable, JetStreamErrorCode.clusterNotAssigned, JetStreamErrorCode.notEnabledForAccount);
}

/** A few words for a transient error, as a start-up failure names it: `timeout`, `no responders`. */
export function transientReason(error: unknown): string {
  for (const e of causes(error)) {
    if (e instanceof TimeoutError) return 'timeout';
    if (e instanceof NoRespondersError || (e instanceof RequestError && e.isNoResponders())) return 'no responders';
    if (e instanceof JetStreamApiError) return e.message;
  }
  return error instanceof Error ? error.message : String(error);
}
