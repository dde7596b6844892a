import { describeError } from '@bowline/observability';
import { JenkinsError } from './jenkins-error.js';

/** Reading Jenkins' HTTP answers: their bodies, redirects, Retry-After, and what went wrong. */

const DETAIL_LIMIT = 300;

export function isLoginPage(location: string): boolean {
  return /\/login\/?$/.test(new URL(location, 'http://jenkins').pathname);
}

export function isDoneOrRedirect(response: Response): boolean {
  if (response.ok) return true;
  if (response.status < 300 || response.status >= 400) return false;
  const location = response.headers.get('location');
  return !location || !isLoginPage(location);
}

export function retryAfter(response: Response): number | undefined {
  const header = response.headers.get('retry-after');
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return seconds * 1000;
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

export async function readJson<T>(response: Response, what: string, path: string): Promise<T> {
  const text = await response.text();
  try {
    return JSON.parse(text) as T;
  } catch (error) {
    // A proxy's or SSO login page answered instead of Jenkins; trying again will not help.
    throw new JenkinsError(`${what}: Jenkins answered ${response.status} with a body that is not JSON`, {
      method: 'GET',
      path,
      status: response.status,
      cause: error,
      context: { detail: excerpt(text) },
    });
  }
}

export async function readText(response: Response): Promise<string> {
  try {
    return await response.text();
  } catch {
    return '';
  }
}

export async function discard(response: Response): Promise<void> {
  await readText(response);
}

export function excerpt(body: string): string {
  const text = body
    .replace(/<[^>]*>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return text.length > DETAIL_LIMIT ? `${text.slice(0, DETAIL_LIMIT)}…` : text;
}

/**
 * Errors from `fetch` may come from another realm (jest's VM modules, a polyfill), where
 * `instanceof Error` is false; their shape is what counts.
 */
export function errorLike(error: unknown): { name?: unknown; message?: unknown; cause?: unknown } | undefined {
  return typeof error === 'object' && error !== null ? error : undefined;
}

export function describeNetworkError(error: unknown): string {
  const message = errorLike(error)?.message;
  if (typeof message !== 'string') return describeError(error);
  // undici reports every connection failure as "fetch failed" and keeps the reason in `cause`.
  const cause = errorLike(errorLike(error)?.cause)?.message;
  return typeof cause === 'string' && cause ? `${message} (${cause})` : message;
}
