import { chromium } from 'playwright-core';
import { parse, View } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { percentile } from './stats.js';

// latency.png: the end-to-end latency distributions beside their floors, drawn by Vega-Lite as
// SVG and turned into a PNG by the same headless Chromium the deck's tests use (no native addon).

const CHROMIUM = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium';

/** Each series as (percentile, ms) points, every 0.1 percentile: enough for the curve, small for the spec. */
function curves(samples: Record<string, number[]>): Array<{ series: string; percentile: number; ms: number }> {
  const points: Array<{ series: string; percentile: number; ms: number }> = [];
  for (const [series, values] of Object.entries(samples)) {
    const sorted = [...values].sort((a, b) => a - b);
    for (let tenth = 1; tenth <= 1000; tenth += 1) points.push({ series, percentile: tenth / 10, ms: percentile(sorted, tenth / 10) });
  }
  return points;
}

function spec(samples: Record<string, number[]>, subtitle: string): TopLevelSpec {
  const panel = (title: string, from: number) => ({
    title,
    width: 420,
    height: 300,
    transform: [{ filter: `datum.percentile >= ${from}` }],
    mark: { type: 'line' as const, strokeWidth: 2, interpolate: 'step-after' as const },
    encoding: {
      x: { field: 'percentile', type: 'quantitative' as const, title: 'percentile', scale: { domain: [from, 100] } },
      y: { field: 'ms', type: 'quantitative' as const, title: 'milliseconds (log)', scale: { type: 'log' as const } },
      // Each path and its floor in one colour, the floor dashed.
      color: { field: 'series', type: 'nominal' as const, title: null, scale: { domain: Object.keys(samples), range: ['#1f6fb4', '#d9660b', '#1f6fb4', '#d9660b'] }, legend: { orient: 'bottom' as const, columns: 2, labelLimit: 300 } },
      strokeDash: { condition: { test: "indexof(datum.series, 'floor') === 0", value: [5, 3] }, value: [1, 0] },
    },
  });
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: 'Bowline end to end: latency distribution', subtitle },
    data: { values: curves(samples) },
    hconcat: [panel('whole distribution', 0), panel('the tail (p90 – max)', 90)],
    resolve: { scale: { color: 'shared', y: 'independent' } },
    config: { font: 'DejaVu Sans, sans-serif', background: 'white' },
  } as TopLevelSpec;
}

/** Draws the samples (series → milliseconds) into `file` as a PNG. */
export async function plotLatency(samples: Record<string, number[]>, subtitle: string, file: string): Promise<void> {
  const view = new View(parse(compile(spec(samples, subtitle)).spec), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  try {
    const page = await browser.newPage({ deviceScaleFactor: 2 });
    await page.setContent(`<!doctype html><html><body style="margin:0;background:#fff">${svg}</body></html>`);
    await page.locator('svg').first().screenshot({ path: file });
  } finally {
    await browser.close();
  }
}
