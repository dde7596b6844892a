import { afterEach, describe, expect, it } from '@jest/globals';
import { load } from 'cheerio';
import type { ProwJob } from '@bowline/prowjob';
import { waitFor } from '@bowline/testing';
import type { JobsMessage } from '../src/live-updates.js';
import { startDeckServer, type DeckServer } from './deck-server.js';
import { makeJob, moveTo } from './jobs.js';

interface ServerSentEvent {
  event: string;
  id?: string;
  data: string;
}

/** An `/events` stream read as a browser's EventSource reads it: events, in order. */
class EventStream {
  readonly events: ServerSentEvent[] = [];
  ended = false;
  private readonly controller = new AbortController();

  static async open(url: string, headers: Record<string, string> = {}): Promise<EventStream> {
    const stream = new EventStream();
    const response = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: stream.controller.signal });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    void stream.read(response.body!);
    return stream;
  }

  private async read(body: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of body) {
        buffer += decoder.decode(chunk, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const fields = block.split('\n').filter((line) => !line.startsWith(':') && line.includes(':'));
          const field = (name: string) => fields.find((line) => line.startsWith(`${name}:`))?.slice(name.length + 1).trim();
          if (field('data') !== undefined) this.events.push({ event: field('event') ?? 'message', id: field('id'), data: field('data')! });
        }
      }
    } catch {
      // Closed by close().
    }
    this.ended = true;
  }

  /** The `jobs` messages received so far. */
  messages(): JobsMessage[] {
    return this.events.filter((e) => e.event === 'jobs').map((e) => JSON.parse(e.data) as JobsMessage);
  }

  async nextMessage(what: string, test: (message: JobsMessage) => boolean): Promise<JobsMessage> {
    return waitFor(what, () => this.messages().find(test), { timeoutMs: 10_000 });
  }

  close(): void {
    this.controller.abort();
  }
}

const running: { deck?: DeckServer; streams: EventStream[] } = { streams: [] };

async function deckWith(jobs: ProwJob[], recentChanges?: number): Promise<DeckServer> {
  running.deck = await startDeckServer(jobs, {}, recentChanges);
  return running.deck;
}

async function events(deck: DeckServer, query: string, headers?: Record<string, string>): Promise<EventStream> {
  const stream = await EventStream.open(`${deck.url}/events${query}`, headers);
  running.streams.push(stream);
  return stream;
}

afterEach(async () => {
  for (const stream of running.streams.splice(0)) stream.close();
  await running.deck?.stop();
  running.deck = undefined;
});

const rowState = (html: string) => load(`<table>${html}</table>`)('tr').attr('data-state');

describe('live updates at /events', () => {
  it('sends a job’s new row and the new counts when it changes state in the bucket', async () => {
    const job = makeJob({ job: 'pull-widgets-unit', state: 'pending' });
    const deck = await deckWith([job]);
    const stream = await events(deck, `?since=${deck.deck.index.revision}`);
    await deck.store.update(job.metadata.name, (current) => moveTo(current, 'success'));
    const message = await stream.nextMessage('the job’s new row', (m) => m.rows.some((row) => row.name === job.metadata.name));
    expect(rowState(message.rows[0]!.html)).toBe('success');
    expect(load(message.summary)('.state-counts').text()).toContain('success 1');
    expect(stream.events.at(-1)!.id).toBe(String(deck.deck.index.revision));
  });

  it('sends the row of a job created after the page was rendered', async () => {
    const deck = await deckWith([]);
    const stream = await events(deck, `?since=${deck.deck.index.revision}`);
    const job = makeJob({ job: 'pull-widgets-lint' });
    await deck.store.create(job);
    const message = await stream.nextMessage('the new job’s row', (m) => m.rows.length > 0);
    expect(message.rows.map((row) => row.name)).toEqual([job.metadata.name]);
    expect(load(message.summary)('#shown-count').text()).toBe('1 job');
  });

  it('takes a job out of a filtered page once it no longer matches, and out of every page once deleted', async () => {
    const job = makeJob({ state: 'pending' });
    const deck = await deckWith([job]);
    const pendingOnly = await events(deck, `?state=pending&since=${deck.deck.index.revision}`);
    const everything = await events(deck, `?since=${deck.deck.index.revision}`);
    await deck.store.update(job.metadata.name, (current) => moveTo(current, 'failure'));
    await pendingOnly.nextMessage('the job taken out', (m) => m.removed.includes(job.metadata.name));
    await everything.nextMessage('the job’s failure', (m) => m.rows.some((row) => rowState(row.html) === 'failure'));
    await deck.store.delete(job.metadata.name);
    await everything.nextMessage('the deleted job taken out', (m) => m.removed.includes(job.metadata.name));
  });

  it('sends a page that connects late what changed since its revision', async () => {
    const job = makeJob({ state: 'pending' });
    const deck = await deckWith([job]);
    const rendered = deck.deck.index.revision;
    await deck.store.update(job.metadata.name, (current) => moveTo(current, 'aborted'));
    await waitFor('the change in the index', () => deck.deck.index.revision > rendered);
    const stream = await events(deck, `?since=${rendered}`);
    const message = await stream.nextMessage('the missed change', (m) => m.rows.length > 0);
    expect(rowState(message.rows[0]!.html)).toBe('aborted');
  });

  it('follows Last-Event-ID over the page’s revision when the browser reconnects', async () => {
    const first = makeJob({ state: 'pending', minute: 1 });
    const second = makeJob({ state: 'pending', minute: 2 });
    const deck = await deckWith([first, second]);
    const rendered = deck.deck.index.revision;
    await deck.store.update(first.metadata.name, (current) => moveTo(current, 'success'));
    await waitFor('the first change in the index', () => deck.deck.index.revision > rendered);
    const seen = deck.deck.index.revision;
    await deck.store.update(second.metadata.name, (current) => moveTo(current, 'success'));
    await waitFor('the second change in the index', () => deck.deck.index.revision > seen);
    const stream = await events(deck, `?since=${rendered}`, { 'last-event-id': String(seen) });
    const message = await stream.nextMessage('the change after the last event', (m) => m.rows.length > 0);
    expect(message.rows.map((row) => row.name)).toEqual([second.metadata.name]);
  });

  it('tells a page whose revision is older than the changes it keeps to reload', async () => {
    const job = makeJob({ state: 'pending' });
    const deck = await deckWith([job], 2);
    const rendered = deck.deck.index.revision;
    await deck.store.update(job.metadata.name, (current) => moveTo(current, 'success'));
    await deck.store.create(makeJob());
    await deck.store.create(makeJob());
    await waitFor('three changes in the index', () => deck.deck.index.revision >= rendered + 3);
    const stream = await events(deck, `?since=${rendered}`);
    await waitFor('the reload event', () => stream.events.find((e) => e.event === 'reload'));
    await waitFor('the stream to end', () => stream.ended);
  });

  it('ends its streams when the server stops, so a stop does not wait on open pages', async () => {
    const deck = await deckWith([makeJob()]);
    const stream = await events(deck, '');
    const stopping = Date.now();
    await deck.stop();
    running.deck = undefined;
    // Well under the 5 s an idle keep-alive connection would hold the server open.
    expect(Date.now() - stopping).toBeLessThan(2_000);
    await waitFor('the stream to end', () => stream.ended);
  });
});
