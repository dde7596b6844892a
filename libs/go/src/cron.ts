import { BowlineError } from '@bowline/observability';

/** A periodic's `cron:` that Prow would refuse, or that Bowline cannot run as Prow would. */
export class CronError extends BowlineError {}

export interface CronSchedule {
  /** The first run strictly after `after`, in UTC. */
  next(after: Date): Date;
  readonly expression: string;
}

interface FieldBounds {
  readonly label: string;
  readonly min: number;
  readonly max: number;
  readonly names?: Readonly<Record<string, number>>;
  readonly nameHint?: string;
}

const MINUTE: FieldBounds = { label: 'minute', min: 0, max: 59 };
const HOUR: FieldBounds = { label: 'hour', min: 0, max: 23 };
const DAY_OF_MONTH: FieldBounds = { label: 'day of month', min: 1, max: 31 };
const MONTH: FieldBounds = {
  label: 'month',
  min: 1,
  max: 12,
  names: { jan: 1, feb: 2, mar: 3, apr: 4, may: 5, jun: 6, jul: 7, aug: 8, sep: 9, oct: 10, nov: 11, dec: 12 },
  nameHint: ' or a month name (JAN-DEC)',
};
// robfig/cron v3 bounds day of week to 0-6: unlike Vixie cron, 7 is not Sunday.
const DAY_OF_WEEK: FieldBounds = {
  label: 'day of week',
  min: 0,
  max: 6,
  names: { sun: 0, mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6 },
  nameHint: ' or a day name (SUN-SAT)',
};
const FIELDS = [MINUTE, HOUR, DAY_OF_MONTH, MONTH, DAY_OF_WEEK] as const;

/**
 * Zone names that Go's time.LoadLocation resolves to a zone whose offset is always zero (tzdata's
 * UTC and GMT aliases), so evaluating them in UTC is exact. Go maps "" to UTC too.
 */
const UTC_ZONES = new Set([
  ...['', 'UTC', 'Etc/UTC', 'Etc/UCT', 'UCT', 'Etc/Universal', 'Universal', 'Etc/Zulu', 'Zulu'],
  ...['GMT', 'Etc/GMT', 'GMT0', 'Etc/GMT0', 'GMT+0', 'Etc/GMT+0', 'GMT-0', 'Etc/GMT-0', 'Greenwich', 'Etc/Greenwich'],
]);

/**
 * A Feb 29 schedule waits at most 8 years (2096 → 2104, 2100 not being a leap year); robfig's
 * Next gives up after 5 and returns the zero time. Any schedule that runs at all runs within this.
 */
const SEARCH_YEARS = 10;
/** From here, SEARCH_YEARS covers three Feb 29ths: the probe that tells "never runs" apart. */
const PROBE_FROM = utc(2000, 0, 1);

const MINUTE_MS = 60_000;
const NS_PER_SECOND = 1_000_000_000n;
const NS_PER_MS = 1_000_000n;
const MAX_DURATION_NS = (1n << 63n) - 1n;

interface FieldSet {
  readonly allowed: readonly boolean[];
  /** robfig's star bit: `*` or `?` (step 1) was written, which switches off the dom/dow OR rule. */
  readonly star: boolean;
}

interface Fields {
  minute: FieldSet;
  hour: FieldSet;
  dayOfMonth: FieldSet;
  month: FieldSet;
  dayOfWeek: FieldSet;
}

/**
 * Parses a Prow periodic's `cron:` the way Prow does, with robfig/cron v3's standard parser
 * (`cron.ParseStandard`): five fields or a descriptor, an optional `CRON_TZ=`/`TZ=` prefix.
 *
 * Schedules are evaluated in UTC. Prow evaluates them in the process's local zone, which is UTC
 * in its container images; a zone prefix other than UTC is refused rather than silently shifted.
 */
