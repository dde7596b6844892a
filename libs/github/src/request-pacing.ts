import { Spacing, WriteBucket, type Pace, type PaceSettings, type RequestKind } from './write-pacing.js';

/**
 * Requests of one identity in flight at once. GitHub asks for requests one at a time (docs: Best
 * practices for using the REST API, "Avoid concurrent requests"); ten is the bound
 * @octokit/plugin-throttling kept, which the services ran under until they had their own.
 */
export const MAX_IN_FLIGHT = 10;

interface Waiter {
  kind: RequestKind;
  go: () => void;
}

/** A paced kind of request and those waiting for their turn at it, first asked first. */
interface Lane {
  pace: Pace;
  queue: Waiter[];
}

/**
 * The order and pace of one GitHub identity's requests. A request passes, in order: a primary rate
 * limit's hold (nothing goes until its reset), its lane's pace (writes, searches; reads have none),
 * and a slot among `MAX_IN_FLIGHT`. Each stage is first come, first served, so writes go out in the
 * order they were asked for, except that a write may pass a comment waiting only for its spacing. A request with nothing to wait for is admitted where it is asked, with
 * no timer or turn of the event loop (issue 21: each such turn cost milliseconds under load); the
 * one timer a pacer keeps is set only while something waits.
 */
export class RequestPacer {
  private inFlight = 0;
  /** Requests past their pace, waiting for a slot. */
  private readonly slots: Waiter[] = [];
  private readonly writes: Lane | undefined;
  private readonly searches: Lane | undefined;
  private heldUntil = 0;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Number.POSITIVE_INFINITY;

  constructor(
    settings: PaceSettings | undefined,
    private readonly clock: () => number = Date.now,
  ) {
    if (settings) {
      this.writes = { pace: new WriteBucket(settings.writeBurst, settings.writeIntervalMs, clock()), queue: [] };
      this.searches = { pace: new Spacing(settings.searchIntervalMs), queue: [] };
    }
  }

  /**
   * Admits a request: `undefined` when it may go now (its slot taken), else a promise settled when
   * it may. `again`: a request going again after a wait, which keeps its place at the front.
   * Every admitted request must be followed by `done()` once its answer is in.
   */
  admit(kind: RequestKind, again = false): Promise<void> | undefined {
    const lane = this.laneOf(kind);
    const now = this.clock();
    if (this.heldUntil <= now && this.slots.length === 0 && this.inFlight < MAX_IN_FLIGHT && (!lane || (lane.queue.length === 0 && lane.pace.waitMs(kind, now) === 0))) {
      lane?.pace.take(kind, now);
      this.inFlight += 1;
      return undefined;
    }
    return new Promise<void>((go) => {
      const queue = lane ? lane.queue : this.slots;
      if (again) queue.unshift({ kind, go });
      else queue.push({ kind, go });
      this.pump();
    });
  }

  /** The answer to an admitted request is in: its slot goes to the next in line. */
  done(): void {
    this.inFlight -= 1;
    if (this.slots.length > 0) this.pump();
  }

  /**
   * Holds every request of the identity until `until` (ms since the epoch): GitHub counts the
   * primary limit per identity, and "if you continue to make requests while rate limited, your
   * integration may be banned" (docs: Rate limits for the REST API).
   */
  holdUntil(until: number): void {
    this.heldUntil = Math.max(this.heldUntil, until);
  }

  /** Requests waiting their turn (not those in flight). */
  get waiting(): number {
    return this.slots.length + (this.writes?.queue.length ?? 0) + (this.searches?.queue.length ?? 0);
  }

  private laneOf(kind: RequestKind): Lane | undefined {
    if (kind === 'write' || kind === 'notifying-write') return this.writes;
    if (kind === 'search') return this.searches;
    return undefined;
  }

  /** Lets through whatever may go now, and sets the timer for the earliest that may go later. */
  private pump(): void {
    const now = this.clock();
    if (this.heldUntil > now) {
      this.wakeAt(this.heldUntil, now);
      return;
    }
    let wakeAt = Number.POSITIVE_INFINITY;
    for (const lane of [this.writes, this.searches]) {
      // A comment held only by its spacing lets the writes behind it pass (their tokens are there),
      // as plugin-throttling's separate groups did: a status need not wait three intervals behind
      // a comment. Comments keep their order among themselves, and a write short of a token stops
      // everything behind it.
      let commentHeld = false;
      for (let i = 0; lane && i < lane.queue.length; ) {
        const waiter = lane.queue[i]!;
        const wait = lane.pace.waitMs(waiter.kind, now);
        if (wait === 0 && !(commentHeld && waiter.kind === 'notifying-write')) {
          lane.pace.take(waiter.kind, now);
          this.slots.push(...lane.queue.splice(i, 1));
          continue;
        }
        if (wait > 0) wakeAt = Math.min(wakeAt, now + wait);
        if (waiter.kind !== 'notifying-write') break;
        // The next token may come before the comment's spacing ends: the writes behind go then.
        const forToken = lane.pace.waitMs('write', now);
        if (forToken > 0) {
          wakeAt = Math.min(wakeAt, now + forToken);
          break;
        }
        commentHeld = true;
        i += 1;
      }
    }
    while (this.slots.length > 0 && this.inFlight < MAX_IN_FLIGHT) {
      this.inFlight += 1;
      this.slots.shift()!.go();
    }
    if (wakeAt < Number.POSITIVE_INFINITY) this.wakeAt(wakeAt, now);
  }

  private wakeAt(at: number, now: number): void {
    if (this.timer && this.timerAt <= at) return;
    clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timerAt = Number.POSITIVE_INFINITY;
      this.pump();
    }, at - now);
  }
}

const pacers = new Map<string, RequestPacer>();

/**
 * The pacer of one identity in this process, made on first use: a client made again for the same
 * identity (a tenant's new credentials, a second class for it) shares the budget of the first, as
 * GitHub counts it. Identities are few (the service's own and one per tenant), so none is dropped.
 */
export function pacerOf(identity: string, settings: PaceSettings | undefined): RequestPacer {
  const key = `${identity}\0${JSON.stringify(settings ?? null)}`;
  let pacer = pacers.get(key);
  if (!pacer) {
    pacer = new RequestPacer(settings);
    pacers.set(key, pacer);
  }
  return pacer;
}
