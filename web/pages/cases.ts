// Cases: the makers' desk (cases by state), the new application with every field and its uploads, and the
// case page with the maker's steps (materials, production with the on-site image, filing within 24 hours,
// collection). Every step calls the same use-case as the JSON API.
import { Router, type Request, type Response } from 'express';
import { parseApplicationForm } from '../../domain/application-intake';
import { DomainError, ValidationErrors } from '../../domain/errors';
import { BEIJING_DISTRICTS } from '../../domain/districts';
import { moveCaseToDistrict } from '../../usecases/case-district';
import { CLOSED_CASE_STATUSES } from '../../workflows/application-messages';
import { HOLDER_KINDS } from '../../domain/holders';
import { MATERIAL_KINDS } from '../../domain/materials';
import { PERSONAL_SEAL_ROLES, SEAL_KINDS } from '../../domain/seals';
import * as uc from '../../usecases/applications';
import type { Deps } from '../../usecases/deps';
import { caseDesk, TERMINAL_CASE_STATUSES } from '../../usecases/web-queries';
import { caseModel } from './case-model';
import { flash, formBody, formKey, refusalOf, type Refusal, type UploadedFile } from './forms';
import { page } from './guards';
import { CASE_KIND_LABELS, CASE_STATUS_LABELS, caseStatus, countdown, districtName, formatTime, holderKind, materialLabel, personalRole, pick, sealLabel } from './labels';
import { renderPage } from './render';
import type { Lang } from './session';
import { SEAL_KIND_LABELS } from '../../domain/seals';
import { PRODUCTION_MEDIA } from '../../domain/production-data';
import * as idChecks from '../../usecases/id-document-checks';
import { IDENTITY_DOCUMENT_LABELS, IDENTITY_DOCUMENT_TYPES } from '../../domain/identity-documents';

const TRANSIENT = ['submitted', 'producing'];
const OPEN_ORDER = ['production_failed', 'materials_required', 'awaiting_establishment_approval', 'licence_paused', 'awaiting_production', 'producing', 'awaiting_filing', 'filing_returned', 'filing_under_review', 'ready', 'processing', 'awaiting_reset_approval', 'submitted'];
const ONE_MIB = 1024 * 1024;

function fileRefusal(file: UploadedFile): { zh: string; en: string } | null {
  if (file.truncated) return { zh: `文件超过 ${uc.MAX_UPLOAD_BYTES / ONE_MIB} MiB`, en: `The file exceeds ${uc.MAX_UPLOAD_BYTES / ONE_MIB} MiB` };
  if (file.size === 0) return { zh: '文件为空', en: 'The file is empty' };
  if (!file.contentType) return { zh: '只接受 PDF、PNG 或 JPEG 文件（按内容识别）', en: 'Only PDF, PNG or JPEG files are accepted (judged by content)' };
  return null;
}

/** The application form's fields, named as the JSON API's body paths, back into that body. */
function applicationBody(f: Record<string, string>) {
  const opt = (v: string | undefined) => (v === undefined || v.trim() === '' ? undefined : v);
  const sealKind = opt(f['seal.kind']);
  return {
    holder: {
      uscc: f['holder.uscc'],
      name: f['holder.name'],
      kind: opt(f['holder.kind']),
      address: f['holder.address'],
      district: opt(f['holder.district']),
      legal_representative: opt(f['holder.legal_representative']),
      has_superior: f['holder.has_superior'] === 'on',
    },
    seal: {
      kind: sealKind,
      // The field is shown for department and branch seals only; a value left in it when the kind changed is not sent.
      text: sealKind === 'internal_department' || sealKind === 'branch' ? opt(f['seal.text']) : undefined,
      language: opt(f['seal.language']) ?? 'zh',
      person: sealKind === 'personal_name' ? { name: f['seal.person.name'], id_type: opt(f['seal.person.id_type']), id_number: f['seal.person.id_number'], id_country: opt(f['seal.person.id_country']), role: opt(f['seal.person.role']) } : undefined,
    },
    handler: { name: f['handler.name'], id_type: opt(f['handler.id_type']), id_number: f['handler.id_number'], id_country: opt(f['handler.id_country']), phone: f['handler.phone'] },
    // M2: the legal representative / operator, sent when any of its fields is filled.
    legal_representative: ['name', 'id_number', 'phone'].some((k) => opt(f[`legal_representative.${k}`]))
      ? { name: f['legal_representative.name'], id_type: opt(f['legal_representative.id_type']), id_number: f['legal_representative.id_number'], id_country: opt(f['legal_representative.id_country']), phone: f['legal_representative.phone'] }
      : undefined,
    newly_established_organ: f.newly_established_organ === 'on',
  };
}

