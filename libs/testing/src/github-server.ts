import { createHash } from 'node:crypto';
import {
  HttpFake,
  type Fault,
  type FakeRequest,
  type FakeResponse,
  type RecordedRequest,
  type RequestMatcher,
} from './http-fake.js';

export interface FakeGitHubOptions {
  /** Tokens the fake accepts (default `['test-token']`). */
  tokens?: string[];
  /** Login of the user the tokens belong to (default `bowline-bot`). */
  botLogin?: string;
}

export interface FakePullRequest {
  org: string;
  repo: string;
  number: number;
  author: string;
  headSha: string;
  headRef?: string;
  baseRef?: string;
  baseSha?: string;
  title?: string;
  state?: 'open' | 'closed';
  draft?: boolean;
  files?: string[];
  labels?: string[];
}

export interface RateLimitOptions {
  kind: 'primary' | 'secondary';
  retryAfterSeconds?: number;
  resetInSeconds?: number;
  times?: number;
  status?: 403 | 429;
}

export interface GitHubUser {
  login: string;
  id: number;
  node_id: string;
  type: 'User' | 'Bot';
  site_admin: boolean;
  url: string;
  html_url: string;
}

export interface GitHubComment {
  id: number;
  node_id: string;
  url: string;
  html_url: string;
  issue_url: string;
  body: string;
  user: GitHubUser;
  created_at: string;
  updated_at: string;
  author_association: string;
}

export interface GitHubStatus {
  id: number;
  node_id: string;
  url: string;
  state: string;
  context: string;
  description: string | null;
  target_url: string | null;
  creator: GitHubUser;
  created_at: string;
  updated_at: string;
}

interface PullRecord {
  org: string;
  repo: string;
  number: number;
  author: string;
  headSha: string;
  headRef: string;
  baseRef: string;
  baseSha: string;
  title: string;
  state: 'open' | 'closed';
  draft: boolean;
  files: string[];
  labels: string[];
  createdAt: string;
}

interface CommentRecord {
  id: number;
  repoKey: string;
  org: string;
  repo: string;
  number: number;
  body: string;
  login: string;
  createdAt: string;
  updatedAt: string;
}

interface StatusRecord {
  id: number;
  state: string;
  context: string;
  description: string | null;
  targetUrl: string | null;
  createdAt: string;
}

type RouteHandler = (request: FakeRequest, params: string[]) => FakeResponse;

const RATE_LIMIT = 5000;
const RATE_WINDOW_SECONDS = 3600;
const DOCS = 'https://docs.github.com/rest';
const STATUS_STATES = new Set(['pending', 'success', 'failure', 'error']);
// GitHub rejects longer descriptions with a 422 rather than truncating them, so callers must.
const MAX_STATUS_DESCRIPTION = 140;

class BadJsonError extends Error {}

/**
 * A real HTTP server playing the GitHub REST v3 calls Bowline makes, so `@octokit/rest` runs
 * unchanged against it with `baseUrl` set to `url`. Every request is recorded, and chosen requests
 * can fail or be rate limited the way GitHub does it.
 */
export class FakeGitHub {
  readonly botLogin: string;
  private readonly tokens: Set<string>;
  private readonly http: HttpFake;
  private readonly routes: Array<{ method: string; pattern: RegExp; handle: RouteHandler }>;
  private readonly pulls = new Map<string, PullRecord>();
  private readonly orgMembers = new Map<string, Set<string>>();
  private readonly collaborators = new Map<string, Set<string>>();
  private readonly commentsById = new Map<number, CommentRecord>();
  private readonly statusesBySha = new Map<string, StatusRecord[]>();
  private readonly userIds = new Map<string, number>();
  private readonly labelIds = new Map<string, number>();
  private nextCommentId = 1;
  private nextStatusId = 1;
  private nextRequestId = 1;
  private remaining = RATE_LIMIT;
  private resetAt = nowSeconds() + RATE_WINDOW_SECONDS;

