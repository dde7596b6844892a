import { createHash } from 'node:crypto';
import type { KV } from '@nats-io/kv';
import { Counter, type Registry } from 'prom-client';
import type { ConfigSource, Periodic, TenantFilter } from '@bowline/config';
import type { CronSchedule } from '@bowline/go';
import { isWrongLastSequence } from '@bowline/bus';
import { metricOnce, type Logger } from '@bowline/observability';
import { newPeriodicJob, prowJobName, type ProwJobStore } from '@bowline/prowjob';

/*
 * Prow's horologium, for several planner replicas at once.
 *
 * Time is cut into slots: for `interval` (and `@every`), periods aligned to the epoch; for a cron
 * schedule, the span from one fire time to the next. A slot's run is claimed in the claims bucket
 * with a compare-and-set `create` of `periodic.<job>.<slot>`, and its ProwJob has a name derived
 * from job and slot, so neither two replicas nor a restart run a slot twice.
 *
 * Where Bowline follows horologium (sigs.k8s.io/prow cmd/horologium/main.go, pkg/cron/cron.go):
 * - an interval periodic that has never run runs at once, as does an `@every` cron, which Prow's
 *   cron wrapper triggers on being added;
 * - any other cron periodic seen for the first time, or with a changed schedule, waits for its
 *   next fire time;
 * - after downtime, a missed schedule runs once, not once per missed slot.
 * Where it differs:
 * - an interval counts from the epoch, not from the last run's start, so replicas agree on slots
 *   without reading each other's history; a job's first run (at once) may be followed by the
 *   next sooner than a whole interval later;
 * - a cron fire missed while no planner ran runs when one comes back (the most recent fire only),
 *   where Prow's in-memory cron loses it;
 * - a run starts even while the job's previous run is unfinished, where horologium waits for that
 *   run to finish (interval) or lets the fire pass (cron).
 */

export interface PeriodicSchedulerDeps {
  store: ProwJobStore;
  /** The planner's claims bucket (`planner_claims`); this class uses the keys under `periodic.`. */
  claims: KV;
  config: ConfigSource;
  logger: Logger;
  registry: Registry;
  now?: () => Date;
  /** How often to look at the schedules; a run starts at most this long after its slot begins. */
  tickMs?: number;
  /** `BOWLINE_TENANTS`: whose periodics this planner starts (default every tenant's). */
  tenants?: TenantFilter;
}

/** One scheduled run of a periodic: the time it stands for, and that time as a key token. */
export interface Slot {
  at: Date;
  id: string;
}

const DEFAULT_TICK_MS = 10_000;
const MINUTE_MS = 60_000;
/** parseCron finds any schedule that runs at all within 10 years, so none looks further back. */
const MAX_LOOKBACK_MS = 10 * 366 * 24 * 60 * MINUTE_MS;
const SLOT_ID = /^\d{8}T\d{6}(?:_\d{3})?Z$/;
const STARTED_METRIC = 'bowline_planner_periodics_started_total';

/** What a slot's claim records; a claim that does not say `created` may still lack its ProwJob. */
interface ClaimRecord {
  state: 'claimed' | 'created';
  prowjob: string;
  at: string;
}

/**
 * The job's token in claim keys. NATS KV keys allow `[-/_=.a-zA-Z0-9]`; `/` (Jenkins folders) is
 * kept, `.` and anything else become `_` so the name stays one subject token, and a hash of the
 * full name keeps two names that read the same apart.
 */
export function periodicKey(jobName: string): string {
  const readable = jobName.replace(/[^-/_=a-zA-Z0-9]/g, '_').slice(0, 100);
  const hash = createHash('sha256').update(jobName).digest('hex').slice(0, 8);
  return `${readable}-${hash}`;
}

/** `20240506T070500Z` (and `_mmm` before the Z when the slot has milliseconds): sorts by time. */
export function slotId(at: Date): string {
  const iso = at.toISOString();
  const compact = `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}T${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}`;
  const ms = iso.slice(20, 23);
  return ms === '000' ? `${compact}Z` : `${compact}_${ms}Z`;
}

/** The key whose `create` claims a slot of a periodic. */
export function periodicClaimKey(jobName: string, slot: Slot | string): string {
  return `periodic.${periodicKey(jobName)}.${typeof slot === 'string' ? slot : slot.id}`;
}

/** The ProwJob name of a slot's run: the same for every replica and every retry. */
export function periodicProwJobName(jobName: string, slot: Slot): string {
  return prowJobName('periodic', jobName, slot.id);
}

/**
 * The period of a job that runs at a fixed pace: `interval`, or a cron `@every`, which robfig
 * counts from whenever the entry was added and so has no fire times of its own to align to.
 */
