import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { Registry } from 'prom-client';
import { parseConfig, staticConfigSource } from '@bowline/config';
import { createGitHub } from '@bowline/github';
import { createLogger } from '@bowline/observability';
import { newPresubmitJob, transition, type ProwJob } from '@bowline/prowjob';
import { FakeGitHub, startProwJobBucket, waitFor, type ProwJobBucket } from '@bowline/testing';
import { entryFor, parseEntries, REPORT_MARKER } from '../../src/failure-comment.js';
import { Reporter, REPORTER_NAME } from '../../src/reporter.js';

/*
 * Prow's TestParseIssueComment (pkg/github/report/report_test.go): which of the bot's comments a
 * finished job's report deletes, which it edits, and which rows the failure comment then holds.
 * Here a job of context "bla test" ends in the bucket and the reporter reports it to the test
 * GitHub, where the case's comments were; what is checked is what GitHub was asked to do. The
 * bot is "k8s-ci-robot", as in the Go table; Go's comment ids 123 and 124 are the case's first and
 * second comment. A row Prow writes for "bla test" is `bla test | <sha> | [link](<url>) | <required> | <rerun>`.
 */
const ORG = 'acme';
const REPO = 'widgets';
const PULL = 1;
const BOT = 'k8s-ci-robot';
const TAG = REPORT_MARKER;
const logger = createLogger({ service: 'test', level: 'silent' });
const CONFIG = parseConfig(`presubmits:\n  ${ORG}/${REPO}:\n  - {name: bla, agent: jenkins, context: bla test}\n`, 'config.yaml');

interface Case {
  name: string;
  state: 'failure' | 'success';
  isOptional?: boolean;
  /** The bot's comments on the pull request, oldest first. */
  comments?: string[];
  /** Indexes into `comments`. */
  expectedDeletes?: number[];
  /** The new row for the job (`true`: required, `false`: optional) or old rows kept, by text they contain. */
  expectedEntries?: string[];
  expectedUpdate?: number;
}

const CASES: Case[] = [
  { name: 'should create a new comment', state: 'failure', expectedEntries: ['bla test | · | true'] },
  { name: 'should create a new optional comment', state: 'failure', isOptional: true, expectedEntries: ['bla test | · | false'] },
  { name: 'should not delete an up-to-date comment', state: 'success', comments: ['--- | --- | ---\nfoo test | something | or other\n\n'] },
  {
    name: 'should delete when all tests pass',
    state: 'success',
    comments: [`--- | --- | ---\nbla test | something | or other\n\n${TAG}`],
    expectedDeletes: [0],
    expectedEntries: [],
  },
  {
    name: 'should delete a passing test with \\r',
    state: 'success',
    comments: [`--- | --- | ---\r\nbla test | something | or other\r\n\r\n${TAG}`],
    expectedDeletes: [0],
    expectedEntries: [],
  },
  {
    name: 'should update a failed test',
    state: 'failure',
    comments: [`--- | --- | ---\nbla test | something | or other\n\n${TAG}`],
    expectedDeletes: [0],
    expectedEntries: ['bla test | · | true'],
  },
  {
    name: 'should preserve old results when updating',
    state: 'failure',
    comments: [`--- | --- | ---\nbla test | something | or other\nfoo test | wow | aye\n\n${TAG}`],
    expectedDeletes: [0],
    expectedEntries: ['bla test | · | true', 'foo test | wow | aye'],
  },
  {
    name: 'should merge duplicates',
    state: 'failure',
    comments: [`--- | --- | ---\nbla test | something | or other\nfoo test | wow such\n\n${TAG}`, `--- | --- | ---\nfoo test | beep | boop\n\n${TAG}`],
    expectedDeletes: [0, 1],
    expectedEntries: ['bla test | · | true', 'foo test | beep | boop'],
  },
  {
    name: 'should update an old comment when a test passes',
    state: 'success',
    comments: [`--- | --- | ---\nbla test | something | or other\nfoo test | wow | aye\n\n${TAG}`],
    expectedDeletes: [],
    expectedEntries: ['foo test | wow | aye'],
    expectedUpdate: 0,
  },
];

