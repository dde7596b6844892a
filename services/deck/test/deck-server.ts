import type { Express } from 'express';
import { Registry } from 'prom-client';
import { createLogger } from '@bowline/observability';
import type { ProwJob, ProwJobStore } from '@bowline/prowjob';
import { startProwJobBucket, waitFor, type ProwJobBucket } from '@bowline/testing';
import { startOpsServer } from '@bowline/service';
import { startDeck, type RunningDeck } from '../src/start-deck.js';
import type { DeckSettings } from '../src/settings.js';

export const logger = createLogger({ service: 'deck-test', level: 'silent' });

export interface DeckServer {
  url: string;
  app: Express;
  bucket: ProwJobBucket;
  store: ProwJobStore;
  deck: RunningDeck;
  registry: Registry;
  /** Resolves once the deck's index holds `count` jobs (its watch has seen the writes). */
  indexed(count: number): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The deck on the service's HTTP server (the one main.ts gets through the runtime), reading a
 * real `prowjobs` bucket on a real nats-server; `jobs` are written before it starts.
 */
export async function startDeckServer(jobs: ProwJob[] = [], settings: Partial<DeckSettings> = {}, recentChanges?: number): Promise<DeckServer> {
  const bucket = await startProwJobBucket();
  for (const job of jobs) await bucket.store.create(job);
  const registry = new Registry();
  const deck = await startDeck({
    nc: bucket.nc,
    streams: { replicas: 1 },
    settings: { githubUrl: 'https://github.com', maxRows: 500, ...settings },
    logger,
    registry,
    batchMs: 50,
    recentChanges,
  });
  const server = await startOpsServer({ port: 0, host: '127.0.0.1', logger, registry, isReady: () => true, routes: deck.routes });
  return {
    url: `http://127.0.0.1:${server.port}`,
    app: server.app,
    bucket,
    store: bucket.store,
    deck,
    registry,
    indexed: async (count) => {
      await waitFor(`the deck's index to hold ${count} jobs`, () => deck.index.all().length === count);
    },
    stop: async () => {
      await server.close();
      await deck.stop();
      await bucket.stop();
    },
  };
}
