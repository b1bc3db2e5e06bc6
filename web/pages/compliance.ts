// Supervisors (I1, M3): each maker's filing compliance as charts — the distribution of filing delays and
// the overdue count at each week's end — with the same numbers as tables, every number linking to the
// filings (cases) behind it, and every table as CSV.
import { Router, type Request } from 'express';
import type { Deps } from '../../usecases/deps';
import { complianceFilings, DELAY_BUCKETS, makerCompliance, parseWeeks, WEEK_CHOICES, type BucketKey, type FilingSelection, type MakerCompliance } from '../../usecases/web-compliance';
import { barChart } from './charts';
import { sendCsv } from './csv';
import { refusalOf } from './forms';
import { page } from './guards';
import { districtName, FILING_KIND_LABELS, formatDate, formatDuration, formatTime, pick } from './labels';
import { renderPage } from './render';
import type { Lang } from './session';

const BUCKET_LABELS: Record<BucketKey, [string, string]> = {
  h6: ['6 小时内', '< 6 h'],
  h12: ['6–12 小时', '6–12 h'],
  h24: ['12–24 小时', '12–24 h'],
  d2: ['1–2 天（逾期）', '1–2 d (late)'],
  d7: ['2–7 天（逾期）', '2–7 d (late)'],
  more: ['7 天以上（逾期）', '> 7 d (late)'],
  unfiled: ['逾期仍未备案', 'Overdue, not filed'],
};
const BUCKET_TICKS: Record<BucketKey, [string, string]> = {
  h6: ['<6 时', '<6 h'], h12: ['6–12 时', '6–12 h'], h24: ['12–24 时', '12–24 h'], d2: ['1–2 天', '1–2 d'], d7: ['2–7 天', '2–7 d'], more: ['>7 天', '>7 d'], unfiled: ['未备案', 'unfiled'],
};
const SHOWN_MAKERS = 30;

const SELECTION_LABELS: Record<'all' | 'late', [string, string]> = { all: ['全部备案', 'All filings'], late: ['逾期（逾期备案或仍未备案）', 'Late (filed late or still unfiled)'] };
const bucketLabel = (k: FilingSelection, lang: Lang) => (k === 'all' || k === 'late' ? SELECTION_LABELS[k] : BUCKET_LABELS[k])[lang === 'zh' ? 0 : 1];
const tone = (k: BucketKey) => (k === 'unfiled' ? 'bad' : DELAY_BUCKETS.find((b) => b.key === k)!.late ? 'late' : 'ok');

function filingsHref(p: Record<string, string | undefined>) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(p)) if (v) q.set(k, v);
  return `/supervision/compliance/filings?${q.toString()}`;
}

/** Sums the makers' numbers for the city-wide charts. */
function cityTotals(makers: MakerCompliance[], points: number) {
  const buckets = Object.fromEntries(DELAY_BUCKETS.map((b) => [b.key, makers.reduce((a, m) => a + m.buckets[b.key], 0)])) as Record<BucketKey, number>;
  const overdue = Array.from({ length: points }, (_, i) => makers.reduce((a, m) => a + m.overdue[i]!, 0));
  return { buckets, overdue, total: makers.reduce((a, m) => a + m.total, 0), late: makers.reduce((a, m) => a + m.late, 0) };
}

