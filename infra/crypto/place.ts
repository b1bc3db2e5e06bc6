// Where an encrypted value lives (P1). Its AES-GCM additional data names the place, so a ciphertext copied
// into another row or column by someone with write access to the database fails to authenticate there
// instead of being read as that row's value.
import { DomainError } from '../../domain/errors';

/** Table and column, and the row's stable key where it is known at write time (case, seal, keeper row id). */
export interface Place {
  table: string;
  column: string;
  /** For files: the holder (materials carry over between one holder's cases, so a case id would not hold). */
  row?: string | null;
}

/** Files (materials, letters, on-site images) are bound to their holder: they carry over between its cases. */
export const materialPlace = (holderId: string): Place => ({ table: 'materials', column: 'blob_sha256', row: holderId });

export const placeName = (p: Place) => `${p.table}.${p.column}${p.row ? `[${p.row}]` : ''}`;

/** Unambiguous (NUL-separated; none of the parts contains NUL). */
export const placeAad = (p: Place) => Buffer.from(`eseal-personal-data-v2\u0000${p.table}\u0000${p.column}\u0000${p.row ?? ''}`, 'utf8');

/**
 * A stored value that does not authenticate at its place: altered, or moved from elsewhere. Never served. A
 * DomainError (bilingual, HTTP 500), `retryable` like a corrupted file: an operator can restore the row.
 */
export class PersonalDataIntegrityError extends DomainError {
  constructor(readonly place: Place, readonly reason: string) {
    super({
      code: 'PERSONAL_DATA_INTEGRITY',
      httpStatus: 500,
      retryable: true,
      messageZh: `存储的个人信息（${place.table}.${place.column}）未通过完整性校验：已被改动或来自其他记录，不予读取；已记录并通知运维`,
      messageEn: `Stored personal data (${place.table}.${place.column}) failed its integrity check: altered or taken from another record, so it is not read; this has been logged for the operators`,
    });
    this.name = 'PersonalDataIntegrityError';
    this.message = `personal data in ${placeName(place)} could not be authenticated (${reason}): altered, or written for another row or column; refused`;
  }
}
