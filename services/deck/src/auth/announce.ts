import type { Octokit } from '@bowline/github';
import type { Logger } from '@bowline/observability';
import type { ProwJob } from '@bowline/prowjob';

export type DeckAction = 'rerun' | 'abort';

/**
 * A comment on the pull request saying who reran or aborted what from the deck, so the people on
 * the pull request see it where they look (a `/test` comment shows its author the same way). It
 * goes through the bot's client, paced with the other writes (libs/github's write pacer).
 */
export class Announcer {
  constructor(
    private readonly deps: { github: Octokit; logger: Logger; deckUrl?: string },
  ) {}

  /** Posts the comment; a failure is logged, never undoes the action that was done. */
  async announce(action: DeckAction, user: string, job: ProwJob, rerun?: ProwJob): Promise<void> {
    const { refs } = job.spec;
    const pull = refs.pulls?.[0];
    if (job.spec.type !== 'presubmit' || !pull) return;
    try {
      await this.deps.github.rest.issues.createComment({ owner: refs.org, repo: refs.repo, issue_number: pull.number, body: this.text(action, user, job, rerun) });
    } catch (error) {
      this.deps.logger.warn({ err: error, user, prowjob: job.metadata.name, job: job.spec.job, repo: `${refs.org}/${refs.repo}`, pr: pull.number }, 'cannot comment on the pull request about a deck action');
    }
  }

  text(action: DeckAction, user: string, job: ProwJob, rerun?: ProwJob): string {
    const run = (prowJob: ProwJob, words: string): string =>
      this.deps.deckUrl ? `[${words}](${this.deps.deckUrl}/prowjob/${encodeURIComponent(prowJob.metadata.name)})` : `${words} (ProwJob \`${prowJob.metadata.name}\`)`;
    const sha = job.spec.refs.pulls?.[0]?.sha.slice(0, 7);
    const on = sha ? ` on ${sha}` : '';
    if (action === 'rerun' && rerun) return `**${user}** reran \`${job.spec.job}\`${on} from the deck: ${run(rerun, 'the new run')}, after ${run(job, `the run that ended ${job.status.state}`)}.`;
    return `**${user}** aborted \`${job.spec.job}\`${on} from the deck: ${run(job, 'the run')} stops.`;
  }
}
