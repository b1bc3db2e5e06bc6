// I2: supervisors see the recognised platforms (互认平台) and the changes awaiting a second supervisor, and
// approve or reject them (four eyes: the proposer's own decision is refused by the change's workflow).
// Proposals are made through the API (certificates are files: POST /api/trust-list/platforms).
import { Router } from 'express';
import type { Deps } from '../../usecases/deps';
import { decidePlatformChange, trustList } from '../../usecases/trust-list';
import { PLATFORM_STATUS_LABELS, type PlatformStatus } from '../../domain/trust-list';
import { formBody, refusalOf, type Refusal } from './forms';
import { page } from './guards';
import { formatTime } from './labels';
import { renderPage } from './render';
import type { Lang } from './session';

export function trustListPages(deps: Deps): Router {
  const r = Router();
  const show = async (req: Parameters<Parameters<typeof r.get>[1]>[0], res: Parameters<Parameters<typeof r.get>[1]>[1], refusal: Refusal | null, status = 200) => {
    const lang: Lang = req.lang ?? 'zh';
    const L = (zh: string, en: string) => (lang === 'zh' ? zh : en);
    const list = await trustList(deps.db, req.actor!);
    const statusLabel = (s: string) => PLATFORM_STATUS_LABELS[s as PlatformStatus]?.[lang] ?? s;
    const proposalText = (p: { code: string; name: string; status: string; crl_url: string | null; root_certificates: Array<{ subject: string }>; maker_certificates: Array<{ subject: string }> }) =>
      `${p.name}（${p.code}）· ${statusLabel(p.status)} · CRL ${p.crl_url ?? '—'} · ${L('根证书', 'roots')}: ${p.root_certificates.map((c) => c.subject).join('; ')}${p.maker_certificates.length ? ` · ${L('制章者', 'makers')}: ${p.maker_certificates.map((c) => c.subject).join('; ')}` : ''}`;
    renderPage(
      req,
      res,
      'trust-list',
      {
        title: L('互认平台', 'Recognised platforms'),
        alert: refusal?.alert ?? (refusal ? Object.values(refusal.fields)[0] : undefined),
        T: {
          platforms: L('已列入的平台', 'Listed platforms'), code: L('代码', 'Code'), name: L('名称', 'Name'), status: L('状态', 'Status'), crl: L('证书撤销列表', 'CRL'), filed: L('备案印章', 'Filed seals'),
          certs: L('证书', 'Certificates'), pending: L('待审批的变更', 'Changes awaiting approval'), proposedBy: L('提出人', 'Proposed by'), change: L('变更内容', 'Change'),
          reason: L('理由（驳回必填）', 'Reason (required to reject)'), approve: L('批准', 'Approve'), reject: L('驳回', 'Reject'), none: L('暂无。', 'None.'),
          recent: L('最近审批', 'Recently decided'), decidedBy: L('审批人', 'Decided by'),
          fourEyes: L('每项变更须由提出人以外的另一名监管人员审批后生效；提出变更请使用 API（POST /api/trust-list/platforms）。', 'Each change takes effect only once a supervisor other than its proposer approves it; propose changes through the API (POST /api/trust-list/platforms).'),
        },
        platforms: list.platforms.map((p) => ({
          code: p.code,
          name: p.name,
          status: statusLabel(p.status),
          crl: p.crl ? `${formatTime(p.crl.this_update)}${p.crl.last_error ? ` ⚠ ${p.crl.last_error}` : ''}` : (p.crl_url ?? '—'),
          filed: p.filed_seals,
          certs: p.certificates.map((c) => `${c.role}: ${c.subject}`).join('\n'),
        })),
        pending: list.pending_changes.map((c) => ({ id: c.change_id, by: c.proposed_by, at: formatTime(c.proposed_at), text: proposalText(c.proposal) })),
        recent: list.recent_changes.map((c) => ({ by: c.proposed_by, decidedBy: c.decided_by, status: c.status, at: c.decided_at ? formatTime(c.decided_at) : '', text: proposalText(c.proposal), reason: c.reason ?? '' })),
      },
      status,
    );
  };
  r.get('/supervision/trust-list', page('supervisor'), async (req, res) => show(req, res, null));
  r.post('/supervision/trust-list/changes/:id/decision', page('supervisor'), formBody(), async (req, res) => {
    const f = req.form!.fields;
    try {
      await decidePlatformChange(deps, req.actor!, String(req.params.id), { decision: f.decision, reason: f.reason ?? null });
      res.redirect(303, '/supervision/trust-list');
    } catch (e) {
      const refusal = refusalOf(e);
      if (!refusal) throw e;
      await show(req, res, refusal, refusal.status);
    }
  });
  return r;
}
