import type { KV } from '@nats-io/kv';
import type { ConfigSource } from '@bowline/config';
import type { AccessRules } from './access.js';
import type { PullRequestWriter } from './comments-and-labels.js';
import { approvalExpiredComment, marker, NEEDS_OK_TO_TEST_LABEL, OK_TO_TEST_LABEL } from './messages.js';
import { hasLabel, type EventContext } from './pull-request.js';

/**
 * Why a pull request may be tested: its author is trusted, or it carries `ok-to-test` (`approved`).
 * `stale` is an `ok-to-test` that, under `ok_to_test: per_commit`, was given on an earlier commit.
 */
export type PullRequestTrust = 'author' | 'approved' | 'stale' | 'untrusted';

export function isTestable(trust: PullRequestTrust): boolean {
  return trust === 'author' || trust === 'approved';
}

/** What the approval flow needs to know of a pull request; the head is read only when needed. */
export interface ApprovalSubject {
  number: number;
  author: string;
  labels: readonly { name?: string }[] | undefined;
  headSha: () => Promise<string>;
}

/**
 * Prow's TrustedPullRequest and the `/ok-to-test` approval. With `ok_to_test: per_commit`
 * (beyond Prow) an approval covers the head commit it was given on, kept in the `planner_claims`
 * bucket; without that bucket every approval counts as stale.
 */
export class Approvals {
  constructor(private readonly deps: { config: ConfigSource; access: AccessRules; writer: PullRequestWriter; claims?: KV }) {}

  async trustOf(ctx: EventContext, pr: ApprovalSubject): Promise<PullRequestTrust> {
    // Prow's trust rules, or the tenant's `access.test` when it has one (access.ts).
    if ((await this.deps.access.author(ctx, pr.author)).trusted) return 'author';
    if (!hasLabel(pr.labels, OK_TO_TEST_LABEL)) return 'untrusted';
    if (this.deps.config.get().bowline.trust.okToTest !== 'per_commit') return 'approved';
    return (await this.approvedSha(ctx, pr.number)) === (await pr.headSha()) ? 'approved' : 'stale';
  }

  /**
   * `trustOf`, acting on a stale approval: `ok-to-test` off, `needs-ok-to-test` on, and a comment
   * saying why, so the author knows what to wait for.
   */
  async check(ctx: EventContext, pr: ApprovalSubject): Promise<PullRequestTrust> {
    const trust = await this.trustOf(ctx, pr);
    if (trust === 'stale') {
      const sha = await pr.headSha();
      const { writer } = this.deps;
      await writer.removeLabel(ctx, pr.number, OK_TO_TEST_LABEL);
      await writer.addLabel(ctx, pr.number, NEEDS_OK_TO_TEST_LABEL);
      await writer.commentOnce(ctx, pr.number, marker('approval-expired', sha), approvalExpiredComment(pr.author, sha));
      ctx.log.info({ sha }, 'approval covered an earlier commit: waiting for a new /ok-to-test');
    }
    return trust;
  }

  /** Remembers which commit a trusted user approved. */
  async record(ctx: EventContext, number: number, sha: string): Promise<void> {
    await this.deps.claims?.put(this.key(ctx, number), sha);
  }

  /** `/ok-to-test cancel`: the approval is gone, whichever commit it covered. */
  async forget(ctx: EventContext, number: number): Promise<void> {
    await this.deps.claims?.delete(this.key(ctx, number));
  }

  private async approvedSha(ctx: EventContext, number: number): Promise<string | undefined> {
    const entry = await this.deps.claims?.get(this.key(ctx, number));
    return entry?.operation === 'PUT' ? entry.string() : undefined;
  }

  private key(ctx: EventContext, number: number): string {
    return `approval.${keyPart(ctx.org)}.${keyPart(ctx.repo)}.${number}`;
  }
}

/** NATS KV keys allow `[-/_=.a-zA-Z0-9]`. */
function keyPart(text: string): string {
  return text.replace(/[^-_=a-zA-Z0-9]/g, '_');
}
