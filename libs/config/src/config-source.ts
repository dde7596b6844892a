import { createHash } from 'node:crypto';
import { readFileSync, watch, type FSWatcher } from 'node:fs';
import { dirname } from 'node:path';
import { Counter, Gauge, type Registry } from 'prom-client';
import { describeError, type Logger } from '@bowline/observability';
import { optionalEnv, type Env } from '@bowline/service';
import { ConfigError, formatProblem } from './problems.js';
import { yamlFilesUnder } from './job-files.js';
import { loadConfigFile } from './load.js';
import type { Config } from './types.js';

/**
 * Services read the config through `get()` on every use rather than holding a copy, so a reload
 * takes effect without a restart.
 */
export interface ConfigSource {
  get(): Config;
}

export function staticConfigSource(config: Config): ConfigSource {
  return { get: () => config };
}

export interface WatchedConfig extends ConfigSource {
  /** Looks at the files now; true when a new config took effect. */
  check(): boolean;
  stop(): void;
}

export interface WatchOptions {
  path: string;
  jobConfigDir?: string;
  logger: Logger;
  registry?: Registry;
  /** A safety net under the file watcher, which misses some changes on some file systems. */
  pollMs?: number;
}

/** The config paths of the design's environment variables (`BOWLINE_JOB_CONFIG` is optional). */
export function configPathsFromEnv(env: Env): { path: string; jobConfigDir?: string } {
  const jobConfigDir = env.BOWLINE_JOB_CONFIG?.trim();
  return { path: optionalEnv(env, 'BOWLINE_CONFIG', 'config/config.yaml'), ...(jobConfigDir ? { jobConfigDir } : {}) };
}

/**
 * Loads the config (throwing ConfigError if the first load fails, so a service does not start on a
 * bad file) and reloads it whenever its files change. A Kubernetes ConfigMap volume changes by
 * swapping a `..data` symlink, never by writing the file, so the directory is watched and the
 * content compared, not the file's modification time. A new file that does not validate leaves
 * the last good config in force; its errors are logged and shown in /metrics.
 */
export function watchConfigFile(options: WatchOptions): WatchedConfig {
  const { logger } = options;
  const load = () => loadConfigFile(options.path, options.jobConfigDir ? { jobConfigDir: options.jobConfigDir } : {});
  let current = load();
  let fingerprint = fingerprintOf(options);
  const metrics = options.registry && {
    ok: new Gauge({ name: 'bowline_config_last_reload_successful', help: 'Whether the last config load succeeded (1) or was rejected (0)', registers: [options.registry] }),
    loaded: new Gauge({ name: 'bowline_config_last_reload_success_timestamp_seconds', help: 'When a config last took effect', registers: [options.registry] }),
    reloads: new Counter({ name: 'bowline_config_reloads_total', help: 'Config reloads by result', labelNames: ['result'], registers: [options.registry] }),
  };
  metrics?.ok.set(1);
  metrics?.loaded.set(Date.now() / 1000);

  const check = (): boolean => {
    const next = fingerprintOf(options);
    if (next === fingerprint) return false;
    fingerprint = next;
    try {
      current = load();
      metrics?.ok.set(1);
      metrics?.loaded.set(Date.now() / 1000);
      metrics?.reloads.inc({ result: 'success' });
      logger.info({ files: current.files.length }, 'config reloaded');
      return true;
    } catch (error) {
      metrics?.ok.set(0);
      metrics?.reloads.inc({ result: 'failure' });
      const errors = error instanceof ConfigError ? error.problems.map(formatProblem) : [describeError(error)];
      logger.error({ errors }, 'new config rejected: the last good config stays in force');
      return false;
    }
  };

  let debounce: NodeJS.Timeout | undefined;
  const soon = (): void => {
    clearTimeout(debounce);
    debounce = setTimeout(check, 100);
    debounce.unref();
  };
  const watchers: FSWatcher[] = [];
  for (const dir of [dirname(options.path), ...(options.jobConfigDir ? [options.jobConfigDir] : [])]) {
    try {
      watchers.push(watch(dir, { recursive: false }, soon));
    } catch (error) {
      logger.warn({ dir, err: error }, 'cannot watch config directory: polling only');
    }
  }
  const poll = setInterval(check, options.pollMs ?? 5000);
  poll.unref();

  return {
    get: () => current,
    check,
    stop: () => {
      clearInterval(poll);
      clearTimeout(debounce);
      for (const watcher of watchers) watcher.close();
    },
  };
}

/** A hash of every config file's content; an unreadable file or directory counts as its error. */
function fingerprintOf(options: WatchOptions): string {
  const hash = createHash('sha256');
  let files = [options.path];
  try {
    if (options.jobConfigDir) files = [...files, ...yamlFilesUnder(options.jobConfigDir)];
  } catch (error) {
    hash.update(describeError(error));
  }
  for (const file of files) {
    hash.update(file);
    try {
      hash.update(readFileSync(file));
    } catch (error) {
      hash.update(describeError(error));
    }
  }
  return hash.digest('hex');
}
