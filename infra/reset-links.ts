// C3: one-time links of an approved password reset (password_reset_grants). A link is minted where it is handed
// over — the e-mail or SMS being sent to the holder's accounts, the holder's inbox being opened — and only its
// SHA-256 is stored; every link of a grant ends with the grant (its validity, its use, its lock).
import type { Knex } from 'knex';
import type { Db } from './db';
import { newResetToken } from './custody';

/** A grant's links can still be opened: approved, not used, not locked, not expired. */
export const openGrant = (db: Db | Knex.Transaction, caseId: string, now: Date) =>
  db('password_reset_grants').where({ case_id: caseId }).whereNull('used_at').whereNull('locked_at').where('expires_at', '>', now).first();

/**
 * A new link of the case's open grant, or null when the grant is closed (used, locked, expired, never made).
 * `mintedFor` names the hand-over (a delivery's idempotency key): a retry of it voids the link the failed
 * attempt minted, whose token nobody received.
 */
export async function mintResetLink(db: Db, caseId: string, mintedFor: string, now: Date = new Date()): Promise<string | null> {
  return db.transaction(async (trx) => {
    const grant = await openGrant(trx, caseId, now);
    if (!grant) return null;
    const { token, sha256 } = newResetToken();
    await trx('password_reset_links').where({ case_id: caseId, minted_for: mintedFor }).whereNull('used_at').where('expires_at', '>', now).update({ expires_at: now });
    await trx('password_reset_links').insert({ token_sha256: sha256, seal_id: grant.seal_id, keeper_id: grant.keeper_id, case_id: caseId, expires_at: grant.expires_at, minted_for: mintedFor });
    return token;
  });
}
