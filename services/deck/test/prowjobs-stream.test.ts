import { get } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { hasRefs, type ProwJob } from '@bowline/prowjob';
import { prowJobsPieces, type ProwJobsQuery } from '../src/prowjobs-data.js';
import { startDeckServer, type DeckServer } from './deck-server.js';
import { makeJob } from './jobs.js';

// /prowjobs.js is written job by job (issue 18 item 4: one 25 MB string and its Buffer per request
// were most of the deck's memory at 20,000 jobs). These tests hold the streamed answer to the bytes
// the deck answered when it built one string.

/** The deck's former answer, built whole: the reference the stream must equal byte for byte. */
function wholeAnswer(jobs: readonly ProwJob[], query: ProwJobsQuery): string {
  const omit = new Set((query.omit ?? '').split(','));
  const items = jobs
    .filter((job) => !query.org || job.spec.refs?.org === query.org)
    .filter((job) => !query.repo || job.spec.refs?.repo === query.repo)
    .filter((job) => !query.owner || (job.spec.refs?.pulls ?? []).some((pull) => pull.author === query.owner))
    .map((job) => {
      const noRefs = job.spec.refs && !hasRefs(job.spec.refs);
      if (!noRefs && !omit.has('annotations') && !omit.has('labels')) return job;
      const metadata: Partial<ProwJob['metadata']> = { ...job.metadata };
      if (omit.has('annotations')) delete metadata.annotations;
      if (omit.has('labels')) delete metadata.labels;
      const spec: Partial<ProwJob['spec']> = { ...job.spec };
      if (noRefs) delete spec.refs;
      return { ...job, metadata, spec };
    });
  const json = JSON.stringify({ items });
  return query.var ? `var ${query.var} = ${json};` : json;
}

const JOBS: ProwJob[] = [
  // Enough jobs (about 170 KB) that the HTTP answer is several pieces.
  ...Array.from({ length: 120 }, (_, i) =>
    makeJob({ minute: 100 - i, org: i % 3 === 0 ? 'otherk8s' : 'acme', repo: i % 2 === 0 ? 'widgets' : 'gadgets', author: i % 5 === 0 ? 'bob' : 'alice', pr: i + 1, state: i % 4 === 0 ? 'failure' : 'success' }),
  ),
  makeJob({ minute: 1, type: 'periodic' }),
  makeJob({ minute: 2, type: 'postsubmit', title: 'Ünïcode “quotes” and </script>' }),
];

const QUERIES: [string, ProwJobsQuery][] = [
  ['no filter', {}],
  ['omit annotations and labels, as Deck’s page asks', { omit: 'annotations,labels,decoration_config,pod_spec' }],
  ['omit labels alone', { omit: 'labels' }],
  ['org', { org: 'otherk8s' }],
  ['org and repo', { org: 'acme', repo: 'gadgets' }],
  ['owner', { owner: 'bob' }],
  ['nothing matches', { org: 'nobody' }],
  ['var=allBuilds', { var: 'allBuilds' }],
  ['var=allBuilds with org and omit', { var: 'allBuilds', org: 'acme', omit: 'annotations' }],
];

describe('/prowjobs.js streamed', () => {
  it.each(QUERIES)('joins to the bytes of the answer built whole: %s', (_, query) => {
    const expected = wholeAnswer(JOBS, query);
    expect([...prowJobsPieces(JOBS, query)].join('')).toBe(expected);
    // With pieces of one job each, the joins between jobs are where the bytes could differ.
    const pieces = [...prowJobsPieces(JOBS, query, 1)];
    expect(pieces.join('')).toBe(expected);
    expect(pieces.length).toBe(JSON.parse(expected.replace(/^var \w+ = |;$/g, '')).items.length + 1);
  });

  it('never holds more than a piece and one job before writing', () => {
    const pieceChars = 4096;
    const longest = Math.max(...JOBS.map((job) => JSON.stringify(job).length));
    const pieces = [...prowJobsPieces(JOBS, {}, pieceChars)];
    expect(pieces.length).toBeGreaterThan(2);
    for (const piece of pieces) expect(piece.length).toBeLessThan(pieceChars + longest + 1);
  });

  describe('over HTTP', () => {
    let deck: DeckServer;
    beforeAll(async () => {
      deck = await startDeckServer(JOBS);
    });
    afterAll(async () => {
      await deck.stop();
    });

    it.each(QUERIES)('answers what the answer built whole was: %s', async (_, query) => {
      const params = new URLSearchParams(Object.entries(query) as [string, string][]);
      const response = await fetch(`${deck.url}/prowjobs.js?${params.toString()}`);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(query.var ? /^application\/javascript/ : /^application\/json/);
      expect(response.headers.get('cache-control')).toBe('no-store, must-revalidate');
      expect(await response.text()).toBe(wholeAnswer(deck.deck.index.all(), query));
    });

    it('keeps serving after a reader goes away halfway through', async () => {
      await new Promise<void>((resolve, reject) => {
        const request = get(`${deck.url}/prowjobs.js`, (response) => {
          response.once('data', () => {
            request.destroy();
            resolve();
          });
        });
        request.on('error', (error) => ((error as { code?: string }).code === 'ECONNRESET' ? resolve() : reject(error)));
      });
      const response = await fetch(`${deck.url}/prowjobs.js`);
      expect(await response.text()).toBe(wholeAnswer(deck.deck.index.all(), {}));
    });
  });
});
