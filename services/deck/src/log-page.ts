import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Request, Response } from 'express';
import type { Logger } from '@bowline/observability';
import type { ProwJob } from '@bowline/prowjob';
import { actionSlot } from './auth/action-slot.js';
import { escapeHtml, html, linkTo } from './html.js';
import { page, PAGE_HEADERS, sendPage, startPage } from './layout.js';

/** Where the jenkins-operator serves build logs (`GET /logs/<prowjob>`, its logs-route.ts). */
export interface LogSource {
  /** `DECK_OPERATOR_URL`, without a trailing slash; undefined when the deck is given none. */
  operatorUrl?: string;
  /** Sent as a bearer token, for an operator that answers only callers it knows. */
  operatorToken?: string;
}

/**
 * `/log/<name>`: the build's console as the jenkins-operator streams it from Jenkins, passed on as
 * it comes (a log of hundreds of megabytes is never held whole), each piece HTML-escaped, inside
 * a page that links to the same build in Jenkins. The page's head goes out before the first line,
 * so a long build's log shows while it is read.
 */
export async function sendLogPage(req: Request, res: Response, job: ProwJob, source: LogSource, logger: Logger): Promise<void> {
  const name = job.metadata.name;
  const title = `Build log of ${job.spec.job}`;
  const header = html`<h1>${title}</h1>
<p><span class="state state-${job.status.state}">${job.status.state}</span> ${job.spec.job} · <a href="/prowjob/${encodeURIComponent(name)}" aria-label="ProwJob of ${job.spec.job}: ${name}">ProwJob</a>${
    job.status.url ? html` · ${linkTo(job.status.url, 'The build in Jenkins', html` id="jenkins-build"`)}` : ''
  } ${actionSlot({ name, job: job.spec.job, repo: job.spec.refs.org ? `${job.spec.refs.org}/${job.spec.refs.repo}` : '', state: job.status.state })}</p>`;
  const problem = (status: number, text: string): void => sendPage(res, page(title, html`${header}<p class="notice" role="alert">${text}</p>`), status);

  if (!source.operatorUrl) return problem(503, 'This deck is not given the jenkins-operator’s address (DECK_OPERATOR_URL), so it cannot show build logs. The build’s own page in Jenkins has it.');
  const reading = new AbortController();
  res.once('close', () => reading.abort());
  let answer: globalThis.Response;
  try {
    answer = await fetch(`${source.operatorUrl}/logs/${encodeURIComponent(name)}`, {
      signal: reading.signal,
      headers: source.operatorToken ? { authorization: `Bearer ${source.operatorToken}` } : {},
    });
  } catch (error) {
    if (reading.signal.aborted) return;
    logger.warn({ err: error, prowjob: name }, 'cannot reach the jenkins-operator for a build log');
    return problem(502, 'The jenkins-operator cannot be reached, so the log cannot be shown now. Try again in a moment, or open the build in Jenkins.');
  }
  if (answer.status !== 200 || !answer.body) {
    const text = (await answer.text().catch(() => '')).trim();
    // The operator's 404s say why there is no log: no build yet, or Jenkins no longer keeps it.
    if (answer.status === 404) return problem(404, text || `There is no log of ${name}.`);
    logger.warn({ prowjob: name, status: answer.status }, 'the jenkins-operator did not give a build log');
    return problem(502, `The jenkins-operator could not give the log (${answer.status}${text ? `: ${text}` : ''}).`);
  }

  const [head, tail] = startPage(title, html`${header}
<pre class="log" id="log" tabindex="0" aria-label="Console output">`, html`</pre>
<p class="muted">End of the log.</p>`);
  // Proxies such as nginx would otherwise hold the log back in their buffers.
  res.status(200).set({ ...PAGE_HEADERS, 'x-accel-buffering': 'no' }).type('html');
  res.write(head);
  try {
    await pipeline(Readable.fromWeb(answer.body), escapeStream(), res, { end: false });
    res.end(tail);
  } catch (error) {
    if (reading.signal.aborted) return;
    logger.warn({ err: error, prowjob: name }, 'the build log stopped part way');
    res.end(html`</pre><p class="notice" role="alert">The log stopped part way: the jenkins-operator or Jenkins went away. Reload to read it again.</p>`.text);
  }
}

/** Bytes of UTF-8 in, escaped text out; a character split between two chunks is kept whole. */
function escapeStream(): Transform {
  const decoder = new TextDecoder('utf-8');
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      done(null, escapeHtml(decoder.decode(chunk, { stream: true })));
    },
    flush(done) {
      done(null, escapeHtml(decoder.decode()));
    },
  });
}
