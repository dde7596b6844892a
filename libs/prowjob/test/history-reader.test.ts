import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { jetstream } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { ensureHistoryStream, HISTORY_SUBJECT_PREFIX } from '@bowline/bus';
import { startNats, type NatsServer } from '@bowline/testing';
import { historyMessageId, historySubject, type HistoryRecord } from '../src/history.js';
import { latestRuns, readHistory, readJobRuns, type RunPage } from '../src/history-reader.js';

// A busy history: three jobs on two pull requests, their runs' states interleaved as they are
// when many jobs run at once, and a run recorded under the layout before jobs were in the subject.
const JOBS = ['pull-unit', 'pull-lint', 'pull-e2e'];
const RUNS_PER_JOB = 23;

let nats: NatsServer;
let nc: NatsConnection;
const written: HistoryRecord[] = [];

function record(job: string, run: number, state: HistoryRecord['state'], revision: number): HistoryRecord {
  const pr = run % 2 === 0 ? 1 : 2;
  return {
    prowjob: `${job}-run-${run}`,
    job,
    type: 'presubmit',
    repo: 'acme/widgets.io',
    pr,
    sha: String(run).padStart(40, '0'),
    trigger: 'pull_request opened',
    state,
    createdAt: new Date(Date.UTC(2024, 5, 1, 0, run)).toISOString(),
    startedAt: new Date(Date.UTC(2024, 5, 1, 0, run)).toISOString(),
    ...(state === 'success' || state === 'failure' ? { completedAt: new Date(Date.UTC(2024, 5, 1, 0, run + 3)).toISOString() } : {}),
    revision,
  };
}

beforeAll(async () => {
  nats = await startNats();
  nc = await connect({ servers: nats.url });
  await ensureHistoryStream(nc, { replicas: 1, maxAgeMs: 24 * 3600_000 });
  const js = jetstream(nc);
  let revision = 0;
  // Each run is triggered, then pending two runs later, then finished four runs later.
  const steps: HistoryRecord[] = [];
  for (let run = 0; run < RUNS_PER_JOB + 4; run += 1) {
    for (const job of JOBS) {
      if (run < RUNS_PER_JOB) steps.push(record(job, run, 'triggered', (revision += 1)));
      if (run >= 2 && run - 2 < RUNS_PER_JOB) steps.push(record(job, run - 2, 'pending', (revision += 1)));
      if (run >= 4 && run - 4 < RUNS_PER_JOB) steps.push(record(job, run - 4, (run - 4) % 5 === 0 ? 'failure' : 'success', (revision += 1)));
    }
  }
  for (const entry of steps) {
    await js.publish(historySubject(HISTORY_SUBJECT_PREFIX, entry), JSON.stringify(entry), { msgID: historyMessageId(entry) });
    written.push(entry);
  }
  const legacy = record('pull-unit', 99, 'success', revision + 1);
  await js.publish(`${HISTORY_SUBJECT_PREFIX}.acme.widgets_io.${legacy.prowjob}`, JSON.stringify(legacy));
}, 30_000);

afterAll(async () => {
  await nc?.close();
  await nats?.stop();
});

const names = (page: RunPage): string[] => page.runs.map((run) => run.record.prowjob);

describe('readJobRuns: a job’s history a page at a time, as Prow’s job-history pages by build', () => {
  it('pages through every run of the job once, newest first, each with its latest state', async () => {
    const seen: string[] = [];
    let page = await readJobRuns(nc, 'pull-unit', { limit: 5, window: 8 });
    expect(page.newer).toBeUndefined();
    for (;;) {
      seen.push(...names(page));
      for (const run of page.runs) {
        expect(run.record.job).toBe('pull-unit');
        expect(['success', 'failure']).toContain(run.record.state);
      }
      if (page.older === undefined) break;
      page = await readJobRuns(nc, 'pull-unit', { limit: 5, window: 8, before: page.older });
    }
    expect(seen).toHaveLength(RUNS_PER_JOB);
    expect(new Set(seen).size).toBe(RUNS_PER_JOB);
    // The runs ended in the order they started, so newest first is the reverse of that.
    expect(seen).toEqual(Array.from({ length: RUNS_PER_JOB }, (_, i) => `pull-unit-run-${RUNS_PER_JOB - 1 - i}`));
  });

  it('goes back to the same newer page from an older one', async () => {
    const first = await readJobRuns(nc, 'pull-lint', { limit: 4 });
    const second = await readJobRuns(nc, 'pull-lint', { limit: 4, before: first.older! });
    expect(second.newer).toBeDefined();
    const back = await readJobRuns(nc, 'pull-lint', { limit: 4, after: second.newer! });
    expect(names(back)).toEqual(names(first));
    const third = await readJobRuns(nc, 'pull-lint', { limit: 4, before: second.older! });
    expect(names(await readJobRuns(nc, 'pull-lint', { limit: 4, after: third.newer! }))).toEqual(names(second));
  });

  it('offers no newer page from a cursor past the newest run', async () => {
    const page = await readJobRuns(nc, 'pull-lint', { limit: 4, before: 1_000_000 });
    expect(names(page)).toEqual(names(await readJobRuns(nc, 'pull-lint', { limit: 4 })));
    expect(page.newer).toBeUndefined();
  });

  it('shows a run that is still going at its latest state', async () => {
    const js = jetstream(nc);
    const running = record('pull-e2e', 50, 'pending', 10_000);
    await js.publish(historySubject(HISTORY_SUBJECT_PREFIX, running), JSON.stringify(running));
    const page = await readJobRuns(nc, 'pull-e2e', { limit: 3 });
    expect(page.runs[0]!.record).toEqual(running);
  });

  it('answers an empty page for a job nothing was recorded for', async () => {
    expect(await readJobRuns(nc, 'no-such-job', { limit: 5 })).toEqual({ runs: [] });
  });
});

describe('readHistory', () => {
  it('reads one pull request’s records, of every job, and nothing of the other pull request', async () => {
    const records = await readHistory(nc, { repo: 'acme/widgets.io', pr: 2 });
    expect(records.length).toBeGreaterThan(0);
    expect(records.every((r) => r.pr === 2)).toBe(true);
    expect(new Set(records.map((r) => r.job))).toEqual(new Set(JOBS));
    expect(latestRuns(records).size).toBe(written.filter((r) => r.pr === 2 && r.state === 'triggered').length);
  });

  it('finds one run recorded under the layout before jobs were in the subject', async () => {
    expect((await readHistory(nc, { prowjob: 'pull-unit-run-99' })).map((r) => r.state)).toEqual(['success']);
  });

  it('takes a repository’s records of both layouts', async () => {
    const runs = latestRuns(await readHistory(nc, { repo: 'acme/widgets.io' }));
    expect(runs.has('pull-unit-run-99')).toBe(true);
    // And the run still going, written by the test before.
    expect(runs.size).toBe(JOBS.length * RUNS_PER_JOB + 2);
  });
});
