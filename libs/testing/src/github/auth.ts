import { createVerify } from 'node:crypto';
import type { FakeRequest, FakeResponse } from '../http-fake.js';
import { DOCS, unauthorized, type Caller } from './routing.js';
import type { GitHubState } from './state.js';

export type Authentication = { caller: Caller } | { refusal: FakeResponse };

/** What deciding who a request is from needs to know. */
export interface Credentials {
  /** The configured tokens; they belong to the bot user. */
  tokens: ReadonlySet<string>;
  state: GitHubState;
  /** Ms since the epoch, the clock JWTs and installation tokens are judged by. */
  clock: () => number;
}

// GitHub's App JWT rules: at most 10 minutes of validity, and an `iat` up to 60 s ahead is allowed
// for clock drift (docs: Generating a JSON Web Token (JWT) for a GitHub App).
const MAX_JWT_LIFETIME_SECONDS = 600;
const JWT_CLOCK_DRIFT_SECONDS = 60;
const JWT_UNDECODABLE = 'A JSON web token could not be decoded';
// What GitHub answers an installation token used outside what its installation was granted.
const NOT_ACCESSIBLE = 'Resource not accessible by integration';
// The routes GitHub wants the App's JWT on: its own, and finding where it is installed.
const APP_JWT_ROUTE = /^\/(?:app(?:\/|$)|(?:repos\/[^/]+\/[^/]+|orgs\/[^/]+|users\/[^/]+)\/installation$)/;
// The account a route belongs to, for deciding whether an installation token opens it.
const ACCOUNT_ROUTE = /^\/(?:repos|orgs)\/([^/]+)(?:\/|$)/;

/**
 * Who the request is from, or GitHub's refusal. The App's routes and installation look-ups take
 * the App's JWT; everything else a configured token (the bot user) or an installation token,
 * which opens only its own account's routes, until it expires.
 */
export function authenticate(request: FakeRequest, credentials: Credentials): Authentication {
  const { state, clock } = credentials;
  const header = request.headers.authorization;
  if (APP_JWT_ROUTE.test(request.path)) {
    const refusal = refuseAppJwt(header, state, clock);
    return refusal === undefined ? { caller: { login: state.appBotLogin } } : { refusal: unauthorized(refusal) };
  }
  const token = /^(?:token|bearer)\s+(\S+)$/i.exec(header?.trim() ?? '')?.[1];
  if (token !== undefined && credentials.tokens.has(token)) return { caller: { login: state.botLogin } };
  const granted = token === undefined ? undefined : state.installationToken(token);
  if (!granted || clock() >= granted.expiresAt) return { refusal: unauthorized('Bad credentials') };
  const account = ACCOUNT_ROUTE.exec(request.path)?.[1];
  const installation = state.installation(granted.installationId);
  if (account === undefined || decodeURIComponent(account).toLowerCase() !== installation?.account.toLowerCase()) {
    return { refusal: { status: 403, body: { message: NOT_ACCESSIBLE, documentation_url: DOCS, status: '403' } } };
  }
  return { caller: { login: state.appBotLogin } };
}

/**
 * Why GitHub would refuse this App JWT, or undefined when it would accept it. Messages are
 * GitHub's own. A JWT naming another App fails as undecodable: GitHub checks the signature with
 * the key of the App `iss` names, so a wrong id and a wrong key look the same.
 */
function refuseAppJwt(header: string | undefined, state: GitHubState, clock: () => number): string | undefined {
  const match = /^bearer\s+(\S+)$/i.exec(header?.trim() ?? '');
  const parts = match?.[1]!.split('.') ?? [];
  if (parts.length !== 3) return JWT_UNDECODABLE;
  const [encodedHeader, encodedClaims, signature] = parts as [string, string, string];
  const jose = decodeJwtPart(encodedHeader);
  const claims = decodeJwtPart(encodedClaims);
  if (!jose || !claims || jose.alg !== 'RS256') return JWT_UNDECODABLE;

  if (claims.iss === undefined) return "Missing 'issuer' claim ('iss') in assertion";
  // GitHub takes the App id as a number or a string of digits.
  const issuer = typeof claims.iss === 'string' && /^\d+$/.test(claims.iss) ? Number(claims.iss) : claims.iss;
  if (typeof issuer !== 'number' || !Number.isInteger(issuer)) return "'Issuer' claim ('iss') must be an Integer";
  if (!state.app || issuer !== state.app.id) return JWT_UNDECODABLE;
  const verifier = createVerify('RSA-SHA256').update(`${encodedHeader}.${encodedClaims}`);
  if (!verifier.verify(state.app.key, Buffer.from(signature, 'base64url'))) return JWT_UNDECODABLE;

  const now = Math.floor(clock() / 1000);
  const { iat, exp } = claims;
  if (iat === undefined) return "Missing 'issued at' claim ('iat') in assertion";
  if (typeof iat !== 'number' || !Number.isInteger(iat) || iat > now + JWT_CLOCK_DRIFT_SECONDS) {
    return "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued";
  }
  if (exp === undefined) return "Missing 'expiration time' claim ('exp') in assertion";
  if (typeof exp !== 'number' || !Number.isFinite(exp) || exp <= now) {
    return "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires";
  }
  // Measured against the issue time and against GitHub's clock: a client clock running ahead
  // gets this refusal too (octokit/auth-app.js#698).
  if (exp - iat > MAX_JWT_LIFETIME_SECONDS || exp > now + MAX_JWT_LIFETIME_SECONDS) {
    return "'Expiration time' claim ('exp') is too far in the future";
  }
  return undefined;
}

function decodeJwtPart(part: string): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as unknown;
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
