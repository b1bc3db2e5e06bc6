// Use-cases of an application case (A1–A4, M1–M3, M9, M10; P3 scope on every one): validate, authorise,
// write what must be kept, then start or update the case's workflow. Intake, reading, materials, production,
// filing and collection are here; officers' tasks in tasks.ts, supervision in supervision.ts, makers' licences
// and the registration feed in licences.ts, the use-cases' dependencies in deps.ts.
import { createHash, randomUUID } from 'node:crypto';
import { WorkflowNotFoundError, WorkflowUpdateFailedError, WorkflowUpdateStage, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { Db } from '../infra/db';
import type { IncomingFile } from '../infra/blobs';
import { parseApplicationForm, parseName } from '../domain/application-intake';
import { conflict, DomainError, fieldRef, invalidField, requiredField, ruleViolation } from '../domain/errors';
import { isMaterialKind, MATERIAL_LABELS } from '../domain/materials';
import { assertNoLiveLegalNameSeal, nextBusinessSealNumberFor } from '../domain/numbering';
import { identityFields, identityKey, parseIdentityDocumentOf } from '../domain/identity-documents';
import { isBusinessSealKind, sealKindLabel, type SealKind, type SealStatus } from '../domain/seals';
import { durationToMs, parseIsoDuration } from '../domain/calendar';
import { deriveDistrict, districtMismatches, type DistrictCode } from '../domain/districts';
import { parseUscc } from '../domain/uscc';
import { applicationWorkflow, type ApplicationInput } from '../workflows/application';
import { closeFailedProductionUpdate, caseRecordSignal, materialsSubmittedUpdate, recordCollectionUpdate, recordProductionUpdate, submitFilingUpdate, TASK_DECIDED } from '../workflows/application-messages';
import type { Actor } from '../domain/actor';
import { auditRead } from '../infra/audit/log';
import { BLOB_FORMAT, encryptedBlobSize, materialPlace, personalData } from '../infra/crypto/personal-data';
import { forbidden, notFound } from '../domain/refusals';
import { productionRecordVersions } from './production-record-versions';
import { parseProductionData } from '../domain/production-data';
import { logger } from '../infra/observability/logger';
import { assembleFilingContents } from './filing-contents';
import type { Deps } from './deps';
import { assertMakerLicensed } from './licences';

export const applicationWorkflowId = (caseId: string) => `application:${caseId}`;
/** Applications and lifecycle requests are both cases; each kind has its own workflow. */
export const caseWorkflowId = (c: { id: string; kind?: string }) => (!c.kind || c.kind === 'application' ? applicationWorkflowId(c.id) : `change:${c.id}`);
export const UPLOAD_KINDS = ['on_site_image'] as const; // M2, beside the A2 materials
export const MAX_UPLOAD_BYTES = 10 * 1024 * 1024;
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

// ---------- scope (P3, M6) ----------

export interface CaseRow {
  id: string;
  kind: string;
  subject_seal_id: string | null;
  maker_id: string;
  holder_id: string;
  district_code: string;
  status: string;
  handler_id_number: string;
}

export async function loadCase(db: Db, caseId: string): Promise<CaseRow> {
  if (!UUID.test(caseId)) throw notFound('Case', '案件');
  const row = await db('cases').where({ id: caseId }).first();
  if (!row) throw notFound('Case', '案件');
  return row;
}

/** Who may see a case: its maker, officers of its district, its holder, and supervisors (not the administrator: P1). */
export function assertCanSeeCase(actor: Actor, c: Pick<CaseRow, 'maker_id' | 'district_code' | 'holder_id'>) {
  const ok =
    actor.role === 'supervisor' ||
    (actor.role === 'maker' && actor.makerId === c.maker_id) ||
    (actor.role === 'officer' && actor.districtCode === c.district_code) ||
    (actor.role === 'holder' && actor.holderId === c.holder_id);
  if (!ok) throw forbidden('This case belongs to another maker, district or holder', '该案件不属于您的制作单位、辖区或单位');
}

function assertMakerOf(actor: Actor, c: Pick<CaseRow, 'maker_id'>) {
  if (actor.role !== 'maker' || actor.makerId !== c.maker_id) throw forbidden('Only the maker of this case may do this', '只有本案件的制作单位可以办理');
}

/**
 * A workflow's refusal of an update becomes a bilingual 409 (wrong state) or 400 (bad decision); so does an
 * update sent to a case whose workflow has ended (collected, closed): no step is left to take (409).
 */
export async function update<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof WorkflowNotFoundError) {
      throw conflict('WrongState', '案件已办结，不能再办理此步骤', 'The case is closed; this step can no longer be taken');
    }
    if (e instanceof WorkflowUpdateFailedError && e.cause instanceof ApplicationFailure) {
      const d = (e.cause.details?.[0] ?? {}) as { zh?: string; en?: string; field?: string };
      const status = e.cause.type === 'WrongState' || e.cause.type === TASK_DECIDED ? 409 : 400;
      throw new DomainError({ code: e.cause.type ?? 'REFUSED', messageZh: d.zh ?? e.cause.message, messageEn: d.en ?? e.cause.message, httpStatus: status, field: d.field });
    }
    throw e;
  }
}

