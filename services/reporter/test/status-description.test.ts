import { describe, expect, it } from '@jest/globals';
import { statusDescription } from '../src/status-description.js';

const SHA = 'b'.repeat(40);
// U+2001, the pad Prow puts before the base sha.
const PAD = '\u2001';

// Prow's config.ContextDescriptionWithBaseSha (pkg/config/config.go), worked out by hand: lengths
// are Go's byte counts, and the pad loop's bound shrinks by three bytes with each pad.
describe('statusDescription', () => {
  it('pads a short description so that the base sha ends the 140 bytes, as Prow does', () => {
    const description = statusDescription('Jenkins job succeeded.', SHA);

    expect(description).toBe(`Jenkins job succeeded.${PAD.repeat(18)} BaseSHA:${SHA}`);
    expect(Buffer.byteLength(description)).toBe(125);
  });

  it('gives an empty description the pads and the base sha alone', () => {
    expect(statusDescription('', SHA)).toBe(`${PAD.repeat(23)} BaseSHA:${SHA}`);
  });

  it("elides the middle of a long description with Prow's ' ... ' to keep the base sha within 140", () => {
    const text = `Jenkins said: ${'x'.repeat(200)}`;

    const description = statusDescription(text, SHA);

    expect(description).toBe(`${text.slice(0, 43)} ... ${text.slice(-43)} BaseSHA:${SHA}`);
    expect(description).toHaveLength(140);
  });

  it('adds nothing without a base sha, and cuts a long description to 139 as Prow does', () => {
    expect(statusDescription('Jenkins job running.', '')).toBe('Jenkins job running.');
    expect(statusDescription('a'.repeat(200), '')).toBe(`${'a'.repeat(67)} ... ${'a'.repeat(67)}`);
  });

  it('cuts between characters, never inside one, where Go would cut bytes', () => {
    const description = statusDescription('é'.repeat(100), SHA);

    expect(description).toBe(`${'é'.repeat(21)} ... ${'é'.repeat(21)} BaseSHA:${SHA}`);
    expect(Buffer.byteLength(description)).toBeLessThanOrEqual(140);
  });
});
