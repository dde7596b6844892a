import type { Lease } from '@bowline/bus';
import type { Logger } from '@bowline/observability';
import type { JenkinsOperator } from './operator.js';

export interface StandbyOptions {
  /** `BOWLINE_EXIT_ON_LEASE_LOSS`: exit when the lease is lost instead of standing by. */
  exitOnLoss: boolean;
  exit: (code: number) => void;
  /** How long to wait before starting again when starting failed while holding the lease. */
  restartDelayMs?: number;
}

/**
 * Runs the operator only while this replica holds the lease. It starts when the lease is acquired;
 * when the lease is lost it stops at once (the operator also asks `lease.isHeld()` before each pass
 * and each POST, its `mayAct`) and the replica stands by in the same process, competing for the
 * lease again, so an outage of NATS longer than the TTL never leaves a replica down (issue 14).
 * With `exitOnLoss` it exits instead, as controller-runtime's leader election does.
 * Starts and stops run one at a time, in order, however fast the lease comes and goes.
 */
export async function runWhileLeaseHeld(lease: Lease, operator: JenkinsOperator, logger: Logger, options: StandbyOptions): Promise<void> {
  let duties = Promise.resolve();
  const follow = (held: boolean): void => {
    duties = duties.then(async () => {
      if (!held) {
        await operator.stop();
        if (options.exitOnLoss) {
          logger.error('jenkins-operator lease lost: exiting (BOWLINE_EXIT_ON_LEASE_LOSS)');
          options.exit(1);
        } else {
          logger.warn('jenkins-operator lease lost: stopped acting on Jenkins, standing by');
        }
        return;
      }
      if (!lease.isHeld()) return;
      try {
        await operator.start();
        logger.info('jenkins-operator lease acquired: reconciling ProwJobs with Jenkins');
      } catch (error) {
        logger.error({ err: error }, 'cannot start the jenkins-operator: trying again');
        await operator.stop();
        setTimeout(() => follow(true), options.restartDelayMs ?? 5000).unref();
      }
    });
  };
  await lease.start({ onAcquired: () => follow(true), onLost: () => follow(false) });
}
