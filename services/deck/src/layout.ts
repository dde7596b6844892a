import type { Response } from 'express';
import { Html, html } from './html.js';

/**
 * Scripts and styles only from the deck's own files: no inline script or style can run, so
 * text that slipped past escaping still could not execute.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** The page around every view: the stylesheet, the script, the header. */
export function page(title: string, body: Html, options: { script?: string } = {}): Html {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · Bowline deck</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/static/deck.css">
${options.script ? html`<script src="/static/${options.script}" defer></script>` : ''}
<script src="/static/deck-actions.js" defer></script>
</head>
<body>
<header class="top"><a class="brand" href="/">Bowline deck</a><nav aria-label="Deck"><a href="/">Jobs</a> <a href="/command-help">Command help</a> <a href="/prowjobs.js">prowjobs.js</a> <span id="deck-account"></span></nav></header>
<main>
${body}
</main>
</body>
</html>
`;
}

/** The headers every deck page has. */
export const PAGE_HEADERS = { 'content-security-policy': CONTENT_SECURITY_POLICY, 'cache-control': 'no-store' };

/** Sends a page with the headers every deck page has. */
export function sendPage(res: Response, content: Html, status = 200): void {
  res.status(status).set(PAGE_HEADERS).type('html').send(content.text);
}

/**
 * A page sent in pieces (a streamed log): sets the headers and answers the markup before and after
 * the streamed part, which the caller writes between them, escaped.
 */
export function startPage(title: string, before: Html, after: Html): [string, string] {
  const MARK = '\u0000streamed\u0000';
  const whole = page(title, html`${before}${new Html(MARK)}${after}`).text;
  const at = whole.indexOf(MARK);
  return [whole.slice(0, at), whole.slice(at + MARK.length)];
}

export function notFoundPage(what: string): Html {
  return page('Not found', html`<h1>Not found</h1><p>${what}</p><p><a href="/">Back to the job list</a></p>`);
}
