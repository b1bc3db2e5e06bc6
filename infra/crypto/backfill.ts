// Encrypts personal data written before encryption at rest existed (P1). Run at start-up by the stack (it
// holds the HSM); idempotent: only values not yet `pd1:` are touched, in batches.
import type { Db } from '../db';
import type { Hsm } from '../hsm/hsm';
import { isEncryptedField, PersonalData } from './personal-data';

/** Every personal-data column stored encrypted, and whether it also has a keyed hash (`<column>_hmac`). */
export const ENCRYPTED_COLUMNS: ReadonlyArray<{ table: string; column: string; hashed: boolean }> = [
  { table: 'cases', column: 'handler_id_number', hashed: true },
  { table: 'cases', column: 'handler_phone', hashed: false },
  { table: 'cases', column: 'legal_rep_id_number', hashed: true },
  { table: 'seals', column: 'person_id_number', hashed: true },
  { table: 'seal_keepers', column: 'id_number', hashed: true },
];

export async function encryptLegacyPersonalData(db: Db, hsm: Hsm, batch = 500): Promise<number> {
  const pd = new PersonalData(db, hsm);
  let total = 0;
  for (const { table, column, hashed } of ENCRYPTED_COLUMNS) {
    for (;;) {
      const rows: Array<{ id: string; value: string }> = await db(table).whereNotNull(column).whereNot(column, 'like', 'pd1:%').limit(batch).select('id', `${column} as value`);
      if (rows.length === 0) break;
      for (const r of rows) {
        if (isEncryptedField(r.value)) continue;
        const patch: Record<string, string> = { [column]: await pd.encrypt(r.value) };
        if (hashed) patch[`${column}_hmac`] = await pd.idLookupHash(r.value);
        await db(table).where({ id: r.id, [column]: r.value }).update(patch);
      }
      total += rows.length;
    }
  }
  return total;
}
