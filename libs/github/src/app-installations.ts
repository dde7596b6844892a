import { Octokit } from '@octokit/rest';
import { BowlineError, type Logger } from '@bowline/observability';
import { createAppJwt, createAppOctokit, type GitHubAppSettings } from './app.js';
import { octokitLog } from './client.js';

/** The App cannot act for a request: it names no owner, or the owner has not installed the App. */
export class AppInstallationError extends BowlineError {}

export interface InstallationOctokitOptions {
  /** The clock tokens are judged fresh by, and JWTs signed with (tests move it). */
  now?: () => Date;
  /** Octokit with Bowline's request hook (`resilientOctokit`: pacing, retries); it wraps this authentication. */
  OctokitClass?: typeof Octokit;
}

/** The raw request a hook is handed: Octokit's defaults (base URL, user agent), none of its hooks. */
type RawRequest = Octokit['request'];
type RequestOptions = Parameters<RawRequest['endpoint']['parse']>[0];
type Response = Awaited<ReturnType<RawRequest>>;

interface Installation {
  id: number;
  owner: string;
}

interface InstallationToken {
  token: string;
  /** When to mint the next one (ms since the epoch): some minutes before GitHub's `expires_at`. */
  refreshAt: number;
}

// GitHub's installation tokens last an hour. Replacing one five minutes early leaves room for a
// request started just before the deadline and for our clock running behind GitHub's;
// @octokit/auth-app keeps one 59 minutes whatever its `expires_at` says, a single minute of room.
const REFRESH_MARGIN_MS = 5 * 60_000;

// The routes GitHub wants the App's JWT for rather than an installation token (the same list
// @octokit/auth-app sends a JWT on): the App's own routes and the installation look-ups.
const APP_ROUTE = /^\/(?:app(?:\/|$)|marketplace_listing\/|(?:repos\/[^/]+\/[^/]+|orgs\/[^/]+|users\/[^/]+|enterprises\/[^/]+)\/installation$)/i;
const REPO_ROUTE = /^\/repos\/([^/]+)\/([^/]+)/;
const ORG_ROUTE = /^\/orgs\/([^/]+)(?:\/|$)/;

/**
 * An Octokit authenticated as the App's installations: the owner in each request's URL
 * (`/repos/{owner}/…`, `/orgs/{org}/…`) picks the installation (looked up once per owner with the
 * App JWT: GET /repos/{owner}/{repo}/installation or GET /orgs/{org}/installation, falling back to
 * GET /users/{owner}/installation), whose token is cached and replaced a few minutes before
 * `expires_at`. Requests without an owner (`GET /user` …) are refused with an
 * AppInstallationError, since an installation has no user. `/app/…` routes go with the JWT.
 */
