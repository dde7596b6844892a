import type { Response } from 'express';
import { html, type Html } from './html.js';

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
<header class="top"><a class="brand" href="/">Bowline deck</a><nav aria-label="Deck"><a href="/">Jobs</a> <a href="/prowjobs.js">prowjobs.js</a> <span id="deck-account"></span></nav></header>
<main>
${body}
</main>
</body>
</html>
`;
}

/** Sends a page with the headers every deck page has. */
export function sendPage(res: Response, content: Html, status = 200): void {
  res.status(status).set({ 'content-security-policy': CONTENT_SECURITY_POLICY, 'cache-control': 'no-store' }).type('html').send(content.text);
}

export function notFoundPage(what: string): Html {
  return page('Not found', html`<h1>Not found</h1><p>${what}</p><p><a href="/">Back to the job list</a></p>`);
}
