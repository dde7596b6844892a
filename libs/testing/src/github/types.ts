// The shapes FakeGitHub takes and gives back; re-exported by github-server.ts, its public face.

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
