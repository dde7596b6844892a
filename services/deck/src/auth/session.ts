import { randomBytes, timingSafeEqual } from 'node:crypto';
import cookieParser from 'cookie-parser';
import type { CookieOptions, Request, RequestHandler, Response } from 'express';

/**
 * The signed-in user, in a cookie signed with the first of `DECK_SESSION_KEY_FILE`'s keys and
 * checked against all of them (cookie-parser with a list of secrets; Express signs with the first:
 * HMAC-SHA256, cookie-signature). It holds the login and the session's CSRF token, never the
 * user's GitHub token, which is dropped once `GET /user` has named them.
 */
export interface Session {
  login: string;
  /** Sent back in every form the session posts (synchroniser token: the cookie is HttpOnly). */
  csrf: string;
  /** Ms since the epoch, when the user signed in. */
  since: number;
}

/** The OAuth round trip in progress: the `state` sent to GitHub and where to go after. */
interface SignIn {
  state: string;
  next: string;
  since: number;
}

const SESSION_COOKIE = 'bowline_deck_session';
const SIGN_IN_COOKIE = 'bowline_deck_sign_in';
/** A working day; then GitHub is asked again (it answers at once for an app already authorised). */
export const SESSION_MS = 8 * 3_600_000;
/** As long as GitHub keeps a code: a sign-in left longer starts again. */
const SIGN_IN_MS = 10 * 60_000;

/**
 * `Secure` always: browsers keep Secure cookies from http://localhost and http://127.0.0.1 too (they
 * are secure contexts), so the demo and the tests need no exception. `SameSite=Lax`: a POST from
 * another site carries no session, and the top-level return from GitHub still carries the sign-in.
 */
const COOKIE: CookieOptions = { httpOnly: true, secure: true, sameSite: 'lax', signed: true, path: '/' };

export class Sessions {
  readonly parse: RequestHandler;

  constructor(
    keys: readonly string[],
    private readonly now: () => number = Date.now,
  ) {
    this.parse = cookieParser([...keys]);
  }

  /** The request's session; none when absent, forged, signed with a retired key, or expired. */
  current(req: Request): Session | undefined {
    const value = readSigned<Session>(req, SESSION_COOKIE);
    if (!value || typeof value.login !== 'string' || typeof value.csrf !== 'string' || typeof value.since !== 'number') return undefined;
    if (this.now() - value.since > SESSION_MS || value.since > this.now() + 60_000) return undefined;
    return value;
  }

  start(res: Response, login: string): Session {
    const session: Session = { login, csrf: randomToken(), since: this.now() };
    res.cookie(SESSION_COOKIE, JSON.stringify(session), { ...COOKIE, maxAge: SESSION_MS });
    return session;
  }

  end(res: Response): void {
    res.clearCookie(SESSION_COOKIE, { ...COOKIE, signed: false });
  }

  /** Starts a sign-in: the `state` to send GitHub, remembered in its own short-lived cookie. */
  beginSignIn(res: Response, next: string): string {
    const signIn: SignIn = { state: randomToken(), next, since: this.now() };
    res.cookie(SIGN_IN_COOKIE, JSON.stringify(signIn), { ...COOKIE, path: '/auth/', maxAge: SIGN_IN_MS });
    return signIn.state;
  }

  /**
   * Ends the sign-in whatever the outcome (a `state` works once) and gives where to go after,
   * or undefined when `state` is not the one this browser was sent off with.
   */
  finishSignIn(req: Request, res: Response, state: unknown): { next: string } | undefined {
    const signIn = readSigned<SignIn>(req, SIGN_IN_COOKIE);
    res.clearCookie(SIGN_IN_COOKIE, { ...COOKIE, signed: false, path: '/auth/' });
    if (!signIn || typeof signIn.state !== 'string' || typeof state !== 'string') return undefined;
    if (this.now() - signIn.since > SIGN_IN_MS) return undefined;
    return sameText(signIn.state, state) ? { next: signIn.next } : undefined;
  }
}

/** Whether the form's token is the session's, compared in constant time. */
export function csrfMatches(session: Session, sent: unknown): boolean {
  return typeof sent === 'string' && sameText(session.csrf, sent);
}

function sameText(expected: string, sent: string): boolean {
  const a = Buffer.from(expected);
  const b = Buffer.from(sent);
  return a.length === b.length && timingSafeEqual(a, b);
}

function randomToken(): string {
  return randomBytes(32).toString('base64url');
}

function readSigned<T>(req: Request, name: string): T | undefined {
  // cookie-parser leaves `false` for a cookie whose signature matches no key.
  const raw = (req.signedCookies as Record<string, unknown> | undefined)?.[name];
  if (typeof raw !== 'string') return undefined;
  try {
    const value = JSON.parse(raw) as unknown;
    return typeof value === 'object' && value !== null ? (value as T) : undefined;
  } catch {
    return undefined;
  }
}
