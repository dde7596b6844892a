/**
 * Prow's TestHandleGenericComment (pkg/plugins/trigger/generic-comment_test.go), case by case,
 * driven through the planner against the GitHub test server and a real nats-server.
 *
 * As in Prow's test: `trusted-member` is the only member of `org`; the pull request targets
 * `master` (or the case's branch), changes the file `CHANGED`, and its head commit has the
 * statuses pull-job pending, pull-jib failure, pull-jub success. A case without a pull request
 * author has Prow's empty (untrusted) login; here it is `contributor`, untrusted too. Each event
 * is handled twice, as Prow's test does, and the second time changes nothing.
 *
 * Prow's fake comment pruner only records that it was called; here a help reply of the bot's sits
 * on the pull request before each case, and `pruneHelp` says whether the planner deleted it.
 *
 * Not applicable: "Trusted member's ok to test, IgnoreOkToTest" (Bowline has no
 * `ignore_ok_to_test`: `/ok-to-test` is always honoured).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { configOf, PlannerHarness, type JobFields } from './harness.js';

const TRUSTED = 'trusted-member';
const UNTRUSTED = 'untrusted-member';
const NO_COMMENT = '<none>';

const HELP = 'The following commands are available to trigger required jobs:\n```\n/test jib\n```\n```\n/test job\n```\n\n';
const HELP_TEST_ALL_WITH_JOBS = 'Use `/test all` to run the following jobs that were automatically triggered:\n```\njob\n```\n\n';
// Prow's notes (pkg/pjutil/help.go).
const TEST_WITHOUT_TARGET = 'The `/test` command needs one or more targets.\n';
const RETEST_WITH_TARGET = 'The `/retest` command does not accept any targets.\n';
const TARGET_NOT_FOUND = 'The specified target(s) for `/test` were not found.\n';
const NO_TEST_ALL_JOBS = 'No jobs can be run with `/test all`.\n';
const STALE_HELP = `@${TRUSTED}: ${HELP}`;

/** A job as most of Prow's cases write it: context `pull-NAME`, triggered by `/test NAME`. */
function job(name: string, fields: Record<string, unknown> = {}): JobFields {
  return { name, context: `pull-${name}`, trigger: `(?m)^/test (?:.*? )?${name}(?: .*?)?$`, rerun_command: `/test ${name}`, ...fields };
}

const DEFAULT_PRESUBMITS = [job('job', { always_run: true, branches: ['master'] }), job('jib')];

function codeBlock(text: string, newline: boolean): string {
  return `\`\`\`\n${text}\n\`\`\`${newline ? '\n' : ''}`;
}

interface Case {
  name: string;
  author: string;
  prAuthor?: string;
  body: string;
  state?: 'open' | 'closed';
  isPR?: boolean;
  branch?: string;
  shouldBuild?: boolean;
  addedLabels?: string[];
  removedLabels?: string[];
  startsExactly?: string;
  presubmits?: JobFields[];
  issueLabels?: string[];
  addedComment?: string;
  pruneHelp?: boolean;
}

