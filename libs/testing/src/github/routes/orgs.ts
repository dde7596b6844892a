import type { FakeResponse } from '../../http-fake.js';
import { notFound, type Route, type RouteContext } from '../routing.js';

/** Who is who: the authenticated user, org membership and repository collaborators. */
export function orgRoutes(context: RouteContext): Route[] {
  const { state, views } = context;

  const checkMember = ([org, login]: string[]): FakeResponse => (state.isOrgMember(org!, login!) ? { status: 204 } : notFound());

  const checkCollaborator = ([org, repo, login]: string[]): FakeResponse =>
    state.isCollaborator(org!, repo!, login!) ? { status: 204 } : notFound();

  return [
    { method: 'GET', pattern: /^\/user$/, handle: (_q, _p, caller) => ({ status: 200, body: views.user(caller.login) }) },
    { method: 'GET', pattern: /^\/orgs\/([^/]+)\/members\/([^/]+)$/, handle: (_q, p) => checkMember(p) },
    { method: 'GET', pattern: /^\/repos\/([^/]+)\/([^/]+)\/collaborators\/([^/]+)$/, handle: (_q, p) => checkCollaborator(p) },
  ];
}
