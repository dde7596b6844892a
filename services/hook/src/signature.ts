import { createHmac, timingSafeEqual } from 'node:crypto';

const SIGNATURE = /^sha256=([0-9a-f]{64})$/;

/**
 * True when `header` is `sha256=<hex>` and matches the HMAC of the raw body under one of the
 * secrets. Only SHA-256: GitHub's SHA-1 header is not accepted. Compared in constant time.
 */
export function verifySignature(body: Buffer, header: string | undefined, secrets: readonly string[]): boolean {
  const match = header ? SIGNATURE.exec(header.trim().toLowerCase()) : null;
  if (!match) return false;
  const given = Buffer.from(match[1]!, 'hex');
  let valid = false;
  // Every secret is tried, even after a match, so timing does not tell which one matched.
  for (const secret of secrets) {
    const expected = createHmac('sha256', secret).update(body).digest();
    if (timingSafeEqual(expected, given)) valid = true;
  }
  return valid;
}
