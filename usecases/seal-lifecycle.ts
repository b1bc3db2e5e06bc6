// A seal's life after issue (M11–M13): the maker processes a request carrying the holder's authorisation
// letter and the IDs of the legal representative / operator and the handler; the seal's workflow applies it
// (or refuses it, naming the current status: 409); a lifecycle case then files it with the district.
import { sealCertificateLinks } from './seal-certificates';
import { createHash, randomUUID } from 'node:crypto';
import { parseName, parsePhone } from '../domain/application-intake';
import { DomainError, fieldRef, invalidField, requiredField, ValidationErrors } from '../domain/errors';
import { identityFields, identityKey, parseIdentityDocumentOf } from '../domain/identity-documents';
import { durationToMs, parseIsoDuration } from '../domain/calendar';
import type { IncomingFile } from '../infra/blobs';
import type { Actor } from '../domain/actor';
import { forbidden, notFound } from '../domain/refusals';
import { REPLACEMENT_REASONS } from '../domain/replacement';
import { changeRequestWorkflow } from '../workflows/change-request';
import { sealStatusQuery, type ChangeKind, type SealLifeStatus } from '../workflows/seal-messages';
import { caseRecordSignal } from '../workflows/application-messages';
import { BLOB_FORMAT, materialPlace, personalData } from '../infra/crypto/personal-data';
import { assertCanSeeCase, getCaseView } from './applications';
import { assertMakerLicensed } from './licences';
import type { Deps } from './deps';
import { logger } from '../infra/observability/logger';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const REQUEST_KINDS = ['suspend', 'resume', 'stop', 'cancel', 'replace'] as const;
export type RequestKind = (typeof REQUEST_KINDS)[number];
export { REPLACEMENT_REASONS } from '../domain/replacement';

const STATUS_LABELS: Record<string, [string, string]> = {
  in_production: ['制作中', 'in production'],
  ready: ['待领取', 'ready for collection'],
  cancelled: ['已登出', 'cancelled'],
};

export const sealWorkflowId = (sealId: string) => `seal:${sealId}`;
export const changeWorkflowId = (caseId: string) => `change:${caseId}`;

export async function loadSeal(deps: Pick<Deps, 'db'>, sealId: string) {
  if (!UUID.test(sealId)) throw notFound('Seal', '印章');
  const seal = await deps.db('seals as s').join('cases as c', 'c.id', 's.case_id').where('s.id', sealId).first('s.*', 'c.maker_id', 'c.district_code', 'c.holder_id as case_holder_id');
  if (!seal) throw notFound('Seal', '印章');
  return seal;
}

/**
 * The status of a seal that can still take a change, or null. Its workflow answers; if no worker can (they are
 * down), the status it last projected will do: this is only the early refusal, the workflow's Update decides.
 */
/** How long a seal's status query waits for a worker before the projected status is used. */
const LIVE_STATUS_QUERY_MS = 5_000;

export async function liveSealStatus(deps: Pick<Deps, 'temporal'>, seal: { id: string; status: string }): Promise<{ status: string } | null> {
  if (seal.status === 'cancelled') return null;
  const sealHandle = deps.temporal.workflow.getHandle(sealWorkflowId(seal.id));
  // A query needs a worker: with the workers down it would hold the request for the client's default ~30 s
  // before the projected status below answers anyway. A live worker answers in milliseconds.
  return deps.temporal.withDeadline(Date.now() + LIVE_STATUS_QUERY_MS, () => sealHandle.query(sealStatusQuery)).catch((e: Error) => (e.name === 'WorkflowNotFoundError' ? null : ['active', 'suspended', 'stopped'].includes(seal.status) ? { status: seal.status } : Promise.reject(e)));
}

export interface ChangeRequest {
  kind: unknown;
  fields: Record<string, string>;
  letter: IncomingFile | null;
}