// ---------- intake (A1–A4, M1) ----------


/** A caller's key always maps to the same ids, so a retry finds the workflow and rows of the first attempt. */
const idsFromKey = (makerId: string, key: string) =>
  ['case', 'seal'].map((what) => {
    const h = createHash('sha256').update(`${what}\n${makerId}\n${key}`).digest('hex');
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
  }) as [string, string];

const a1Conflict = () => conflict('LEGAL_NAME_SEAL_EXISTS', '该单位已有一枚在用或在办的法定名称章（A1）', 'This holder already has a live or pending legal-name seal (A1)', { field: fieldRef('seal.kind', '印章类型', 'Seal kind') });
const holderMismatch = (holder: { name: string; kind: string }) =>
  conflict('HOLDER_MISMATCH', `该统一社会信用代码已登记为“${holder.name}”（${holder.kind}），与申请不一致`, `This USCC is registered as "${holder.name}" (${holder.kind}); the application says otherwise`, { field: fieldRef('holder.name', '单位名称', 'Holder name') });

/**
 * A holder kind left out of the form is the registered holder's, when the USCC is known here; else
 * parseApplicationForm takes the one the USCC names. So a maker who leaves it out never meets HOLDER_MISMATCH.
 */
async function withRegisteredKind(db: Db, body: unknown): Promise<unknown> {
  const b = body as { holder?: { uscc?: unknown; kind?: unknown } } | null;
  const h = b && typeof b === 'object' && b.holder && typeof b.holder === 'object' && !Array.isArray(b.holder) ? b.holder : undefined;
  if (!h || (h.kind !== undefined && h.kind !== null && h.kind !== '')) return body;
  let uscc: string;
  try {
    uscc = parseUscc(h.uscc).code;
  } catch {
    return body; // its own field reports it
  }
  const known = await db('holders').where({ uscc }).first('kind');
  return known ? { ...b, holder: { ...h, kind: known.kind } } : body;
}

/**
 * Workflow first (issue 17): the case's workflow is started before its rows are written, so a Temporal outage
 * answers 503 with nothing stored (the holder can apply again), and no case row is ever left without its
 * workflow. The workflow waits for the rows (workflows/case-record.ts); the web tells it they are stored or
 * refused. Rows left by a crash of an earlier version are started by usecases/case-repair.ts.
 */