describe('TestParseIssueComment', () => {
  let bucket: ProwJobBucket;
  let github: FakeGitHub;
  let reporter: Reporter | undefined;

  beforeAll(async () => {
    bucket = await startProwJobBucket();
  });
  afterAll(async () => {
    await bucket?.stop();
  });
  beforeEach(async () => {
    github = await FakeGitHub.start({ botLogin: BOT });
    github.addPullRequest({ org: ORG, repo: REPO, number: PULL, author: 'alice', headSha: 'a'.repeat(40), baseSha: 'b'.repeat(40) });
  });
  afterEach(async () => {
    await reporter?.stop();
    reporter = undefined;
    await github.close();
    for (const { job } of await bucket.store.list()) await bucket.kv.purge(job.metadata.name);
  });

  function finished(c: Case): ProwJob {
    const created = newPresubmitJob(CONFIG.presubmits[`${ORG}/${REPO}`]![0]!, {
      name: 'bla-1',
      refs: { org: ORG, repo: REPO, base_ref: 'main', base_sha: 'b'.repeat(40), pulls: [{ number: PULL, author: 'alice', sha: 'a'.repeat(40) }] },
      now: new Date(),
      cause: { event: 'test', deliveryId: 'd-1' },
    });
    created.metadata.labels['prow.k8s.io/is-optional'] = String(c.isOptional ?? false);
    return transition(created, c.state, new Date(), { url: 'https://jenkins.example.com/job/bla/1/' })!;
  }

  /** `bla test | · | true` stands for the job's own row: context, then anything, then required. */
  function matches(row: string, expected: string, job: ProwJob): boolean {
    if (!expected.includes(' | · | ')) return row === expected;
    const [context, required] = expected.split(' | · | ');
    return row === entryFor(job) && row.startsWith(`${context} | `) && row.split(' | ')[3] === required;
  }

  it.each(CASES.map((c) => [c.name, c] as const))('TestParseIssueComment: "%s"', async (_, c) => {
    const seeded = (c.comments ?? []).map((body) => github.addComment(ORG, REPO, PULL, BOT, body));
    const job = finished(c);
    await bucket.store.create(job);

    reporter = new Reporter({
      github: createGitHub({ apiUrl: github.url, token: 'test-token' }, logger),
      config: staticConfigSource(CONFIG),
      store: bucket.store,
      logger,
      registry: new Registry(),
    });
    await reporter.start();
    await waitFor('the job reported', async () => (await bucket.store.get(job.metadata.name))?.job.status.prev_report_states?.[REPORTER_NAME] === c.state);

    const deleted = github.requestsTo({ method: 'DELETE' }).map((r) => Number(r.path.split('/').at(-1)));
    expect(deleted.sort()).toEqual((c.expectedDeletes ?? []).map((i) => seeded[i]!.id).sort());
    const edits = github.requestsTo({ method: 'PATCH' }).map((r) => Number(r.path.split('/').at(-1)));
    expect(edits).toEqual(c.expectedUpdate === undefined ? [] : [seeded[c.expectedUpdate]!.id]);
    const posts = github.requestsTo({ method: 'POST', path: `/repos/${ORG}/${REPO}/issues/${PULL}/comments` });
    const expected = c.expectedEntries ?? [];
    expect(posts).toHaveLength(expected.length > 0 && c.expectedUpdate === undefined ? 1 : 0);

    // The failure comment left on the pull request, if any, and its rows.
    const reports = github.comments(ORG, REPO, PULL).filter((comment) => comment.body.includes(TAG));
    expect(reports).toHaveLength(expected.length > 0 ? 1 : 0);
    const rows = reports.flatMap((comment) => parseEntries(comment.body));
    expect(rows).toHaveLength(expected.length);
    for (const entry of expected) expect(rows.some((row) => matches(row, entry, job))).toBe(true);
    // A comment without the marker is not the bot's failure comment, and is left as it was.
    for (const comment of seeded.filter((s) => !s.body.includes(TAG))) expect(github.comments(ORG, REPO, PULL)).toContainEqual(comment);
  });
});