const CASES: Case[] = [
  { name: 'Not a PR.', author: TRUSTED, body: '/ok-to-test', isPR: false },
  { name: 'Closed PR.', author: TRUSTED, body: '/ok-to-test', state: 'closed' },
  { name: 'Comment by a bot.', author: PlannerHarness.BOT, body: '/ok-to-test' },
  { name: 'Irrelevant comment leads to no action.', author: TRUSTED, body: 'Nice weather outside, right?' },
  { name: "Non-trusted member's ok to test.", author: UNTRUSTED, body: '/ok-to-test' },
  { name: 'accept /test from non-trusted member if PR author is trusted', author: UNTRUSTED, prAuthor: TRUSTED, body: '/test all', shouldBuild: true, pruneHelp: true },
  { name: 'reject /test from non-trusted member when PR author is untrusted', author: UNTRUSTED, prAuthor: UNTRUSTED, body: '/test all' },
  { name: 'Non-trusted member after "/ok-to-test".', author: UNTRUSTED, body: '/test all', shouldBuild: true, pruneHelp: true, issueLabels: ['ok-to-test'] },
  {
    name: 'Non-trusted member after "/ok-to-test", needs-ok-to-test label wasn\'t deleted.',
    author: UNTRUSTED,
    body: '/test all',
    shouldBuild: true,
    pruneHelp: true,
    issueLabels: ['needs-ok-to-test', 'ok-to-test'],
    removedLabels: ['needs-ok-to-test'],
  },
  { name: "Trusted member's ok to test", author: TRUSTED, body: 'looks great, thanks!\n/ok-to-test', shouldBuild: true, addedLabels: ['ok-to-test'] },
  { name: "Trusted member's ok to test, trailing space.", author: TRUSTED, body: 'looks great, thanks!\n/ok-to-test \r', shouldBuild: true, addedLabels: ['ok-to-test'] },
  { name: "Trusted member's not ok to test.", author: TRUSTED, body: 'not /ok-to-test' },
  { name: "Trusted member's test this.", author: TRUSTED, body: '/test all', shouldBuild: true, pruneHelp: true },
  { name: 'Wrong branch', author: TRUSTED, body: '/test all', branch: 'other' },
  { name: 'Retest with one running and one failed', author: TRUSTED, body: '/retest', shouldBuild: true, startsExactly: 'pull-jib', pruneHelp: true },
  { name: 'Retest with one running and one failed, trailing space.', author: TRUSTED, body: '/retest \r', shouldBuild: true, startsExactly: 'pull-jib', pruneHelp: true },
  {
    name: 'test of silly regex job',
    author: TRUSTED,
    body: 'Nice weather outside, right?',
    presubmits: [{ name: 'jab', branches: ['master'], context: 'pull-jab', trigger: 'Nice weather outside, right?', rerun_command: 'Nice weather outside, right?' }],
    shouldBuild: true,
    startsExactly: 'pull-jab',
    // Help replies are pruned only after comments that look like the usual commands.
    pruneHelp: false,
  },
  {
    name: 'needs-ok-to-test label is removed when no presubmit runs by default',
    author: TRUSTED,
    body: '/ok-to-test',
    presubmits: [job('job'), job('jib')],
    issueLabels: ['needs-ok-to-test'],
    addedLabels: ['ok-to-test'],
    removedLabels: ['needs-ok-to-test'],
  },
  { name: 'Wrong branch w/ SkipReport', author: TRUSTED, body: '/test all', branch: 'other', presubmits: [job('job', { always_run: true, skip_report: true, branches: ['master'] })] },
  {
    name: "Retest of run_if_changed job that hasn't run. Changes require job",
    author: TRUSTED,
    body: '/retest',
    presubmits: [job('jab', { run_if_changed: 'CHANGED', skip_report: true })],
    shouldBuild: true,
    startsExactly: 'pull-jab',
    pruneHelp: true,
  },
  {
    name: "Retest of skip_if_only_changed job that hasn't run. Changes require job",
    author: TRUSTED,
    body: '/retest',
    presubmits: [job('jab', { skip_if_only_changed: 'CHANGED2', skip_report: true })],
    shouldBuild: true,
    startsExactly: 'pull-jab',
    pruneHelp: true,
  },
  {
    name: 'Retest of run_if_changed job that failed. Changes require job',
    author: TRUSTED,
    body: '/retest',
    presubmits: [job('jib', { run_if_changed: 'CHANGED' })],
    shouldBuild: true,
    startsExactly: 'pull-jib',
    pruneHelp: true,
  },
  {
    name: 'Retest of skip_if_only_changed job that failed. Changes require job',
    author: TRUSTED,
    body: '/retest',
    presubmits: [job('jib', { skip_if_only_changed: 'CHANGED2' })],
    shouldBuild: true,
    startsExactly: 'pull-jib',
    pruneHelp: true,
  },
  { name: '/test of run_if_changed job that has passed', author: TRUSTED, body: '/test jub', presubmits: [job('jub', { run_if_changed: 'CHANGED' })], shouldBuild: true, startsExactly: 'pull-jub', pruneHelp: true },
  { name: '/test of skip_if_only_changed job that has passed', author: TRUSTED, body: '/test jub', presubmits: [job('jub', { skip_if_only_changed: 'CHANGED2' })], shouldBuild: true, startsExactly: 'pull-jub', pruneHelp: true },
  { name: 'Retest triggers failed job', author: TRUSTED, body: '/retest', presubmits: [job('jib')], shouldBuild: true, pruneHelp: true },
  { name: 'Retest triggers failed job that is optional', author: TRUSTED, body: '/retest', presubmits: [job('jib', { optional: true })], shouldBuild: true, pruneHelp: true },
  // Prow's name says "doesn't", its table says it builds: the failed job is required.
  { name: "Retest-Required doesn't triggers failed job", author: TRUSTED, body: '/retest-required', presubmits: [job('jib')], shouldBuild: true, pruneHelp: true },
  { name: "Retest-Required doesn't trigger failed job that is optional", author: TRUSTED, body: '/retest-required', presubmits: [job('jib', { optional: true })], pruneHelp: true },
  { name: 'Test-Manual-Required triggers missing required manual job', author: TRUSTED, body: '/test-manual-required', presubmits: [job('jab')], shouldBuild: true, startsExactly: 'pull-jab', pruneHelp: true },
  { name: "Test-Manual-Required doesn't trigger missing optional job", author: TRUSTED, body: '/test-manual-required', presubmits: [job('jab', { optional: true })], pruneHelp: true },
  {
    name: 'Test-Manual-Required does not trigger always_run or conditional jobs',
    author: TRUSTED,
    body: '/test-manual-required',
    presubmits: [job('always-run', { always_run: true }), job('conditional', { run_if_changed: 'CHANGED' })],
    pruneHelp: true,
  },
  {
    name: 'Retest of run_if_changed job that failed. Changes do not require the job',
    author: TRUSTED,
    body: '/retest',
    presubmits: [job('jib', { run_if_changed: 'CHANGED2' })],
    shouldBuild: true,
    pruneHelp: true,
  },
  {
    name: 'Retest of skip_if_only_changed job that failed. Changes do not require the job',
    author: TRUSTED,
    body: '/retest',
    presubmits: [job('jib', { skip_if_only_changed: 'CHANGED' })],
    shouldBuild: true,
    pruneHelp: true,
  },
  {
    name: 'Run if changed job triggered by /ok-to-test',
    author: TRUSTED,
    body: '/ok-to-test',
    presubmits: [job('jab', { run_if_changed: 'CHANGED' })],
    shouldBuild: true,
    startsExactly: 'pull-jab',
    issueLabels: ['needs-ok-to-test'],
    addedLabels: ['ok-to-test'],
    removedLabels: ['needs-ok-to-test'],
  },
  {
    name: 'Run if non-skipped job triggered by /ok-to-test',
    author: TRUSTED,
    body: '/ok-to-test',
    presubmits: [job('jab', { skip_if_only_changed: 'CHANGED2' })],
    shouldBuild: true,
    startsExactly: 'pull-jab',
    issueLabels: ['needs-ok-to-test'],
    addedLabels: ['ok-to-test'],
    removedLabels: ['needs-ok-to-test'],
  },
  {
    name: '/test of branch-sharded job',
    author: TRUSTED,
    body: '/test jab',
    presubmits: [job('jab', { branches: ['master'] }), job('jab', { branches: ['release'] })],
    shouldBuild: true,
    startsExactly: 'pull-jab',
    pruneHelp: true,
  },
  {
    name: 'branch-sharded job. no shard matches base branch',
    author: TRUSTED,
    branch: 'branch',
    body: '/test jab',
    presubmits: [job('jab', { branches: ['master'] }), job('jab', { branches: ['release'] })],
  },
  { name: "/retest of RunIfChanged job that doesn't need to run and hasn't run", author: TRUSTED, body: '/retest', presubmits: [job('jeb', { run_if_changed: 'CHANGED2' })], pruneHelp: true },
  { name: "/retest of SkipIfOnlyChanged job that doesn't need to run and hasn't run", author: TRUSTED, body: '/retest', presubmits: [job('jeb', { skip_if_only_changed: 'CHANGED' })], pruneHelp: true },
  { name: "explicit /test for RunIfChanged job that doesn't need to run", author: TRUSTED, body: '/test pull-jeb', presubmits: [job('jeb', { run_if_changed: 'CHANGED2' })] },
  { name: "explicit /test for SkipIfOnlyChanged job that doesn't need to run", author: TRUSTED, body: '/test pull-jeb', presubmits: [job('jeb', { skip_if_only_changed: 'CHANGED' })] },
  {
    name: '/test all of run_if_changed job that has passed and needs to run',
    author: TRUSTED,
    body: '/test all',
    presubmits: [job('jub', { run_if_changed: 'CHANGED' })],
    shouldBuild: true,
    startsExactly: 'pull-jub',
    pruneHelp: true,
  },
  {
    name: '/test all of skip_if_only_changed job that has passed and needs to run',
    author: TRUSTED,
    body: '/test all',
    presubmits: [job('jub', { skip_if_only_changed: 'CHANGED2' })],
    shouldBuild: true,
    startsExactly: 'pull-jub',
    pruneHelp: true,
  },
  { name: "/test all of run_if_changed job that has passed and doesn't need to run", author: TRUSTED, body: '/test all', presubmits: [job('jub', { run_if_changed: 'CHANGED2' })] },
  { name: "/test all of skip_if_only_changed job that has passed and doesn't need to run", author: TRUSTED, body: '/test all', presubmits: [job('jub', { skip_if_only_changed: 'CHANGED' })] },
  { name: 'accept /test all from trusted user', author: TRUSTED, prAuthor: TRUSTED, body: '/test all', shouldBuild: true, pruneHelp: true },
  { name: 'Non-trusted member after "/lgtm" and "/approve"', author: UNTRUSTED, prAuthor: UNTRUSTED, body: '/retest', issueLabels: ['lgtm', 'approved'] },
  {
    name: 'help command "/test ?" lists available presubmits',
    author: TRUSTED,
    body: '/test ?',
    presubmits: [job('job', { always_run: true }), job('jib', { always_run: true })],
    addedComment: `${HELP}Use \`/test all\` to run all jobs.`,
  },
  {
    name: 'ignore "/test ?" in code block',
    author: TRUSTED,
    body: codeBlock('/test ?', false),
    presubmits: [job('job', { always_run: true }), job('jib', { always_run: true })],
    addedComment: NO_COMMENT,
  },
  {
    name: 'help command "/test ?" uses unique RerunCommand field of presubmits',
    author: TRUSTED,
    body: '/test ?',
    presubmits: [
      { name: 'jub', always_run: true, context: 'pull-jub', trigger: '/rerun_command', rerun_command: '/rerun_command' },
      { name: 'jib', always_run: true, context: 'pull-jib', trigger: '/command_foo', rerun_command: '/command_foo' },
      { name: 'jab', context: 'pull-jab', trigger: '/rerun_command', rerun_command: '/rerun_command' },
    ],
    addedComment: `@${TRUSTED}: The following commands are available to trigger required jobs:\n\`\`\`\n/command_foo\n\`\`\`\n\`\`\`\n/rerun_command\n\`\`\`\n\nUse \`/test all\` to run all jobs.`,
  },
  { name: '/test with no target results in a help message', author: TRUSTED, body: '/test', addedComment: TEST_WITHOUT_TARGET + HELP + HELP_TEST_ALL_WITH_JOBS },
  { name: 'ignore `/test` with no target in a code block', author: TRUSTED, body: '```\n/test\n```', addedComment: NO_COMMENT },
  { name: 'ignore `/test` with no target in a tilde code block', author: TRUSTED, body: '~~~\n/test\n~~~', addedComment: NO_COMMENT },
  {
    name: '/test with no target but ? in the next line results in an invalid test command message',
    author: TRUSTED,
    body: '/test \r\n?',
    addedComment: TEST_WITHOUT_TARGET + HELP + HELP_TEST_ALL_WITH_JOBS,
  },
  { name: '/retest with trailing words results in a help message', author: TRUSTED, body: '/retest FOO', addedComment: RETEST_WITH_TARGET + HELP + HELP_TEST_ALL_WITH_JOBS },
  { name: '/retest with trailing words in a code block', author: TRUSTED, body: codeBlock('/retest FOO', false), addedComment: NO_COMMENT },
  { name: '/retest without target but with lines following it, is valid', author: TRUSTED, body: '/retest \r\n/other-command', shouldBuild: true, startsExactly: 'pull-jib', pruneHelp: true },
  { name: '/test with unknown target results in a help message', author: TRUSTED, body: '/test FOO', addedComment: TARGET_NOT_FOUND + HELP + HELP_TEST_ALL_WITH_JOBS },
  { name: '/test with unknown target in code block. Should be ignored', author: TRUSTED, body: codeBlock('/test FOO', false), addedComment: NO_COMMENT },
  {
    name: 'two `/test` with unknown target. One in a code block, and one is not.',
    author: TRUSTED,
    body: `${codeBlock('/test FOO', true)}/test BAR`,
    addedComment: TARGET_NOT_FOUND + HELP + HELP_TEST_ALL_WITH_JOBS,
  },
  {
    name: 'two `/test` with unknown target. One out of a code block, and one is inside.',
    author: TRUSTED,
    body: `/test FOO\n${codeBlock('/test BAR', false)}`,
    addedComment: TARGET_NOT_FOUND + HELP + HELP_TEST_ALL_WITH_JOBS,
  },
  {
    name: 'multiple code blocks; should be ignored.',
    author: TRUSTED,
    body: codeBlock('/test FOO', true) + codeBlock('/test BAR', true) + codeBlock('/test BAZ', false),
    addedComment: NO_COMMENT,
  },
  {
    name: '/test mixed with multiple code blocks; should be ignored.',
    author: TRUSTED,
    body: `${codeBlock('/test FOO', true)}${codeBlock('/test BAR', true)}/test BAZ\nWill trigger the help message.\n${codeBlock('/test QUX', false)}`,
    addedComment: TARGET_NOT_FOUND + HELP + HELP_TEST_ALL_WITH_JOBS,
  },
  {
    name: "help comment should list only eligible jobs under '/test all'",
    author: TRUSTED,
    body: '/test ?',
    presubmits: [job('job', { always_run: true, trigger: '(?m)^/test job$' }), job('jib')],
    addedComment: HELP + HELP_TEST_ALL_WITH_JOBS,
  },
  {
    name: 'when no jobs can be run with /test all, respond accordingly',
    author: TRUSTED,
    body: '/test all',
    presubmits: [job('job', { trigger: '(?m)^/test job$' }), job('jib', { trigger: '(?m)^/test jib$' })],
    addedComment: NO_TEST_ALL_JOBS + HELP,
  },
  {
    name: 'when no jobs can be run with /test all, ignore if inside a code block',
    author: TRUSTED,
    body: codeBlock('/test all', false),
    presubmits: [job('job', { trigger: '(?m)^/test job$' }), job('jib', { trigger: '(?m)^/test jib$' })],
    addedComment: NO_COMMENT,
  },
  {
    name: 'available presubmits should not list those excluded by branch',
    author: TRUSTED,
    body: '/test ?',
    presubmits: [
      job('job-excluded-by-brancher', { skip_branches: ['master'], always_run: true, trigger: '(?m)^/test job-excluded$', rerun_command: '/test job-excluded' }),
      job('job', { always_run: true, trigger: '(?m)^/test job$' }),
      job('jib'),
    ],
    addedComment: HELP + HELP_TEST_ALL_WITH_JOBS,
  },
  {
    name: 'help command "/test ?" differs between optional and required jobs',
    author: TRUSTED,
    body: '/test ?',
    presubmits: [job('job', { always_run: true }), job('jib', { always_run: true }), job('jub', { always_run: true, optional: true })],
    addedComment: `${HELP}The following commands are available to trigger optional jobs:\n\`\`\`\n/test jub\n\`\`\`\n\nUse \`/test all\` to run all jobs.`,
  },
];

