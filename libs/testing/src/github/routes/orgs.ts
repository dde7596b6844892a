import type { FakeResponse } from '../../http-fake.js';
import { notFound, type Route, type RouteContext } from '../routing.js';

/** Who is who: the authenticated user, org and team membership, and repository collaborators. */
export function orgRoutes(context: RouteContext): Route[] {
  const { state, views } = context;

  const checkMember = ([org, login]: string[]): FakeResponse => (state.isOrgMember(org!, login!) ? { status: 204 } : notFound());

  const checkCollaborator = ([org, repo, login]: string[]): FakeResponse =>
    state.isCollaborator(org!, repo!, login!) ? { status: 204 } : notFound();

  // GitHub answers a membership, active or pending, with 200 and 404 for none (docs: Get team
  // membership for a user).
  const teamMembership = ([org, team, login]: string[]): FakeResponse => {
    const membership = state.teamMembership(org!, team!, login!);
    if (!membership) return notFound();
    return { status: 200, body: { url: `${context.url}/organizations/1/team/1/memberships/${login!}`, role: 'member', state: membership } };
  };

  return [
    { method: 'GET', pattern: /^\/user$/, handle: (_q, _p, caller) => ({ status: 200, body: views.user(caller.login) }) },
    { method: 'GET', pattern: /^\/orgs\/([^/]+)\/members\/([^/]+)$/, handle: (_q, p) => checkMember(p) },
    { method: 'GET', pattern: /^\/repos\/([^/]+)\/([^/]+)\/collaborators\/([^/]+)$/, handle: (_q, p) => checkCollaborator(p) },
    { method: 'GET', pattern: /^\/orgs\/([^/]+)\/teams\/([^/]+)\/memberships\/([^/]+)$/, handle: (_q, p) => teamMembership(p) },
  ];
}
