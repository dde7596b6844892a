export { FINAL_STATES, type ProwJob, type ProwJobState, type Refs } from './types.js';
export { buildIdFor, hasRefs, isFinished, newPeriodicJob, newPostsubmitJob, newPresubmitJob, PROW_DEFAULT_TENANT_ID, prowJobName, tenantIdOf, pullRefs, transition } from './prowjob.js';
export { prowRefsOf, type GitHubPullRequest } from './refs.js';
export { ProwJobStore, type StoredProwJob } from './store.js';
export { WorkQueue } from './work-queue.js';
export { prowJobTemplateView } from './template-view.js';
export { historyFilter, historyMessageId, historySubject, legacyHistoryFilter, TENANT_LABEL, tenantOfProwJob, toHistoryRecord, type HistoryFilter, type HistoryRecord } from './history.js';
export { abortJob, newRerunJob, rerunJob, RERUN_BY, RERUN_OF, type JobAction, type RerunOptions } from './rerun.js';
export { HistoryReadError, latestRuns, readHistory, readJobRuns, type HistoryRun, type RunPage, type RunPageRequest } from './history-reader.js';
