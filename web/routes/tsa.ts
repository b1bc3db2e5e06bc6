// The platform's time-stamping authority over HTTP (RFC 3161 §3.4): POST /api/tsa with a DER TimeStampReq
// (application/timestamp-query), answered with a TimeStampResp (application/timestamp-reply). Public like
// OCSP, and rate-limited per address: each granted request is a signature in the HSM.
import express, { Router } from 'express';
import type { Client } from '@temporalio/client';
import type { Config } from '../../infra/config';
import { answerTimeStampRequest, TSA_MAX_REQUEST_BYTES } from '../../usecases/tsa';
import { rateLimit } from '../rate-limit';
import { ApiError } from '../errors';

/** Timestamps per minute and client address (TSA_RATE_PER_MINUTE overrides). */
export const TSA_RATE_PER_MINUTE = Number(process.env.TSA_RATE_PER_MINUTE ?? 120);

export function tsaRoutes(deps: { temporal: Client; config: Config }): Router {
  const r = Router();
  r.use('/api/tsa', rateLimit({ limit: TSA_RATE_PER_MINUTE, windowMs: 60_000 }), express.raw({ type: () => true, limit: TSA_MAX_REQUEST_BYTES }));
  r.post('/api/tsa', async (req, res) => {
    if (!req.is('application/timestamp-query')) {
      throw new ApiError(415, 'unsupported_media_type', '请以 application/timestamp-query 提交 DER 编码的时间戳请求（RFC 3161）', 'Send a DER TimeStampReq as application/timestamp-query (RFC 3161)');
    }
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const answer = await answerTimeStampRequest(deps, body);
    res.status(200).set('content-type', 'application/timestamp-reply').set('cache-control', 'no-store').send(answer);
  });
  return r;
}
