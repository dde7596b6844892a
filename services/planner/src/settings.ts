import { gitHubSettingsFromEnv, type GitHubSettings } from '@bowline/github';
import { readCommonSettings, type CommonSettings, type Env } from '@bowline/service';

export interface PlannerSettings extends CommonSettings {
  github: GitHubSettings;
}

export function readPlannerSettings(env: Env): PlannerSettings {
  return {
    ...readCommonSettings(env, 8081),
    github: gitHubSettingsFromEnv(env),
  };
}