  private constructor(options: FakeGitHubOptions) {
    this.tokens = new Set(options.tokens ?? ['test-token']);
    this.botLogin = options.botLogin ?? 'bowline-bot';
    // The bot gets id 1 so the primary rate-limit message ("for user ID 1.") names it.
    this.userIds.set(this.botLogin.toLowerCase(), 1);
    this.http = new HttpFake((request) => this.handle(request));
    this.routes = [
      { method: 'GET', pattern: /^\/user$/, handle: () => ({ status: 200, body: this.user(this.botLogin) }) },
      { method: 'GET', pattern: /^\/repos\/([^/]+)\/([^/]+)\/pulls\/(\d+)$/, handle: (_q, p) => this.getPull(p) },
      { method: 'GET', pattern: /^\/repos\/([^/]+)\/([^/]+)\/pulls\/(\d+)\/files$/, handle: (q, p) => this.listFiles(q, p) },
      { method: 'GET', pattern: /^\/orgs\/([^/]+)\/members\/([^/]+)$/, handle: (_q, p) => this.checkMember(p) },
      { method: 'GET', pattern: /^\/repos\/([^/]+)\/([^/]+)\/collaborators\/([^/]+)$/, handle: (_q, p) => this.checkCollaborator(p) },
      { method: 'GET', pattern: /^\/repos\/([^/]+)\/([^/]+)\/issues\/(\d+)\/labels$/, handle: (_q, p) => this.listLabels(p) },
      { method: 'POST', pattern: /^\/repos\/([^/]+)\/([^/]+)\/issues\/(\d+)\/labels$/, handle: (q, p) => this.addLabels(q, p) },
      { method: 'DELETE', pattern: /^\/repos\/([^/]+)\/([^/]+)\/issues\/(\d+)\/labels\/([^/]+)$/, handle: (_q, p) => this.removeLabel(p) },
      { method: 'GET', pattern: /^\/repos\/([^/]+)\/([^/]+)\/issues\/(\d+)\/comments$/, handle: (q, p) => this.listComments(q, p) },
      { method: 'POST', pattern: /^\/repos\/([^/]+)\/([^/]+)\/issues\/(\d+)\/comments$/, handle: (q, p) => this.createComment(q, p) },
      { method: 'PATCH', pattern: /^\/repos\/([^/]+)\/([^/]+)\/issues\/comments\/(\d+)$/, handle: (q, p) => this.updateComment(q, p) },
      { method: 'DELETE', pattern: /^\/repos\/([^/]+)\/([^/]+)\/issues\/comments\/(\d+)$/, handle: (_q, p) => this.deleteComment(p) },
      { method: 'POST', pattern: /^\/repos\/([^/]+)\/([^/]+)\/statuses\/([^/]+)$/, handle: (q, p) => this.createStatus(q, p) },
      { method: 'GET', pattern: /^\/repos\/([^/]+)\/([^/]+)\/commits\/([^/]+)\/statuses$/, handle: (q, p) => this.listStatuses(q, p) },
      { method: 'GET', pattern: /^\/repos\/([^/]+)\/([^/]+)\/commits\/([^/]+)\/status$/, handle: (_q, p) => this.combinedStatus(p) },
    ];
  }

  static async start(options: FakeGitHubOptions = {}): Promise<FakeGitHub> {
    const github = new FakeGitHub(options);
    await github.http.listen();
    return github;
  }

  get url(): string {
    return this.http.url;
  }

  get requests(): RecordedRequest[] {
    return this.http.requests;
  }

  requestsTo(matcher: RequestMatcher): RecordedRequest[] {
    return this.http.requestsTo(matcher);
  }

  inject(matcher: RequestMatcher, fault: Fault): void {
    this.http.inject(matcher, fault);
  }

  onRequest(listener: (request: RecordedRequest) => void): void {
    this.http.onRequest(listener);
  }

