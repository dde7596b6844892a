import { randomBytes } from 'node:crypto';
import type { FakeResponse } from '../../http-fake.js';
import { notFound, type Route, type RouteContext } from '../routing.js';
import type { InstallationRecord } from '../state.js';

// The permissions the fake's App shows; Bowline's planner and reporter need these.
const APP_PERMISSIONS = { issues: 'write', members: 'read', metadata: 'read', pull_requests: 'write', statuses: 'write' };
const APP_EVENTS = ['issue_comment', 'pull_request', 'push'];

export interface InstallationTokenTerms {
  /** Ms since the epoch, on the clock tokens are judged by. */
  clock: () => number;
  /** How long a new token lasts. */
  ttlMs: number;
}

/** The GitHub App: itself, where it is installed, and minting installation tokens. */
export function appRoutes(context: RouteContext, terms: InstallationTokenTerms): Route[] {
  const { state, views } = context;

  const getApp = (): FakeResponse => {
    const app = state.app!;
    return {
      status: 200,
      body: {
        id: app.id,
        slug: state.appSlug,
        node_id: `A_fake${app.id}`,
        client_id: `Iv1.fake${app.id}`,
        owner: views.account(app.owner, 'Organization'),
        name: state.appSlug,
        description: null,
        external_url: `https://github.com/apps/${state.appSlug}`,
        html_url: `https://github.com/apps/${state.appSlug}`,
        created_at: '2024-01-01T00:00:00Z',
        updated_at: '2024-01-01T00:00:00Z',
        permissions: APP_PERMISSIONS,
        events: APP_EVENTS,
        installations_count: state.installationCount,
      },
    };
  };

  const renderInstallation = (installation: InstallationRecord): Record<string, unknown> => {
    const account = views.account(installation.account, installation.accountType);
    const settings = installation.accountType === 'Organization' ? `organizations/${installation.account}/settings` : 'settings';
    return {
      id: installation.id,
      account,
      repository_selection: 'all',
      access_tokens_url: `${context.url}/app/installations/${installation.id}/access_tokens`,
      repositories_url: `${context.url}/installation/repositories`,
      html_url: `https://github.com/${settings}/installations/${installation.id}`,
      app_id: state.app?.id ?? null,
      app_slug: state.appSlug,
      target_id: account.id,
      target_type: installation.accountType,
      permissions: APP_PERMISSIONS,
      events: APP_EVENTS,
      created_at: installation.createdAt,
      updated_at: installation.createdAt,
      single_file_name: null,
      suspended_by: null,
      suspended_at: null,
    };
  };

  /** `kind` 'Organization' for `/orgs/{org}/installation`, which does not find a user's. */
  const findInstallation = (login: string, kind: 'Organization' | 'any'): FakeResponse => {
    const installation = state.findInstallation(login, kind);
    return installation ? { status: 200, body: renderInstallation(installation) } : notFound();
  };

  const createInstallationToken = (id: number): FakeResponse => {
    if (!state.installation(id)) return notFound();
    const token = `ghs_${randomBytes(27).toString('base64url').replace(/[-_]/g, '0').slice(0, 36)}`;
    // GitHub's `expires_at` has whole seconds; the token lasts exactly as long as it says.
    const expiresAt = Math.floor((terms.clock() + terms.ttlMs) / 1000) * 1000;
    state.addInstallationToken(token, id, expiresAt);
    return {
      status: 201,
      body: {
        token,
        expires_at: new Date(expiresAt).toISOString().replace(/\.\d{3}Z$/, 'Z'),
        permissions: APP_PERMISSIONS,
        repository_selection: 'all',
      },
    };
  };

  return [
    { method: 'GET', pattern: /^\/app$/, handle: () => getApp() },
    { method: 'GET', pattern: /^\/repos\/([^/]+)\/[^/]+\/installation$/, handle: (_q, [owner]) => findInstallation(owner!, 'any') },
    { method: 'GET', pattern: /^\/orgs\/([^/]+)\/installation$/, handle: (_q, [org]) => findInstallation(org!, 'Organization') },
    { method: 'GET', pattern: /^\/users\/([^/]+)\/installation$/, handle: (_q, [user]) => findInstallation(user!, 'any') },
    { method: 'POST', pattern: /^\/app\/installations\/(\d+)\/access_tokens$/, handle: (_q, [id]) => createInstallationToken(Number(id)) },
  ];
}