describe("Prow's TestHandleGenericComment, through the planner", () => {
  let harness: PlannerHarness;

  beforeAll(async () => {
    harness = await PlannerHarness.start();
    harness.github.addOrgMember('org', TRUSTED);
  });

  afterAll(async () => {
    await harness?.stop();
  });

  it('ports every case of the table but the one Bowline has no setting for', () => {
    expect(CASES).toHaveLength(69);
  });

  it.each(CASES)('TestHandleGenericComment: $name', async (tc) => {
    const planner = harness.planner(configOf({ presubmits: { 'org/repo': tc.presubmits ?? DEFAULT_PRESUBMITS } }));
    const pr = harness.openPr({ author: tc.prAuthor, baseRef: tc.branch, state: tc.state, labels: tc.issueLabels, files: ['CHANGED'] });
    await harness.setStatuses(pr, [
      ['pull-job', 'pending'],
      ['pull-jib', 'failure'],
      ['pull-jub', 'success'],
    ]);
    const staleHelp = harness.github.addComment(pr.org, pr.repo, pr.number, PlannerHarness.BOT, STALE_HELP);
    const event = harness.comment(pr, tc.body, tc.author, (payload) => {
      if (tc.isPR === false) delete (payload.issue as Record<string, unknown>).pull_request;
    });

    for (const attempt of [1, 2]) {
      await planner.handle(event);

      const started = await harness.startedContexts(pr);
      expect({ attempt, built: started.length > 0 }).toEqual({ attempt, built: tc.shouldBuild ?? false });
      if (tc.startsExactly) expect(started).toEqual([tc.startsExactly]);
      expect(harness.labelsAdded(pr)).toEqual(tc.addedLabels ?? []);
      expect(harness.labelsRemoved(pr)).toEqual(tc.removedLabels ?? []);
      const comments = harness.comments(pr);
      const added = comments.filter((c) => c.id !== staleHelp.id).map((c) => c.body);
      if (tc.addedComment === NO_COMMENT) expect(added).toEqual([]);
      else if (tc.addedComment) expect(added).toEqual([expect.stringContaining(tc.addedComment)]);
      expect(comments.some((c) => c.id === staleHelp.id)).toBe(!tc.pruneHelp);
    }
  });
});
