import { describe, expect, it } from '@jest/globals';
import { BowlineError } from '@bowline/observability';
import { CronError, parseCron } from '../src/cron.js';

// Weekdays used below: 2024-01-01 Mon, 2024-02-29 Thu, 2024-07-01 Mon, 2024-09-01 Sun, 2024-12-01 Sun.
describe('the next run of a cron schedule, in UTC', () => {
  it.each([
    // [schedule, after, next run]
    ['*/15 * * * *', '2024-05-10T10:07:30Z', '2024-05-10T10:15:00Z'],
    ['*/15 * * * *', '2024-05-10T10:45:00Z', '2024-05-10T11:00:00Z'],
    ['*/15 * * * *', '2024-05-10T10:44:59.999Z', '2024-05-10T10:45:00Z'],
    ['0 * * * *', '2024-05-10T10:00:00Z', '2024-05-10T11:00:00Z'],
    ['30 2 * * *', '2024-12-31T03:00:00Z', '2025-01-01T02:30:00Z'],
    ['0 22-23 * * *', '2024-05-10T23:00:00Z', '2024-05-11T22:00:00Z'],
    ['0 0 1 * *', '2024-01-31T12:00:00Z', '2024-02-01T00:00:00Z'],
    ['0 0 31 * *', '2024-04-01T00:00:00Z', '2024-05-31T00:00:00Z'],
    ['59 23 31 12 *', '2024-12-31T23:59:00Z', '2025-12-31T23:59:00Z'],
    ['0 12 29 2 *', '2024-01-15T00:00:00Z', '2024-02-29T12:00:00Z'],
    ['0 12 29 2 *', '2024-02-29T12:00:00Z', '2028-02-29T12:00:00Z'],
    ['0 12 29 2 *', '2097-01-01T00:00:00Z', '2104-02-29T12:00:00Z'],
    ['10-40/10 * * * *', '2024-05-10T10:10:00Z', '2024-05-10T10:20:00Z'],
    ['10-40/10 * * * *', '2024-05-10T10:41:00Z', '2024-05-10T11:10:00Z'],
    ['50/5 * * * *', '2024-05-10T10:56:00Z', '2024-05-10T11:50:00Z'],
    ['1,,2 * * * *', '2024-05-10T10:01:00Z', '2024-05-10T10:02:00Z'],
    ['05 +3 * * *', '2024-05-10T00:00:00Z', '2024-05-10T03:05:00Z'],
    ['0 0 * * 0', '2024-09-02T00:00:00Z', '2024-09-08T00:00:00Z'],
    ['0 9 * * MON-FRI', '2024-09-06T09:00:00Z', '2024-09-09T09:00:00Z'],
    ['0 9 ? * sun', '2024-09-01T10:00:00Z', '2024-09-08T09:00:00Z'],
    ['0 0 * JAN,jul Mon', '2024-02-01T00:00:00Z', '2024-07-01T00:00:00Z'],
    ['0 0 1 jan/6 *', '2024-02-01T00:00:00Z', '2024-07-01T00:00:00Z'],
    ['0 0 15 * *', '2024-09-01T00:00:00Z', '2024-09-15T00:00:00Z'],
    // Both day fields restricted: either one is enough.
    ['0 9 13 * FRI', '2024-09-01T00:00:00Z', '2024-09-06T09:00:00Z'],
    ['0 9 13 * FRI', '2024-09-06T09:00:00Z', '2024-09-13T09:00:00Z'],
    ['0 9 13 * FRI', '2024-09-13T09:00:00Z', '2024-09-20T09:00:00Z'],
    ['0 9 2 * FRI', '2024-09-01T00:00:00Z', '2024-09-02T09:00:00Z'],
    ['0 0 1-31 * MON', '2024-09-02T00:00:00Z', '2024-09-03T00:00:00Z'],
    // "*/2" restricts the field (robfig v3 drops the star for steps above 1), so the OR rule applies ...
    ['0 0 1 * */2', '2024-09-01T00:00:00Z', '2024-09-03T00:00:00Z'],
    // ... while "*/1" is still a star, and the day of month alone decides.
    ['0 0 1 * */1', '2024-09-01T00:00:00Z', '2024-10-01T00:00:00Z'],
    ['@yearly', '2024-06-01T00:00:00Z', '2025-01-01T00:00:00Z'],
    ['@annually', '2024-12-31T23:59:59Z', '2025-01-01T00:00:00Z'],
    ['@monthly', '2024-01-31T23:59:00Z', '2024-02-01T00:00:00Z'],
    ['@weekly', '2024-09-04T00:00:00Z', '2024-09-08T00:00:00Z'],
    ['@daily', '2024-02-28T00:00:00Z', '2024-02-29T00:00:00Z'],
    ['@midnight', '2024-02-29T00:00:00Z', '2024-03-01T00:00:00Z'],
    ['@hourly', '2024-05-10T10:00:00Z', '2024-05-10T11:00:00Z'],
    ['CRON_TZ=UTC 0 6 * * *', '2024-05-10T06:00:00Z', '2024-05-11T06:00:00Z'],
    ['TZ=Etc/UTC @daily', '2024-05-10T06:00:00Z', '2024-05-11T00:00:00Z'],
    ['  0  6\t* * *\n', '2024-05-10T05:00:00Z', '2024-05-10T06:00:00Z'],
  ])('%j after %s runs at %s', (schedule, after, expected) => {
    expect(parseCron(schedule).next(new Date(after)).toISOString()).toBe(new Date(expected).toISOString());
  });

  it.each([
    // [schedule, after, next run]: robfig's ConstantDelaySchedule drops the fraction of a second of
    // `after`, and rounds the interval down to whole seconds with a floor of one second.
    ['@every 1h30m', '2024-01-01T00:00:00.750Z', '2024-01-01T01:30:00.000Z'],
    ['@every 90s', '2024-01-01T10:00:10.000Z', '2024-01-01T10:01:40.000Z'],
    ['@every 1m', '2024-01-01T10:00:30.999Z', '2024-01-01T10:01:30.000Z'],
    ['@every 1.5s', '2024-01-01T10:00:00.000Z', '2024-01-01T10:00:01.000Z'],
    ['@every 500ms', '2024-01-01T10:00:00.000Z', '2024-01-01T10:00:01.000Z'],
    ['@every 2h0.5m', '2024-01-01T10:00:00.000Z', '2024-01-01T12:00:30.000Z'],
    ['@every .5h', '2024-01-01T10:00:00.000Z', '2024-01-01T10:30:00.000Z'],
    ['@every 1µs1h', '2024-01-01T10:00:00.000Z', '2024-01-01T11:00:00.000Z'],
    ['@every 24h', '2024-02-28T08:00:00.000Z', '2024-02-29T08:00:00.000Z'],
  ])('%j after %s runs at %s', (schedule, after, expected) => {
    expect(parseCron(schedule).next(new Date(after)).toISOString()).toBe(expected);
  });

  it('keeps the expression as written', () => {
    expect(parseCron('CRON_TZ=UTC @hourly').expression).toBe('CRON_TZ=UTC @hourly');
  });

  it('walks a schedule forward run after run', () => {
    const schedule = parseCron('0 9 13 * FRI');
    const runs: string[] = [];
    let at = new Date('2024-09-01T00:00:00Z');
    for (let i = 0; i < 5; i++) {
      at = schedule.next(at);
      runs.push(at.toISOString().slice(0, 10));
    }
    expect(runs).toEqual(['2024-09-06', '2024-09-13', '2024-09-20', '2024-09-27', '2024-10-04']);
  });

  it('refuses an invalid date to start from', () => {
    expect(() => parseCron('@daily').next(new Date('not a date'))).toThrow(CronError);
    expect(() => parseCron('@every 1h').next(new Date(Number.NaN))).toThrow('invalid date');
  });
});