export async function submitApplication(deps: Deps, actor: Actor, body: unknown, idempotencyKey?: string) {
  if (actor.role !== 'maker' || !actor.makerId) throw forbidden('Only a licensed maker submits applications', '只有印章制作单位可以提交申请');
  const makerId = actor.makerId;
  if (idempotencyKey !== undefined && !/^[\w.:-]{1,100}$/.test(idempotencyKey)) {
    throw invalidField(fieldRef('Idempotency-Key', '幂等键', 'Idempotency-Key'), '只能含字母、数字和 . _ : -，最长 100 个字符', 'only letters, digits and . _ : -, at most 100 characters');
  }
  if (idempotencyKey) {
    const seen = await deps.db('cases').where({ maker_id: makerId, idempotency_key: idempotencyKey }).first('id');
    if (seen) {
      await startCaseWorkflow(deps, seen.id); // repairs a case whose workflow did not start the first time
      // A first attempt that died before telling its workflow the rows were stored: tell it now (an ended one needs nothing).
      await deps.temporal.workflow.getHandle(applicationWorkflowId(seen.id)).signal(caseRecordSignal, { stored: true }).catch(() => undefined);
      return getCaseView(deps, actor, seen.id);
    }
  }
  await assertMakerLicensed(deps.db, makerId);
  const form = parseApplicationForm(await withRegisteredKind(deps.db, body), new Date());
  // Refusals known before anything starts (checked again under the holder's lock below, where races are decided).
  const known = await deps.db('holders').where({ uscc: form.holder.uscc }).first();
  if (known && (known.name !== form.holder.name || known.kind !== form.holder.kind)) throw holderMismatch(known);
  if (known && form.seal.kind === 'legal_name') {
    const seals: Array<{ kind: SealKind; number: number | null; status: SealStatus }> = await deps.db('seals').where({ holder_id: known.id }).select('kind', 'number', 'status');
    assertNoLiveLegalNameSeal(seals);
  }
  const [caseId, sealId] = idempotencyKey ? idsFromKey(makerId, idempotencyKey) : [randomUUID(), randomUUID()];
  // P1: ID numbers and phones are stored encrypted, ID numbers also as a keyed hash for lookups.
  const pd = personalData(deps);
  const [handlerId, handlerPhone, personId, legalRepId, legalRepPhone] = await Promise.all([
    pd.protectId(form.handler.idNumber, { table: 'cases', column: 'handler_id_number', row: caseId }),
    pd.encrypt(form.handler.phone, { table: 'cases', column: 'handler_phone', row: caseId }),
    pd.protectId(form.seal.person?.idNumber, { table: 'seals', column: 'person_id_number', row: sealId }),
    pd.protectId(form.legalRep?.idNumber, { table: 'cases', column: 'legal_rep_id_number', row: caseId }),
    pd.encrypt(form.legalRep?.phone, { table: 'cases', column: 'legal_rep_phone', row: caseId }),
  ]);

  // P3: a new holder's district is derived from its registered address, not taken from the maker (the USCC and
  // the maker's choice are checked against it: flagged); a known holder keeps its own.
  const districtCode = deriveDistrict(form.holder.districtCode as DistrictCode, form.holder.address);
  const workflow = await startApplicationWorkflow(deps, {
    caseId,
    sealId,
    makerId,
    districtCode: known?.district_code ?? districtCode,
    needsEstablishmentApproval: form.newlyEstablishedOrgan,
    startedBeforeRows: true,
  });
  const tell = (stored: boolean) => workflow.signal(caseRecordSignal, { stored }).catch((e: Error) => logger.warn({ caseId }, `the workflow will look for its rows itself (${e.message})`));
  try {
    await deps.db.transaction(async (trx) => {
      // The holder row serialises numbering and the legal-name check for this holder.
      let holder = await trx('holders').where({ uscc: form.holder.uscc }).forUpdate().first();
      if (!holder) {
        const id = randomUUID();
        await trx('holders')
          .insert({ id, uscc: form.holder.uscc, name: form.holder.name, kind: form.holder.kind, district_code: districtCode, address: form.holder.address, legal_representative: form.holder.legalRepresentative, has_superior: form.holder.hasSuperior })
          .onConflict('uscc')
          .ignore();
        holder = await trx('holders').where({ uscc: form.holder.uscc }).forUpdate().first();
      } else if (holder.name !== form.holder.name || holder.kind !== form.holder.kind) {
        throw holderMismatch(holder);
      }
      const existing: Array<{ kind: SealKind; number: number | null; status: SealStatus }> = await trx('seals').where({ holder_id: holder.id }).select('kind', 'number', 'status');
      if (form.seal.kind === 'legal_name') assertNoLiveLegalNameSeal(existing);
      const number = isBusinessSealKind(form.seal.kind)
        ? nextBusinessSealNumberFor(existing, form.seal.kind)
        : null;
      await trx('cases').insert({
        id: caseId,
        maker_id: makerId,
        holder_id: holder.id,
        district_code: holder.district_code, // P3: the district of the holder's registered address
        district_mismatches: districtFlags(holder, form.holder.districtCode),
        status: 'submitted',
        newly_established_organ: form.newlyEstablishedOrgan,
        language: form.seal.language,
        handler_name: form.handler.name,
        handler_id_number: handlerId.enc,
        handler_id_number_hmac: handlerId.hmac,
        handler_phone: handlerPhone,
        legal_rep_name: form.legalRep?.name ?? null,
        legal_rep_id_number: legalRepId.enc,
        legal_rep_id_number_hmac: legalRepId.hmac,
        legal_rep_phone: legalRepPhone,
        idempotency_key: idempotencyKey ?? null,
        created_by: actor.userId,
      });
      await trx('seals').insert({
        id: sealId,
        case_id: caseId,
        holder_id: holder.id,
        kind: form.seal.kind,
        number,
        text: form.seal.text,
        person_name: form.seal.person?.name ?? null,
        person_role: form.seal.person?.role ?? null,
        person_id_number: personId.enc,
        person_id_number_hmac: personId.hmac,
        status: 'in_production',
      });
      await trx('case_events').insert({ case_id: caseId, event_key: '0:submitted', type: 'submitted', data: JSON.stringify({ sealKind: form.seal.kind, number }), actor_id: actor.userId, at: new Date() });
    });
  } catch (e) {
    const constraint = (e as { constraint?: string }).constraint;
    if (constraint === 'cases_maker_id_idempotency_key_unique' || constraint === 'cases_pkey') {
      // The same key raced itself: the other attempt stored the rows (same ids, same workflow).
      const seen = await deps.db('cases').where({ id: caseId }).first('id');
      if (seen) {
        await tell(true);
        return getCaseView(deps, actor, caseId);
      }
    }
    await tell(false);
    // A1 enforced by the database: a racing application for the same holder got there first.
    if (constraint === 'seals_one_live_legal_name') throw a1Conflict();
    throw e;
  }
  await tell(true);
  return getCaseView(deps, actor, caseId);
}

