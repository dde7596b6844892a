import { INT64_MAX, parseInt64, type LabelSelector, type Requirement } from './label-selector.js';

// Bowline's own question about two label selectors, beyond what apimachinery answers.

/**
 * Whether some label set could match both selectors: used to warn that two Jenkins masters could
 * both claim one job.
 *
 * Requirements are ANDed and each names one key, so the question splits per key: can that key be
 * absent, or hold some valid label value, that every requirement on it from either selector
 * accepts? Each key is decided exactly (finite `=`/`in` candidates, `!=`/`notin` exclusions,
 * integer `gt`/`lt` bounds), so the answer is currently always true or false; `undefined` is kept
 * in the signature for requirement kinds a later version might not decide.
 */
export function selectorsOverlap(a: LabelSelector, b: LabelSelector): boolean | undefined {
  const byKey = new Map<string, Requirement[]>();
  for (const requirement of [...a.requirements, ...b.requirements]) {
    const list = byKey.get(requirement.key) ?? [];
    list.push(requirement);
    byKey.set(requirement.key, list);
  }
  for (const requirements of byKey.values()) {
    if (!keyIsSatisfiable(requirements)) return false;
  }
  return true;
}

function keyIsSatisfiable(requirements: Requirement[]): boolean {
  const absentOk = requirements.every((r) => r.operator === '!' || r.operator === '!=' || r.operator === 'notin');
  if (absentOk) return true;
  if (requirements.some((r) => r.operator === '!')) return false;

  let candidates: Set<string> | undefined;
  const excluded = new Set<string>();
  let above: bigint | undefined; // value must be > above
  let below: bigint | undefined; // value must be < below
  for (const r of requirements) {
    switch (r.operator) {
      case '=':
      case '==':
      case 'in':
        candidates = new Set(r.values.filter((v) => candidates === undefined || candidates.has(v)));
        break;
      case '!=':
      case 'notin':
        r.values.forEach((v) => excluded.add(v));
        break;
      case 'gt': {
        const bound = parseInt64(r.values[0]!)!;
        above = above === undefined || bound > above ? bound : above;
        break;
      }
      case 'lt': {
        const bound = parseInt64(r.values[0]!)!;
        below = below === undefined || bound < below ? bound : below;
        break;
      }
      default:
        break;
    }
  }
  const withinBounds = (value: string): boolean => {
    if (above === undefined && below === undefined) return true;
    const n = parseInt64(value);
    return n !== undefined && (above === undefined || n > above) && (below === undefined || n < below);
  };
  if (candidates !== undefined) return [...candidates].some((v) => !excluded.has(v) && withinBounds(v));
  if (above === undefined && below === undefined) return true; // infinitely many values, finitely many excluded
  // A label value holding an integer is unsigned ("-1" is not a label value) and may carry leading
  // zeros ("7", "07", ... up to 63 characters), all of which ParseInt reads as the same number.
  const lowest = above === undefined || above < 0n ? 0n : above + 1n;
  const highest = below === undefined ? INT64_MAX : below - 1n;
  if (lowest > highest) return false;
  // Each integer has a spelling of its own, so more integers than exclusions leave one free.
  if (highest - lowest + 1n > BigInt(excluded.size)) return true;
  for (let n = lowest; n <= highest; n++) {
    const digits = n.toString();
    for (let zeros = 0; digits.length + zeros <= 63; zeros++) {
      if (!excluded.has('0'.repeat(zeros) + digits)) return true;
    }
  }
  return false;
}
