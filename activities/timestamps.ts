// RFC 3161 timestamps, made on the HSM queue (the TSA key is in the issuing token: infra/pki/tsa.ts).
// issueTimestamp answers a client's request (POST /api/tsa); timestampSignature stamps a seal's signature
// value for B-T, from the platform's own TSA or, when pki.tsaUrl is set, from that external TSA. Both are
// idempotent in effect: a retry makes another token for the same imprint, and any valid token will do.
import { createHash } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import type { Db } from '../infra/db';
import type { Hsm } from '../infra/hsm/hsm';
import { issueTimeStampToken, type TsaIdentity } from '../infra/pki/tsa';
import { parseTimeStampToken, timeStampRequest, tokenOfResponse, type TimeStampRequest } from '../infra/signing/tsp';

export interface TimestampSettings {
  policyOid: string;
  /** An external TSA (empty: the platform's own). */
  url: string;
}

export interface IssueTimestampInput {
  hashAlgorithm: string;
  hashedMessageB64: string;
  nonceB64: string | null;
  certReq: boolean;
}

export interface Timestamp {
  tokenB64: string;
  genTime: string;
}

/** The TSA's newest certificate and its chain, as provisioning stored them. */
async function tsaIdentity(db: Db, policy: string): Promise<TsaIdentity> {
  const rows: Array<{ purpose: string; der: Buffer }> = await db('ca_certificates').whereIn('purpose', ['tsa', 'issuing', 'root']).orderBy('created_at', 'desc').select('purpose', 'der');
  const tsa = rows.find((r) => r.purpose === 'tsa');
  const issuing = rows.find((r) => r.purpose === 'issuing');
  const root = rows.find((r) => r.purpose === 'root');
  // Provisioning (make up) writes it; a worker that finds none is misconfigured, not unlucky.
  if (!tsa || !issuing || !root) throw ApplicationFailure.nonRetryable('no TSA certificate in PostgreSQL: provision with `make up` first', 'TsaNotProvisioned');
  return { certificate: Buffer.from(tsa.der), chain: [Buffer.from(issuing.der), Buffer.from(root.der)], policy };
}

export function createTimestampHsmActivities(deps: { hsm: Hsm; db: Db; tsa?: TimestampSettings }) {
  const settings: TimestampSettings = deps.tsa ?? { policyOid: '2.16.156.339.1.2.1', url: '' };
  const own = async (request: TimeStampRequest): Promise<Timestamp> => {
    const genTime = new Date();
    const token = await issueTimeStampToken(deps.hsm, await tsaIdentity(deps.db, settings.policyOid), request, genTime);
    return { tokenB64: token.toString('base64'), genTime: genTime.toISOString() };
  };
  return {
    async issueTimestamp(input: IssueTimestampInput): Promise<Timestamp> {
      return own({
        hashAlgorithm: input.hashAlgorithm,
        hashedMessage: Buffer.from(input.hashedMessageB64, 'base64'),
        nonce: input.nonceB64 ? Buffer.from(input.nonceB64, 'base64') : null,
        certReq: input.certReq,
        policy: null,
      });
    },

    /** B-T: a token over SHA-256 of the signature value (RFC 3161 appendix A). */
    async timestampSignature(input: { signatureB64: string }): Promise<Timestamp> {
      const imprint = createHash('sha256').update(Buffer.from(input.signatureB64, 'base64')).digest();
      if (!settings.url) return own({ hashAlgorithm: '2.16.840.1.101.3.4.2.1', hashedMessage: imprint, nonce: null, certReq: true, policy: null });
      const req = timeStampRequest(imprint);
      const res = await fetch(settings.url, { method: 'POST', headers: { 'content-type': 'application/timestamp-query' }, body: req.der, signal: AbortSignal.timeout(8000) });
      if (!res.ok) throw new Error(`the TSA at ${settings.url} answered HTTP ${res.status}`);
      const token = tokenOfResponse(Buffer.from(await res.arrayBuffer()));
      const parsed = parseTimeStampToken(token);
      // An answer for another imprint or request (or unsigned) is the TSA's fault: retried, then the signature fails.
      if (!parsed.signatureValid || !parsed.hashedMessage.equals(imprint) || !parsed.nonce?.equals(req.nonce)) throw new Error(`the TSA at ${settings.url} returned a token that does not match the request`);
      return { tokenB64: token.toString('base64'), genTime: parsed.genTime.toISOString() };
    },
  };
}
