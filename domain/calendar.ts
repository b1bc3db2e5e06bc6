/**
 * Calendar arithmetic on Beijing time (Asia/Shanghai) for deadlines: M3 (file within 24 hours), M9 (unclaimed
 * after 3 months), M7/M8 retention (5 years, 90 days), password expiry (C2).
 *
 * Asia/Shanghai has been UTC+8 all year since 1991: China observed daylight saving time only from 1986 to
 * 1991, and not since. So for instants from 1992 on, Shanghai wall-clock time is exactly UTC + 8 hours, and
 * plain arithmetic on a fixed +08:00 offset is exact — no time-zone database and no `Intl` needed, which
 * keeps these functions deterministic inside Temporal workflow sandboxes. (Results for instants before 1992
 * may be an hour off during the 1986–1991 summers; the back office never deals with such instants.)
 *
 * Nothing here reads the clock: every function takes the instant it works from.
 *
 * Durations (ISO 8601) — decisions:
 * - Years and months are calendar units: they move the Shanghai calendar date, keep the wall-clock time and
 *   clamp the day to the target month's last day (Jan 31 + P1M = Feb 28/29).
 * - Weeks, days, hours, minutes and seconds are fixed lengths: P1W = 7×24 h, P1D = 24 h, so P90D = 90×24 h.
 *   With no DST in Shanghai a calendar day is always 24 hours, so "P90D" is both 90 calendar days and
 *   90×24 hours — no ambiguity.
 * - In a mixed duration (P1M2D) the calendar part is applied first, then the fixed part, as ISO 8601 and
 *   the TC39 Temporal API do (largest unit first).
 */
import { type FieldRef, FIELDS, invalidField } from './errors';

export const SHANGHAI_UTC_OFFSET_MS = 8 * 60 * 60 * 1000;
export const MS_PER_SECOND = 1000;
export const MS_PER_MINUTE = 60 * MS_PER_SECOND;
export const MS_PER_HOUR = 60 * MS_PER_MINUTE;
export const MS_PER_DAY = 24 * MS_PER_HOUR;

export interface CivilDate {
  readonly year: number;
  /** 1..12 */
  readonly month: number;
  /** 1..31 */
  readonly day: number;
}

export interface ShanghaiDateTime extends CivilDate {
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
  readonly millisecond: number;
}

function instantMs(instant: Date, field: FieldRef = FIELDS.instant): number {
  const ms = instant instanceof Date ? instant.getTime() : Number.NaN;
  if (Number.isNaN(ms)) throw invalidField(field, '不是有效的时间', 'is not a valid instant', { code: 'INVALID_INSTANT' });
  return ms;
}

/** Milliseconds since the epoch of 00:00 UTC on a proleptic Gregorian date (any year, unlike Date.UTC). */
function utcMidnightMs(year: number, month: number, day: number): number {
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  return d.getTime();
}

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

export function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

export function daysInMonth(year: number, month: number): number {
  if (month === 2) return isLeapYear(year) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

export function formatCivilDate(d: CivilDate): string {
  return `${pad(d.year, 4)}-${pad(d.month)}-${pad(d.day)}`;
}

/** Shanghai wall-clock components of an instant. */
export function shanghaiDateTime(instant: Date): ShanghaiDateTime {
  const local = new Date(instantMs(instant) + SHANGHAI_UTC_OFFSET_MS);
  return {
    year: local.getUTCFullYear(),
    month: local.getUTCMonth() + 1,
    day: local.getUTCDate(),
    hour: local.getUTCHours(),
    minute: local.getUTCMinutes(),
    second: local.getUTCSeconds(),
    millisecond: local.getUTCMilliseconds(),
  };
}

/** The Shanghai calendar date of an instant, 'YYYY-MM-DD'. 2026-11-30T16:30Z → '2026-12-01'. */
export function shanghaiDate(instant: Date): string {
  return formatCivilDate(shanghaiDateTime(instant));
}

/** An instant as Shanghai local time with its offset: '2026-12-01T00:30:00+08:00' (ms shown when non-zero). */
export function formatShanghai(instant: Date): string {
  const t = shanghaiDateTime(instant);
  const ms = t.millisecond === 0 ? '' : `.${pad(t.millisecond, 3)}`;
  return `${formatCivilDate(t)}T${pad(t.hour)}:${pad(t.minute)}:${pad(t.second)}${ms}+08:00`;
}

/** Parse a calendar date 'YYYY-MM-DD' (a real date). Throws a DomainError naming the field. */
export function parseCivilDate(input: string, field: FieldRef = FIELDS.date): CivilDate {
  const m = typeof input === 'string' ? /^(\d{4})-(\d{2})-(\d{2})$/.exec(input.trim()) : null;
  if (m === null) {
    throw invalidField(field, `“${String(input)}”应为YYYY-MM-DD格式的日期`, `"${String(input)}" must be a date YYYY-MM-DD`, {
      code: 'INVALID_DATE',
    });
  }
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) {
    throw invalidField(field, `“${input}”不是有效日期`, `"${input}" is not a real date`, { code: 'INVALID_DATE' });
  }
  return { year, month, day };
}

