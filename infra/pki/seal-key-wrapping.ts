// M4: the token AES key under which every seal's private key is stored wrapped. It carries an unwrap
// template (infra/hsm/hsm.ts SEAL_KEY_UNWRAP_TEMPLATE), so no one with the PIN can unwrap a seal key as
// anything but a sensitive, non-extractable, sign-only object.
//
// Tokens made by earlier versions hold the first wrapping key, `eseal-seal-key-wrapping`, which has no
// template (a CKA_UNWRAP_TEMPLATE cannot be added to an existing key). Start-up moves them: a new key object
// with the template, every live wrapped key re-wrapped under it inside the HSM (one row at a time,
// compare-and-set, so a crash midway leaves each row under one key or the other and a rerun goes on), then
// the old key destroyed. The HSM worker refuses to start while a live seal key is still under the old key.
import type { Db } from '../db';
import type { Hsm } from '../hsm/hsm';

/** The wrapping key with the unwrap template (M4). */
export const SEAL_WRAPPING_KEY_LABEL = 'eseal-seal-key-wrapping-v2';
/** The wrapping key of earlier versions, without an unwrap template: retired at start-up. */
export const LEGACY_SEAL_WRAPPING_KEY_LABEL = 'eseal-seal-key-wrapping';

export interface SealKeyWrappingReport {
  created: boolean;
  rewrapped: number;
  legacyKeyDestroyed: boolean;
}

const liveUnder = (db: Db, label: string) => db('seal_keys').where({ wrapping_key_label: label }).whereNotNull('wrapped_private_key');

/** Ensures the wrapping key with its template and moves every seal key still under the legacy key (idempotent). */
export async function ensureSealKeyWrapping(hsm: Hsm, db: Db): Promise<SealKeyWrappingReport> {
  const { created } = await hsm.ensureSealWrappingKey(SEAL_WRAPPING_KEY_LABEL);
  const legacy = await hsm.hasSecretKey(LEGACY_SEAL_WRAPPING_KEY_LABEL);
  let rewrapped = 0;
  for (;;) {
    const rows: Array<{ seal_id: string; wrapped_private_key: Buffer }> = await liveUnder(db, LEGACY_SEAL_WRAPPING_KEY_LABEL).orderBy('seal_id').limit(500).select('seal_id', 'wrapped_private_key');
    if (rows.length === 0) break;
    if (!legacy) {
      throw new Error(`${rows.length}+ seal keys are wrapped under "${LEGACY_SEAL_WRAPPING_KEY_LABEL}", which is not on token "${hsm.tokenLabel}": restore that key (or the token) and start again`);
    }
    for (const row of rows) {
      const blob = await hsm.rewrapEcKey(LEGACY_SEAL_WRAPPING_KEY_LABEL, SEAL_WRAPPING_KEY_LABEL, row.wrapped_private_key);
      // Only the row as read: a key destroyed (cancelled seal) or moved meanwhile stays as it is now.
      rewrapped += await db('seal_keys')
        .where({ seal_id: row.seal_id, wrapping_key_label: LEGACY_SEAL_WRAPPING_KEY_LABEL, wrapped_private_key: row.wrapped_private_key })
        .update({ wrapping_key_label: SEAL_WRAPPING_KEY_LABEL, wrapped_private_key: blob });
    }
  }
  const legacyKeyDestroyed = legacy && (await hsm.destroySecretKey(LEGACY_SEAL_WRAPPING_KEY_LABEL)) > 0;
  return { created, rewrapped, legacyKeyDestroyed };
}

/** For the HSM worker's start: refuses (naming the fix) while a live seal key is under a key without the template. */
export async function assertSealKeyWrapping(hsm: Hsm, db: Db): Promise<void> {
  const stale = await db('seal_keys').whereNot({ wrapping_key_label: SEAL_WRAPPING_KEY_LABEL }).whereNotNull('wrapped_private_key').count<{ n: string }[]>('* as n');
  const n = Number(stale[0].n);
  if (n > 0) {
    throw new Error(`${n} seal keys are still wrapped under "${LEGACY_SEAL_WRAPPING_KEY_LABEL}" (no unwrap template, M4): run the start-up provisioning (make up) or \`npm run hsm:rewrap-seal-keys\` first`);
  }
  await hsm.ensureSealWrappingKey(SEAL_WRAPPING_KEY_LABEL);
}
