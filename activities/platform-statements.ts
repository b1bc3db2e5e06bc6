// Statements signed by the platform: the signature is made in the HSM, the record kept in PostgreSQL.
import { createHash } from 'node:crypto';
import type { Db } from '../infra/db';
import type { Hsm } from '../infra/hsm/hsm';
import { toDerEcdsaSignature } from '../infra/hsm/hsm';
import type { PlatformSigningKey } from '../infra/pki/platform';
import { statementBytes } from '../infra/signing/statement-bytes';

export interface SignedStatement {
  kind: string;
  payload: Record<string, unknown>;
  payloadSha256: string;
  signatureBase64: string;
  certificateFingerprint: string;
}



export function createStatementSigning(hsm: Hsm, key: PlatformSigningKey) {
  return {
    async signPlatformStatement(input: { kind: string; payload: Record<string, unknown> }): Promise<SignedStatement> {
      const bytes = statementBytes(input.kind, input.payload);
      const raw = await hsm.signEcdsaSha256(key.keyLabel, bytes);
      return {
        kind: input.kind,
        payload: input.payload,
        payloadSha256: createHash('sha256').update(bytes).digest('hex'),
        signatureBase64: toDerEcdsaSignature(raw).toString('base64'),
        certificateFingerprint: key.certificateFingerprint,
      };
    },
  };
}

export function createStatementStore(db: Db) {
  return {
    /** Idempotent by statement ID: a retry keeps the first signature. */
    async storePlatformStatement(s: SignedStatement & { statementId: string; requestedBy: string | null }): Promise<void> {
      await db('platform_statements')
        .insert({
          id: s.statementId,
          kind: s.kind,
          payload: JSON.stringify(s.payload),
          payload_sha256: s.payloadSha256,
          signature: Buffer.from(s.signatureBase64, 'base64'),
          certificate_fingerprint: s.certificateFingerprint,
          requested_by: s.requestedBy,
          workflow_id: `statement:${s.statementId}`,
        })
        .onConflict('id')
        .ignore();
    },
  };
}
