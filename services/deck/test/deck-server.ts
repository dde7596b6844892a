import type { Express } from 'express';
import { Registry } from 'prom-client';
import { parseConfig, staticConfigSource, type ConfigSource } from '@bowline/config';
import { createLogger } from '@bowline/observability';
import type { ProwJob, ProwJobStore } from '@bowline/prowjob';
import { startProwJobBucket, waitFor, type ProwJobBucket } from '@bowline/testing';
import { startOpsServer } from '@bowline/service';
import { startDeck, type RunningDeck } from '../src/start-deck.js';
import type { DeckSettings } from '../src/settings.js';
import type { HistorySource } from '../src/history-source.js';

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
/** The deck's config in tests: two repositories' Jenkins jobs, one of another agent, a periodic. */
export const DECK_CONFIG = parseConfig(
  `presubmits:
  acme/widgets:
  - name: pull-widgets-unit
    agent: jenkins
    always_run: true
    context: ci/unit
  - name: pull-widgets-lint
    agent: jenkins
    always_run: true
    optional: true
    context: ci/lint
  - name: pull-widgets-docs
    agent: jenkins
    run_if_changed: ^docs/
    branches: [main]
    context: ci/docs
  - name: pull-widgets-k8s
    agent: kubernetes
    always_run: true
    spec:
      containers:
      - image: golang:1.22
postsubmits:
  acme/widgets:
  - name: post-widgets-publish
    agent: jenkins
    branches: [main]
periodics:
- name: nightly
  agent: jenkins
  interval: 24h
`,
  'config.yaml',
);

export interface DeckServerOptions {
  config?: ConfigSource;
  /** The HISTORY reader; the deck's own (its NATS connection) by default. */
  history?: HistorySource;
  runsPerPage?: number;
}

export async function startDeckServer(jobs: ProwJob[] = [], settings: Partial<DeckSettings> = {}, recentChanges?: number, options: DeckServerOptions = {}): Promise<DeckServer> {
  const bucket = await startProwJobBucket();
  for (const job of jobs) await bucket.store.create(job);
  const registry = new Registry();
  const deck = await startDeck({
    nc: bucket.nc,
    streams: { replicas: 1 },
    settings: { githubUrl: 'https://github.com', maxRows: 500, ...settings },
    config: options.config ?? staticConfigSource(DECK_CONFIG),
    ...(options.history ? { history: options.history } : {}),
    runsPerPage: options.runsPerPage,
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
