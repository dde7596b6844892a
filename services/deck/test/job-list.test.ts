import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { load } from 'cheerio';
import request from 'supertest';
import { startDeckServer, type DeckServer } from './deck-server.js';
import { makeJob } from './jobs.js';

// Five jobs, one of each kind the list shows, newest last here and first on the page.
const unit = makeJob({ minute: 1, job: 'pull-widgets-unit', pr: 1, author: 'alice', state: 'success', ranMinutes: 65, build: '11' });
const lint = makeJob({ minute: 2, job: 'pull-widgets-lint', pr: 2, author: 'bob', branch: 'release-1.0', state: 'failure' });
const publish = makeJob({ minute: 3, type: 'postsubmit', sha: 'd'.repeat(40), state: 'pending' });
const nightly = makeJob({ minute: 4, type: 'periodic' });
const gadgets = makeJob({ minute: 5, job: 'pull-gadgets-unit', repo: 'gadgets', pr: 7, author: 'alice', state: 'success' });
const ALL = [gadgets, nightly, publish, lint, unit];

let deck: DeckServer;

beforeAll(async () => {
  deck = await startDeckServer([unit, lint, publish, nightly, gadgets]);
});

afterAll(async () => {
  await deck.stop();
});

async function listed(query: string): Promise<{ names: string[]; $: ReturnType<typeof load> }> {
  const response = await request(deck.app).get(`/${query}`).expect(200).expect('content-type', /text\/html/);
  const $ = load(response.text);
  return { names: $('#jobs tbody tr').map((_, row) => $(row).attr('id')!.replace(/^job-/, '')).get(), $ };
}

