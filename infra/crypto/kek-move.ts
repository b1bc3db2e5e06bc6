// M4: the keys of personal data move from the single token of earlier versions (now the issuing token, which
// the web never opens) to the web token's KEK. Each wrapped data key is unwrapped under the old KEK and
// wrapped under the new one — its clear value is in Node's memory at that moment, as whenever personal data
// is read — and its row updated only as read (compare-and-set), so a crash midway leaves every row under one
// KEK or the other and a rerun goes on. Then the old KEK is destroyed. Run by provisioning (the owner's
// connection: the application role cannot update these rows); audited.
import type { Db } from '../db';
import type { Hsm } from '../hsm/hsm';
import { appendAudit } from '../audit/log';
import { LEGACY_PERSONAL_DATA_KEK_LABEL, PERSONAL_DATA_KEK_LABEL } from './personal-data';

export interface KekMoveReport {
  moved: number;
  legacyKekDestroyed: boolean;
}

/** Idempotent: nothing to do once no row names the legacy KEK and the old token no longer holds it. */
export async function movePersonalDataKeys(db: Db, from: Hsm, to: Hsm): Promise<KekMoveReport> {
  const legacy = await from.hasSecretKey(LEGACY_PERSONAL_DATA_KEK_LABEL);
  await to.ensureAesWrappingKey(PERSONAL_DATA_KEK_LABEL);
  let moved = 0;
  for (;;) {
    const rows: Array<{ id: string; wrapped_key: Buffer }> = await db('personal_data_keys').where({ kek_label: LEGACY_PERSONAL_DATA_KEK_LABEL }).orderBy('id').limit(500).select('id', 'wrapped_key');
    if (rows.length === 0) break;
    if (!legacy) throw new Error(`${rows.length}+ personal-data keys are wrapped under "${LEGACY_PERSONAL_DATA_KEK_LABEL}", which is not on token "${from.tokenLabel}": restore that key (or the token) and start again`);
    for (const row of rows) {
      const wrapped = await to.wrapDataKey(PERSONAL_DATA_KEK_LABEL, await from.unwrapDataKey(LEGACY_PERSONAL_DATA_KEK_LABEL, row.wrapped_key));
      moved += await db('personal_data_keys').where({ id: row.id, kek_label: LEGACY_PERSONAL_DATA_KEK_LABEL, wrapped_key: row.wrapped_key }).update({ kek_label: PERSONAL_DATA_KEK_LABEL, wrapped_key: wrapped });
    }
  }
  const legacyKekDestroyed = legacy && (await from.destroySecretKey(LEGACY_PERSONAL_DATA_KEK_LABEL)) > 0;
  if (moved > 0 || legacyKekDestroyed) {
    await appendAudit(db, { action: 'hsm.personal_data_keys_moved', outcome: 'ok', targetType: 'personal_data_keys', details: { moved, from: { token: from.tokenLabel, kek: LEGACY_PERSONAL_DATA_KEK_LABEL }, to: { token: to.tokenLabel, kek: PERSONAL_DATA_KEK_LABEL }, legacyKekDestroyed } });
  }
  return { moved, legacyKekDestroyed };
}
