import { describe, expect, it } from '@jest/globals';
import { parseConfig } from '@bowline/config';
import { historyFilter, historyMessageId, historySubject, legacyHistoryFilter, subjectToken, toHistoryRecord } from '../src/history.js';
import { newPeriodicJob, newPresubmitJob, prowJobName } from '../src/prowjob.js';

const config = parseConfig(
  `
presubmits:
  acme/widgets.io:
  - name: unit
    agent: jenkins
periodics:
- name: nightly/e2e
  agent: jenkins
  cron: "0 3 * * *"
`,
  'config.yaml',
);
const NOW = new Date('2026-02-03T04:05:06.000Z');
const PREFIX = 'bowline.history';

function presubmitWith(cause: { event: string; action?: string; user?: string; comment?: string }) {
  return newPresubmitJob(config.presubmits['acme/widgets.io']![0]!, {
    name: prowJobName('history', JSON.stringify(cause)),
    refs: { org: 'acme', repo: 'widgets.io', base_ref: 'main', base_sha: 'b'.repeat(40), pulls: [{ number: 3, author: 'alice', sha: 'a'.repeat(40) }] },
    now: NOW,
    cause: { deliveryId: 'd-1', ...cause },
  });
}

describe('toHistoryRecord', () => {
  it.each([
    ['the commands of a comment, without its prose', { event: 'issue_comment', action: 'created', user: 'bob', comment: 'Thanks!\n/retest\n  /test lint  \nlater' }, '/retest; /test lint'],
    ['a comment without a command, as it is', { event: 'issue_comment', action: 'created', user: 'bob', comment: 'ok to go' }, 'ok to go'],
    ['the pull request event and its action', { event: 'pull_request', action: 'opened', user: 'alice' }, 'pull_request opened'],
    ['a labelled pull request', { event: 'pull_request', action: 'labeled', user: 'carol' }, 'pull_request labeled'],
    ['an event without an action', { event: 'push', user: 'dave' }, 'push'],
  ])('says what triggered the run: %s', (_, cause, trigger) => {
    const record = toHistoryRecord(presubmitWith(cause), 9);

    expect(record.trigger).toBe(trigger);
    expect(record.triggeredBy).toBe(cause.user);
  });

  it('says a periodic ran on its schedule, and has no repository', () => {
    const job = newPeriodicJob(config.periodics[0]!, { name: 'p-1', now: NOW, cause: { scheduledFor: NOW, schedule: '0 3 * * *' } });

    const record = toHistoryRecord(job, 4);

    expect(record).toMatchObject({ prowjob: 'p-1', job: 'nightly/e2e', type: 'periodic', trigger: 'periodic (0 3 * * *)', state: 'triggered', revision: 4 });
    for (const field of ['repo', 'pr', 'sha', 'triggeredBy']) expect(record).not.toHaveProperty(field);
  });
});

describe('history subjects', () => {
  it('files a record under its repository, pull request, job and name, with the dots NATS would split on replaced', () => {
    const record = toHistoryRecord(presubmitWith({ event: 'pull_request', action: 'opened' }), 1);

    expect(historySubject(PREFIX, record)).toBe(`bowline.history.acme.widgets_io.${record.pr}.${subjectToken(record.job)}.${record.prowjob}`);
  });

  it.each<[string, Parameters<typeof historyFilter>[1], string]>([
    ['a repository, taking both layouts', { repo: 'acme/widgets.io' }, 'bowline.history.acme.widgets_io.>'],
    ['a pull request', { repo: 'acme/widgets', pr: 7 }, 'bowline.history.acme.widgets.7.*.*'],
    ['a job in every repository', { job: 'pull/unit' }, 'bowline.history.*.*.*.pull_unit.*'],
    ['one run', { prowjob: 'p-1' }, 'bowline.history.*.*.*.*.p-1'],
    ['everything', {}, 'bowline.history.>'],
  ])('names the records of %s with one subject filter', (_, filter, subject) => {
    expect(historyFilter(PREFIX, filter)).toBe(subject);
  });

  it('finds one run under the layout before pull requests and jobs were in the subject', () => {
    expect(legacyHistoryFilter(PREFIX, 'p-1')).toBe('bowline.history.*.*.p-1');
  });

  it('files a periodic under _periodic, without pull request, its Jenkins folder path made one token', () => {
    expect(historySubject(PREFIX, { prowjob: 'p-1', job: 'nightly/e2e' })).toBe('bowline.history._periodic._._.nightly_e2e.p-1');
  });

  it('names a message after the job and the state, so each state is stored once', () => {
    expect(historyMessageId({ prowjob: 'p-1', state: 'success' })).toBe('p-1:success');
  });
});