export async function requestSealChange(deps: Deps, actor: Actor, sealId: string, req: ChangeRequest, idempotencyKey?: string) {
  const seal = await loadSeal(deps, sealId);
  if (actor.role !== 'maker' || actor.makerId !== seal.maker_id) throw forbidden('Only the maker that produced this seal processes its changes', '只有制作该印章的制作单位可以办理变更');
  await assertMakerLicensed(deps.db, seal.maker_id);

  // M12: the holder's authorisation letter and the IDs of the legal representative / operator and the handler.
  const kindField = fieldRef('kind', '办理事项', 'Request kind');
  if (!REQUEST_KINDS.includes(req.kind as RequestKind)) throw invalidField(kindField, '应为 suspend、resume、stop、cancel 或 replace', 'must be suspend, resume, stop, cancel or replace');
  const kind = req.kind as RequestKind;
  const f = req.fields;
  const errors: DomainError[] = [];
  const check = <T>(fn: () => T): T | undefined => {
    try {
      return fn();
    } catch (e) {
      if (e instanceof DomainError) errors.push(e);
      else throw e;
      return undefined;
    }
  };
  const legalRepId = check(() => identityKey(parseIdentityDocumentOf(f, 'legal_rep_', identityFields('legal_rep_', '法定代表人或经营者', "Legal representative's or operator's"))));
  const handlerName = check(() => parseName(f.handler_name, fieldRef('handler_name', '经办人姓名', 'Handler name'), 50));
  const handlerId = check(() => identityKey(parseIdentityDocumentOf(f, 'handler_', identityFields('handler_', '经办人', "Handler's"))));
  const handlerPhone = check(() => parsePhone(f.handler_phone, fieldRef('handler_phone', '经办人联系电话', "Handler's phone")));
  const reasonText = f.reason ? check(() => parseName(f.reason, fieldRef('reason', '事由', 'Reason'), 500)) : null;
  const replacementReason = kind === 'replace' ? f.replacement_reason : undefined;
  if (kind === 'replace' && !REPLACEMENT_REASONS.includes(replacementReason as (typeof REPLACEMENT_REASONS)[number])) {
    errors.push(invalidField(fieldRef('replacement_reason', '更换原因', 'Reason for replacement'), '应为 holder_change、name_change、legal_rep_change、operator_change 或 damaged', 'must be holder_change, name_change, legal_rep_change, operator_change or damaged'));
  }
  const newNameField = fieldRef('new_holder_name', '变更后的单位名称', 'New holder name');
  const newHolderName = kind === 'replace' && f.new_holder_name ? check(() => parseName(f.new_holder_name, newNameField)) : null;
  if (kind === 'replace' && replacementReason === 'name_change' && !f.new_holder_name) errors.push(requiredField(newNameField));
  const letterField = fieldRef('authorisation_letter', '单位委托授权书', "Holder's authorisation letter");
  const letterType = req.letter && !req.letter.truncated ? req.letter.contentType : null; // sniffed from its first bytes
  if (req.letter?.truncated) errors.push(invalidField(letterField, '文件过大，未保存', 'file too large; nothing was stored', { code: 'UPLOAD_TOO_LARGE' }));
  else if (!req.letter || req.letter.size === 0) errors.push(requiredField(letterField));
  else if (!letterType) errors.push(invalidField(letterField, '只接受 PDF、PNG 或 JPEG 文件', 'only PDF, PNG or JPEG files are accepted', { code: 'UNSUPPORTED_TYPE' }));
  if (errors.length === 1) throw errors[0];
  if (errors.length > 1) throw new ValidationErrors(errors);

  const change: ChangeKind = kind === 'replace' ? 'cancel' : kind;
  // Workflow first (10.5): ids derived from the request's key, so a retry finds the same workflow and rows.
  const caseId = idempotencyKey ? derivedId('change', `${seal.maker_id}\n${sealId}`, idempotencyKey) : randomUUID();
  if (await deps.db('cases').where({ id: caseId }).first('id')) return changeOutcome(deps, caseId, sealId, kind);
  // A seal whose workflow has ended (cancelled) or never began (not collected) takes no change at all.
  const current = await liveSealStatus(deps, seal);
  if (!current || current.status === 'cancelled') {
    const label = STATUS_LABELS[seal.status] ?? [seal.status, seal.status];
    throw new DomainError({ code: 'WRONG_STATE', messageZh: `印章当前状态为“${label[0]}”，不能办理该事项`, messageEn: `Cannot ${change} a seal that is ${label[1]}`, httpStatus: 409, details: { sealStatus: seal.status } });
  }
  // P1: ID numbers and phones encrypted (ID numbers also as keyed hashes); the letter encrypted before the store.
  const pd = personalData(deps);
  const at = (column: string) => ({ table: 'cases', column, row: caseId });
  const [handlerIdEnc, handlerPhoneEnc, legalRepIdEnc] = await Promise.all([pd.protectId(handlerId!, at('handler_id_number')), pd.encrypt(handlerPhone!, at('handler_phone')), pd.protectId(legalRepId!, at('legal_rep_id_number'))]);
  const { sha256 } = await deps.blobs.put(await pd.encryptStream(req.letter!.open(), materialPlace(seal.holder_id)));

  // The workflow drives the irreversible steps (the seal's change, the replacement, the filing): started before
  // anything is stored, so an outage stores nothing (503) and a crash after this point resumes in the workflow.
  const also = kind === 'replace' ? await sealsAlsoChanged(deps, seal, replacementReason!, legalRepIdEnc.hmac) : {};
  const workflow = await startChangeWorkflow(deps, { caseId, kind, sealId, districtCode: seal.district_code, makerId: seal.maker_id, actorId: actor.userId, newHolderName: newHolderName ?? null, replacementReason, ...also });
  const tell = (stored: boolean) => workflow.signal(caseRecordSignal, { stored }).catch((e: Error) => logger.warn({ caseId }, `the workflow will look for its rows itself (${e.message})`));
  try {
    await deps.db.transaction(async (trx) => {
      await trx('blobs').insert({ sha256, content_type: letterType, size: req.letter!.size }).onConflict('sha256').ignore();
      await trx('cases').insert({
        id: caseId,
        kind,
        subject_seal_id: sealId,
        maker_id: seal.maker_id,
        holder_id: seal.holder_id,
        district_code: seal.district_code,
        status: 'processing',
        language: 'zh',
        handler_name: handlerName,
        handler_id_number: handlerIdEnc.enc,
        handler_id_number_hmac: handlerIdEnc.hmac,
        handler_phone: handlerPhoneEnc,
        legal_rep_id_number: legalRepIdEnc.enc,
        legal_rep_id_number_hmac: legalRepIdEnc.hmac,
        request_reason: [replacementReason, reasonText].filter(Boolean).join(': ') || null,
        created_by: actor.userId,
      });
      await trx('materials').insert({ id: randomUUID(), case_id: caseId, kind: 'holder_authorisation_letter', original_name: req.letter!.filename || 'authorisation-letter', blob_sha256: sha256, blob_format: BLOB_FORMAT, uploaded_by: actor.userId });
      await trx('case_events').insert({ case_id: caseId, event_key: '0:requested', type: 'requested', data: JSON.stringify({ kind, sealStatus: current.status }), actor_id: actor.userId, at: new Date() });
    });
  } catch (e) {
    if ((e as { constraint?: string }).constraint === 'cases_pkey') return changeOutcome(deps, caseId, sealId, kind); // the same key raced itself
    await tell(false);
    throw e;
  }
  await tell(true);
  return changeOutcome(deps, caseId, sealId, kind);
}

