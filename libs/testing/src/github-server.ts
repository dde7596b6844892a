import { createHash, createHmac, createPublicKey, createVerify, randomBytes, randomUUID, type KeyObject } from 'node:crypto';
import {
  HttpFake,
  type Fault,
  type FakeRequest,
  type FakeResponse,
  type RecordedRequest,
  type RequestMatcher,
} from './http-fake.js';
import { signBody } from './webhooks.js';

export interface FakeGitHubOptions {
  /** Tokens the fake accepts (default `['test-token']`). */
  tokens?: string[];
  /** Login of the user the tokens belong to (default `bowline-bot`). */
  botLogin?: string;
  /** The GitHub App whose JWTs the `/app/...` routes accept. */
  app?: FakeGitHubApp;
  /** Where the App's webhook deliveries go, and the secret they are signed with. */
  webhook?: FakeWebhook;
  /** How long a delivery may take before it counts as timed out (default 10 s, GitHub's limit). */
  webhookTimeoutMs?: number;
  /** How long an installation token lasts (default 1 h, GitHub's lifetime). */
  installationTokenTtlMs?: number;
  /**
   * The clock (ms since the epoch) App JWTs and installation tokens are judged by, default
   * `Date.now`: a test moves it to expire a token without waiting an hour. Rate-limit resets keep
   * the real clock, since clients wait on them with timers.
   */
  clock?: () => number;
}

export interface FakeGitHubApp {
  id: number;
  /** PEM of the App's public key (SPKI); the matching private key signs the JWTs. */
  publicKey: string;
  /** The App's slug (default `bowline-app`): it writes as `<slug>[bot]` with installation tokens. */
  slug?: string;
  /** The account owning the App, as `GET /app` shows it (default `bowline`). */
  owner?: string;
}

/** The App installed on an account: its tokens open that account's repositories and org. */
export interface FakeInstallation {
  id: number;
  /** The login of the organisation or user the App is installed on. */
  account: string;
  /** Default `Organization`; `GET /orgs/{org}/installation` finds only those. */
  accountType?: 'Organization' | 'User';
}

export interface FakeWebhook {
  url: string;
  secret: string;
}

/** One delivery attempt as `GET /app/hook/deliveries/{id}` shows it (the list shows all but `url`, `request`, `response`). */
export interface FakeDelivery {
  id: number;
  /** The `X-GitHub-Delivery` value; a redelivery keeps the guid of the delivery it repeats. */
  guid: string;
  delivered_at: string;
  redelivery: boolean;
  /** Seconds. */
  duration: number;
  status: string;
  /** 0 when no HTTP answer came back (connection failed, timed out). */
  status_code: number;
  event: string;
  action: string | null;
  installation_id: number | null;
  repository_id: number | null;
  throttled_at: null;
  url: string;
  request: { headers: Record<string, string>; payload: Record<string, unknown> };
  response: { headers: Record<string, string> | null; payload: string | null };
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
  /** GitHub's `mergeable`: `false` for a conflict, `null` (the default) while not yet computed. */
  mergeable?: boolean | null;
  /** A merged pull request is closed and found by `GET /search/issues?q=… is:merged`. */
  merged?: boolean;
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
  mergeable: boolean | null;
  merged: boolean;
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
  creator: string;
  state: string;
  context: string;
  description: string | null;
  targetUrl: string | null;
  createdAt: string;
}

interface DeliveryRecord {
  delivery: FakeDelivery;
  /** The exact bytes sent, so a redelivery repeats them and its signature covers the same body. */
  body: string;
}

interface InstallationRecord {
  id: number;
  account: string;
  accountType: 'Organization' | 'User';
  createdAt: string;
}

interface InstallationTokenRecord {
  installationId: number;
  /** Ms since the epoch, on the fake's clock. */
  expiresAt: number;
}

/** Who a request is authenticated as: the login that writes its comments and statuses. */
interface Caller {
  login: string;
}

type RouteHandler = (request: FakeRequest, params: string[], caller: Caller) => FakeResponse;

type Authentication = { caller: Caller } | { refusal: FakeResponse };

