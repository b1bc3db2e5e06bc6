// A seal's life after issue (M11–M13): the maker processes a request carrying the holder's authorisation
// letter and the IDs of the legal representative / operator and the handler; the seal's workflow applies it
// (or refuses it, naming the current status: 409); a lifecycle case then files it with the district.
import { randomUUID } from 'node:crypto';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { parseName, parsePhone } from '../domain/application-intake';
import { DomainError, fieldRef, invalidField, requiredField, ValidationErrors } from '../domain/errors';
import { parseResidentId } from '../domain/resident-id';
import { durationToMs, parseIsoDuration } from '../domain/calendar';
import type { IncomingFile } from '../infra/blobs';
import type { Actor } from '../web/auth';
import { forbidden, notFound } from '../web/errors';
import { changeRequestWorkflow } from '../workflows/change-request';
import { applyChangeUpdate, sealStatusQuery, type ChangeKind } from '../workflows/seal-messages';
import { applicationWorkflow } from '../workflows/application';
import { BLOB_FORMAT, materialPlace, personalData } from '../infra/crypto/personal-data';
import { applicationWorkflowId, assertCanSeeCase, assertMakerLicensed, getCaseView, type Deps } from './applications';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const REQUEST_KINDS = ['suspend', 'resume', 'stop', 'cancel', 'replace'] as const;
export type RequestKind = (typeof REQUEST_KINDS)[number];
export const REPLACEMENT_REASONS = ['holder_change', 'name_change', 'legal_rep_change', 'operator_change', 'damaged'] as const;

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

export interface ChangeRequest {
  kind: unknown;
  fields: Record<string, string>;
  letter: IncomingFile | null;
}

