// Brings stored personal data to the current format (P1): values stored in clear before encryption existed,
// and `pd1:` values (one fixed label, not bound to their place), are encrypted as `pd2:` bound to their
// table, column and row; material files likewise into the chunked format bound to their holder. Run at start-up by the stack and by `npm run personal-data:encrypt` (both hold the
// HSM). Idempotent: only values not yet `pd2:` are touched, in batches, each update conditional on the value
// it read (a concurrent writer wins).
import type { Db } from '../db';
import type { Hsm } from '../hsm/hsm';
import { BlobCorruptedError, BlobMissingError } from '../blobs/errors';
import type { BlobStore } from '../blobs/store';
import { BLOB_FORMAT, isCurrentField, isEncryptedField, materialPlace, PersonalData, PersonalDataIntegrityError } from './personal-data';

/** Every personal-data column stored encrypted (the row key is `id`), and whether it also has a keyed hash (`<column>_hmac`). */
export const ENCRYPTED_COLUMNS: ReadonlyArray<{ table: string; column: string; hashed: boolean }> = [
  { table: 'cases', column: 'handler_id_number', hashed: true },
  { table: 'cases', column: 'handler_phone', hashed: false },
  { table: 'cases', column: 'legal_rep_phone', hashed: false },
  { table: 'cases', column: 'legal_rep_id_number', hashed: true },
  { table: 'seals', column: 'person_id_number', hashed: true },
  { table: 'seal_keepers', column: 'id_number', hashed: true },
];

export interface BackfillCounts {
  table: string;
  column: string;
  /** Stored in clear, now encrypted. */
  fromClear: number;
  /** `pd1:`, now `pd2:` bound to the row. */
  fromV1: number;
  /** Already current (left alone). */
  current: number;
  /** Did not authenticate (altered or moved): left as they are, logged and audited, for an operator to look at. */
  refused: number;
}

/** Per column: what was rewritten and what already was current. */
export async function backfillPersonalData(db: Db, hsm: Hsm, batch = 500): Promise<BackfillCounts[]> {
  const pd = new PersonalData(db, hsm);
  const counts: BackfillCounts[] = [];
  for (const { table, column, hashed } of ENCRYPTED_COLUMNS) {
    const c: BackfillCounts = { table, column, fromClear: 0, fromV1: 0, current: 0, refused: 0 };
    let after = '';
    // Keyset paging by id: a row a concurrent writer changed is skipped, never revisited forever.
    for (;;) {
      const rows: Array<{ id: string; value: string }> = await db(table).whereNotNull(column).whereNot(column, 'like', 'pd2:%').where('id', '>', after || '00000000-0000-0000-0000-000000000000').orderBy('id').limit(batch).select('id', `${column} as value`);
      if (rows.length === 0) break;
      for (const r of rows) {
        if (isCurrentField(r.value)) continue;
        const place = { table, column, row: r.id };
        let clear: string;
        try {
          clear = await pd.decrypt(r.value, place);
        } catch (e) {
          if (!(e instanceof PersonalDataIntegrityError)) throw e;
          c.refused++;
          continue;
        }
        const patch: Record<string, string> = { [column]: await pd.encrypt(clear, place) };
        if (hashed) patch[`${column}_hmac`] = await pd.idLookupHash(clear);
        const updated = await db(table).where({ id: r.id, [column]: r.value }).update(patch);
        if (updated) {
          if (isEncryptedField(r.value)) c.fromV1++;
          else c.fromClear++;
        }
      }
      after = rows[rows.length - 1]!.id;
    }
    c.current = Number((await db(table).where(column, 'like', 'pd2:%').count({ n: '*' }).first())?.n ?? 0) - c.fromClear - c.fromV1;
    counts.push(c);
  }
  return counts;
}

export interface BlobBackfillCounts {
  /** Files (per holder) rewritten in the current format. */
  rewritten: number;
  /** Old files no longer referenced, removed from the store (their `blobs` row kept, marked erased). */
  removed: number;
  /** Did not authenticate, or missing or corrupted in the store: left as they are, logged and audited. */
  refused: number;
}

/**
 * Material files stored before the current format (clear, or ESPD1 under the fixed label): streamed through
 * decryption and encryption into a new chunked file bound to the holder, the materials repointed, and the
 * old file removed once nothing refers to it (so no clear copy stays behind). One holder's cases share a file; two holders never do after this.
 */
export async function backfillMaterialFiles(db: Db, hsm: Hsm, blobs: BlobStore): Promise<BlobBackfillCounts> {
  const pd = new PersonalData(db, hsm);
  const counts: BlobBackfillCounts = { rewritten: 0, removed: 0, refused: 0 };
  const refused = new Set<string>();
  for (;;) {
    const todo: Array<{ sha256: string; holder_id: string; content_type: string; size: number }> = await db('materials as m')
      .join('cases as c', 'c.id', 'm.case_id')
      .join('blobs as b', 'b.sha256', 'm.blob_sha256')
      .whereNull('m.blob_format')
      .whereNull('b.erased_at')
      .distinct('m.blob_sha256 as sha256', 'c.holder_id', 'b.content_type', 'b.size')
      .limit(100);
    const batch = todo.filter((t) => !refused.has(`${t.sha256}/${t.holder_id}`));
    if (batch.length === 0) break;
    for (const t of batch) {
      const place = materialPlace(t.holder_id);
      let sha256: string;
      try {
        const clear = await pd.decryptStream((await blobs.open(t.sha256)).stream, place);
        ({ sha256 } = await blobs.put(await pd.encryptStream(clear, place)));
      } catch (e) {
        // Not authenticated, or missing / corrupted in the store (the store logs and audits those): left as it is.
        if (!(e instanceof PersonalDataIntegrityError || e instanceof BlobMissingError || e instanceof BlobCorruptedError)) throw e;
        refused.add(`${t.sha256}/${t.holder_id}`);
        counts.refused++;
        continue;
      }
      const orphaned = await db.transaction(async (trx) => {
        await trx('blobs').insert({ sha256, content_type: t.content_type, size: t.size }).onConflict('sha256').ignore();
        await trx('materials')
          .where({ blob_sha256: t.sha256 })
          .whereNull('blob_format')
          .whereIn('case_id', trx('cases').where({ holder_id: t.holder_id }).select('id'))
          .update({ blob_sha256: sha256, blob_format: BLOB_FORMAT });
        const used = (await trx('materials').where({ blob_sha256: t.sha256 }).first('id')) ?? (await trx('video_segments').where({ sha256: t.sha256 }).first('id'));
        if (used) return false;
        // The row stays (M7: blobs rows are never deleted); erased_at records that its bytes are gone.
        await trx('blobs').where({ sha256: t.sha256 }).whereNull('erased_at').update({ erased_at: new Date() });
        return true;
      });
      counts.rewritten++;
      if (orphaned) {
        await blobs.delete(t.sha256);
        counts.removed++;
      }
    }
  }
  return counts;
}

/** How many values and files were rewritten (the stack's start-up log). */
export async function encryptLegacyPersonalData(db: Db, hsm: Hsm, blobs?: BlobStore, batch = 500): Promise<number> {
  const counts = await backfillPersonalData(db, hsm, batch);
  const files = blobs ? await backfillMaterialFiles(db, hsm, blobs) : { rewritten: 0 };
  return counts.reduce((n, c) => n + c.fromClear + c.fromV1, 0) + files.rewritten;
}
