// I2: supervisors manage the trust list — the other e-seal platforms the city recognises. Every change (a
// new platform; its certificates, CRL/OCSP addresses or status) is a proposal that takes effect only when a
// second supervisor approves it through the Update of its own workflow (workflows/trust-list-change.ts):
// four eyes, both steps in the audit trail.
import { randomUUID } from 'node:crypto';
import { WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { conflict, DomainError, invalidField, notFound as notFoundError } from '../domain/errors';
import { forbidden } from '../domain/refusals';
import type { Actor } from '../domain/actor';
import { parsePlatformProposal, TRUST_FIELDS, type PlatformProposal, type PlatformStatus } from '../domain/trust-list';
import { appendAudit } from '../infra/audit/log';
import { currentAuditContext, recordEffectElsewhere } from '../infra/audit/context';
import type { Config } from '../infra/config';
import type { Db } from '../infra/db';
import { readCertificate } from '../infra/pki/foreign';
import { cachedCrl } from '../infra/pki/foreign-crls';
import { trustListChangeWorkflow } from '../workflows/trust-list-change';
import {
  decideTrustListChangeUpdate,
  TRUST_CHANGE_DECIDED,
  TRUST_CHANGE_SAME_SUPERVISOR,
  trustListChangeWorkflowId,
  trustListDecisionUpdateId,
} from '../workflows/trust-list-messages';

export interface TrustListDeps {
  db: Db;
  temporal: Client;
  config: Config;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const supervisorOnly = (actor: Actor) => {
  if (actor.role !== 'supervisor') throw forbidden('Only a supervisor manages the recognised platforms', '只有监管人员可以管理互认平台');
};

async function currentProposal(db: Db, platformId: string): Promise<PlatformProposal | null> {
  const p = await db('trusted_platforms').where({ id: platformId }).first();
  if (!p) return null;
  const certs = await db('trusted_platform_certificates').where({ platform_id: platformId }).orderBy('sha256').select('role', 'der');
  const b64 = (role: string) => certs.filter((c) => c.role === role).map((c) => Buffer.from(c.der).toString('base64'));
  return { code: p.code, name: p.name, status: p.status, rootCertificates: b64('root'), makerCertificates: b64('maker'), crlUrl: p.crl_url, ocspUrl: p.ocsp_url };
}

/** Every certificate of a proposal must be an X.509 certificate (SM2, ECDSA or RSA), and a root a CA. */
function checkCertificates(p: PlatformProposal): void {
  const check = (list: string[], field: typeof TRUST_FIELDS.rootCertificates, mustBeCa: boolean) =>
    list.forEach((b, i) => {
      const f = { ...field, key: `${field.key}[${i}]` };
      let c;
      try {
        c = readCertificate(Buffer.from(b, 'base64'));
      } catch {
        throw invalidField(f, '不是可解析的 X.509 证书（DER）', 'is not a readable X.509 certificate (DER)', { code: 'CERTIFICATE_UNREADABLE' });
      }
      if (mustBeCa && !c.isCa) throw invalidField(f, '不是 CA 证书（basicConstraints cA）', 'is not a CA certificate (basicConstraints cA)', { code: 'NOT_A_CA', httpStatus: 422 });
    });
  check(p.rootCertificates, TRUST_FIELDS.rootCertificates, true);
  check(p.makerCertificates, TRUST_FIELDS.makerCertificates, false);
}

/**
 * A supervisor proposes a change: a new platform (`platformId` null) or a change of a listed one (the
 * fields given replace the current ones). Answers the pending change; nothing takes effect yet.
 */
export async function proposePlatformChange(deps: TrustListDeps, actor: Actor, platformId: string | null, body: unknown) {
  supervisorOnly(actor);
  if (platformId !== null && !UUID.test(platformId)) throw notFoundError('PLATFORM_NOT_FOUND', '互认平台不存在', 'Platform not found');
  const current = platformId ? await currentProposal(deps.db, platformId) : null;
  if (platformId && !current) throw notFoundError('PLATFORM_NOT_FOUND', '互认平台不存在', 'Platform not found');
  const proposal = parsePlatformProposal(body, current ?? undefined);
  checkCertificates(proposal);
  const id = platformId ?? randomUUID();
  const sameCode = await deps.db('trusted_platforms').where({ code: proposal.code }).whereNot({ id }).first('id');
  const sameCodePending = await deps.db('trust_list_changes').where({ status: 'pending', kind: 'create' }).whereRaw(`proposal->>'code' = ?`, [proposal.code]).whereNot({ platform_id: id }).first('id');
  if (sameCode || sameCodePending) throw invalidField(TRUST_FIELDS.code, '已被另一互认平台使用', 'is already used by another platform', { code: 'PLATFORM_CODE_TAKEN', httpStatus: 409 });
  const changeId = randomUUID();
  const workflowId = trustListChangeWorkflowId(changeId);
  try {
    await deps.db.transaction(async (trx) => {
      await trx('trust_list_changes').insert({ id: changeId, platform_id: id, kind: current ? 'update' : 'create', proposal: JSON.stringify(proposal), status: 'pending', workflow_id: workflowId, proposed_by: actor.userId });
      await appendAudit(trx, { action: 'trust_list.propose', outcome: 'ok', actor, targetType: 'platform', targetId: id, details: { change_id: changeId, code: proposal.code, status: proposal.status, kind: current ? 'update' : 'create' } });
      // Started inside the transaction: a failed start leaves no pending change behind.
      await deps.temporal.workflow.start(trustListChangeWorkflow, { taskQueue: deps.config.temporal.taskQueues.main, workflowId, args: [{ changeId, proposedBy: actor.userId }] });
    });
  } catch (e) {
    if ((e as { code?: string }).code === '23505') throw conflict('CHANGE_PENDING', '该互认平台已有一项待审批的变更', 'This platform already has a change awaiting approval', { platformId: id });
    throw e;
  }
  recordEffectElsewhere(); // the proposal's own entry is above, with the change
  return { change_id: changeId, platform_id: id, kind: current ? 'update' : 'create', status: 'pending', proposal: proposalView(proposal) };
}

function proposalView(p: PlatformProposal) {
  const certs = (list: string[]) => list.map((b) => {
    const c = readCertificate(Buffer.from(b, 'base64'));
    return { subject: c.subject, serial: c.serialHex, sha256: c.sha256, not_after: c.notAfter.toISOString(), der_base64: b };
  });
  return { code: p.code, name: p.name, status: p.status, crl_url: p.crlUrl, ocsp_url: p.ocspUrl, root_certificates: certs(p.rootCertificates), maker_certificates: certs(p.makerCertificates) };
}

const alreadyDecided = () => conflict('ALREADY_DECIDED', '该变更已审批', 'This change has already been decided');

/** A second supervisor approves or rejects a pending change (the proposer is refused: four eyes). */
export async function decidePlatformChange(deps: TrustListDeps, actor: Actor, changeId: string, body: unknown) {
  supervisorOnly(actor);
  const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  if (b.decision !== 'approve' && b.decision !== 'reject') throw invalidField(TRUST_FIELDS.decision, '应为 approve（批准）或 reject（驳回）', 'must be approve or reject');
  const reason = typeof b.reason === 'string' && b.reason.trim() ? b.reason.trim().slice(0, 500) : null;
  const decision = b.decision;
  const change = UUID.test(changeId) ? await deps.db('trust_list_changes').where({ id: changeId }).first('status', 'workflow_id', 'decided_by', 'proposed_by') : undefined;
  if (!change) throw notFoundError('CHANGE_NOT_FOUND', '变更不存在', 'Change not found');
  const repeated = async () => {
    const c = await deps.db('trust_list_changes').where({ id: changeId }).first('status', 'decided_by');
    return c.decided_by === actor.userId && c.status === (decision === 'approve' ? 'approved' : 'rejected');
  };
  if (change.status !== 'pending') {
    if (await repeated()) return changeView(deps.db, changeId);
    throw alreadyDecided();
  }
  const ctx = currentAuditContext();
  recordEffectElsewhere(); // the decision's entry is written with the change, in the workflow's activity
  const handle = deps.temporal.workflow.getHandle(change.workflow_id);
  try {
    await handle.executeUpdate(decideTrustListChangeUpdate, {
      args: [{ decision, reason, supervisorId: actor.userId, audit: { username: actor.username, role: actor.role, districtCode: null, clientAddress: ctx?.clientAddress ?? null, requestId: ctx?.requestId ?? null } }],
      updateId: trustListDecisionUpdateId(changeId, actor.userId, decision),
    });
  } catch (e) {
    if (e instanceof WorkflowUpdateFailedError && e.cause instanceof ApplicationFailure) {
      if (e.cause.type === TRUST_CHANGE_DECIDED) {
        if (await repeated()) return changeView(deps.db, changeId);
        throw alreadyDecided();
      }
      if (e.cause.type === TRUST_CHANGE_SAME_SUPERVISOR) throw new DomainError({ code: 'FOUR_EYES', httpStatus: 403, messageZh: '提出变更的监管人员不能审批自己的变更，须由另一名监管人员审批', messageEn: 'The supervisor who proposed a change cannot approve it: a second supervisor decides' });
      const x = (e.cause.details?.[0] ?? {}) as { zh?: string; en?: string; field?: string };
      throw new DomainError({ code: e.cause.type ?? 'REFUSED', messageZh: x.zh ?? e.cause.message, messageEn: x.en ?? e.cause.message, field: x.field });
    }
    if ((e as Error).name === 'WorkflowNotFoundError') {
      if (await repeated()) return changeView(deps.db, changeId);
      throw alreadyDecided();
    }
    throw e;
  }
  await handle.result(); // applied once the activity committed: a read right after sees it
  if (!(await repeated())) throw alreadyDecided();
  return changeView(deps.db, changeId);
}

async function changeView(db: Db, changeId: string) {
  const c = await db('trust_list_changes as c')
    .join('users as p', 'p.id', 'c.proposed_by')
    .leftJoin('users as d', 'd.id', 'c.decided_by')
    .where('c.id', changeId)
    .first('c.id', 'c.platform_id', 'c.kind', 'c.status', 'c.proposal', 'c.proposed_at', 'c.decided_at', 'c.reason', 'p.display_name as proposed_by', 'd.display_name as decided_by');
  return { change_id: c.id, platform_id: c.platform_id, kind: c.kind, status: c.status, proposed_by: c.proposed_by, proposed_at: c.proposed_at, decided_by: c.decided_by ?? null, decided_at: c.decided_at ?? null, reason: c.reason ?? null, proposal: proposalView(c.proposal) };
}

/** The trust list for supervisors: each platform with its certificates, CRL state and pending changes. */
export async function trustList(db: Db, actor: Actor) {
  supervisorOnly(actor);
  const platforms = await db('trusted_platforms').orderBy('code').select();
  const out = [];
  for (const p of platforms) {
    const certs = await db('trusted_platform_certificates').where({ platform_id: p.id }).orderBy(['role', 'subject']).select('role', 'subject', 'sha256');
    const crl = await cachedCrl(db, p.id);
    const crlRow = await db('foreign_crls').where({ platform_id: p.id }).first('last_error');
    const filed = await db('external_seals').where({ platform_id: p.id }).count<{ count: string }[]>('id as count');
    out.push({
      id: p.id,
      code: p.code,
      name: p.name,
      status: p.status as PlatformStatus,
      crl_url: p.crl_url,
      ocsp_url: p.ocsp_url,
      version: p.version,
      updated_at: p.updated_at,
      certificates: certs,
      crl: crl ? { this_update: crl.thisUpdate.toISOString(), next_update: crl.nextUpdate?.toISOString() ?? null, fetched_at: crl.fetchedAt.toISOString(), revoked: Object.keys(crl.revoked).length, last_error: crlRow?.last_error ?? null } : null,
      filed_seals: Number(filed[0].count),
    });
  }
  const pendingIds = await db('trust_list_changes').where({ status: 'pending' }).orderBy('proposed_at').pluck('id');
  const recentIds = await db('trust_list_changes').whereNot({ status: 'pending' }).orderBy('decided_at', 'desc').limit(20).pluck('id');
  return { platforms: out, pending_changes: await Promise.all(pendingIds.map((id: string) => changeView(db, id))), recent_changes: await Promise.all(recentIds.map((id: string) => changeView(db, id))) };
}
