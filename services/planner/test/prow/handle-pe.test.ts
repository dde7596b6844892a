/**
 * Prow's TestHandlePE (pkg/plugins/trigger/push_test.go), case by case, driven through the
 * planner with GitHub's push payload: how many postsubmit ProwJobs a push creates.
 *
 * As in Prow's test: `org/repo` has `pass-butter` (run_if_changed `\.sh$`), `org2/repo2` has
 * `pass-salt` (no filters), `org3/repo3` has `pass-pepper` (only on `release/v1.14`). Prow's
 * events leave `after` empty where it does not matter; GitHub always sends one, so here it is a
 * commit id unless the case is about it.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { examplePayload } from '@bowline/testing';
import { configOf, PlannerHarness } from './harness.js';

const CONFIG = configOf({
  postsubmits: {
    'org/repo': [{ name: 'pass-butter', run_if_changed: '\\.sh$' }],
    'org2/repo2': [{ name: 'pass-salt' }],
    'org3/repo3': [{ name: 'pass-pepper', branches: ['release/v1.14'] }],
  },
});

interface Case {
  name: string;
  ref: string;
  org: string;
  repo: string;
  after?: string;
  deleted?: boolean;
  commits?: { added?: string[]; modified?: string[] }[];
  jobsToRun: number;
}

const CASES: Case[] = [
  { name: 'branch deleted', ref: 'refs/heads/master', org: 'org', repo: 'repo', deleted: true, jobsToRun: 0 },
  { name: 'null after sha', ref: 'refs/heads/master', org: 'org', repo: 'repo', after: '0'.repeat(40), jobsToRun: 0 },
  { name: 'no matching files', ref: 'refs/heads/master', org: 'org', repo: 'repo', commits: [{ added: ['example.txt'] }], jobsToRun: 0 },
  { name: 'one matching file', ref: 'refs/heads/master', org: 'org', repo: 'repo', commits: [{ added: ['example.txt'], modified: ['hack.sh'] }], jobsToRun: 1 },
  { name: 'no change matcher', ref: 'refs/heads/master', org: 'org2', repo: 'repo2', commits: [{ added: ['example.txt'] }], jobsToRun: 1 },
  { name: 'branch name with a slash', ref: 'refs/heads/release/v1.14', org: 'org3', repo: 'repo3', commits: [{ added: ['hack.sh'] }], jobsToRun: 1 },
];

describe("Prow's TestHandlePE, through the planner", () => {
  let harness: PlannerHarness;

  beforeAll(async () => {
    harness = await PlannerHarness.start();
  });

  afterAll(async () => {
    await harness?.stop();
  });

  it('ports every case of the table', () => {
    expect(CASES).toHaveLength(6);
  });

  it.each(CASES)('TestHandlePE: $name', async (tc) => {
    const payload = examplePayload('push');
    Object.assign(payload, {
      ref: tc.ref,
      after: tc.after ?? 'a'.repeat(40),
      deleted: tc.deleted ?? false,
      commits: (tc.commits ?? []).map((commit) => ({ ...payload.head_commit, added: [], removed: [], modified: [], ...commit })),
      repository: { ...payload.repository, name: tc.repo, full_name: `${tc.org}/${tc.repo}`, owner: { ...payload.repository.owner, login: tc.org, name: tc.org } },
    });
    const event = harness.envelope('push', payload);

    await harness.planner(CONFIG).handle(event);

    const created = (await harness.bucket.store.list()).filter(({ job }) => job.metadata.annotations?.['bowline.dev/delivery-id'] === event.id);
    expect(created).toHaveLength(tc.jobsToRun);
  });
});
