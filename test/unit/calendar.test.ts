import {
  addCalendarMonths,
  addCalendarMonthsEndOfDay,
  addIsoDuration,
  daysInMonth,
  durationToMs,
  formatIsoDuration,
  formatShanghai,
  isFixedDuration,
  parseCivilDate,
  parseIsoDuration,
  shanghaiDate,
  shanghaiEndOfDay,
  shanghaiStartOfDay,
} from '../../domain';
import { catchDomainError } from '../helpers/domain-errors';


const at = (iso: string) => new Date(iso);
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

describe('Shanghai calendar dates', () => {
  it('an instant after 16:00Z is already the next day in Shanghai', () => {
    expect(shanghaiDate(at('2026-11-30T15:59:59.999Z'))).toBe('2026-11-30');
    expect(shanghaiDate(at('2026-11-30T16:00:00Z'))).toBe('2026-12-01');
    expect(shanghaiDate(at('2026-11-30T16:30:00Z'))).toBe('2026-12-01');
    expect(shanghaiDate(at('2026-12-31T16:00:00Z'))).toBe('2027-01-01');
    expect(shanghaiDate(at('2026-12-01T00:30:00+08:00'))).toBe('2026-12-01');
  });

  it('formats an instant as Shanghai local time with its offset', () => {
    expect(formatShanghai(at('2026-11-30T16:30:00Z'))).toBe('2026-12-01T00:30:00+08:00');
    expect(formatShanghai(at('2027-02-28T16:00:00.250Z'))).toBe('2027-03-01T00:00:00.250+08:00');
  });

  it('start and end of a Shanghai day', () => {
    expect(shanghaiStartOfDay('2026-12-01').toISOString()).toBe('2026-11-30T16:00:00.000Z');
    expect(shanghaiEndOfDay('2026-12-31').toISOString()).toBe('2026-12-31T16:00:00.000Z');
    expect(shanghaiEndOfDay('2028-02-29').toISOString()).toBe('2028-02-29T16:00:00.000Z');
  });

  it('parses real calendar dates only, naming the field', () => {
    expect(parseCivilDate('2028-02-29')).toEqual({ year: 2028, month: 2, day: 29 });
    for (const bad of ['2027-02-29', '2026-04-31', '2026-13-01', '2026-1-01', '20260101', '']) {
      const e = catchDomainError(() => parseCivilDate(bad));
      expect([bad, e.code, e.field]).toEqual([bad, 'INVALID_DATE', 'date']);
    }
  });

  it('knows month lengths and leap years (2100 is not leap, 2000 was)', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12].map((m) => daysInMonth(2027, m))).toEqual([
      31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31,
    ]);
    expect([daysInMonth(2028, 2), daysInMonth(2100, 2), daysInMonth(2000, 2)]).toEqual([29, 28, 29]);
  });

  it('rejects an invalid Date', () => {
    expect(catchDomainError(() => shanghaiDate(new Date('nope'))).code).toBe('INVALID_INSTANT');
    expect(catchDomainError(() => addCalendarMonthsEndOfDay(new Date(Number.NaN), 3)).code).toBe('INVALID_INSTANT');
  });
});

describe('calendar months, clamped to the month end', () => {
  it.each([
    ['2026-01-31', 1, '2026-02-28'],
    ['2028-01-31', 1, '2028-02-29'],
    ['2026-03-31', 1, '2026-04-30'],
    ['2026-11-30', 3, '2027-02-28'],
    ['2027-11-30', 3, '2028-02-29'],
    ['2026-12-31', 2, '2027-02-28'],
    ['2026-12-31', 12, '2027-12-31'],
    ['2028-02-29', 12, '2029-02-28'],
    ['2028-02-29', 48, '2032-02-29'],
    ['2026-05-15', 0, '2026-05-15'],
    ['2026-03-31', -1, '2026-02-28'],
  ] as const)('%s + %i months = %s', (from, months, to) => {
    const r = addCalendarMonths(from, months);
    expect(`${r.year}-${String(r.month).padStart(2, '0')}-${String(r.day).padStart(2, '0')}`).toBe(to);
  });

  it('rejects a fractional number of months', () => {
    expect(catchDomainError(() => addCalendarMonths('2026-01-31', 1.5)).field).toBe('months');
  });
});

