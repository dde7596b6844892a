import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { load } from 'cheerio';
import request from 'supertest';
import { parseConfig, type Config, type ConfigSource } from '@bowline/config';
import { badgeStatus, globPattern } from '../src/badge.js';
import { DECK_CONFIG, startDeckServer, type DeckServer } from './deck-server.js';
import { makeJob, moveTo } from './jobs.js';

const unit = makeJob({ minute: 1, job: 'pull-widgets-unit', pr: 1, state: 'success', ranMinutes: 3 });
const lint = makeJob({ minute: 2, job: 'pull-widgets-lint', pr: 1, state: 'failure', ranMinutes: 1.5 });
const newerUnit = makeJob({ minute: 3, job: 'pull-widgets-unit', pr: 2, state: 'failure', ranMinutes: 45 });
const e2e = makeJob({ minute: 4, job: 'pull-widgets-e2e', pr: 2, state: 'pending' });
const aborted = makeJob({ minute: 5, job: 'pull-widgets-docs', pr: 2, state: 'aborted', ranMinutes: 0.5 });

// A config source whose config the test replaces, as a reload replaces it.
let config: Config = DECK_CONFIG;
const source: ConfigSource = { get: () => config };
let deck: DeckServer;

beforeAll(async () => {
  deck = await startDeckServer([unit, lint, newerUnit, e2e, aborted], {}, undefined, { config: source });
});

afterAll(async () => {
  await deck.stop();
});

const page = async (path: string, status = 200): Promise<ReturnType<typeof load>> => load((await request(deck.app).get(path).expect(status)).text);

describe('the duration histogram beside the state bar', () => {
  it('counts the finished jobs the list shows by how long they took, passed and failed apart, in words too', async () => {
    const $ = await page('/');
    expect($('#summary #duration-histogram svg').attr('aria-label')).toBe(
      'Durations of 4 finished jobs: under 1 min: 1 (1 other); 1–2 min: 1 (1 failed); 2–5 min: 1 (1 passed); 30–60 min: 1 (1 failed).',
    );
    expect($('#duration-histogram rect')).toHaveLength(4);
  });

  it('follows the filters, as the state bar does', async () => {
    const $ = await page('/?job=pull-widgets-unit');
    expect($('#duration-histogram svg').attr('aria-label')).toBe('Durations of 2 finished jobs: 2–5 min: 1 (1 passed); 30–60 min: 1 (1 failed).');
  });

  it('is left out when no listed job has finished', async () => {
    const $ = await page('/?state=pending');
    expect($('#duration-histogram')).toHaveLength(0);
  });
});

describe('links from the job list', () => {
  it('links each row to its job’s history, its pull request’s history and its build log', async () => {
    const $ = await page('/');
    const links = $(`#job-${lint.metadata.name} td.history-links a`).map((_, a) => $(a).attr('href')).get();
    expect(links).toEqual(['/job-history/pull-widgets-lint', '/pr/acme/widgets/1', `/log/${lint.metadata.name}`]);
  });
});

describe('/badge.svg', () => {
  // Prow's TestPickLatestJobs and TestRenderBadge (cmd/deck/badge_test.go).
  it.each<[string, string, string, string]>([
    ['the newest run of one job', 'pull-widgets-unit', 'failing pull-widgets-unit', '#e05d44'],
    ['a passing job', 'pull-widgets-unit,nothing-else', 'failing pull-widgets-unit', '#e05d44'],
    ['a wildcard over several jobs, the failed ones named', 'pull-widgets-*', 'failing pull-widgets-lint, pull-widgets-unit', '#e05d44'],
    ['a job still running counts as passing', 'pull-widgets-e2e', 'passing', '#4c1'],
    ['no job matches', 'post-*', 'no results', 'darkgrey'],
  ])('shows %s', async (_, jobs, status, color) => {
    const response = await request(deck.app).get(`/badge.svg?jobs=${encodeURIComponent(jobs)}`).expect(200).expect('content-type', /image\/svg\+xml/);
    const svg = load(response.body.toString(), { xml: true });
    expect(svg('title').text()).toBe(`build: ${status}`);
    expect(svg('g').first().attr('fill')).toBe(color);
  });

  it('names at most three failed jobs, as Prow does', () => {
    const failed = ['d', 'a', 'c', 'b'].map((job) => moveTo(makeJob({ job }), 'failure'));
    expect(badgeStatus(failed)).toEqual({ status: 'failing a, b, c, ...', color: '#e05d44' });
  });

  it.each<[string, string, boolean]>([
    ['pull-*', 'pull-widgets-unit', true],
    ['pull-*', 'team/pull-widgets', false],
    ['pull-widgets-?nit', 'pull-widgets-unit', true],
    ['pull-[a-w]*', 'pull-widgets', true],
    ['pull-[^w]*', 'pull-widgets', false],
    ['pull.unit', 'pull-unit', false],
  ])('matches %s against %s as Go’s filepath.Match does: %s', (glob, name, matches) => {
    expect(globPattern(glob).test(name)).toBe(matches);
  });
});

