import { BowlineError, describeError } from '@bowline/observability';
import type { AuthSettings } from './settings.js';

/** GitHub refused the code or could not be asked: the sign-in fails and is started again. */
export class SignInError extends BowlineError {}

const CALLBACK_PATH = '/auth/github/callback';

/**
 * The OAuth web flow's two calls to GitHub (docs: Authorizing OAuth apps): where to send the
 * browser, and the code exchanged for the user's login. Two requests, so plain fetch: the token
 * lives in this function and nowhere else; no scope is asked, which gives read access to public
 * information only (the login is all the deck wants).
 */
export class GitHubOAuth {
  constructor(
    private readonly settings: Pick<AuthSettings, 'clientId' | 'clientSecret' | 'githubUrl' | 'apiUrl' | 'deckUrl'>,
    private readonly fetchImpl: typeof fetch = fetch,
  ) {}

  authorizeUrl(state: string): string {
    const url = new URL(`${this.settings.githubUrl}/login/oauth/authorize`);
    url.searchParams.set('client_id', this.settings.clientId);
    if (this.settings.deckUrl) url.searchParams.set('redirect_uri', `${this.settings.deckUrl}${CALLBACK_PATH}`);
    url.searchParams.set('state', state);
    // "Whether or not unauthenticated users will be offered an option to sign up for GitHub".
    url.searchParams.set('allow_signup', 'false');
    return url.href;
  }

  /** The login of whoever GitHub gave `code` to; their token is used once and dropped. */
  async loginFor(code: string): Promise<string> {
    const token = await this.exchange(code);
    const answer = await this.call(`${this.settings.apiUrl}/user`, {
      headers: { accept: 'application/vnd.github+json', authorization: `Bearer ${token}`, 'user-agent': 'bowline-deck' },
    });
    if (!answer.ok) throw new SignInError(`GitHub answered ${answer.status} to GET /user`);
    const user = (await answer.json()) as { login?: unknown };
    if (typeof user.login !== 'string' || user.login === '') throw new SignInError('GitHub named no login for the signed-in user');
    return user.login;
  }

  private async exchange(code: string): Promise<string> {
    const form = new URLSearchParams({ client_id: this.settings.clientId, client_secret: this.settings.clientSecret, code });
    if (this.settings.deckUrl) form.set('redirect_uri', `${this.settings.deckUrl}${CALLBACK_PATH}`);
    const answer = await this.call(`${this.settings.githubUrl}/login/oauth/access_token`, {
      method: 'POST',
      headers: { accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded', 'user-agent': 'bowline-deck' },
      body: form.toString(),
    });
    if (!answer.ok) throw new SignInError(`GitHub answered ${answer.status} to the code exchange`);
    // GitHub answers a refused exchange with 200 and an `error` field.
    const body = (await answer.json()) as { access_token?: unknown; error?: unknown; error_description?: unknown };
    if (typeof body.access_token !== 'string') {
      throw new SignInError(`GitHub refused the code: ${String(body.error ?? 'no token')}${body.error_description ? ` (${String(body.error_description)})` : ''}`, {
        context: { error: body.error },
      });
    }
    return body.access_token;
  }

  private async call(url: string, init: RequestInit): Promise<Response> {
    try {
      return await this.fetchImpl(url, { ...init, signal: AbortSignal.timeout(10_000) });
    } catch (error) {
      throw new SignInError(`cannot reach GitHub at ${new URL(url).origin}: ${describeError(error)}`, { cause: error });
    }
  }
}
