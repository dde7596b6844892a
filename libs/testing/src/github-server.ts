import { FakeServer, type FakeRequest, type FakeResponse } from './http-fake.js';
import type { RequestMatcher } from './request-recorder.js';
import { authenticate } from './github/auth.js';
import { WebhookDeliveries } from './github/deliveries.js';
import { RateLimits } from './github/rate-limits.js';
import { appRoutes } from './github/routes/app.js';
import { hookRoutes } from './github/routes/hooks.js';
import { issueRoutes } from './github/routes/issues.js';
import { orgRoutes } from './github/routes/orgs.js';
import { pullRoutes } from './github/routes/pulls.js';
import { statusRoutes } from './github/routes/statuses.js';
import { dispatch, entityTag, matchesEntityTag, type Route, type RouteContext } from './github/routing.js';
import { GitHubState } from './github/state.js';
import type {
  FakeDelivery,
  FakeGitHubApp,
  FakeGitHubOptions,
  FakeInstallation,
  FakePullRequest,
  FakeWebhook,
  GitHubComment,
  GitHubStatus,
  RateLimitOptions,
} from './github/types.js';
import { GitHubViews } from './github/views.js';
import { FakeOAuth, type FakeOAuthApp, type FakeOAuthUser } from './github/oauth.js';

export type * from './github/types.js';
export type { FakeOAuthApp, FakeOAuthUser } from './github/oauth.js';

// "If your server ... takes longer than 10 seconds to respond, GitHub will record the delivery as
// a failure" (docs: Handling failed webhook deliveries).
const WEBHOOK_TIMEOUT_MS = 10_000;
// "Installation access tokens expire one hour from the time you create them" (docs: Generating an
// installation access token for a GitHub App).
const INSTALLATION_TOKEN_TTL_MS = 60 * 60_000;

/**
 * A real HTTP server playing the GitHub REST v3 calls Bowline makes, so `@octokit/rest` runs
 * unchanged against it with `baseUrl` set to `url`. Every request is recorded, and chosen requests
 * can fail or be rate limited the way GitHub does it.
 *
 * This class is the fake's face: what it holds is in github/state.ts, each group of REST routes in
 * github/routes/, signing in in github/auth.ts, the quota in github/rate-limits.ts and the App's
 * webhook in github/deliveries.ts.
 */
export class FakeGitHub extends FakeServer {
  readonly botLogin: string;
  private readonly tokens: Set<string>;
  private readonly clock: () => number;
  private readonly state: GitHubState;
  private readonly views: GitHubViews;
  private readonly quota = new RateLimits();
  private readonly hooks: WebhookDeliveries;
  private readonly routes: Route[];
  private readonly oauth: FakeOAuth;
  private nextRequestId = 1;

  private constructor(options: FakeGitHubOptions) {
    super();
    this.tokens = new Set(options.tokens ?? ['test-token']);
    this.botLogin = options.botLogin ?? 'bowline-bot';
    this.clock = options.clock ?? Date.now;
    this.state = new GitHubState(this.botLogin);
    this.views = new GitHubViews(this.state, () => this.url);
    this.hooks = new WebhookDeliveries(options.webhookTimeoutMs ?? WEBHOOK_TIMEOUT_MS, () => this.state.app?.id);
    if (options.app) this.setApp(options.app);
    if (options.webhook) this.setWebhook(options.webhook);
    const http = this.http;
    const context: RouteContext = {
      state: this.state,
      views: this.views,
      get url() {
        return http.url;
      },
    };
    this.routes = [
      ...orgRoutes(context),
      ...pullRoutes(context),
      ...issueRoutes(context),
      ...statusRoutes(context),
      ...appRoutes(context, { clock: this.clock, ttlMs: options.installationTokenTtlMs ?? INSTALLATION_TOKEN_TTL_MS }),
      ...hookRoutes(context, this.hooks),
    ];
    this.oauth = new FakeOAuth(this.clock);
  }

  static async start(options: FakeGitHubOptions = {}): Promise<FakeGitHub> {
    const github = new FakeGitHub(options);
    await github.http.listen();
    return github;
  }

  /**
   * Answers the next matching requests the way GitHub refuses a client over its limits (a primary
   * or a secondary limit, on a 403 or a 429), with the headers GitHub documents for each.
   */
  rateLimit(matcher: RequestMatcher, options: RateLimitOptions): void {
    this.http.inject(matcher, this.quota.refusal(options, () => `FAKE:${this.nextRequestId++}`));
  }

  /** Adds a pull request; adding the same number again replaces it, as a push would. */
  addPullRequest(pr: FakePullRequest): void {
    this.state.addPullRequest(pr);
  }

  addOrgMember(org: string, login: string): void {
    this.state.addOrgMember(org, login);
  }

  /** `orgTeam` is `org/team-slug`; `pending`: invited, not yet a member. */
  addTeamMember(orgTeam: string, login: string, state: 'active' | 'pending' = 'active'): void {
    this.state.addTeamMember(orgTeam, login, state);
  }

  /** Registers an OAuth app whose web flow `/login/oauth/*` plays (github/oauth.ts). */
  addOAuthApp(app: FakeOAuthApp): void {
    this.oauth.addApp(app);
  }

