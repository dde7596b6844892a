/*
 * Prow's config.ContextDescriptionWithBaseSha: a status description carries ` BaseSHA:<sha>` at its
 * end, which Tide reads (BaseSHAFromContextDescription) to tell whether a result is still good for
 * the current base branch. Prow counts in bytes (Go's len), pads with U+2001 so the sha sits at a
 * fixed place in GitHub's UI, and elides the middle of a long description to stay within GitHub's
 * 140. Bytes here too, so an ASCII description comes out as Prow's, byte for byte; unlike Go, a cut
 * never splits a multi-byte character.
 */
const DELIMITER = ' BaseSHA:';
const MAX_LENGTH = 140;
const ELIDE = ' ... ';
// U+2001 EM QUAD: GitHub's UI collapses runs of plain spaces.
const PAD = '\u2001';

const bytes = (text: string): number => Buffer.byteLength(text, 'utf8');

/** The description GitHub gets for a status: `humanReadable`, then the base sha when there is one. */
export function statusDescription(humanReadable: string, baseSha: string): string {
  let suffix = '';
  if (baseSha) {
    suffix = DELIMITER + baseSha;
    // As in Prow, the bound is worked out again after each pad.
    if (bytes(humanReadable + suffix) < MAX_LENGTH) {
      for (let i = 0; i < MAX_LENGTH - bytes(humanReadable + suffix); i++) suffix = PAD + suffix;
    }
  }
  return truncate(humanReadable, MAX_LENGTH - bytes(suffix)) + suffix;
}

/** Prow's truncate: the head and tail of a text over `maxBytes`, with ` ... ` between. */
function truncate(text: string, maxBytes: number): string {
  if (bytes(text) <= maxBytes) return text;
  const half = Math.max(0, Math.trunc((maxBytes - bytes(ELIDE)) / 2));
  return head(text, half) + ELIDE + tail(text, half);
}

function head(text: string, maxBytes: number): string {
  let out = '';
  let size = 0;
  for (const char of text) {
    size += bytes(char);
    if (size > maxBytes) break;
    out += char;
  }
  return out;
}

function tail(text: string, maxBytes: number): string {
  const chars = [...text];
  let start = chars.length;
  let size = 0;
  while (start > 0 && size + bytes(chars[start - 1]!) <= maxBytes) size += bytes(chars[--start]!);
  return chars.slice(start).join('');
}
