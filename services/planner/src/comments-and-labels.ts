import { isNotFound, type Octokit } from '@bowline/github';
import type { EventContext } from './pull-request.js';
import { isBotLogin } from './trust.js';

/** What the planner writes on a pull request: its comments and the trust labels. */
export class PullRequestWriter {
  constructor(private readonly deps: { github: Octokit; bot: () => Promise<string> }) {}

  /** Posts a comment unless one with its marker is there already (a redelivered event). */
  async commentOnce(ctx: EventContext, number: number, mark: string, text: string): Promise<void> {
    if ((await this.botComments(ctx, number)).some((c) => c.body.includes(mark))) return;
    await this.deps.github.rest.issues.createComment({ owner: ctx.org, repo: ctx.repo, issue_number: number, body: `${text}\n\n${mark}` });
  }

  /** Prow's comment pruner: deletes the bot's own comments that `stale` picks. */
  async pruneComments(ctx: EventContext, number: number, stale: (body: string) => boolean): Promise<void> {
    for (const comment of await this.botComments(ctx, number)) {
      if (!stale(comment.body)) continue;
      try {
        await this.deps.github.rest.issues.deleteComment({ owner: ctx.org, repo: ctx.repo, comment_id: comment.id });
        ctx.log.info({ comment: comment.id }, 'stale comment deleted');
      } catch (error) {
        // Deleted by someone else meanwhile: what was wanted.
        if (!isNotFound(error)) throw error;
      }
    }
  }

  async labels(ctx: EventContext, number: number): Promise<{ name: string }[]> {
    const { github } = this.deps;
    return github.paginate(github.rest.issues.listLabelsOnIssue, { owner: ctx.org, repo: ctx.repo, issue_number: number, per_page: 100 });
  }

  async addLabel(ctx: EventContext, number: number, label: string): Promise<void> {
    await this.deps.github.rest.issues.addLabels({ owner: ctx.org, repo: ctx.repo, issue_number: number, labels: [label] });
    ctx.log.info({ label }, 'label added');
  }

  async removeLabel(ctx: EventContext, number: number, label: string): Promise<void> {
    try {
      await this.deps.github.rest.issues.removeLabel({ owner: ctx.org, repo: ctx.repo, issue_number: number, name: label });
      ctx.log.info({ label }, 'label removed');
    } catch (error) {
      // Not there: nothing to remove.
      if (!isNotFound(error)) throw error;
      ctx.log.debug({ label, err: error }, 'label was not on the pull request');
    }
  }

  private async botComments(ctx: EventContext, number: number): Promise<{ id: number; body: string }[]> {
    const { github } = this.deps;
    const comments = await github.paginate(github.rest.issues.listComments, { owner: ctx.org, repo: ctx.repo, issue_number: number, per_page: 100 });
    const bot = await this.deps.bot();
    return comments.filter((c) => c.user && isBotLogin(c.user.login, bot)).map((c) => ({ id: c.id, body: c.body ?? '' }));
  }
}
