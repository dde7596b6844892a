import type { FakeRequest, FakeResponse } from '../../http-fake.js';
import { DOCS, notFound, paginate, parseJson, validationFailed, type Caller, type Route, type RouteContext } from '../routing.js';
import { timestamp } from '../state.js';

/** An issue's or pull request's labels and comments. */
export function issueRoutes(context: RouteContext): Route[] {
  const { state, views } = context;

  const listLabels = ([org, repo, number]: string[]): FakeResponse => {
    const pr = state.pull(org!, repo!, Number(number));
    if (!pr) return notFound();
    return { status: 200, body: pr.labels.map((name) => views.label(pr, name)) };
  };

  const addLabels = (request: FakeRequest, [org, repo, number]: string[]): FakeResponse => {
    const pr = state.pull(org!, repo!, Number(number));
    if (!pr) return notFound();
    const body = parseJson(request.body);
    const given: unknown = Array.isArray(body) ? body : (body as { labels?: unknown } | null)?.labels;
    if (!Array.isArray(given)) {
      return validationFailed([{ resource: 'Label', code: 'missing_field', field: 'labels' }]);
    }
    // GitHub takes names, or objects with a name; labels the repository lacks are created on the fly.
    for (const item of given) {
      const name = typeof item === 'string' ? item : (item as { name?: unknown } | null)?.name;
      if (typeof name !== 'string' || name === '') {
        return validationFailed([{ resource: 'Label', code: 'invalid', field: 'name' }]);
      }
      if (!pr.labels.some((label) => label.toLowerCase() === name.toLowerCase())) pr.labels.push(name);
    }
    return { status: 200, body: pr.labels.map((name) => views.label(pr, name)) };
  };

  const removeLabel = ([org, repo, number, name]: string[]): FakeResponse => {
    const pr = state.pull(org!, repo!, Number(number));
    if (!pr) return notFound();
    const index = pr.labels.findIndex((label) => label.toLowerCase() === name!.toLowerCase());
    if (index < 0) return { status: 404, body: { message: 'Label does not exist', documentation_url: DOCS, status: '404' } };
    pr.labels.splice(index, 1);
    return { status: 200, body: pr.labels.map((label) => views.label(pr, label)) };
  };

  const listComments = (request: FakeRequest, [org, repo, number]: string[]): FakeResponse => {
    if (!state.pull(org!, repo!, Number(number))) return notFound();
    return paginate(request, views.comments(org!, repo!, Number(number)), context.url);
  };

  const commentBody = (request: FakeRequest): string | undefined => {
    const body = (parseJson(request.body) as { body?: unknown } | null)?.body;
    return typeof body === 'string' ? body : undefined;
  };
  const missingBody = (): FakeResponse => validationFailed([{ resource: 'IssueComment', code: 'missing_field', field: 'body' }]);

  const createComment = (request: FakeRequest, [org, repo, number]: string[], caller: Caller): FakeResponse => {
    const pr = state.pull(org!, repo!, Number(number));
    if (!pr) return notFound();
    const body = commentBody(request);
    if (body === undefined) return missingBody();
    const comment = views.comment(state.storeComment(pr.org, pr.repo, pr.number, caller.login, body));
    return { status: 201, body: comment, headers: { location: comment.url } };
  };

  const updateComment = (request: FakeRequest, [org, repo, id]: string[]): FakeResponse => {
    const record = state.findComment(org!, repo!, Number(id));
    if (!record) return notFound();
    const body = commentBody(request);
    if (body === undefined) return missingBody();
    record.body = body;
    record.updatedAt = timestamp();
    return { status: 200, body: views.comment(record) };
  };

  const deleteComment = ([org, repo, id]: string[]): FakeResponse => {
    const record = state.findComment(org!, repo!, Number(id));
    if (!record) return notFound();
    state.deleteComment(record.id);
    return { status: 204 };
  };

  return [
    { method: 'GET', pattern: /^\/repos\/([^/]+)\/([^/]+)\/issues\/(\d+)\/labels$/, handle: (_q, p) => listLabels(p) },
    { method: 'POST', pattern: /^\/repos\/([^/]+)\/([^/]+)\/issues\/(\d+)\/labels$/, handle: (q, p) => addLabels(q, p) },
    { method: 'DELETE', pattern: /^\/repos\/([^/]+)\/([^/]+)\/issues\/(\d+)\/labels\/([^/]+)$/, handle: (_q, p) => removeLabel(p) },
    { method: 'GET', pattern: /^\/repos\/([^/]+)\/([^/]+)\/issues\/(\d+)\/comments$/, handle: (q, p) => listComments(q, p) },
    { method: 'POST', pattern: /^\/repos\/([^/]+)\/([^/]+)\/issues\/(\d+)\/comments$/, handle: (q, p, c) => createComment(q, p, c) },
    { method: 'PATCH', pattern: /^\/repos\/([^/]+)\/([^/]+)\/issues\/comments\/(\d+)$/, handle: (q, p) => updateComment(q, p) },
    { method: 'DELETE', pattern: /^\/repos\/([^/]+)\/([^/]+)\/issues\/comments\/(\d+)$/, handle: (_q, p) => deleteComment(p) },
  ];
}
