import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, type ConsumerMessages, type JetStreamClient, type JsMsg } from '@nats-io/jetstream';
import { setTimeout as sleep } from 'node:timers/promises';
import { nanos, type NatsConnection } from '@nats-io/transport-node';
import { Counter, type Registry } from 'prom-client';
import { backoffMs, DeadLetterSink, ensureHistoryStream, HISTORY_STREAM, isConsumerNotFound, isStreamNotFound, HISTORY_SUBJECT_PREFIX, PROWJOBS_STREAM, PROWJOBS_SUBJECT_PREFIX, SINKER_HISTORY_CONSUMER, type StreamSettings } from '@bowline/bus';
import type { ConfigSource } from '@bowline/config';
import { BowlineError, describeError, type Logger } from '@bowline/observability';
import { historyMessageId, historySubject, toHistoryRecord, type HistoryRecord, type ProwJob } from '@bowline/prowjob';

const DEFAULT_ACK_WAIT_MS = 5_000;

export interface HistoryRecorderDeps {
  nc: NatsConnection;
  config: ConfigSource;
  streams: StreamSettings;
  logger: Logger;
  registry: Registry;
  /**
   * How long a delivered change may stay unacknowledged before NATS gives it to another sinker
   * (default 5 s). Recording one change is one publish, so 5 s is ample; and with one change in
   * flight at a time (max_ack_pending 1), a change pulled by a sinker that stopped or died before
   * handling it holds the whole history back for this long, which the sinker's deletions wait on
   * (`recordedUpTo` waits 10 s). A change handled twice is recorded once (`Nats-Msg-Id`).
   */
  ackWaitMs?: number;
}

export type RecordOutcome = 'written' | 'duplicate' | 'unchanged';

/**
 * Keeps every state change of every ProwJob in the HISTORY stream, by reading the bucket's own
 * stream (`KV_prowjobs`) with a durable consumer: a change made while no sinker ran is still
 * there when one starts, so nothing is missed for downtime shorter than the bucket keeps
 * revisions. The bucket keeps 5 revisions a key, so after a long outage a busy job's intermediate
 * states may be gone; its latest state is still recorded, which is what the history must not lose.
 *
 * One change at a time, in stream order (`max_ack_pending` 1): a job's records are then written
 * in the order its states happened, even when the consumer moves to another sinker mid-way, and
 * the consumer's acknowledged floor tells the sinker up to which revision everything is recorded.
 */
export class HistoryRecorder {
  private readonly js: JetStreamClient;
  private readonly written: Counter;
  private readonly deadLetters: DeadLetterSink;
  private appliedMaxAgeMs?: number;
  private messages?: ConsumerMessages;
  private loop?: Promise<void>;
  /** Aborted by stop(), so a retry waiting out a NATS outage does not hold the stop up. */
  private stopping = new AbortController();

  constructor(private readonly deps: HistoryRecorderDeps) {
    this.js = jetstream(deps.nc);
    this.deadLetters = new DeadLetterSink({ nc: deps.nc, service: 'sinker', logger: deps.logger, registry: deps.registry });
    this.written = new Counter({
      name: 'bowline_sinker_history_records_total',
      help: 'State changes of ProwJobs written to the HISTORY stream, by state',
      labelNames: ['state'],
      registers: [deps.registry],
    });
  }

  /** Creates the HISTORY stream, or brings its retention to `bowline.history.max_age` after a reload. */
  async applyRetention(): Promise<void> {
    const { maxAgeMs } = this.deps.config.get().history;
    if (maxAgeMs === this.appliedMaxAgeMs) return;
    try {
      await ensureHistoryStream(this.deps.nc, { ...this.deps.streams, maxAgeMs });
    } catch (error) {
      throw new BowlineError(`cannot create or update the ${HISTORY_STREAM} stream: ${describeError(error)}`, { cause: error });
    }
    this.appliedMaxAgeMs = maxAgeMs;
  }

  /** Starts reading the bucket's changes where the last sinker left off. */
  async start(): Promise<void> {
    if (this.loop) return;
    this.stopping = new AbortController();
    await this.applyRetention();
    const jsm = await jetstreamManager(this.deps.nc);
    const config = {
      durable_name: SINKER_HISTORY_CONSUMER,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: nanos(this.deps.ackWaitMs ?? DEFAULT_ACK_WAIT_MS),
      max_ack_pending: 1,
      // One filter, not `filter_subjects`: Debian's nats-server is 2.9, which has only the former.
      filter_subject: `${PROWJOBS_SUBJECT_PREFIX}.>`,
    };
    try {
      await jsm.consumers.info(PROWJOBS_STREAM, SINKER_HISTORY_CONSUMER);
      await jsm.consumers.update(PROWJOBS_STREAM, SINKER_HISTORY_CONSUMER, { ack_wait: config.ack_wait, max_ack_pending: config.max_ack_pending });
    } catch (error) {
      if (!isConsumerNotFound(error)) throw error;
      await jsm.consumers.add(PROWJOBS_STREAM, config);
    }
    const consumer = await this.js.consumers.get(PROWJOBS_STREAM, SINKER_HISTORY_CONSUMER);
    const messages = await consumer.consume({ max_messages: 1 });
    this.messages = messages;
    this.loop = (async () => {
      for await (const message of messages) await this.handle(message);
    })().catch((error: unknown) => this.deps.logger.error({ err: error }, 'history consumer stopped'));
    this.deps.logger.info('recording ProwJob history');
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    await this.messages?.close();
    await this.loop;
    this.messages = undefined;
    this.loop = undefined;
  }

