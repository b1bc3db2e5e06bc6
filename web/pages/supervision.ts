// Supervisors' city view (I1, M3, M9): overdue filings now, by district and by maker, with how late; seals
// nearing the 3-month unclaimed limit; the unclaimed ledger; open cases by state. Every number drills down
// to its cases, and every table downloads as CSV.
import { Router, type Request } from 'express';
import type { Deps } from '../../usecases/deps';
import { supervisionDashboard } from '../../usecases/web-queries';
import { sealUseCounts } from '../../usecases/use-register';
import { sendCsv } from './csv';
import { page } from './guards';
import { CASE_STATUS_LABELS, FILING_KIND_LABELS, caseStatus, countdown, districtName, formatDuration, formatTime, pick, sealLabel } from './labels';
import { renderPage } from './render';
import type { Lang } from './session';

/** Rows of each list on the page (the most urgent first); the CSV export has them all. */
const SHOWN = 50;
const CSV_ROWS = 100_000;

type Dashboard = Awaited<ReturnType<typeof supervisionDashboard>>;

interface Table {
  title: { zh: string; en: string };
  columns: Array<{ zh: string; en: string }>;
  rows: (d: Dashboard, lang: Lang) => Array<Array<string | number>>;
}

const col = (zh: string, en: string) => ({ zh, en });

/** The dashboard's tables, as the page shows them and as CSV. */
export const TABLES: Record<string, Table> = {
  'overdue-by-district': {
    title: col('逾期未备案（按辖区）', 'Overdue filings by district'),
    columns: [col('辖区', 'District'), col('辖区代码', 'District code'), col('逾期件数', 'Overdue'), col('最长逾期（分钟）', 'Longest (minutes)'), col('平均逾期（分钟）', 'Average (minutes)')],
    rows: (d, lang) => d.overdueByDistrict.map((g) => [districtName(g.key, lang), g.key, g.count, g.max_late_minutes, Math.round(g.total_late_minutes / g.count)]),
  },
  'overdue-by-maker': {
    title: col('逾期未备案（按制作单位）', 'Overdue filings by maker'),
    columns: [col('制作单位', 'Maker'), col('逾期件数', 'Overdue'), col('最长逾期（分钟）', 'Longest (minutes)'), col('平均逾期（分钟）', 'Average (minutes)')],
    rows: (d) => d.overdueByMaker.map((g) => [g.name, g.count, g.max_late_minutes, Math.round(g.total_late_minutes / g.count)]),
  },
  overdue: {
    title: col('逾期未备案明细', 'Overdue filings'),
    columns: [col('案件', 'Case'), col('备案类型', 'Filing'), col('辖区', 'District'), col('制作单位', 'Maker'), col('用章单位', 'Holder'), col('备案时限', 'Due'), col('逾期（分钟）', 'Late (minutes)')],
    rows: (d, lang) => d.overdue.map((o) => [o.case_id, pick(FILING_KIND_LABELS, o.kind, lang), districtName(o.district_code, lang), o.maker_name, o.holder_name, formatTime(o.due_at), o.late_by_minutes]),
  },
  approaching: {
    title: col('临近三个月领取期限的印章', 'Seals nearing the 3-month collection limit'),
    columns: [col('印章编码', 'Seal code'), col('印章', 'Seal'), col('用章单位', 'Holder'), col('制作单位', 'Maker'), col('辖区', 'District'), col('制作完成', 'Ready since'), col('领取期限', 'Collect by')],
    rows: (d, lang) => d.approaching.map((a) => [a.seal_code ?? '', sealLabel(a.seal_kind, a.seal_number, lang), a.holder_name, a.maker_name, districtName(a.district_code, lang), formatTime(a.ready_at), formatTime(a.unclaimed_due_at)]),
  },
  unclaimed: {
    title: col('逾期未领取登记册', 'Unclaimed ledger'),
    columns: [col('印章编码', 'Seal code'), col('用章单位', 'Holder'), col('辖区', 'District'), col('制作完成', 'Ready since'), col('领取期限', 'Collect by'), col('登记注销', 'Entered')],
    rows: (d, lang) => d.ledger.map((u) => [u.seal_code ?? '', u.holder_name, districtName(u.district_code, lang), formatTime(u.ready_at), formatTime(u.due_at), formatTime(u.entered_at)]),
  },
  'cases-by-state': {
    title: col('在办案件（按状态）', 'Open cases by state'),
    columns: [col('状态', 'State'), col('状态代码', 'State code'), col('件数', 'Cases')],
    rows: (d, lang) => d.openByState.map((s) => [pick(CASE_STATUS_LABELS, s.status, lang), s.status, s.count]),
  },
};

