import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import type { ProwJob } from '@bowline/prowjob';
import { startDeckServer, type DeckServer } from './deck-server.js';
import { makeJob } from './jobs.js';

// Prow's TestHandleProwJobsWithFilter's jobs (cmd/deck/main_test.go), by the names it gives them.
// Bowline's jobs have no extra_refs, so the cases that match on them are left out.
function withSecondAuthor(job: ProwJob, author: string): ProwJob {
  const pulls = [...job.spec.refs.pulls!, { ...job.spec.refs.pulls![0]!, number: 2, author }];
  return { ...job, spec: { ...job.spec, refs: { ...job.spec.refs, pulls } } };
}
const JOBS: Record<string, ProwJob> = {
  fullref: makeJob({ minute: 1, org: 'amazingk8s', repo: 'pizzacontroller', author: 'someone' }),
  differentorg: makeJob({ minute: 2, org: 'otherk8s', repo: 'pizzacontroller', author: 'someone' }),
  nullref: makeJob({ minute: 3, type: 'periodic' }),
  noowner: makeJob({ minute: 4, type: 'postsubmit', org: 'amazingk8s', repo: 'pizzacontroller' }),
  multiowner: withSecondAuthor(makeJob({ minute: 5, org: 'amazingk8s', repo: 'pizzacontroller', author: 'someone' }), 'anotherone'),
};
const nameOf = new Map(Object.entries(JOBS).map(([key, job]) => [job.metadata.name, key]));

let deck: DeckServer;

beforeAll(async () => {
  deck = await startDeckServer(Object.values(JOBS));
});

afterAll(async () => {
  await deck.stop();
});

async function items(query: string): Promise<ProwJob[]> {
  const response = await request(deck.app).get(`/prowjobs.js${query}`).expect(200).expect('content-type', /application\/json/);
  return (JSON.parse(response.text) as { items: ProwJob[] }).items;
}

describe('/prowjobs.js, Deck’s data endpoint', () => {
  // Prow's TestHandleProwJobsWithFilter.
  it.each<[string, string, string[]]>([
    ['no filter should return all the tests', '', ['multiowner', 'noowner', 'nullref', 'differentorg', 'fullref']],
    ['owner filter should return just jobs with the right owner', '?owner=anotherone', ['multiowner']],
    ['owner and org filter should return just jobs with the right owner and org', '?owner=someone&org=amazingk8s', ['multiowner', 'fullref']],
    ['owner, org and repo filter should return just jobs the right job', '?owner=someone&org=otherk8s&repo=pizzacontroller', ['differentorg']],
    ['org filter should return the jobs of that org', '?org=amazingk8s', ['multiowner', 'noowner', 'fullref']],
    ['repo filter should return the jobs of that repo in any org', '?repo=pizzacontroller', ['multiowner', 'noowner', 'differentorg', 'fullref']],
    ['org filter matches exactly: no wildcards, case counts', '?org=AmazingK8s', []],
  ])('%s', async (_, query, expected) => {
    expect((await items(query)).map((job) => nameOf.get(job.metadata.name))).toEqual(expected);
  });

  it('lists each job as stored, newest first', async () => {
    const listed = await items('');
    expect(listed[0]).toEqual(JOBS.multiowner);
    expect(listed[4]).toEqual(JOBS.fullref);
  });

  it('lists a periodic without refs, as Prow’s are nil', async () => {
    const periodic = (await items('')).find((job) => nameOf.get(job.metadata.name) === 'nullref')!;
    expect(periodic.spec).not.toHaveProperty('refs');
    expect(periodic.spec.job).toBe('nightly');
  });

  // Prow's TestHandleProwJobs: the fields in `omit` are left out of every job.
  it('omits annotations and labels, and accepts decoration_config and pod_spec, which a Jenkins job has not', async () => {
    const listed = await items('?omit=annotations,labels,decoration_config,pod_spec');
    expect(listed).toHaveLength(5);
    for (const job of listed) {
      expect(job.metadata).not.toHaveProperty('annotations');
      expect(job.metadata).not.toHaveProperty('labels');
      expect(job.spec).not.toHaveProperty('decoration_config');
      expect(job.spec).not.toHaveProperty('pod_spec');
    }
    const { annotations: _annotations, labels: _labels, ...metadata } = JOBS.multiowner!.metadata;
    expect(listed[0]).toEqual({ ...JOBS.multiowner, metadata });
  });

  it.each<[string, string, (job: ProwJob) => void]>([
    ['annotations', '?omit=annotations', (job) => expect(job.metadata.labels).toBeDefined()],
    ['labels', '?omit=labels', (job) => expect(job.metadata.annotations).toBeDefined()],
  ])('omits %s alone', async (field, query, rest) => {
    const [job] = await items(query);
    expect(job!.metadata).not.toHaveProperty(field);
    rest(job!);
  });

  it('answers var=allBuilds as the script `var allBuilds = {…};` that Deck’s page loads', async () => {
    const response = await request(deck.app).get('/prowjobs.js?var=allBuilds&org=otherk8s').expect(200).expect('content-type', /application\/javascript/);
    const match = /^var allBuilds = (.*);$/s.exec(response.text);
    expect(match).not.toBeNull();
    expect(JSON.parse(match![1]!)).toEqual({ items: [JOBS.differentorg] });
  });

  it.each(['alert(1)//', 'all builds', '1st', 'a;b'])('refuses var=%s, which is not a JavaScript name', async (name) => {
    const response = await request(deck.app).get(`/prowjobs.js?var=${encodeURIComponent(name)}`).expect(400).expect('content-type', /text\/plain/);
    expect(response.text).toContain('var must be a JavaScript name');
  });

  it('is never cached, as Prow’s deck sends it', async () => {
    const response = await request(deck.app).get('/prowjobs.js').expect(200);
    expect(response.headers['cache-control']).toBe('no-store, must-revalidate');
    expect(response.headers.expires).toBe('0');
  });

  it('answers {"items":[]} when nothing matches', async () => {
    const response = await request(deck.app).get('/prowjobs.js?org=nobody').expect(200);
    expect(response.text).toBe('{"items":[]}');
  });
});
