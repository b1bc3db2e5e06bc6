// I1: the compliance charts are server-rendered SVG built from escaped data; their geometry, the week points
// of the overdue series, the window parameter's bilingual refusal, and Beijing times of the video form.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import Handlebars from 'handlebars';
import { barChart } from '../../web/pages/charts';
import { beijingInstant } from '../../web/pages/video';
import { parseWeeks, weekPoints } from '../../usecases/web-compliance';
import { DomainError } from '../../domain/errors';

const partial = Handlebars.compile(readFileSync(path.join(__dirname, '..', '..', 'web', 'views', 'partials', 'bar-chart.hbs'), 'utf8'));
const bar = (label: string, value: number) => ({ label, value, href: `/x?b=${label}`, tone: 'ok', tip: `${label}: ${value}` });

describe('I1: compliance charts', () => {
  it('I1: bars are proportional to their values on one baseline, a zero bar has no height, every bar links to its cases', () => {
    const c = barChart('t', 'title', [bar('a', 4), bar('b', 2), bar('c', 0)]);
    const [a, b, z] = c.bars;
    expect(a!.y + a!.h).toBeCloseTo(c.baseline, 0);
    expect(b!.y + b!.h).toBeCloseTo(c.baseline, 0);
    expect(b!.h / a!.h).toBeCloseTo(0.5, 1);
    expect(z!.h).toBe(0);
    expect(c.bars.map((x) => x.href)).toEqual(['/x?b=a', '/x?b=b', '/x?b=c']);
    expect(c.ticks.map((t) => t.text)).toEqual(['a', 'b', 'c']);
  });

  it('I1: a long series labels every n-th bar and the last one, so the axis stays readable', () => {
    const c = barChart('t', 'title', Array.from({ length: 12 }, (_, i) => bar(`w${i}`, i)), { everyTick: 2 });
    expect(c.ticks.map((t) => t.text)).toEqual(['w0', 'w2', 'w4', 'w6', 'w8', 'w10', 'w11']);
  });

  it('I1 P1: names and links in the SVG are escaped (a hostile maker name stays text)', () => {
    const hostile = '<script>alert(1)</script>"&';
    const svg = partial(barChart('c1', hostile, [{ label: hostile, value: 1, href: '/f?maker=a&bucket="x"', tone: 'bad', tip: hostile }]));
    expect(svg).not.toContain('<script>');
    expect(svg).toContain('&lt;script&gt;alert(1)&lt;/script&gt;&quot;&amp;');
    expect(svg).toContain('href="/f?maker&#x3D;a&amp;bucket&#x3D;&quot;x&quot;"'); // &#x3D; is '=' (handlebars escapes it too)
    expect(svg).toMatch(/^<svg class="chart" id="c1" viewBox="0 0 520 200"/);
  });

  it('I1: the overdue series has one point a week, the last one now', () => {
    const now = new Date('2026-11-27T04:00:00Z');
    const p = weekPoints(now, 12);
    expect(p).toHaveLength(12);
    expect(p[11]).toEqual(now);
    expect(now.getTime() - p[0]!.getTime()).toBe(11 * 7 * 86400_000);
  });

  it('I1: a window other than 4, 12, 26 or 52 weeks is refused naming the field in Chinese and English', () => {
    expect(parseWeeks(undefined)).toBe(12);
    expect(parseWeeks('26')).toBe(26);
    let e: unknown;
    try {
      parseWeeks('7');
    } catch (x) {
      e = x;
    }
    expect(e).toBeInstanceOf(DomainError);
    expect(e).toMatchObject({ httpStatus: 400, messageZh: expect.stringContaining('统计周数'), messageEn: expect.stringContaining('Weeks') });
  });
});

describe('M8: the video form\'s times', () => {
  it('M8: a datetime-local value is Beijing time; an instant with its offset is kept', () => {
    expect(beijingInstant('2026-11-27T08:00')).toBe('2026-11-27T08:00:00+08:00');
    expect(beijingInstant('2026-11-27T08:00:30')).toBe('2026-11-27T08:00:30+08:00');
    expect(beijingInstant('2026-11-27T00:00:00Z')).toBe('2026-11-27T00:00:00Z');
    expect(beijingInstant('')).toBe('');
  });
});
