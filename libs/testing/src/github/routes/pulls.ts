import type { FakeRequest, FakeResponse } from '../../http-fake.js';
import { notFound, paginate, validationFailed, type Route, type RouteContext } from '../routing.js';
import { fakeSha, type PullRecord } from '../state.js';

/** Pull requests: one by number, its files, and the issue search Bowline finds merged ones with. */
export function pullRoutes(context: RouteContext): Route[] {
  const { state, views } = context;

  const getPull = ([org, repo, number]: string[]): FakeResponse => {
    const pr = state.pull(org!, repo!, Number(number));
    if (!pr) return notFound();
    return { status: 200, body: views.pull(pr) };
  };

  const listFiles = (request: FakeRequest, [org, repo, number]: string[]): FakeResponse => {
    const pr = state.pull(org!, repo!, Number(number));
    if (!pr) return notFound();
    const files = pr.files.map((filename) => ({
      sha: fakeSha(`${pr.headSha}:${filename}`),
      filename,
      status: 'modified',
      additions: 1,
      deletions: 1,
      changes: 2,
      blob_url: `https://github.com/${pr.org}/${pr.repo}/blob/${pr.headSha}/${filename}`,
      raw_url: `https://github.com/${pr.org}/${pr.repo}/raw/${pr.headSha}/${filename}`,
      contents_url: `${context.url}/repos/${pr.org}/${pr.repo}/contents/${filename}?ref=${pr.headSha}`,
      patch: '@@ -1 +1 @@\n-old\n+new',
    }));
    return paginate(request, files, context.url);
  };

  /**
   * `GET /search/issues` over the pull requests the fake holds, for the qualifiers Bowline sends:
   * `type:pr`, `is:merged|open|closed`, `org:`, `repo:`, `author:`. Any other word is refused with
   * GitHub's 422, so a caller asking for more than the fake knows finds out.
   */
  const searchIssues = (request: FakeRequest): FakeResponse => {
    const checks: ((pr: PullRecord) => boolean)[] = [];
    for (const word of (request.query.get('q') ?? '').split(/\s+/).filter(Boolean)) {
      const [qualifier, value = ''] = word.split(/:(.*)/s) as [string, string?];
      const lower = value.toLowerCase();
      if (qualifier === 'type' && (lower === 'pr' || lower === 'pull-request')) continue;
      else if (qualifier === 'is' && lower === 'merged') checks.push((pr) => pr.merged);
      else if (qualifier === 'is' && (lower === 'open' || lower === 'closed')) checks.push((pr) => pr.state === lower);
      else if (qualifier === 'org') checks.push((pr) => pr.org.toLowerCase() === lower);
      else if (qualifier === 'repo') checks.push((pr) => `${pr.org}/${pr.repo}`.toLowerCase() === lower);
      else if (qualifier === 'author') checks.push((pr) => pr.author.toLowerCase() === lower);
      else return validationFailed([{ resource: 'Search', code: 'invalid', field: 'q' }]);
    }
    const found = state.allPulls().filter((pr) => checks.every((check) => check(pr)));
    const items = found.map((pr) => {
      const pull = views.pull(pr);
      return {
        ...Object.fromEntries(['url', 'id', 'html_url', 'number', 'state', 'locked', 'draft', 'title', 'body', 'user', 'labels', 'created_at', 'updated_at', 'closed_at'].map((key) => [key, pull[key]])),
        pull_request: { url: pull.url, html_url: pull.html_url, diff_url: pull.diff_url, patch_url: pull.patch_url, merged_at: pull.merged_at },
        score: 1,
      };
    });
    return { status: 200, body: { total_count: items.length, incomplete_results: false, items } };
  };

  return [
    { method: 'GET', pattern: /^\/repos\/([^/]+)\/([^/]+)\/pulls\/(\d+)$/, handle: (_q, p) => getPull(p) },
    { method: 'GET', pattern: /^\/repos\/([^/]+)\/([^/]+)\/pulls\/(\d+)\/files$/, handle: (q, p) => listFiles(q, p) },
    { method: 'GET', pattern: /^\/search\/issues$/, handle: (q) => searchIssues(q) },
  ];
}
