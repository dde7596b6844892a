export {
  botLoginOf,
  connectGitHub,
  createGitHub,
  gitHubSettingsFromEnv,
  isCollaborator,
  isNotFound,
  isOrgMember,
  type GitHub,
  type GitHubSettings,
  type Octokit,
} from './client.js';
export { createAppOctokit, gitHubAppSettingsFromEnv, type GitHubAppSettings } from './app.js';
export { TenantCredentialsError, TenantGitHubClients, type TenantClientsOptions, type TenantIdentity } from './tenant-clients.js';
