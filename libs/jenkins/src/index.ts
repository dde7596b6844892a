export {
  BUILDS_LISTED_BY_DEFAULT,
  JenkinsClient,
  type JenkinsAuth,
  type JenkinsBuild,
  type JenkinsClientOptions,
  type JenkinsQueueItem,
  type JenkinsQueueItemRecord,
} from './jenkins-client.js';
export { JenkinsError } from './jenkins-error.js';