function toCivil(date: CivilDate | string): CivilDate {
  return typeof date === 'string' ? parseCivilDate(date) : date;
}

/** 00:00 Shanghai time at the start of a calendar date. */
export function shanghaiStartOfDay(date: CivilDate | string): Date {
  const d = toCivil(date);
  return new Date(utcMidnightMs(d.year, d.month, d.day) - SHANGHAI_UTC_OFFSET_MS);
}

/** 24:00 Shanghai time at the end of a calendar date, i.e. 00:00 of the next day. */
export function shanghaiEndOfDay(date: CivilDate | string): Date {
  const d = toCivil(date);
  return new Date(utcMidnightMs(d.year, d.month, d.day + 1) - SHANGHAI_UTC_OFFSET_MS);
}

function assertWholeMonths(months: number): void {
  if (!Number.isSafeInteger(months)) {
    throw invalidField(FIELDS.months, `“${String(months)}”应为整数`, `"${String(months)}" must be a whole number`, {
      code: 'INVALID_MONTHS',
    });
  }
}

/** Add calendar months to a date, clamping the day to the target month's last day (Jan 31 + 1 → Feb 28/29). */
export function addCalendarMonths(date: CivilDate | string, months: number): CivilDate {
  assertWholeMonths(months);
  const d = toCivil(date);
  const index = d.year * 12 + (d.month - 1) + months;
  const year = Math.floor(index / 12);
  const month = index - year * 12 + 1;
  return { year, month, day: Math.min(d.day, daysInMonth(year, month)) };
}

/**
 * M9: the instant at the end (24:00 Shanghai) of the calendar day `months` months after the Shanghai date of
 * `instant`, day clamped to the month's last day.
 *   ready 2026-11-30 (Shanghai) + 3 → end of 2027-02-28 = 2027-03-01T00:00+08:00 = 2027-02-28T16:00Z
 *   ready 2027-11-30 (Shanghai) + 3 → end of 2028-02-29 (leap year)
 */
export function addCalendarMonthsEndOfDay(instant: Date, months: number): Date {
  const t = shanghaiDateTime(instant);
  return shanghaiEndOfDay(addCalendarMonths(t, months));
}

// ---------------------------------------------------------------------------------------------------------
// ISO 8601 durations

export interface IsoDuration {
  readonly years: number;
  readonly months: number;
  /** Includes weeks (×7). */
  readonly days: number;
  readonly hours: number;
  readonly minutes: number;
  /** May carry a fraction (millisecond precision). */
  readonly seconds: number;
}

const DURATION_RE =
  /^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)(?:[.,](\d{1,3}))?S)?)?$/;

/**
 * Parse an ISO 8601 duration: P5Y, P3M, P90D, P2W, PT24H, P1Y2M3DT4H5M6.5S. Components are non-negative
 * integers, except seconds which may have up to 3 decimals. Weeks are folded into days. Lower-case input and
 * surrounding whitespace are accepted. Throws a DomainError (field duration) for anything else, including
 * 'P', 'PT', negative durations and fractions on other units.
 */
