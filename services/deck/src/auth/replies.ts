import type { Request, Response } from 'express';
import { html } from '../html.js';
import { page, sendPage } from '../layout.js';

/**
 * A refusal or an error the person acted on: a page saying why with a way back for a browser,
 * JSON for a script that asked for it, and the status for both.
 */
export function sendRefusal(req: Request, res: Response, status: number, title: string, reason: string, back = '/'): void {
  if (req.accepts(['html', 'json']) === 'json') {
    res.status(status).set('cache-control', 'no-store').json({ error: reason });
    return;
  }
  sendPage(res, page(title, html`<h1>${title}</h1><p id="reason">${reason}</p><p><a href="${back}">Back</a></p>`), status);
}