type StartInput = Pick<ApplicationInput, 'caseId' | 'sealId' | 'makerId' | 'districtCode' | 'needsEstablishmentApproval' | 'startedBeforeRows'>;

/** Starts (or finds: same id, same run) the case's workflow; the rest of its input comes from configuration. */
async function startApplicationWorkflow(deps: Deps, i: StartInput) {
  const months = parseIsoDuration(deps.config.durations.unclaimedCancellation);
  const input: ApplicationInput = {
    ...i,
    hsmTaskQueue: deps.config.temporal.taskQueues.hsm,
    filingDeadlineMs: durationToMs(parseIsoDuration(deps.config.durations.filingDeadline)),
    unclaimedMonths: months.years * 12 + months.months,
  };
  return deps.temporal.workflow.start(applicationWorkflow, {
    taskQueue: deps.config.temporal.taskQueues.main,
    workflowId: applicationWorkflowId(i.caseId),
    workflowIdConflictPolicy: 'USE_EXISTING',
    workflowIdReusePolicy: 'REJECT_DUPLICATE',
    args: [input],
  });
}

/** For rows that exist: starts their workflow if it never started (a workflow that ran and ended is left alone). */
export async function startCaseWorkflow(deps: Deps, caseId: string) {
  const c = await deps.db('cases as c')
    .join('seals as s', 's.case_id', 'c.id')
    .where('c.id', caseId)
    .first('c.*', 's.id as seal_id');
  await startApplicationWorkflow(deps, { caseId, sealId: c.seal_id, makerId: c.maker_id, districtCode: c.district_code, needsEstablishmentApproval: c.newly_established_organ }).catch((e: Error) => {
    if (e.name !== 'WorkflowExecutionAlreadyStartedError') throw e;
  });
}

// ---------- reading ----------

