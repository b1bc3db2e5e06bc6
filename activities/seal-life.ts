// Activities of a seal's life after issue: its status in PostgreSQL (database queue) and the CRL that
// publishes it (HSM queue: signed by the issuing CA key).
import type { Db } from '../infra/db';
import type { Hsm } from '../infra/hsm/hsm';
import { generateCrl } from '../infra/pki/crl';
import type { SealLifeStatus } from '../workflows/seal-messages';

export function createSealLifeDbActivities(db: Db) {
  return {
    /** Suspension puts the certificate on hold; resumption lifts it; stopping revokes it for good. */
    async setSealLifeStatus({ sealId, status, at }: { sealId: string; status: Exclude<SealLifeStatus, 'cancelled'>; at: string }) {
      const patch =
        status === 'suspended'
          ? { status, hold_since: db.raw('coalesce(hold_since, ?::timestamptz)', [at]) }
          : status === 'active'
            ? { status, hold_since: null }
            : { status, hold_since: null, stopped_at: db.raw('coalesce(stopped_at, ?::timestamptz)', [at]), revoked_at: db.raw('coalesce(revoked_at, ?::timestamptz)', [at]), revocation_reason: db.raw("coalesce(revocation_reason, 'cessationOfOperation')") };
      await db('seals').where({ id: sealId }).whereNot({ status: 'cancelled' }).update(patch);
    },
  };
}

export function createSealLifeHsmActivities(deps: { db: Db; hsm: Hsm; crlNextUpdateHours: number }) {
  return {
    /** A new CRL (next number) from the current state of every seal certificate. */
    async regenerateCrl(_: Record<string, never>): Promise<{ crlNumber: string }> {
      const crl = await generateCrl(deps.hsm, deps.db, { nextUpdateHours: deps.crlNextUpdateHours });
      return { crlNumber: String(crl.crlNumber) };
    },
  };
}