export function supervisionPages(deps: Deps): Router {
  const r = Router();

  r.get('/supervision', page('supervisor'), async (req: Request, res) => {
    const lang: Lang = req.lang ?? 'zh';
    const now = new Date();
    const d = await supervisionDashboard(deps.db, req.actor!, now, SHOWN);
    // C4: signatures made with seals, per district and seal kind (all time; the API takes a time range).
    const use = await sealUseCounts(deps.db, req.actor!, {});
    const maxDistrict = Math.max(1, ...d.overdueByDistrict.map((g) => g.count));
    const maxMaker = Math.max(1, ...d.overdueByMaker.map((g) => g.count));
    renderPage(req, res, 'supervision', {
      title: lang === 'zh' ? '全市督导' : 'City supervision',
      asOf: formatTime(now),
      totals: {
        overdue: d.overdueTotal,
        districts: d.overdueByDistrict.length,
        approaching: d.approachingTotal,
        ledger: d.ledgerTotal,
        open: d.openByState.reduce((a, b) => a + b.count, 0),
      },
      byDistrict: d.overdueByDistrict.map((g) => ({
        name: districtName(g.key, lang),
        code: g.key,
        count: g.count,
        bar: Math.round((g.count / maxDistrict) * 20) * 5,
        longest: formatDuration(g.max_late_minutes, lang),
        href: `/cases?overdue=1&district=${g.key}`,
      })),
      byMaker: d.overdueByMaker.map((g) => ({
        name: g.name,
        count: g.count,
        bar: Math.round((g.count / maxMaker) * 20) * 5,
        longest: formatDuration(g.max_late_minutes, lang),
        href: `/cases?overdue=1&maker=${g.key}`,
      })),
      overdue: d.overdue.slice(0, SHOWN).map((o) => ({
        caseHref: `/cases/${o.case_id}`,
        kind: pick(FILING_KIND_LABELS, o.kind, lang),
        district: districtName(o.district_code, lang),
        maker: o.maker_name,
        holder: o.holder_name,
        due: formatTime(o.due_at),
        late: formatDuration(o.late_by_minutes, lang),
      })),
      overdueMore: Math.max(0, d.overdueTotal - d.overdue.length),
      approachingMore: Math.max(0, d.approachingTotal - d.approaching.length),
      ledgerMore: Math.max(0, d.ledgerTotal - d.ledger.length),
      approaching: d.approaching.map((a) => ({
        sealHref: `/seals/${a.seal_id}`,
        caseHref: `/cases/${a.case_id}`,
        code: a.seal_code,
        seal: sealLabel(a.seal_kind, a.seal_number, lang),
        holder: a.holder_name,
        maker: a.maker_name,
        district: districtName(a.district_code, lang),
        due: formatTime(a.unclaimed_due_at),
        countdown: countdown(a.unclaimed_due_at, lang, now),
      })),
      ledger: d.ledger.map((u) => ({
        sealHref: `/seals/${u.seal_id}`,
        caseHref: `/cases/${u.case_id}`,
        code: u.seal_code,
        holder: u.holder_name,
        district: districtName(u.district_code, lang),
        due: formatTime(u.due_at),
        entered: formatTime(u.entered_at),
      })),
      sealUse: {
        total: use.total,
        rows: use.counts.map((c) => ({ district: districtName(c.district_code, lang), code: c.district_code, kind: lang === 'zh' ? c.seal_kind_zh : sealLabel(c.seal_kind, null, lang), count: c.count })),
      },
      states: d.openByState.map((s) => ({ status: caseStatus(s.status, lang), count: s.count, href: `/cases?status=${s.status}` })),
      csv: Object.keys(TABLES).reduce<Record<string, string>>((acc, k) => ({ ...acc, [k.replace(/-(\w)/g, (_, c: string) => c.toUpperCase())]: `/supervision/${k}.csv` }), {}),
    });
  });

  r.get('/supervision/:table.csv', page('supervisor'), async (req, res) => {
    const lang: Lang = req.lang ?? 'zh';
    const table = TABLES[String(req.params.table)];
    if (!table) {
      res.status(404).type('text/plain').send(lang === 'zh' ? '没有这张表' : 'No such table');
      return;
    }
    const d = await supervisionDashboard(deps.db, req.actor!, new Date(), CSV_ROWS);
    sendCsv(res, String(req.params.table), table.columns.map((c) => c[lang]), table.rows(d, lang));
  });
  return r;
}
