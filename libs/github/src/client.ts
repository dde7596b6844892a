import { Octokit } from '@octokit/rest';
import { readSecretFile, optionalEnv, SettingsError, type Env, type Logger } from '@bowline/observability';
import { enableConditionalRequests } from './conditional-requests.js';

export type { Octokit } from '@octokit/rest';

export interface GitHubSettings {
  apiUrl: string;
  token: string;
}

/**
 * GitHub settings from the environment: `GITHUB_API_URL` and the token in `GITHUB_TOKEN_FILE`.
 * GitHub App authentication (`GITHUB_APP_ID` + `GITHUB_APP_PRIVATE_KEY_FILE`) is recognised but
 * not yet supported, and says so rather than starting without credentials.
 */
export function gitHubSettingsFromEnv(env: Env): GitHubSettings {
  const apiUrl = optionalEnv(env, 'GITHUB_API_URL', 'https://api.github.com').replace(/\/+$/, '');
  if (!env.GITHUB_TOKEN_FILE && env.GITHUB_APP_ID) {
    throw new SettingsError('GITHUB_APP_ID is set but GitHub App authentication is not supported yet: set GITHUB_TOKEN_FILE');
  }
  const token = readSecretFile(env, 'GITHUB_TOKEN_FILE', 'a GitHub token for the bot account');
  return { apiUrl, token };
}

/**
 * Octokit for the bot's token. Every GET is conditional (If-None-Match): GitHub answers an
 * unchanged resource with 304, which does not count against the 5,000 requests an hour.
 */
export function createGitHub(settings: GitHubSettings, logger: Logger): Octokit {
  const octokit = new Octokit({
    auth: settings.token,
    baseUrl: settings.apiUrl,
    userAgent: 'bowline',
    log: octokitLog(logger),
  });
  enableConditionalRequests(octokit);
  return octokit;
}

/**
 * Octokit logs every failed request as an error, including the 404 that means "not a member".
 * The caller knows whether a failure matters and logs it with context; Octokit's own lines stay
 * at debug.
 */
export function octokitLog(logger: Logger) {
  return {
    debug: () => undefined,
    info: () => undefined,
    warn: (message: string) => logger.warn({ component: 'octokit' }, message),
    error: (message: string) => logger.debug({ component: 'octokit' }, message),
  };
}

/** GitHub answers 404 for "no" on membership and collaborator checks. */
export function isNotFound(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { status?: number }).status === 404;
}

export async function isOrgMember(github: Octokit, org: string, user: string): Promise<boolean> {
  try {
    const response = await github.rest.orgs.checkMembershipForUser({ org, username: user });
    return (response.status as number) === 204;
  } catch (error) {
    // 302 means the bot cannot see private membership; GitHub then answers "not a member" too.
    if (isNotFound(error) || (error as { status?: number }).status === 302) return false;
    throw error;
  }
}

export async function isCollaborator(github: Octokit, owner: string, repo: string, user: string): Promise<boolean> {
  try {
    await github.rest.repos.checkCollaborator({ owner, repo, username: user });
    return true;
  } catch (error) {
    if (isNotFound(error)) return false;
    throw error;
  }
}

/** The bot's own login, asked of GitHub once and remembered (a failed ask is asked again). */
export function botLoginOf(github: Octokit): () => Promise<string> {
  let login: Promise<string> | undefined;
  return () => {
    login ??= github.rest.users.getAuthenticated().then(
      (response) => response.data.login,
      (error: unknown) => {
        login = undefined;
        throw error;
      },
    );
    return login;
  };
}