  /**
   * Answers the next matching requests the way GitHub refuses a client over its limits.
   * `@octokit/plugin-throttling` tells the kinds apart by exactly these traits: a secondary limit by
   * "secondary rate" in the message (with `retry-after` as the wait), a primary one by
   * `x-ratelimit-remaining: 0` (waiting until `x-ratelimit-reset`), on a 403 or a 429.
   */
  rateLimit(matcher: RequestMatcher, options: RateLimitOptions): void {
    const status = options.status ?? 403;
    const times = options.times ?? 1;
    if (options.kind === 'primary') {
      const resetIn = options.resetInSeconds ?? 1;
      this.http.inject(matcher, {
        status,
        times,
        headers: this.liveHeaders(() => ({
          'x-ratelimit-limit': String(RATE_LIMIT),
          'x-ratelimit-remaining': '0',
          'x-ratelimit-reset': String(nowSeconds() + resetIn),
          'x-ratelimit-used': String(RATE_LIMIT),
          'x-ratelimit-resource': 'core',
        })),
        body: {
          message: 'API rate limit exceeded for user ID 1.',
          documentation_url: 'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api',
        },
      });
      return;
    }
    const retryAfter = String(options.retryAfterSeconds ?? 1);
    this.http.inject(matcher, {
      status,
      times,
      // GitHub still reports the primary quota on a secondary refusal, and it is not exhausted.
      headers: this.liveHeaders(() => ({ ...this.rateHeaders(), 'retry-after': retryAfter })),
      body: {
        message: 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.',
        documentation_url: 'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits',
      },
    });
  }

  /** Adds a pull request; adding the same number again replaces it, as a push would. */
  addPullRequest(pr: FakePullRequest): void {
    const key = pullKey(pr.org, pr.repo, pr.number);
    const previous = this.pulls.get(key);
    const baseRef = pr.baseRef ?? 'main';
    this.pulls.set(key, {
      org: pr.org,
      repo: pr.repo,
      number: pr.number,
      author: pr.author,
      headSha: pr.headSha,
      headRef: pr.headRef ?? `pr-${pr.number}`,
      baseRef,
      baseSha: pr.baseSha ?? fakeSha(`${pr.org}/${pr.repo}@${baseRef}`),
      title: pr.title ?? `Pull request ${pr.number}`,
      state: pr.state ?? 'open',
      draft: pr.draft ?? false,
      files: [...(pr.files ?? [])],
      labels: [...(pr.labels ?? previous?.labels ?? [])],
      createdAt: previous?.createdAt ?? timestamp(),
    });
  }

  addOrgMember(org: string, login: string): void {
    addTo(this.orgMembers, org.toLowerCase(), login.toLowerCase());
  }

  /** `orgRepo` is `org/repo`. */
  addCollaborator(orgRepo: string, login: string): void {
    addTo(this.collaborators, orgRepo.toLowerCase(), login.toLowerCase());
  }

  /** Statuses of a commit, oldest first (the GitHub API lists them newest first). */
  statuses(org: string, repo: string, sha: string): GitHubStatus[] {
    const records = this.statusesBySha.get(statusKey(org, repo, sha)) ?? [];
    return records.map((record) => this.renderStatus(org, repo, sha, record));
  }

  /** Comments of an issue or pull request, oldest first. */
  comments(org: string, repo: string, number: number): GitHubComment[] {
    return this.commentRecords(org, repo, number).map((record) => this.renderComment(record));
  }

  labels(org: string, repo: string, number: number): string[] {
    return [...(this.pulls.get(pullKey(org, repo, number))?.labels ?? [])];
  }

  /** Seeds a comment written by someone other than the bot. */
  addComment(org: string, repo: string, number: number, login: string, body: string): GitHubComment {
    return this.renderComment(this.storeComment(org, repo, number, login, body));
  }

  close(): Promise<void> {
    return this.http.close();
  }