export async function getCaseView(deps: Pick<Deps, 'db'>, actor: Actor, caseId: string) {
  const c = await loadCase(deps.db, caseId);
  assertCanSeeCase(actor, c);
  await auditRead(deps.db, actor, { action: 'case.read', targetType: 'case', targetId: c.id, caseId: c.id }); // M6 P1
  // Only the columns the view returns: not the imprint PNG (~42 KB) or the certificate, read on every GET.
  const sealColumns = ['id', 'kind', 'number', 'text', 'status', 'seal_code', 'certificate_serial', 'certificate_fingerprint', 'imprint_sha256', 'ready_at', 'unclaimed_due_at', 'collected_at', 'cancelled_at'];
  const seal = (await deps.db('seals').where({ case_id: caseId }).first(sealColumns)) ?? (await deps.db('seals').where({ id: c.subject_seal_id }).first(sealColumns));
  const holder = await deps.db('holders').where({ id: c.holder_id }).first('id', 'uscc', 'name', 'kind', 'district_code', 'pre_verified');
  const materials = await deps.db('materials as m').join('blobs as b', 'b.sha256', 'm.blob_sha256').where('m.case_id', caseId).orderBy('m.created_at').select('m.id', 'm.kind', 'm.original_name', 'b.content_type', 'b.size', 'm.created_at');
  const tasks = await deps.db('tasks').where({ case_id: caseId }).orderBy('created_at').select('id', 'kind', 'status', 'decision', 'reason', 'due_at', 'decided_at');
  const deadline = await deps.db('filing_deadlines').where({ case_id: caseId, kind: 'production' }).first();
  const events = await deps.db('case_events').where({ case_id: caseId }).orderBy('id').select('type', 'data', 'actor_id', 'at');
  const missing = (c as unknown as { missing_materials: string[] }).missing_materials ?? [];
  const label = sealKindLabel(seal.kind);
  return {
    id: c.id,
    kind: c.kind,
    status: c.status,
    status_reason: (c as unknown as { status_reason: string | null }).status_reason,
    district_code: c.district_code,
    // P3: where the case's district disagrees with the holder's records or the maker's choice (flagged to the officer).
    district_mismatches: (c as unknown as { district_mismatches: unknown[] | null }).district_mismatches ?? [],
    maker_id: c.maker_id,
    workflow_id: caseWorkflowId(c),
    holder,
    seal: {
      id: seal.id,
      kind: seal.kind,
      number: seal.number,
      label_zh: label.zh + (seal.number ? `(${seal.number})` : ''),
      label_en: label.en + (seal.number ? ` (${seal.number})` : ''),
      text: seal.text,
      status: seal.status,
      seal_code: seal.seal_code,
      certificate_serial: seal.certificate_serial,
      certificate_fingerprint: seal.certificate_fingerprint,
      imprint_sha256: seal.imprint_sha256,
      ready_at: seal.ready_at,
      unclaimed_due_at: seal.unclaimed_due_at,
      collected_at: seal.collected_at,
      cancelled_at: seal.cancelled_at,
    },
    missing_materials: missing.map((k) => ({ kind: k, label_zh: MATERIAL_LABELS[k as keyof typeof MATERIAL_LABELS]?.zh ?? k, label_en: MATERIAL_LABELS[k as keyof typeof MATERIAL_LABELS]?.en ?? k })),
    materials,
    tasks,
    production_records: await productionRecordVersions(deps.db, caseId), // M5: every version, current marked
    filing: deadline ? { due_at: deadline.due_at, overdue_at: deadline.overdue_at, first_filed_at: deadline.first_filed_at, accepted_at: deadline.accepted_at, late: !!deadline.first_filed_at && deadline.first_filed_at > deadline.due_at } : null,
    events,
  };
}

export async function listCases(deps: Pick<Deps, 'db'>, actor: Actor, filter: { status?: string }) {
  const q = deps.db('cases as c')
    .join('seals as s', function () {
      this.on('s.case_id', 'c.id').orOn('s.id', 'c.subject_seal_id');
    })
    .join('holders as h', 'h.id', 'c.holder_id');
  if (actor.role === 'maker') q.where('c.maker_id', actor.makerId);
  else if (actor.role === 'officer') q.where('c.district_code', actor.districtCode);
  else if (actor.role === 'holder') q.where('c.holder_id', actor.holderId);
  if (filter.status) q.where('c.status', filter.status);
  return q.orderBy('c.created_at', 'desc').limit(200).select('c.id', 'c.kind', 'c.status', 'c.district_code', 'h.name as holder_name', 's.kind as seal_kind', 's.number as seal_number', 's.seal_code', 'c.created_at', 'c.updated_at');
}

// ---------- materials (A2, M2) ----------

