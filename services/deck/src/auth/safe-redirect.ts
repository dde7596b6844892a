/**
 * Where the deck may send a browser after signing in or acting: one of its own pages, never
 * elsewhere (an open redirect would let a link to the deck forward its visitor to any site).
 * Anything that is not a plain path on this host becomes `fallback`: absolute addresses,
 * scheme-relative `//evil`, and `/\evil`, which browsers read as `//evil`.
 */
export function localPath(next: unknown, fallback = '/'): string {
  if (typeof next !== 'string' || !next.startsWith('/') || next.startsWith('//')) return fallback;
  // Backslashes and control characters are refused outright: browsers normalise them into slashes
  // or drop them (WHATWG URL), and either could turn the path into another host.
  // eslint-disable-next-line no-control-regex -- control characters are what this refuses
  if (/[\\\u0000-\u001f\u007f]/.test(next)) return fallback;
  const base = 'http://deck.invalid';
  try {
    const url = new URL(next, base);
    if (url.origin !== base) return fallback;
    return `${url.pathname}${url.search}${url.hash}`;
  } catch {
    return fallback;
  }
}