  /** Someone the sign-in page of `/login/oauth/authorize` offers. */
  addOAuthUser(user: FakeOAuthUser): void {
    this.oauth.addUser(user);
  }

  /** `orgRepo` is `org/repo`. */
  addCollaborator(orgRepo: string, login: string): void {
    this.state.addCollaborator(orgRepo, login);
  }

  /** Statuses of a commit, oldest first (the GitHub API lists them newest first). */
  statuses(org: string, repo: string, sha: string): GitHubStatus[] {
    return this.views.statuses(org, repo, sha);
  }

  /** Comments of an issue or pull request, oldest first. */
  comments(org: string, repo: string, number: number): GitHubComment[] {
    return this.views.comments(org, repo, number);
  }

  labels(org: string, repo: string, number: number): string[] {
    return [...(this.state.pull(org, repo, number)?.labels ?? [])];
  }

  /** Seeds a comment written by someone other than the bot. */
  addComment(org: string, repo: string, number: number, login: string, body: string): GitHubComment {
    return this.views.comment(this.state.storeComment(org, repo, number, login, body));
  }

  /** Points the App's webhook somewhere else or rotates its secret; redeliveries use the new one. */
  setWebhook(webhook: FakeWebhook): void {
    this.hooks.setWebhook(webhook);
  }

  /** Registers the App whose JWTs `/app/...` accepts; throws at once on a key that is not RSA. */
  setApp(app: FakeGitHubApp): void {
    this.state.setApp(app);
  }

  /** The login the App writes as with an installation token: `<slug>[bot]`. */
  get appBotLogin(): string {
    return this.state.appBotLogin;
  }

  /** Installs the App on an account; installing it again under a new id replaces the old one. */
  addInstallation(installation: FakeInstallation): void {
    this.state.addInstallation(installation);
  }

  /** The installation an installation token was minted for, so a test can tell whose token was sent. */
  tokenInstallation(token: string): number | undefined {
    return this.state.installationToken(token)?.installationId;
  }

  /** Uninstalls the App: GitHub revokes the installation's tokens with it. */
  removeInstallation(id: number): void {
    this.state.removeInstallation(id);
  }

  /**
   * GitHub delivering `event` to the App's webhook: a signed POST to its URL, recorded with the
   * outcome whatever it is. No answer (a refused connection, a timeout) is a failed delivery with
   * status_code 0, as GitHub records it. Rejects only when no webhook is configured.
   */
  sendWebhook(event: string, payload: Record<string, unknown>, options: { guid?: string } = {}): Promise<FakeDelivery> {
    return this.hooks.send(event, payload, options.guid);
  }

  /** Every delivery attempt, redeliveries included, oldest first. */
  deliveries(): FakeDelivery[] {
    return this.hooks.all().map((delivery) => structuredClone(delivery));
  }

  /** Resolves once no delivery is in flight, including redeliveries queued by the API. */
  settled(): Promise<void> {
    return this.hooks.settled();
  }

  async close(): Promise<void> {
    await this.hooks.close();
    await this.http.close();
  }

  /**
   * How many requests counted against the primary quota since the fake started: refused tokens
   * and 304s do not, injected faults never reach the quota. Unlike `x-ratelimit-used` it does not
   * go back to zero when the hour rolls over.
   */
  rateLimitUsed(): number {
    return this.quota.used;
  }

  protected handle(request: FakeRequest): FakeResponse {
    this.quota.roll();
    // The OAuth web flow is GitHub's web host, not its API: no token and no API quota.
    if (request.path.startsWith('/login/oauth/')) return dispatch(this.oauth.routes(), request, { login: '' });
    const userToken = /^(?:token|bearer)\s+(\S+)$/i.exec(request.headers.authorization?.trim() ?? '')?.[1];
    const oauthUser = userToken === undefined ? undefined : this.oauth.userOf(userToken);
    const authentication = oauthUser !== undefined ? { caller: { login: oauthUser } } : authenticate(request, { tokens: this.tokens, state: this.state, clock: this.clock });
    if ('refusal' in authentication) return this.answer(authentication.refusal);
    const response = dispatch(this.routes, request, authentication.caller);
    if (request.method !== 'GET' || response.status !== 200) {
      this.quota.charge();
      return this.answer(response);
    }
    const etag = entityTag(response.body);
    if (matchesEntityTag(request.headers['if-none-match'], etag)) {
      // "Making a conditional request does not count against your primary rate limit if a 304
      // response is returned and the request was made while correctly authorized" (docs: Best
      // practices for using the REST API). No body and no Link: a client answers from its copy.
      return this.answer({ status: 304, headers: { etag } });
    }
    this.quota.charge();
    return this.answer({ ...response, headers: { ...response.headers, etag } });
  }

  private answer(response: FakeResponse): FakeResponse {
    return {
      ...response,
      headers: {
        ...this.quota.headers(),
        'x-github-media-type': 'github.v3; format=json',
        'x-github-request-id': `FAKE:${this.nextRequestId++}`,
        ...response.headers,
      },
    };
  }
}
