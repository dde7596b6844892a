import { createSign } from 'node:crypto';
import { Octokit } from '@octokit/rest';
import { type Logger } from '@bowline/observability';
import { readSecretFile, type Env } from '@bowline/service';
import { octokitLog } from './client.js';

export interface GitHubAppSettings {
  apiUrl: string;
  appId: string;
  privateKey: string;
}

/** The GitHub App's identity, when `GITHUB_APP_ID` and `GITHUB_APP_PRIVATE_KEY_FILE` are both set. */
export function gitHubAppSettingsFromEnv(env: Env): GitHubAppSettings | undefined {
  const appId = env.GITHUB_APP_ID?.trim();
  if (!appId) return undefined;
  return {
    apiUrl: (env.GITHUB_API_URL?.trim() || 'https://api.github.com').replace(/\/+$/, ''),
    appId,
    privateKey: readSecretFile(env, 'GITHUB_APP_PRIVATE_KEY_FILE', "the GitHub App's private key (PEM)"),
  };
}

const base64url = (data: string | Buffer): string => Buffer.from(data).toString('base64url');

/**
 * The JWT a GitHub App signs to call `/app` endpoints: RS256, issued a minute in the past (GitHub
 * allows for clock drift that way) and valid for nine minutes, under GitHub's ten-minute cap.
 */
export function createAppJwt(appId: string, privateKey: string, now: Date = new Date()): string {
  const seconds = Math.floor(now.getTime() / 1000);
  const header = base64url(JSON.stringify({ alg: 'RS256', typ: 'JWT' }));
  const claims = base64url(JSON.stringify({ iat: seconds - 60, exp: seconds + 540, iss: appId }));
  const signature = createSign('RSA-SHA256').update(`${header}.${claims}`).sign(privateKey);
  return `${header}.${claims}.${base64url(signature)}`;
}

/** Octokit authenticated as the App itself (not an installation), with a fresh JWT per request. */
export function createAppOctokit(settings: GitHubAppSettings, logger: Logger, now: () => Date = () => new Date()): Octokit {
  const octokit = new Octokit({
    baseUrl: settings.apiUrl,
    userAgent: 'bowline',
    log: octokitLog(logger),
  });
  octokit.hook.before('request', (options) => {
    options.headers.authorization = `Bearer ${createAppJwt(settings.appId, settings.privateKey, now())}`;
  });
  return octokit;
}
