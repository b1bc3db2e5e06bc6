// A forgotten protection password is reset only through an application approved by the district's police
// (C3): a `cases` row of kind 'password_reset' whose officer task and decision live in its workflow (approval
// calls approvePasswordReset in activities/password-reset-link.ts), then the keeper's one-time link.
import { type Client } from '@temporalio/client';
import { passwordResetWorkflow } from '../workflows/password-reset';
import { caseRecordSignal } from '../workflows/application-messages';
import { randomUUID } from 'node:crypto';
import type { Config } from '../infra/config';
import { personalData } from '../infra/crypto/personal-data';
import { hashPassword } from '../infra/passwords';
import { parseName, parsePhone } from '../domain/application-intake';
import { conflict, DomainError, notFound, ValidationCollector } from '../domain/errors';
import { assertPasswordPolicy } from '../domain/protection-password';
import { maskIdentityKey } from '../domain/identity-documents';
import type { Actor } from '../domain/actor';
import { assertNotCancelled, loadSeal, logEvent, sha256Hex, type KeeperRow } from '../infra/custody';
import { logger } from '../infra/observability/logger';
import { F, KeeperDeps, PdDeps, assertHolderOf, keeperPlace, keeperView, obj, parseKeeperId, passwordContext, passwordExpiryFrom, passwordStatus, requireKeeper } from './custody';
import { registerSuccessfulAttemptRow } from './protection-passwords';

const RESET_TOKEN = /^[A-Za-z0-9_-]{43}$/; // 32 bytes, base64url without padding

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

/**
 * The keeper sets a new password through the link (once; a used or expired link is refused). The lockout
 * is cleared, the expiry restarts, and any other open link of the seal is voided.
 */
export async function resetPasswordWithLink(deps: KeeperDeps, token: string, newPassword: unknown, now: Date = new Date()) {
  const unknown = () => notFound('RESET_LINK_UNKNOWN', '重置链接不存在', 'Reset link not found');
  if (typeof token !== 'string' || !RESET_TOKEN.test(token)) throw unknown();
  const tokenSha = sha256Hex(token);
  const link = await deps.db('password_reset_links').where({ token_sha256: tokenSha }).first();
  if (!link) throw unknown();
  const gone = (code: string, zh: string, en: string) => new DomainError({ code, messageZh: zh, messageEn: en, httpStatus: 410 });
  const used = () => gone('RESET_LINK_USED', '重置链接已使用过，不能再次使用', 'This reset link has already been used');
  if (link.used_at) throw used();
  if (now >= link.expires_at) throw gone('RESET_LINK_EXPIRED', '重置链接已过期（有效期24小时），请重新申请', 'This reset link has expired (valid 24 hours); apply again');
  const seal = await loadSeal(deps.db, link.seal_id);
  assertNotCancelled(seal);
  const keeper: KeeperRow | undefined = await deps.db('seal_keepers').where({ id: link.keeper_id }).whereNull('removed_at').first();
  if (!keeper) throw conflict('KEEPER_REMOVED', '该链接的保管人已不是此印章的保管人', 'The keeper of this link is no longer a keeper of this seal');
  const password = assertPasswordPolicy(newPassword, passwordContext(seal, await personalData(deps).decrypt(keeper.id_number, keeperPlace(keeper.id))));
  const hash = await hashPassword(password);
  await deps.db.transaction(async (trx) => {
    const consumed = await trx('password_reset_links').where({ token_sha256: tokenSha }).whereNull('used_at').where('expires_at', '>', now).update({ used_at: now }).returning('token_sha256');
    if (consumed.length === 0) throw used();
    const row = { hash, set_by_keeper_id: keeper.id, set_at: now, expires_at: passwordExpiryFrom(deps, now), ...registerSuccessfulAttemptRow() };
    await trx('protection_passwords').insert({ seal_id: seal.id, ...row }).onConflict('seal_id').merge(row);
    await trx('password_reset_links').where({ seal_id: seal.id }).whereNull('used_at').where('expires_at', '>', now).update({ expires_at: now });
    await logEvent(trx, seal.case_id, 'protection_password_reset', { seal_id: seal.id, keeper_id: keeper.id, reset_case_id: link.case_id }, null, now);
  });
  return passwordStatus(deps.db, seal.id, now);
}

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