  private handle(request: FakeRequest): FakeResponse {
    this.rollRateWindow();
    if (!this.isAuthorized(request.headers.authorization)) {
      return this.answer({ status: 401, body: { message: 'Bad credentials', documentation_url: DOCS, status: '401' } });
    }
    this.remaining = Math.max(0, this.remaining - 1);
    for (const route of this.routes) {
      if (route.method !== request.method) continue;
      const match = route.pattern.exec(request.path);
      if (!match) continue;
      // Split first, decode after: a label such as `do-not-merge/hold` arrives as one %2F segment.
      const params = match.slice(1).map((segment) => decodeURIComponent(segment));
      try {
        return this.answer(route.handle(request, params));
      } catch (error) {
        if (error instanceof BadJsonError) {
          return this.answer({ status: 400, body: { message: 'Problems parsing JSON', documentation_url: DOCS, status: '400' } });
        }
        throw error;
      }
    }
    return this.answer(notFound());
  }

  private answer(response: FakeResponse): FakeResponse {
    return {
      ...response,
      headers: {
        ...this.rateHeaders(),
        'x-github-media-type': 'github.v3; format=json',
        'x-github-request-id': `FAKE:${this.nextRequestId++}`,
        ...response.headers,
      },
    };
  }

  private isAuthorized(header: string | undefined): boolean {
    const match = /^(?:token|bearer)\s+(\S+)$/i.exec(header?.trim() ?? '');
    return match !== null && this.tokens.has(match[1]!);
  }

  private rollRateWindow(): void {
    if (nowSeconds() < this.resetAt) return;
    this.remaining = RATE_LIMIT;
    this.resetAt = nowSeconds() + RATE_WINDOW_SECONDS;
  }

  private rateHeaders(): Record<string, string> {
    return {
      'x-ratelimit-limit': String(RATE_LIMIT),
      'x-ratelimit-remaining': String(this.remaining),
      'x-ratelimit-reset': String(this.resetAt),
      'x-ratelimit-used': String(RATE_LIMIT - this.remaining),
      'x-ratelimit-resource': 'core',
    };
  }

  /** Fault headers computed when the fake answers, so a reset counts from the refused request. */
  private liveHeaders(compute: () => Record<string, string>): () => Record<string, string> {
    return () => ({ ...compute(), 'x-github-request-id': `FAKE:${this.nextRequestId++}` });
  }

  private getPull([org, repo, number]: string[]): FakeResponse {
    const pr = this.pulls.get(pullKey(org!, repo!, Number(number)));
    if (!pr) return notFound();
    return { status: 200, body: this.renderPull(pr) };
  }