export async function uploadMaterial(deps: Deps, actor: Actor, caseId: string, upload: { kind: unknown; file: IncomingFile | null }) {
  const c = await loadCase(deps.db, caseId);
  assertMakerOf(actor, c);
  const kindField = fieldRef('kind', '材料类型', 'Material kind');
  const fileField = fieldRef('file', '上传文件', 'Uploaded file');
  if (upload.kind === undefined || upload.kind === '') throw requiredField(kindField);
  if (!isMaterialKind(upload.kind) && !(UPLOAD_KINDS as readonly string[]).includes(String(upload.kind))) {
    throw invalidField(kindField, `“${String(upload.kind)}”不是可上传的材料类型`, `"${String(upload.kind)}" is not a kind of material`);
  }
  const file = upload.file;
  if (file?.truncated) throw invalidField(fileField, `超过 ${MAX_UPLOAD_BYTES / 1024 / 1024} MiB，未保存`, `exceeds ${MAX_UPLOAD_BYTES / 1024 / 1024} MiB; nothing was stored`, { code: 'UPLOAD_TOO_LARGE' });
  if (!file || file.size === 0) throw requiredField(fileField);
  const contentType = file.contentType; // sniffed from the first bytes while it streamed in
  if (!contentType) throw invalidField(fileField, '只接受 PDF、PNG 或 JPEG 文件（按内容识别，不按文件名）', 'only PDF, PNG or JPEG files are accepted (judged by content, not by name)', { code: 'UNSUPPORTED_TYPE' });
  if (upload.kind === 'on_site_image' && contentType === 'application/pdf') throw invalidField(fileField, '现场影像应为 PNG 或 JPEG 图片', 'the on-site image must be a PNG or JPEG picture');
  const filename = parseName(file.filename || 'upload', fieldRef('filename', '文件名', 'File name'), 200);
  // P1: encrypted on its way in, so only ciphertext reaches the store (its hash is that of the ciphertext).
  const { sha256 } = await deps.blobs.put(await personalData(deps).encryptStream(file.open(), materialPlace(c.holder_id)), { maxBytes: encryptedBlobSize(MAX_UPLOAD_BYTES) });
  const id = randomUUID();
  await deps.db.transaction(async (trx) => {
    await trx('blobs').insert({ sha256, content_type: contentType, size: file.size }).onConflict('sha256').ignore();
    await trx('materials').insert({ id, case_id: caseId, kind: upload.kind, original_name: filename, blob_sha256: sha256, blob_format: BLOB_FORMAT, uploaded_by: actor.userId });
  });
  // The case may be waiting for exactly this; nothing is lost if it is not.
  if (c.status === 'materials_required' && upload.kind !== 'on_site_image') {
    await update(() => deps.temporal.workflow.getHandle(applicationWorkflowId(caseId)).executeUpdate(materialsSubmittedUpdate, { args: [] })).catch((e) => {
      if (!(e instanceof DomainError && e.httpStatus === 409)) throw e;
    });
  }
  return { id, kind: upload.kind, content_type: contentType, size: file.size, sha256 };
}

export async function readMaterial(deps: Deps, actor: Actor, materialId: string) {
  if (!UUID.test(materialId)) throw notFound('Material', '材料');
  const m = await deps.db('materials as m').join('blobs as b', 'b.sha256', 'm.blob_sha256').where('m.id', materialId).first('m.*', 'b.content_type');
  if (!m) throw notFound('Material', '材料');
  const c = await loadCase(deps.db, m.case_id);
  assertCanSeeCase(actor, c);
  await auditRead(deps.db, actor, { action: 'material.read', targetType: 'material', targetId: m.id, caseId: m.case_id, details: { kind: m.kind } }); // M6 P1
  // P1: decrypted as it streams out (never whole in memory); a refused file fails here, before any response.
  const stored = await deps.blobs.open(m.blob_sha256);
  const stream = await personalData(deps).decryptStream(stored.stream, materialPlace(c.holder_id));
  return { contentType: m.content_type as string, stream, filename: m.original_name as string };
}

// ---------- production, filing, collection (M2, M3, M10) ----------