export function parseCron(expression: string): CronSchedule {
  const fail = (what: string): never => {
    throw new CronError(`invalid cron schedule ${JSON.stringify(expression)}: ${what}`, { context: { expression } });
  };
  // robfig trims only after a zone prefix; trimming always lets a YAML block scalar's newline through.
  let spec = expression.trim();
  if (spec === '') fail('it is empty');

  const zone = /^(?:CRON_TZ|TZ)=(\S*)(?:\s+|$)/.exec(spec);
  if (zone) {
    const name = zone[1]!;
    if (zone[0].length === spec.length) {
      fail(`the time zone prefix ${JSON.stringify(zone[0].trim())} is not followed by a schedule`);
    }
    if (!UTC_ZONES.has(name)) {
      fail(
        `time zone ${JSON.stringify(name)} is not supported: Bowline evaluates schedules in UTC, ` +
          'so write the schedule in UTC and drop the CRON_TZ=/TZ= prefix (or use CRON_TZ=UTC)',
      );
    }
    spec = spec.slice(zone[0].length);
  }

  if (spec.startsWith('@')) {
    const every = parseEvery(spec, fail);
    if (every !== undefined) return constantDelaySchedule(expression, every);
    return specSchedule(expression, parseDescriptor(spec, fail), fail);
  }

  const parts = spec.split(/\s+/);
  if (parts.length !== FIELDS.length) {
    fail(
      `expected 5 fields, found ${parts.length} (minute hour day-of-month month day-of-week; ` +
        "Prow's standard parser has no seconds field)",
    );
  }
  const sets = FIELDS.map((bounds, i) => parseField(parts[i]!, bounds, fail));
  const fields = { minute: sets[0]!, hour: sets[1]!, dayOfMonth: sets[2]!, month: sets[3]!, dayOfWeek: sets[4]! };
  return specSchedule(expression, fields, fail);
}

function specSchedule(expression: string, fields: Fields, fail: (what: string) => never): CronSchedule {
  // robfig's Next would return the zero time for these; Prow would load the job and never run it.
  if (findNext(fields, PROBE_FROM) === undefined) {
    fail('it never runs: no month it names has the day of month it names');
  }
  return {
    expression,
    next(after: Date): Date {
      const from = checkedTime(after, expression);
      const found = findNext(fields, from);
      if (found === undefined) {
        throw new CronError(`cron schedule ${JSON.stringify(expression)} has no run after ${after.toISOString()}`, {
          context: { expression },
        });
      }
      return new Date(found);
    },
  };
}

function constantDelaySchedule(expression: string, delayMs: number): CronSchedule {
  return {
    expression,
    next(after: Date): Date {
      const from = checkedTime(after, expression);
      // ConstantDelaySchedule.Next drops the sub-second part of `after`, then adds the delay.
      const next = new Date(Math.floor(from / 1000) * 1000 + delayMs);
      if (Number.isNaN(next.getTime())) {
        throw new CronError(`cron schedule ${JSON.stringify(expression)} has no run after ${after.toISOString()}`, {
          context: { expression },
        });
      }
      return next;
    },
  };
}

function checkedTime(after: Date, expression: string): number {
  const time = after instanceof Date ? after.getTime() : Number.NaN;
  if (Number.isNaN(time)) {
    throw new CronError(`cannot compute the next run of ${JSON.stringify(expression)} after an invalid date`, {
      context: { expression },
    });
  }
  return time;
}

function parseDescriptor(spec: string, fail: (what: string) => never): Fields {
  const only = (bounds: FieldBounds, value: number): FieldSet => ({
    allowed: bitsFor(bounds, value, value, 1),
    star: false,
  });
  const every = (bounds: FieldBounds): FieldSet => ({
    allowed: bitsFor(bounds, bounds.min, bounds.max, 1),
    star: true,
  });
  const everyDay = { dayOfMonth: every(DAY_OF_MONTH), month: every(MONTH), dayOfWeek: every(DAY_OF_WEEK) };
  const midnight = { minute: only(MINUTE, 0), hour: only(HOUR, 0) };
  // Descriptors are matched case-sensitively, as robfig's parseDescriptor does.
  switch (spec) {
    case '@yearly':
    case '@annually':
      return { ...midnight, dayOfMonth: only(DAY_OF_MONTH, 1), month: only(MONTH, 1), dayOfWeek: every(DAY_OF_WEEK) };
    case '@monthly':
      return { ...midnight, dayOfMonth: only(DAY_OF_MONTH, 1), month: every(MONTH), dayOfWeek: every(DAY_OF_WEEK) };
    case '@weekly':
      return { ...midnight, dayOfMonth: every(DAY_OF_MONTH), month: every(MONTH), dayOfWeek: only(DAY_OF_WEEK, 0) };
    case '@daily':
    case '@midnight':
      return { ...midnight, ...everyDay };
    case '@hourly':
      return { minute: only(MINUTE, 0), hour: every(HOUR), ...everyDay };
    default:
      return fail(
        `unrecognized descriptor ${JSON.stringify(spec)} (expected @yearly, @annually, @monthly, @weekly, @daily, ` +
          '@midnight, @hourly or @every <duration>)',
      );
  }
}