export function intervalOf(periodic: Periodic): number | undefined {
  if (periodic.intervalMs !== undefined) return periodic.intervalMs > 0 ? periodic.intervalMs : undefined;
  const cron = periodic.cron;
  if (!cron || !/^(?:(?:CRON_TZ|TZ)=\S*\s+)?@every\s/.test(cron.expression.trim())) return undefined;
  // A constant-delay schedule's next run after the epoch is the delay itself.
  return cron.next(new Date(0)).getTime();
}

/**
 * The last fire time at or before `now`, or undefined when there is none within ten years.
 *
 * `next(t)` never decreases as `t` grows, so the answer is the smallest `t` whose next fire is
 * after `now`: looking back 1, 2, 4 … minutes finds a `t` whose next fire is not, and a binary
 * search between that and `now` closes in (about 40 `next` calls, whatever the schedule).
 */
export function previousFire(cron: CronSchedule, now: Date): Date | undefined {
  const end = now.getTime();
  const next = (t: number): number | undefined => {
    try {
      return cron.next(new Date(t)).getTime();
    } catch {
      return undefined; // no run at all after t
    }
  };
  let low: number | undefined;
  for (let back = MINUTE_MS; low === undefined; back *= 2) {
    const from = end - Math.min(back, MAX_LOOKBACK_MS);
    const fire = next(from);
    if (fire === undefined) return undefined;
    if (fire <= end) low = from;
    else if (back >= MAX_LOOKBACK_MS) return undefined;
  }
  let high = end; // next(end) > end by definition
  while (high - low > 1) {
    const middle = Math.floor((low + high) / 2);
    const fire = next(middle);
    if (fire !== undefined && fire <= end) low = middle;
    else high = middle;
  }
  return new Date(high);
}

/** Go's time.Duration String() for whole milliseconds: `1h30m0s`, `45s`, `1.5s`. */
function formatDuration(ms: number): string {
  const hours = Math.floor(ms / 3_600_000);
  const minutes = Math.floor((ms % 3_600_000) / MINUTE_MS);
  const seconds = (ms % MINUTE_MS) / 1000;
  if (hours > 0) return `${hours}h${minutes}m${seconds}s`;
  if (minutes > 0) return `${minutes}m${seconds}s`;
  return `${seconds}s`;
}

function scheduleOf(periodic: Periodic): string {
  return periodic.cron?.expression ?? `interval ${formatDuration(periodic.intervalMs ?? 0)}`;
}

function claimState(value: string): ClaimRecord['state'] {
  try {
    return (JSON.parse(value) as Partial<ClaimRecord>).state === 'created' ? 'created' : 'claimed';
  } catch {
    return 'claimed';
  }
}

/** Starts the Jenkins periodics of config.yaml on their schedules; see the top of this file. */
export class PeriodicScheduler {
  private readonly now: () => Date;
  private readonly tickMs: number;
  private readonly started: Counter<'job' | 'tenant'>;
  /** Per job key, the slot known to have its ProwJob: later ticks in that slot touch no bucket. */
  private readonly done = new Map<string, string>();
  /** Per since-marker key, when a replica first saw the job's schedule (never changes once written). */
  private readonly since = new Map<string, Date>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  private stopped = true;

  constructor(private readonly deps: PeriodicSchedulerDeps) {
    this.now = deps.now ?? (() => new Date());
    this.tickMs = deps.tickMs ?? DEFAULT_TICK_MS;
    // A second scheduler on one registry (a restart inside one process) shares the counter.
    this.started = metricOnce(
      deps.registry,
      STARTED_METRIC,
      (registers) => new Counter({ name: STARTED_METRIC, help: 'Periodic runs started (ProwJobs created), by job and tenant', labelNames: ['job', 'tenant'], registers }),
    );
  }

  /** Ticks now and then every `tickMs`; a tick never overlaps the one before. */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    const loop = (): void => {
      this.running = this.tick()
        .catch((error: unknown) => this.deps.logger.error({ err: error }, 'periodic tick failed'))
        .finally(() => {
          if (this.stopped) return;
          this.timer = setTimeout(loop, this.tickMs);
          this.timer.unref();
        });
    };
    loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** One pass over every Jenkins periodic; returns the names of the ProwJobs it created. */
  async tick(): Promise<string[]> {
    const now = this.now();
    const created: string[] = [];
    for (const periodic of this.deps.config.get().periodics) {
      // A planner of some tenants (BOWLINE_TENANTS) starts only their periodics.
      if (periodic.agent !== 'jenkins' || !(this.deps.tenants?.includes(periodic.tenant) ?? true)) continue;
      try {
        const name = await this.runIfDue(periodic, now);
        if (name) created.push(name);
      } catch (error) {
        // The next tick tries again: the claim and the ProwJob name make a retry safe.
        this.deps.logger.warn({ job: periodic.name, err: error }, 'cannot start periodic: will retry');
      }
    }
    return created;
  }

