// Server-rendered SVG bar charts (no script, no external CDN). This module only computes geometry and
// texts; web/views/partials/bar-chart.hbs draws them, so every text and link is escaped by handlebars.
// Every bar links to the cases behind it, and each chart has a table of the same numbers beside it.

export interface ChartBar {
  label: string;
  /** A shorter label under the bar (the full one is in the tooltip and the table). */
  tick?: string;
  value: number;
  href: string;
  /** 'ok' | 'late' | 'bad' — a CSS class of web/public/app.css (presentation, no inline style: CSP). */
  tone: string;
  tip: string;
}

export interface ChartModel {
  id: string;
  title: string;
  width: number;
  height: number;
  baseline: number;
  axisEnd: number;
  bars: Array<ChartBar & { x: number; y: number; w: number; h: number; lx: number; ly: number; showValue: boolean }>;
  ticks: Array<{ x: number; y: number; text: string }>;
  gridlines: Array<{ y: number; text: string }>;
}

/** Bars side by side; `everyTick` labels every n-th bar (a long series keeps its axis readable). */
export function barChart(id: string, title: string, bars: ChartBar[], opts: { width?: number; height?: number; everyTick?: number; compact?: boolean } = {}): ChartModel {
  const width = opts.width ?? 520;
  const height = opts.height ?? 200;
  const left = opts.compact ? 4 : 34;
  const top = opts.compact ? 14 : 18;
  const bottom = opts.compact ? 4 : 34;
  const plotW = width - left - 6;
  const plotH = height - top - bottom;
  const max = Math.max(1, ...bars.map((b) => b.value));
  const slot = plotW / Math.max(1, bars.length);
  const gap = Math.min(8, slot * 0.2);
  const baseline = top + plotH;
  const every = opts.everyTick ?? 1;
  const step = niceStep(max);
  const gridlines = opts.compact ? [] : Array.from({ length: Math.floor(max / step) + 1 }, (_, i) => ({ y: round(baseline - ((i * step) / max) * plotH), text: String(i * step) }));
  return {
    id,
    title,
    width,
    height,
    baseline: round(baseline),
    axisEnd: round(left + plotW),
    gridlines: gridlines.map((g) => ({ ...g, x: left })) as ChartModel['gridlines'],
    bars: bars.map((b, i) => {
      const h = b.value === 0 ? 0 : Math.max(1.5, (b.value / max) * plotH);
      const x = left + i * slot + gap / 2;
      return { ...b, x: round(x), y: round(baseline - h), w: round(slot - gap), h: round(h), lx: round(x + (slot - gap) / 2), ly: round(baseline - h - 3), showValue: !opts.compact || b.value > 0 };
    }),
    ticks: opts.compact ? [] : bars.map((b, i) => ({ x: round(left + i * slot + slot / 2), y: round(baseline + 16), text: i % every === 0 || i === bars.length - 1 ? (b.tick ?? b.label) : '' })).filter((t) => t.text),
  };
}

const round = (n: number) => Math.round(n * 10) / 10;

function niceStep(max: number): number {
  const raw = max / 4;
  const pow = 10 ** Math.floor(Math.log10(Math.max(1, raw)));
  for (const m of [1, 2, 5, 10]) if (m * pow >= raw) return m * pow;
  return 10 * pow;
}
