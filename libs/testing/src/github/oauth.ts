import { randomBytes } from 'node:crypto';
import type { FakeRequest, FakeResponse } from '../http-fake.js';
import { notFound, type Route } from './routing.js';

/** An OAuth app registered with the fake: what `/login/oauth/*` checks a client against. */
export interface FakeOAuthApp {
  clientId: string;
  clientSecret: string;
  /** The app's "Authorization callback URL": `redirect_uri` must be it or under it. */
  callbackUrl: string;
}

/** Someone the fake's sign-in page offers; `note` says who they are (e.g. "member of acme"). */
export interface FakeOAuthUser {
  login: string;
  note?: string;
}

interface Grant {
  clientId: string;
  login: string;
  redirectUri: string;
  expiresAt: number;
}

// "Exchange this code for an access token ... codes expire after 10 minutes" (docs: Authorizing
// OAuth apps, step 2).
const CODE_TTL_MS = 10 * 60_000;
const OAUTH_DOCS = 'https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors';

/**
 * GitHub's OAuth web flow as the fake plays it (docs: Authorizing OAuth apps): the authorize page
 * on the web host, which signs in as a test user and sends the browser back with a code and the
 * client's `state`; the code exchanged once for a token; and the token answering `GET /user` as
 * that user (see `userOf`). Real GitHub has the first two on github.com and the API elsewhere; the
 * fake serves all three on its one address, so a client's web and API base are both `url`.
 */
export class FakeOAuth {
  private readonly apps = new Map<string, FakeOAuthApp>();
  private readonly users: FakeOAuthUser[] = [];
  private readonly codes = new Map<string, Grant>();
  private readonly tokens = new Map<string, string>();

  constructor(private readonly clock: () => number) {}

  addApp(app: FakeOAuthApp): void {
    this.apps.set(app.clientId, app);
  }

  /** A person the sign-in page offers; anyone can also be named with `?login=`. */
  addUser(user: FakeOAuthUser): void {
    this.users.push(user);
  }

  /** The login an OAuth user token belongs to, or undefined for any other token. */
  userOf(token: string): string | undefined {
    return this.tokens.get(token);
  }

  routes(): Route[] {
    return [
      { method: 'GET', pattern: /^\/login\/oauth\/authorize$/, handle: (request) => this.authorize(request) },
      { method: 'POST', pattern: /^\/login\/oauth\/access_token$/, handle: (request) => this.accessToken(request) },
    ];
  }

  /**
   * `GET /login/oauth/authorize`: with `login` (GitHub's own hint of the account to use) it signs
   * in as that user and redirects at once, as GitHub does for a user who already authorised the
   * app; without it, a page listing the test users to sign in as.
   */
  private authorize(request: FakeRequest): FakeResponse {
    const clientId = request.query.get('client_id') ?? '';
    const app = this.apps.get(clientId);
    // GitHub shows a 404 page for an unknown client.
    if (!app) return notFound();
    const redirectUri = request.query.get('redirect_uri') ?? app.callbackUrl;
    if (!isUnder(redirectUri, app.callbackUrl)) {
      // GitHub redirects to the registered callback with this error (docs: Troubleshooting
      // authorization request errors).
      return redirect(withQuery(app.callbackUrl, { error: 'redirect_uri_mismatch', error_description: 'The redirect_uri MUST match the registered callback URL for this application.', error_uri: OAUTH_DOCS, state: request.query.get('state') }));
    }
    const login = request.query.get('login');
    if (!login) return signInPage(request, this.users);
    const code = randomBytes(10).toString('hex');
    this.codes.set(code, { clientId, login, redirectUri, expiresAt: this.clock() + CODE_TTL_MS });
    return redirect(withQuery(redirectUri, { code, state: request.query.get('state') }));
  }

