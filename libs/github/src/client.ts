import { Octokit } from '@octokit/rest';
import type { Registry } from 'prom-client';
import { SettingsError, type Logger } from '@bowline/observability';
import { optionalEnv, parseDuration, readSecretFile, type Env } from '@bowline/service';
import { appBotLogin, createInstallationOctokit } from './app-installations.js';
import { gitHubAppSettingsFromEnv, type GitHubAppSettings } from './app.js';
import { enableConditionalRequests } from './conditional-requests.js';
import { instrumentGitHub, resilientOctokit } from './resilience.js';

export type { Octokit } from '@octokit/rest';

export interface GitHubSettings {
  apiUrl: string;
  /** The bot account's token; or else `app`. */
  token?: string;
  app?: GitHubAppSettings;
  /** Pause between two writes (GitHub asks for a second); see `resilientOctokit`. */
  writeIntervalMs?: number;
}

/**
 * GitHub settings from the environment: `GITHUB_API_URL`, and the token in `GITHUB_TOKEN_FILE` or
 * the App in `GITHUB_APP_ID` + `GITHUB_APP_PRIVATE_KEY_FILE`; `GITHUB_WRITE_INTERVAL` (default 1s).
 */
export function gitHubSettingsFromEnv(env: Env): GitHubSettings {
  const apiUrl = optionalEnv(env, 'GITHUB_API_URL', 'https://api.github.com').replace(/\/+$/, '');
  const interval = optionalEnv(env, 'GITHUB_WRITE_INTERVAL', '1s');
  let writeIntervalMs: number;
  try {
    writeIntervalMs = parseDuration(interval);
  } catch {
    throw new SettingsError(`GITHUB_WRITE_INTERVAL is "${interval}": set it to a duration such as 1s`);
  }
  if (!env.GITHUB_TOKEN_FILE && env.GITHUB_APP_ID) return { apiUrl, app: gitHubAppSettingsFromEnv(env), writeIntervalMs };
  if (!env.GITHUB_TOKEN_FILE) {
    throw new SettingsError('GITHUB_TOKEN_FILE is not set: set it to the path of a file holding the bot account\'s token, or set GITHUB_APP_ID and GITHUB_APP_PRIVATE_KEY_FILE to run as a GitHub App');
  }
  return { apiUrl, token: readSecretFile(env, 'GITHUB_TOKEN_FILE', 'a GitHub token for the bot account'), writeIntervalMs };
}

/** What a service talks to GitHub with, and who it is there. */
export interface GitHub {
  octokit: Octokit;
  botLogin: () => Promise<string>;
}

/**
 * The services' GitHub client: rate limits waited out and 5xx retried (`resilientOctokit`),
 * requests counted in metrics, every GET conditional (a 304 costs nothing from the hourly
 * quota), and authenticated as the bot account or as the App's installation of each org.
 */
export function connectGitHub(settings: GitHubSettings, options: { logger: Logger; service: string; registry?: Registry; queue?: string }): GitHub {
  const { logger, service, registry, queue } = options;
  const OctokitClass = resilientOctokit({ logger, service, registry, queue, writeIntervalMs: settings.writeIntervalMs });
  let octokit: Octokit;
  let botLogin: () => Promise<string>;
  if (settings.app) {
    octokit = createInstallationOctokit(settings.app, logger, { OctokitClass });
    botLogin = appBotLogin(settings.app, logger);
  } else if (settings.token) {
    octokit = new OctokitClass({ auth: settings.token, baseUrl: settings.apiUrl, userAgent: 'bowline', log: octokitLog(logger) });
    botLogin = botLoginOf(octokit);
  } else {
    throw new SettingsError('GitHub needs a token or a GitHub App');
  }
  // Before the conditional requests, so a 304 is counted as the 304 it is.
  if (registry) instrumentGitHub(octokit, { registry, service });
  enableConditionalRequests(octokit);
  return { octokit, botLogin };
}

/**
 * A plain Octokit for a token, with conditional GETs but no throttling or retries: for tools and
 * tests that want each request to go out as it is made. Services use `connectGitHub`.
 */
export function createGitHub(settings: { apiUrl: string; token: string }, logger: Logger): Octokit {
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
