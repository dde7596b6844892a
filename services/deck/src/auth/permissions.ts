import { tenantOf, type ConfigSource, type Tenant } from '@bowline/config';
import { isCollaborator, isNotFound, isOrgMember, type Octokit, type TrustChecker } from '@bowline/github';

/** Whether a user may rerun or abort a job, and when not, why (sent with the 403). */
export interface Permission {
  allowed: boolean;
  /** Why: shown to the user when refused, logged either way. */
  reason: string;
}

export interface PermissionsDeps {
  /** Prow's TrustedUser, the planner's own rule for a `/test` comment (libs/github/src/trust.ts). */
  trust: Pick<TrustChecker, 'check'>;
  config: ConfigSource;
  /** The bot's client: every check is asked with the deck's credentials, never the user's. */
  github: Octokit;
  now?: () => number;
}

const TEAM_TTL_MS = 60_000;

/**
 * Who may rerun and abort from the deck: whoever may `/test` on the job's repository (trusted
 * under `bowline.trust`, and let in by the tenant's access rules), or whoever
 * `bowline.deck.rerun_users` / `rerun_teams` lists for it. Prow's deck asks the same of
 * `rerun_auth_configs` and then trigger's rule (cmd/deck/rerun.go, canTriggerJob).
 */
export class Permissions {
  private readonly teams = new Map<string, { answer: Promise<boolean>; until: number }>();

  constructor(private readonly deps: PermissionsDeps) {}

  /**
   * Whether `user` may rerun and abort the jobs of `orgRepo` (`org/repo`; undefined for a job
   * without a repository, a periodic). What decides is who and where, never which run.
   */
  async decide(user: string, orgRepo: string | undefined): Promise<Permission> {
    const { rerunUsers, rerunTeams } = this.deps.config.get().bowline.deck;
    if (mostSpecific(rerunUsers, orgRepo ?? '').some((login) => login.toLowerCase() === user.toLowerCase())) {
      return { allowed: true, reason: 'listed in bowline.deck.rerun_users' };
    }
    for (const team of mostSpecific(rerunTeams, orgRepo ?? '')) {
      if (await this.inTeam(team.org, team.slug, user)) return { allowed: true, reason: `member of the team ${team.org}/${team.slug} (bowline.deck.rerun_teams)` };
    }
    if (!orgRepo) {
      return { allowed: false, reason: `${user} is not listed in bowline.deck.rerun_users or rerun_teams, which alone decide for a job without a repository` };
    }
    const [org, repo] = orgRepo.split('/') as [string, string];
    const trust = await this.deps.trust.check(org, repo, user);
    if (!trust.trusted) return { allowed: false, reason: `${user} may not /test in ${orgRepo}: ${trust.reason ?? 'not trusted.'}` };
    const tenant = await tenantAllows(user, orgRepo, tenantOf(this.deps.config.get(), org, repo), {
      inTeam: (o, slug, u) => this.inTeam(o, slug, u),
      isOrgMember: (o, u) => isOrgMember(this.deps.github, o, u),
      isCollaborator: (o, r, u) => isCollaborator(this.deps.github, o, r, u),
    });
    if (!tenant.allowed) return tenant;
    return { allowed: true, reason: `${user} may /test in ${orgRepo}` };
  }

  /** `GET /orgs/{org}/teams/{slug}/memberships/{user}`: active members only, remembered a minute. */
  inTeam(org: string, slug: string, user: string): Promise<boolean> {
    const key = `${org}/${slug}/${user}`.toLowerCase();
    const now = (this.deps.now ?? Date.now)();
    const hit = this.teams.get(key);
    if (hit && hit.until > now) return hit.answer;
    const answer = this.deps.github.rest.teams.getMembershipForUserInOrg({ org, team_slug: slug, username: user }).then(
      ({ data }) => data.state === 'active',
      (error: unknown) => {
        if (isNotFound(error)) return false;
        throw error;
      },
    );
    this.teams.set(key, { answer, until: now + TEAM_TTL_MS });
    answer.catch(() => this.teams.delete(key));
    return answer;
  }
}

/** How tenantAllows asks GitHub about an entry: the bot's client, never the user's. */
export interface MembershipChecks {
  inTeam(org: string, slug: string, user: string): Promise<boolean>;
  isOrgMember(org: string, user: string): Promise<boolean>;
  isCollaborator(org: string, repo: string, user: string): Promise<boolean>;
}

/**
 * The tenant's access rules (issue 17): a rerun or abort is a `/test` from the deck, so when the
 * repository's tenant sets `access.test`, one of its entries must admit the user, as the planner
 * asks of a `/test` comment (services/planner/src/access.ts); unset, the trust check decided alone.
 */
export async function tenantAllows(user: string, orgRepo: string, tenant: Tenant | undefined, checks: MembershipChecks): Promise<Permission> {
  const rules = tenant?.access.test;
  if (!tenant || !rules) return { allowed: true, reason: 'the tenant sets no access.test' };
  const [org, repo] = orgRepo.split('/') as [string, string];
  for (const entry of rules) {
    const admitted =
      entry.kind === 'user'
        ? entry.login.toLowerCase() === user.toLowerCase()
        : entry.kind === 'team'
          ? await checks.inTeam(entry.org, entry.team, user)
          : entry.kind === 'org-members'
            ? await checks.isOrgMember(org, user)
            : await checks.isCollaborator(org, repo, user);
    if (admitted) return { allowed: true, reason: `admitted by access.test of the tenant ${tenant.name}` };
  }
  return { allowed: false, reason: `${user} is not admitted by access.test of the tenant ${tenant.name}, which owns ${orgRepo}` };
}

/**
 * The entry for the job's repository, as Prow picks among rerun_auth_configs: `org/repo` over
 * `org` over `*`; the most specific key present decides alone. A job without refs reads `*`.
 */
export function mostSpecific<T>(byKey: Record<string, T[]>, orgRepo: string): T[] {
  const org = orgRepo.split('/')[0] ?? '';
  for (const key of [orgRepo, org, '*']) {
    if (key !== '' && byKey[key]) return byKey[key];
  }
  return [];
}