  /**
   * `POST /login/oauth/access_token`: client id, secret and code, form-encoded or JSON. Errors come
   * with status 200 and an `error` field, as GitHub sends them; a code works once.
   */
  private accessToken(request: FakeRequest): FakeResponse {
    const fields = readFields(request);
    const app = this.apps.get(fields.client_id ?? '');
    if (!app || fields.client_secret !== app.clientSecret) {
      return tokenAnswer(request, { error: 'incorrect_client_credentials', error_description: 'The client_id and/or client_secret passed are incorrect.', error_uri: OAUTH_DOCS });
    }
    const grant = fields.code === undefined ? undefined : this.codes.get(fields.code);
    if (grant) this.codes.delete(fields.code!);
    if (!grant || grant.clientId !== app.clientId || grant.expiresAt <= this.clock()) {
      return tokenAnswer(request, { error: 'bad_verification_code', error_description: 'The code passed is incorrect or expired.', error_uri: OAUTH_DOCS });
    }
    if (fields.redirect_uri !== undefined && fields.redirect_uri !== grant.redirectUri) {
      return tokenAnswer(request, { error: 'redirect_uri_mismatch', error_description: 'The redirect_uri MUST match the registered callback URL for this application.', error_uri: OAUTH_DOCS });
    }
    const token = `gho_${randomBytes(18).toString('hex')}`;
    this.tokens.set(token, grant.login);
    return tokenAnswer(request, { access_token: token, token_type: 'bearer', scope: '' });
  }
}

/** GitHub's callback rule: same scheme, host and port, and a path at or below the callback's. */
function isUnder(uri: string, callback: string): boolean {
  try {
    const asked = new URL(uri);
    const registered = new URL(callback);
    const base = registered.pathname.replace(/\/?$/, '/');
    return asked.origin === registered.origin && (asked.pathname === registered.pathname || asked.pathname.startsWith(base));
  } catch {
    return false;
  }
}

function withQuery(url: string, query: Record<string, string | null>): string {
  const target = new URL(url);
  for (const [name, value] of Object.entries(query)) if (value !== null) target.searchParams.set(name, value);
  return target.href;
}

function redirect(location: string): FakeResponse {
  return { status: 302, headers: { location }, body: '' };
}

function readFields(request: FakeRequest): Record<string, string | undefined> {
  const type = String(request.headers['content-type'] ?? '');
  if (type.includes('application/json')) {
    try {
      const parsed = JSON.parse(request.body) as Record<string, unknown>;
      return Object.fromEntries(Object.entries(parsed).map(([k, v]) => [k, typeof v === 'string' ? v : undefined]));
    } catch {
      return {};
    }
  }
  // GitHub also reads the fields from the query string of the POST.
  const form = new URLSearchParams(request.body);
  for (const [name, value] of request.query) if (!form.has(name)) form.set(name, value);
  return Object.fromEntries(form);
}

/** JSON when asked for (`Accept: application/json`), otherwise GitHub's default, a form-encoded body. */
function tokenAnswer(request: FakeRequest, fields: Record<string, string>): FakeResponse {
  if (String(request.headers.accept ?? '').includes('application/json')) return { status: 200, body: fields };
  return { status: 200, body: new URLSearchParams(fields).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' } };
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const escape = (text: string): string => text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);

/** The page a person sees in `make demo`: one link per test user, each signing in as them. */
function signInPage(request: FakeRequest, users: readonly FakeOAuthUser[]): FakeResponse {
  const link = (user: FakeOAuthUser): string => {
    const query = new URLSearchParams(request.query);
    query.set('login', user.login);
    const note = user.note ? ` <small>(${escape(user.note)})</small>` : '';
    return `<li><a href="/login/oauth/authorize?${escape(query.toString())}">Sign in as ${escape(user.login)}</a>${note}</li>`;
  };
  const body = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in to the test GitHub</title><link rel="icon" href="data:,"></head>
<body><h1>Sign in to the test GitHub</h1>
<p>This is Bowline's local stand-in for GitHub, not GitHub: choose who to be.</p>
<ul>${users.map(link).join('')}</ul>
</body></html>
`;
  return { status: 200, body, headers: { 'content-type': 'text/html; charset=utf-8' } };
}