const RATE_LIMIT = 5000;
const RATE_WINDOW_SECONDS = 3600;
const DOCS = 'https://docs.github.com/rest';
const STATUS_STATES = new Set(['pending', 'success', 'failure', 'error']);
// GitHub rejects longer descriptions with a 422 rather than truncating them, so callers must.
const MAX_STATUS_DESCRIPTION = 140;
// "If your server ... takes longer than 10 seconds to respond, GitHub will record the delivery as
// a failure" (docs: Handling failed webhook deliveries).
const WEBHOOK_TIMEOUT_MS = 10_000;
// An App has a single webhook, so its id never changes; setWebhook edits that hook's settings.
const APP_HOOK_ID = 1;
// GitHub's App JWT rules: at most 10 minutes of validity, and an `iat` up to 60 s ahead is allowed
// for clock drift (docs: Generating a JSON Web Token (JWT) for a GitHub App).
const MAX_JWT_LIFETIME_SECONDS = 600;
const JWT_CLOCK_DRIFT_SECONDS = 60;
const JWT_UNDECODABLE = 'A JSON web token could not be decoded';
// "Installation access tokens expire one hour from the time you create them" (docs: Generating an
// installation access token for a GitHub App).
const INSTALLATION_TOKEN_TTL_MS = 60 * 60_000;
const DEFAULT_APP_SLUG = 'bowline-app';
// What GitHub answers an installation token used outside what its installation was granted.
const NOT_ACCESSIBLE = 'Resource not accessible by integration';
// The permissions the fake's App shows; Bowline's planner and reporter need these.
const APP_PERMISSIONS = { issues: 'write', members: 'read', metadata: 'read', pull_requests: 'write', statuses: 'write' };
const APP_EVENTS = ['issue_comment', 'pull_request', 'push'];
// The routes GitHub wants the App's JWT on: its own, and finding where it is installed.
const APP_JWT_ROUTE = /^\/(?:app(?:\/|$)|(?:repos\/[^/]+\/[^/]+|orgs\/[^/]+|users\/[^/]+)\/installation$)/;
// The account a route belongs to, for deciding whether an installation token opens it.
const ACCOUNT_ROUTE = /^\/(?:repos|orgs)\/([^/]+)(?:\/|$)/;
// The shape of GitHub's delivery cursors (`v1_<delivery id>`), as seen in its Link headers.
const DELIVERY_CURSOR = /^v1_(\d+)$/;
// Documented for `status`: success is a status_code in 200-399, failure one in 400-599. Read
// literally, a delivery that got no answer (status_code 0) is neither.
const DELIVERY_STATUS_RANGES: Record<string, [number, number]> = { success: [200, 399], failure: [400, 599] };

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
  private nextDeliveryId = 1;
  private readonly deliveryRecords: DeliveryRecord[] = [];
  private readonly inFlight = new Set<Promise<unknown>>();
  // Aborts the sends still running when the fake closes, so none outlives it.
  private readonly closing = new AbortController();
  private readonly webhookTimeoutMs: number;
  private app?: { id: number; key: KeyObject; owner: string };
  private appSlug = DEFAULT_APP_SLUG;
  private readonly installations = new Map<number, InstallationRecord>();
  private readonly installationTokens = new Map<string, InstallationTokenRecord>();
  private readonly installationTokenTtlMs: number;
  private readonly clock: () => number;
  private webhook?: FakeWebhook;
  private remaining = RATE_LIMIT;
  private charged = 0;
  private resetAt = nowSeconds() + RATE_WINDOW_SECONDS;

  private constructor(options: FakeGitHubOptions) {
    this.tokens = new Set(options.tokens ?? ['test-token']);
    this.botLogin = options.botLogin ?? 'bowline-bot';
    this.webhookTimeoutMs = options.webhookTimeoutMs ?? WEBHOOK_TIMEOUT_MS;
    this.installationTokenTtlMs = options.installationTokenTtlMs ?? INSTALLATION_TOKEN_TTL_MS;
    this.clock = options.clock ?? Date.now;
    if (options.app) this.setApp(options.app);
    if (options.webhook) this.setWebhook(options.webhook);
    // The bot gets id 1 so the primary rate-limit message ("for user ID 1.") names it.
    this.userIds.set(this.botLogin.toLowerCase(), 1);
    this.http = new HttpFake((request) => this.handle(request));
    this.routes = [
      { method: 'GET', pattern: /^\/user$/, handle: (_q, _p, caller) => ({ status: 200, body: this.user(caller.login) }) },
      { method: 'GET', pattern: /^\/repos\/([^/]+)\/([^/]+)\/pulls\/(\d+)$/, handle: (_q, p) => this.getPull(p) },
      { method: 'GET', pattern: /^\/repos\/([^/]+)\/([^/]+)\/pulls\/(\d+)\/files$/, handle: (q, p) => this.listFiles(q, p) },
      { method: 'GET', pattern: /^\/orgs\/([^/]+)\/members\/([^/]+)$/, handle: (_q, p) => this.checkMember(p) },
      { method: 'GET', pattern: /^\/repos\/([^/]+)\/([^/]+)\/collaborators\/([^/]+)$/, handle: (_q, p) => this.checkCollaborator(p) },
      { method: 'GET', pattern: /^\/repos\/([^/]+)\/([^/]+)\/issues\/(\d+)\/labels$/, handle: (_q, p) => this.listLabels(p) },
      { method: 'POST', pattern: /^\/repos\/([^/]+)\/([^/]+)\/issues\/(\d+)\/labels$/, handle: (q, p) => this.addLabels(q, p) },
      { method: 'DELETE', pattern: /^\/repos\/([^/]+)\/([^/]+)\/issues\/(\d+)\/labels\/([^/]+)$/, handle: (_q, p) => this.removeLabel(p) },
      { method: 'GET', pattern: /^\/repos\/([^/]+)\/([^/]+)\/issues\/(\d+)\/comments$/, handle: (q, p) => this.listComments(q, p) },
      { method: 'POST', pattern: /^\/repos\/([^/]+)\/([^/]+)\/issues\/(\d+)\/comments$/, handle: (q, p, c) => this.createComment(q, p, c) },
      { method: 'PATCH', pattern: /^\/repos\/([^/]+)\/([^/]+)\/issues\/comments\/(\d+)$/, handle: (q, p) => this.updateComment(q, p) },
      { method: 'DELETE', pattern: /^\/repos\/([^/]+)\/([^/]+)\/issues\/comments\/(\d+)$/, handle: (_q, p) => this.deleteComment(p) },
      { method: 'POST', pattern: /^\/repos\/([^/]+)\/([^/]+)\/statuses\/([^/]+)$/, handle: (q, p, c) => this.createStatus(q, p, c) },
      { method: 'GET', pattern: /^\/repos\/([^/]+)\/([^/]+)\/commits\/([^/]+)\/statuses$/, handle: (q, p) => this.listStatuses(q, p) },
      { method: 'GET', pattern: /^\/repos\/([^/]+)\/([^/]+)\/commits\/([^/]+)\/status$/, handle: (_q, p) => this.combinedStatus(p) },
      { method: 'GET', pattern: /^\/search\/issues$/, handle: (q) => this.searchIssues(q) },
      { method: 'GET', pattern: /^\/app$/, handle: () => this.getApp() },
      { method: 'GET', pattern: /^\/repos\/([^/]+)\/[^/]+\/installation$/, handle: (_q, [owner]) => this.findInstallation(owner!, 'any') },
      { method: 'GET', pattern: /^\/orgs\/([^/]+)\/installation$/, handle: (_q, [org]) => this.findInstallation(org!, 'Organization') },
      { method: 'GET', pattern: /^\/users\/([^/]+)\/installation$/, handle: (_q, [user]) => this.findInstallation(user!, 'any') },
      { method: 'POST', pattern: /^\/app\/installations\/(\d+)\/access_tokens$/, handle: (_q, [id]) => this.createInstallationToken(Number(id)) },
      { method: 'GET', pattern: /^\/app\/hook\/deliveries$/, handle: (q) => this.listDeliveries(q) },
      { method: 'GET', pattern: /^\/app\/hook\/deliveries\/(\d+)$/, handle: (_q, p) => this.getDelivery(p) },
      { method: 'POST', pattern: /^\/app\/hook\/deliveries\/(\d+)\/attempts$/, handle: (_q, p) => this.redeliver(p) },
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
      state: pr.merged ? 'closed' : (pr.state ?? 'open'),
      draft: pr.draft ?? false,
      mergeable: pr.mergeable ?? null,
      merged: pr.merged ?? false,
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

  /** Points the App's webhook somewhere else or rotates its secret; redeliveries use the new one. */
  setWebhook(webhook: FakeWebhook): void {
    this.webhook = { url: webhook.url, secret: webhook.secret };
  }

  /** Registers the App whose JWTs `/app/...` accepts; throws at once on a key that is not RSA. */
  setApp(app: FakeGitHubApp): void {
    const key = createPublicKey(app.publicKey);
    if (key.asymmetricKeyType !== 'rsa') {
      throw new Error(`a GitHub App key must be RSA, got ${String(key.asymmetricKeyType)}`);
    }
    this.app = { id: app.id, key, owner: app.owner ?? 'bowline' };
    this.appSlug = app.slug ?? DEFAULT_APP_SLUG;
  }

  /** The login the App writes as with an installation token: `<slug>[bot]`. */
  get appBotLogin(): string {
    return `${this.appSlug}[bot]`;
  }

  /** Installs the App on an account; installing it again under a new id replaces the old one. */
  addInstallation(installation: FakeInstallation): void {
    for (const [id, existing] of this.installations) {
      if (existing.account.toLowerCase() === installation.account.toLowerCase()) this.removeInstallation(id);
    }
    this.installations.set(installation.id, {
      id: installation.id,
      account: installation.account,
      accountType: installation.accountType ?? 'Organization',
      createdAt: timestamp(),
    });
  }

  /** The installation an installation token was minted for, so a test can tell whose token was sent. */
  tokenInstallation(token: string): number | undefined {
    return this.installationTokens.get(token)?.installationId;
  }

  /** Uninstalls the App: GitHub revokes the installation's tokens with it. */
  removeInstallation(id: number): void {
    this.installations.delete(id);
    for (const [token, record] of this.installationTokens) {
      if (record.installationId === id) this.installationTokens.delete(token);
    }
  }

  /**
   * GitHub delivering `event` to the App's webhook: a signed POST to its URL, recorded with the
   * outcome whatever it is. No answer (a refused connection, a timeout) is a failed delivery with
   * status_code 0, as GitHub records it. Rejects only when no webhook is configured.
   */
  sendWebhook(event: string, payload: Record<string, unknown>, options: { guid?: string } = {}): Promise<FakeDelivery> {
    const body = JSON.stringify(payload);
    return this.track(this.deliver({ event, body, guid: options.guid ?? randomUUID(), redelivery: false }));
  }

  /** Every delivery attempt, redeliveries included, oldest first. */
  deliveries(): FakeDelivery[] {
    return this.deliveryRecords.map((record) => structuredClone(record.delivery));
  }

  /** Resolves once no delivery is in flight, including redeliveries queued by the API. */
  async settled(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  async close(): Promise<void> {
    this.closing.abort();
    await this.settled();
    await this.http.close();
  }

  private handle(request: FakeRequest): FakeResponse {
    this.rollRateWindow();
    const authentication = this.authenticate(request);
    if ('refusal' in authentication) return this.answer(authentication.refusal);
    const response = this.route(request, authentication.caller);
    if (request.method !== 'GET' || response.status !== 200) {
      this.charge();
      return this.answer(response);
    }
    const etag = entityTag(response.body);
    if (matchesEntityTag(request.headers['if-none-match'], etag)) {
      // "Making a conditional request does not count against your primary rate limit if a 304
      // response is returned and the request was made while correctly authorized" (docs: Best
      // practices for using the REST API). No body and no Link: a client answers from its copy.
      return this.answer({ status: 304, headers: { etag } });
    }
    this.charge();
    return this.answer({ ...response, headers: { ...response.headers, etag } });
  }

  /**
   * How many requests counted against the primary quota since the fake started: refused tokens
   * and 304s do not, injected faults never reach the quota. Unlike `x-ratelimit-used` it does not
   * go back to zero when the hour rolls over.
   */
  rateLimitUsed(): number {
    return this.charged;
  }

  private route(request: FakeRequest, caller: Caller): FakeResponse {
    for (const route of this.routes) {
      if (route.method !== request.method) continue;
      const match = route.pattern.exec(request.path);
      if (!match) continue;
      // Split first, decode after: a label such as `do-not-merge/hold` arrives as one %2F segment.
      const params = match.slice(1).map((segment) => decodeURIComponent(segment));
      try {
        return route.handle(request, params, caller);
      } catch (error) {
        if (error instanceof BadJsonError) {
          return { status: 400, body: { message: 'Problems parsing JSON', documentation_url: DOCS, status: '400' } };
        }
        throw error;
      }
    }
    return notFound();
  }

  private charge(): void {
    this.remaining = Math.max(0, this.remaining - 1);
    this.charged += 1;
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

  /**
   * Who the request is from, or GitHub's refusal. The App's routes and installation look-ups take
   * the App's JWT; everything else a configured token (the bot user) or an installation token,
   * which opens only its own account's routes, until it expires.
   */
  private authenticate(request: FakeRequest): Authentication {
    const header = request.headers.authorization;
    if (APP_JWT_ROUTE.test(request.path)) {
      const refusal = this.refuseAppJwt(header);
      return refusal === undefined ? { caller: { login: this.appBotLogin } } : { refusal: unauthorized(refusal) };
    }
    const token = /^(?:token|bearer)\s+(\S+)$/i.exec(header?.trim() ?? '')?.[1];
    if (token !== undefined && this.tokens.has(token)) return { caller: { login: this.botLogin } };
    const granted = token === undefined ? undefined : this.installationTokens.get(token);
    if (!granted || this.clock() >= granted.expiresAt) return { refusal: unauthorized('Bad credentials') };
    const account = ACCOUNT_ROUTE.exec(request.path)?.[1];
    const installation = this.installations.get(granted.installationId);
    if (account === undefined || decodeURIComponent(account).toLowerCase() !== installation?.account.toLowerCase()) {
      return { refusal: { status: 403, body: { message: NOT_ACCESSIBLE, documentation_url: DOCS, status: '403' } } };
    }
    return { caller: { login: this.appBotLogin } };
  }

  /**
   * Why GitHub would refuse this App JWT, or undefined when it would accept it. Messages are
   * GitHub's own. A JWT naming another App fails as undecodable: GitHub checks the signature with
   * the key of the App `iss` names, so a wrong id and a wrong key look the same.
   */
  private refuseAppJwt(header: string | undefined): string | undefined {
    const match = /^bearer\s+(\S+)$/i.exec(header?.trim() ?? '');
    const parts = match?.[1]!.split('.') ?? [];
    if (parts.length !== 3) return JWT_UNDECODABLE;
    const [encodedHeader, encodedClaims, signature] = parts as [string, string, string];
    const jose = decodeJwtPart(encodedHeader);
    const claims = decodeJwtPart(encodedClaims);
    if (!jose || !claims || jose.alg !== 'RS256') return JWT_UNDECODABLE;

    if (claims.iss === undefined) return "Missing 'issuer' claim ('iss') in assertion";
    // GitHub takes the App id as a number or a string of digits.
    const issuer = typeof claims.iss === 'string' && /^\d+$/.test(claims.iss) ? Number(claims.iss) : claims.iss;
    if (typeof issuer !== 'number' || !Number.isInteger(issuer)) return "'Issuer' claim ('iss') must be an Integer";
    if (!this.app || issuer !== this.app.id) return JWT_UNDECODABLE;
    const verifier = createVerify('RSA-SHA256').update(`${encodedHeader}.${encodedClaims}`);
    if (!verifier.verify(this.app.key, Buffer.from(signature, 'base64url'))) return JWT_UNDECODABLE;

    const now = Math.floor(this.clock() / 1000);
    const { iat, exp } = claims;
    if (iat === undefined) return "Missing 'issued at' claim ('iat') in assertion";
    if (typeof iat !== 'number' || !Number.isInteger(iat) || iat > now + JWT_CLOCK_DRIFT_SECONDS) {
      return "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued";
    }
    if (exp === undefined) return "Missing 'expiration time' claim ('exp') in assertion";
    if (typeof exp !== 'number' || !Number.isFinite(exp) || exp <= now) {
      return "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires";
    }
    // Measured against the issue time and against GitHub's clock: a client clock running ahead
    // gets this refusal too (octokit/auth-app.js#698).
    if (exp - iat > MAX_JWT_LIFETIME_SECONDS || exp > now + MAX_JWT_LIFETIME_SECONDS) {
      return "'Expiration time' claim ('exp') is too far in the future";
    }
    return undefined;
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

  private getApp(): FakeResponse {
    const app = this.app!;
    return {
      status: 200,
      body: {
        id: app.id,
        slug: this.appSlug,
        node_id: `A_fake${app.id}`,
        client_id: `Iv1.fake${app.id}`,
        owner: this.renderAccount(app.owner, 'Organization'),
        name: this.appSlug,
        description: null,
        external_url: `https://github.com/apps/${this.appSlug}`,
        html_url: `https://github.com/apps/${this.appSlug}`,
        created_at: '2024-01-01T00:00:00Z',
        updated_at: '2024-01-01T00:00:00Z',
        permissions: APP_PERMISSIONS,
        events: APP_EVENTS,
        installations_count: this.installations.size,
      },
    };
  }

  /** `kind` 'Organization' for `/orgs/{org}/installation`, which does not find a user's. */
  private findInstallation(login: string, kind: 'Organization' | 'any'): FakeResponse {
    const installation = [...this.installations.values()].find(
      (i) => i.account.toLowerCase() === login.toLowerCase() && (kind === 'any' || i.accountType === kind),
    );
    return installation ? { status: 200, body: this.renderInstallation(installation) } : notFound();
  }

  private createInstallationToken(id: number): FakeResponse {
    if (!this.installations.has(id)) return notFound();
    const token = `ghs_${randomBytes(27).toString('base64url').replace(/[-_]/g, '0').slice(0, 36)}`;
    // GitHub's `expires_at` has whole seconds; the token lasts exactly as long as it says.
    const expiresAt = Math.floor((this.clock() + this.installationTokenTtlMs) / 1000) * 1000;
    this.installationTokens.set(token, { installationId: id, expiresAt });
    return {
      status: 201,
      body: {
        token,
        expires_at: new Date(expiresAt).toISOString().replace(/\.\d{3}Z$/, 'Z'),
        permissions: APP_PERMISSIONS,
        repository_selection: 'all',
      },
    };
  }

  private renderInstallation(installation: InstallationRecord): Record<string, unknown> {
    const account = this.renderAccount(installation.account, installation.accountType);
    const settings = installation.accountType === 'Organization' ? `organizations/${installation.account}/settings` : 'settings';
    return {
      id: installation.id,
      account,
      repository_selection: 'all',
      access_tokens_url: `${this.url}/app/installations/${installation.id}/access_tokens`,
      repositories_url: `${this.url}/installation/repositories`,
      html_url: `https://github.com/${settings}/installations/${installation.id}`,
      app_id: this.app?.id ?? null,
      app_slug: this.appSlug,
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
  }

  private renderAccount(login: string, type: 'Organization' | 'User'): Omit<GitHubUser, 'type'> & { type: 'Organization' | 'User' } {
    return { ...this.user(login), type };
  }

  private getPull([org, repo, number]: string[]): FakeResponse {
    const pr = this.pulls.get(pullKey(org!, repo!, Number(number)));
    if (!pr) return notFound();
    return { status: 200, body: this.renderPull(pr) };
  }

  /**
   * `GET /search/issues` over the pull requests the fake holds, for the qualifiers Bowline sends:
   * `type:pr`, `is:merged|open|closed`, `org:`, `repo:`, `author:`. Any other word is refused with
   * GitHub's 422, so a caller asking for more than the fake knows finds out.
   */
  private searchIssues(request: FakeRequest): FakeResponse {
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
    const found = [...this.pulls.values()].filter((pr) => checks.every((check) => check(pr)));
    const items = found.map((pr) => {
      const pull = this.renderPull(pr);
      return {
        ...Object.fromEntries(['url', 'id', 'html_url', 'number', 'state', 'locked', 'draft', 'title', 'body', 'user', 'labels', 'created_at', 'updated_at', 'closed_at'].map((key) => [key, pull[key]])),
        pull_request: { url: pull.url, html_url: pull.html_url, diff_url: pull.diff_url, patch_url: pull.patch_url, merged_at: pull.merged_at },
        score: 1,
      };
    });
    return { status: 200, body: { total_count: items.length, incomplete_results: false, items } };
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

  private createComment(request: FakeRequest, [org, repo, number]: string[], caller: Caller): FakeResponse {
    const pr = this.pulls.get(pullKey(org!, repo!, Number(number)));
    if (!pr) return notFound();
    const body = (parseJson(request.body) as { body?: unknown } | null)?.body;
    if (typeof body !== 'string') return validationFailed([{ resource: 'IssueComment', code: 'missing_field', field: 'body' }]);
    const record = this.storeComment(pr.org, pr.repo, pr.number, caller.login, body);
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

  private createStatus(request: FakeRequest, [org, repo, sha]: string[], caller: Caller): FakeResponse {
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
      creator: caller.login,
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

  /**
   * Newest first, paged by cursor as GitHub pages deliveries: no `page`, only a `rel="next"` link
   * whose `cursor` names the first delivery of the next page.
   */
  private listDeliveries(request: FakeRequest): FakeResponse {
    const perPageAsked = Number.parseInt(request.query.get('per_page') ?? '', 10);
    const perPage = Number.isNaN(perPageAsked) || perPageAsked < 1 ? 30 : Math.min(perPageAsked, 100);
    let newest = this.deliveryRecords.map((record) => record.delivery).reverse();

    const status = request.query.get('status');
    if (status !== null) {
      const range = DELIVERY_STATUS_RANGES[status];
      if (!range) return validationFailed([{ resource: 'HookDelivery', code: 'invalid', field: 'status', value: status }]);
      newest = newest.filter((d) => d.status_code >= range[0] && d.status_code <= range[1]);
    }
    const cursor = request.query.get('cursor');
    if (cursor !== null && cursor !== '') {
      const from = DELIVERY_CURSOR.exec(cursor);
      if (!from) return { status: 400, body: { message: 'Invalid cursor', documentation_url: DOCS, status: '400' } };
      newest = newest.filter((d) => d.id <= Number(from[1]));
    }

    const page = newest.slice(0, perPage);
    const next = newest[perPage];
    const headers: Record<string, string> = {};
    if (next) {
      const query = new URLSearchParams(request.query);
      query.set('cursor', `v1_${next.id}`);
      headers.link = `<${this.url}${request.path}?${query.toString()}>; rel="next"`;
    }
    return { status: 200, body: page.map(summarizeDelivery), headers };
  }

  private getDelivery([id]: string[]): FakeResponse {
    const record = this.deliveryRecords.find((r) => r.delivery.id === Number(id));
    if (!record) return notFound();
    return { status: 200, body: record.delivery };
  }

  private redeliver([id]: string[]): FakeResponse {
    const record = this.deliveryRecords.find((r) => r.delivery.id === Number(id));
    if (!record) return notFound();
    const { event, guid } = record.delivery;
    // GitHub only queues the attempt before it answers 202; setImmediate lets HttpFake write the
    // answer first, and tracking the send lets a test wait for it with settled().
    const queued = new Promise((resolve) => setImmediate(resolve));
    void this.track(queued.then(() => this.deliver({ event, guid, body: record.body, redelivery: true }))).catch(() => undefined);
    return { status: 202, body: {} };
  }

  private track<T>(work: Promise<T>): Promise<T> {
    this.inFlight.add(work);
    const forget = (): void => {
      this.inFlight.delete(work);
    };
    work.then(forget, forget);
    return work;
  }

  private async deliver(attempt: { event: string; guid: string; body: string; redelivery: boolean }): Promise<FakeDelivery> {
    const webhook = this.webhook;
    if (!webhook) throw new Error('FakeGitHub has no webhook to deliver to: pass options.webhook or call setWebhook()');
    const id = this.nextDeliveryId++;
    const payload = JSON.parse(attempt.body) as Record<string, unknown>;
    const headers = this.webhookHeaders(attempt.event, attempt.guid, attempt.body, webhook.secret);
    const deliveredAt = timestamp();
    const started = performance.now();

    const deadline = AbortSignal.timeout(this.webhookTimeoutMs);
    let outcome: Pick<FakeDelivery, 'status' | 'status_code' | 'response'>;
    try {
      const response = await fetch(webhook.url, {
        method: 'POST',
        headers,
        body: attempt.body,
        // GitHub does not follow redirects: a 3xx is the delivery's answer.
        redirect: 'manual',
        signal: AbortSignal.any([deadline, this.closing.signal]),
      });
      const text = await response.text();
      outcome = {
        status: response.ok ? 'OK' : `Invalid HTTP Response: ${response.status}`,
        status_code: response.status,
        response: { headers: Object.fromEntries(response.headers), payload: text },
      };
    } catch {
      // The deadline, not the error, tells a timeout from a failed connection: fetch's DOMException
      // is not `instanceof Error` inside jest's VM context.
      const status = deadline.aborted ? 'timed out' : 'failed to connect to host';
      outcome = { status, status_code: 0, response: { headers: null, payload: null } };
    }

    const delivery: FakeDelivery = {
      id,
      guid: attempt.guid,
      delivered_at: deliveredAt,
      redelivery: attempt.redelivery,
      duration: Math.round(performance.now() - started) / 1000,
      ...outcome,
      event: attempt.event,
      action: typeof payload.action === 'string' ? payload.action : null,
      installation_id: idOf(payload.installation),
      repository_id: idOf(payload.repository),
      throttled_at: null,
      url: webhook.url,
      request: { headers, payload },
    };
    // Kept in id order, the order attempts started, though a slow one may finish after a later one.
    const at = this.deliveryRecords.findIndex((r) => r.delivery.id > id);
    this.deliveryRecords.splice(at < 0 ? this.deliveryRecords.length : at, 0, { delivery, body: attempt.body });
    return structuredClone(delivery);
  }

  /** The headers GitHub sends with an App webhook; it signs only when the webhook has a secret. */
  private webhookHeaders(event: string, guid: string, body: string, secret: string): Record<string, string> {
    const headers: Record<string, string> = {
      Accept: '*/*',
      'Content-Type': 'application/json',
      'User-Agent': 'GitHub-Hookshot/fake',
      'X-GitHub-Delivery': guid,
      'X-GitHub-Event': event,
      'X-GitHub-Hook-ID': String(APP_HOOK_ID),
      'X-GitHub-Hook-Installation-Target-Type': 'integration',
    };
    if (this.app) headers['X-GitHub-Hook-Installation-Target-ID'] = String(this.app.id);
    if (secret !== '') {
      // GitHub still sends the legacy SHA-1 signature next to the SHA-256 one.
      headers['X-Hub-Signature'] = `sha1=${createHmac('sha1', secret).update(body).digest('hex')}`;
      headers['X-Hub-Signature-256'] = signBody(body, secret);
    }
    return headers;
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
      // Every GitHub App account is a `name[bot]` of type Bot.
      type: login === this.botLogin || login.endsWith('[bot]') ? 'Bot' : 'User',
      site_admin: false,
      url: `${this.url}/users/${encodeURIComponent(login)}`,
      // An App's bot has no profile of its own; GitHub links it to the App's page.
      html_url: login === this.appBotLogin ? `https://github.com/apps/${this.appSlug}` : `https://github.com/${login}`,
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
      merged_at: pr.merged ? pr.createdAt : null,
      merged: pr.merged,
      mergeable: pr.mergeable,
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
      creator: this.user(record.creator),
      created_at: record.createdAt,
      updated_at: record.createdAt,
    };
  }
}

function unauthorized(message: string): FakeResponse {
  return { status: 401, body: { message, documentation_url: DOCS, status: '401' } };
}

function decodeJwtPart(part: string): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as unknown;
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function idOf(value: unknown): number | null {
  const id = (value as { id?: unknown } | null | undefined)?.id;
  return typeof id === 'number' ? id : null;
}

/** A delivery as the list shows it: no target URL, request or response. */
function summarizeDelivery(delivery: FakeDelivery): Omit<FakeDelivery, 'url' | 'request' | 'response'> {
  const { url: _url, request: _request, response: _response, ...summary } = delivery;
  return summary;
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

/**
 * A weak validator, as GitHub sends on its JSON answers: the body is the same JSON, not the same
 * bytes, across encodings. Derived from the body so any change to what a GET shows changes it.
 */
function entityTag(body: unknown): string {
  const text = typeof body === 'string' ? body : JSON.stringify(body ?? null);
  return `W/"${createHash('sha256').update(text).digest('hex')}"`;
}

/** `If-None-Match` uses the weak comparison and may list several tags, or `*` (RFC 9110 §13.1.2). */
function matchesEntityTag(header: string | string[] | undefined, etag: string): boolean {
  if (header === undefined) return false;
  const opaque = (tag: string): string => tag.trim().replace(/^W\//, '');
  const wanted = opaque(etag);
  return [header]
    .flat()
    .flatMap((value) => value.split(','))
    .some((tag) => tag.trim() === '*' || opaque(tag) === wanted);
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
