// Officers: the district's task queue (due order, countdowns, overdue marked, filters, claim/release, self
// refresh) and the task page (case data, materials viewer, imprint, timeline, accept / return with reason).
// Supervisors read the city's queue and tasks; only officers decide (usecases/applications.decideTask).
import { Router, type Request, type Response } from 'express';
import { findDistrict, type DistrictMismatch } from '../../domain/districts';
import { decideTask } from '../../usecases/tasks';
import type { Deps } from '../../usecases/deps';
import { claimTask, getTask, queueVersion, releaseTask, taskQueue } from '../../usecases/web-queries';
import { correctionComparison } from '../../usecases/correction-approval';
import { filingOfTask } from '../../usecases/filing-contents';
import { caseModel } from './case-model';
import { flash, formBody, refusalOf, type Refusal } from './forms';
import { page } from './guards';
import { CASE_KIND_LABELS, caseStatus, countdown, districtName, formatTime, pick, sealLabel, TASK_KIND_LABELS } from './labels';
import { renderPage } from './render';
import type { Lang } from './session';

const TASK_KINDS = Object.keys(TASK_KIND_LABELS);

export function officerPages(deps: Deps): Router {
  const r = Router();

  r.get('/tasks', page('officer', 'supervisor'), async (req, res) => {
    const lang: Lang = req.lang ?? 'zh';
    const kind = typeof req.query.kind === 'string' && TASK_KINDS.includes(req.query.kind) ? req.query.kind : undefined;
    const status = req.query.status === 'done' ? 'done' : 'open';
    const mine = req.query.mine === '1';
    const pageNo = Number(req.query.page) || 1;
    const [q, v] = await Promise.all([taskQueue(deps.db, req.actor!, { kind, status, page: pageNo, mine }), queueVersion(deps.db, req.actor!)]);
    const now = new Date();
    const total = Object.values(q.counts).reduce((a, b) => a + b, 0);
    const link = (over: Record<string, string | undefined>) => {
      const p = new URLSearchParams();
      const merged = { kind, status: status === 'done' ? 'done' : undefined, mine: mine ? '1' : undefined, ...over };
      for (const [k, v] of Object.entries(merged)) if (v) p.set(k, v);
      const s = p.toString();
      return `/tasks${s ? `?${s}` : ''}`;
    };
    const rows = q.rows.map((t) => {
      const cd = countdown(t.due_at, lang, now);
      return {
        id: t.id,
        kindLabel: pick(TASK_KIND_LABELS, t.kind, lang),
        caseKindLabel: pick(CASE_KIND_LABELS, t.case_kind, lang),
        caseStatus: caseStatus(t.case_status, lang),
        holder: t.holder_name,
        seal: sealLabel(t.seal_kind, t.seal_number, lang),
        sealCode: t.seal_code,
        district: districtName(t.district_code, lang),
        arrived: formatTime(t.created_at),
        due: formatTime(t.due_at),
        countdown: status === 'open' ? cd : null,
        overdue: status === 'open' && cd.tone === 'overdue',
        assignee: t.assignee_name,
        mine: t.assignee_id === req.actor!.userId,
        claimable: req.actor!.role === 'officer' && status === 'open' && !t.assignee_id,
        decided: formatTime(t.decided_at),
        decision: t.decision,
      };
    });
    renderPage(req, res, 'queue', {
      title: lang === 'zh' ? '任务队列' : 'Task queue',
      scope: req.actor!.role === 'officer' ? districtName(req.actor!.districtCode, lang) : lang === 'zh' ? '全市' : 'City of Beijing',
      isOfficer: req.actor!.role === 'officer',
      isSupervisor: req.actor!.role === 'supervisor',
      open: status === 'open',
      filters: [
        { label: lang === 'zh' ? '全部' : 'All', count: total, href: link({ kind: undefined }), current: !kind },
        ...TASK_KINDS.map((k) => ({ label: pick(TASK_KIND_LABELS, k, lang), count: q.counts[k] ?? 0, href: link({ kind: k }), current: kind === k })),
      ],
      stateLinks: [
        { label: lang === 'zh' ? '待办' : 'Open', href: link({ status: undefined }), current: status === 'open' },
        { label: lang === 'zh' ? '已办' : 'Decided', href: link({ status: 'done' }), current: status === 'done' },
      ],
      mineLink: { href: link({ mine: mine ? undefined : '1' }), on: mine },
      rows,
      empty: rows.length === 0,
      prev: q.page > 1 ? link({ page: String(q.page - 1) }) : null,
      next: q.hasMore ? link({ page: String(q.page + 1) }) : null,
      pageNo: q.page,
      overdueCount: rows.filter((x) => x.overdue).length,
      refreshedAt: formatTime(now),
      queueVersion: v.version,
      backTo: req.originalUrl,
    });
  });

  async function showTask(req: Request, res: Response, refusal: Refusal | null = null, values: Record<string, string> = {}) {
    const lang: Lang = req.lang ?? 'zh';
    const task = await getTask(deps.db, req.actor!, String(req.params.id));
    const c = await caseModel(deps, req, task.case_id);
    const correction = task.record_id ? await correctionComparison(deps.db, req.actor!, task) : null; // M5
    const filing = await filingOfTask(deps.db, task.id); // M3: what the maker filed, as recorded
    const isOfficer = req.actor!.role === 'officer';
    renderPage(req, res, 'task', {
      title: `${pick(TASK_KIND_LABELS, task.kind, lang)} · ${c.holder.name}`,
      task: {
        id: task.id,
        kindLabel: pick(TASK_KIND_LABELS, task.kind, lang),
        open: task.status === 'open',
        created: formatTime(task.created_at),
        countdown: task.status === 'open' ? countdown(task.due_at, lang) : null,
        assignee: task.assignee_name,
        mine: task.assignee_id === req.actor!.userId,
        canClaim: isOfficer && task.status === 'open' && !task.assignee_id,
        canRelease: isOfficer && task.status === 'open' && task.assignee_id === req.actor!.userId,
        canDecide: isOfficer && task.status === 'open',
        decision: task.decision ? (task.decision === 'accept' ? (lang === 'zh' ? '通过' : 'Accepted') : lang === 'zh' ? '退回' : 'Returned') : null,
        acceptedDecision: task.decision === 'accept',
        reason: task.reason,
        decidedAt: formatTime(task.decided_at),
        decidedBy: task.decided_by_name,
      },
      c,
      correction: correction && { ...correction, submittedAt: formatTime(correction.submittedAt) },
      filing: filing && filingView(filing),
      // P3: the case's district disagrees with the holder's registered address or the USCC's registration authority.
      districtFlags: ((task.district_mismatches ?? []) as DistrictMismatch[]).map((m) => {
        const d = findDistrict(m.district_code);
        const name = d ? (lang === 'zh' ? d.nameZh : d.nameEn) : m.district_code;
        if (m.source === 'address') return lang === 'zh' ? `住所登记地址在${name}，与本案辖区不符` : `The registered address is in ${name}, not this case's district`;
        if (m.source === 'uscc') return lang === 'zh' ? `统一社会信用代码的登记管理机关在${name}，与本案辖区不符` : `The USCC was issued by the registration authority of ${name}, not this case's district`;
        return lang === 'zh' ? `制作单位申报的辖区为${name}，与按住所地址认定的辖区不符` : `The maker gave ${name} as the district, not the one the holder's records name`;
      }),
      errors: refusal?.fields,
      alert: refusal?.alert,
      values,
    }, refusal?.status ?? 200);
  }

  // What the queue page's script polls (JSON, small): the table is fetched again only when this changes.
  r.get('/tasks/state', page('officer', 'supervisor'), async (req, res) => {
    res.set('cache-control', 'no-store').json(await queueVersion(deps.db, req.actor!));
  });

  r.get('/tasks/:id', page('officer', 'supervisor'), async (req, res) => showTask(req, res));

  r.post('/tasks/:id/decision', page('officer'), formBody(), async (req, res) => {
    const f = req.form!.fields;
    const decision = f.decision;
    try {
      const decided = await decideTask(deps, req.actor!, String(req.params.id), { decision, reason: f.reason ?? '' });
      const what = decided.task_kind === 'production_correction' ? 'correction' : 'task'; // a correction decides a version, not the case
      flash(req, res, `${what}${decision === 'accept' ? 'Accepted' : 'Returned'}`);
      res.redirect(303, '/tasks');
    } catch (e) {
      const refusal = refusalOf(e);
      if (!refusal) throw e;
      await showTask(req, res, refusal, { reason: f.reason ?? '' });
    }
  });

  for (const [action, fn, key] of [['claim', claimTask, 'taskClaimed'], ['release', releaseTask, 'taskReleased']] as const) {
    r.post(`/tasks/:id/${action}`, page('officer'), formBody(), async (req, res) => {
      try {
        await fn(deps.db, req.actor!, String(req.params.id));
        flash(req, res, key);
        const back = req.form!.fields.back;
        res.redirect(303, typeof back === 'string' && back.startsWith('/tasks') ? back : `/tasks/${req.params.id}`);
      } catch (e) {
        const refusal = refusalOf(e);
        if (!refusal) throw e;
        await showTask(req, res, refusal);
      }
    });
  }
  return r;
}

