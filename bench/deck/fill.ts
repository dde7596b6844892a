import { jetstream } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { HISTORY_SUBJECT_PREFIX } from '@bowline/bus';
import { parseConfig } from '@bowline/config';
import { historyMessageId, historySubject, newPresubmitJob, toHistoryRecord, transition, type ProwJob, type ProwJobState } from '@bowline/prowjob';

// What the deck benchmark loads: ProwJobs in the bucket as a busy installation has them (most
// finished, some running or queued) and history records of many more runs.

const REPOS = 50;
const JOBS_PER_REPO = 8;
const FINAL: ProwJobState[] = ['success', 'success', 'success', 'failure', 'aborted', 'error'];

const config = parseConfig(
  `presubmits:\n${Array.from({ length: REPOS }, (_, r) => `  org-${r % 5}/repo-${r}:\n${Array.from({ length: JOBS_PER_REPO }, (_, j) => `  - name: pull-repo-${r}-job-${j}\n    agent: jenkins\n    always_run: true\n`).join('')}`).join('')}`,
  'deck-bench.yaml',
);

/** The i-th generated ProwJob: its repository, job, pull request, author and state vary with i. */
export function generatedJob(i: number, start: number): ProwJob {
  const r = i % REPOS;
  const presubmit = config.presubmits[`org-${r % 5}/repo-${r}`]![Math.floor(i / REPOS) % JOBS_PER_REPO]!;
  const number = 1 + (Math.floor(i / 7) % 900);
  const created = new Date(start - (20_000 - (i % 20_000)) * 30_000);
  const job = newPresubmitJob(presubmit, {
    name: `bench-${i.toString(36)}-${start.toString(36)}`,
    refs: {
      org: `org-${r % 5}`,
      repo: `repo-${r}`,
      base_ref: i % 9 === 0 ? 'release-1.0' : 'main',
      base_sha: 'b'.repeat(40),
      pulls: [{ number, author: `user-${i % 97}`, sha: (i % 4096).toString(16).padStart(40, 'a'), ref: `pr-${number}`, title: `Change ${number}` }],
    },
    now: created,
    cause: { event: 'issue_comment', deliveryId: `deck-${i}`, user: `user-${i % 97}`, comment: '/test all' },
  });
  if (i % 20 === 0) return job;
  const running = transition(job, 'pending', new Date(created.getTime() + 5000), { jenkins_build_id: String(i), url: `https://jenkins.example/job/${presubmit.name}/${i}/` })!;
  if (i % 20 === 1) return running;
  return transition(running, FINAL[i % FINAL.length]!, new Date(created.getTime() + 60_000 + (i % 600) * 1000))!;
}

/** Puts `count` ProwJobs in the bucket, `batch` writes in flight at a time. */
export async function fillBucket(kv: KV, count: number, start: number, batch = 500): Promise<void> {
  for (let i = 0; i < count; i += batch) {
    await Promise.all(
      Array.from({ length: Math.min(batch, count - i) }, (_, k) => {
        const job = generatedJob(i + k, start);
        return kv.put(job.metadata.name, JSON.stringify(job));
      }),
    );
  }
}

/** Publishes `count` history records (runs other than the bucket's) to HISTORY, as the sinker files them. */
export async function fillHistory(nc: NatsConnection, count: number, start: number, batch = 1000): Promise<void> {
  const js = jetstream(nc);
  for (let i = 0; i < count; i += batch) {
    await Promise.all(
      Array.from({ length: Math.min(batch, count - i) }, (_, k) => {
        const record = toHistoryRecord(generatedJob(1_000_000 + i + k, start), i + k + 1);
        return js.publish(historySubject(HISTORY_SUBJECT_PREFIX, record), JSON.stringify(record), { msgID: historyMessageId(record) });
      }),
    );
  }
}