describe('cron schedules Prow would accept', () => {
  it.each([
    ['0 0 29 2 *'],
    ['0 0 30 1,2 *'],
    ['0 0 30 2 MON'],
    ['0 0 31 4,6,9,11 SUN'],
    ['59 23 31 DEC SAT'],
    ['* * * * *'],
    ['? ? ? ? ?'],
    ['*/60 * * * *'],
    ['0 0 * * 6'],
    ['0 0 * JAN-mar,Oct *'],
    ['0 0 * * MON-FRI/2'],
    ['CRON_TZ=UTC 0 6 * * *'],
    ['TZ=UTC @weekly'],
    ['CRON_TZ=Etc/GMT 0 6 * * *'],
    ['@every 1h30m'],
    ['@every 1s'],
  ])('accepts %j', (schedule) => {
    expect(parseCron(schedule).expression).toBe(schedule);
  });
});

describe('cron schedules that are refused, with what is wrong and where', () => {
  it.each([
    ['61 * * * *', 'minute field: 61 is above 59'],
    ['0 24 * * *', 'hour field: 24 is above 23'],
    ['0 0 0 * *', 'day of month field: 0 is below 1'],
    ['0 0 32 * *', 'day of month field: 32 is above 31'],
    ['0 0 * 0 *', 'month field: 0 is below 1'],
    ['0 0 * 13 *', 'month field: 13 is above 12'],
    ['0 0 * * 7', 'day of week field: 7 is above 6'],
    ['0 0 * * 5-7', 'day of week field: 7 is above 6'],
    ['0 0 * FOO *', 'month field: "FOO" is not a number or a month name (JAN-DEC)'],
    ['0 0 * * MONDAY', 'day of week field: "MONDAY" is not a number or a day name (SUN-SAT)'],
    ['h * * * *', 'minute field: "h" is not a number'],
    ['0 JAN * * *', 'hour field: "JAN" is not a number'],
    ['-5 * * * *', 'minute field: "" in "-5" is not a number'],
    ['5-2 * * * *', 'minute field: range "5-2" runs backwards'],
    ['0 0 * * FRI-MON', 'day of week field: range "FRI-MON" runs backwards'],
    ['*/0 * * * *', 'minute field: step in "*/0" must be a positive number'],
    ['*/x * * * *', 'minute field: step "x" in "*/x" is not a number'],
    ['1/2/3 * * * *', 'minute field: too many slashes in "1/2/3"'],
    ['1-2-3 * * * *', 'minute field: too many hyphens in "1-2-3"'],
    ['*-5 * * * *', 'minute field: "*-5" is not a range'],
    [', * * * *', 'minute field: "," lists no values'],
    ['0 0 * * * *', 'expected 5 fields, found 6'],
    ['0 0 * *', 'expected 5 fields, found 4'],
    ['', 'it is empty'],
    ['   ', 'it is empty'],
    ['@reboot', 'unrecognized descriptor "@reboot"'],
    ['@Daily', 'unrecognized descriptor "@Daily"'],
    ['@every', 'unrecognized descriptor "@every"'],
    ['@every 0s', '@every: the interval must be positive'],
    ['@every 0', '@every: the interval must be positive'],
    ['@every -1h', '@every: the interval must be positive'],
    ['@every 1x', '@every: unknown unit "x" in duration "1x"'],
    ['@every 10', '@every: missing unit in duration "10"'],
    ['@every .h', '@every: invalid duration ".h"'],
    ['@every 3000000h', '@every: invalid duration "3000000h"'],
    ['@every  1h', '@every: invalid duration " 1h"'],
    ['CRON_TZ=America/New_York 0 6 * * *', 'time zone "America/New_York" is not supported: Bowline evaluates schedules in UTC'],
    ['TZ=Europe/Berlin @daily', 'time zone "Europe/Berlin" is not supported'],
    ['CRON_TZ=Local 0 6 * * *', 'time zone "Local" is not supported'],
    ['CRON_TZ=Etc/GMT+1 0 6 * * *', 'time zone "Etc/GMT+1" is not supported'],
    ['CRON_TZ=utc 0 6 * * *', 'time zone "utc" is not supported'],
    ['CRON_TZ=UTC', 'the time zone prefix "CRON_TZ=UTC" is not followed by a schedule'],
    ['0 0 30 2 *', 'never runs'],
    ['0 0 31 4,6,9,11 *', 'never runs'],
    ['0 0 30,31 2 ?', 'never runs'],
  ])('refuses %j: %s', (schedule, message) => {
    expect(() => parseCron(schedule)).toThrow(CronError);
    expect(() => parseCron(schedule)).toThrow(message);
  });

  it('names the schedule and keeps it as context on a BowlineError', () => {
    let caught: unknown;
    try {
      parseCron('0 0 30 2 *');
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(BowlineError);
    expect((caught as CronError).name).toBe('CronError');
    expect((caught as CronError).message).toBe(
      'invalid cron schedule "0 0 30 2 *": it never runs: no month it names has the day of month it names',
    );
    expect((caught as CronError).context).toEqual({ expression: '0 0 30 2 *' });
  });
});
