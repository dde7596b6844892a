import type { Server } from 'node:http';
import type { Request, Response } from 'express';
import { Gauge, type Registry } from 'prom-client';
import type { Logger } from '@bowline/observability';
import { jobMatcher, readFilters, type JobFilters } from './filters.js';
import type { JobIndex } from './job-index.js';
import { listJobs } from './job-list.js';
import { jobView, type LinkSettings } from './job-view.js';
import { jobRow, summary } from './list-page.js';
import { everything, type Scope } from './visibility.js';

export interface LiveUpdatesOptions {
  index: JobIndex;
  links: LinkSettings;
  limit: number;
  logger: Logger;
  registry: Registry;
  /** Changes are gathered for this long and sent together: one message for a burst of them. */
  batchMs?: number;
  /** A comment this often keeps proxies from closing a quiet stream. */
  keepAliveMs?: number;
}

/** One message to a page: rows to put in place, rows to take out, and the new summary. */
export interface JobsMessage {
  rows: { name: string; html: string }[];
  removed: string[];
  summary: string;
}

interface Client {
  res: Response;
  filters: JobFilters;
  matches: ReturnType<typeof jobMatcher>;
  pending: Set<string>;
  /** The jobs this page's caller may see: others' changes are never sent, not even their names. */
  scope: Scope;
  server: Server | undefined;
}

/**
 * `/events`: Server-Sent Events that keep a job list up to date. A page connects with its filters
 * and the revision it shows (`since`, or `Last-Event-ID` when the browser reconnects); it is sent
 * what changed since then and every change after, as rows rendered here, so the page's script
 * only puts markup in place. A page too far behind is told to `reload`.
 */
export class LiveUpdates {
  private readonly clients = new Set<Client>();
  private readonly timer: NodeJS.Timeout;
  private readonly keepAlive: NodeJS.Timeout;
  private readonly unsubscribe: () => void;
  private readonly connected: Gauge;

  constructor(private readonly options: LiveUpdatesOptions) {
    this.connected = new Gauge({ name: 'bowline_deck_live_clients', help: 'Pages connected to the deck’s live updates', registers: [options.registry] });
    this.unsubscribe = options.index.subscribe(({ name }) => {
      for (const client of this.clients) client.pending.add(name);
    });
    this.timer = setInterval(() => this.flush(), options.batchMs ?? 250);
    this.keepAlive = setInterval(() => this.ping(), options.keepAliveMs ?? 15_000);
  }

  readonly handle = (req: Request, res: Response): void => {
    const filters = readFilters(req.query);
    const since = Number(req.get('last-event-id') ?? req.query.since ?? this.options.index.revision);
    res.status(200).set({
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      // Proxies such as nginx would otherwise hold the stream back in their buffers.
      'x-accel-buffering': 'no',
      // The connection closes with the stream: one left idle after a stop would hold the server
      // open until its keep-alive timeout.
      connection: 'close',
    });
    res.flushHeaders();
    const changed = Number.isFinite(since) ? this.options.index.changedSince(since) : undefined;
    if (!changed) {
      res.write(`event: reload\ndata: {}\n\n`);
      res.end();
      return;
    }
    // The stream's socket belongs to the service's HTTP server, whose close() waits for open
    // responses: streams end once it stops listening (see flush), so a stop takes no longer.
    const server = (req.socket as { server?: Server }).server;
    const scope = (res.locals.scope as Scope | undefined) ?? everything(this.options.index);
    const client: Client = { res, filters, matches: jobMatcher(filters), pending: changed, scope, server };
    this.clients.add(client);
    this.connected.set(this.clients.size);
    // No id yet: until the changes since `since` are sent, a reconnect must ask from there again.
    res.write('retry: 2000\n\n');
    req.on('close', () => {
      this.clients.delete(client);
      this.connected.set(this.clients.size);
    });
  };

  /** Ends every stream; the pages reconnect to another replica or to this one when it is back. */
  stop(): void {
    clearInterval(this.timer);
    clearInterval(this.keepAlive);
    this.unsubscribe();
    for (const client of this.clients) client.res.end();
    this.clients.clear();
    this.connected.set(0);
  }

  private flush(): void {
    for (const client of this.clients) {
      if (client.server && !client.server.listening) {
        client.res.end();
        this.clients.delete(client);
        continue;
      }
      if (client.pending.size === 0) continue;
      const names = client.pending;
      client.pending = new Set();
      try {
        client.res.write(`id: ${this.options.index.revision}\nevent: jobs\ndata: ${JSON.stringify(this.message(client, names))}\n\n`);
      } catch (error) {
        this.options.logger.error({ err: error }, 'cannot send a live update');
      }
    }
    this.connected.set(this.clients.size);
  }

  private message(client: Client, names: Set<string>): JobsMessage {
    const { index, links, limit } = this.options;
    const { jobs, job: visible } = client.scope;
    const rows: JobsMessage['rows'] = [];
    const removed: string[] = [];
    for (const name of names) {
      const job = index.get(name);
      // A deleted job cannot be told apart by tenant: only a page that sees everything hears of it.
      if (job ? !visible(job) : jobs !== index) continue;
      if (job && client.matches(job)) rows.push({ name, html: jobRow(jobView(job, links)).text });
      else removed.push(name);
    }
    return { rows, removed, summary: summary(listJobs(jobs.all(), client.filters, limit), client.filters, limit).text };
  }

  private ping(): void {
    for (const client of this.clients) client.res.write(': keep-alive\n\n');
  }
}