  /**
   * The bucket revision up to which every change is recorded, waiting a little (while the
   * consumer catches up) for it to reach `atLeast`. The sinker deletes a job only once its
   * revision is at or below it, so a job never leaves the bucket before its end is in the history.
   */
  async recordedUpTo(atLeast = 0, waitMs = 10_000): Promise<number> {
    const jsm = await jetstreamManager(this.deps.nc);
    const deadline = Date.now() + waitMs;
    for (;;) {
      let floor = 0;
      try {
        floor = (await jsm.consumers.info(PROWJOBS_STREAM, SINKER_HISTORY_CONSUMER)).ack_floor.stream_seq;
      } catch (error) {
        if (!isConsumerNotFound(error) && !isStreamNotFound(error)) throw error;
      }
      if (floor >= atLeast || Date.now() >= deadline || this.stopping.signal.aborted || !this.loop) return floor;
      await sleep(100, undefined, { signal: this.stopping.signal }).catch(() => undefined);
    }
  }

  /**
   * Writes the job's state, read at `revision`, unless its last record already has that state or
   * a later revision: only state changes are history, and a replayed old revision is no change.
   * `Nats-Msg-Id` drops the copy two writers racing on one change would make.
   */
  async record(job: ProwJob, revision: number): Promise<RecordOutcome> {
    return this.write(toHistoryRecord(job, revision));
  }

  private async write(record: HistoryRecord): Promise<RecordOutcome> {
    const subject = historySubject(HISTORY_SUBJECT_PREFIX, record);
    const last = await this.lastRecord(subject);
    if (last && (last.state === record.state || last.revision >= record.revision)) return 'unchanged';
    const ack = await this.js.publish(subject, JSON.stringify(record), { msgID: historyMessageId(record) });
    if (ack.duplicate) return 'duplicate';
    this.written.inc({ state: record.state });
    this.deps.logger.debug({ prowjob: record.prowjob, job: record.job, repo: record.repo, pr: record.pr, state: record.state }, 'history recorded');
    return 'written';
  }

  private async lastRecord(subject: string): Promise<HistoryRecord | undefined> {
    const jsm = await jetstreamManager(this.deps.nc);
    const stored = await jsm.streams.getMessage(HISTORY_STREAM, { last_by_subj: subject });
    return stored ? stored.json<HistoryRecord>() : undefined;
  }

  private async handle(message: JsMsg): Promise<void> {
    const prowjob = message.subject.slice(`${PROWJOBS_SUBJECT_PREFIX}.`.length);
    const operation = message.headers?.get('KV-Operation');
    // Deletions are not history: the sinker deleting a job is retention, not something that ran.
    if (operation === 'DEL' || operation === 'PURGE') return message.ack();
    // A value that is not a ProwJob can never be recorded; retried, it would hold up every change
    // behind it (one at a time, in order), so it is put aside as a dead letter instead.
    let record: HistoryRecord;
    try {
      record = toHistoryRecord(message.json<ProwJob>(), message.seq);
      historySubject(HISTORY_SUBJECT_PREFIX, record);
    } catch (error) {
      const reason = error instanceof SyntaxError ? 'not_json' : 'invalid_payload';
      await this.deadLetters.reject(message, reason, `not a ProwJob that can be recorded: ${describeError(error)}`, { log: { prowjob } });
      return;
    }
    // Retried here rather than nak'ed, so no later change is recorded before this one.
    for (let attempt = 1; ; attempt += 1) {
      try {
        await this.write(record);
        return message.ack();
      } catch (error) {
        if (this.stopping.signal.aborted) return message.nak();
        this.deps.logger.warn({ prowjob, job: record.job, attempt, err: error }, 'cannot record history: retrying');
        message.working();
        await sleep(Math.min(5000, backoffMs(attempt)), undefined, { signal: this.stopping.signal }).catch(() => undefined);
        if (this.stopping.signal.aborted) return message.nak();
      }
    }
  }
}