/** `@every <Go duration>` → the delay in milliseconds, as robfig's Every() rounds it. */
function parseEvery(spec: string, fail: (what: string) => never): number | undefined {
  const prefix = '@every ';
  if (!spec.startsWith(prefix)) return undefined;
  const text = spec.slice(prefix.length);
  const ns = parseGoDuration(text, (what) => fail(`@every: ${what}`));
  // robfig's Every() turns anything under a second, zero and negatives included, into one second;
  // a zero or negative interval is a mistake, so Bowline refuses it instead.
  if (ns <= 0n) fail(`@every: the interval must be positive, found ${JSON.stringify(text)}`);
  const whole = ns < NS_PER_SECOND ? NS_PER_SECOND : ns - (ns % NS_PER_SECOND);
  return Number(whole / NS_PER_MS);
}

const DURATION_UNITS: Readonly<Record<string, bigint>> = {
  ns: 1n,
  us: 1_000n,
  'µs': 1_000n, // U+00B5 micro sign
  'μs': 1_000n, // U+03BC Greek mu
  ms: 1_000_000n,
  s: NS_PER_SECOND,
  m: 60n * NS_PER_SECOND,
  h: 3600n * NS_PER_SECOND,
};

/** Go's time.ParseDuration, in nanoseconds: `[-+]?([0-9]*(\.[0-9]*)?[a-z]+)+`, or a bare `0`. */
function parseGoDuration(text: string, fail: (what: string) => never): bigint {
  const invalid = () => fail(`invalid duration ${JSON.stringify(text)}`);
  let rest = text;
  let negative = false;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    negative = rest.startsWith('-');
    rest = rest.slice(1);
  }
  if (rest === '0') return 0n;
  if (rest === '') invalid();
  let total = 0n;
  while (rest !== '') {
    const number = /^([0-9]*)(?:\.([0-9]*))?/.exec(rest)!;
    const whole = number[1]!;
    const fraction = number[2];
    if (whole === '' && (fraction === undefined || fraction === '')) invalid();
    rest = rest.slice(number[0].length);
    const unitText = /^[^0-9.]*/.exec(rest)![0];
    if (unitText === '') fail(`missing unit in duration ${JSON.stringify(text)}`);
    const unit = DURATION_UNITS[unitText];
    if (unit === undefined) return fail(`unknown unit ${JSON.stringify(unitText)} in duration ${JSON.stringify(text)}`);
    rest = rest.slice(unitText.length);
    let value = BigInt(whole === '' ? '0' : whole) * unit;
    if (fraction) value += (BigInt(fraction) * unit) / 10n ** BigInt(fraction.length);
    total += value;
    if (total > MAX_DURATION_NS) invalid();
  }
  return negative ? -total : total;
}

/** One field: a comma-separated list of `*`, `?`, `n`, `a-b`, each with an optional `/step`. */
function parseField(text: string, bounds: FieldBounds, fail: (what: string) => never): FieldSet {
  const problem = (what: string): never => fail(`${bounds.label} field: ${what}`);
  const allowed: boolean[] = new Array<boolean>(bounds.max + 1).fill(false);
  let star = false;
  // strings.FieldsFunc drops empty items, so robfig reads "1,,2" as "1,2".
  const items = text.split(',').filter((item) => item !== '');
  if (items.length === 0) problem(`${JSON.stringify(text)} lists no values`);
  for (const item of items) {
    const rangeAndStep = item.split('/');
    if (rangeAndStep.length > 2) problem(`too many slashes in ${JSON.stringify(item)}`);
    const lowAndHigh = rangeAndStep[0]!.split('-');
    if (lowAndHigh.length > 2) problem(`too many hyphens in ${JSON.stringify(item)}`);
    let start: number;
    let end: number;
    let itemStar = false;
    if (lowAndHigh[0] === '*' || lowAndHigh[0] === '?') {
      // robfig ignores whatever follows "*-"; such a range is a typo, so it is refused here.
      if (lowAndHigh.length === 2) {
        problem(`${JSON.stringify(item)} is not a range: "${lowAndHigh[0]}" already means every value`);
      }
      start = bounds.min;
      end = bounds.max;
      itemStar = true;
    } else {
      start = parseValue(lowAndHigh[0]!, item, bounds, problem);
      end = lowAndHigh.length === 2 ? parseValue(lowAndHigh[1]!, item, bounds, problem) : start;
      if (start > end) problem(`range ${JSON.stringify(rangeAndStep[0])} runs backwards (${start} is after ${end})`);
    }
    let step = 1;
    if (rangeAndStep.length === 2) {
      const stepText = rangeAndStep[1]!;
      if (!/^\+?[0-9]+$/.test(stepText)) {
        problem(`step ${JSON.stringify(stepText)} in ${JSON.stringify(item)} is not a number`);
      }
      step = Number(stepText);
      if (step === 0) problem(`step in ${JSON.stringify(item)} must be a positive number`);
      // robfig: "N/step" means "N-max/step".
      if (lowAndHigh.length === 1) end = bounds.max;
      // robfig v3 keeps the star bit only for a step of 1: "*/2" restricts the field.
      if (step > 1) itemStar = false;
    }
    star ||= itemStar;
    const bits = bitsFor(bounds, start, end, step);
    bits.forEach((on, i) => {
      if (on) allowed[i] = true;
    });
  }
  return { allowed, star };
}