describe('M9: the unclaimed due instant (end of the day 3 calendar months after ready)', () => {
  it('M9: ready 2026-11-30 (Shanghai) → due at the end of 2027-02-28 = 2027-02-28T16:00Z', () => {
    const due = addCalendarMonthsEndOfDay(at('2026-11-30T10:00:00+08:00'), 3);
    expect(due.toISOString()).toBe('2027-02-28T16:00:00.000Z');
    expect(formatShanghai(due)).toBe('2027-03-01T00:00:00+08:00');
  });

  it('M9: ready 2027-11-30 → due at the end of 29 February 2028 (leap year)', () => {
    expect(addCalendarMonthsEndOfDay(at('2027-11-30T09:00:00+08:00'), 3).toISOString()).toBe('2028-02-29T16:00:00.000Z');
  });

  it('M9: the Shanghai date counts, not the UTC date: 2026-11-30T16:30Z is 1 December in Shanghai', () => {
    expect(addCalendarMonthsEndOfDay(at('2026-11-30T16:30:00Z'), 3).toISOString()).toBe('2027-03-01T16:00:00.000Z');
    expect(addCalendarMonthsEndOfDay(at('2026-11-30T15:59:59.999Z'), 3).toISOString()).toBe('2027-02-28T16:00:00.000Z');
  });

  it('M9: a seal ready just after midnight Shanghai and one ready just before the next midnight share the due instant', () => {
    const early = addCalendarMonthsEndOfDay(at('2026-12-31T00:00:00+08:00'), 3);
    const late = addCalendarMonthsEndOfDay(at('2026-12-31T23:59:59.999+08:00'), 3);
    expect(early.toISOString()).toBe('2027-03-31T16:00:00.000Z');
    expect(late).toEqual(early);
  });

  it('M9: across the new year: 2026-12-31 + 2 months → end of 2027-02-28; 2027-01-31 + 1 → end of 2027-02-28', () => {
    expect(addCalendarMonthsEndOfDay(at('2026-12-31T12:00:00+08:00'), 2).toISOString()).toBe('2027-02-28T16:00:00.000Z');
    expect(addCalendarMonthsEndOfDay(at('2027-01-31T12:00:00+08:00'), 1).toISOString()).toBe('2027-02-28T16:00:00.000Z');
  });

  it('M9: the due instant is never less than 3 months after ready, and at most one day more', () => {
    for (let t = Date.parse('2026-01-01T00:00:00Z'); t < Date.parse('2029-01-01T00:00:00Z'); t += 7 * HOUR + 13 * 60_000) {
      const ready = new Date(t);
      const due = addCalendarMonthsEndOfDay(ready, 3);
      expect(due.getTime() - ready.getTime()).toBeGreaterThanOrEqual(89 * DAY);
      expect(due.getTime() - ready.getTime()).toBeLessThanOrEqual(93 * DAY);
      expect(formatShanghai(due)).toMatch(/T00:00:00\+08:00$/);
      expect(shanghaiDate(new Date(due.getTime() - 1)) >= shanghaiDate(addIsoDuration(ready, 'P3M'))).toBe(true);
    }
  });
});

