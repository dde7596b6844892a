import type { NatsConnection } from '@nats-io/transport-node';
import type { Registry } from 'prom-client';
import { Lease, openLeaseBucket, openProwJobBucket, SINKER_LEASE, type StreamSettings } from '@bowline/bus';
import type { ConfigSource } from '@bowline/config';
import { describeError, type Logger } from '@bowline/observability';
import { ProwJobStore } from '@bowline/prowjob';
import { HistoryRecorder } from './history-recorder.js';
import { Sinker } from './sinker.js';

export interface StartSinkerOptions {
  nc: NatsConnection;
  streams: StreamSettings;
  config: ConfigSource;
  logger: Logger;
  registry: Registry;
  now?: () => Date;
  /** The lease's holder id, bucket and timing; tests shorten the TTL to seconds. */
  lease?: { holder?: string; ttlMs?: number; renewEveryMs?: number; bucket?: string };
  /** How long a change handed to a sinker that died stays unrecorded before another gets it. */
  historyAckWaitMs?: number;
  /** `BOWLINE_EXIT_ON_LEASE_LOSS`: exit when the lease is lost instead of standing by. */
  exitOnLoss?: boolean;
  exit?: (code: number) => void;
}

export interface RunningSinker {
  sinker: Sinker;
  lease: Lease;
  history: HistoryRecorder;
  /** Finishes the job in hand, stops recording, and releases the lease for a standby. */
  stop(): Promise<void>;
}

/**
 * The sinker as a replica among several: every replica runs this, the holder of the `sinker`
 * lease records the history and makes the passes, the others stand by and take over when it
 * stops (at once: it releases the lease) or dies (after the lease's TTL). A holder that loses the
 * lease (NATS away for longer than the TTL) stands by in the same process and competes again.
 */
export async function startSinker(options: StartSinkerOptions): Promise<RunningSinker> {
  const { nc, streams, config, logger, registry } = options;
  const store = new ProwJobStore(await openProwJobBucket(nc, streams));
  const history = new HistoryRecorder({ nc, config, streams, logger, registry, ackWaitMs: options.historyAckWaitMs });
  // The stream exists from the first start, so `bowline jobs` can read it before anything ran.
  await history.applyRetention();
  const leases = await openLeaseBucket(nc, { replicas: streams.replicas, ttlMs: options.lease?.ttlMs, bucket: options.lease?.bucket });
  const lease = new Lease({
    kv: leases,
    name: SINKER_LEASE,
    holder: options.lease?.holder,
    renewEveryMs: options.lease?.renewEveryMs,
    connection: nc,
    logger,
    registry,
  });
  const sinker = new Sinker({ store, config, logger, registry, now: options.now, lease, history });

  // The holder's duties start and stop in order, one change at a time, however fast the lease
  // comes and goes.
  let stopping = false;
  let duties = Promise.resolve();
  const follow = (held: boolean): void => {
    duties = duties
      .then(async () => {
        if (stopping) return;
        if (!held) {
          await history.stop();
          if (options.exitOnLoss) {
            logger.error('sinker lease lost: exiting (BOWLINE_EXIT_ON_LEASE_LOSS)');
            options.exit?.(1);
          }
          return;
        }
        await history.start();
        sinker.kick();
      })
      .catch((error: unknown) => logger.error({ err: describeError(error) }, held ? 'cannot start the holder’s duties' : 'cannot stop the holder’s duties'));
  };
  sinker.start();
  await lease.start({ onAcquired: () => follow(true), onLost: () => follow(false) });
  // A pass cut by a NATS outage the lease outlived left jobs for its next pass, an hour away:
  // the holder passes again as soon as NATS is back.
  void (async () => {
    for await (const status of nc.status()) {
      if (stopping) return;
      if (status.type === 'reconnect' && lease.isHeld()) sinker.kick();
    }
  })();

  return {
    sinker,
    lease,
    history,
    stop: async () => {
      stopping = true;
      await sinker.stop();
      await duties;
      await history.stop();
      await lease.stop();
    },
  };
}