export function createInstallationOctokit(
  settings: GitHubAppSettings,
  logger: Logger,
  options: InstallationOctokitOptions = {},
): Octokit {
  const now = options.now ?? (() => new Date());
  const OctokitClass = options.OctokitClass ?? Octokit;
  const basePath = new URL(settings.apiUrl).pathname.replace(/\/+$/, '');
  const log = logger.child({ component: 'github-app' });

  // Promises, so concurrent requests for one owner share a single look-up and a single mint.
  const installations = new Map<string, Promise<Installation>>();
  const tokens = new Map<number, Promise<InstallationToken>>();

  const jwt = (): string => `bearer ${createAppJwt(settings.appId, settings.privateKey, now())}`;

  const findInstallation = async (request: RawRequest, owner: string, repo: string | undefined, orgRoute: boolean): Promise<Installation> => {
    const lookups: Array<[string, Record<string, string>]> = [];
    if (repo !== undefined) lookups.push(['GET /repos/{owner}/{repo}/installation', { owner, repo }]);
    else if (orgRoute) lookups.push(['GET /orgs/{org}/installation', { org: owner }]);
    // The account's installation whatever kind of account it is (the org look-up misses a user's)
    // and whichever repositories it covers: one left out then gets GitHub's own 404 for the
    // request, as it would with the bot user's token, rather than a guess from here.
    lookups.push(['GET /users/{username}/installation', { username: owner }]);
    for (const [route, parameters] of lookups) {
      try {
        const response = await request(route, { ...parameters, headers: { authorization: jwt() } });
        const id = (response.data as { id: number }).id;
        log.debug({ owner, installation: id }, 'found the GitHub App installation');
        return { id, owner };
      } catch (error) {
        if (statusOf(error) !== 404) throw error;
      }
    }
    throw new AppInstallationError(`the GitHub App ${settings.appId} is not installed on "${owner}"`, {
      context: { owner, appId: settings.appId },
    });
  };

  const mintToken = async (request: RawRequest, installation: Installation): Promise<InstallationToken> => {
    const mintedAt = now().getTime();
    const response = await request('POST /app/installations/{installation_id}/access_tokens', {
      installation_id: installation.id,
      headers: { authorization: jwt() },
    });
    const { token, expires_at: expiresAt } = response.data;
    const lifetime = Date.parse(expiresAt) - mintedAt;
    // A token shorter-lived than twice the margin (a GitHub Enterprise setting, a test's fake)
    // would otherwise be replaced on every request: it is kept for half its life instead.
    const refreshAt = Date.parse(expiresAt) - Math.min(REFRESH_MARGIN_MS, lifetime / 2);
    log.debug({ owner: installation.owner, installation: installation.id, expiresAt }, 'minted an installation token');
    return { token, refreshAt };
  };

  const installationOf = (request: RawRequest, owner: string, repo: string | undefined, orgRoute: boolean): Promise<Installation> => {
    const key = owner.toLowerCase();
    let found = installations.get(key);
    if (!found) {
      found = findInstallation(request, owner, repo, orgRoute);
      installations.set(key, found);
      // Not remembered when it fails: the account may install the App, or GitHub may recover.
      found.catch(() => installations.delete(key));
    }
    return found;
  };

  const tokenOf = async (request: RawRequest, installation: Installation): Promise<string> => {
    const cached = tokens.get(installation.id);
    if (cached) {
      // A mint that fails fails the requests waiting on it too, as a failed look-up does.
      const current = await cached;
      if (now().getTime() < current.refreshAt) return current.token;
      // Another request may have started the replacement while this one waited.
      if (tokens.get(installation.id) !== cached) return tokenOf(request, installation);
    }
    const minted = mintToken(request, installation);
    tokens.set(installation.id, minted);
    minted.catch(() => {
      if (tokens.get(installation.id) === minted) tokens.delete(installation.id);
    });
    return (await minted).token;
  };

  /** Forgets what a 401 has shown to be stale: the token, revoked, or the installation, removed. */
  const forget = (owner: string, installation: Installation): void => {
    installations.delete(owner.toLowerCase());
    tokens.delete(installation.id);
  };

  const hook = async (request: RawRequest, requestOptions: RequestOptions): Promise<Response> => {
    const headers = requestOptions.headers as Record<string, string | undefined>;
    const path = pathOf(request.endpoint.parse(requestOptions).url, basePath);
    if (APP_ROUTE.test(path)) {
      headers.authorization = jwt();
      return request(requestOptions as RequestOptions & { url: string });
    }
    const repoRoute = REPO_ROUTE.exec(path);
    const orgRoute = repoRoute ? null : ORG_ROUTE.exec(path);
    const owner = decodeURIComponent((repoRoute ?? orgRoute)?.[1] ?? '');
    if (owner === '') {
      throw new AppInstallationError(
        `cannot send ${requestOptions.method} ${path} as the GitHub App: the request names no owner (/repos/{owner}/… or /orgs/{org}/…) to pick an installation by, and an installation has no user`,
        { context: { path } },
      );
    }
    const repo = repoRoute ? decodeURIComponent(repoRoute[2]!) : undefined;

    for (let attempt = 1; ; attempt += 1) {
      const installation = await installationOf(request, owner, repo, orgRoute !== null);
      headers.authorization = `token ${await tokenOf(request, installation)}`;
      try {
        return await request(requestOptions as RequestOptions & { url: string });
      } catch (error) {
        // A 401 means GitHub did nothing, so asking again is safe: the token was revoked, or the
        // App was uninstalled and installed again under a new id. Once, so a real refusal shows.
        if (statusOf(error) !== 401 || attempt > 1) throw error;
        log.warn({ owner, installation: installation.id }, 'GitHub refused the installation token; looking the installation up again');
        forget(owner, installation);
      }
    }
  };

  // An auth strategy rather than a hook added afterwards: Octokit wraps the request with it before
  // any plugin, so pacing and retries (resilience.ts) run around it (a retried request is
  // authenticated again), and the `request` it is handed is the bare one (before-after-hook calls every outer
  // layer with the original options, whatever it is passed). The look-ups and mints go out bare
  // on purpose: the request hook lets 10 requests of an identity out at a time, and 10 requests each
  // waiting inside their slot for a look-up that needs an 11th would wait for ever.
  const authStrategy = () =>
    Object.assign(async () => ({ type: 'app-installations', appId: settings.appId }), { hook });

  return new OctokitClass({
    authStrategy,
    baseUrl: settings.apiUrl,
    userAgent: 'bowline',
    log: octokitLog(logger),
  });
}

/** The bot's login as GitHub shows it on comments it posts: `<app slug>[bot]` from GET /app (JWT), asked once. */
export function appBotLogin(settings: GitHubAppSettings, logger: Logger): () => Promise<string> {
  const app = createAppOctokit(settings, logger);
  let login: Promise<string> | undefined;
  return () => {
    login ??= app.rest.apps.getAuthenticated().then(
      (response) => {
        const slug = response.data?.slug;
        if (!slug) throw new AppInstallationError(`GitHub answered GET /app for App ${settings.appId} without a slug`);
        return `${slug}[bot]`;
      },
      (error: unknown) => {
        throw new AppInstallationError(`cannot read GitHub App ${settings.appId} (GET /app)`, { cause: error });
      },
    );
    // A failed ask is asked again next time.
    login.catch(() => {
      login = undefined;
    });
    return login;
  };
}

/** The path under the API's base (GitHub Enterprise serves the API under `/api/v3`). */
function pathOf(url: string, basePath: string): string {
  const path = new URL(url).pathname;
  return basePath !== '' && path.startsWith(`${basePath}/`) ? path.slice(basePath.length) : path;
}

function statusOf(error: unknown): number | undefined {
  return typeof error === 'object' && error !== null ? (error as { status?: number }).status : undefined;
}
