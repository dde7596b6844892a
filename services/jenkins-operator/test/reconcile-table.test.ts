import { describe, expect, it } from '@jest/globals';
import { parseConfig } from '@bowline/config';
import type { JenkinsBuild, JenkinsQueueItem } from '@bowline/jenkins';
import { newPresubmitJob, transition, type ProwJob, type ProwJobState } from '@bowline/prowjob';
import { ENQUEUED_AT } from '../src/job-records.js';
import { rowOf, type Row } from '../src/reconcile.js';

// The reconcile table on its own: which row a ProwJob falls in, from its state in the bucket and
// what Jenkins shows of it (Prow's syncTriggeredJob, syncPendingJob and syncAbortedJob split the
// same decision by state). The operator tests drive each row end to end against the test Jenkins.
const CONFIG = parseConfig(
  `presubmits:
  acme/widgets:
  - name: unit
    agent: jenkins
    context: ci/jenkins/unit
`,
  'reconcile-table.yaml',
);
const CREATED = new Date('2026-01-01T10:00:00Z');
const MAX_PENDING_MS = 60 * 60_000;
const IN_TIME = CREATED.getTime() + 60_000;
const TOO_LATE = CREATED.getTime() + MAX_PENDING_MS + 1;

function jobIn(state: ProwJobState, options: { handedOver?: boolean } = {}): ProwJob {
  const job = newPresubmitJob(CONFIG.presubmits['acme/widgets']![0]!, {
    name: 'unit-1',
    refs: { org: 'acme', repo: 'widgets', base_ref: 'main', base_sha: 'b', pulls: [{ number: 1, author: 'alice', sha: 'h' }] },
    now: CREATED,
    cause: { event: 'issue_comment', deliveryId: 'd-1', user: 'alice', comment: '/test unit' },
  });
  const moved = state === 'triggered' ? job : transition(job, state, CREATED, { description: state })!;
  if (!options.handedOver) return moved;
  return { ...moved, metadata: { ...moved.metadata, annotations: { ...moved.metadata.annotations, [ENQUEUED_AT]: CREATED.toISOString() } } };
}

const RUNNING: JenkinsBuild = { number: 7, url: 'http://jenkins/job/unit/7/', building: true, result: null, parameters: { PROW_JOB_ID: 'unit-1' } };
const ENDED: JenkinsBuild = { ...RUNNING, building: false, result: 'SUCCESS' };
const QUEUED: JenkinsQueueItem = { id: 3, taskName: 'unit', parameters: { PROW_JOB_ID: 'unit-1' } };

describe('the reconcile table', () => {
  it.each<[string, ProwJob, JenkinsBuild | undefined, JenkinsQueueItem | undefined, number, Row]>([
    ['an aborted job whose build still runs has it stopped', jobIn('aborted'), RUNNING, undefined, IN_TIME, 'aborted'],
    ['an aborted job past max_pending is still only stopped', jobIn('aborted'), undefined, QUEUED, TOO_LATE, 'aborted'],
    ['a triggered job never started within max_pending is given up', jobIn('triggered'), undefined, undefined, TOO_LATE, 'overdue'],
    ['a pending job whose build runs past max_pending is given up', jobIn('pending'), RUNNING, undefined, TOO_LATE, 'overdue'],
    ['a pending job whose build ended gets its result, however late', jobIn('pending'), ENDED, undefined, TOO_LATE, 'built'],
    ['a triggered job whose build started follows it', jobIn('triggered', { handedOver: true }), RUNNING, undefined, IN_TIME, 'built'],
    ['a triggered job in the queue is recorded enqueued', jobIn('triggered', { handedOver: true }), undefined, QUEUED, IN_TIME, 'queued'],
    ['a pending job Jenkins shows nowhere is lost', jobIn('pending'), undefined, undefined, IN_TIME, 'lost'],
    ['a handed-over job Jenkins shows nowhere asks its queue item', jobIn('triggered', { handedOver: true }), undefined, undefined, IN_TIME, 'unseen'],
    ['a triggered job never handed over may be started', jobIn('triggered'), undefined, undefined, IN_TIME, 'startable'],
  ])('%s', (_case, job, build, queued, nowMs, row) => {
    expect(rowOf(job, build, queued, nowMs, MAX_PENDING_MS)).toBe(row);
  });
});
