// A forgotten protection password is reset only through an application approved by the district's police
// (C3): a `cases` row of kind 'password_reset' whose officer task and decision live in its workflow (approval
// calls approvePasswordReset in activities/password-reset-link.ts), then the keeper's one-time link.
import { type Client } from '@temporalio/client';
import { passwordResetWorkflow } from '../workflows/password-reset';
import { caseRecordSignal } from '../workflows/application-messages';
import { randomUUID } from 'node:crypto';
import type { Config } from '../infra/config';
import { personalData } from '../infra/crypto/personal-data';
import { parseName, parsePhone } from '../domain/application-intake';
import { conflict, ValidationCollector } from '../domain/errors';
import { maskIdentityKey } from '../domain/identity-documents';
import type { Actor } from '../domain/actor';
import { assertNotCancelled, loadSeal, logEvent } from '../infra/custody';
import { logger } from '../infra/observability/logger';
import { F, PdDeps, assertHolderOf, keeperView, obj, parseKeeperId, requireKeeper } from './custody';


// ---------- reset through public security (C3) ----------

/**
 * Holder staff apply for a reset for one of the seal's keepers (`{ id_number, phone, reason }`): a case of
 * kind 'password_reset' in the holder's district, with the keeper as the handler who appears at the police
 * office. The officer's task and decision are the workflow's; approval calls approvePasswordReset (activities/password-reset-link.ts).
 */
export async function requestPasswordReset(deps: PdDeps & { temporal: Client; config: Config }, actor: Actor, sealId: string, body: unknown, now = new Date()) {
  const seal = await loadSeal(deps.db, sealId);
  assertHolderOf(actor, seal);
  assertNotCancelled(seal);
  const b = obj(body);
  const v = new ValidationCollector();
  const idNumber = v.check(() => parseKeeperId(b, now));
  const phone = v.check(() => parsePhone(b.phone, F.phone));
  const reason = v.check(() => parseName(b.reason, F.reason, 500));
  v.throwIfAny();
  const keeper = await requireKeeper(deps, seal.id, idNumber!);
  if (!(await deps.db('protection_passwords').where({ seal_id: seal.id }).first('seal_id'))) {
    throw conflict('NO_PASSWORD', '此印章尚未设置保护口令，无需重置，请直接设置', 'This seal has no protection password; set one instead of resetting');
  }
  const caseId = randomUUID();
  const pd = personalData(deps);
  // P1: each value is bound to its row, so the keeper's ID number is encrypted afresh for the new case.
  const [phoneEnc, idEnc] = await Promise.all([pd.encrypt(phone!, { table: 'cases', column: 'handler_phone', row: caseId }), pd.encrypt(idNumber!, { table: 'cases', column: 'handler_id_number', row: caseId })]);
  // Workflow first (10.5): the case's workflow exists before its row, so an outage stores nothing (503) and no
  // reset case is ever left without the officer's task; it waits for the row (workflows/case-record.ts).
  const workflow = await startPasswordResetCase(deps, caseId, seal.district_code, { startedBeforeRows: true });
  const tell = (stored: boolean) => workflow.signal(caseRecordSignal, { stored }).catch((e: Error) => logger.warn({ caseId }, `the workflow will look for its row itself (${e.message})`));
  await deps.db.transaction(async (trx) => {
    await trx('cases').insert({
      id: caseId,
      kind: 'password_reset',
      subject_seal_id: seal.id,
      request_reason: reason,
      maker_id: seal.maker_id,
      holder_id: seal.holder_id,
      district_code: seal.district_code, // P3: the district of the holder's registered address
      status: 'submitted',
      language: seal.language,
      handler_name: keeper.name,
      handler_id_number: idEnc,
      handler_id_number_hmac: keeper.id_number_hmac,
      handler_phone: phoneEnc,
      created_by: actor.userId,
      created_at: now,
      updated_at: now,
    });
    const data = { kind: 'password_reset', seal_id: seal.id, keeper_id: keeper.id, id_number_masked: maskIdentityKey(idNumber!) };
    await trx('case_events').insert({ case_id: caseId, event_key: '0:requested', type: 'requested', data: JSON.stringify(data), actor_id: actor.userId, at: now });
    await logEvent(trx, seal.case_id, 'protection_password_reset_requested', { ...data, reset_case_id: caseId }, actor.userId, now);
  }).catch(async (e: unknown) => {
    await tell(false);
    throw e;
  });
  await tell(true);
  return { case_id: caseId, kind: 'password_reset', status: 'submitted', district_code: seal.district_code, seal_id: seal.id, keeper: keeperView(keeper, idNumber!) };
}

// The one-time reset page (the keeper proves identity with the ID number and an SMS code): usecases/password-reset-page.ts.

// ---------- the workflow (C3 approval) ----------

/** C3: the reset application becomes a task for the officer of the seal's district (started, or found: same id). */
export async function startPasswordResetCase(deps: { temporal: Client; config: Config }, caseId: string, districtCode: string, opts: { startedBeforeRows?: boolean } = {}) {
  return deps.temporal.workflow.start(passwordResetWorkflow, {
    taskQueue: deps.config.temporal.taskQueues.main,
    workflowId: `change:${caseId}`,
    workflowIdConflictPolicy: 'USE_EXISTING',
    workflowIdReusePolicy: 'REJECT_DUPLICATE',
    args: [{ caseId, districtCode, ...opts }],
  });
}