describe('/command-help and /configured-jobs/<org>/<repo>', () => {
  it('lists the comment commands and each repository the config gives Jenkins jobs', async () => {
    const $ = await page('/command-help');
    expect($('#commands code').map((_, c) => $(c).text()).get()).toEqual(expect.arrayContaining(['/test <job>', '/test all', '/test ?', '/retest', '/ok-to-test']));
    expect($('#repos a').map((_, a) => $(a).attr('href')).get()).toEqual(['/configured-jobs/acme/widgets']);
    expect($('#periodics a').text()).toBe('nightly');
  });

  it('shows what /test ? answers on the repository, and each Jenkins job’s settings', async () => {
    const $ = await page('/configured-jobs/acme/widgets');
    const help = $('#test-help');
    expect(help.find('p').first().text()).toBe('The following commands are available to trigger required jobs:');
    expect(help.find('ul').first().find('code').map((_, c) => $(c).text()).get()).toEqual(['/test pull-widgets-docs', '/test pull-widgets-unit']);
    expect(help.find('ul').eq(1).find('code').map((_, c) => $(c).text()).get()).toEqual(['/test pull-widgets-lint']);
    const rows = $('#presubmits tbody tr').map((_, row) => [$(row).find('td').map((_, cell) => $(cell).text()).get()]).get() as unknown as string[][];
    expect(rows).toEqual([
      ['pull-widgets-unit', '/test pull-widgets-unit', 'on every push', 'required', 'all', 'ci/unit'],
      ['pull-widgets-lint', '/test pull-widgets-lint', 'on every push', 'optional', 'all', 'ci/lint'],
      ['pull-widgets-docs', '/test pull-widgets-docs', 'when files change (^docs/)', 'required', 'main', 'ci/docs'],
    ]);
    expect($('#postsubmits tbody td a').text()).toBe('post-widgets-publish');
    // The kubernetes job belongs to another Prow.
    expect($('main').text()).not.toContain('pull-widgets-k8s');
  });

  it('answers 404 for a repository the config gives no jobs', async () => {
    const $ = await page('/configured-jobs/acme/nothing', 404);
    expect($('main').text()).toContain('The config gives acme/nothing no jobs.');
  });

  it('follows a config reload without a restart', async () => {
    try {
      config = parseConfig('presubmits:\n  acme/gadgets:\n  - name: pull-gadgets-unit\n    agent: jenkins\n    always_run: true\n', 'config.yaml');
      expect((await page('/command-help'))('#repos a').map((_, a) => a.attribs.href).get()).toEqual(['/configured-jobs/acme/gadgets']);
      await page('/configured-jobs/acme/widgets', 404);
    } finally {
      config = DECK_CONFIG;
    }
  });
});

describe('the history pages with jobs still in the bucket', () => {
  it('lists on /job-history the runs the sinker has not recorded yet, linked to their ProwJob and log', async () => {
    const $ = await page('/job-history/pull-widgets-unit');
    expect($('table.runs tbody tr').map((_, row) => $(row).attr('id')).get()).toEqual([`run-${newerUnit.metadata.name}`, `run-${unit.metadata.name}`]);
    expect($(`#run-${unit.metadata.name} a[href="/prowjob/${unit.metadata.name}"]`)).toHaveLength(1);
    expect($(`#run-${unit.metadata.name} a[href="/log/${unit.metadata.name}"]`)).toHaveLength(1);
  });

  it('shows the live runs of a pull request on /pr, linked to their ProwJobs', async () => {
    const $ = await page('/pr/acme/widgets/2');
    expect($('#head-jobs tbody tr').map((_, row) => $(row).attr('data-job')).get()).toEqual(['pull-widgets-docs', 'pull-widgets-e2e', 'pull-widgets-unit']);
    expect($('#pr-grid a.run').map((_, a) => $(a).attr('href')).get()).toEqual(
      [aborted, e2e, newerUnit].map((job) => `/prowjob/${job.metadata.name}`),
    );
  });

  it('refuses a page cursor that is not a number', async () => {
    await page('/job-history/pull-widgets-unit?before=abc', 400);
  });
});
