// Supervisors search the audit trail (M6, P1) in the browser: by person, case, time and action, newest
// first, a page at a time; every case links to its page, every person to their own entries; the same
// search downloads as CSV (GET /api/audit.csv, which reads the session cookie). Each search is itself an entry.
import { Router } from 'express';
import type { Deps } from '../../usecases/deps';
import { searchAudit } from '../../usecases/audit';
import { refusalOf } from './forms';
import { page } from './guards';
import { districtName, formatTime } from './labels';
import { renderPage, translate } from './render';
import { MESSAGES } from './i18n';
import type { Lang } from './session';

const FILTERS = ['user', 'case', 'from', 'to', 'action'] as const;
const PAGE = 50;

export function auditPages(deps: Deps): Router {
  const r = Router();
  r.get('/supervision/audit', page('supervisor'), async (req, res) => {
    const lang: Lang = req.lang ?? 'zh';
    const L = (zh: string, en: string) => (lang === 'zh' ? zh : en);
    const values: Record<string, string> = {};
    for (const k of FILTERS) if (typeof req.query[k] === 'string' && req.query[k] !== '') values[k] = String(req.query[k]).trim();
    const before = typeof req.query.before_seq === 'string' ? req.query.before_seq : undefined;
    const link = (over: Record<string, string | undefined>) => {
      const q = new URLSearchParams();
      for (const [k, v] of Object.entries({ ...values, ...over })) if (v) q.set(k, v);
      return q.toString();
    };
    const texts = {
      person: L('人员（用户名或编号）', 'Person (username or ID)'), case: L('案件编号', 'Case ID'), from: L('起始（日期或时间）', 'From (date or time)'), to: L('截止（日期或时间）', 'To (date or time)'),
      action: L('操作（如 case.read 或 case.*）', 'Action (e.g. case.read or case.*)'), search: L('查询', 'Search'), reset: L('清除条件', 'Clear'),
      hint: L('日期按北京时间计整日；每次查询和导出本身也记入审计日志。', 'A date means the whole day in Beijing; every search and export is itself recorded.'),
      at: L('时间', 'Time'), who: L('人员', 'Person'), role: L('角色', 'Role'), what: L('操作', 'Action'), outcome: L('结果', 'Outcome'), caseCol: L('案件', 'Case'), target: L('对象', 'Target'), address: L('来源地址', 'Address'),
      older: L('更早的记录', 'Older entries'), newest: L('最新', 'Newest'), none: L('没有符合条件的记录。', 'No entries match.'), csv: L('导出 CSV（全部符合条件的记录）', 'Export CSV (every matching entry)'),
      count: L('本页 {n} 条', '{n} on this page'),
    };
    let result: Awaited<ReturnType<typeof searchAudit>> | null = null;
    let refusal = null;
    try {
      result = await searchAudit(deps, req.actor!, { ...values, before_seq: before, limit: String(PAGE) });
    } catch (e) {
      refusal = refusalOf(e);
      if (!refusal) throw e;
    }
    const OUTCOMES: Record<string, [string, string, string]> = { ok: ['成功', 'done', 'ok'], done: ['成功', 'done', 'ok'], refused: ['拒绝', 'refused', 'bad'], failed: ['失败', 'failed', 'bad'] };
    const outcome = (o: string) => ({ label: OUTCOMES[o]?.[lang === 'zh' ? 0 : 1] ?? o, tone: OUTCOMES[o]?.[2] ?? 'info' });
    const roleName = (r: string | null) => (r && MESSAGES[`role.${r}`] ? translate(lang, `role.${r}`) : (r ?? ''));
    renderPage(
      req,
      res,
      'audit',
      {
        title: L('审计日志查询', 'Audit search'),
        T: texts,
        values,
        errors: refusal?.fields,
        alert: refusal?.alert,
        csv: `/api/audit.csv?${link({})}`,
        entries: (result?.entries ?? []).map((e) => ({
          seq: e.seq,
          at: formatTime(e.at),
          who: e.actor_username ?? e.actor_user_id ?? '',
          whoHref: e.actor_username || e.actor_user_id ? `/supervision/audit?${link({ user: e.actor_username ?? e.actor_user_id, before_seq: undefined })}` : null,
          role: roleName(e.actor_role),
          scope: e.actor_district_code ? districtName(e.actor_district_code, lang) : '',
          action: e.action,
          outcome: outcome(e.outcome),
          caseId: e.case_id,
          caseShort: e.case_id ? String(e.case_id).slice(0, 8) : '',
          caseFilter: e.case_id ? `/supervision/audit?${link({ case: e.case_id, before_seq: undefined })}` : null,
          target: [e.target_type, e.target_id].filter(Boolean).join(' '),
          address: e.client_address ?? '',
        })),
        count: result ? texts.count.replace('{n}', String(result.entries.length)) : '',
        older: result?.next_before_seq ? `/supervision/audit?${link({ before_seq: result.next_before_seq })}` : null,
        newest: before ? `/supervision/audit?${link({})}` : null,
        searched: !!result,
      },
      refusal?.status ?? 200,
    );
  });
  return r;
}