/** Ids derived from the request: a retry (same key) finds the same case, and a case its replacement's case and seal. */
export const derivedId = (what: string, scope: string, key: string) => {
  const h = createHash('sha256').update(`${what}\n${scope}\n${key}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
};

const LIVE = ['active', 'suspended', 'stopped'];

/**
 * M11: the holder's other seals a replacement takes with it. A name change replaces every live seal of the
 * holder in the same case; a change of legal representative cancels the live personal-name seals of a legal
 * representative other than the new one (by the ID number's keyed hash).
 */
async function sealsAlsoChanged(deps: Pick<Deps, 'db'>, seal: { id: string; holder_id: string }, reason: string, newLegalRepHmac: string | null): Promise<{ replaceAlso?: string[]; cancelAlso?: string[] }> {
  const others = () => deps.db('seals').where({ holder_id: seal.holder_id }).whereIn('status', LIVE).whereNot({ id: seal.id }).orderBy('created_at');
  if (reason === 'name_change') return { replaceAlso: await others().pluck('id') };
  if (reason === 'legal_rep_change') {
    const q = others().where({ kind: 'personal_name', person_role: 'legal_representative' });
    return { cancelAlso: await (newLegalRepHmac ? q.where((w) => w.whereNot({ person_id_number_hmac: newLegalRepHmac }).orWhereNull('person_id_number_hmac')) : q).pluck('id') };
  }
  return {};
}

/** The request's workflow (started, or found: same id). `alreadyApplied`: see usecases/case-repair.ts. */
export async function startChangeWorkflow(
  deps: Pick<Deps, 'temporal' | 'config'>,
  c: { caseId: string; kind: RequestKind; sealId: string; districtCode: string; makerId: string; actorId: string; newHolderName: string | null; replacementReason?: string; alreadyApplied?: SealLifeStatus; replaceAlso?: string[]; cancelAlso?: string[] },
) {
  const change: ChangeKind = c.kind === 'replace' ? 'cancel' : c.kind;
  const months = parseIsoDuration(deps.config.durations.unclaimedCancellation);
  return deps.temporal.workflow.start(changeRequestWorkflow, {
    taskQueue: deps.config.temporal.taskQueues.main,
    workflowId: changeWorkflowId(c.caseId),
    workflowIdConflictPolicy: 'USE_EXISTING',
    workflowIdReusePolicy: 'REJECT_DUPLICATE',
    args: [{
      caseId: c.caseId,
      kind: c.kind,
      districtCode: c.districtCode,
      filingDeadlineMs: durationToMs(parseIsoDuration(deps.config.durations.filingDeadline)),
      apply: {
        sealId: c.sealId,
        change,
        reason: c.kind === 'replace' ? 'replacement' : change === 'cancel' ? 'holder_request' : null,
        // M13: a replacement supersedes the seal; after a change of holder the seal's affiliation changed.
        ...(c.kind === 'replace' ? { revocationReason: c.replacementReason === 'holder_change' ? 'affiliationChanged' as const : 'superseded' as const } : {}),
        hsmTaskQueue: deps.config.temporal.taskQueues.hsm,
        replacement: c.kind === 'replace'
          ? { newCaseId: derivedId('replacement-case', c.caseId, ''), newSealId: derivedId('replacement-seal', c.caseId, ''), newHolderName: c.newHolderName, makerId: c.makerId, actorId: c.actorId, unclaimedMonths: months.years * 12 + months.months }
          : null,
        ...(c.alreadyApplied ? { alreadyApplied: c.alreadyApplied } : {}),
        // M11: the holder's other seals this replacement takes with it (each replaced in its own new application, or cancelled).
        ...(c.replaceAlso?.length ? { replaceAlso: c.replaceAlso.map((sealId) => ({ sealId, newCaseId: derivedId('replacement-case', c.caseId, sealId), newSealId: derivedId('replacement-seal', c.caseId, sealId) })) } : {}),
        ...(c.cancelAlso?.length ? { cancelAlso: c.cancelAlso } : {}),
      },
    }],
  });
}

/**
 * What the request's workflow did, once it has: applied (the seal's new status, the replacement's case) or
 * refused (409 naming the seal's status). A workflow that has not got that far within the wait (its workers are
 * down) answers `processing`: it will, and a retry with the same key answers again.
 */
export async function changeOutcome<K extends string>(deps: Pick<Deps, 'db'>, caseId: string, sealId: string, kind: K, waitMs = CHANGE_WAIT_MS) {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const c = await deps.db('cases').where({ id: caseId }).first('status');
    const ev = await deps.db('case_events').where({ case_id: caseId }).whereIn('type', ['processed', 'refused']).orderBy('id').first('type', 'data');
    if (ev?.type === 'refused' || c?.status === 'refused') {
      const d = (ev?.data ?? {}) as { zh?: string; en?: string; sealStatus?: string };
      throw new DomainError({ code: 'WRONG_STATE', messageZh: d.zh ?? '印章当前状态不能办理该事项', messageEn: d.en ?? 'The seal cannot take this change in its current status', httpStatus: 409, details: { sealStatus: d.sealStatus } });
    }
    if (ev?.type === 'processed') {
      const d = ev.data as { sealStatus?: string; replacementCaseId?: string; alsoReplaced?: Array<{ sealId: string; replacementCaseId: string }>; alsoCancelled?: string[] };
      const sealStatus = d.sealStatus ?? (await deps.db('seals').where({ id: sealId }).first('status')).status;
      const also = {
        ...(d.alsoReplaced ? { also_replaced: d.alsoReplaced.map((a) => ({ seal_id: a.sealId, replacement_case_id: a.replacementCaseId })) } : {}),
        ...(d.alsoCancelled ? { also_cancelled: d.alsoCancelled } : {}),
      };
      return { case_id: caseId, kind, seal_id: sealId, status: 'processed', seal_status: sealStatus, replacement_case_id: d.replacementCaseId ?? null, ...also };
    }
    if (Date.now() > deadline) {
      const seal = await deps.db('seals').where({ id: sealId }).first('status');
      return { case_id: caseId, kind, seal_id: sealId, status: 'processing', seal_status: seal.status, replacement_case_id: null };
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** How long a request waits for its workflow to apply the change before answering 202 processing. */
export const CHANGE_WAIT_MS = 15_000;

export async function getSeal(deps: Pick<Deps, 'db' | 'temporal'>, actor: Actor, sealId: string) {
  const seal = await loadSeal(deps, sealId);
  assertCanSeeCase(actor, { maker_id: seal.maker_id, district_code: seal.district_code, holder_id: seal.holder_id });
  const requests = await deps.db('cases').where({ subject_seal_id: sealId }).orderBy('created_at').select('id', 'kind', 'status', 'status_reason', 'request_reason', 'created_at');
  // M11: the name the seal was made under (a name change leaves it on the seals it replaced).
  const named = await deps.db('seals as s').join('holders as h', 'h.id', 's.holder_id').where('s.id', sealId).first(deps.db.raw('coalesce(s.holder_name, h.name) as holder_name'));
  return {
    id: seal.id,
    holder_name: named.holder_name as string,
    kind: seal.kind,
    number: seal.number,
    status: seal.status,
    seal_code: seal.seal_code,
    certificate_serial: seal.certificate_serial,
    hold_since: seal.hold_since,
    stopped_at: seal.stopped_at,
    cancelled_at: seal.cancelled_at,
    revoked_at: seal.revoked_at,
    revocation_reason: seal.revocation_reason,
    application_case_id: seal.case_id,
    certificate_links: seal.certificate_serial ? sealCertificateLinks(seal.id) : null,
    requests,
  };
}

export { getCaseView };
