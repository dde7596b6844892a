export {
  botLoginOf,
  connectGitHub,
  createGitHub,
  gitHubSettingsFromEnv,
  isCollaborator,
  isNotFound,
  isOrgMember,
  Octokit,
  type GitHubSettings,
} from './client.js';
export { createAppOctokit, gitHubAppSettingsFromEnv, type GitHubAppSettings } from './app.js';
