// Seals: a holder's seals (status, imprint, certificates), a maker's produced seals, and the seal page with
// its timeline, certificates, keepers and protection password (C1–C3, holders) and lifecycle requests
// (suspend, resume, stop, cancel, replace; M11–M13, makers).
import { Router, type Request, type Response } from 'express';
import type { Deps } from '../../usecases/deps';
import * as keepers from '../../usecases/keeper-operations';
import { getSeal, REPLACEMENT_REASONS, REQUEST_KINDS, requestSealChange } from '../../usecases/seal-lifecycle';
import { sealImprint, sealList, sealPage } from '../../usecases/web-queries';
import { sealCertificateLinks } from '../../usecases/seal-certificates';
import { setUseApprovers, useApproverChoices } from '../../usecases/use-approval';
import { temporalUiLink, timeline } from './case-model';
import { flash, formBody, refusalOf, type Refusal } from './forms';
import { page } from './guards';
import { CASE_KIND_LABELS, caseStatus, countdown, DOCUMENT_LABELS, formatTime, pick, REPLACEMENT_REASON_LABELS, sealLabel, sealStatus, bilingualOrRaw } from './labels';
import { renderPage } from './render';
import type { Lang } from './session';

/** Field names of one form on a page with several: `keeper.id_number` rather than `id_number`. */
function prefixed(refusal: Refusal, form: string): Refusal {
  return { ...refusal, fields: Object.fromEntries(Object.entries(refusal.fields).map(([k, v]) => [`${form}.${k}`, v])) };
}
function unprefixed(fields: Record<string, string>, form: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(fields)) if (k.startsWith(`${form}.`)) out[k.slice(form.length + 1)] = v;
  return out;
}