describe('ISO 8601 durations', () => {
  it('parses the durations the back office uses', () => {
    const zero = { years: 0, months: 0, days: 0, hours: 0, minutes: 0, seconds: 0 };
    expect(parseIsoDuration('PT24H')).toEqual({ ...zero, hours: 24 });
    expect(parseIsoDuration('P3M')).toEqual({ ...zero, months: 3 });
    expect(parseIsoDuration('P90D')).toEqual({ ...zero, days: 90 });
    expect(parseIsoDuration('P5Y')).toEqual({ ...zero, years: 5 });
    expect(parseIsoDuration('P2W')).toEqual({ ...zero, days: 14 });
    expect(parseIsoDuration('P1Y2M3DT4H5M6.5S')).toEqual({ years: 1, months: 2, days: 3, hours: 4, minutes: 5, seconds: 6.5 });
    expect(parseIsoDuration(' pt30m ')).toEqual({ ...zero, minutes: 30 });
    expect(parseIsoDuration('PT0S')).toEqual(zero);
    expect(parseIsoDuration('PT1,25S').seconds).toBe(1.25);
  });

  it('rejects malformed durations, naming the field', () => {
    for (const bad of ['', 'P', 'PT', 'P1DT', '3M', 'P-3M', 'P1.5D', 'PT1.5H', 'P3MT', 'P1Y2', 'PT24', 'P3M1Y', 'P1H', 'PT1D', '24 hours']) {
      const e = catchDomainError(() => parseIsoDuration(bad));
      expect([bad, e.code, e.field]).toEqual([bad, 'INVALID_DURATION', 'duration']);
    }
  });

  it('formats durations back to ISO 8601', () => {
    for (const s of ['PT24H', 'P3M', 'P90D', 'P5Y', 'P1Y2M3DT4H5M6.5S', 'PT0S']) expect(formatIsoDuration(parseIsoDuration(s))).toBe(s);
    expect(formatIsoDuration(parseIsoDuration('P2W'))).toBe('P14D');
  });

  it('the 24-hour filing deadline is exactly 24 hours, in milliseconds and from an instant', () => {
    expect(durationToMs('PT24H')).toBe(86_400_000);
    expect(addIsoDuration(at('2026-11-30T23:30:00+08:00'), 'PT24H').toISOString()).toBe('2026-12-01T15:30:00.000Z');
  });

  it('P90D is 90 × 24 hours (Shanghai has no DST, so also 90 calendar days)', () => {
    expect(durationToMs('P90D')).toBe(90 * DAY);
    const from = at('2026-03-01T10:00:00+08:00');
    const to = addIsoDuration(from, 'P90D');
    expect(to.getTime() - from.getTime()).toBe(90 * DAY);
    expect(formatShanghai(to)).toBe('2026-05-30T10:00:00+08:00');
  });

  it('durationToMs handles weeks, minutes and fractional seconds', () => {
    expect(durationToMs('P1W')).toBe(7 * DAY);
    expect(durationToMs('PT1M30.5S')).toBe(90_500);
    expect(durationToMs(parseIsoDuration('P1DT1H'))).toBe(25 * HOUR);
  });

  it('durationToMs refuses calendar durations (years, months), whose length depends on the start', () => {
    for (const d of ['P3M', 'P5Y', 'P1M1D']) {
      const e = catchDomainError(() => durationToMs(d));
      expect(e.code).toBe('CALENDAR_DURATION');
      expect(e.messageEn).toContain('has no fixed length');
    }
    expect(isFixedDuration('P3M')).toBe(false);
    expect(isFixedDuration('P90D')).toBe(true);
  });

  it('adds months on the Shanghai calendar, keeping the wall-clock time and clamping the day', () => {
    expect(formatShanghai(addIsoDuration(at('2026-01-31T10:00:00+08:00'), 'P1M'))).toBe('2026-02-28T10:00:00+08:00');
    expect(formatShanghai(addIsoDuration(at('2026-11-30T16:30:00Z'), 'P3M'))).toBe('2027-03-01T00:30:00+08:00');
    expect(formatShanghai(addIsoDuration(at('2026-11-30T15:30:00Z'), 'P3M'))).toBe('2027-02-28T23:30:00+08:00');
  });

  it('five years from 29 February lands on 28 February (clamped); from other days on the same date', () => {
    expect(formatShanghai(addIsoDuration(at('2028-02-29T09:15:00+08:00'), 'P5Y'))).toBe('2033-02-28T09:15:00+08:00');
    expect(formatShanghai(addIsoDuration(at('2026-11-30T09:15:00+08:00'), 'P5Y'))).toBe('2031-11-30T09:15:00+08:00');
    expect(addIsoDuration(at('2026-11-30T09:15:00+08:00'), 'P5Y').getTime()).toBeGreaterThanOrEqual(
      at('2026-11-30T09:15:00+08:00').getTime() + 5 * 365 * DAY,
    );
  });

  it('applies the calendar part before the fixed part (P1M1D from 31 January is 1 March, not 29 February)', () => {
    expect(formatShanghai(addIsoDuration(at('2026-01-31T12:00:00+08:00'), 'P1M1D'))).toBe('2026-03-01T12:00:00+08:00');
    expect(formatShanghai(addIsoDuration(at('2028-01-31T12:00:00+08:00'), 'P1M1D'))).toBe('2028-03-01T12:00:00+08:00');
  });

  it('accepts a parsed duration as well as a string, and P0D changes nothing', () => {
    const t = at('2026-06-15T08:00:00Z');
    expect(addIsoDuration(t, parseIsoDuration('PT24H'))).toEqual(addIsoDuration(t, 'PT24H'));
    expect(addIsoDuration(t, 'P0D')).toEqual(t);
  });
});
