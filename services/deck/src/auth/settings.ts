import { readFileSync } from 'node:fs';
import { SettingsError } from '@bowline/observability';
import { optionalEnv, readSecretFile, type Env } from '@bowline/service';

/** What signing in with GitHub needs; without `GITHUB_OAUTH_CLIENT_ID` the deck stays read-only. */
export interface AuthSettings {
  /** `GITHUB_OAUTH_CLIENT_ID`: the OAuth app's client id. */
  clientId: string;
  /** From `GITHUB_OAUTH_CLIENT_SECRET_FILE`; never logged. */
  clientSecret: string;
  /** From `DECK_SESSION_KEY_FILE`, one key a line: the first signs, every one verifies. */
  sessionKeys: string[];
  /** Where GitHub's OAuth pages are: `DECK_GITHUB_URL` (github.com or a GitHub Enterprise host). */
  githubUrl: string;
  /** `GITHUB_API_URL`, where `GET /user` is asked with the user's token. */
  apiUrl: string;
  /**
   * `DECK_URL`, the deck's own address as people reach it (`https://deck.example.com`): the
   * callback sent to GitHub is `<DECK_URL>/auth/github/callback`, and the pull request comments
   * link there. Unset, GitHub uses the OAuth app's registered callback and comments name no link.
   */
  deckUrl?: string;
}

/** A key shorter than this is refused: HMAC-SHA256 keys should carry 256 bits (RFC 2104 §3). */
const MIN_KEY_LENGTH = 32;

/** The sign-in settings, or undefined when none is set (the read-only deck of issue 18). */
export function readAuthSettings(env: Env, githubUrl: string): AuthSettings | undefined {
  const clientId = env.GITHUB_OAUTH_CLIENT_ID?.trim();
  if (!clientId) {
    for (const name of ['GITHUB_OAUTH_CLIENT_SECRET_FILE', 'DECK_SESSION_KEY_FILE']) {
      if (env[name]) throw new SettingsError(`${name} is set but GITHUB_OAUTH_CLIENT_ID is not: set both to let people sign in, or neither for a read-only deck`, { context: { variable: name } });
    }
    return undefined;
  }
  const clientSecret = readSecretFile(env, 'GITHUB_OAUTH_CLIENT_SECRET_FILE', "the GitHub OAuth app's client secret");
  const sessionKeys = readSessionKeys(env);
  const deckUrl = env.DECK_URL?.trim().replace(/\/+$/, '');
  if (deckUrl !== undefined && deckUrl !== '' && !/^https?:\/\/[^/]+$/.test(deckUrl)) {
    throw new SettingsError(`DECK_URL must be the deck's address such as https://deck.example.com, without a path, not ${deckUrl}`, { context: { variable: 'DECK_URL' } });
  }
  const apiUrl = optionalEnv(env, 'GITHUB_API_URL', 'https://api.github.com').replace(/\/+$/, '');
  return { clientId, clientSecret, sessionKeys, githubUrl, apiUrl, ...(deckUrl ? { deckUrl } : {}) };
}

/**
 * The keys of `DECK_SESSION_KEY_FILE`: one a line, blank lines and `#` comments skipped. To
 * rotate, put the new key on the first line and keep the old below it until the sessions it
 * signed have expired (8 hours), then restart the deck to read the file again.
 */
function readSessionKeys(env: Env): string[] {
  const path = env.DECK_SESSION_KEY_FILE;
  // readSecretFile gives the clear "not set / cannot be read / empty" errors.
  readSecretFile(env, 'DECK_SESSION_KEY_FILE', 'the keys that sign session cookies, one a line');
  const keys = readFileSync(path!, 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  if (keys.length === 0 || keys.some((key) => key.length < MIN_KEY_LENGTH)) {
    throw new SettingsError(`DECK_SESSION_KEY_FILE names ${path}: every key in it must be at least ${MIN_KEY_LENGTH} characters (e.g. openssl rand -base64 48)`, {
      context: { variable: 'DECK_SESSION_KEY_FILE' },
    });
  }
  return keys;
}