export function sealPages(deps: Deps): Router {
  const r = Router();

  r.get('/seals', page('holder', 'maker'), async (req, res) => {
    const lang: Lang = req.lang ?? 'zh';
    const seals = await sealList(deps.db, req.actor!);
    renderPage(req, res, 'seals', {
      title: req.actor!.role === 'holder' ? (lang === 'zh' ? '本单位印章' : 'Our seals') : lang === 'zh' ? '已制作印章' : 'Seals produced',
      isHolder: req.actor!.role === 'holder',
      seals: seals.map((s) => ({
        id: s.id,
        caseId: s.case_id,
        label: sealLabel(s.kind, s.number, lang),
        text: s.text,
        holder: s.holder_name,
        code: s.seal_code,
        status: sealStatus(s.status, lang),
        imprint: s.imprint_sha256 ? `/seals/${s.id}/imprint.png` : null,
        collected: formatTime(s.collected_at),
        since: formatTime(s.hold_since ?? s.cancelled_at ?? s.collected_at),
        unclaimed: s.status === 'ready' ? countdown(s.unclaimed_due_at, lang) : null,
        keepers: s.keeper_count,
        certificate: s.certificate_serial ? sealCertificateLinks(s.id) : null,
        documents: s.documents.map((k: string) => ({ label: pick(DOCUMENT_LABELS, k, lang), pdf: `/api/seals/${s.id}/documents/${k}.pdf`, html: `/api/seals/${s.id}/documents/${k}.html` })),
      })),
    });
  });

  r.get('/seals/:id/imprint.png', page('holder', 'maker', 'officer', 'supervisor'), async (req, res) => {
    const imprint = await sealImprint(deps.db, req.actor!, String(req.params.id));
    res.set('content-type', 'image/png').set('cache-control', 'private, max-age=3600').set('etag', `"${imprint.sha256}"`).set('x-content-type-options', 'nosniff').send(imprint.png);
  });

  async function showSeal(req: Request, res: Response, refusal: Refusal | null = null, values: Record<string, string> = {}) {
    const lang: Lang = req.lang ?? 'zh';
    const actor = req.actor!;
    const sealId = String(req.params.id);
    const data = await sealPage(deps.db, actor, sealId);
    const life = await getSeal(deps, actor, sealId);
    const s = data.seal;
    const custody = await keepers.listKeepers(deps, actor, sealId);
    const isHolder = actor.role === 'holder' && actor.holderId === s.holder_id;
    const isMaker = actor.role === 'maker' && actor.makerId === s.maker_id;
    const live = !['cancelled', 'in_production', 'ready'].includes(s.status);
    // 三(四) 使用流程: the holder's staff name who approves each use of a live seal.
    const approverChoices = isHolder && s.status !== 'cancelled' ? await useApproverChoices(deps, actor, sealId) : null;
    renderPage(req, res, 'seal', {
      title: `${sealLabel(s.kind, s.number, lang)} · ${s.holder_name}`,
      s: {
        id: s.id,
        caseId: s.case_id,
        label: sealLabel(s.kind, s.number, lang),
        text: s.text,
        holder: s.holder_name,
        uscc: s.uscc,
        code: s.seal_code,
        status: sealStatus(s.status, lang),
        suspended: s.status === 'suspended',
        serial: s.certificate_serial,
        certificate: s.certificate_serial ? sealCertificateLinks(s.id) : null,
        fingerprint: s.certificate_fingerprint,
        imprint: s.imprint_sha256 ? `/seals/${s.id}/imprint.png` : null,
        produced: formatTime(s.produced_at),
        collected: formatTime(s.collected_at),
        holdSince: formatTime(s.hold_since),
        stopped: formatTime(s.stopped_at),
        cancelled: formatTime(s.cancelled_at),
      },
      documents: data.documents.map((d) => ({ label: pick(DOCUMENT_LABELS, d.kind, lang), no: d.document_no, at: formatTime(d.created_at), pdf: `/api/seals/${s.id}/documents/${d.kind}.pdf`, html: `/api/seals/${s.id}/documents/${d.kind}.html` })),
      replacedBy: data.replacedBy ? `/cases/${data.replacedBy.case_id}` : null,
      requests: life.requests.map((q: { id: string; kind: string; status: string; status_reason: string | null; request_reason: string | null; created_at: Date }) => ({
        id: q.id,
        kindLabel: pick(CASE_KIND_LABELS, q.kind, lang),
        status: caseStatus(q.status, lang),
        reason: q.status_reason ? bilingualOrRaw(q.status_reason, lang) : q.request_reason,
        at: formatTime(q.created_at),
      })),
      custody: custody
        ? {
            keepers: custody.keepers.map((k) => ({ ...k, added: formatTime(k.added_at) })),
            password: {
              set: custody.password.set,
              expires: formatTime(custody.password.expires_at),
              expired: custody.password.expired,
              lockedUntil: formatTime(custody.password.locked_until),
              countdown: custody.password.expires_at ? countdown(custody.password.expires_at, lang) : null,
            },
          }
        : null,
      holderActions: isHolder && s.status !== 'cancelled',
      approverChoices,
      requiresApproval: approverChoices?.some((c) => c.chosen) ?? false,
      canSign: isHolder && s.status === 'active',
      canSetPassword: (isHolder || isMaker) && s.status !== 'cancelled' && !!custody && !custody.password.set,
      makerActions: isMaker && live
        ? {
            kinds: REQUEST_KINDS.map((k) => ({ value: k, label: pick(CASE_KIND_LABELS, k, lang) })),
            reasons: REPLACEMENT_REASONS.map((k) => ({ value: k, label: pick(REPLACEMENT_REASON_LABELS, k, lang) })),
          }
        : null,
      timeline: await timeline(deps, data.events as Array<{ type: string; data: unknown; actor_id: string | null; at: Date; case_kind: string }>, lang),
      temporalUrl: actor.role === 'officer' || actor.role === 'supervisor' ? temporalUiLink(deps.config, `seal:${s.id}`) : null,
      errors: refusal?.fields,
      alert: refusal?.alert,
      values,
    }, refusal?.status ?? 200);
  }

  r.get('/seals/:id', page('holder', 'maker', 'officer', 'supervisor'), async (req, res) => showSeal(req, res));

  /** One form of the seal page: its fields are prefixed by the form's name; refusals land beside them. */
  const action = (path: string, roles: Array<'holder' | 'maker'>, form: string, run: (req: Request, fields: Record<string, string>) => Promise<unknown>, flashKey: string) =>
    r.post(`/seals/:id/${path}`, page(...roles), formBody(), async (req, res) => {
      const fields = unprefixed(req.form!.fields, form);
      try {
        await run(req, fields);
        flash(req, res, flashKey);
        res.redirect(303, `/seals/${req.params.id}`);
      } catch (e) {
        const refusal = refusalOf(e);
        if (!refusal) throw e;
        const values = Object.fromEntries(Object.entries(req.form!.fields).filter(([k]) => k !== '_csrf' && !/password/.test(k)));
        await showSeal(req, res, prefixed(refusal, form), values);
      }
    });

  // M11–M13: the maker processes a request with the holder's authorisation letter and the IDs (M12).
  action('changes', ['maker'], 'change', async (req, fields) => {
    const letter = req.form!.files.find((f) => f.field === 'change.authorisation_letter') ?? null;
    await requestSealChange(deps, req.actor!, String(req.params.id), { kind: fields.kind, fields, letter });
  }, 'changeRequested');

  // C1: keepers.
  action('keepers', ['holder'], 'keeper', async (req, fields) => {
    await keepers.nameKeeper(deps, req.actor!, String(req.params.id), fields);
  }, 'keeperNamed');
  action('keepers/remove', ['holder'], 'remove', async (req, fields) => {
    await keepers.removeKeeper(deps, req.actor!, String(req.params.id), { keeper_id: fields.keeper_id });
  }, 'keeperRemoved');

  // 三(四) 使用流程: one checkbox per account of the holder (`approvers.<user id>`); none checked ends the requirement.
  action('use-approvers', ['holder'], 'approvers', async (req, fields) => {
    await setUseApprovers(deps, req.actor!, String(req.params.id), { approver_ids: Object.keys(fields).filter((k) => fields[k] === 'on') });
  }, 'useApproversSet');

  // C2: the protection password; C3: a reset through the district's police. The same use-cases as the JSON API.
  action('password', ['holder', 'maker'], 'initial', async (req, fields) => {
    await keepers.setInitialPassword(deps, req.actor!, String(req.params.id), fields);
  }, 'passwordSet');
  action('password/change', ['holder'], 'pw', async (req, fields) => {
    await keepers.changePassword(deps, req.actor!, String(req.params.id), fields);
  }, 'protectionPasswordChanged');
  action('password/reset', ['holder'], 'reset', async (req, fields) => {
    await keepers.requestPasswordReset(deps, req.actor!, String(req.params.id), fields);
  }, 'resetRequested');

  return r;
}
