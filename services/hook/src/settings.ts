import { readCommonSettings, type CommonSettings } from '@bowline/bus';
import { optionalEnv, readSecretFile, SettingsError, type Env } from '@bowline/observability';

export interface HookSettings extends CommonSettings {
  /** Every secret currently accepted: one per line of the secret file, so a rotation has no gap. */
  secrets: string[];
  maxBodyBytes: number;
}

/** GitHub caps webhook payloads at 25 MB; anything larger is not from GitHub. */
const GITHUB_MAX_PAYLOAD_BYTES = 25 * 1024 * 1024;

export function readHookSettings(env: Env): HookSettings {
  const secrets = readSecretFile(env, 'GITHUB_WEBHOOK_SECRET_FILE', 'the webhook secret given to GitHub')
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
  const maxBodyBytes = Number(optionalEnv(env, 'HOOK_MAX_BODY_BYTES', String(GITHUB_MAX_PAYLOAD_BYTES)));
  if (!Number.isInteger(maxBodyBytes) || maxBodyBytes <= 0) {
    throw new SettingsError('HOOK_MAX_BODY_BYTES must be a positive number of bytes');
  }
  return {
    ...readCommonSettings(env, 8888),
    secrets,
    maxBodyBytes,
  };
}
