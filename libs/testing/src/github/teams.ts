import { notFound, type Route, type RouteContext } from './routing.js';

/**
 * Team membership, which the deck asks for `bowline.deck.rerun_teams`:
 * `GET /orgs/{org}/teams/{team_slug}/memberships/{username}` answers an active membership or 404
 * (docs: Get team membership for a user).
 */
export class FakeTeams {
  private readonly members = new Map<string, Set<string>>();

  add(org: string, slug: string, login: string): void {
    const key = teamKey(org, slug);
    const team = this.members.get(key) ?? new Set<string>();
    team.add(login.toLowerCase());
    this.members.set(key, team);
  }

  routes(context: RouteContext): Route[] {
    return [
      {
        method: 'GET',
        pattern: /^\/orgs\/([^/]+)\/teams\/([^/]+)\/memberships\/([^/]+)$/,
        handle: (_request, [org, slug, login]) =>
          this.members.get(teamKey(org!, slug!))?.has(login!.toLowerCase())
            ? {
                status: 200,
                body: { url: `${context.url}/teams/${encodeURIComponent(slug!)}/memberships/${encodeURIComponent(login!)}`, role: 'member', state: 'active' },
              }
            : notFound(),
      },
    ];
  }
}

function teamKey(org: string, slug: string): string {
  return `${org.toLowerCase()}/${slug.toLowerCase()}`;
}