/** The recorded filing (M3) as the task page lists it; every value is text, escaped by the template. */
function filingView(f: NonNullable<Awaited<ReturnType<typeof filingOfTask>>>) {
  const d = f.data as Record<string, any>;
  const text = (v: unknown) => (v === null || v === undefined || v === '' ? '—' : typeof v === 'object' ? JSON.stringify(v) : String(v));
  return {
    round: f.round,
    submitted: formatTime(f.submitted_at),
    late: f.late,
    holder: d.holder ?? null,
    legalRep: d.legal_representative ?? null,
    handler: d.handler ?? null,
    idCheck: d.original_id_check ? { ...d.original_id_check, checked_at: formatTime(d.original_id_check.checked_at) } : null,
    onSiteImage: d.on_site_image?.material_id ?? null,
    production: d.production ? Object.entries(d.production.data ?? {}).map(([k, v]) => ({ k, v: text(v) })) : [],
    productionVersion: d.production?.version ?? null,
    seal: d.seal ?? null,
    certificate: d.certificate ? { ...d.certificate, not_before: formatTime(d.certificate.not_before), not_after: formatTime(d.certificate.not_after) } : null,
    maker: d.maker ?? null,
    note: d.note ?? null,
    assembled: d.schema === 'm3-filing/v1',
  };
}