  private listFiles(request: FakeRequest, [org, repo, number]: string[]): FakeResponse {
    const pr = this.pulls.get(pullKey(org!, repo!, Number(number)));
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
      contents_url: `${this.url}/repos/${pr.org}/${pr.repo}/contents/${filename}?ref=${pr.headSha}`,
      patch: '@@ -1 +1 @@\n-old\n+new',
    }));
    return this.paginate(request, files);
  }

  private checkMember([org, login]: string[]): FakeResponse {
    return this.orgMembers.get(org!.toLowerCase())?.has(login!.toLowerCase()) ? { status: 204 } : notFound();
  }

  private checkCollaborator([org, repo, login]: string[]): FakeResponse {
    const members = this.collaborators.get(`${org}/${repo}`.toLowerCase());
    return members?.has(login!.toLowerCase()) ? { status: 204 } : notFound();
  }

  private listLabels([org, repo, number]: string[]): FakeResponse {
    const pr = this.pulls.get(pullKey(org!, repo!, Number(number)));
    if (!pr) return notFound();
    return { status: 200, body: pr.labels.map((name) => this.renderLabel(pr, name)) };
  }

  private addLabels(request: FakeRequest, [org, repo, number]: string[]): FakeResponse {
    const pr = this.pulls.get(pullKey(org!, repo!, Number(number)));
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
    return { status: 200, body: pr.labels.map((name) => this.renderLabel(pr, name)) };
  }

  private removeLabel([org, repo, number, name]: string[]): FakeResponse {
    const pr = this.pulls.get(pullKey(org!, repo!, Number(number)));
    if (!pr) return notFound();
    const index = pr.labels.findIndex((label) => label.toLowerCase() === name!.toLowerCase());
    if (index < 0) return { status: 404, body: { message: 'Label does not exist', documentation_url: DOCS, status: '404' } };
    pr.labels.splice(index, 1);
    return { status: 200, body: pr.labels.map((label) => this.renderLabel(pr, label)) };
  }

  private listComments(request: FakeRequest, [org, repo, number]: string[]): FakeResponse {
    if (!this.pulls.has(pullKey(org!, repo!, Number(number)))) return notFound();
    return this.paginate(request, this.comments(org!, repo!, Number(number)));
  }

  private createComment(request: FakeRequest, [org, repo, number]: string[]): FakeResponse {
    const pr = this.pulls.get(pullKey(org!, repo!, Number(number)));
    if (!pr) return notFound();
    const body = (parseJson(request.body) as { body?: unknown } | null)?.body;
    if (typeof body !== 'string') return validationFailed([{ resource: 'IssueComment', code: 'missing_field', field: 'body' }]);
    const record = this.storeComment(pr.org, pr.repo, pr.number, this.botLogin, body);
    const comment = this.renderComment(record);
    return { status: 201, body: comment, headers: { location: comment.url } };
  }

  private updateComment(request: FakeRequest, [org, repo, id]: string[]): FakeResponse {
    const record = this.findComment(org!, repo!, Number(id));
    if (!record) return notFound();
    const body = (parseJson(request.body) as { body?: unknown } | null)?.body;
    if (typeof body !== 'string') return validationFailed([{ resource: 'IssueComment', code: 'missing_field', field: 'body' }]);
    record.body = body;
    record.updatedAt = timestamp();
    return { status: 200, body: this.renderComment(record) };
  }

  private deleteComment([org, repo, id]: string[]): FakeResponse {
    const record = this.findComment(org!, repo!, Number(id));
    if (!record) return notFound();
    this.commentsById.delete(record.id);
    return { status: 204 };
  }

  private createStatus(request: FakeRequest, [org, repo, sha]: string[]): FakeResponse {
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
    const now = timestamp();
    const record: StatusRecord = {
      id: this.nextStatusId++,
      state: input.state as string,
      context: typeof input.context === 'string' && input.context !== '' ? input.context : 'default',
      description,
      targetUrl: typeof input.target_url === 'string' ? input.target_url : null,
      createdAt: now,
    };
    const key = statusKey(org!, repo!, sha!);
    const list = this.statusesBySha.get(key) ?? [];
    list.push(record);
    this.statusesBySha.set(key, list);
    return { status: 201, body: this.renderStatus(org!, repo!, sha!, record) };
  }

  private listStatuses(request: FakeRequest, [org, repo, ref]: string[]): FakeResponse {
    const sha = this.resolveRef(org!, repo!, ref!);
    return this.paginate(request, this.statuses(org!, repo!, sha).reverse());
  }

  private combinedStatus([org, repo, ref]: string[]): FakeResponse {
    const sha = this.resolveRef(org!, repo!, ref!);
    const latest = new Map<string, GitHubStatus>();
    for (const status of this.statuses(org!, repo!, sha).reverse()) {
      if (!latest.has(status.context)) latest.set(status.context, status);
    }
    const statuses = [...latest.values()];
    // GitHub's rule: any error or failure fails the whole; no statuses, or any pending, is pending.
    let state = 'success';
    if (statuses.some((s) => s.state === 'error' || s.state === 'failure')) state = 'failure';
    else if (statuses.length === 0 || statuses.some((s) => s.state === 'pending')) state = 'pending';
    return {
      status: 200,
      body: {
        state,
        sha,
        total_count: statuses.length,
        statuses,
        commit_url: `${this.url}/repos/${org}/${repo}/commits/${sha}`,
        url: `${this.url}/repos/${org}/${repo}/commits/${sha}/status`,
        repository: this.renderRepo(org!, repo!),
      },
    };
  }

  /** Branch names resolve through the pull requests the fake knows; anything else is taken as a sha. */
  private resolveRef(org: string, repo: string, ref: string): string {
    const repoKey = `${org}/${repo}`.toLowerCase();
    for (const pr of this.pulls.values()) {
      if (`${pr.org}/${pr.repo}`.toLowerCase() !== repoKey) continue;
      if (pr.headRef === ref) return pr.headSha;
      if (pr.baseRef === ref) return pr.baseSha;
    }
    return ref;
  }

  private paginate(request: FakeRequest, items: unknown[]): FakeResponse {
    const perPageAsked = Number.parseInt(request.query.get('per_page') ?? '', 10);
    const perPage = Number.isNaN(perPageAsked) || perPageAsked < 1 ? 30 : Math.min(perPageAsked, 100);
    const pageAsked = Number.parseInt(request.query.get('page') ?? '', 10);
    const page = Number.isNaN(pageAsked) || pageAsked < 1 ? 1 : pageAsked;
    const lastPage = Math.max(1, Math.ceil(items.length / perPage));
    const body = items.slice((page - 1) * perPage, page * perPage);

    const linkTo = (target: number): string => {
      const query = new URLSearchParams(request.query);
      query.set('page', String(target));
      return `<${this.url}${request.path}?${query.toString()}>`;
    };
    // Same relations and order as GitHub; octokit's paginate follows rel="next" until it is gone.
    const links: string[] = [];
    if (page > 1) links.push(`${linkTo(Math.min(page - 1, lastPage))}; rel="prev"`);
    if (page < lastPage) links.push(`${linkTo(page + 1)}; rel="next"`, `${linkTo(lastPage)}; rel="last"`);
    if (page > 1) links.push(`${linkTo(1)}; rel="first"`);
    return { status: 200, body, headers: links.length > 0 ? { link: links.join(', ') } : {} };
  }

  private storeComment(org: string, repo: string, number: number, login: string, body: string): CommentRecord {
    const now = timestamp();
    const record: CommentRecord = {
      id: this.nextCommentId++,
      repoKey: `${org}/${repo}`.toLowerCase(),
      org,
      repo,
      number,
      body,
      login,
      createdAt: now,
      updatedAt: now,
    };
    this.commentsById.set(record.id, record);
    return record;
  }

  private commentRecords(org: string, repo: string, number: number): CommentRecord[] {
    const repoKey = `${org}/${repo}`.toLowerCase();
    return [...this.commentsById.values()]
      .filter((c) => c.repoKey === repoKey && c.number === number)
      .sort((a, b) => a.id - b.id);
  }

  private findComment(org: string, repo: string, id: number): CommentRecord | undefined {
    const record = this.commentsById.get(id);
    return record?.repoKey === `${org}/${repo}`.toLowerCase() ? record : undefined;
  }

  private userId(login: string): number {
    const key = login.toLowerCase();
    let id = this.userIds.get(key);
    if (id === undefined) {
      id = 1000 + this.userIds.size;
      this.userIds.set(key, id);
    }
    return id;
  }

  private user(login: string): GitHubUser {
    const id = this.userId(login);
    return {
      login,
      id,
      node_id: `U_fake${id}`,
      type: login === this.botLogin ? 'Bot' : 'User',
      site_admin: false,
      url: `${this.url}/users/${login}`,
      html_url: `https://github.com/${login}`,
    };
  }

  private renderRepo(org: string, repo: string): Record<string, unknown> {
    return {
      name: repo,
      full_name: `${org}/${repo}`,
      owner: { login: org, type: 'Organization', url: `${this.url}/users/${org}` },
      private: false,
      html_url: `https://github.com/${org}/${repo}`,
      url: `${this.url}/repos/${org}/${repo}`,
    };
  }

  private renderLabel(pr: PullRecord, name: string): Record<string, unknown> {
    const key = `${pr.org}/${pr.repo}:${name}`.toLowerCase();
    let id = this.labelIds.get(key);
    if (id === undefined) {
      id = this.labelIds.size + 1;
      this.labelIds.set(key, id);
    }
    return {
      id,
      node_id: `LA_fake${id}`,
      url: `${this.url}/repos/${pr.org}/${pr.repo}/labels/${encodeURIComponent(name)}`,
      name,
      color: 'ededed',
      default: false,
      description: null,
    };
  }

  private renderPull(pr: PullRecord): Record<string, unknown> {
    const repo = this.renderRepo(pr.org, pr.repo);
    const api = `${this.url}/repos/${pr.org}/${pr.repo}`;
    const html = `https://github.com/${pr.org}/${pr.repo}/pull/${pr.number}`;
    return {
      url: `${api}/pulls/${pr.number}`,
      id: 100000 + pr.number,
      html_url: html,
      diff_url: `${html}.diff`,
      patch_url: `${html}.patch`,
      issue_url: `${api}/issues/${pr.number}`,
      statuses_url: `${api}/statuses/${pr.headSha}`,
      number: pr.number,
      state: pr.state,
      locked: false,
      draft: pr.draft,
      title: pr.title,
      body: null,
      user: this.user(pr.author),
      labels: pr.labels.map((name) => this.renderLabel(pr, name)),
      created_at: pr.createdAt,
      updated_at: pr.createdAt,
      closed_at: pr.state === 'closed' ? pr.createdAt : null,
      merged_at: null,
      merged: false,
      mergeable: null,
      head: { label: `${pr.author}:${pr.headRef}`, ref: pr.headRef, sha: pr.headSha, user: this.user(pr.author), repo },
      base: { label: `${pr.org}:${pr.baseRef}`, ref: pr.baseRef, sha: pr.baseSha, repo },
      changed_files: pr.files.length,
    };
  }

  private renderComment(record: CommentRecord): GitHubComment {
    const api = `${this.url}/repos/${record.org}/${record.repo}`;
    return {
      id: record.id,
      node_id: `IC_fake${record.id}`,
      url: `${api}/issues/comments/${record.id}`,
      html_url: `https://github.com/${record.org}/${record.repo}/pull/${record.number}#issuecomment-${record.id}`,
      issue_url: `${api}/issues/${record.number}`,
      body: record.body,
      user: this.user(record.login),
      created_at: record.createdAt,
      updated_at: record.updatedAt,
      author_association: 'NONE',
    };
  }

  private renderStatus(org: string, repo: string, sha: string, record: StatusRecord): GitHubStatus {
    return {
      id: record.id,
      node_id: `SC_fake${record.id}`,
      url: `${this.url}/repos/${org}/${repo}/statuses/${sha}`,
      state: record.state,
      context: record.context,
      description: record.description,
      target_url: record.targetUrl,
      creator: this.user(this.botLogin),
      created_at: record.createdAt,
      updated_at: record.createdAt,
    };
  }
}

function notFound(): FakeResponse {
  return { status: 404, body: { message: 'Not Found', documentation_url: DOCS, status: '404' } };
}

function validationFailed(errors: unknown[]): FakeResponse {
  return { status: 422, body: { message: 'Validation Failed', errors, documentation_url: DOCS, status: '422' } };
}

function parseJson(body: string): unknown {
  if (body.trim() === '') return null;
  try {
    return JSON.parse(body) as unknown;
  } catch (error) {
    throw new BadJsonError('request body is not JSON', { cause: error });
  }
}

// GitHub treats owner and repository names case-insensitively.
function pullKey(org: string, repo: string, number: number): string {
  return `${org}/${repo}#${number}`.toLowerCase();
}

function statusKey(org: string, repo: string, sha: string): string {
  return `${org}/${repo}@${sha}`.toLowerCase();
}

function addTo(map: Map<string, Set<string>>, key: string, value: string): void {
  const set = map.get(key) ?? new Set<string>();
  set.add(value);
  map.set(key, set);
}

function fakeSha(seed: string): string {
  return createHash('sha1').update(seed).digest('hex');
}

// GitHub's timestamps have whole seconds.
function timestamp(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}
