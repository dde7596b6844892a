import { isCollaborator, isOrgMember, type Octokit } from './client.js';

/** Whether someone is trusted, and when not, Prow's explanation of why (logged with the refusal). */
export interface TrustAnswer {
  trusted: boolean;
  reason?: string;
}

/** The trust settings the decision reads: `bowline.trust` of config.yaml (its TrustSettings). */
export interface TrustRules {
  onlyOrgMembers: boolean;
  trustedApps: readonly string[];
  trustedOrgs: readonly string[];
}

/** Prow's untrustedReason texts, so a refusal reads in the logs as Prow's would. */
function untrustedReason(parts: { collaborators: boolean; secondaryOrgs: boolean }): string {
  let reason = 'User is not a member of the org. ';
  if (parts.collaborators) reason += 'User is not a collaborator. ';
  if (parts.secondaryOrgs) reason += 'User is not a member of the trusted secondary org. ';
  return `${reason}Satisfy at least one of these conditions to make the user trusted.`;
}

/**
 * Whether `login` is the bot itself. As Prow's BotUserChecker, the bot's GitHub App account
 * (`name[bot]`) counts too; GitHub lets no one else register an App under the bot's name.
 */
export function isBotLogin(login: string, bot: string): boolean {
  const bare = (name: string) => name.replace(/\[bot\]$/, '');
  return login === bot || bare(login) === bare(bot);
}

export interface TrustCheckerDeps {
  github: Octokit;
  /** Read on every decision, so a config reload applies. */
  rules: () => TrustRules;
  bot: () => Promise<string>;
  now: () => Date;
  ttlMs?: number;
}

/**
 * Prow's TrustedUser: the bot, members of the repository's org or of a `trusted_orgs` org,
 * collaborators unless `only_org_members`, and GitHub Apps listed in `trusted_apps`. Answers are
 * remembered for a short time: a burst of comments on one pull request asks GitHub once, and a
 * membership change still takes effect within the minute. The planner asks it of a commenter, the
 * deck of a signed-in user who would rerun or abort (one rule for both, issue 20).
 */
export class TrustChecker {
  private readonly cache = new Map<string, { answer: Promise<TrustAnswer>; until: number }>();

  constructor(private readonly deps: TrustCheckerDeps) {}

  async isTrusted(org: string, repo: string, user: string): Promise<boolean> {
    return (await this.check(org, repo, user)).trusted;
  }

  async check(org: string, repo: string, user: string): Promise<TrustAnswer> {
    if (isBotLogin(user, await this.deps.bot())) return { trusted: true };
    const rules = this.deps.rules();
    // GitHub Apps comment as `name[bot]`; asked first since it costs no request.
    const app = /^(.+)\[bot\]$/.exec(user)?.[1];
    if (app && rules.trustedApps.includes(app)) return { trusted: true };
    const key = `${org}/${repo}/${user}`;
    const now = this.deps.now().getTime();
    const hit = this.cache.get(key);
    if (hit && hit.until > now) return hit.answer;
    const answer = this.ask(org, repo, user, rules.onlyOrgMembers, rules.trustedOrgs);
    this.cache.set(key, { answer, until: now + (this.deps.ttlMs ?? 60_000) });
    // A failed question is not remembered.
    answer.catch(() => this.cache.delete(key));
    return answer;
  }

  private async ask(org: string, repo: string, user: string, onlyOrgMembers: boolean, trustedOrgs: readonly string[]): Promise<TrustAnswer> {
    if (await isOrgMember(this.deps.github, org, user)) return { trusted: true };
    if (!onlyOrgMembers && (await isCollaborator(this.deps.github, org, repo, user))) return { trusted: true };
    const secondary = trustedOrgs.filter((o) => o !== org);
    for (const other of secondary) {
      if (await isOrgMember(this.deps.github, other, user)) return { trusted: true };
    }
    return { trusted: false, reason: untrustedReason({ collaborators: !onlyOrgMembers, secondaryOrgs: secondary.length > 0 }) };
  }
}
