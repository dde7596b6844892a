import { gitHubAppSettingsFromEnv, type GitHubAppSettings } from '@bowline/github';
import { SettingsError } from '@bowline/observability';
import { configPathsFromEnv } from '@bowline/config';
import { optionalEnv, parseDuration, readCommonSettings, type CommonSettings, type Env } from '@bowline/service';
import type { RedeliverySettings } from './redelivery.js';

export interface HookSettings extends CommonSettings {
  /** `GITHUB_WEBHOOK_SECRET_FILE`: the implicit tenant's secrets; needed unless config.yaml lists tenants. */
  secretFile?: string;
  /** `BOWLINE_CONFIG`, when set: the hook then reads the tenants of config.yaml; unset, it is one implicit tenant. */
  config?: { path: string; jobConfigDir?: string };
  maxBodyBytes: number;
  publishTimeoutMs: number;
  /** Set when Bowline runs as a GitHub App: then failed deliveries are redelivered. */
  app?: GitHubAppSettings;
  redelivery: Partial<RedeliverySettings>;
}

/** GitHub caps webhook payloads at 25 MB; anything larger is not from GitHub. */
const GITHUB_MAX_PAYLOAD_BYTES = 25 * 1024 * 1024;

/**
 * Connections one hook holds at once. GitHub delivers a few at a time; the bound keeps a flood of
 * slow clients from using up the process's file descriptors (often 1,024 outside containers).
 */
const DEFAULT_MAX_CONNECTIONS = 512;

export function readHookSettings(env: Env): HookSettings {
  const secretFile = env.GITHUB_WEBHOOK_SECRET_FILE?.trim() || undefined;
  const configPath = env.BOWLINE_CONFIG?.trim() || undefined;
  const maxBodyBytes = Number(optionalEnv(env, 'HOOK_MAX_BODY_BYTES', String(GITHUB_MAX_PAYLOAD_BYTES)));
  if (!Number.isInteger(maxBodyBytes) || maxBodyBytes <= 0) {
    throw new SettingsError('HOOK_MAX_BODY_BYTES must be a positive number of bytes');
  }
  const maxConnections = Number(optionalEnv(env, 'HOOK_MAX_CONNECTIONS', String(DEFAULT_MAX_CONNECTIONS)));
  if (!Number.isInteger(maxConnections) || maxConnections <= 0) {
    throw new SettingsError('HOOK_MAX_CONNECTIONS must be a positive whole number of connections', { context: { variable: 'HOOK_MAX_CONNECTIONS' } });
  }
  return {
    ...readCommonSettings(env, 8888),
    httpLimits: { maxConnections },
    ...(secretFile ? { secretFile } : {}),
    // Only a hook given BOWLINE_CONFIG reads it (before tenants it read no config at all).
    ...(configPath ? { config: configPathsFromEnv(env) } : {}),
    maxBodyBytes,
    // Well inside GitHub's 10 s, so GitHub sees our 503 rather than its own timeout.
    publishTimeoutMs: durationFromEnv(env, 'HOOK_PUBLISH_TIMEOUT', '5s'),
    app: gitHubAppSettingsFromEnv(env),
    redelivery: {
      intervalMs: durationFromEnv(env, 'HOOK_REDELIVERY_INTERVAL', '5m'),
      lookbackMs: durationFromEnv(env, 'HOOK_REDELIVERY_LOOKBACK', '6h'),
    },
  };
}

function durationFromEnv(env: Env, name: string, fallback: string): number {
  const text = optionalEnv(env, name, fallback);
  try {
    return parseDuration(text);
  } catch {
    throw new SettingsError(`${name} is "${text}": set it to a duration such as ${fallback}`, { context: { variable: name } });
  }
}
