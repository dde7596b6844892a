import type { KV } from '@nats-io/kv';
import { isWrongLastSequence } from '@bowline/bus';
import { BowlineError, type Logger } from '@bowline/observability';

/** What the claims need of a KV bucket (`reporter_claims`, opened by openReporterClaims). */
export type ClaimBucket = Pick<KV, 'create' | 'get' | 'update' | 'delete'>;

/** Another replica held the pull request's claim for longer than this replica would wait. */
export class ClaimBusyError extends BowlineError {}

interface ClaimRecord {
  holder: string;
  /** When it was taken, by the holder's clock (ms since the epoch). */
  at: number;
}

export interface PullRequestClaimOptions {
  bucket: ClaimBucket;
  /** Who claims: the reporter's lease holder id, so logs and the bucket name one replica. */
  holder: string;
  logger: Logger;
  /**
   * A claim older than this is taken to be a dead replica's and taken over (by compare-and-set, so
   * only one of several waiting replicas gets it). A failure comment takes a few writes, paced at
   * one a second by libs/github: half a minute is far above that.
   */
  staleAfterMs?: number;
  /** How long to wait for a held claim before giving up (the report is then retried). */
  waitMs?: number;
  pollMs?: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * One writer of a pull request's failure comment at a time across replicas (issue 15). Listing
 * the comments, posting the new one and deleting the old ones is read-then-write on GitHub: two
 * replicas doing it at once (the reporter's lease handed over mid-comment) each post a comment.
 * The claim is a key in a KV bucket, taken with `create` and given back with a delete at the
 * revision taken, so a claim never ends someone else's.
 */
export class PullRequestClaims {
  private readonly staleAfterMs: number;
  private readonly waitMs: number;
  private readonly pollMs: number;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly options: PullRequestClaimOptions) {
    this.staleAfterMs = options.staleAfterMs ?? 30_000;
    this.waitMs = options.waitMs ?? this.staleAfterMs + 5000;
    this.pollMs = options.pollMs ?? 200;
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  /** Runs `work` while holding the claim on the pull request. */
  async withClaim<T>(pull: { org: string; repo: string; number: number }, work: () => Promise<T>): Promise<T> {
    const key = claimKey(pull);
    const revision = await this.acquire(key);
    try {
      return await work();
    } finally {
      await this.options.bucket.delete(key, { previousSeq: revision }).catch((error: unknown) => {
        // Taken over meanwhile (this one took longer than staleAfterMs), or NATS is away: either
        // way the claim is not ours to end any more, or ends by going stale.
        this.options.logger.warn({ err: error, claim: key }, 'cannot give back the claim on the pull request');
      });
    }
  }

  private async acquire(key: string): Promise<number> {
    const { bucket, holder } = this.options;
    const deadline = this.now() + this.waitMs;
    for (;;) {
      const value = JSON.stringify({ holder, at: this.now() } satisfies ClaimRecord);
      try {
        return await bucket.create(key, value);
      } catch (error) {
        if (!isWrongLastSequence(error)) throw error;
      }
      const current = await bucket.get(key);
      if (current?.operation === 'PUT') {
        const claim = parseClaim(current.string());
        if (!claim || this.now() - claim.at > this.staleAfterMs) {
          try {
            const revision = await bucket.update(key, value, current.revision);
            this.options.logger.warn({ claim: key, previous: claim?.holder }, 'took over a stale claim on the pull request');
            return revision;
          } catch (error) {
            if (!isWrongLastSequence(error)) throw error;
          }
        } else if (this.now() >= deadline) {
          throw new ClaimBusyError(`the failure comment of ${key} is being written by ${claim.holder}`, { context: { claim: key, holder: claim.holder } });
        }
      }
      await this.sleep(this.pollMs);
    }
  }
}

/** `pr.<org>.<repo>.<number>`: KV keys take letters, digits, `-_=.` and `/`, which GitHub names keep to. */
export function claimKey(pull: { org: string; repo: string; number: number }): string {
  return `pr.${pull.org}.${pull.repo}.${pull.number}`;
}

function parseClaim(text: string): ClaimRecord | undefined {
  try {
    const record = JSON.parse(text) as Partial<ClaimRecord>;
    return typeof record.holder === 'string' && typeof record.at === 'number' ? (record as ClaimRecord) : undefined;
  } catch {
    return undefined;
  }
}
