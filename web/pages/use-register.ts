// The holder's use register (C4 用印登记) in the browser: every signature of its seals, filtered by seal,
// keeper, time and document type, newest first; the same filters download as CSV (GET /api/use-register.csv,
// which reads the session cookie). Reads go through the same use-case as the JSON API (and are audited there).
import { Router } from 'express';
import type { Deps } from '../../usecases/deps';
import { REGISTER_MAX_ROWS, useRegisterPage } from '../../usecases/use-register';
import { DOCUMENT_TYPES, SIGNATURE_FORMATS } from '../../domain/signing';
import { refusalOf } from './forms';
import { page } from './guards';
import { formatTime, sealLabel } from './labels';
import { renderPage } from './render';
import type { Lang } from './session';

const FILTERS = ['seal_id', 'keeper_id', 'from', 'to', 'document_type'] as const;
const PAGE_ROWS = 200;

export function useRegisterPages(deps: Deps): Router {
  const r = Router();
  r.get('/use-register', page('holder'), async (req, res) => {
    const lang: Lang = req.lang ?? 'zh';
    const L = (zh: string, en: string) => (lang === 'zh' ? zh : en);
    const values: Record<string, string> = {};
    for (const k of FILTERS) if (typeof req.query[k] === 'string' && req.query[k] !== '') values[k] = String(req.query[k]).trim();
    let data: Awaited<ReturnType<typeof useRegisterPage>>;
    let refusal = null;
    try {
      data = await useRegisterPage(deps.db, req.actor!, { ...values, limit: String(PAGE_ROWS) });
    } catch (e) {
      refusal = refusalOf(e);
      if (!refusal) throw e;
      data = await useRegisterPage(deps.db, req.actor!, { limit: '1' }).then((d) => ({ ...d, entries: [] }));
    }
    const seals = data.seals.map((x) => ({ value: x.id, label: `${sealLabel(x.kind, x.number, lang)}${x.seal_code ? ` ${x.seal_code}` : ''}` }));
    const sealName = new Map(seals.map((x) => [x.value, x.label]));
    // The export asks for the most rows the API gives (its default is 500).
    const query = new URLSearchParams({ ...values, limit: String(REGISTER_MAX_ROWS) }).toString();
    renderPage(req, res, 'use-register', {
      title: L('用印登记', 'Use register'),
      T: {
        seal: L('印章', 'Seal'), keeper: L('保管人', 'Keeper'), from: L('起始日期', 'From'), to: L('截止日期（不含）', 'To (exclusive)'), type: L('文件类型', 'Document type'),
        all: L('全部', 'All'), search: L('查询', 'Search'), reset: L('清除条件', 'Clear'), csv: L('导出 CSV（符合条件的全部记录）', 'Export CSV (every matching entry)'),
        at: L('签章时间', 'Signed at'), purpose: L('用印事由', 'Purpose'), doc: L('文件', 'Document'), approver: L('审批人', 'Approver'), format: L('格式', 'Format'), channel: L('渠道', 'Channel'),
        none: L('没有符合条件的用印记录。', 'No signatures match.'), shown: L(`显示最新的 ${PAGE_ROWS} 条以内；导出 CSV 最多 ${REGISTER_MAX_ROWS} 条。`, `At most the newest ${PAGE_ROWS} are shown; the CSV has up to ${REGISTER_MAX_ROWS}.`),
      },
      values,
      errors: refusal?.fields,
      alert: refusal?.alert,
      seals,
      keepers: data.keepers.map((k) => ({ value: k.id, label: `${k.name} · ${sealName.get(k.seal_id) ?? ''}${k.removed_at ? L('（已撤销）', ' (removed)') : ''}` })),
      documentTypes: Object.entries(DOCUMENT_TYPES).map(([value, l]) => ({ value, label: lang === 'zh' ? l.zh : l.en })),
      csv: `/api/use-register.csv?${query}`,
      entries: data.entries.map((e) => ({
        id: e.id,
        at: formatTime(e.signed_at),
        seal: sealName.get(e.seal_id) ?? e.seal_code ?? '',
        keeper: e.keeper_name,
        approver: e.approver_name ?? '',
        purpose: e.purpose,
        type: lang === 'zh' ? e.document_type_zh : (DOCUMENT_TYPES[e.document_type as keyof typeof DOCUMENT_TYPES]?.en ?? e.document_type),
        document: e.document_name,
        sha: `${e.document_sha256.slice(0, 16)}…`,
        sha256: e.document_sha256,
        format: SIGNATURE_FORMATS[e.format as keyof typeof SIGNATURE_FORMATS]?.[lang] ?? e.format,
        channel: e.channel,
      })),
    }, refusal?.status ?? 200);
  });
  return r;
}
