export { JenkinsClient } from './jenkins-client.js';
export { JenkinsError } from './jenkins-error.js';
export { type JenkinsAuth, type JenkinsClientOptions } from './jenkins-http.js';
export {
  BUILDS_LISTED_BY_DEFAULT,
  type JenkinsBuild,
  type JenkinsQueueItem,
  type JenkinsQueueItemRecord,
} from './jenkins-records.js';
