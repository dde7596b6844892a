import { parseConfig, type Config } from '@bowline/config';
import { newPeriodicJob, newPostsubmitJob, newPresubmitJob, prowJobName, transition, type ProwJob, type ProwJobState } from '@bowline/prowjob';

/** The sinker tests' config: short ages, so "old" is hours, not days. */
export const CONFIG = parseConfig(
  `
presubmits:
  acme/widgets:
  - name: unit
    agent: jenkins
    context: ci/jenkins/unit
postsubmits:
  acme/widgets:
  - name: publish
    agent: jenkins
periodics:
- name: nightly
  agent: jenkins
  interval: 24h
sinker:
  max_prowjob_age: 1h
  resync_period: 1h
bowline:
  sinker:
    max_unfinished_age: 48h
`,
  'config.yaml',
);

/** The same config without the periodic `nightly`, as after someone removed it. */
export const CONFIG_WITHOUT_NIGHTLY: Config = { ...CONFIG, periodics: [] };

export const NOW = new Date('2024-06-01T12:00:00Z');
export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;

let created = 0;

export interface JobSpec {
  /** How long before NOW it started. */
  startedAgoMs: number;
  state: ProwJobState;
  /** How long before NOW it reached `state` (default: when it started). */
  changedAgoMs?: number;
  type?: 'presubmit' | 'postsubmit' | 'periodic';
  pr?: number;
  build?: string;
  comment?: string;
}

/** A ProwJob as the planner makes it, moved through pending to `state` as the operator would. */
export function makeJob(spec: JobSpec): ProwJob {
  created += 1;
  const name = prowJobName('sinker-test', String(process.pid), String(created));
  const started = new Date(NOW.getTime() - spec.startedAgoMs);
  const changed = new Date(NOW.getTime() - (spec.changedAgoMs ?? spec.startedAgoMs));
  const type = spec.type ?? 'presubmit';
  let job: ProwJob;
  if (type === 'periodic') {
    job = newPeriodicJob(CONFIG.periodics[0]!, { name, now: started, cause: { scheduledFor: started, schedule: 'interval 24h0m0s' } });
  } else if (type === 'postsubmit') {
    job = newPostsubmitJob(CONFIG.postsubmits['acme/widgets']![0]!, {
      name,
      now: started,
      refs: { org: 'acme', repo: 'widgets', base_ref: 'main', base_sha: 'c'.repeat(40) },
      cause: { event: 'push', deliveryId: `delivery-${created}`, user: 'carol' },
    });
  } else {
    job = newPresubmitJob(CONFIG.presubmits['acme/widgets']![0]!, {
      name,
      now: started,
      refs: { org: 'acme', repo: 'widgets', base_ref: 'main', base_sha: 'b'.repeat(40), pulls: [{ number: spec.pr ?? 1, author: 'alice', sha: 'a'.repeat(40) }] },
      cause: { event: 'issue_comment', deliveryId: `delivery-${created}`, action: 'created', user: 'bob', comment: spec.comment ?? 'Please run it.\n/test all' },
    });
  }
  if (spec.state === 'triggered') return job;
  const build = spec.build ?? String(created);
  const url = `https://jenkins.example.com/job/${job.spec.job}/${build}/`;
  const pending = transition(job, 'pending', changed, { url, jenkins_build_id: build, description: 'Jenkins job running.' })!;
  return spec.state === 'pending' ? pending : transition(pending, spec.state, changed, { description: `Jenkins job ${spec.state}.` })!;
}
