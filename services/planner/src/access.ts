import type { AccessEntry, Tenant } from '@bowline/config';
import { isCollaborator, isNotFound, isOrgMember, type Octokit } from '@bowline/github';
import type { EventContext } from './pull-request.js';
import { isBotLogin, type TrustAnswer, type TrustChecker } from './trust.js';

/** What a tenant's access rules govern: `access.test` (`/test`, `/retest`) and `access.ok_to_test`. */
export type AccessAction = 'test' | 'ok-to-test';

/** Whether someone may do something, and when not, which rules they missed (for the refusal). */
export interface AccessVerdict {
  allowed: boolean;
  /** The tenant's entries that were checked; absent when Prow's trust rules decided. */
  rules?: readonly AccessEntry[];
  /** Prow's untrusted reason, when Prow's trust rules decided. */
  reason?: string;
}

/** `org-members of acme-pay, collaborators of acme-pay/ledger, team acme-pay/ci, user alice`. */
export function describeRules(rules: readonly AccessEntry[], org: string, repo: string): string {
  if (rules.length === 0) return 'nobody';
  return rules
    .map((entry) => {
      switch (entry.kind) {
        case 'org-members':
          return `org-members of ${org}`;
        case 'collaborators':
          return `collaborators of ${org}/${repo}`;
        case 'team':
          return `team ${entry.org}/${entry.team}`;
        case 'user':
          return `user ${entry.login}`;
      }
    })
    .join(', ');
}

/**
 * A tenant's access rules (`bowline.tenants[].access`), over Prow's trust rules:
 *
 * - `access.test` set: exactly the people it lists may `/test` and `/retest` on any of the
 *   tenant's pull requests, and their own pull requests are tested without `/ok-to-test` (it
 *   takes the place of Prow's "trusted user" for commands and authors); everyone else is refused.
 * - `access.ok_to_test` set: exactly the people it lists may `/ok-to-test` (and cancel it).
 * - Unset: Prow's trust rules (`bowline.trust`, TrustChecker) decide, exactly as before tenants.
 *
 * The bot is always allowed. Answers are remembered for a minute, as TrustChecker's are.
 */
export class AccessRules {
  private readonly cache = new Map<string, { answer: Promise<boolean>; until: number }>();

  constructor(private readonly deps: { github: Octokit; trust: TrustChecker; bot: () => Promise<string>; now: () => Date; ttlMs?: number }) {}

  /** The rules that apply to `action` in the event's tenant; undefined: Prow's trust rules. */
  rulesFor(tenant: Tenant, action: AccessAction): readonly AccessEntry[] | undefined {
    return action === 'test' ? tenant.access.test : tenant.access.okToTest;
  }

  async check(ctx: EventContext, action: AccessAction, user: string): Promise<AccessVerdict> {
    const rules = this.rulesFor(ctx.tenant, action);
    if (!rules) {
      const answer: TrustAnswer = await this.deps.trust.check(ctx.org, ctx.repo, user);
      return { allowed: answer.trusted, ...(answer.reason ? { reason: answer.reason } : {}) };
    }
    if (isBotLogin(user, await this.deps.bot())) return { allowed: true, rules };
    for (const entry of rules) {
      if (await this.matches(ctx, entry, user)) return { allowed: true, rules };
    }
    return { allowed: false, rules };
  }

  /** Whether a pull request's author is trusted: its tests run without `/ok-to-test`. */
  async author(ctx: EventContext, user: string): Promise<TrustAnswer> {
    const verdict = await this.check(ctx, 'test', user);
    if (verdict.allowed) return { trusted: true };
    return { trusted: false, reason: verdict.reason ?? `${user} is none of ${describeRules(verdict.rules ?? [], ctx.org, ctx.repo)}` };
  }

  /** Whether `user` is an active member of one of `teams` (`org/team`): a job's `allowed_teams`. */
  async inTeams(teams: readonly string[], user: string): Promise<boolean> {
    for (const team of teams) {
      const [org, slug] = team.split('/');
      if (org && slug && (await this.isTeamMember(org, slug, user))) return true;
    }
    return false;
  }

  private matches(ctx: EventContext, entry: AccessEntry, user: string): Promise<boolean> | boolean {
    switch (entry.kind) {
      case 'user':
        // GitHub logins are case-insensitive.
        return entry.login.toLowerCase() === user.toLowerCase();
      case 'org-members':
        return this.remembered(`org:${ctx.org}:${user}`, () => isOrgMember(this.deps.github, ctx.org, user));
      case 'collaborators':
        return this.remembered(`collaborator:${ctx.org}/${ctx.repo}:${user}`, () => isCollaborator(this.deps.github, ctx.org, ctx.repo, user));
      case 'team':
        return this.isTeamMember(entry.org, entry.team, user);
    }
  }

  /**
   * `GET /orgs/{org}/teams/{team}/memberships/{user}`: a pending invitation is not membership yet,
   * and a team the tenant's identity cannot see answers 404, which counts as "not a member".
   */
  private isTeamMember(org: string, team: string, user: string): Promise<boolean> {
    return this.remembered(`team:${org}/${team}:${user}`, async () => {
      try {
        const { data } = await this.deps.github.rest.teams.getMembershipForUserInOrg({ org, team_slug: team, username: user });
        return data.state === 'active';
      } catch (error) {
        if (isNotFound(error)) return false;
        throw error;
      }
    });
  }

  private remembered(key: string, ask: () => Promise<boolean>): Promise<boolean> {
    const now = this.deps.now().getTime();
    const hit = this.cache.get(key);
    if (hit && hit.until > now) return hit.answer;
    const answer = ask();
    this.cache.set(key, { answer, until: now + (this.deps.ttlMs ?? 60_000) });
    // A failed question is not remembered.
    answer.catch(() => this.cache.delete(key));
    return answer;
  }
}
