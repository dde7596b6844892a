import { readCommonSettings, type CommonSettings } from '@bowline/bus';
import { gitHubSettingsFromEnv, type GitHubSettings } from '@bowline/github';
import type { Env } from '@bowline/observability';

export interface ReporterSettings extends CommonSettings {
  github: GitHubSettings;
}

export function readReporterSettings(env: Env): ReporterSettings {
  return { ...readCommonSettings(env, 8083), github: gitHubSettingsFromEnv(env) };
}