export async function requestSealChange(deps: Deps, actor: Actor, sealId: string, req: ChangeRequest) {
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
  const legalRepId = check(() => parseResidentId(f.legal_rep_id_number, { field: fieldRef('legal_rep_id_number', '法定代表人或经营者公民身份号码', 'Resident ID of the legal representative or operator') }).id);
  const handlerName = check(() => parseName(f.handler_name, fieldRef('handler_name', '经办人姓名', 'Handler name'), 50));
  const handlerId = check(() => parseResidentId(f.handler_id_number, { field: fieldRef('handler_id_number', '经办人公民身份号码', "Handler's resident ID") }).id);
  const handlerPhone = check(() => parsePhone(f.handler_phone, fieldRef('handler_phone', '经办人联系电话', "Handler's phone")));
  const reasonText = f.reason ? check(() => parseName(f.reason, fieldRef('reason', '事由', 'Reason'), 500)) : null;
  const replacementReason = kind === 'replace' ? f.replacement_reason : undefined;
  if (kind === 'replace' && !REPLACEMENT_REASONS.includes(replacementReason as (typeof REPLACEMENT_REASONS)[number])) {
    errors.push(invalidField(fieldRef('replacement_reason', '更换原因', 'Reason for replacement'), '应为 holder_change、name_change、legal_rep_change、operator_change 或 damaged', 'must be holder_change, name_change, legal_rep_change, operator_change or damaged'));
  }
  const newHolderName = kind === 'replace' && f.new_holder_name ? check(() => parseName(f.new_holder_name, fieldRef('new_holder_name', '变更后的单位名称', 'New holder name'))) : null;
  const letterField = fieldRef('authorisation_letter', '单位委托授权书', "Holder's authorisation letter");
  const letterType = req.letter && !req.letter.truncated ? req.letter.contentType : null; // sniffed from its first bytes
  if (req.letter?.truncated) errors.push(invalidField(letterField, '文件过大，未保存', 'file too large; nothing was stored', { code: 'UPLOAD_TOO_LARGE' }));
  else if (!req.letter || req.letter.size === 0) errors.push(requiredField(letterField));
  else if (!letterType) errors.push(invalidField(letterField, '只接受 PDF、PNG 或 JPEG 文件', 'only PDF, PNG or JPEG files are accepted', { code: 'UNSUPPORTED_TYPE' }));
  if (errors.length === 1) throw errors[0];
  if (errors.length > 1) throw new ValidationErrors(errors);

  const change: ChangeKind = kind === 'replace' ? 'cancel' : kind;
  // A seal whose workflow has ended (cancelled) or never began (not collected) takes no change at all.
  const sealHandle = deps.temporal.workflow.getHandle(sealWorkflowId(sealId));
  const current = seal.status === 'cancelled' ? null : await sealHandle.query(sealStatusQuery).catch(() => null);
  if (!current || current.status === 'cancelled') {
    const label = STATUS_LABELS[seal.status] ?? [seal.status, seal.status];
    throw new DomainError({ code: 'WRONG_STATE', messageZh: `印章当前状态为“${label[0]}”，不能办理该事项`, messageEn: `Cannot ${change} a seal that is ${label[1]}`, httpStatus: 409, details: { sealStatus: seal.status } });
  }
  const caseId = randomUUID();
  // P1: ID numbers and phones encrypted (ID numbers also as keyed hashes); the letter encrypted before the store.
  const pd = personalData(deps);
  const at = (column: string) => ({ table: 'cases', column, row: caseId });
  const [handlerIdEnc, handlerPhoneEnc, legalRepIdEnc] = await Promise.all([pd.protectId(handlerId!, at('handler_id_number')), pd.encrypt(handlerPhone!, at('handler_phone')), pd.protectId(legalRepId!, at('legal_rep_id_number'))]);
  const { sha256 } = await deps.blobs.put(await pd.encryptStream(req.letter!.open(), materialPlace(seal.holder_id)));
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
  try {
    await sealHandle.executeUpdate(applyChangeUpdate, { args: [{ changeCaseId: caseId, kind: change, reason: kind === 'replace' ? 'replacement' : change === 'cancel' ? 'holder_request' : null, ...(kind === 'replace' ? { revocationReason: replacementReason === 'holder_change' ? 'affiliationChanged' : 'superseded' } : {}) }] });
  } catch (e) {
    // The request stays on record as refused, with the reason.
    if (e instanceof WorkflowUpdateFailedError && e.cause instanceof ApplicationFailure) {
      const d = (e.cause.details?.[0] ?? {}) as { zh?: string; en?: string };
      await deps.db('cases').where({ id: caseId }).update({ status: 'refused', status_reason: `${d.zh} / ${d.en}` });
      throw new DomainError({ code: 'WRONG_STATE', messageZh: d.zh ?? e.cause.message, messageEn: d.en ?? e.cause.message, httpStatus: 409, details: { sealStatus: current.status } });
    }
    throw e;
  }
  await deps.temporal.workflow.start(changeRequestWorkflow, {
    taskQueue: deps.config.temporal.taskQueues.main,
    workflowId: changeWorkflowId(caseId),
    args: [{ caseId, kind: kind === 'cancel' ? 'cancel' : kind, districtCode: seal.district_code, filingDeadlineMs: durationToMs(parseIsoDuration(deps.config.durations.filingDeadline)) }],
  });
  const replacement = kind === 'replace' ? await startReplacement(deps, actor, seal, { caseId, newHolderName, handler: { name: handlerName!, idNumber: handlerId!, phone: handlerPhone! } }) : null;
  return { case_id: caseId, kind, seal_id: sealId, seal_status: kind === 'replace' ? 'cancelled' : (await sealHandle.query(sealStatusQuery)).status, replacement_case_id: replacement };
}

