import type { ProwJob } from '@bowline/prowjob';
import { escapeHtml } from './html.js';

/**
 * Prow's `filepath.Match` globs as deck's badge takes them (`pull-*-unit`): `*` any run of
 * characters but `/`, `?` one such character, `[…]` a class; the whole name must match.
 */
export function globPattern(glob: string): RegExp {
  let pattern = '';
  for (let i = 0; i < glob.length; i += 1) {
    const c = glob[i]!;
    if (c === '*') pattern += '[^/]*';
    else if (c === '?') pattern += '[^/]';
    else if (c === '[' && glob.indexOf(']', i + 2) > i) {
      // Go's class syntax (`[a-z]`, `[^0-9]`) is JavaScript's.
      const end = glob.indexOf(']', i + 2);
      pattern += glob.slice(i, end + 1);
      i = end;
    } else pattern += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return new RegExp(`^${pattern}$`);
}

/** Prow's pickLatestJobs: the newest run of each job a glob of the comma-separated list matches. */
export function latestOfEach(jobs: readonly ProwJob[], selector: string): ProwJob[] {
  const patterns = selector.split(',').map((glob) => glob.trim()).filter(Boolean).map(globPattern);
  const newest = [...jobs].sort((a, b) => (b.status.startTime ?? '').localeCompare(a.status.startTime ?? ''));
  const seen = new Set<string>();
  const picked: ProwJob[] = [];
  for (const job of newest) {
    if (seen.has(job.spec.job) || !patterns.some((pattern) => pattern.test(job.spec.job))) continue;
    seen.add(job.spec.job);
    picked.push(job);
  }
  return picked;
}

/** Prow's renderBadge: `passing` in green, `failing <up to three jobs>` in red, `no results` in grey. */
export function badgeStatus(jobs: readonly ProwJob[]): { status: string; color: string } {
  if (jobs.length === 0) return { status: 'no results', color: 'darkgrey' };
  const failed = jobs.filter((job) => job.status.state === 'failure').map((job) => job.spec.job).sort();
  if (failed.length === 0) return { status: 'passing', color: '#4c1' };
  return { status: `failing ${[...failed.slice(0, 3), ...(failed.length > 3 ? ['...'] : [])].join(', ')}`, color: '#e05d44' };
}

/**
 * The `[build | status]` shield Prow's deck draws, measured as it measures (6 px a character). The
 * subject and status are escaped: job names come from the config, but the status can name any.
 */
export function badgeSvg(subject: string, status: string, color: string): string {
  const rightStart = 13 + 6 * subject.length;
  const rightWidth = 13 + 6 * status.length;
  const width = rightStart + rightWidth;
  const left = rightStart * 0.5;
  const right = rightStart + (rightWidth - 2) * 0.5;
  const s = escapeHtml(subject);
  const t = escapeHtml(status);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="20" role="img" aria-label="${s}: ${t}">
<title>${s}: ${t}</title>
<linearGradient id="a" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" stop-opacity=".1"/><stop offset="1" stop-opacity=".1"/></linearGradient>
<rect rx="3" width="100%" height="20" fill="#555"/>
<g fill="${escapeHtml(color)}"><rect rx="3" x="${rightStart}" width="${rightWidth}" height="20"/><path d="M${rightStart} 0h4v20h-4z"/></g>
<rect rx="3" width="100%" height="20" fill="url(#a)"/>
<g fill="#fff" text-anchor="middle" font-family="DejaVu Sans,Verdana,Geneva,sans-serif" font-size="11">
<g fill="#010101" opacity=".3"><text x="${left}" y="15">${s}</text><text x="${right}" y="15">${t}</text></g>
<text x="${left}" y="14">${s}</text><text x="${right}" y="14">${t}</text>
</g>
</svg>`;
}