  private async runIfDue(periodic: Periodic, now: Date): Promise<string | undefined> {
    const key = periodicKey(periodic.name);
    const slot = await this.dueSlot(periodic, key, now);
    if (!slot || this.done.get(key) === slot.id) return undefined;
    const { claims, store } = this.deps;
    const claimKey = `periodic.${key}.${slot.id}`;
    const name = periodicProwJobName(periodic.name, slot);
    const log = this.deps.logger.child({ job: periodic.name, prowjob: name, slot: slot.at.toISOString() });

    let revision: number;
    let won = false;
    const record: ClaimRecord = { state: 'claimed', prowjob: name, at: now.toISOString() };
    try {
      revision = await claims.create(claimKey, JSON.stringify(record));
      won = true;
    } catch (error) {
      if (!isWrongLastSequence(error)) throw error;
      const entry = await claims.get(claimKey);
      if (!entry || entry.operation !== 'PUT') return undefined; // pruned meanwhile: look again next tick
      if (claimState(entry.string()) === 'created') {
        this.done.set(key, slot.id);
        return undefined;
      }
      // Claimed but not known to be created: its claimer may have died before creating the
      // ProwJob. Creating it here is safe: the store's create lets only one of us succeed.
      revision = entry.revision;
    }

    const job = newPeriodicJob(periodic, { name, now, cause: { scheduledFor: slot.at, schedule: scheduleOf(periodic) } });
    const isNew = await store.create(job);
    if (isNew) {
      this.started.inc({ job: periodic.name, tenant: periodic.tenant });
      log.info({ healed: !won }, 'periodic started');
    } else {
      log.debug('periodic run exists already');
    }
    // Marked so that a ProwJob the sinker deletes later, inside a long slot, is not created again.
    try {
      await claims.update(claimKey, JSON.stringify({ ...record, state: 'created' } satisfies ClaimRecord), revision);
    } catch (error) {
      if (!isWrongLastSequence(error)) throw error; // another replica marked it first
    }
    this.done.set(key, slot.id);
    if (won) await this.pruneClaims(key, slot.id, log);
    return isNew ? name : undefined;
  }

  /** The slot whose run is due now, if any, for the job's schedule. */
  private async dueSlot(periodic: Periodic, key: string, now: Date): Promise<Slot | undefined> {
    const every = intervalOf(periodic);
    if (every !== undefined) {
      const at = new Date(Math.floor(now.getTime() / every) * every);
      return { at, id: slotId(at) };
    }
    if (!periodic.cron) return undefined;
    const fire = previousFire(periodic.cron, now);
    if (!fire) return undefined;
    const slot = { at: fire, id: slotId(fire) };
    if (this.done.get(key) === slot.id) return slot;
    // A fire from before the schedule was first seen belongs to a schedule nobody was running yet.
    return fire.getTime() >= (await this.firstSeen(key, periodic.cron, now)).getTime() ? slot : undefined;
  }

  /**
   * When a replica first saw this job with this schedule. The schedule is part of the marker, so
   * a changed schedule waits for its next fire as a new one does (Prow's cron re-adds the entry).
   */
  private async firstSeen(key: string, cron: CronSchedule, now: Date): Promise<Date> {
    const markerKey = `periodic.${key}.since-${createHash('sha256').update(cron.expression).digest('hex').slice(0, 8)}`;
    const known = this.since.get(markerKey);
    if (known) return known;
    let since = now;
    try {
      await this.deps.claims.create(markerKey, now.toISOString());
    } catch (error) {
      if (!isWrongLastSequence(error)) throw error;
      const entry = await this.deps.claims.get(markerKey);
      const written = entry ? new Date(entry.string()) : undefined;
      // An unreadable marker still says the job was seen before: any fire may run.
      since = written && !Number.isNaN(written.getTime()) ? written : new Date(0);
    }
    this.since.set(markerKey, since);
    return since;
  }

  /**
   * Removes the job's claims older than the previous slot, so the bucket holds two per job rather
   * than one per run. The previous one stays for a replica whose clock lags behind this one's.
   */
  private async pruneClaims(key: string, current: string, log: Logger): Promise<void> {
    try {
      const prefix = `periodic.${key}.`;
      const older: string[] = [];
      for await (const claimKey of await this.deps.claims.keys(`${prefix}*`)) {
        const id = claimKey.slice(prefix.length);
        if (SLOT_ID.test(id) && id < current) older.push(id);
      }
      older.sort().pop();
      for (const id of older) await this.deps.claims.purge(`${prefix}${id}`);
    } catch (error) {
      log.warn({ err: error }, 'cannot prune old periodic claims');
    }
  }
}
