import type { Lease } from '@bowline/bus';
import { describeError, type Logger } from '@bowline/observability';
import type { JenkinsOperator } from './operator.js';

/**
 * Runs the operator only while this replica holds the lease: it starts when the lease is
 * acquired, and when the lease is lost it stops and `exit` is called, as controller-runtime's
 * leader election does, so the replica restarts as a standby with nothing half-done in memory.
 * The operator itself asks `lease.isHeld()` before each pass and each POST (its `mayAct`).
 */
export async function runWhileLeaseHeld(lease: Lease, operator: JenkinsOperator, logger: Logger, exit: (code: number) => void): Promise<void> {
  await lease.start({
    onAcquired: () => {
      logger.info('jenkins-operator lease acquired: reconciling ProwJobs with Jenkins');
      operator.start().catch((error: unknown) => {
        logger.error({ err: describeError(error) }, 'cannot start the jenkins-operator');
        exit(1);
      });
    },
    onLost: () => {
      logger.error('jenkins-operator lease lost: exiting so that this replica restarts as a standby');
      void operator.stop().finally(() => exit(1));
    },
  });
}
