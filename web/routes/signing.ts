// JSON API of seals in use (U1, C4): a keeper signs a document with a seal, the holder reads its use
// register. Thin: read the upload, call one use-case, answer.
import { Router } from 'express';
import { nationalSealData, signDocument, SIGN_MAX_BYTES, type SigningDeps } from '../../usecases/seal-signing';
import { listUseRegister, sealUseCounts, USE_REGISTER_CSV_HEADER, useRegisterCsvRow } from '../../usecases/use-register';
import { requireRole } from '../auth';
import { readUpload } from '../upload';
import { sendCsv } from '../pages/csv';
import { attachment, sendSigned } from '../signed-file';


export function signingRoutes(deps: SigningDeps): Router {
  const r = Router();
  // multipart: file, id_number (the keeper), password, purpose, document_type, format (cms | pades | ofd)
  r.post('/api/seals/:id/signatures', requireRole('holder'), async (req, res) => {
    const { fields, file } = await readUpload(req, { maxBytes: SIGN_MAX_BYTES, fileField: 'file' });
    const signed = await signDocument(deps, req.actor!, String(req.params.id), { fields, file });
    await sendSigned(res, 201, signed, { 'x-document-sha256': signed.documentSha256 });
  });
  // The seal's GB/T 38540 seal data (SESeal v4, DER), for the holder's staff.
  r.get('/api/seals/:id/national-seal', requireRole('holder'), async (req, res) => {
    const seal = await nationalSealData(deps, req.actor!, String(req.params.id));
    res.status(200).set('content-type', 'application/octet-stream').set('content-disposition', attachment(seal.fileName)).set('cache-control', 'no-store').send(seal.der);
  });
  r.get('/api/use-register', requireRole('holder'), async (req, res) => {
    res.set('cache-control', 'no-store').json({ entries: await listUseRegister(deps.db, req.actor!, req.query as Record<string, unknown>) });
  });
  r.get('/api/use-register.csv', requireRole('holder'), async (req, res) => {
    const entries = await listUseRegister(deps.db, req.actor!, req.query as Record<string, unknown>);
    sendCsv(res, 'use-register', USE_REGISTER_CSV_HEADER, entries.map(useRegisterCsvRow));
  });
  r.get('/api/supervision/seal-use', requireRole('supervisor'), async (req, res) => {
    res.json(await sealUseCounts(deps.db, req.actor!, req.query as Record<string, unknown>));
  });
  return r;
}
