// I2: the trust list of recognised platforms (supervisors; four eyes), the seals other platforms file and
// the export of ours (data exchange). Thin: parse, call one use-case, answer.
import { Router } from 'express';
import type { Deps } from '../../usecases/deps';
import { decidePlatformChange, proposePlatformChange, trustList } from '../../usecases/trust-list';
import { exportOurSeals, fileExternalSeal, FILING_MAX_BYTES, listExternalSeals } from '../../usecases/exchange';
import { requireRole } from '../auth';
import { readMultipart } from '../upload';
import { ApiError } from '../errors';

export function trustListRoutes(deps: Deps): Router {
  const r = Router();
  r.get('/api/trust-list', requireRole('supervisor'), async (req, res) => {
    res.json(await trustList(deps.db, req.actor!));
  });
  r.post('/api/trust-list/platforms', requireRole('supervisor'), async (req, res) => {
    res.status(202).json(await proposePlatformChange(deps, req.actor!, null, req.body));
  });
  r.post('/api/trust-list/platforms/:id/changes', requireRole('supervisor'), async (req, res) => {
    res.status(202).json(await proposePlatformChange(deps, req.actor!, String(req.params.id), req.body));
  });
  r.post('/api/trust-list/changes/:id/decision', requireRole('supervisor'), async (req, res) => {
    res.json(await decidePlatformChange(deps, req.actor!, String(req.params.id), req.body));
  });

  // multipart: seal (SESeal DER) — or certificate + imprint — and the holder's fields
  r.post('/api/exchange/filings', requireRole('exchange'), async (req, res) => {
    const { fields, files } = await readMultipart(req, {
      maxBytes: FILING_MAX_BYTES,
      limits: { files: 3, fields: 10, fieldSize: 1024 },
      accept: (name) => name === 'seal' || name === 'certificate' || name === 'imprint',
      notMultipart: new ApiError(400, 'multipart_required', '请以 multipart/form-data 提交（文件字段 seal，或 certificate 和 imprint）', 'Send multipart/form-data (file field seal, or certificate and imprint)'),
    });
    res.status(201).json(await fileExternalSeal(deps.db, req.actor!, { fields, files }));
  });
  r.get('/api/exchange/seals', requireRole('exchange', 'supervisor'), async (req, res) => {
    res.set('cache-control', 'no-store').json(await exportOurSeals(deps.db, req.actor!, req.query));
  });
  r.get('/api/external-seals', requireRole('officer', 'supervisor'), async (req, res) => {
    res.json(await listExternalSeals(deps.db, req.actor!, req.query));
  });
  return r;
}
