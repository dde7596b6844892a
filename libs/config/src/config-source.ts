import type { Config } from './types.js';
import { loadConfigFile } from './load.js';

/**
 * Services read the config through `get()` on every use rather than holding a copy, so a reload
 * takes effect without a restart.
 */
export interface ConfigSource {
  get(): Config;
}

export function fileConfigSource(path: string): ConfigSource {
  const config = loadConfigFile(path);
  return { get: () => config };
}

export function staticConfigSource(config: Config): ConfigSource {
  return { get: () => config };
}
