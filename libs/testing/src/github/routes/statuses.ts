import type { FakeRequest, FakeResponse } from '../../http-fake.js';
import { paginate, parseJson, validationFailed, type Caller, type Route, type RouteContext } from '../routing.js';
import type { GitHubStatus } from '../types.js';

const STATUS_STATES = new Set(['pending', 'success', 'failure', 'error']);
// GitHub rejects longer descriptions with a 422 rather than truncating them, so callers must.
const MAX_STATUS_DESCRIPTION = 140;

/** Commit statuses: creating one, listing a commit's, and the combined status. */
export function statusRoutes(context: RouteContext): Route[] {
  const { state, views } = context;

  const createStatus = (request: FakeRequest, [org, repo, sha]: string[], caller: Caller): FakeResponse => {
    const input = (parseJson(request.body) ?? {}) as Record<string, unknown>;
    const errors: Array<Record<string, string>> = [];
    if (typeof input.state !== 'string' || !STATUS_STATES.has(input.state)) {
      errors.push({ resource: 'Status', code: 'custom', field: 'state', message: 'state is not included in the list' });
    }
    const description = typeof input.description === 'string' ? input.description : null;
    if (description !== null && description.length > MAX_STATUS_DESCRIPTION) {
      errors.push({
        resource: 'Status',
        code: 'custom',
        field: 'description',
        message: `description is too long (maximum is ${MAX_STATUS_DESCRIPTION} characters)`,
      });
    }
    if (errors.length > 0) return validationFailed(errors);
    const record = state.addStatus(org!, repo!, sha!, {
      creator: caller.login,
      state: input.state as string,
      context: typeof input.context === 'string' && input.context !== '' ? input.context : 'default',
      description,
      targetUrl: typeof input.target_url === 'string' ? input.target_url : null,
    });
    return { status: 201, body: views.status(org!, repo!, sha!, record) };
  };

  const listStatuses = (request: FakeRequest, [org, repo, ref]: string[]): FakeResponse => {
    const sha = state.resolveRef(org!, repo!, ref!);
    return paginate(request, views.statuses(org!, repo!, sha).reverse(), context.url);
  };

  const combinedStatus = ([org, repo, ref]: string[]): FakeResponse => {
    const sha = state.resolveRef(org!, repo!, ref!);
    const latest = new Map<string, GitHubStatus>();
    for (const status of views.statuses(org!, repo!, sha).reverse()) {
      if (!latest.has(status.context)) latest.set(status.context, status);
    }
    const statuses = [...latest.values()];
    // GitHub's rule: any error or failure fails the whole; no statuses, or any pending, is pending.
    let combined = 'success';
    if (statuses.some((s) => s.state === 'error' || s.state === 'failure')) combined = 'failure';
    else if (statuses.length === 0 || statuses.some((s) => s.state === 'pending')) combined = 'pending';
    return {
      status: 200,
      body: {
        state: combined,
        sha,
        total_count: statuses.length,
        statuses,
        commit_url: `${context.url}/repos/${org}/${repo}/commits/${sha}`,
        url: `${context.url}/repos/${org}/${repo}/commits/${sha}/status`,
        repository: views.repo(org!, repo!),
      },
    };
  };

  return [
    { method: 'POST', pattern: /^\/repos\/([^/]+)\/([^/]+)\/statuses\/([^/]+)$/, handle: (q, p, c) => createStatus(q, p, c) },
    { method: 'GET', pattern: /^\/repos\/([^/]+)\/([^/]+)\/commits\/([^/]+)\/statuses$/, handle: (q, p) => listStatuses(q, p) },
    { method: 'GET', pattern: /^\/repos\/([^/]+)\/([^/]+)\/commits\/([^/]+)\/status$/, handle: (_q, p) => combinedStatus(p) },
  ];
}
