import type { ConfigSource } from '@bowline/config';
import { isCollaborator, isOrgMember, type Octokit } from '@bowline/github';

/**
 * Prow's TrustedUser: the bot, GitHub Apps listed in `trusted_apps`, members of the repository's
 * org or of a `trusted_orgs` org, and collaborators unless `only_org_members`. Answers are
 * remembered for a short time: a burst of comments on one pull request asks GitHub once, and a
 * membership change still takes effect within the minute.
 */
export class TrustChecker {
  private readonly cache = new Map<string, { trusted: Promise<boolean>; until: number }>();

  constructor(
    private readonly deps: { github: Octokit; config: ConfigSource; bot: () => Promise<string>; now: () => Date; ttlMs?: number },
  ) {}

  async isTrusted(org: string, repo: string, user: string): Promise<boolean> {
    if (user === (await this.deps.bot())) return true;
    const trust = this.deps.config.get().bowline.trust;
    // GitHub Apps comment as `name[bot]`.
    const app = /^(.+)\[bot\]$/.exec(user)?.[1];
    if (app && trust.trustedApps.includes(app)) return true;
    const key = `${org}/${repo}/${user}`;
    const now = this.deps.now().getTime();
    const hit = this.cache.get(key);
    if (hit && hit.until > now) return hit.trusted;
    const trusted = this.ask(org, repo, user, trust.onlyOrgMembers, trust.trustedOrgs);
    this.cache.set(key, { trusted, until: now + (this.deps.ttlMs ?? 60_000) });
    // A failed question is not remembered.
    trusted.catch(() => this.cache.delete(key));
    return trusted;
  }

  private async ask(org: string, repo: string, user: string, onlyOrgMembers: boolean, trustedOrgs: string[]): Promise<boolean> {
    for (const candidate of [org, ...trustedOrgs.filter((o) => o !== org)]) {
      if (await isOrgMember(this.deps.github, candidate, user)) return true;
    }
    return !onlyOrgMembers && (await isCollaborator(this.deps.github, org, repo, user));
  }
}
