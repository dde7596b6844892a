import { createHash } from 'node:crypto';
import type { FakeRequest, FakeResponse } from '../http-fake.js';
import type { GitHubState } from './state.js';
import type { GitHubViews } from './views.js';

/** Who a request is authenticated as: the login that writes its comments and statuses. */
export interface Caller {
  login: string;
}

export type RouteHandler = (request: FakeRequest, params: string[], caller: Caller) => FakeResponse;

/** One REST route: the route modules each give a list of these, the facade tries them in order. */
export interface Route {
  method: string;
  pattern: RegExp;
  handle: RouteHandler;
}

/** What the route modules read and write: the state, its views, and the fake's address. */
export interface RouteContext {
  readonly state: GitHubState;
  readonly views: GitHubViews;
  /** Known once the fake listens. */
  readonly url: string;
}

export const DOCS = 'https://docs.github.com/rest';

class BadJsonError extends Error {}

/** The first route matching the request answers it; none is GitHub's 404, a bad JSON body its 400. */
export function dispatch(routes: Route[], request: FakeRequest, caller: Caller): FakeResponse {
  for (const route of routes) {
    if (route.method !== request.method) continue;
    const match = route.pattern.exec(request.path);
    if (!match) continue;
    // Split first, decode after: a label such as `do-not-merge/hold` arrives as one %2F segment.
    const params = match.slice(1).map((segment) => decodeURIComponent(segment));
    try {
      return route.handle(request, params, caller);
    } catch (error) {
      if (error instanceof BadJsonError) {
        return { status: 400, body: { message: 'Problems parsing JSON', documentation_url: DOCS, status: '400' } };
      }
      throw error;
    }
  }
  return notFound();
}

export function unauthorized(message: string): FakeResponse {
  return { status: 401, body: { message, documentation_url: DOCS, status: '401' } };
}

export function notFound(): FakeResponse {
  return { status: 404, body: { message: 'Not Found', documentation_url: DOCS, status: '404' } };
}

export function validationFailed(errors: unknown[]): FakeResponse {
  return { status: 422, body: { message: 'Validation Failed', errors, documentation_url: DOCS, status: '422' } };
}

export function parseJson(body: string): unknown {
  if (body.trim() === '') return null;
  try {
    return JSON.parse(body) as unknown;
  } catch (error) {
    throw new BadJsonError('request body is not JSON', { cause: error });
  }
}

/** GitHub's `per_page` (default 30, at most 100), as the list routes read it. */
export function perPage(request: FakeRequest): number {
  const asked = Number.parseInt(request.query.get('per_page') ?? '', 10);
  return Number.isNaN(asked) || asked < 1 ? 30 : Math.min(asked, 100);
}

/** One page of `items` with GitHub's Link header; `baseUrl` is the fake's address. */
export function paginate(request: FakeRequest, items: unknown[], baseUrl: string): FakeResponse {
  const size = perPage(request);
  const pageAsked = Number.parseInt(request.query.get('page') ?? '', 10);
  const page = Number.isNaN(pageAsked) || pageAsked < 1 ? 1 : pageAsked;
  const lastPage = Math.max(1, Math.ceil(items.length / size));
  const body = items.slice((page - 1) * size, page * size);

  const linkTo = (target: number): string => {
    const query = new URLSearchParams(request.query);
    query.set('page', String(target));
    return `<${baseUrl}${request.path}?${query.toString()}>`;
  };
  // Same relations and order as GitHub; octokit's paginate follows rel="next" until it is gone.
  const links: string[] = [];
  if (page > 1) links.push(`${linkTo(Math.min(page - 1, lastPage))}; rel="prev"`);
  if (page < lastPage) links.push(`${linkTo(page + 1)}; rel="next"`, `${linkTo(lastPage)}; rel="last"`);
  if (page > 1) links.push(`${linkTo(1)}; rel="first"`);
  return { status: 200, body, headers: links.length > 0 ? { link: links.join(', ') } : {} };
}

/**
 * A weak validator, as GitHub sends on its JSON answers: the body is the same JSON, not the same
 * bytes, across encodings. Derived from the body so any change to what a GET shows changes it.
 */
export function entityTag(body: unknown): string {
  const text = typeof body === 'string' ? body : JSON.stringify(body ?? null);
  return `W/"${createHash('sha256').update(text).digest('hex')}"`;
}

/** `If-None-Match` uses the weak comparison and may list several tags, or `*` (RFC 9110 §13.1.2). */
export function matchesEntityTag(header: string | string[] | undefined, etag: string): boolean {
  if (header === undefined) return false;
  const opaque = (tag: string): string => tag.trim().replace(/^W\//, '');
  const wanted = opaque(etag);
  return [header]
    .flat()
    .flatMap((value) => value.split(','))
    .some((tag) => tag.trim() === '*' || opaque(tag) === wanted);
}
