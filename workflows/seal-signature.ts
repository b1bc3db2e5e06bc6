// One signature of a seal (U1, C4), ID `signature:<registerId>`: the HSM worker signs the signed attributes
// with the seal's key, then the use register entry is written. A short workflow rather than a bare activity
// call: it owns the two steps, so a signature that leaves the HSM always has its register entry (a worker
// lost in between is replaced and the entry still written), and the HSM queue is reached the way every
// other HSM operation is. The document never enters the history: only its SHA-256 and the signed attributes.
// 三(四): a signature under an approved use request reserves the request first and settles it at the end:
// signed, the request is used; failed (the seal suspended meanwhile, the HSM failing after its retries), it is
// handed back, approved and usable again: a failed signature does not cost the holder its approval.
import { CancellationScope, patched, proxyActivities } from '@temporalio/workflow';
import type { SealUseEntry } from '../activities/seal-signing';
import type { createSealSigningHsmActivities, createSealUseRegisterActivities } from '../activities/seal-signing';
import type { createNationalSealHsmActivities } from '../activities/national-seal';
import type { createTimestampHsmActivities, IssueTimestampInput } from '../activities/timestamps';
import type { UseApprovalActivities } from '../activities/use-approval';
import { ACTIVITY_POLICIES as P } from './activity-policies';
import { USE_RESERVATION_PATCH } from './use-reservation-patch';

export interface SealSignatureInput {
  hsmTaskQueue: string;
  toBeSignedB64: string;
  /** sm2: the seal's SM2 key (national format, an SES_Signature's TBS_Sign); default its ECDSA key (CMS). */
  keyKind?: 'ecdsa' | 'sm2';
  /** The register entry, without the signature and its time (the HSM step gives them). */
  entry: Omit<SealUseEntry, 'signatureB64' | 'signedAt' | 'timeSource'>;
  /** B-T: the signature value is timestamped (RFC 3161) and the register takes its time from the token. */
  timestamp?: boolean;
  /** 三(四): the approved use request this signature spends (reserved first; the register names its approver). */
  useRequestId?: string;
}

const register = proxyActivities<ReturnType<typeof createSealUseRegisterActivities>>({
  startToCloseTimeout: '30 seconds',
  // Database hiccups are retried; the insert is idempotent by the entry's id.
  retry: { initialInterval: '200 milliseconds', backoffCoefficient: 2, maximumInterval: '10 seconds', maximumAttempts: 10 },
});

// A refusal of the request (used, held by another signature, not approved) is a domain error: not retried.
const useApproval = proxyActivities<UseApprovalActivities>(P.dbStatement);

type SignatureOutput = { signatureB64: string; signedAt: string; registerId: string; timestampTokenB64?: string };

export async function sealSignatureWorkflow(input: SealSignatureInput): Promise<SignatureOutput> {
  if (!input.useRequestId || !patched(USE_RESERVATION_PATCH)) return signAndRecord(input);
  const reservation = { requestId: input.useRequestId, registerId: input.entry.id };
  const { approverId } = await useApproval.reserveUseApproval(reservation);
  let out: SignatureOutput;
  try {
    out = await signAndRecord({ ...input, entry: { ...input.entry, approverId } });
  } catch (e) {
    // Any failure, after its retries: nothing was signed for the holder, the request is usable again.
    await CancellationScope.nonCancellable(() => useApproval.settleUseApproval({ ...reservation, signed: false }));
    throw e;
  }
  await useApproval.settleUseApproval({ ...reservation, signed: true });
  return out;
}

async function signAndRecord(input: SealSignatureInput): Promise<SignatureOutput> {
  // Signing takes milliseconds: a short timeout lets another HSM worker take over from a dead one. A seal that
  // is not live (SealNotLive) is a domain refusal, never retried.
  const hsm = hsmActivities(input.hsmTaskQueue);
  const toSign = { sealId: input.entry.sealId, toBeSignedB64: input.toBeSignedB64 };
  const signed = input.keyKind === 'sm2' ? await hsm.signWithNationalSealKey(toSign) : await hsm.signWithSealKey(toSign);
  if (input.timestamp) {
    const ts = await hsm.timestampSignature({ signatureB64: signed.signatureB64 });
    await register.recordSealUse({ ...input.entry, signatureB64: signed.signatureB64, signedAt: ts.genTime, timeSource: 'timestamp' });
    return { ...signed, signedAt: ts.genTime, registerId: input.entry.id, timestampTokenB64: ts.tokenB64 };
  }
  await register.recordSealUse({ ...input.entry, signatureB64: signed.signatureB64, signedAt: signed.signedAt });
  return { ...signed, registerId: input.entry.id };
}

/** One RFC 3161 token for a client of POST /api/tsa (ID `timestamp:<id>`), signed in the HSM worker. */
export async function timestampWorkflow(input: { hsmTaskQueue: string; request: IssueTimestampInput }): Promise<{ tokenB64: string; genTime: string }> {
  return hsmActivities(input.hsmTaskQueue).issueTimestamp(input.request);
}

function hsmActivities(taskQueue: string) {
  return proxyActivities<ReturnType<typeof createSealSigningHsmActivities> & ReturnType<typeof createNationalSealHsmActivities> & ReturnType<typeof createTimestampHsmActivities>>({
    taskQueue,
    startToCloseTimeout: '10 seconds',
    retry: { initialInterval: '200 milliseconds', backoffCoefficient: 2, maximumInterval: '5 seconds', maximumAttempts: 5, nonRetryableErrorTypes: ['SealNotLive'] },
  });
}

/**
 * The seal's national-format data (SM2 key, SM2 certificate, GB/T 38540 SESeal), made in the HSM worker the
 * first time the seal signs an OFD document (ID `national-seal:<sealId>`: concurrent first uses share one run;
 * the activity is idempotent by seal for a run started again later).
 */
export async function nationalSealWorkflow(input: { hsmTaskQueue: string; sealId: string }): Promise<{ created: boolean }> {
  return hsmActivities(input.hsmTaskQueue).ensureNationalSeal({ sealId: input.sealId });
}
