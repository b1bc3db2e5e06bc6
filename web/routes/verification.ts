// Public verification of sealed documents (U2, P2): no login, rate-limited per address. Thin: read the
// upload, call the use-case, answer the report: JSON by default, or with `Accept: application/pdf` the
// report as a PDF signed by the platform (usecases/verification-report.ts).
import { Router } from 'express';
import type { Deps } from '../../usecases/deps';
import { MAX_SIGNATURE_BYTES, verifyDocument } from '../../usecases/verification';
import { SIGN_MAX_BYTES } from '../../usecases/seal-signing';
import { rateLimit } from '../rate-limit';
import { readMultipart } from '../upload';
import { ApiError } from '../errors';
import { clientScopeRefusal } from '../auth';
import { verifyToSignedPdf } from '../../usecases/verification-report';

/** Verifications per minute and client address (VERIFY_RATE_PER_MINUTE overrides; each is a parse and a few checks). */
export const VERIFY_RATE_PER_MINUTE = Number(process.env.VERIFY_RATE_PER_MINUTE ?? 60);

export function verificationRoutes(deps: Pick<Deps, 'db' | 'temporal' | 'config'>): Router {
  const r = Router();
  // multipart: file (the document) and signature (its .p7s)
  // An API client is counted by its own limit (web/client-auth.ts), not by its address.
  r.use('/api/verifications', rateLimit({ limit: VERIFY_RATE_PER_MINUTE, windowMs: 60_000, skip: (req) => req.actor?.client !== undefined }));
  r.post('/api/verifications', async (req, res, next) => {
    const refused = clientScopeRefusal(req); // U2: a client's token needs the verify scope
    if (refused) return next(refused);
    const { files } = await readMultipart(req, {
      maxBytes: SIGN_MAX_BYTES,
      limits: { files: 2, fields: 5, fieldSize: 1024 },
      accept: (name) => name === 'file' || name === 'signature',
      notMultipart: new ApiError(400, 'multipart_required', '请以 multipart/form-data 提交（文件字段 file 和 signature）', 'Send multipart/form-data (file fields file and signature)'),
    });
    const signature = files.find((f) => f.field === 'signature') ?? null;
    const tooBig = signature && signature.size > MAX_SIGNATURE_BYTES ? { ...signature, truncated: true } : signature;
    const request = { file: files.find((f) => f.field === 'file') ?? null, signature: tooBig, streamPdfAboveBytes: deps.config.pki.padesStreamAboveBytes };
    res.set('cache-control', 'no-store').vary('accept');
    if (req.accepts(['application/json', 'application/pdf']) === 'application/pdf') {
      const { pdf, fileName } = await verifyToSignedPdf(deps, request);
      res.type('application/pdf').set('content-disposition', `attachment; filename="${fileName}"`).send(pdf); // ASCII: hex digits
      return;
    }
    res.json(await verifyDocument(deps.db, request));
  });
  return r;
}
