import { readCommonSettings, type CommonSettings } from '@bowline/bus';
import { gitHubSettingsFromEnv, type GitHubSettings } from '@bowline/github';
import { optionalEnv, type Env } from '@bowline/observability';

export interface PlannerSettings extends CommonSettings {
  configPath: string;
  github: GitHubSettings;
}

export function readPlannerSettings(env: Env): PlannerSettings {
  return {
    ...readCommonSettings(env, 8081),
    configPath: optionalEnv(env, 'BOWLINE_CONFIG', 'config/config.yaml'),
    github: gitHubSettingsFromEnv(env),
  };
}
