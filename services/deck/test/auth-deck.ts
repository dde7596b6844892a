import { Registry } from 'prom-client';
import { parseConfig, type Config, type ConfigSource } from '@bowline/config';
import { connectGitHub } from '@bowline/github';
import type { ProwJob } from '@bowline/prowjob';
import { startOpsServer, type ViewTokens } from '@bowline/service';
import { FakeGitHub, startProwJobBucket, type ProwJobBucket } from '@bowline/testing';
import { startDeck, type RunningDeck } from '../src/start-deck.js';
import { logger } from './deck-server.js';

export const CLIENT = { clientId: 'Iv1.deck-test', clientSecret: 'deck-test-secret' };
export const OLD_KEY = 'an-old-session-key-of-at-least-32-characters';
export const KEY = 'the-current-session-key-of-at-least-32-characters';

/** The repository's trust: alice is a member of acme, mallory nobody; carol a listed rerunner. */
export const CONFIG_TEXT = `
presubmits:
  acme/widgets:
  - name: unit
    agent: jenkins
bowline:
  deck:
    rerun_users:
      acme/widgets: [carol]
    rerun_teams:
      '*': [{ org: acme, slug: release }]
`;

export interface AuthDeck {
  url: string;
  github: FakeGitHub;
  bucket: ProwJobBucket;
  deck: RunningDeck;
  registry: Registry;
  /** Swaps the config the deck reads (a reload). */
  setConfig(text: string): void;
  stop(): Promise<void>;
}

/**
 * The deck with sign-in on, as main.ts starts it: the test GitHub playing both the OAuth pages and
 * the API (the bot's token is `test-token`), a real bucket on a real nats-server, and `jobs`
 * written before it starts. Session keys: KEY signs, OLD_KEY still verifies.
 */
export async function startAuthDeck(jobs: ProwJob[] = [], options: { configText?: string; viewTokens?: ViewTokens } = {}): Promise<AuthDeck> {
  const github = await FakeGitHub.start();
  const bucket = await startProwJobBucket();
  for (const job of jobs) await bucket.store.create(job);
  let config: Config = parseConfig(options.configText ?? CONFIG_TEXT, 'config.yaml');
  const source: ConfigSource = { get: () => config };
  const registry = new Registry();
  const deck = await startDeck({
    nc: bucket.nc,
    streams: { replicas: 1 },
    settings: { githubUrl: github.url, maxRows: 500 },
    logger,
    registry,
    batchMs: 50,
    config: source,
    ...(options.viewTokens ? { viewTokens: options.viewTokens } : {}),
    signIn: {
      auth: { ...CLIENT, sessionKeys: [KEY, OLD_KEY], githubUrl: github.url, apiUrl: github.url },
      github: connectGitHub({ apiUrl: github.url, token: 'test-token', writeIntervalMs: 0 }, { logger, service: 'deck' }),
      config: source,
    },
  });
  const server = await startOpsServer({ port: 0, host: '127.0.0.1', logger, registry, isReady: () => true, routes: deck.routes });
  const url = `http://127.0.0.1:${server.port}`;
  // Registered once the deck's address is known; the deck sends no redirect_uri without DECK_URL,
  // so GitHub (here, the test GitHub) returns to this one.
  github.addOAuthApp({ ...CLIENT, callbackUrl: `${url}/auth/github/callback` });
  github.addOrgMember('acme', 'alice');
  github.addPullRequest({ org: 'acme', repo: 'widgets', number: 1, author: 'bob', headSha: 'a'.repeat(40) });
  github.addTeamMember('acme/release', 'rita');
  for (const [login, note] of [['alice', 'member of acme'], ['mallory', 'outsider'], ['carol', 'in rerun_users'], ['rita', 'in the acme/release team']]) {
    github.addOAuthUser({ login: login!, note });
  }
  return {
    url,
    github,
    bucket,
    deck,
    registry,
    setConfig: (text) => {
      config = parseConfig(text, 'config.yaml');
    },
    stop: async () => {
      await server.close();
      await deck.stop();
      await bucket.stop();
      await github.close();
    },
  };
}

/** The cookies a browser would hold, from Set-Cookie headers. */
export class Jar {
  readonly cookies = new Map<string, string>();
  take(response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const [name, ...value] = pair!.split('=');
      if (value.join('=') === '') this.cookies.delete(name!);
      else this.cookies.set(name!, value.join('='));
    }
  }
  get header(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }
}

/** The whole web flow against the deck at `url`: its sign-in, GitHub's authorize page as `login`, and back. */
export async function signInAs(url: string, login: string): Promise<Jar> {
  const jar = new Jar();
  const get = async (to: string): Promise<Response> => {
    const response = await fetch(to, { redirect: 'manual', headers: { cookie: jar.header } });
    jar.take(response);
    return response;
  };
  const toGitHub = await get(`${url}/auth/login?next=%2F`);
  const toDeck = await fetch(`${toGitHub.headers.get('location')}&login=${login}`, { redirect: 'manual' });
  const landed = await get(toDeck.headers.get('location')!);
  if (landed.status !== 303) throw new Error(`signing in as ${login} ended with ${landed.status}`);
  return jar;
}
