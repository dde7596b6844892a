import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { load } from 'cheerio';
import request from 'supertest';
import { parse } from 'yaml';
import type { ProwJob } from '@bowline/prowjob';
import { startDeckServer, type DeckServer } from './deck-server.js';
import { makeJob } from './jobs.js';

const SCRIPT = '<script>alert("job")</script>';
const AUTHOR = '<img src=x onerror=alert(1)>';
const TITLE = '"><script>alert(\'title\')</script>';

/** A job whose every text a pull request's author controls is markup, and whose links are script. */
function hostileJob(): ProwJob {
  const job = makeJob({ job: SCRIPT, author: AUTHOR, title: TITLE, branch: 'main', state: 'failure' });
  const refs = job.spec.refs;
  const pull = { ...refs.pulls![0]!, link: 'javascript:alert(1)', author_link: 'javascript:alert(2)' };
  return { ...job, spec: { ...job.spec, refs: { ...refs, pulls: [pull] } }, status: { ...job.status, description: SCRIPT, url: 'javascript:alert(3)' } };
}

const hostile = hostileJob();
const plain = makeJob({ job: 'pull-widgets-unit', pr: 4, state: 'pending' });

let deck: DeckServer;

beforeAll(async () => {
  deck = await startDeckServer([hostile, plain]);
});

afterAll(async () => {
  await deck.stop();
});

describe('escaping', () => {
  it.each([
    ['the job list', '/'],
    ['the job list filtered by that job', `/?job=${encodeURIComponent(SCRIPT)}`],
    ['the ProwJob page', `/prowjob/${hostile.metadata.name}`],
  ])('renders markup in job names, authors, titles and descriptions as text on %s', async (_, path) => {
    const response = await request(deck.app).get(path).expect(200);
    expect(response.text).not.toContain(SCRIPT);
    expect(response.text).not.toContain(AUTHOR);
    const $ = load(response.text);
    expect($('script').map((_, s) => $(s).attr('src')).get()).toEqual(path.startsWith('/prowjob/') ? ['/static/deck-actions.js'] : ['/static/deck.js', '/static/deck-actions.js']);
    expect($('img')).toHaveLength(0);
    expect($('a[href^="javascript:"]')).toHaveLength(0);
    expect($('main').text()).toContain(SCRIPT);
  });

  it('shows a job’s hostile fields as their text in its row, and links none of its script links', async () => {
    const $ = load((await request(deck.app).get('/').expect(200)).text);
    const cells = $(`#job-${hostile.metadata.name} td`);
    expect(cells.eq(0).find('span').attr('title')).toBe(SCRIPT);
    expect(cells.eq(1).find('a').text()).toBe(SCRIPT);
    expect(cells.eq(3).text()).toBe('#1');
    expect(cells.eq(3).find('a')).toHaveLength(0);
    expect(cells.eq(5).text()).toBe(AUTHOR);
    expect(cells.eq(8).find('a')).toHaveLength(0);
    expect(cells.eq(9).text()).toBe(`/test ${SCRIPT}`);
    expect($(`#choices-author option`).map((_, o) => $(o).attr('value')).get()).toContain(AUTHOR);
  });

  it('keeps a hostile filter value inside its field', async () => {
    const $ = load((await request(deck.app).get(`/?author=${encodeURIComponent(TITLE)}`).expect(200)).text);
    expect($('#filter-author').val()).toBe(TITLE);
    expect($('script:not([src])')).toHaveLength(0);
  });
});

describe('/prowjob/<name>', () => {
  it('shows the ProwJob as YAML that reads back as the stored job, with a link to its Jenkins build', async () => {
    const $ = load((await request(deck.app).get(`/prowjob/${plain.metadata.name}`).expect(200).expect('content-type', /html/)).text);
    expect(parse($('pre.yaml').text())).toEqual(plain);
    expect($('main a').map((_, a) => $(a).attr('href')).get()).toEqual([plain.status.url, `/prowjob?prowjob=${plain.metadata.name}`]);
  });

  it('answers 404 with a page for a job it does not have', async () => {
    const response = await request(deck.app).get('/prowjob/no-such-job').expect(404);
    expect(load(response.text)('main').text()).toContain('There is no ProwJob named no-such-job.');
  });
});

// Prow's TestProwJob (cmd/deck/main_test.go): /prowjob?prowjob=<name> answers the job as YAML.
describe('/prowjob?prowjob=<name>, Prow’s address', () => {
  it('answers the job as plain YAML, not cached', async () => {
    const response = await request(deck.app).get(`/prowjob?prowjob=${plain.metadata.name}`).expect(200).expect('content-type', /text\/plain/);
    expect(response.headers['cache-control']).toBe('no-store, must-revalidate');
    const job = parse(response.text) as ProwJob;
    expect(job.spec.job).toBe('pull-widgets-unit');
    expect(job.status.state).toBe('pending');
  });

  it.each([
    ['without a name', '/prowjob', 400, "request did not provide the 'prowjob' query parameter"],
    ['for a job it does not have', '/prowjob?prowjob=nope', 404, 'ProwJob not found: nope'],
  ])('answers an error %s', async (_, path, status, text) => {
    const response = await request(deck.app).get(path).expect(status);
    expect(response.text.trim()).toBe(text);
  });
});