function parseValue(text: string, item: string, bounds: FieldBounds, problem: (what: string) => never): number {
  const named = bounds.names?.[text.toLowerCase()];
  if (named !== undefined) return named;
  // strconv.Atoi: decimal digits, an optional "+", leading zeros allowed.
  if (!/^\+?[0-9]+$/.test(text)) {
    const where = text === item ? '' : ` in ${JSON.stringify(item)}`;
    return problem(`${JSON.stringify(text)}${where} is not a number${bounds.nameHint ?? ''}`);
  }
  const value = Number(text);
  if (value < bounds.min) problem(`${value} is below ${bounds.min}`);
  if (value > bounds.max) problem(`${text.replace(/^\+/, '')} is above ${bounds.max}`);
  return value;
}

function bitsFor(bounds: FieldBounds, start: number, end: number, step: number): boolean[] {
  const bits = new Array<boolean>(bounds.max + 1).fill(false);
  for (let i = start; i <= end; i += step) bits[i] = true;
  return bits;
}

/** robfig's dayMatches: day of month OR day of week, unless either was written as `*`/`?`. */
function dayMatches(fields: Fields, time: Date): boolean {
  const dom = fields.dayOfMonth.allowed[time.getUTCDate()] === true;
  const dow = fields.dayOfWeek.allowed[time.getUTCDay()] === true;
  if (fields.dayOfMonth.star || fields.dayOfWeek.star) return dom && dow;
  return dom || dow;
}

/** Date.UTC without its mapping of years 0-99 to 1900-1999. */
function utc(year: number, month: number, day: number, hour = 0, minute = 0): number {
  const date = new Date(0);
  date.setUTCFullYear(year, month, day);
  date.setUTCHours(hour, minute, 0, 0);
  return date.getTime();
}

function nextAllowed(set: FieldSet, from: number): number | undefined {
  for (let i = from; i < set.allowed.length; i++) if (set.allowed[i]) return i;
  return undefined;
}

/**
 * The first whole minute strictly after `after` that the fields allow, or undefined when none
 * comes within SEARCH_YEARS. Each step jumps to the next candidate month, day, hour or minute.
 */
function findNext(fields: Fields, after: number): number | undefined {
  let t = Math.floor(after / MINUTE_MS) * MINUTE_MS + MINUTE_MS;
  const lastYear = new Date(t).getUTCFullYear() + SEARCH_YEARS;
  for (;;) {
    const now = new Date(t);
    const year = now.getUTCFullYear();
    if (year > lastYear) return undefined;
    const month = now.getUTCMonth(); // 0-based; the field is 1-based
    if (!fields.month.allowed[month + 1]) {
      const nextMonth = nextAllowed(fields.month, month + 2);
      t = nextMonth === undefined ? utc(year + 1, nextAllowed(fields.month, 1)! - 1, 1) : utc(year, nextMonth - 1, 1);
      continue;
    }
    const day = now.getUTCDate();
    if (!dayMatches(fields, now)) {
      t = utc(year, month, day + 1);
      continue;
    }
    const hour = now.getUTCHours();
    if (!fields.hour.allowed[hour]) {
      const nextHour = nextAllowed(fields.hour, hour + 1);
      t = nextHour === undefined ? utc(year, month, day + 1) : utc(year, month, day, nextHour);
      continue;
    }
    const minute = now.getUTCMinutes();
    if (!fields.minute.allowed[minute]) {
      const nextMinute = nextAllowed(fields.minute, minute + 1);
      t = nextMinute === undefined ? utc(year, month, day, hour + 1) : utc(year, month, day, hour, nextMinute);
      continue;
    }
    return t;
  }
}
