import { parseConfig } from '@bowline/config';
import { newPeriodicJob, newPostsubmitJob, newPresubmitJob, prowJobName, transition, type ProwJob, type ProwJobState } from '@bowline/prowjob';

const CONFIG = parseConfig(
  `
presubmits:
  acme/widgets:
  - name: unit
    agent: jenkins
postsubmits:
  acme/widgets:
  - name: publish
    agent: jenkins
periodics:
- name: nightly
  agent: jenkins
  interval: 24h
`,
  'config.yaml',
);

export const START = new Date('2024-06-01T12:00:00Z');
export const MINUTE = 60_000;

export interface JobSpec {
  /** The job's name as configured (`spec.job`); the rerun command follows it. */
  job?: string;
  type?: 'presubmit' | 'postsubmit' | 'periodic';
  org?: string;
  repo?: string;
  branch?: string;
  pr?: number;
  author?: string;
  title?: string;
  sha?: string;
  /** Minutes after START it started: later jobs are newer. */
  minute?: number;
  state?: ProwJobState;
  /** How long it ran, for a finished job. */
  ranMinutes?: number;
  build?: string;
  /** Where its GitHub links point: a test GitHub's address; github.com by default. */
  githubUrl?: string;
  /** Where its build link points: a test Jenkins' address. */
  jenkinsUrl?: string;
}

let made = 0;

/** A ProwJob as the planner makes it, moved to `state` as the jenkins-operator would move it. */
export function makeJob(spec: JobSpec = {}): ProwJob {
  made += 1;
  const name = prowJobName('deck-test', String(process.pid), String(made));
  const started = new Date(START.getTime() + (spec.minute ?? made) * MINUTE);
  const org = spec.org ?? 'acme';
  const repo = spec.repo ?? 'widgets';
  const branch = spec.branch ?? 'main';
  const type = spec.type ?? 'presubmit';
  const github = spec.githubUrl ?? 'https://github.com';
  let job: ProwJob;
  if (type === 'periodic') {
    job = newPeriodicJob(CONFIG.periodics[0]!, { name, now: started, cause: { scheduledFor: started, schedule: 'interval 24h0m0s' } });
  } else if (type === 'postsubmit') {
    job = newPostsubmitJob(CONFIG.postsubmits['acme/widgets']![0]!, {
      name,
      now: started,
      refs: { org, repo, repo_link: `${github}/${org}/${repo}`, base_ref: branch, base_sha: spec.sha ?? 'c'.repeat(40) },
      cause: { event: 'push', deliveryId: `delivery-${made}`, user: 'carol' },
    });
  } else {
    job = newPresubmitJob(CONFIG.presubmits['acme/widgets']![0]!, {
      name,
      now: started,
      pullRequest: {
        number: spec.pr ?? 1,
        title: spec.title ?? 'Add a widget',
        html_url: `${github}/${org}/${repo}/pull/${spec.pr ?? 1}`,
        user: { login: spec.author ?? 'alice', html_url: `${github}/${spec.author ?? 'alice'}` },
        head: { sha: spec.sha ?? 'a'.repeat(40), ref: 'feature' },
        base: { ref: branch, sha: 'b'.repeat(40), repo: { name: repo, html_url: `${github}/${org}/${repo}`, owner: { login: org } } },
      },
      cause: { event: 'issue_comment', deliveryId: `delivery-${made}`, user: spec.author ?? 'alice' },
    });
  }
  if (spec.job) job = { ...job, spec: { ...job.spec, job: spec.job, context: spec.job, rerun_command: type === 'presubmit' ? `/test ${spec.job}` : '' } };
  return moveTo(job, spec.state ?? 'triggered', spec.ranMinutes, spec.build, spec.jenkinsUrl);
}

/** The job moved on to `state`, as the jenkins-operator records it. */
export function moveTo(job: ProwJob, state: ProwJobState, ranMinutes = 3, build = '7', jenkinsUrl = 'https://jenkins.example.com'): ProwJob {
  if (state === 'triggered' || job.status.state === state) return job;
  const started = Date.parse(job.status.startTime);
  const url = `${jenkinsUrl}/job/${encodeURIComponent(job.spec.job)}/${build}/`;
  const pending = job.status.state === 'pending' ? job : transition(job, 'pending', new Date(started + 1000), { url, jenkins_build_id: build, description: 'Jenkins job running.' })!;
  if (state === 'pending') return pending;
  return transition(pending, state, new Date(started + ranMinutes * MINUTE), { description: `Jenkins job ${state}.` })!;
}
