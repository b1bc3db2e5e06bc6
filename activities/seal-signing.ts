// A seal signs (U1): the HSM worker signs the signed attributes of a CMS signature with the seal's wrapped
// key (unwrapped in the HSM, used, destroyed), and the main worker writes the use register entry (C4) with
// its audit entry in one transaction. Both are idempotent: a retry signs the same bytes again (any valid
// ECDSA signature will do) and finds the register entry already there.
import { createHash } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import type { Db } from '../infra/db';
import type { Hsm } from '../infra/hsm/hsm';
import { toDerEcdsaSignature } from '../infra/hsm/hsm';
import { appendAudit, type AuditActor } from '../infra/audit/log';
import { SEAL_NOT_LIVE } from '../domain/signing';

export interface SealSignInput {
  sealId: string;
  /** DER of the signed attributes (base64): a few hundred bytes, never the document. */
  toBeSignedB64: string;
}

export interface SealSignature {
  /** ECDSA-Sig-Value (DER), base64: the HSM's r||s converted for CMS. */
  signatureB64: string;
  signedAt: string;
}

export function createSealSigningHsmActivities(deps: { hsm: Hsm; db: Db }) {
  return {
    async signWithSealKey(input: SealSignInput): Promise<SealSignature> {
      const row = await deps.db('seals as s')
        .join('seal_keys as k', 'k.seal_id', 's.id')
        .where('s.id', input.sealId)
        .first('s.status', 'k.wrapping_key_label', 'k.wrapped_private_key');
      // Checked again here, right before the key is used: a suspension after the request's check wins.
      if (!row || row.status !== 'active' || !row.wrapped_private_key) {
        throw ApplicationFailure.nonRetryable(`seal ${input.sealId} is ${row?.status ?? 'unknown'}${row && !row.wrapped_private_key ? ' (key destroyed)' : ''}`, SEAL_NOT_LIVE);
      }
      const raw = await deps.hsm.signWithWrappedKey(row.wrapping_key_label, row.wrapped_private_key, Buffer.from(input.toBeSignedB64, 'base64'));
      return { signatureB64: toDerEcdsaSignature(raw).toString('base64'), signedAt: new Date().toISOString() };
    },
  };
}

export interface SealUseEntry {
  id: string;
  sealId: string;
  caseId: string;
  keeperId: string;
  approverId: string | null;
  /** 三(四): the approved use request this signature spent (none when the seal needs no approval). */
  useRequestId?: string | null;
  purpose: string;
  documentType: string;
  documentName: string;
  documentSha256: string;
  format: 'cms' | 'pades' | 'ofd';
  signatureB64: string;
  certificateSerial: string;
  signedAt: string;
  /** Where signedAt comes from: the server's clock, or the RFC 3161 token of a B-T signature. */
  timeSource?: 'server' | 'timestamp';
  requestedBy: AuditActor;
  channel: 'api' | 'web';
  clientAddress: string | null;
}

export function createSealUseRegisterActivities(db: Db) {
  return {
    /** C4: the register entry and its audit entry (hash chain), once per signature request. */
    async recordSealUse(e: SealUseEntry): Promise<{ id: string }> {
      const signatureSha256 = createHash('sha256').update(Buffer.from(e.signatureB64, 'base64')).digest('hex');
      await db.transaction(async (trx) => {
        const inserted = await trx('seal_use_register')
          .insert({
            id: e.id,
            seal_id: e.sealId,
            keeper_id: e.keeperId,
            approver_id: e.approverId,
            use_request_id: e.useRequestId ?? null,
            purpose: e.purpose,
            document_type: e.documentType,
            document_name: e.documentName,
            document_sha256: e.documentSha256,
            format: e.format,
            signature_sha256: signatureSha256,
            certificate_serial: e.certificateSerial,
            signed_at: new Date(e.signedAt),
            time_source: e.timeSource ?? 'server',
            requested_by: e.requestedBy.userId,
            channel: e.channel,
            client_address: e.clientAddress,
          })
          .onConflict('id')
          .ignore()
          .returning('id');
        if (inserted.length === 0) return; // a retry: recorded (and audited) the first time
        await appendAudit(trx, {
          action: 'seal.use',
          outcome: 'ok',
          actor: e.requestedBy,
          targetType: 'seal',
          targetId: e.sealId,
          caseId: e.caseId,
          clientAddress: e.clientAddress,
          details: { register_id: e.id, keeper_id: e.keeperId, ...(e.useRequestId ? { approver_id: e.approverId, use_request_id: e.useRequestId } : {}), document_sha256: e.documentSha256, document_type: e.documentType, format: e.format, signature_sha256: signatureSha256, time_source: e.timeSource ?? 'server' },
          at: new Date(e.signedAt),
        });
      });
      return { id: e.id };
    },
  };
}
