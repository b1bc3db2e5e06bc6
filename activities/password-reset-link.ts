// The approval step of the password-reset workflow (C3): after the officer's approval the case gets a grant —
// the keeper it was requested for, valid `durations.resetLinkValidity` — whose one-time links are minted where
// they are handed over (infra/reset-links.ts). Called by activities/seal-life.ts (issuePasswordResetLink).
import type { Db } from '../infra/db';
import { addIsoDuration } from '../domain/calendar';
import { activeKeeper, assertNotCancelled, loadSeal, logEvent } from '../infra/custody';
import { conflict, notFound } from '../domain/errors';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * After the officer's approval: the case's grant, valid from `now` for `validity` (ISO 8601). Idempotent (an
 * activity retry finds the grant made). Refused when the keeper was removed or the seal cancelled meanwhile.
 */
export async function approvePasswordReset(db: Db, caseId: string, now: Date = new Date(), validity = 'PT24H'): Promise<{ expiresAt: Date; sealId: string; keeperId: string }> {
  if (!UUID.test(caseId)) throw notFound('CASE_NOT_FOUND', '案件不存在', 'Case not found');
  const c = await db('cases').where({ id: caseId }).first('id', 'kind', 'subject_seal_id', 'handler_id_number_hmac');
  if (!c || c.kind !== 'password_reset') throw notFound('PASSWORD_RESET_CASE_NOT_FOUND', '口令重置申请不存在', 'Password reset application not found');
  const seen = await db('password_reset_grants').where({ case_id: caseId }).first('expires_at', 'seal_id', 'keeper_id');
  if (seen) return { expiresAt: seen.expires_at, sealId: seen.seal_id, keeperId: seen.keeper_id };
  const seal = await loadSeal(db, c.subject_seal_id);
  assertNotCancelled(seal);
  // By the keyed hash: this runs in an activity of the main worker, which holds no HSM session.
  const keeper = c.handler_id_number_hmac ? await activeKeeper(db, seal.id, c.handler_id_number_hmac) : undefined;
  if (!keeper) throw conflict('KEEPER_REMOVED', '申请重置口令的人员已不是此印章的保管人', 'The person the reset was requested for is no longer a keeper of this seal');
  const expiresAt = addIsoDuration(now, validity);
  await db.transaction(async (trx) => {
    const inserted = await trx('password_reset_grants')
      .insert({ case_id: caseId, seal_id: seal.id, keeper_id: keeper.id, approved_at: now, expires_at: expiresAt })
      .onConflict('case_id')
      .ignore()
      .returning('case_id');
    if (inserted.length === 0) return;
    // An earlier approved reset of the seal ends with this one: one open reset per seal.
    await trx('password_reset_grants').where({ seal_id: seal.id }).whereNot({ case_id: caseId }).whereNull('used_at').where('expires_at', '>', now).update({ expires_at: now });
    await trx('password_reset_links').where({ seal_id: seal.id }).whereNull('used_at').where('expires_at', '>', now).update({ expires_at: now });
    await logEvent(trx, caseId, 'password_reset_link_issued', { seal_id: seal.id, keeper_id: keeper.id, expires_at: expiresAt.toISOString() }, null, now);
  });
  return { expiresAt, sealId: seal.id, keeperId: keeper.id };
}
