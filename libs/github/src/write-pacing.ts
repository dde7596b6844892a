import Bottleneck from 'bottleneck';
import LightBottleneck from 'bottleneck/light.js';

/**
 * Writes that may go out at once after a quiet spell, before the pace of one per
 * `writeIntervalMs` applies. GitHub's secondary limits allow about 80 content-creating requests a
 * minute per user (docs: Rate limits for the REST API, "About secondary rate limits"); a bucket of
 * 10 refilled one a second sends at most 10 + 60 = 70 in any minute. Prow's client is a token
 * bucket too (`github-hourly-tokens`, `github-allowed-burst`), over every request.
 */
export const WRITE_BURST = 10;

interface LocalDatastore {
  Promise: PromiseConstructor;
  yieldLoop(t?: number): Promise<void>;
}

// Bottleneck's in-process datastore awaits a `setTimeout(0)` before each of its steps (submit,
// register, free, …), to behave as its Redis datastore would. A GitHub request goes through three
// limiters (plugin-retry's, plugin-throttling's retry limiter and its global group), a write
// through a fourth: ten or more timer turns of at least 1 ms each, and under load each one a wait
// for the event loop to come round to its timers. The planner's two GETs per comment took 30 ms
// for 2 ms of work (issue 21). `setImmediate` yields to I/O just the same, without the timer.
// Both builds are patched: plugin-retry always uses `bottleneck/light.js`. Bottleneck 2.19.5 is
// its last release (2019): the method patched here does not move.
for (const build of [Bottleneck, LightBottleneck]) {
  const store = Object.getPrototypeOf((new build() as unknown as { _store: object })._store) as LocalDatastore;
  store.yieldLoop = function yieldLoop(this: LocalDatastore, t = 0): Promise<void> {
    return new this.Promise((resolve) => (t > 0 ? setTimeout(resolve, t) : setImmediate(resolve)));
  };
}

/** The Bottleneck build whose datastore yields without a timer; plugin-throttling is given this one. */
export { Bottleneck as PromptBottleneck };

/**
 * plugin-throttling's `write` and `notifications` groups for a pace of one write per
 * `intervalMs`: writes are a token bucket of `WRITE_BURST` refilled one per interval, so the first
 * status of a quiet pull request goes at once instead of up to an interval after the last write;
 * comments (which notify people) keep a plain spacing of three intervals, as the plugin's own
 * default has it. An interval of 0 (tests, a local stand-in) paces nothing.
 */
export function writeGroups(service: string, intervalMs: number): { write: Bottleneck.Group; notifications: Bottleneck.Group } {
  if (intervalMs === 0) {
    return { write: new Bottleneck.Group({ id: `${service}-write` }), notifications: new Bottleneck.Group({ id: `${service}-notifications` }) };
  }
  return {
    write: new Bottleneck.Group({
      id: `${service}-write`,
      maxConcurrent: 1,
      reservoir: WRITE_BURST,
      reservoirIncreaseAmount: 1,
      reservoirIncreaseInterval: intervalMs,
      reservoirIncreaseMaximum: WRITE_BURST,
    }),
    notifications: new Bottleneck.Group({ id: `${service}-notifications`, maxConcurrent: 1, minTime: intervalMs * 3 }),
  };
}