async function waitWhile(deps: Deps, req: Request, caseId: string, statuses: string[], timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const row = await deps.db('cases').where({ id: caseId }).first('status');
    if (!statuses.includes(row?.status) || Date.now() > deadline) return row?.status as string;
    await new Promise((r) => setTimeout(r, 100));
  }
}

export function casePages(deps: Deps): Router {
  const r = Router();

  // ---------- the desk: cases by state ----------
  r.get('/cases', page('maker', 'officer', 'supervisor', 'holder'), async (req, res) => {
    const lang: Lang = req.lang ?? 'zh';
    const q = req.query;
    const str = (v: unknown) => (typeof v === 'string' && /^[\w-]{1,64}$/.test(v) ? v : undefined);
    const filter = { status: str(q.status), district: str(q.district), maker: str(q.maker), kind: str(q.kind), open: q.all !== '1', overdue: q.overdue === '1' };
    const desk = await caseDesk(deps.db, req.actor!, filter);
    const base = new URLSearchParams();
    for (const k of ['district', 'maker', 'kind'] as const) if (filter[k]) base.set(k, filter[k]!);
    const link = (extra: Record<string, string>) => {
      const p = new URLSearchParams(base);
      for (const [k, v] of Object.entries(extra)) p.set(k, v);
      const s = p.toString();
      return `/cases${s ? `?${s}` : ''}`;
    };
    const openTotal = Object.values(desk.counts).reduce((a, b) => a + b, 0);
    const states = OPEN_ORDER.filter((s) => desk.counts[s]).map((s) => ({ label: pick(CASE_STATUS_LABELS, s, lang), count: desk.counts[s], href: link({ status: s }), current: filter.status === s, tone: caseStatus(s, lang).tone }));
    const now = new Date();
    renderPage(req, res, 'cases', {
      title: req.actor!.role === 'maker' ? (lang === 'zh' ? '案件工作台' : 'Case desk') : lang === 'zh' ? '案件' : 'Cases',
      isMaker: req.actor!.role === 'maker',
      tabs: [
        { label: lang === 'zh' ? '全部在办' : 'All open', count: openTotal, href: link({}), current: !filter.status && filter.open && !filter.overdue, tone: '' },
        ...states,
        ...(filter.overdue ? [{ label: lang === 'zh' ? '备案逾期' : 'Filing overdue', count: desk.rows.length, href: link({ overdue: '1' }), current: true, tone: 'bad' }] : []),
        { label: lang === 'zh' ? '含已办结' : 'Including closed', count: null, href: link({ all: '1' }), current: !filter.open && !filter.status, tone: '' },
      ],
      filterNote: [filter.district ? districtName(filter.district, lang) : null, filter.kind ? pick(CASE_KIND_LABELS, filter.kind, lang) : null].filter(Boolean).join(' · '),
      rows: desk.rows.map((c) => {
        const filingCountdown = c.filing_due_at && ['awaiting_filing', 'filing_returned'].includes(c.status) ? countdown(c.filing_due_at, lang, now) : null;
        return {
          id: c.id,
          kindLabel: pick(CASE_KIND_LABELS, c.kind, lang),
          status: caseStatus(c.status, lang),
          holder: c.holder_name,
          seal: sealLabel(c.seal_kind, c.seal_number, lang),
          sealCode: c.seal_code,
          district: districtName(c.district_code, lang),
          created: formatTime(c.created_at),
          updated: formatTime(c.updated_at),
          countdown: filingCountdown ?? (c.status === 'ready' ? countdown(c.unclaimed_due_at, lang, now) : null),
          closed: (TERMINAL_CASE_STATUSES as readonly string[]).includes(c.status),
        };
      }),
    });
  });

  // ---------- new application ----------
  const showNew = (req: Request, res: Response, extra: { values?: Record<string, string>; refusal?: Refusal | null } = {}) => {
    const lang: Lang = req.lang ?? 'zh';
    renderPage(req, res, 'case-new', {
      title: lang === 'zh' ? '新刻申请' : 'New application',
      idem: extra.values?.idem && /^[\w-]{36}$/.test(extra.values.idem) ? extra.values.idem : formKey(),
      holderKinds: HOLDER_KINDS.map((k) => ({ value: k, label: holderKind(k, lang) })),
      districts: BEIJING_DISTRICTS.map((d) => ({ value: d.code, label: `${lang === 'zh' ? d.nameZh : d.nameEn} (${d.code})` })),
      sealKinds: SEAL_KINDS.map((k) => ({ value: k, label: SEAL_KIND_LABELS[k][lang] })),
      roles: PERSONAL_SEAL_ROLES.map((k) => ({ value: k, label: personalRole(k, lang) })),
      idTypes: IDENTITY_DOCUMENT_TYPES.map((t) => ({ value: t, label: IDENTITY_DOCUMENT_LABELS[t][lang] })),
      languages: [
        { value: 'zh', label: lang === 'zh' ? '中文' : 'Chinese only' },
        { value: 'foreign', label: lang === 'zh' ? '含外文' : 'Includes a foreign language' },
        { value: 'minority', label: lang === 'zh' ? '含少数民族文字' : 'Includes a minority script' },
      ],
      materials: MATERIAL_KINDS.map((k) => ({ name: `material.${k}`, label: materialLabel(k, lang) })),
      values: extra.values ?? { 'seal.language': 'zh' },
      errors: extra.refusal?.fields,
      alert: extra.refusal?.alert,
    }, extra.refusal?.status ?? 200);
  };

  r.get('/cases/new', page('maker'), (req, res) => showNew(req, res));

  r.post('/cases/new', page('maker'), formBody(), async (req, res) => {
    const { fields, files } = req.form!;
    const values = { ...fields };
    delete values._csrf;
    const body = applicationBody(fields);
    // Checked here as well as in the browser: each upload's size and type, and the form itself.
    const fileErrors: Record<string, { zh: string; en: string }> = {};
    const uploads = files.filter((f) => f.field.startsWith('material.') && (MATERIAL_KINDS as readonly string[]).includes(f.field.slice(9)));
    for (const f of uploads) {
      const problem = fileRefusal(f);
      if (problem) fileErrors[f.field] = problem;
    }
    let formErrors: Refusal | null = null;
    try {
      parseApplicationForm(body, new Date());
    } catch (e) {
      if (!(e instanceof DomainError)) throw e;
      formErrors = refusalOf(e);
    }
    if (formErrors || Object.keys(fileErrors).length) {
      const fieldsAll = { ...(formErrors?.fields ?? {}), ...fileErrors };
      return showNew(req, res, { values, refusal: { status: formErrors?.status ?? 400, fields: fieldsAll, alert: { zh: '请更正标出的字段（已选的文件需重新选择）', en: 'Please correct the marked fields (choose the files again)' } } });
    }
    let view: Awaited<ReturnType<typeof uc.submitApplication>>;
    try {
      view = await uc.submitApplication(deps, req.actor!, body, typeof fields.idem === 'string' && /^[\w-]{36}$/.test(fields.idem) ? fields.idem : undefined);
    } catch (e) {
      const refusal = refusalOf(e);
      if (!refusal) throw e;
      return showNew(req, res, { values, refusal });
    }
    // The workflow decides what is missing first; each upload then tells it (nothing is lost either way).
    if (uploads.length) await waitWhile(deps, req, view.id, ['submitted'], 15_000);
    const failed: string[] = [];
    for (const f of uploads) {
      try {
        await uc.uploadMaterial(deps, req.actor!, view.id, { kind: f.field.slice(9), file: f });
      } catch (e) {
        const refusal = refusalOf(e);
        if (!refusal) throw e;
        const lang = req.lang ?? 'zh';
        const why = Object.values(refusal.fields).map((m) => m[lang]).join(' ') || refusal.alert?.[lang] || '';
        failed.push(`${materialLabel(f.field.slice(9), lang)}: ${why}`);
      }
    }
    if (failed.length) return showCase(req, res, view.id, { status: 201, fields: {}, alert: { zh: `申请已提交，但部分材料未能上传：${failed.join('；')}`, en: `The application was submitted, but some uploads failed: ${failed.join('; ')}` } });
    flash(req, res, 'applicationSubmitted');
    res.redirect(303, `/cases/${view.id}`);
  });

  // ---------- one case ----------
  async function showCase(req: Request, res: Response, caseId: string, refusal: Refusal | null = null, values: Record<string, string> = {}) {
    const lang: Lang = req.lang ?? 'zh';
    const c = await caseModel(deps, req, caseId);
    const isMaker = req.actor!.role === 'maker' && req.actor!.makerId === c.makerId;
    const s = c.statusValue;
    renderPage(req, res, 'case', {
      title: `${c.kindLabel} · ${c.holder.name}`,
      c,
      maker: isMaker
        ? {
            materials: s === 'materials_required' || s === 'submitted',
            materialKinds: [...c.missing.map((m) => ({ value: m.kind, label: `${m.label} ★` })), ...MATERIAL_KINDS.filter((k) => !c.missing.some((m) => m.kind === k)).map((k) => ({ value: k, label: materialLabel(k, lang) }))],
            production: s === 'awaiting_production',
            idCheck: c.kind === 'application' && !['collected', 'rejected', 'cancelled_unclaimed', 'production_abandoned'].includes(s),
            idTypes: IDENTITY_DOCUMENT_TYPES.map((t) => ({ value: t, label: IDENTITY_DOCUMENT_LABELS[t][lang] })),
            productionMedia: PRODUCTION_MEDIA.map((m) => ({ value: m, label: m })),
            filing: c.kind !== 'password_reset' && (s === 'awaiting_filing' || s === 'filing_returned'),
            collection: s === 'ready',
            collected: s === 'collected' && c.kind === 'application',
            productionFailed: s === 'production_failed',
          }
        : null,
      autorefresh: TRANSIENT.includes(s),
      // P3: a supervisor moves an open case to another district (usecases/case-district.ts).
      move: req.actor!.role === 'supervisor' && !(CLOSED_CASE_STATUSES as readonly string[]).includes(s)
        ? { districts: BEIJING_DISTRICTS.map((d) => ({ value: d.code, label: `${lang === 'zh' ? d.nameZh : d.nameEn} (${d.code})` })) }
        : null,
      canSeeTasks: req.actor!.role === 'officer' || req.actor!.role === 'supervisor',
      errors: refusal?.fields,
      alert: refusal?.alert,
      values,
    }, refusal?.status ?? 200);
  }

  r.get('/cases/:id', page('maker', 'officer', 'supervisor', 'holder'), async (req, res) => showCase(req, res, String(req.params.id)));

  /** A maker's step: run it; on success back to the case with a message, on refusal the case with the reasons. */
  const step = (path: string, run: (req: Request) => Promise<unknown>, flashKey: string, fieldMap: Record<string, string> = {}) =>
    r.post(`/cases/:id/${path}`, page('maker'), formBody(), async (req, res) => {
      try {
        await run(req);
        flash(req, res, flashKey);
        res.redirect(303, `/cases/${req.params.id}`);
      } catch (e) {
        const refusal = refusalOf(e, fieldMap);
        if (!refusal) throw e;
        const values = { ...req.form!.fields };
        delete values._csrf;
        await showCase(req, res, String(req.params.id), refusal, values);
      }
    });

  r.post('/cases/:id/district', page('supervisor'), formBody(), async (req, res) => {
    const f = req.form!.fields;
    try {
      await moveCaseToDistrict(deps, req.actor!, String(req.params.id), { district_code: f['move.district_code'], reason: f['move.reason'] });
      flash(req, res, 'caseMoved');
      res.redirect(303, `/cases/${req.params.id}`);
    } catch (e) {
      const refusal = refusalOf(e, { district_code: 'move.district_code', reason: 'move.reason' });
      if (!refusal) throw e;
      const { _csrf: _ignored, ...values } = f;
      await showCase(req, res, String(req.params.id), refusal, values);
    }
  });

  step('materials', async (req) => {
    const file = req.form!.files.find((f) => f.field === 'file');
    await uc.uploadMaterial(deps, req.actor!, String(req.params.id), { kind: req.form!.fields.kind, file: file ?? null });
  }, 'materialUploaded');

  step('id-check', async (req) => {
    const f = req.form!.fields;
    await idChecks.recordIdDocumentCheck(deps, req.actor!, String(req.params.id), { id_type: f.id_type, id_number: f.id_number, id_country: f.id_country });
  }, 'idChecked');

  step('production', async (req) => {
    const caseId = String(req.params.id);
    const f = req.form!.fields;
    if (f.confirm !== 'on') throw new ValidationErrors([new DomainError({ code: 'REQUIRED_FIELD', field: { key: 'confirm', zh: '确认', en: 'Confirmation' }, messageZh: '请确认已核对制作信息', messageEn: 'Confirm that the production data was checked' })]);
    const image = req.form!.files.find((x) => x.field === 'on_site_image');
    const stored = await uc.uploadMaterial(deps, req.actor!, caseId, { kind: 'on_site_image', file: image ?? null });
    const productionData: Record<string, string> = {};
    for (const k of ['produced_on', 'medium', 'operator', 'device', 'note']) if (f[k]?.trim()) productionData[k] = f[k].trim();
    await uc.recordProduction(deps, req.actor!, caseId, { production_data: productionData, on_site_image_id: stored.id });
    await waitWhile(deps, req, caseId, ['awaiting_production', 'producing'], 20_000);
  }, 'productionRecorded', { file: 'on_site_image', on_site_image_id: 'on_site_image', 'production_data.produced_on': 'produced_on', 'production_data.medium': 'medium', 'production_data.operator': 'operator', 'production_data.device': 'device', 'production_data.note': 'note' });

  step('filing', async (req) => {
    const note = req.form!.fields.note?.trim();
    await uc.submitFiling(deps, req.actor!, String(req.params.id), note ? { note } : {});
  }, 'filingSubmitted');

  step('failure-closure', async (req) => {
    await uc.closeFailedProduction(deps, req.actor!, String(req.params.id), { holder_informed: req.form!.fields.holder_informed === 'on' });
  }, 'failureClosed');

  step('collection', async (req) => {
    const f = req.form!.fields;
    await uc.recordCollection(deps, req.actor!, String(req.params.id), { collector_name: f.collector_name, collector_id_type: f.collector_id_type, collector_id_number: f.collector_id_number, collector_id_country: f.collector_id_country });
  }, 'collectionRecorded');

  return r;
}
