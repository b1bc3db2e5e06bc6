// The A3 exchange with the market-regulation authority. Thin: read the request, call the use-case, answer.
// Posting a batch needs no account (the batch authenticates itself by its signature; rate-limited per address);
// the reports and the list of accepted certificates are for administrators and supervisors.
import { Router } from 'express';
import type { Deps } from '../../usecases/deps';
import * as uc from '../../usecases/registration-exchange';
import { requireRole } from '../auth';
import { rateLimit } from '../rate-limit';
import { readMultipart } from '../upload';
import { ApiError } from '../errors';

/** Batches per minute and sender address (the authority sends a few a day). */
export const BATCH_RATE_PER_MINUTE = Number(process.env.REGISTRATION_BATCH_RATE_PER_MINUTE ?? 30);

export function registrationBatchRoutes(deps: Deps): Router {
  const r = Router();
  // Only posting a batch is limited (the reports below it are read by accounts).
  const limitPosts = rateLimit({ limit: BATCH_RATE_PER_MINUTE, windowMs: 60_000 });
  r.use('/api/registration/batches', (req, res, next) => (req.method === 'POST' && req.path === '/' ? limitPosts(req, res, next) : next()));
  // multipart: batch (the JSON Lines) and signature (its detached CMS signature, DER)
  r.post('/api/registration/batches', async (req, res) => {
    const { files } = await readMultipart(req, {
      maxBytes: uc.MAX_BATCH_BYTES,
      limits: { files: 2, fields: 2, fieldSize: 1024 },
      accept: (name) => name === 'batch' || name === 'signature',
      notMultipart: new ApiError(400, 'multipart_required', '请以 multipart/form-data 提交（文件字段 batch 和 signature）', 'Send multipart/form-data (file fields batch and signature)'),
    });
    const pick = (f: string) => files.find((x) => x.field === f) ?? null;
    const out = await uc.receiveRegistrationBatch(deps, { batch: pick('batch'), signature: pick('signature') });
    res.status(out.status === 'imported' ? 200 : 202).location(out.report).json(out);
  });
  return r;
}

export function registrationRoutes(deps: Deps): Router {
  const r = Router();
  r.get('/api/registration/batches/:id', requireRole('admin', 'supervisor'), async (req, res) => {
    res.json(await uc.registrationBatchReport(deps, req.actor!, String(req.params.id)));
  });
  r.get('/api/registration/feed-certificates', requireRole('admin', 'supervisor'), async (req, res) => {
    res.json(await uc.listFeedCertificates(deps, req.actor!));
  });
  r.post('/api/registration/feed-certificates', requireRole('admin'), async (req, res) => {
    res.status(201).json(await uc.addFeedCertificate(deps, req.actor!, req.body));
  });
  r.post('/api/registration/feed-certificates/:fingerprint/withdraw', requireRole('admin'), async (req, res) => {
    res.json(await uc.withdrawFeedCertificate(deps, req.actor!, String(req.params.fingerprint)));
  });
  return r;
}
