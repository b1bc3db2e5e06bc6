// M11: a replacement (change of holder, name, legal representative or operator, or a damaged seal) cancels the
// old seal and produces a new one, "each with new materials": what the old application brought no longer
// describes the holder after a change, so its new application carries over only what still holds.

export const REPLACEMENT_REASONS = ['holder_change', 'name_change', 'legal_rep_change', 'operator_change', 'damaged'] as const;
export type ReplacementReason = (typeof REPLACEMENT_REASONS)[number];

/** The reason a replacement request recorded (its `request_reason` starts with it), or undefined. */
export function replacementReasonOf(requestReason: string | null | undefined): ReplacementReason | undefined {
  return REPLACEMENT_REASONS.find((r) => requestReason === r || requestReason?.startsWith(`${r}:`));
}

/**
 * Whether a replacement's application brings new materials: after a change of holder, name, legal
 * representative or operator the old licence, letters and IDs no longer describe the holder, so all are asked
 * anew and none is waived (A3 is for a holder newly registered, not one that changed). A damaged seal changes
 * nothing about the holder: its old materials (or its A3 waiver) still hold. An unknown reason counts as a change.
 */
export function replacementRenewsMaterials(reason: ReplacementReason | undefined): boolean {
  return reason !== 'damaged';
}

/** The materials of the old application that carry over to the replacement's (none after a change). */
export function materialsCarriedOver<T extends { kind: string }>(reason: ReplacementReason | undefined, old: readonly T[]): T[] {
  return replacementRenewsMaterials(reason) ? [] : [...old];
}
