import express, { type Express, type Request } from 'express';
import type { Logger } from '@bowline/observability';
import type { GitHubOAuth } from './github-oauth.js';
import { sendRefusal } from './replies.js';
import { localPath } from './safe-redirect.js';
import { csrfMatches, type Sessions } from './session.js';

export interface SignInRoutesOptions {
  sessions: Sessions;
  oauth: GitHubOAuth;
  logger: Logger;
}

/**
 * `/auth/login` sends the browser to GitHub with a fresh `state`; `/auth/github/callback` takes it
 * back, checks the `state`, names the user and starts the session; `POST /auth/logout` ends it.
 * Every address the browser is sent on to is one of the deck's own (`localPath`).
 */
export function signInRoutes(options: SignInRoutesOptions): (app: Express) => void {
  const { sessions, oauth, logger } = options;
  return (app) => {
    app.get('/auth/login', (req, res) => {
      const state = sessions.beginSignIn(res, localPath(queryText(req, 'next')));
      res.set('cache-control', 'no-store').redirect(302, oauth.authorizeUrl(state));
    });

    app.get('/auth/github/callback', async (req, res) => {
      const signIn = sessions.finishSignIn(req, res, req.query.state);
      if (!signIn) {
        logger.warn({ reason: 'state' }, 'sign-in refused: its state is not the one this browser was sent to GitHub with');
        return sendRefusal(req, res, 400, 'Sign-in refused', 'This sign-in could not be checked: its state is not the one this browser was sent to GitHub with. Sign in again.');
      }
      const error = queryText(req, 'error');
      if (error) {
        logger.info({ reason: error }, 'sign-in not completed on GitHub');
        return sendRefusal(req, res, 400, 'Not signed in', `GitHub did not sign you in (${error}).`, signIn.next);
      }
      const code = queryText(req, 'code');
      if (!code) return sendRefusal(req, res, 400, 'Not signed in', 'GitHub sent no code back: sign in again.', signIn.next);
      let login: string;
      try {
        login = await oauth.loginFor(code);
      } catch (err) {
        logger.warn({ err }, 'sign-in failed at GitHub');
        return sendRefusal(req, res, 502, 'Not signed in', 'GitHub did not confirm who you are: sign in again.', signIn.next);
      }
      sessions.start(res, login);
      logger.info({ user: login }, 'signed in');
      res.set('cache-control', 'no-store').redirect(303, signIn.next);
    });

    app.post('/auth/logout', express.urlencoded({ extended: false, limit: '4kb' }), (req, res) => {
      const session = sessions.current(req);
      const body = (req.body ?? {}) as Record<string, unknown>;
      if (session && !csrfMatches(session, body.csrf)) return sendRefusal(req, res, 403, 'Not signed out', 'The form’s CSRF token is missing or does not match your session: reload the page and try again.');
      sessions.end(res);
      if (session) logger.info({ user: session.login }, 'signed out');
      res.redirect(303, localPath(body.next));
    });
  };
}

export function queryText(req: Request, name: string): string | undefined {
  const value = req.query[name];
  const first = Array.isArray(value) ? value[0] : value;
  return typeof first === 'string' && first !== '' ? first : undefined;
}
