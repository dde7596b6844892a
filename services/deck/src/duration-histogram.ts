import type { ProwJob } from '@bowline/prowjob';
import { html, type Html } from './html.js';

/** The bins' upper bounds in minutes: builds range from seconds to hours, so they widen as they go. */
const BINS: readonly { upTo: number; label: string }[] = [
  { upTo: 1, label: 'under 1 min' },
  { upTo: 2, label: '1–2 min' },
  { upTo: 5, label: '2–5 min' },
  { upTo: 10, label: '5–10 min' },
  { upTo: 20, label: '10–20 min' },
  { upTo: 30, label: '20–30 min' },
  { upTo: 60, label: '30–60 min' },
  { upTo: 120, label: '1–2 h' },
  { upTo: Infinity, label: 'over 2 h' },
];

/** Finished jobs in each bin, passed and failed apart (the rest: aborted, error). */
export interface DurationBins {
  bins: { label: string; success: number; failure: number; other: number }[];
  finished: number;
}

export function emptyDurations(): DurationBins {
  return { bins: BINS.map(({ label }) => ({ label, success: 0, failure: 0, other: 0 })), finished: 0 };
}

/** Adds a job to the bins when it has finished: running jobs have no duration yet. */
export function addDuration(bins: DurationBins, job: ProwJob): void {
  const { startTime, completionTime } = job.status;
  if (!startTime || !completionTime) return;
  const minutes = (Date.parse(completionTime) - Date.parse(startTime)) / 60_000;
  if (!Number.isFinite(minutes)) return;
  const bin = bins.bins[BINS.findIndex((b) => minutes < b.upTo)]!;
  const state = job.status.state;
  if (state === 'success') bin.success += 1;
  else if (state === 'failure') bin.failure += 1;
  else bin.other += 1;
  bins.finished += 1;
}

/**
 * The histogram of how long the listed jobs took, beside the state bar: one column per bin, passed
 * stacked under failed, in SVG attributes (no inline style under the page's policy). Its text
 * alternative, the same counts in words, is the SVG's label and a list hidden from sight.
 */
export function durationHistogram(durations: DurationBins): Html {
  if (durations.finished === 0) return html``;
  const tallest = Math.max(1, ...durations.bins.map((b) => b.success + b.failure + b.other));
  const width = 100 / durations.bins.length;
  const columns = durations.bins.map((bin, i) => {
    let top = 40;
    const part = (count: number, fill: string): Html => {
      if (count === 0) return html``;
      const height = (count / tallest) * 40;
      top -= height;
      return html`<rect class="fill-${fill}" x="${(i * width + width * 0.1).toFixed(3)}" y="${top.toFixed(3)}" width="${(width * 0.8).toFixed(3)}" height="${height.toFixed(3)}"></rect>`;
    };
    return html`${part(bin.success, 'success')}${part(bin.failure, 'failure')}${part(bin.other, 'aborted')}`;
  });
  const text = histogramText(durations);
  return html`<figure class="duration-histogram" id="duration-histogram">
<figcaption class="muted">Duration of ${durations.finished} finished ${durations.finished === 1 ? 'job' : 'jobs'}</figcaption>
<svg viewBox="0 0 100 40" preserveAspectRatio="none" role="img" aria-label="${text}">${columns}</svg>
<div class="axis muted" aria-hidden="true"><span>${durations.bins[0]!.label}</span><span>${durations.bins[durations.bins.length - 1]!.label}</span></div>
</figure>`;
}

/** `Durations of 12 finished jobs: 1–2 min: 3 (2 passed, 1 failed); …`, bins that hold any. */
export function histogramText(durations: DurationBins): string {
  const parts = durations.bins
    .filter((bin) => bin.success + bin.failure + bin.other > 0)
    .map((bin) => {
      const detail = [bin.success && `${bin.success} passed`, bin.failure && `${bin.failure} failed`, bin.other && `${bin.other} other`].filter(Boolean).join(', ');
      return `${bin.label}: ${bin.success + bin.failure + bin.other} (${detail})`;
    });
  return `Durations of ${durations.finished} finished ${durations.finished === 1 ? 'job' : 'jobs'}: ${parts.join('; ')}.`;
}
