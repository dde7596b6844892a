import { describe, expect, it } from '@jest/globals';
import { parseConfig } from '@bowline/config';
import { newPresubmitJob, transition, type ProwJob, type ProwJobState } from '@bowline/prowjob';
import { entryContext, entryFor, parseEntries, renderComment, REPORT_MARKER } from '../src/failure-comment.js';

const CONFIG = parseConfig(
  `
presubmits:
  acme/widgets:
  - name: unit
    agent: jenkins
    context: ci/jenkins/unit
  - name: lint
    agent: jenkins
    context: ci/jenkins/lint
    optional: true
  - name: e2e
    agent: jenkins
    context: ci/jenkins/e2e
    trigger: (?m)^/test e2e( |$)
    rerun_command: /test e2e
`,
  'config.yaml',
);

const HEAD_SHA = 'c'.repeat(40);

function job(jobName: string, state: ProwJobState = 'failure', url = `https://jenkins.example.com/job/${jobName}/1/`): ProwJob {
  const presubmit = CONFIG.presubmits['acme/widgets']!.find((p) => p.name === jobName)!;
  const created = newPresubmitJob(presubmit, {
    name: `pj-${jobName}`,
    refs: { org: 'acme', repo: 'widgets', base_ref: 'main', base_sha: 'd'.repeat(40), pulls: [{ number: 3, author: 'alice', sha: HEAD_SHA }] },
    now: new Date('2024-05-01T10:00:00Z'),
    cause: { event: 'issue_comment', deliveryId: 'd-1' },
  });
  return transition(created, state, new Date('2024-05-01T10:05:00Z'), { url })!;
}

describe('entryFor', () => {
  it("writes Prow's row: context, head sha, link to the build, required, rerun command", () => {
    expect(entryFor(job('unit'))).toBe(`ci/jenkins/unit | ${HEAD_SHA} | [link](https://jenkins.example.com/job/unit/1/) | true | \`/test unit\``);
  });

  it.each([
    ['an optional job', 'false', 'true'],
    ['a required job', 'true', 'false'],
    ['a job without the label', 'unknown', undefined],
  ])('calls %s required: %s', (_, required, optional) => {
    const failed = job('lint');
    const labels = { ...failed.metadata.labels };
    if (optional === undefined) delete labels['prow.k8s.io/is-optional'];
    else labels['prow.k8s.io/is-optional'] = optional;

    expect(entryFor({ ...failed, metadata: { ...failed.metadata, labels } }).split(' | ')[3]).toBe(required);
  });

  it("uses the job's own rerun command", () => {
    expect(entryFor(job('e2e'))).toMatch(/ \| `\/test e2e`$/);
  });

  it('starts with the context, which entryContext reads back', () => {
    expect(entryContext(entryFor(job('e2e')))).toBe('ci/jenkins/e2e');
  });
});

describe('renderComment and parseEntries', () => {
  it.each([
    ['one row', [entryFor(job('unit'))]],
    ['several rows', [entryFor(job('unit')), entryFor(job('lint')), entryFor(job('e2e'))]],
  ])('read back the rows they were given, with %s', (_, entries) => {
    expect(parseEntries(renderComment('alice', entries))).toEqual(entries);
  });

  it("mentions the author, Prow's table header and the hidden marker, with a plural for several rows", () => {
    const one = renderComment('alice', [entryFor(job('unit'))]);
    const two = renderComment('alice', [entryFor(job('unit')), entryFor(job('lint'))]);

    expect(one).toMatch(/^@alice: The following test \*\*failed\*\*, say `\/retest`/);
    expect(two).toMatch(/^@alice: The following tests \*\*failed\*\*/);
    expect(one).toContain('\nTest name | Commit | Details | Required | Rerun command\n--- | --- | --- | --- | ---\n');
    expect(one.endsWith(REPORT_MARKER)).toBe(true);
  });

  it('reads no rows from a comment without the table', () => {
    expect(parseEntries(`Thanks for the fix!\n${REPORT_MARKER}`)).toEqual([]);
  });

  it('reads the rows of a comment GitHub gives back with CRLF line ends (after an edit in its web editor)', () => {
    const entries = [entryFor(job('unit')), entryFor(job('lint'))];

    expect(parseEntries(renderComment('alice', entries).replace(/\n/g, '\r\n'))).toEqual(entries);
  });

  // Prow's parseIssueComments (pkg/github/report/report.go) reads rows after any line starting
  // with "---", up to the next empty line, whatever the table's width.
  it('reads rows as Prow does: after any line starting with ---, up to an empty line, trimmed', () => {
    const body = ['intro', '--- | --- | ---', 'foo test | wow | aye  ', 'bar test | x | y', '', 'not a row', '---', 'baz test | z', '', REPORT_MARKER].join('\n');

    expect(parseEntries(body)).toEqual(['foo test | wow | aye', 'bar test | x | y', 'baz test | z']);
  });
});
