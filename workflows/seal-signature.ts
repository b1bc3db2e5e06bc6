// One signature of a seal (U1, C4), ID `signature:<registerId>`: the HSM worker signs the signed attributes
// with the seal's key, then the use register entry is written. A short workflow rather than a bare activity
// call: it owns the two steps, so a signature that leaves the HSM always has its register entry (a worker
// lost in between is replaced and the entry still written), and the HSM queue is reached the way every
// other HSM operation is. The document never enters the history: only its SHA-256 and the signed attributes.
import { proxyActivities } from '@temporalio/workflow';
import type { SealUseEntry } from '../activities/seal-signing';
import type { createSealSigningHsmActivities, createSealUseRegisterActivities } from '../activities/seal-signing';

export interface SealSignatureInput {
  hsmTaskQueue: string;
  toBeSignedB64: string;
  /** The register entry, without the signature and its time (the HSM step gives them). */
  entry: Omit<SealUseEntry, 'signatureB64' | 'signedAt'>;
}

const register = proxyActivities<ReturnType<typeof createSealUseRegisterActivities>>({
  startToCloseTimeout: '30 seconds',
  // Database hiccups are retried; the insert is idempotent by the entry's id.
  retry: { initialInterval: '200 milliseconds', backoffCoefficient: 2, maximumInterval: '10 seconds', maximumAttempts: 10 },
});

export async function sealSignatureWorkflow(input: SealSignatureInput): Promise<{ signatureB64: string; signedAt: string; registerId: string }> {
  // Signing takes milliseconds: a short timeout lets another HSM worker take over from a dead one. A seal that
  // is not live (SealNotLive) is a domain refusal, never retried.
  const hsm = proxyActivities<ReturnType<typeof createSealSigningHsmActivities>>({
    taskQueue: input.hsmTaskQueue,
    startToCloseTimeout: '10 seconds',
    retry: { initialInterval: '200 milliseconds', backoffCoefficient: 2, maximumInterval: '5 seconds', maximumAttempts: 5, nonRetryableErrorTypes: ['SealNotLive'] },
  });
  const signed = await hsm.signWithSealKey({ sealId: input.entry.sealId, toBeSignedB64: input.toBeSignedB64 });
  await register.recordSealUse({ ...input.entry, signatureB64: signed.signatureB64, signedAt: signed.signedAt });
  return { ...signed, registerId: input.entry.id };
}
