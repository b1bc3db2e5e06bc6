// The reset link's step of the password-reset workflow (C3): after the officer's approval the seal's
// keeper gets a one-time link. Called by activities/seal-life.ts (issuePasswordResetLink).
import type { Db } from '../infra/db';
import { RESET_LINK_TTL_MS } from '../domain/protection-password';
import { activeKeeper, assertNotCancelled, loadSeal, logEvent, newResetToken } from '../infra/custody';
import { conflict, notFound } from '../domain/errors';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * After the officer's approval: the one-time reset link of the case's keeper, valid 24 hours, stored as the
 * SHA-256 of its token only. The token is made where it is handed over (the approving officer's answer,
 * usecases/applications.decideTask); the workflow's activity passes only its hash. Idempotent for one hash
 * (an activity retry); a new hash voids the case's earlier links.
 */
export async function approvePasswordReset(
  db: Db,
  caseId: string,
  now: Date = new Date(),
  issued: { token?: string; sha256: string } = newResetToken(),
): Promise<{ token: string | null; expiresAt: Date; sealId: string; keeperId: string }> {
  if (!UUID.test(caseId)) throw notFound('CASE_NOT_FOUND', '案件不存在', 'Case not found');
  if (!/^[0-9a-f]{64}$/.test(issued.sha256)) throw new Error('approvePasswordReset: not a SHA-256');
  const c = await db('cases').where({ id: caseId }).first('id', 'kind', 'subject_seal_id', 'handler_id_number_hmac');
  if (!c || c.kind !== 'password_reset') throw notFound('PASSWORD_RESET_CASE_NOT_FOUND', '口令重置申请不存在', 'Password reset application not found');
  const seal = await loadSeal(db, c.subject_seal_id);
  assertNotCancelled(seal);
  // By the keyed hash: this runs in an activity of the main worker, which holds no HSM session.
  const keeper = c.handler_id_number_hmac ? await activeKeeper(db, seal.id, c.handler_id_number_hmac) : undefined;
  if (!keeper) throw conflict('KEEPER_REMOVED', '申请重置口令的人员已不是此印章的保管人', 'The person the reset was requested for is no longer a keeper of this seal');
  const expiresAt = new Date(now.getTime() + RESET_LINK_TTL_MS);
  await db.transaction(async (trx) => {
    const seen = await trx('password_reset_links').where({ token_sha256: issued.sha256 }).first('expires_at');
    if (seen) return; // issued already (a retry)
    await trx('password_reset_links').where({ case_id: caseId }).whereNull('used_at').where('expires_at', '>', now).update({ expires_at: now });
    await trx('password_reset_links').insert({ token_sha256: issued.sha256, seal_id: seal.id, keeper_id: keeper.id, case_id: caseId, expires_at: expiresAt });
    await logEvent(trx, caseId, 'password_reset_link_issued', { seal_id: seal.id, keeper_id: keeper.id, expires_at: expiresAt.toISOString() }, null, now);
  });
  return { token: issued.token ?? null, expiresAt, sealId: seal.id, keeperId: keeper.id };
}
