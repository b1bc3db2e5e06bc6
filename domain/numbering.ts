/**
 * A1: a holder has at most one live legal-name seal; the same business-purpose seal may exist several times,
 * told apart by Arabic numerals shown on the seal: 合同专用章(1), 合同专用章(2), …
 *
 * Numbering decisions:
 * - Only business-purpose seals 业务专用章 are numbered. Each business kind has its own sequence per holder,
 *   starting at 1; the first seal is (1), so every business seal shows its number and a later second seal
 *   never forces the first one to be re-made.
 * - The next number is max(all numbers ever used for that kind) + 1. Numbers of cancelled seals are never
 *   reused, and gaps are never filled: documents signed with a cancelled 合同专用章(2) stay in circulation,
 *   and the public-security filing, the certificate and the imprint all carry "(2)", so a verifier must be
 *   able to tell from the number alone which seal signed. Reusing a number would make two different seals
 *   look identical on paper.
 * - Legal-name, internal-department, branch and personal name seals are not numbered (they are told apart by
 *   their text: the department's or branch's name, the person's name).
 */
import { conflict, FIELDS, invalidField } from './errors';
import {
  type BusinessSealKind,
  isBusinessSealKind,
  isLiveSealStatus,
  SEAL_KIND_LABELS,
  type SealKind,
  type SealStatus,
} from './seals';

/** The part of a seal record the numbering rules look at. */
export interface NumberedSealRecord {
  readonly id?: string;
  readonly kind: SealKind;
  readonly status: SealStatus;
  /** Arabic number of a business seal; absent for other kinds. */
  readonly number?: number | null;
}

/**
 * A1: throws a DomainError (HTTP 409, code LEGAL_NAME_SEAL_EXISTS) when the holder already has a live
 * legal-name seal (any status but cancelled; see {@link isLiveSealStatus}).
 */
export function assertNoLiveLegalNameSeal(existingSeals: readonly NumberedSealRecord[]): void {
  const live = existingSeals.find((s) => s.kind === 'legal_name' && isLiveSealStatus(s.status));
  if (live !== undefined) {
    throw conflict(
      'LEGAL_NAME_SEAL_EXISTS',
      '该单位已有一枚未注销的法定名称章，只能申请一枚；如需更换，请先注销原印章',
      'the holder already has a live legal-name seal and may have only one; cancel it first to replace it',
      { existingSealId: live.id, existingStatus: live.status },
    );
  }
}

function assertValidNumber(n: number): void {
  if (!Number.isSafeInteger(n) || n < 1) {
    throw new RangeError(`business seal numbers are positive integers, got ${String(n)}`);
  }
}

/**
 * The number for a new business seal of one kind, given every number ever used for that kind by the holder
 * (live and cancelled): max + 1, or 1 for the first. Gaps are not filled and numbers never reused.
 */
export function nextBusinessSealNumber(existingNumbersOfThatKind: readonly number[]): number {
  let max = 0;
  for (const n of existingNumbersOfThatKind) {
    assertValidNumber(n);
    if (n > max) max = n;
  }
  return max + 1;
}

/** {@link nextBusinessSealNumber} over a holder's seal records (all statuses count). */
export function nextBusinessSealNumberFor(existingSeals: readonly NumberedSealRecord[], kind: BusinessSealKind): number {
  const numbers: number[] = [];
  for (const s of existingSeals) {
    if (s.kind === kind && s.number !== undefined && s.number !== null) numbers.push(s.number);
  }
  return nextBusinessSealNumber(numbers);
}

/**
 * For seals filed from another system (I2) that arrive with their own number: throws a DomainError (409)
 * when that number was already used for that kind (live or cancelled), or (400) when it is not a positive
 * integer.
 */
export function assertBusinessSealNumberAvailable(
  existingSeals: readonly NumberedSealRecord[],
  kind: BusinessSealKind,
  number: number,
): void {
  if (!Number.isSafeInteger(number) || number < 1) {
    throw invalidField(FIELDS.sealNumber, '应为正整数', 'must be a positive whole number', {
      code: 'SEAL_NUMBER_INVALID',
      details: { number },
    });
  }
  const used = existingSeals.find((s) => s.kind === kind && s.number === number);
  if (used !== undefined) {
    const label = SEAL_KIND_LABELS[kind];
    throw conflict(
      'SEAL_NUMBER_USED',
      `${label.zh}(${number})已被使用，编号不得重复使用`,
      `${label.en} (${number}) has already been used; numbers are never reused`,
      { kind, number, existingSealId: used.id, existingStatus: used.status },
    );
  }
}

/**
 * The label shown on the seal and in lists: 合同专用章(2) / "Contract seal (2)". A business seal needs its
 * number; other kinds take none.
 */
export function sealDisplayLabel(kind: SealKind, number?: number | null): { zh: string; en: string } {
  const label = SEAL_KIND_LABELS[kind];
  if (isBusinessSealKind(kind)) {
    if (number === undefined || number === null) throw new RangeError(`a ${kind} seal needs its number`);
    assertValidNumber(number);
    return { zh: `${label.zh}(${number})`, en: `${label.en} (${number})` };
  }
  if (number !== undefined && number !== null) throw new RangeError(`a ${kind} seal is not numbered`);
  return { zh: label.zh, en: label.en };
}