/** M11: the old seal is cancelled and a new application starts pre-filled from it (a business seal keeps its number). */
async function startReplacement(
  deps: Deps,
  actor: Actor,
  old: { id: string; case_id: string; holder_id: string; kind: string; number: number | null; text: string; person_name: string | null; person_role: string | null; person_id_number: string | null; person_id_number_hmac: string | null; district_code: string; maker_id: string },
  /** The handler's ID number and phone in clear: encrypted again for the new case (P1: values are bound to their row). */
  r: { caseId: string; newHolderName: string | null | undefined; handler: { name: string; idNumber: string; phone: string } },
) {
  const newCaseId = randomUUID();
  const newSealId = randomUUID();
  const pd = personalData(deps);
  const at = (column: string) => ({ table: 'cases', column, row: newCaseId });
  const [handlerId, handlerPhone, personIdNumber] = await Promise.all([
    pd.protectId(r.handler.idNumber, at('handler_id_number')),
    pd.encrypt(r.handler.phone, at('handler_phone')),
    pd.reencrypt(old.person_id_number, { table: 'seals', column: 'person_id_number', row: old.id }, { table: 'seals', column: 'person_id_number', row: newSealId }),
  ]);
  const oldCase = await deps.db('cases').where({ id: old.case_id }).first();
  await deps.db.transaction(async (trx) => {
    if (r.newHolderName) await trx('holders').where({ id: old.holder_id }).update({ name: r.newHolderName });
    await trx('cases').insert({
      id: newCaseId,
      maker_id: old.maker_id,
      holder_id: old.holder_id,
      district_code: old.district_code,
      status: 'submitted',
      language: oldCase.language,
      newly_established_organ: false,
      handler_name: r.handler.name,
      handler_id_number: handlerId.enc,
      handler_id_number_hmac: handlerId.hmac,
      handler_phone: handlerPhone,
      request_reason: `replaces seal ${old.id}`,
      created_by: actor.userId,
    });
    await trx('seals').insert({
      id: newSealId,
      case_id: newCaseId,
      holder_id: old.holder_id,
      kind: old.kind,
      number: old.number,
      text: old.kind === 'legal_name' || old.kind.startsWith('business_') ? (r.newHolderName ?? old.text) : old.text,
      person_name: old.person_name,
      person_role: old.person_role,
      person_id_number: personIdNumber, // the keyed hash carries over as it is
      person_id_number_hmac: old.person_id_number_hmac,
      status: 'in_production',
      replaces_seal_id: old.id,
    });
    // The old application's materials carry over; nothing submitted before is lost.
    const materials = await trx('materials').where({ case_id: old.case_id }).whereNot({ kind: 'on_site_image' });
    for (const m of materials) {
      await trx('materials').insert({ id: randomUUID(), case_id: newCaseId, kind: m.kind, original_name: m.original_name, blob_sha256: m.blob_sha256, blob_format: m.blob_format, uploaded_by: actor.userId });
    }
    await trx('case_events').insert({ case_id: newCaseId, event_key: '0:submitted', type: 'submitted', data: JSON.stringify({ replaces: old.id, requestCase: r.caseId }), actor_id: actor.userId, at: new Date() });
  });
  const sealRow = await deps.db('seals').where({ case_id: newCaseId }).first('id');
  const months = parseIsoDuration(deps.config.durations.unclaimedCancellation);
  await deps.temporal.workflow.start(applicationWorkflow, {
    taskQueue: deps.config.temporal.taskQueues.main,
    workflowId: applicationWorkflowId(newCaseId),
    args: [{
      caseId: newCaseId,
      sealId: sealRow.id,
      makerId: old.maker_id,
      districtCode: old.district_code,
      needsEstablishmentApproval: false,
      hsmTaskQueue: deps.config.temporal.taskQueues.hsm,
      filingDeadlineMs: durationToMs(parseIsoDuration(deps.config.durations.filingDeadline)),
      unclaimedMonths: months.years * 12 + months.months,
    }],
  });
  return newCaseId;
}

export async function getSeal(deps: Pick<Deps, 'db' | 'temporal'>, actor: Actor, sealId: string) {
  const seal = await loadSeal(deps, sealId);
  assertCanSeeCase(actor, { maker_id: seal.maker_id, district_code: seal.district_code, holder_id: seal.holder_id });
  const requests = await deps.db('cases').where({ subject_seal_id: sealId }).orderBy('created_at').select('id', 'kind', 'status', 'status_reason', 'request_reason', 'created_at');
  return {
    id: seal.id,
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
    requests,
  };
}

export { getCaseView };
