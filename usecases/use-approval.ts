// 三(四) 使用流程: a holder may require, per seal, that each use be approved by named staff (its own accounts).
// A use request (seal, purpose, document type, name and SHA-256) is a workflow (`use-approval:<id>`,
// workflows/use-approval.ts) with a task in the holder's own approval queue; only the approvers named for the
// seal decide it, through the workflow's Update; an approved request is spent by one signature whose document
// has the same SHA-256 (usecases/seal-signing.ts checks it; the signature's workflow reserves the request and
// spends it once signed, workflows/seal-signature.ts). Other holders see nothing of it.
import { randomUUID } from 'node:crypto';
import { WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { Config } from '../infra/config';
import type { Db } from '../infra/db';
import { currentAuditContext, recordEffectElsewhere } from '../infra/audit/context';
import { durationToMs } from '../domain/calendar';
import { conflict, DomainError, invalidField, notFound, ValidationCollector } from '../domain/errors';
import { forbidden } from '../domain/refusals';
import type { Actor } from '../domain/actor';
import { DOCUMENT_TYPES, parseDocumentType, parsePurpose, type DocumentType } from '../domain/signing';
import { parseDocumentName, parseSha256, parseUseDecision, USE_FIELDS, USE_REQUEST_STATUSES, useRequestDueAt, type UseRequestStatusKey } from '../domain/use-approval';
import { useApprovalWorkflow } from '../workflows/use-approval';
import {
  decideUseUpdate,
  USE_ALREADY_DECIDED,
  USE_NOT_APPROVER,
  useApprovalWorkflowId,
  useDecisionUpdateId,
  useRequestOpenedUpdate,
} from '../workflows/use-approval-messages';

export interface UseApprovalDeps {
  db: Db;
  temporal: Client;
  config: Pick<Config, 'temporal' | 'durations'>;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
type Json = Record<string, unknown>;
const sealMissing = () => notFound('SEAL_NOT_FOUND', '印章不存在', 'Seal not found');
const requestMissing = () => notFound('USE_REQUEST_NOT_FOUND', '用印申请不存在', 'Use request not found');

async function holderSeal(db: Db, actor: Actor, sealId: string) {
  if (!UUID.test(sealId)) throw sealMissing();
  const seal = await db('seals').where({ id: sealId }).first('id', 'holder_id', 'status');
  if (!seal) throw sealMissing();
  if (actor.role !== 'holder' || actor.holderId !== seal.holder_id) throw forbidden("Only the seal holder's staff may do this", '只有印章所属单位的人员可以办理');
  return seal as { id: string; holder_id: string; status: string };
}

/** The seal's current approvers (user ids); none: its uses need no approval. */
export async function currentApproverIds(db: Db, sealId: string): Promise<string[]> {
  const rows = await db('seal_use_approvers').where({ seal_id: sealId }).whereNull('removed_at').orderBy('added_at').select('user_id');
  return rows.map((r) => r.user_id as string);
}

export interface UseApprover {
  user_id: string;
  username: string;
  display_name: string;
}

/** GET /api/seals/{id}/use-approvers: who approves this seal's uses (empty: no approval needed). */
export async function listUseApprovers(deps: Pick<UseApprovalDeps, 'db'>, actor: Actor, sealId: string): Promise<{ seal_id: string; requires_approval: boolean; approvers: UseApprover[] }> {
  const seal = await holderSeal(deps.db, actor, sealId);
  const approvers = await deps.db('seal_use_approvers as a').join('users as u', 'u.id', 'a.user_id').where('a.seal_id', seal.id).whereNull('a.removed_at').orderBy('a.added_at').select('u.id as user_id', 'u.username', 'u.display_name');
  return { seal_id: seal.id, requires_approval: approvers.length > 0, approvers };
}

/**
 * For the seal page's form: the holder's own active accounts, each marked when it approves this seal's uses
 * (the same scope as setUseApprovers: the holder's staff, their own seal).
 */
export async function useApproverChoices(deps: Pick<UseApprovalDeps, 'db'>, actor: Actor, sealId: string): Promise<Array<{ user_id: string; username: string; display_name: string; chosen: boolean }>> {
  const seal = await holderSeal(deps.db, actor, sealId);
  const chosen = new Set(await currentApproverIds(deps.db, seal.id));
  const accounts = await deps.db('users').where({ role: 'holder', holder_id: seal.holder_id }).whereNull('disabled_at').orderBy('username').limit(200).select('id', 'username', 'display_name');
  return accounts.map((u) => ({ user_id: u.id, username: u.username, display_name: u.display_name, chosen: chosen.has(u.id) }));
}

/** For the request form of the approval queue page: the holder's active seals whose uses need approval. */
export async function sealsNeedingApproval(deps: Pick<UseApprovalDeps, 'db'>, actor: Actor): Promise<Array<{ id: string; kind: string; number: number | null; seal_code: string | null; text: string }>> {
  if (actor.role !== 'holder' || !actor.holderId) throw forbidden("Only the seal holder's staff may do this", '只有印章所属单位的人员可以办理');
  return deps.db('seals as s')
    .where({ 's.holder_id': actor.holderId, 's.status': 'active' })
    .whereExists(deps.db('seal_use_approvers as a').whereRaw('a.seal_id = s.id').whereNull('a.removed_at'))
    .orderBy('s.seal_code')
    .select('s.id', 's.kind', 's.number', 's.seal_code', 's.text');
}

/**
 * PUT /api/seals/{id}/use-approvers: the holder names the staff who approve each use of the seal (its own
 * active accounts); an empty list ends the requirement. Requests already made keep the approvers they named.
 */
export async function setUseApprovers(deps: Pick<UseApprovalDeps, 'db'>, actor: Actor, sealId: string, body: Json) {
  const seal = await holderSeal(deps.db, actor, sealId);
  const ids = body.approver_ids;
  if (!Array.isArray(ids) || ids.some((x) => typeof x !== 'string' || !UUID.test(x))) throw invalidField(USE_FIELDS.approverIds, '应为本单位账号编号的列表', "must be a list of your organisation's account ids");
  const wanted = [...new Set(ids as string[])];
  if (wanted.length > 20) throw invalidField(USE_FIELDS.approverIds, '最多20人', 'is at most 20 people');
  const found = wanted.length ? await deps.db('users').whereIn('id', wanted).where({ role: 'holder', holder_id: seal.holder_id }).whereNull('disabled_at').select('id') : [];
  const foreign = wanted.filter((id) => !found.some((f) => f.id === id));
  if (foreign.length) throw invalidField(USE_FIELDS.approverIds, `不是本单位的有效账号：${foreign.join('、')}`, `are not active accounts of your organisation: ${foreign.join(', ')}`);
  await deps.db.transaction(async (trx) => {
    await trx.raw('select id from seals where id = ? for update', [seal.id]); // two editors in turn
    const current: string[] = (await trx('seal_use_approvers').where({ seal_id: seal.id }).whereNull('removed_at').select('user_id')).map((r) => r.user_id);
    const gone = current.filter((id) => !wanted.includes(id));
    if (gone.length) await trx('seal_use_approvers').where({ seal_id: seal.id }).whereIn('user_id', gone).whereNull('removed_at').update({ removed_at: trx.fn.now() });
    const added = wanted.filter((id) => !current.includes(id));
    if (added.length) await trx('seal_use_approvers').insert(added.map((user_id) => ({ id: randomUUID(), seal_id: seal.id, user_id, added_by: actor.userId })));
  });
  return listUseApprovers(deps, actor, sealId);
}

export interface UseRequestView {
  id: string;
  seal_id: string;
  seal_code: string | null;
  seal_kind: string;
  seal_text: string;
  purpose: string;
  document_type: string;
  document_type_zh: string;
  document_name: string;
  document_sha256: string;
  status: UseRequestStatusKey;
  status_zh: string;
  requested_by: string;
  requested_by_name: string;
  approver_ids: string[];
  can_decide: boolean;
  due_at: Date;
  decided_by: string | null;
  decided_at: Date | null;
  reason: string | null;
  register_id: string | null;
  used_at: Date | null;
  created_at: Date;
}

const VIEW_COLUMNS = [
  'r.id', 'r.seal_id', 's.seal_code', 's.kind as seal_kind', 's.text as seal_text', 'r.purpose', 'r.document_type', 'r.document_name', 'r.document_sha256', 'r.status',
  'r.requested_by', 'u.display_name as requested_by_name', 'r.approver_ids', 'r.due_at', 'r.decided_by', 'r.decided_at', 'r.reason', 'r.register_id', 'r.used_at', 'r.created_at',
];

function view(actor: Actor, r: Json): UseRequestView {
  const approverIds = (typeof r.approver_ids === 'string' ? JSON.parse(r.approver_ids) : r.approver_ids) as string[];
  const status = r.status as UseRequestStatusKey;
  return {
    ...(r as unknown as UseRequestView),
    approver_ids: approverIds,
    status,
    status_zh: USE_REQUEST_STATUSES[status].zh,
    document_type_zh: DOCUMENT_TYPES[r.document_type as DocumentType]?.zh ?? String(r.document_type),
    can_decide: status === 'pending' && approverIds.includes(actor.userId) && r.requested_by !== actor.userId,
  };
}

const requestRows = (db: Db) => db('seal_use_requests as r').join('seals as s', 's.id', 'r.seal_id').join('users as u', 'u.id', 'r.requested_by');

/** GET /api/use-requests: the holder's use requests (its approval queue first: pending, by due time). */
export async function listUseRequests(deps: Pick<UseApprovalDeps, 'db'>, actor: Actor, query: Json = {}): Promise<UseRequestView[]> {
  if (actor.role !== 'holder' || !actor.holderId) throw forbidden("Only the holder's staff see its use requests", '只有本单位人员可以查看用印申请');
  const v = new ValidationCollector();
  const status = typeof query.status === 'string' && query.status !== '' ? query.status : undefined;
  if (status !== undefined && !(status in USE_REQUEST_STATUSES)) v.add(invalidField(USE_FIELDS.status, `应为 ${Object.keys(USE_REQUEST_STATUSES).join('、')} 之一`, `must be one of ${Object.keys(USE_REQUEST_STATUSES).join(', ')}`));
  const sealId = typeof query.seal_id === 'string' && query.seal_id !== '' ? query.seal_id : undefined;
  if (sealId !== undefined && !UUID.test(sealId)) v.add(invalidField(USE_FIELDS.sealId, '不是有效的编号', 'is not a valid id'));
  v.throwIfAny();
  const rows = await requestRows(deps.db)
    .where('r.holder_id', actor.holderId)
    .modify((b) => {
      if (status) b.where('r.status', status);
      if (sealId) b.where('r.seal_id', sealId);
    })
    .orderByRaw("case when r.status = 'pending' then 0 else 1 end, r.due_at asc, r.created_at desc")
    .limit(500)
    .select(VIEW_COLUMNS);
  return rows.map((r: Json) => view(actor, r));
}

/** GET /api/use-requests/{id}: one request of the holder's (another holder's is not found). */
export async function getUseRequest(deps: Pick<UseApprovalDeps, 'db'>, actor: Actor, id: string): Promise<UseRequestView> {
  if (actor.role !== 'holder' || !actor.holderId) throw forbidden("Only the holder's staff see its use requests", '只有本单位人员可以查看用印申请');
  if (!UUID.test(id)) throw requestMissing();
  const row = await requestRows(deps.db).where('r.id', id).where('r.holder_id', actor.holderId).first(VIEW_COLUMNS);
  if (!row) throw requestMissing();
  return view(actor, row);
}

/** POST /api/use-requests: a request to use a seal on one document, in the approval queue until decided or lapsed. */
export async function createUseRequest(deps: UseApprovalDeps, actor: Actor, body: Json, now = new Date()): Promise<UseRequestView> {
  const v = new ValidationCollector();
  const sealId = typeof body.seal_id === 'string' ? body.seal_id : '';
  const purpose = v.check(() => parsePurpose(body.purpose));
  const documentType = v.check(() => parseDocumentType(body.document_type));
  const documentName = v.check(() => parseDocumentName(body.document_name));
  const documentSha256 = v.check(() => parseSha256(body.document_sha256));
  if (!UUID.test(sealId)) v.add(invalidField(USE_FIELDS.sealId, '不是有效的编号', 'is not a valid id'));
  v.throwIfAny();
  const seal = await holderSeal(deps.db, actor, sealId);
  if (seal.status !== 'active') throw conflict('SIGN_NOT_LIVE', '印章不在用（停用、暂停或注销），不能申请用印', 'The seal is not active (suspended, stopped or cancelled); its use cannot be requested');
  const approverIds = await currentApproverIds(deps.db, seal.id);
  if (approverIds.length === 0) throw new DomainError({ code: 'USE_APPROVAL_NOT_REQUIRED', field: USE_FIELDS.sealId, httpStatus: 409, messageZh: '印章：本单位未要求此印章的用印审批，可直接签章', messageEn: 'Seal: your organisation requires no use approval for this seal; sign directly' });

  const requestId = randomUUID();
  const ctx = currentAuditContext();
  const dueAt = useRequestDueAt(now, durationToMs(deps.config.durations.useApprovalDeadline));
  const handle = await deps.temporal.workflow.start(useApprovalWorkflow, {
    taskQueue: deps.config.temporal.taskQueues.main,
    workflowId: useApprovalWorkflowId(requestId),
    args: [{ requestId, sealId: seal.id, holderId: seal.holder_id, approverIds, requestedBy: actor, dueAt: dueAt.toISOString(), purpose: purpose!, documentType: documentType!, documentName: documentName!, documentSha256: documentSha256!, clientAddress: ctx?.clientAddress ?? null }],
  });
  await handle.executeUpdate(useRequestOpenedUpdate); // the row is in the queue when we answer
  return getUseRequest(deps, actor, requestId);
}

function refusalOf(e: unknown): DomainError | null {
  if (!(e instanceof WorkflowUpdateFailedError) || !(e.cause instanceof ApplicationFailure)) return null;
  const x = (e.cause.details?.[0] ?? {}) as { zh?: string; en?: string; field?: string };
  const zh = x.zh ?? e.cause.message;
  const en = x.en ?? e.cause.message;
  switch (e.cause.type) {
    case USE_NOT_APPROVER:
      return forbidden(en, zh);
    case USE_ALREADY_DECIDED:
      return conflict('USE_REQUEST_DECIDED', zh, en);
    default:
      return new DomainError({ code: e.cause.type ?? 'REFUSED', field: x.field, messageZh: zh, messageEn: en });
  }
}

/** POST /api/use-requests/{id}/decision: an approver named for the seal approves or rejects (with a reason). */
export async function decideUseRequest(deps: UseApprovalDeps, actor: Actor, id: string, body: Json): Promise<UseRequestView> {
  const request = await getUseRequest(deps, actor, id); // another holder's: 404
  const decision = parseUseDecision(body.decision);
  const reason = typeof body.reason === 'string' && body.reason.trim() !== '' ? body.reason.trim().slice(0, 1000) : null;
  if (!request.approver_ids.includes(actor.userId)) throw forbidden('Only an approver named for this seal may decide its use requests', '只有该印章指定的审批人可以审批用印申请');
  if (request.requested_by === actor.userId) throw forbidden('You cannot decide your own use request', '不能审批本人提出的用印申请');
  if (request.status !== 'pending') throw conflict('USE_REQUEST_DECIDED', `该用印申请已处理（${request.status_zh}）`, `This use request has already been decided (${request.status})`);
  recordEffectElsewhere(); // the workflow's activity writes the decision's audit entry with the row
  const ctx = currentAuditContext();
  try {
    await deps.temporal.workflow.getHandle(useApprovalWorkflowId(id)).executeUpdate(decideUseUpdate, {
      args: [{ decision, reason, approver: actor, clientAddress: ctx?.clientAddress ?? null, requestId: ctx?.requestId ?? null }],
      updateId: useDecisionUpdateId(id, actor.userId, decision),
    });
  } catch (e) {
    const refusal = refusalOf(e);
    if (refusal) throw refusal;
    if ((e as Error).name === 'WorkflowNotFoundError') throw conflict('USE_REQUEST_DECIDED', '该用印申请已结束', 'This use request is closed');
    throw e;
  }
  const after = await getUseRequest(deps, actor, id);
  if (after.decided_by !== actor.userId) throw conflict('USE_REQUEST_DECIDED', `该用印申请已处理（${after.status_zh}）`, `This use request has already been decided (${after.status})`);
  return after;
}

/** Whether the seal's uses must be approved (the holder named approvers for it). */
export async function requiresUseApproval(db: Db, sealId: string): Promise<boolean> {
  return (await currentApproverIds(db, sealId)).length > 0;
}

/**
 * Checks that the request may sign this document with this seal, before anything is reserved (field-named
 * refusals, in Chinese and English): the holder's own, for this seal, approved, the same SHA-256.
 */
export async function checkUseRequest(db: Db, actor: Actor, useRequestId: string, sealId: string, documentSha256: string) {
  const missing = () => invalidField(USE_FIELDS.useRequestId, '不存在', 'does not exist', { code: 'USE_REQUEST_NOT_FOUND', httpStatus: 404 });
  if (!UUID.test(useRequestId)) throw missing();
  const r = await db('seal_use_requests').where({ id: useRequestId, holder_id: actor.holderId }).first('id', 'seal_id', 'status', 'document_sha256', 'purpose', 'document_type', 'decided_by');
  if (!r) throw missing();
  if (r.seal_id !== sealId) throw invalidField(USE_FIELDS.useRequestId, '是另一枚印章的申请', 'is for another seal', { code: 'USE_REQUEST_OTHER_SEAL', httpStatus: 409 });
  if (r.status === 'used') throw invalidField(USE_FIELDS.useRequestId, '已使用过一次，不能再次用印', 'has already been used once; it cannot sign again', { code: 'USE_REQUEST_USED', httpStatus: 409 });
  if (r.status !== 'approved') {
    const s = USE_REQUEST_STATUSES[r.status as UseRequestStatusKey];
    throw invalidField(USE_FIELDS.useRequestId, `未获批准（当前：${s.zh}）`, `is not approved (it is ${s.en.toLowerCase()})`, { code: 'USE_REQUEST_NOT_APPROVED', httpStatus: 409 });
  }
  if (r.document_sha256 !== documentSha256) {
    throw invalidField(USE_FIELDS.useRequestId, '批准的是另一份文件（SHA-256 不一致）', 'approved another document (its SHA-256 differs)', { code: 'USE_REQUEST_OTHER_DOCUMENT', httpStatus: 409, details: { approved_sha256: r.document_sha256, uploaded_sha256: documentSha256 } });
  }
  return r as { id: string; purpose: string; document_type: DocumentType; decided_by: string };
}
