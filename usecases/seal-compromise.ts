// M13: the holder or an officer of the seal's district reports a seal lost or its key compromised. The
// seal's workflow destroys the key and revokes the certificate at once (keyCompromise, with the invalidity
// date reported: from when the key is known or suspected compromised); the report is then a case filed with
// the holder's district like every other change (change-request workflow: 24-hour filing, officer review).
import { randomUUID } from 'node:crypto';
import { parseName, parsePhone } from '../domain/application-intake';
import { DomainError, fieldRef, invalidField, ValidationErrors } from '../domain/errors';
import { identityFields, identityKey, parseIdentityDocumentOf } from '../domain/identity-documents';
import { durationToMs, parseIsoDuration } from '../domain/calendar';
import type { Actor } from '../domain/actor';
import { forbidden } from '../domain/refusals';
import { changeRequestWorkflow } from '../workflows/change-request';
import { caseRecordSignal } from '../workflows/application-messages';
import { personalData } from '../infra/crypto/personal-data';
import { logger } from '../infra/observability/logger';
import type { Deps } from './deps';
import { changeOutcome, changeWorkflowId, derivedId, liveSealStatus, loadSeal } from './seal-lifecycle';

export const COMPROMISE_REPORTS = ['lost', 'compromised'] as const;

export async function reportSealCompromise(deps: Deps, actor: Actor, sealId: string, body: Record<string, unknown>, idempotencyKey?: string) {
  const seal = await loadSeal(deps, sealId);
  const allowed = (actor.role === 'holder' && actor.holderId === seal.holder_id) || (actor.role === 'officer' && actor.districtCode === seal.district_code);
  if (!allowed) throw forbidden('Only the holder of this seal or an officer of its district may report it lost or compromised', '只有印章所属单位或所在辖区的民警可以报告印章遗失或密钥泄露');

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
  const b = body ?? {};
  const report = b.report;
  if (!COMPROMISE_REPORTS.includes(report as (typeof COMPROMISE_REPORTS)[number])) {
    errors.push(invalidField(fieldRef('report', '报告事项', 'Report'), '应为 lost（遗失）或 compromised（密钥泄露）', 'must be lost or compromised'));
  }
  const invalidityField = fieldRef('invalidity_date', '失效时间（已知或怀疑泄露之时）', 'Invalidity date (since when the key is known or suspected compromised)');
  let invalidityDate: string | null = null;
  if (b.invalidity_date !== undefined && b.invalidity_date !== null && b.invalidity_date !== '') {
    const d = typeof b.invalidity_date === 'string' && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(b.invalidity_date) ? new Date(b.invalidity_date) : null;
    if (!d || Number.isNaN(d.getTime())) errors.push(invalidField(invalidityField, '应为带时区的 ISO 8601 时间，如 2026-12-01T09:00:00+08:00', 'must be an ISO 8601 time with its offset, e.g. 2026-12-01T09:00:00+08:00'));
    else if (d.getTime() > Date.now()) errors.push(invalidField(invalidityField, '不能晚于现在', 'cannot be in the future'));
    else invalidityDate = d.toISOString();
  }
  const handlerName = check(() => parseName(b.handler_name, fieldRef('handler_name', '经办人姓名', 'Handler name'), 50));
  const handlerId = check(() => identityKey(parseIdentityDocumentOf(b, 'handler_', identityFields('handler_', '经办人', "Handler's"))));
  const handlerPhone = check(() => parsePhone(b.handler_phone, fieldRef('handler_phone', '经办人联系电话', "Handler's phone")));
  const reasonText = b.reason ? check(() => parseName(b.reason, fieldRef('reason', '情况说明', 'Account of what happened'), 500)) : null;
  if (errors.length === 1) throw errors[0];
  if (errors.length > 1) throw new ValidationErrors(errors);

  const current = await liveSealStatus(deps, seal);
  if (!current || current.status === 'cancelled') {
    throw new DomainError({ code: 'WRONG_STATE', messageZh: '印章未在使用或已登出，不能报告遗失或密钥泄露', messageEn: `Cannot report a seal that is ${seal.status} as lost or compromised`, httpStatus: 409, details: { sealStatus: seal.status } });
  }

  // Workflow first (10.5), as for other lifecycle requests: the report's workflow is started before anything is
  // stored and drives the seal's Update (key destroyed, certificate revoked) once the rows are there, so a crash
  // in between never leaves a revoked seal without its filing. The id comes from the request's key: a retry finds it.
  const caseId = idempotencyKey ? derivedId('compromise', `${actor.userId}\n${sealId}`, idempotencyKey) : randomUUID();
  if (await deps.db('cases').where({ id: caseId }).first('id')) return compromiseOutcome(deps, caseId, sealId);
  const pd = personalData(deps);
  const at = (column: string) => ({ table: 'cases', column, row: caseId });
  const [handlerIdEnc, handlerPhoneEnc] = await Promise.all([pd.protectId(handlerId!, at('handler_id_number')), pd.encrypt(handlerPhone!, at('handler_phone'))]);
  const workflow = await deps.temporal.workflow.start(changeRequestWorkflow, {
    taskQueue: deps.config.temporal.taskQueues.main,
    workflowId: changeWorkflowId(caseId),
    workflowIdConflictPolicy: 'USE_EXISTING',
    workflowIdReusePolicy: 'REJECT_DUPLICATE',
    args: [{
      caseId,
      kind: 'compromise',
      districtCode: seal.district_code,
      filingDeadlineMs: durationToMs(parseIsoDuration(deps.config.durations.filingDeadline)),
      apply: { sealId, change: 'compromise', reason: null, revocationReason: 'keyCompromise', invalidityDate, hsmTaskQueue: deps.config.temporal.taskQueues.hsm, replacement: null },
    }],
  });
  const tell = (stored: boolean) => workflow.signal(caseRecordSignal, { stored }).catch((e: Error) => logger.warn({ caseId }, `the workflow will look for its rows itself (${e.message})`));
  try {
    await deps.db.transaction(async (trx) => {
      await trx('cases').insert({
        id: caseId,
        kind: 'compromise',
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
        request_reason: [report, invalidityDate && `invalidity ${invalidityDate}`, reasonText].filter(Boolean).join(': '),
        created_by: actor.userId,
      });
      await trx('case_events').insert({ case_id: caseId, event_key: '0:requested', type: 'requested', data: JSON.stringify({ kind: 'compromise', report, sealStatus: current.status }), actor_id: actor.userId, at: new Date() });
    });
  } catch (e) {
    if ((e as { constraint?: string }).constraint === 'cases_pkey') return compromiseOutcome(deps, caseId, sealId); // the same key raced itself
    await tell(false);
    throw e;
  }
  await tell(true);
  return compromiseOutcome(deps, caseId, sealId);
}

/** What the report's workflow did (or `processing` when its workers are down: it will; a retry answers again). */
async function compromiseOutcome(deps: Pick<Deps, 'db'>, caseId: string, sealId: string) {
  const outcome = await changeOutcome(deps, caseId, sealId, 'compromise');
  const after = await deps.db('seals').where({ id: sealId }).first('status', 'revoked_at', 'invalidity_date');
  return { case_id: caseId, seal_id: sealId, status: outcome.status, seal_status: after.status, revoked_at: after.revoked_at, invalidity_date: after.invalidity_date };
}