describe('the job list at /', () => {
  it('lists every job newest first, as Prow’s deck orders them', async () => {
    expect((await listed('')).names).toEqual(ALL.map((job) => job.metadata.name));
  });

  it('shows a presubmit’s state, job, repository, pull request, revision, author, start, duration, build and rerun command', async () => {
    const { $ } = await listed('');
    const cells = $(`#job-${unit.metadata.name} td`);
    const cell = (i: number) => cells.eq(i);
    expect(cell(0).text()).toBe('success');
    expect(cell(1).find('a').attr('href')).toBe(`/prowjob/${unit.metadata.name}`);
    expect(cell(1).text()).toContain('pull-widgets-unit');
    expect(cell(2).find('a').attr('href')).toBe('https://github.com/acme/widgets');
    expect(cell(2).text()).toContain('main');
    expect(cell(3).find('a').attr('href')).toBe('https://github.com/acme/widgets/pull/1');
    expect(cell(3).find('a').attr('title')).toBe('Add a widget');
    expect(cell(4).find('a').attr('href')).toBe(`https://github.com/acme/widgets/pull/1/commits/${'a'.repeat(40)}`);
    expect(cell(4).text()).toBe('aaaaaaa');
    expect(cell(5).find('a').attr('href')).toBe('https://github.com/alice');
    expect(cell(6).find('time').attr('datetime')).toBe(unit.status.startTime);
    expect(cell(6).text()).toBe('2024-06-01 12:01:00');
    expect(cell(7).text()).toBe('1h5m');
    expect(cell(8).find('a').attr('href')).toBe('https://jenkins.example.com/job/pull-widgets-unit/11/');
    expect(cell(9).text()).toBe('/test pull-widgets-unit');
  });

  it('shows a postsubmit’s base commit and no duration while it runs, and a periodic without a repository', async () => {
    const { $ } = await listed('');
    const post = $(`#job-${publish.metadata.name} td`);
    expect(post.eq(4).find('a').attr('href')).toBe(`https://github.com/acme/widgets/commit/${'d'.repeat(40)}`);
    expect(post.eq(7).text()).toBe('');
    const periodic = $(`#job-${nightly.metadata.name} td`);
    expect(periodic.eq(2).text()).toBe('');
    expect(periodic.eq(2).find('a')).toHaveLength(0);
  });

  it.each<[string, string, typeof ALL]>([
    ['type', '?type=presubmit', [gadgets, lint, unit]],
    ['repository', '?repo=acme%2Fgadgets', [gadgets]],
    ['repository with a wildcard', '?repo=acme%2F*', [gadgets, publish, lint, unit]],
    ['pull request', '?pull=2', [lint]],
    ['author', '?author=alice', [gadgets, unit]],
    ['branch', '?branch=release-*', [lint]],
    ['state', '?state=success', [gadgets, unit]],
    ['job name exactly', '?job=pull-widgets-unit', [unit]],
    ['job name with a wildcard in the middle', '?job=pull-*-unit', [gadgets, unit]],
    ['job name with a leading wildcard', '?job=*-lint', [lint]],
    ['job name: a wildcard matches the whole name, not a part', '?job=pull-widgets', []],
    ['job name: case counts, as in Prow’s deck', '?job=PULL-*', []],
    ['several filters together', '?type=presubmit&author=alice&repo=acme%2Fwidgets', [unit]],
    ['empty fields, as the form sends them, filter nothing', '?type=&repo=&pull=&author=&branch=&state=&job=', ALL],
  ])('filters by %s', async (_, query, expected) => {
    expect((await listed(query)).names).toEqual(expected.map((job) => job.metadata.name));
  });

  it('keeps the filters in the form, so the page shows what it filters by', async () => {
    const { $ } = await listed('?type=presubmit&job=pull-*&author=alice');
    expect($('#filter-type option[selected]').text()).toBe('presubmit');
    expect($('#filter-job').val()).toBe('pull-*');
    expect($('#filter-author').val()).toBe('alice');
    expect($('#filters').attr('method')).toBe('get');
  });

  it('counts what is shown per state, each count a link to those jobs under the same filters', async () => {
    const { $ } = await listed('?repo=acme%2F*');
    expect($('#shown-count').text()).toBe('4 jobs');
    const counts = $('.state-counts li')
      .map((_, li) => $(li).text().trim())
      .get();
    expect(counts).toEqual(['pending 1', 'success 2', 'failure 1']);
    expect($('.state-counts a').first().attr('href')).toBe('/?repo=acme%2F*&state=pending');
    expect($('svg.state-bar rect')).toHaveLength(3);
  });

  it('shows the newest jobs up to its limit and says how many match', async () => {
    const small = await startDeckServer([unit, lint, publish], { maxRows: 2 });
    try {
      const response = await request(small.app).get('/').expect(200);
      const $ = load(response.text);
      expect($('#jobs tbody tr')).toHaveLength(2);
      expect($('#shown-count').text()).toBe('Showing the newest 2 of 3 jobs');
    } finally {
      await small.stop();
    }
  });

  it('suggests the repositories, authors, branches and jobs it knows in the filter fields', async () => {
    const { $ } = await listed('');
    const options = (name: string) => $(`#choices-${name} option`).map((_, o) => $(o).attr('value')).get();
    expect(options('repo')).toEqual(['acme/gadgets', 'acme/widgets']);
    expect(options('author')).toEqual(['alice', 'bob']);
    expect(options('branch')).toEqual(['main', 'release-1.0']);
    expect(options('job')).toEqual(['nightly', 'publish', 'pull-gadgets-unit', 'pull-widgets-lint', 'pull-widgets-unit']);
  });

  it('loads its script and stylesheet from files, and forbids inline script', async () => {
    const response = await request(deck.app).get('/').expect(200);
    expect(response.headers['content-security-policy']).toContain("script-src 'self'");
    const $ = load(response.text);
    expect($('script').attr('src')).toBe('/static/deck.js');
    expect($('script:not([src])')).toHaveLength(0);
    await request(deck.app).get('/static/deck.js').expect(200).expect('content-type', /javascript/);
    await request(deck.app).get('/static/deck.css').expect(200).expect('content-type', /css/);
    await request(deck.app).get('/static/nothing.js').expect(404);
  });

  it('answers /healthz, /readyz and /metrics beside its pages', async () => {
    await request(deck.app).get('/healthz').expect(200, 'ok');
    await request(deck.app).get('/readyz').expect(200);
    const metrics = await request(deck.app).get('/metrics').expect(200);
    expect(metrics.text).toMatch(/^bowline_deck_prowjobs(\{[^}]*\})? 5$/m);
  });
});
