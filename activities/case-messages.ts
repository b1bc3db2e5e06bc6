// Messages about a case's deadlines and documents, written to the outbox (and so delivered) by the case's
// workflow at the moment they are due: the seal awaiting collection 2 weeks before its M9 cancellation, the
// M3 filing due within 2 hours and overdue (to the maker), the production certificate issued (to the holder).
import type { Db } from '../infra/db';
import { postMessage } from './outbox';

export type CaseMessageKind = 'seal_unclaimed_reminder' | 'filing_due_soon' | 'filing_overdue' | 'production_certificate_ready';

/** Beijing wall-clock time of an instant, for the text of a message (2026-12-05 14:00). */
const beijing = (iso: string) => new Date(Date.parse(iso) + 8 * 3600_000).toISOString().slice(0, 16).replace('T', ' ');

export function createCaseMessageActivities(db: Db) {
  return {
    /** `dueAt`: the deadline the message is about (part of its key: a new deadline is a new message). */
    async postCaseMessage({ caseId, kind, at, dueAt, filingKind }: { caseId: string; kind: CaseMessageKind; at: string; dueAt?: string; filingKind?: string }): Promise<string> {
      const c = await db('cases as c').join('makers as m', 'm.id', 'c.maker_id').where('c.id', caseId).first('c.maker_id', 'c.holder_id', 'm.name as maker_name');
      const seal = await db('seals').where({ case_id: caseId }).orderBy('created_at', 'desc').first('id', 'seal_code', 'text');
      const what = `${seal?.text ?? ''}（${seal?.seal_code ?? caseId}）`;
      const due = dueAt ? beijing(dueAt) : '';
      const texts: Record<CaseMessageKind, { audience: 'holder' | 'maker'; body: string; link: string }> = {
        seal_unclaimed_reminder: {
          audience: 'holder',
          body: `印章 ${what} 已制作完成，请于 ${due}（北京时间）前到 ${c.maker_name} 领取，逾期未领取将被登出。/ Seal ${seal?.seal_code} is ready: collect it at ${c.maker_name} before ${due} (Beijing time), or it is cancelled (M9).`,
          link: `/seals/${seal?.id}`,
        },
        filing_due_soon: {
          audience: 'maker',
          body: `印章 ${what} 的公安备案将于 ${due}（北京时间）到期，尚未提交。/ The police filing for seal ${seal?.seal_code} is due at ${due} (Beijing time) and has not been submitted (M3).`,
          link: `/cases/${caseId}`,
        },
        filing_overdue: {
          audience: 'maker',
          body: `印章 ${what} 的公安备案已于 ${due}（北京时间）逾期，请立即提交。/ The police filing for seal ${seal?.seal_code} was due at ${due} (Beijing time) and is overdue; file it now (M3).`,
          link: `/cases/${caseId}`,
        },
        production_certificate_ready: {
          audience: 'holder',
          body: `印章 ${what} 已领取，《电子印章制作证书》已签发，可在本单位印章页面查看。/ Seal ${seal?.seal_code} was collected; its production certificate is issued and on the seal's page.`,
          link: `/seals/${seal?.id}`,
        },
      };
      const t = texts[kind];
      return postMessage(db, {
        messageKey: `${caseId}:${kind}:${filingKind ?? ''}:${dueAt ?? ''}`,
        kind,
        audience: t.audience,
        recipient: t.audience === 'maker' ? c.maker_id : c.holder_id,
        body: t.body,
        at,
        sealId: seal?.id ?? null,
        caseId,
        linkPath: t.link,
      });
    },
  };
}
