import type { KV, KvWatchEntry } from '@nats-io/kv';
import { retryStartup } from '@bowline/bus';
import type { Logger } from '@bowline/observability';

export interface BucketWatchOptions {
  /** How often the watch is compared with the bucket's last revision. */
  checkEveryMs?: number;
  /** How long one try to start the watch may take, and how long to keep trying. */
  attemptTimeoutMs: number;
  budgetMs: number;
}

/**
 * A watch of every key that notices when it stops delivering and starts again where it stopped.
 *
 * nats.js watches a bucket through an ordered consumer, which lives on one server, the stream's
 * leader: when that server dies the watch hears nothing until two idle heartbeats are missed (5 s
 * each), and after re-creating its consumer waits on 30 s heartbeats. An operator whose watch
 * stalled this way after the leader of `KV_prowjobs` was killed started no build for the jobs
 * created after (issue 15). Every `checkEveryMs` the bucket's last revision is read: a watch that
 * is behind it and has delivered nothing since the last look is stopped and opened again from the
 * revision after the last it delivered. Entries come out in revision order, none twice.
 */
export async function watchBucket(kv: KV, onEntry: (entry: KvWatchEntry) => void, logger: Logger, options: BucketWatchOptions): Promise<{ stop(): void }> {
  let delivered = 0;
  let stopped = false;
  const open = (from?: number) =>
    retryStartup('watch the ProwJob bucket', () => kv.watch(from === undefined ? {} : { resumeFromRevision: from }), {
      budgetMs: options.budgetMs,
      attemptTimeoutMs: options.attemptTimeoutMs,
      discard: (late) => late.stop(),
    });
  const follow = (watch: Awaited<ReturnType<typeof open>>): void => {
    void (async () => {
      for await (const entry of watch as AsyncIterable<KvWatchEntry>) {
        // A replaced watch may still hand over what the new one delivered already.
        if (entry.revision <= delivered) continue;
        delivered = entry.revision;
        onEntry(entry);
      }
    })();
  };
  let watch = await open();
  follow(watch);

  let stuckAt: number | undefined;
  let checking = false;
  const check = async (): Promise<void> => {
    const last = (await kv.status()).streamInfo.state.last_seq;
    if (last <= delivered) {
      stuckAt = undefined;
      return;
    }
    // Behind: once may be a watch at work, twice at the same place is a stalled one.
    if (stuckAt !== delivered) {
      stuckAt = delivered;
      return;
    }
    logger.warn({ delivered, last }, 'the ProwJob watch stopped delivering (its server gone?): watching again from where it stopped');
    watch.stop();
    const next = await open(delivered + 1);
    if (stopped) return next.stop();
    watch = next;
    follow(watch);
    stuckAt = undefined;
  };
  const timer = setInterval(() => {
    if (checking || stopped) return;
    checking = true;
    check()
      .catch((error: unknown) => logger.debug({ err: error }, 'cannot compare the ProwJob watch with the bucket: trying at the next look'))
      .finally(() => (checking = false));
  }, options.checkEveryMs ?? 2000);
  timer.unref();
  return {
    stop: () => {
      stopped = true;
      clearInterval(timer);
      watch.stop();
    },
  };
}
