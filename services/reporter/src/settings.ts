import { gitHubSettingsFromEnv, type GitHubSettings } from '@bowline/github';
import { readCommonSettings, type CommonSettings, type Env } from '@bowline/service';

export interface ReporterSettings extends CommonSettings {
  github: GitHubSettings;
}

export function readReporterSettings(env: Env): ReporterSettings {
  return { ...readCommonSettings(env, 8083), github: gitHubSettingsFromEnv(env) };
}
