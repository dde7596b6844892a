import { html, type Html } from './html.js';
import type { RunView } from './run-view.js';

/**
 * Prow's job-history chart: one bar per run, oldest on the left, its height the run's duration and
 * its colour its state, so a run of failures or a creeping build time shows at a glance. Drawn as
 * SVG attributes (the page's policy allows no inline style); the text beside it says the same for
 * those who cannot see it, and the table below lists every run.
 */
export function runChart(runs: readonly RunView[]): Html {
  if (runs.length === 0) return html``;
  const ordered = [...runs].reverse();
  const longest = Math.max(1, ...ordered.map((run) => run.durationMs ?? 0));
  // Slots for at least a page of runs (Prow's 20), so a lone run is a bar, not a wall.
  const width = 100 / Math.max(ordered.length, 20);
  const bars = ordered.map((run, i) => {
    // A run still going has no duration yet: a short stub in its state's colour.
    const height = run.durationMs === undefined ? 4 : Math.max(4, (run.durationMs / longest) * 100);
    return html`<rect class="fill-${run.state}" x="${(i * width + width * 0.1).toFixed(3)}" y="${(100 - height).toFixed(3)}" width="${(width * 0.8).toFixed(3)}" height="${height.toFixed(3)}"></rect>`;
  });
  return html`<figure class="run-chart">
<svg viewBox="0 0 100 100" preserveAspectRatio="none" role="img" aria-label="${chartText(runs)}">${bars}</svg>
<figcaption class="muted">${chartText(runs)}</figcaption>
</figure>`;
}

/** `20 runs, oldest to newest: 15 success, 5 failure; finished in 1m2s to 9m40s.` */
export function chartText(runs: readonly RunView[]): string {
  const counts = new Map<string, number>();
  for (const run of runs) counts.set(run.state, (counts.get(run.state) ?? 0) + 1);
  const states = [...counts].map(([state, count]) => `${count} ${state}`).join(', ');
  const finished = runs.filter((run) => run.durationMs !== undefined).sort((a, b) => a.durationMs! - b.durationMs!);
  const range = finished.length > 0 ? `; finished in ${finished[0]!.duration || '0s'} to ${finished[finished.length - 1]!.duration || '0s'}` : '';
  return `${runs.length} ${runs.length === 1 ? 'run' : 'runs'}, bars from oldest to newest: ${states}${range}.`;
}