export async function recordProduction(deps: Deps, actor: Actor, caseId: string, body: unknown, answerWithinMs = ACTION_ANSWER_WITHIN_MS) {
  const c = await loadCase(deps.db, caseId);
  assertMakerOf(actor, c);
  const b = (body ?? {}) as { production_data?: unknown; on_site_image_id?: unknown };
  const data: Record<string, unknown> = { ...parseProductionData(b.production_data, new Date()) }; // M2: checked before anything else
  const imageField = fieldRef('on_site_image_id', '经办人现场影像', "Handler's on-site image");
  if (typeof b.on_site_image_id !== 'string' || !UUID.test(b.on_site_image_id)) throw requiredField(imageField);
  const image = await deps.db('materials').where({ id: b.on_site_image_id, case_id: caseId, kind: 'on_site_image' }).first('id');
  if (!image) throw invalidField(imageField, '不是本案件上传的现场影像', 'is not an on-site image uploaded for this case');
  const accepted = await update(() =>
    deps.temporal.workflow.getHandle(applicationWorkflowId(caseId)).startUpdate(recordProductionUpdate, { args: [{ productionData: data, onSiteImageMaterialId: b.on_site_image_id as string, actorId: actor.userId }], waitForStage: WorkflowUpdateStage.ACCEPTED }),
  );
  // Issue 16.6: answered with the state production led to (awaiting_filing, or licence_paused); if the HSM
  // takes longer, 202 with the status link while the case is producing.
  const settled = await within(deps.temporal, () => update(() => accepted.result()), answerWithinMs);
  return { settled: settled !== null, statusUrl: `/api/applications/${caseId}/status`, view: await getCaseView(deps, actor, caseId) };
}

/**
 * How long an action's answer waits for the workflow to act on it before answering 202 with the status link:
 * 20 s by default (the status long-poll's bound); a client says less with `Prefer: wait=<seconds>` (RFC 7240).
 */
export const ACTION_ANSWER_WITHIN_MS = 20_000;

/** `Prefer: wait=5` → 5000 (at most the default); anything else → the default. */
export function preferredWaitMs(prefer: string | undefined): number {
  const m = /(?:^|[;,\s])wait\s*=\s*"?(\d{1,3})"?/i.exec(prefer ?? '');
  return m ? Math.min(Number(m[1]) * 1000, ACTION_ANSWER_WITHIN_MS) : ACTION_ANSWER_WITHIN_MS;
}

/**
 * The answer of `fn` (a wait on a workflow), or null if it takes longer than `ms`: then its gRPC calls are
 * cancelled, so no poll of the workflow outlives the request (nor a closed connection).
 */
export async function within<T>(temporal: Client, fn: () => Promise<T>, ms: number): Promise<T | null> {
  const stop = new AbortController();
  const p = temporal.withAbortSignal(stop.signal, fn);
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<null>((r) => (timer = setTimeout(() => r(null), ms)))]);
  } finally {
    clearTimeout(timer);
    p.catch(() => undefined); // cancelled below when the wait ran out: nobody is waiting for it any more
    stop.abort();
  }
}

/** M3: the maker files the prescribed data with the district's police (備案). */
export async function submitFiling(deps: Deps, actor: Actor, caseId: string, body: unknown) {
  const c = await loadCase(deps.db, caseId);
  assertMakerOf(actor, c);
  const note = (body as { note?: unknown } | undefined)?.note;
  // M3: the platform assembles what the filing carries from the case; the maker confirms it (and may add a note).
  const contents = await assembleFilingContents(deps, caseId, { subjectSealId: c.subject_seal_id ?? null });
  const data = {
    ...contents,
    note: typeof note === 'string' ? parseName(note, fieldRef('note', '备注', 'Note'), 500) : null,
    ...(c.kind !== 'application' ? { change: { kind: c.kind, reason: (c as unknown as { request_reason: string | null }).request_reason } } : {}),
  };
  const result = await update(() => deps.temporal.workflow.getHandle(caseWorkflowId(c)).executeUpdate(submitFilingUpdate, { args: [{ data, actorId: actor.userId }] }));
  return { filing_id: result.filingId, late: result.late, task_id: result.taskId, case_status: result.status ?? 'filing_under_review', filing: data };
}

const COLLECTOR_ID = identityFields('collector_', '领取人', "Collector's");

