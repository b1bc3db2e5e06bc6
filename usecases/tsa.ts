// POST /api/tsa: the platform's RFC 3161 time-stamping authority for anyone (relying parties, PDF tools,
// API clients). The request is checked here; a good one is signed by an HSM worker (the TSA key is in the
// issuing token, never in the web's: infra/pki/tsa.ts) through the short workflow `timestamp:<id>`. A bad
// request gets a TimeStampResp with status rejection and the RFC's failure code, as RFC 3161 §2.4.2 wants.
import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import type { Config } from '../infra/config';
import { parseTimeStampRequest, TimeStampRequestError, timeStampResponse } from '../infra/signing/tsp';
import { timestampWorkflow } from '../workflows/seal-signature';

/** A TimeStampReq is a few hundred bytes; anything much larger is not one. */
export const TSA_MAX_REQUEST_BYTES = 16 * 1024;

export async function answerTimeStampRequest(deps: { temporal: Client; config: Config }, der: Buffer): Promise<Buffer> {
  let request;
  try {
    request = parseTimeStampRequest(der, deps.config.pki.tsaPolicyOid);
  } catch (e) {
    if (e instanceof TimeStampRequestError) return timeStampResponse({ failure: e.failure, text: e.message });
    throw e;
  }
  const out = await deps.temporal.workflow.execute(timestampWorkflow, {
    taskQueue: deps.config.temporal.taskQueues.main,
    workflowId: `timestamp:${randomUUID()}`,
    args: [
      {
        hsmTaskQueue: deps.config.temporal.taskQueues.hsm,
        request: { hashAlgorithm: request.hashAlgorithm, hashedMessageB64: request.hashedMessage.toString('base64'), nonceB64: request.nonce?.toString('base64') ?? null, certReq: request.certReq },
      },
    ],
  });
  return timeStampResponse({ token: Buffer.from(out.tokenB64, 'base64') });
}