export function parseIsoDuration(input: string, field: FieldRef = FIELDS.duration): IsoDuration {
  const text = typeof input === 'string' ? input.trim().toUpperCase() : '';
  const m = DURATION_RE.exec(text);
  const bad = () =>
    invalidField(
      field,
      `“${String(input)}”不是有效的ISO 8601期限（如P3M、P90D、PT24H）`,
      `"${String(input)}" is not a valid ISO 8601 duration (e.g. P3M, P90D, PT24H)`,
      { code: 'INVALID_DURATION' },
    );
  if (m === null || text === 'P' || text.endsWith('T')) throw bad();
  if (m.slice(1, 8).every((g) => g === undefined)) throw bad();
  const n = (g: string | undefined): number => (g === undefined ? 0 : Number(g));
  const weeks = n(m[3]);
  const fraction = m[8] === undefined ? 0 : Number(m[8].padEnd(3, '0')) / 1000;
  const d: IsoDuration = {
    years: n(m[1]),
    months: n(m[2]),
    days: weeks * 7 + n(m[4]),
    hours: n(m[5]),
    minutes: n(m[6]),
    seconds: n(m[7]) + fraction,
  };
  if (!Object.values(d).every((v) => Number.isSafeInteger(Math.round(v * 1000)))) throw bad();
  return d;
}

/** Format a duration back to ISO 8601 (weeks come out as days). */
export function formatIsoDuration(d: IsoDuration): string {
  let date = '';
  if (d.years) date += `${d.years}Y`;
  if (d.months) date += `${d.months}M`;
  if (d.days) date += `${d.days}D`;
  let time = '';
  if (d.hours) time += `${d.hours}H`;
  if (d.minutes) time += `${d.minutes}M`;
  if (d.seconds) time += `${Number(d.seconds.toFixed(3))}S`;
  if (date === '' && time === '') return 'PT0S';
  return `P${date}${time === '' ? '' : `T${time}`}`;
}

function toDuration(duration: IsoDuration | string): IsoDuration {
  return typeof duration === 'string' ? parseIsoDuration(duration) : duration;
}

/** True when the duration has no calendar (year/month) part, so it is a fixed number of milliseconds. */
export function isFixedDuration(duration: IsoDuration | string): boolean {
  const d = toDuration(duration);
  return d.years === 0 && d.months === 0;
}

function fixedPartMs(d: IsoDuration): number {
  return (
    d.days * MS_PER_DAY + d.hours * MS_PER_HOUR + d.minutes * MS_PER_MINUTE + Math.round(d.seconds * MS_PER_SECOND)
  );
}

/**
 * Milliseconds of a fixed duration (days, hours, minutes, seconds; a day is 24 h): for Temporal `sleep` and
 * `condition` timeouts. Throws a DomainError for a duration with years or months, whose length depends on
 * the start instant — use {@link addIsoDuration} for those.
 */
export function durationToMs(duration: IsoDuration | string): number {
  const d = toDuration(duration);
  if (!isFixedDuration(d)) {
    throw invalidField(
      FIELDS.duration,
      '含年或月的期限长度不固定，须从具体时间起按日历计算',
      'a duration with years or months has no fixed length; add it to an instant on the calendar instead',
      { code: 'CALENDAR_DURATION', details: { duration: formatIsoDuration(d) } },
    );
  }
  return fixedPartMs(d);
}

/**
 * Add a duration to an instant: years and months on the Shanghai calendar (wall-clock time kept, day clamped
 * to the target month's last day), then days/hours/minutes/seconds as fixed lengths.
 *   2026-01-31T10:00+08:00 + P1M  → 2026-02-28T10:00+08:00
 *   t + P90D                      → t + 90×24 h
 */
export function addIsoDuration(instant: Date, duration: IsoDuration | string): Date {
  const d = toDuration(duration);
  let ms = instantMs(instant);
  const totalMonths = d.years * 12 + d.months;
  if (totalMonths !== 0) {
    const t = shanghaiDateTime(instant);
    const target = addCalendarMonths(t, totalMonths);
    const timeOfDay = t.hour * MS_PER_HOUR + t.minute * MS_PER_MINUTE + t.second * MS_PER_SECOND + t.millisecond;
    ms = utcMidnightMs(target.year, target.month, target.day) + timeOfDay - SHANGHAI_UTC_OFFSET_MS;
  }
  return new Date(ms + fixedPartMs(d));
}