export async function recordCollection(deps: Deps, actor: Actor, caseId: string, body: unknown) {
  const c = await loadCase(deps.db, caseId);
  assertMakerOf(actor, c);
  const b = (body ?? {}) as Record<string, unknown>;
  const name = parseName(b.collector_name, fieldRef('collector_name', '领取人姓名', "Collector's name"), 50);
  const id = identityKey(parseIdentityDocumentOf(b, 'collector_', COLLECTOR_ID));
  // M10: the seal is handed to the handler whose ID was checked at application.
  if (id !== (await personalData(deps).decrypt(c.handler_id_number, { table: 'cases', column: 'handler_id_number', row: c.id }))) throw ruleViolation('COLLECTOR_NOT_HANDLER', '领取人身份证号码与申请经办人不一致', "The collector's ID number is not the handler's", { field: COLLECTOR_ID.number });
  // A seal is collected once, so the request itself is its key: the maker's repeat (its answer was lost) gets the
  // case as the first answer gave it, not a refusal contradicting what happened.
  if (c.status === 'collected' && (await deps.db('case_events').where({ case_id: caseId, type: 'collected', actor_id: actor.userId }).first('id'))) return getCaseView(deps, actor, caseId);
  await update(() => deps.temporal.workflow.getHandle(applicationWorkflowId(caseId)).executeUpdate(recordCollectionUpdate, { updateId: 'collection', args: [{ collectorName: name, actorId: actor.userId }] }));
  return waitForStatus(deps, actor, caseId, ['collected']);
}

/**
 * Issue 18: production failed (the reason is on the case); the maker confirms the holder was told, and the
 * case closes. The holder applies again with corrected data as a new case.
 */
export async function closeFailedProduction(deps: Deps, actor: Actor, caseId: string, body: unknown) {
  const c = await loadCase(deps.db, caseId);
  assertMakerOf(actor, c);
  // A closed case's workflow has ended and takes no update: refused here, by the status it shows.
  if (c.status === 'production_abandoned') throw conflict('WrongState', `案件当前状态为 ${c.status}，不能关闭`, `Cannot close the case while it is ${c.status}`);
  if ((body as { holder_informed?: unknown } | null)?.holder_informed !== true) {
    throw invalidField(fieldRef('holder_informed', '已告知用章单位', 'Holder informed'), '须确认已将制作失败的原因告知用章单位', 'confirm that the holder was told why production failed', { code: 'HOLDER_NOT_INFORMED' });
  }
  await update(() => deps.temporal.workflow.getHandle(applicationWorkflowId(caseId)).executeUpdate(closeFailedProductionUpdate, { args: [{ actorId: actor.userId }] }));
  return waitForStatus(deps, actor, caseId, ['production_abandoned']);
}

/** Waits (briefly) until the workflow has projected one of the given statuses; returns the case. */
async function waitForStatus(deps: Deps, actor: Actor, caseId: string, statuses: string[], timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const view = await getCaseView(deps, actor, caseId);
    if (statuses.includes(view.status) || Date.now() > deadline) return view;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The USCC's registration-authority division code (characters 3–8), or null for a holder row from before the USCC check. */
function usccDivision(uscc: string): string | null {
  try {
    return parseUscc(uscc).administrativeDivisionCode;
  } catch {
    return null;
  }
}

/** P3: the holder's registered address, USCC and the maker's chosen district against the case's district (stored only when they disagree). */
function districtFlags(holder: { district_code: string; address: string | null; uscc: string }, makerChoice: string): string | null {
  const found = districtMismatches(holder.district_code, holder.address, usccDivision(holder.uscc), makerChoice);
  return found.length ? JSON.stringify(found) : null;
}
// ---------- documents (M10, M13) ----------

export async function getDocument(deps: Pick<Deps, 'db'>, actor: Actor, sealId: string, kind: string) {
  if (!UUID.test(sealId) || !['production_certificate', 'cancellation_certificate'].includes(kind)) throw notFound('Document', '证书');
  const seal = await deps.db('seals').where({ id: sealId }).first('case_id');
  if (!seal) throw notFound('Document', '证书');
  assertCanSeeCase(actor, await loadCase(deps.db, seal.case_id));
  // The copy signed by the maker's seal (issue 12) once the workflow has signed it; the rendered one before.
  const doc = await deps.db('documents as d')
    .leftJoin('signed_documents as s', 's.document_id', 'd.id')
    .where({ 'd.seal_id': sealId, 'd.kind': kind })
    .first('d.document_no', 'd.html', deps.db.raw('coalesce(s.pdf, d.pdf) as pdf'));
  if (!doc) throw notFound('Document', '证书');
  await auditRead(deps.db, actor, { action: 'document.read', targetType: 'seal', targetId: sealId, caseId: seal.case_id, details: { kind, document_no: doc.document_no } }); // M6 P1
  return doc as { document_no: string; html: string; pdf: Buffer };
}