export function compliancePages(deps: Deps): Router {
  const r = Router();

  async function load(req: Request) {
    const weeks = parseWeeks(req.query.weeks);
    return { weeks, data: await makerCompliance(deps.db, req.actor!, { weeks }) };
  }

  r.get('/supervision/compliance', page('supervisor'), async (req, res) => {
    const lang: Lang = req.lang ?? 'zh';
    const L = (zh: string, en: string) => (lang === 'zh' ? zh : en);
    let loaded;
    try {
      loaded = await load(req);
    } catch (e) {
      const refusal = refusalOf(e);
      if (!refusal) throw e;
      return renderPage(req, res, 'compliance', { title: L('制作单位合规', 'Maker compliance'), L: {}, errors: refusal.fields, alert: refusal.alert, weekChoices: [], makers: [] }, refusal.status);
    }
    const { weeks, data } = loaded;
    const w = String(weeks);
    const pointLabel = (p: Date) => formatDate(p).slice(5);
    const distBars = (b: Record<BucketKey, number>, makerId?: string) =>
      DELAY_BUCKETS.map((x) => ({ label: bucketLabel(x.key, lang), tick: BUCKET_TICKS[x.key][lang === 'zh' ? 0 : 1], value: b[x.key], tone: tone(x.key), href: filingsHref({ maker: makerId, bucket: x.key, weeks: w }), tip: `${bucketLabel(x.key, lang)}: ${b[x.key]}` }));
    const seriesBars = (s: number[], makerId?: string) =>
      data.points.map((p, i) => ({ label: pointLabel(p), value: s[i]!, tone: s[i] ? 'bad' : 'ok', href: filingsHref({ maker: makerId, at: p.toISOString() }), tip: `${formatTime(p)}: ${s[i]}` }));
    const city = cityTotals(data.makers, data.points.length);
    const every = Math.ceil(data.points.length / 8);
    renderPage(req, res, 'compliance', {
      title: L('制作单位合规', 'Maker compliance'),
      L: {
        intro: L(`最近 ${weeks} 周开始计时的备案（${formatDate(data.from)} 至 ${formatDate(data.now)}）：制作完成到首次备案用了多久；以及每周末逾期未备案的件数。点击任一柱或数字查看对应案件。统计截至 ${formatTime(data.now)}，每分钟更新。`,
          `Filings whose 24-hour deadline started in the last ${weeks} weeks (${formatDate(data.from)} to ${formatDate(data.now)}): how long from production to the first filing; and how many filings were overdue at each week's end. Click any bar or number for its cases. As of ${formatTime(data.now)}, updated every minute.`),
        window: L('统计周期', 'Window'), weeksUnit: L('周', 'weeks'), show: L('显示', 'Show'),
        cityTitle: L('全市', 'City of Beijing'), dist: L('备案用时分布', 'Filing delay distribution'), series: L('每周末逾期未备案件数', 'Overdue filings at each week\'s end'),
        table: L('数据表', 'Data table'), bucket: L('用时', 'Delay'), count: L('件数', 'Filings'), weekEnd: L('周末时点', 'Week end'), overdue: L('逾期未备案', 'Overdue'),
        makers: L('各制作单位', 'By maker'), maker: L('制作单位', 'Maker'), total: L('备案件数', 'Filings'), late: L('逾期备案', 'Late'), lateShare: L('逾期率', 'Late share'),
        overdueNow: L('当前逾期未备案', 'Overdue now'), none: L('统计周期内没有备案记录。', 'No filings in this window.'),
        more: L(`另有 ${Math.max(0, data.makers.length - SHOWN_MAKERS)} 家制作单位，请下载 CSV 查看全部`, `${Math.max(0, data.makers.length - SHOWN_MAKERS)} more makers: download the CSV for all`),
        legendOk: L('按时', 'In time'), legendLate: L('逾期后备案', 'Filed late'), legendBad: L('逾期未备案', 'Overdue, not filed'),
      },
      weeks,
      weekChoices: WEEK_CHOICES.map((n) => ({ value: n, selected: n === weeks })),
      csvMakers: `/supervision/compliance/makers.csv?weeks=${w}`,
      csvCity: `/supervision/compliance/city.csv?weeks=${w}`,
      city: {
        total: city.total,
        late: city.late,
        totalHref: filingsHref({ bucket: 'all', weeks: w }),
        lateHref: filingsHref({ bucket: 'late', weeks: w }),
        distChart: barChart('city-dist', L('全市备案用时分布', 'City: filing delay distribution'), distBars(city.buckets)),
        seriesChart: barChart('city-series', L('全市每周末逾期未备案件数', 'City: overdue filings at each week\'s end'), seriesBars(city.overdue), { everyTick: every }),
        distRows: distBars(city.buckets),
        seriesRows: seriesBars(city.overdue).map((b, i) => ({ ...b, label: formatTime(data.points[i]) })),
      },
      makers: data.makers.slice(0, SHOWN_MAKERS).map((m) => ({
        name: m.name,
        total: m.total,
        late: m.late,
        lateShare: m.total ? `${Math.round((m.late / m.total) * 100)}%` : '–',
        totalHref: filingsHref({ maker: m.makerId, bucket: 'all', weeks: w }),
        lateHref: filingsHref({ maker: m.makerId, bucket: 'late', weeks: w }),
        overdueNow: m.overdue[m.overdue.length - 1],
        overdueNowHref: filingsHref({ maker: m.makerId, at: data.points[data.points.length - 1]!.toISOString() }),
        allHref: `/cases?maker=${m.makerId}`,
        distChart: barChart(`d-${m.makerId}`, `${m.name} · ${L('备案用时分布', 'filing delays')}`, distBars(m.buckets, m.makerId), { width: 230, height: 70, compact: true }),
        seriesChart: barChart(`s-${m.makerId}`, `${m.name} · ${L('逾期件数', 'overdue count')}`, seriesBars(m.overdue, m.makerId), { width: 230, height: 70, compact: true }),
        buckets: distBars(m.buckets, m.makerId),
      })),
      bucketHeads: DELAY_BUCKETS.map((b) => ({ label: bucketLabel(b.key, lang), tone: tone(b.key) })),
      moreMakers: data.makers.length > SHOWN_MAKERS,
      empty: data.makers.length === 0,
    });
  });

  r.get('/supervision/compliance/makers.csv', page('supervisor'), async (req, res) => {
    const lang: Lang = req.lang ?? 'zh';
    const { data } = await load(req);
    sendCsv(
      res,
      'maker-compliance',
      [lang === 'zh' ? '制作单位' : 'Maker', lang === 'zh' ? '制作单位编号' : 'Maker ID', lang === 'zh' ? '备案件数' : 'Filings', lang === 'zh' ? '逾期备案' : 'Late',
        ...DELAY_BUCKETS.map((b) => bucketLabel(b.key, lang)), ...data.points.map((p) => `${lang === 'zh' ? '逾期未备案 ' : 'Overdue at '}${formatTime(p)}`)],
      data.makers.map((m) => [m.name, m.makerId, m.total, m.late, ...DELAY_BUCKETS.map((b) => m.buckets[b.key]), ...m.overdue]),
    );
  });

  r.get('/supervision/compliance/city.csv', page('supervisor'), async (req, res) => {
    const lang: Lang = req.lang ?? 'zh';
    const { data } = await load(req);
    const city = cityTotals(data.makers, data.points.length);
    const zh = lang === 'zh';
    sendCsv(res, 'city-compliance', [zh ? '系列' : 'Series', zh ? '区间或时点' : 'Bucket or point', zh ? '件数' : 'Filings'], [
      ...DELAY_BUCKETS.map((b) => [zh ? '备案用时分布' : 'Filing delay', bucketLabel(b.key, lang), city.buckets[b.key]]),
      ...data.points.map((p, i) => [zh ? '周末逾期未备案' : 'Overdue at week end', formatTime(p), city.overdue[i]!]),
    ]);
  });

  const filingColumns = (lang: Lang) =>
    lang === 'zh' ? ['案件', '备案事项', '辖区', '制作单位', '用章单位', '时限开始', '备案时限', '首次备案', '用时（分钟）'] : ['Case', 'Filing', 'District', 'Maker', 'Holder', 'Started', 'Due', 'First filed', 'Delay (minutes)'];

  r.get('/supervision/compliance/filings', page('supervisor'), async (req, res) => {
    const lang: Lang = req.lang ?? 'zh';
    const L = (zh: string, en: string) => (lang === 'zh' ? zh : en);
    let out;
    try {
      out = await complianceFilings(deps.db, req.actor!, req.query as Record<string, unknown>);
    } catch (e) {
      const refusal = refusalOf(e);
      if (!refusal) throw e;
      return renderPage(req, res, 'compliance-filings', { title: L('备案明细', 'Filings'), L: { back: L('返回合规统计', 'Back to compliance') }, errors: refusal.fields, alert: refusal.alert, rows: [] }, refusal.status);
    }
    const what = out.at ? L(`${formatTime(out.at)} 时逾期未备案`, `overdue at ${formatTime(out.at)}`) : bucketLabel(out.bucket!, lang);
    const now = new Date();
    renderPage(req, res, 'compliance-filings', {
      title: `${out.maker?.name ?? L('全市', 'City of Beijing')} · ${what}`,
      L: { back: L('返回合规统计', 'Back to compliance'), count: L(`共 ${out.rows.length} 件`, `${out.rows.length} filings`), columns: [...filingColumns(lang).slice(0, -1), L('用时', 'Delay')], notFiled: L('未备案', 'not filed'), none: L('没有符合条件的备案。', 'No filings match.') },
      csv: `/supervision/compliance/filings.csv?${new URLSearchParams(req.query as Record<string, string>).toString()}`,
      rows: out.rows.map((f) => ({
        caseHref: `/cases/${f.case_id}`,
        caseShort: f.case_id.slice(0, 8),
        kind: pick(FILING_KIND_LABELS, f.kind, lang),
        district: districtName(f.district_code, lang),
        maker: f.maker_name,
        holder: f.holder_name,
        started: formatTime(f.started_at),
        due: formatTime(f.due_at),
        filed: formatTime(f.first_filed_at),
        delay: formatDuration(f.delay_minutes, lang),
        late: (f.first_filed_at ?? now) > f.due_at,
      })),
    });
  });

  r.get('/supervision/compliance/filings.csv', page('supervisor'), async (req, res) => {
    const lang: Lang = req.lang ?? 'zh';
    const out = await complianceFilings(deps.db, req.actor!, req.query as Record<string, unknown>, 100_000);
    sendCsv(res, 'filings', filingColumns(lang), out.rows.map((f) => [f.case_id, pick(FILING_KIND_LABELS, f.kind, lang), districtName(f.district_code, lang), f.maker_name, f.holder_name, formatTime(f.started_at), formatTime(f.due_at), formatTime(f.first_filed_at), f.delay_minutes]));
  });
  return r;
}
