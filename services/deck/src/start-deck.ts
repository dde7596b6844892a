import type { NatsConnection } from '@nats-io/transport-node';
import type { Express } from 'express';
import type { Registry } from 'prom-client';
import { openProwJobBucket, type StreamSettings } from '@bowline/bus';
import type { Logger } from '@bowline/observability';
import type { ConfigSource } from '@bowline/config';
import { natsHistory, type HistorySource } from './history-source.js';
import { JobIndex } from './job-index.js';
import { LiveUpdates } from './live-updates.js';
import { pageRoutes } from './page-routes.js';
import { deckRoutes } from './routes.js';
import type { DeckSettings } from './settings.js';
import { readOnlyAuth, startAuth, type SignInDeps } from './auth/start-auth.js';
import { Visibility } from './visibility.js';
import type { ViewTokens } from '@bowline/service';

export interface StartDeckOptions {
  nc: NatsConnection;
  streams: StreamSettings;
  settings: DeckSettings;
  /** The config (jobs and commands of `/command-help`, `/configured-jobs`), read on every use. */
  config: ConfigSource;
  /** Where the history pages read HISTORY; the NATS connection's stream by default. */
  history?: HistorySource;
  logger: Logger;
  registry: Registry;
  /** How long live updates gather changes before sending them; tests shorten it. */
  batchMs?: number;
  /** How many recent changes a page connecting late can catch up on; tests shorten it. */
  recentChanges?: number;
  /** Sign in with GitHub, rerun and abort (auth/); without it the deck only reads. */
  signIn?: SignInDeps;
  /**
   * `BOWLINE_VIEW_TOKENS_FILE`: when given, each caller sees only the tenants a bearer token or
   * their signed-in GitHub identity may view (visibility.ts); absent, everyone sees everything.
   */
  viewTokens?: Pick<ViewTokens, 'grantOf'>;
  /** Runs on a page of a job's history (20, as Prow's); tests shorten it. */
  runsPerPage?: number;
}

export interface RunningDeck {
  index: JobIndex;
  routes: (app: Express) => void;
  stop(): Promise<void>;
}

/**
 * The deck: the index of the `prowjobs` bucket, loaded before the first page is served, the live
 * updates that follow it, and the pages. It reads the bucket, and writes to it only for a signed-in
 * user's rerun or abort (auth/).
 */
export async function startDeck(options: StartDeckOptions): Promise<RunningDeck> {
  const { logger, registry, settings } = options;
  // Opened as every service opens it, so a deck started first makes the bucket the others use.
  const kv = await openProwJobBucket(options.nc, options.streams);
  const index = new JobIndex({ kv, logger, registry, recentChanges: options.recentChanges });
  await index.start();
  const auth = options.signIn ? startAuth({ ...options.signIn, kv, logger, registry }) : readOnlyAuth;
  const visibility = options.viewTokens
    ? new Visibility({ index, tokens: options.viewTokens, config: options.config, ...(auth.signedIn ? { signedIn: auth.signedIn, inTeam: auth.inTeam } : {}) })
    : undefined;
  const live = new LiveUpdates({ index, links: settings, limit: settings.maxRows, logger, registry, batchMs: options.batchMs });
  return {
    index,
    routes: (app) => {
      auth.routes(app);
      deckRoutes({
        index,
        live,
        links: settings,
        limit: settings.maxRows,
        logger,
        ...(visibility ? { visibility: visibility.handle } : {}),
        pages: pageRoutes({
          history: options.history ?? natsHistory(options.nc),
          config: options.config,
          logs: { operatorUrl: settings.operatorUrl, operatorToken: settings.operatorToken },
          githubUrl: settings.githubUrl,
          logger,
          runsPerPage: options.runsPerPage,
        }),
      })(app);
    },
    stop: async () => {
      auth.stop();
      live.stop();
      index.stop();
    },
  };
}
