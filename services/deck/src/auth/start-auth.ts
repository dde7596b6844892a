import type { Express, Request, Response } from 'express';
import type { KV } from '@nats-io/kv';
import type { Registry } from 'prom-client';
import type { ConfigSource } from '@bowline/config';
import { connectGitHub, gitHubSettingsFromEnv, TrustChecker, type GitHubSettings, type Octokit } from '@bowline/github';
import type { Logger } from '@bowline/observability';
import { ProwJobStore } from '@bowline/prowjob';
import type { Env } from '@bowline/service';
import { actionRoutes } from './action-routes.js';
import { Announcer } from './announce.js';
import { GitHubOAuth } from './github-oauth.js';
import { Permissions } from './permissions.js';
import { Sessions } from './session.js';
import { readAuthSettings, type AuthSettings } from './settings.js';
import { signInRoutes } from './sign-in-routes.js';

/** Everything sign-in reads from the environment, checked before the deck connects to anything. */
export interface SignInSettings {
  auth: AuthSettings;
  /** The bot's credentials (`GITHUB_TOKEN_FILE` or the App): trust checks and comments use them. */
  github: GitHubSettings;
}

/** Undefined without `GITHUB_OAUTH_CLIENT_ID`: the deck then stays read-only, as in issue 18. */
export function readSignInSettings(env: Env, githubUrl: string): SignInSettings | undefined {
  const auth = readAuthSettings(env, githubUrl);
  if (!auth) return undefined;
  return { auth, github: gitHubSettingsFromEnv(env) };
}

/** What the deck's sign-in, rerun and abort run on. */
export interface SignInDeps {
  auth: AuthSettings;
  github: { octokit: Octokit; botLogin: () => Promise<string> };
  /** config.yaml: `bowline.trust` and `bowline.deck`, read on every decision. */
  config: ConfigSource;
  stop?: () => void;
}

/** Connects the bot's GitHub client; the config is the deck's one watched config.yaml. */
export function connectSignIn(settings: SignInSettings, options: { config: ConfigSource; logger: Logger; registry: Registry }): SignInDeps {
  const github = connectGitHub(settings.github, { logger: options.logger, registry: options.registry, service: 'deck' });
  return { auth: settings.auth, github, config: options.config };
}

/**
 * Sign-in, rerun and abort: the deck's routes that write, on the bucket the index reads. The deck
 * writes a ProwJob only here, for these two actions (docs/architecture.md).
 */
export interface RunningAuth {
  routes: (app: Express) => void;
  /** The signed-in user's login (visibility.ts); absent on the read-only deck. */
  signedIn?: (req: Request, res: Response) => Promise<string | undefined>;
  inTeam?: (org: string, slug: string, user: string) => Promise<boolean>;
  stop(): void;
}

export function startAuth(deps: SignInDeps & { kv: KV; logger: Logger; registry: Registry }): RunningAuth {
  const { auth, github, config, logger } = deps;
  const sessions = new Sessions(auth.sessionKeys);
  const trust = new TrustChecker({ github: github.octokit, bot: github.botLogin, now: () => new Date(), rules: () => config.get().bowline.trust });
  const permissions = new Permissions({ trust, config, github: github.octokit });
  const announcer = new Announcer({ github: github.octokit, logger, deckUrl: auth.deckUrl });
  const signIn = signInRoutes({ sessions, oauth: new GitHubOAuth(auth), logger });
  const actions = actionRoutes({ sessions, permissions, store: new ProwJobStore(deps.kv), announcer, logger, registry: deps.registry });
  return {
    routes: (app) => {
      app.use(['/auth', '/rerun', '/abort'], sessions.parse);
      signIn(app);
      actions(app);
    },
    signedIn: (req, res) => new Promise((resolve) => sessions.parse(req, res, () => resolve(sessions.current(req)?.login))),
    inTeam: (org, slug, user) => permissions.inTeam(org, slug, user),
    stop: () => deps.stop?.(),
  };
}

/**
 * The read-only deck's answer to the page script's question (no sign-in here), so its pages ask
 * and get a plain answer instead of a 404 in every browser console.
 */
export const readOnlyAuth: RunningAuth = {
  routes: (app: Express): void => {
    app.get('/auth/actions', (_req, res) => void res.set('cache-control', 'no-store').json({ signIn: false }));
  },
  stop: (): void => {},
};
