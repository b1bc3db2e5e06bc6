// JSON API of production-record versions (M5; see web/openapi.yaml). Thin: parse, call a use-case, answer.
import { Router } from 'express';
import type { Deps } from '../../usecases/deps';
import * as uc from '../../usecases/production-records';
import { requireRole } from '../auth';

export function productionRecordRoutes(deps: Deps): Router {
  const r = Router();
  r.get('/api/applications/:id/production-records', requireRole('maker', 'officer', 'supervisor', 'holder'), async (req, res) => {
    res.json(await uc.listProductionRecords(deps, req.actor!, String(req.params.id)));
  });
  r.post('/api/applications/:id/production-records', requireRole('maker'), async (req, res) => {
    res.status(201).json(await uc.correctProductionRecord(deps, req.actor!, String(req.params.id), req.body));
  });
  r.post('/api/applications/:id/production-records/:version/decision', requireRole('officer'), async (req, res) => {
    res.json(await uc.decideProductionCorrection(deps, req.actor!, String(req.params.id), String(req.params.version), req.body));
  });
  r.get('/api/production-corrections', requireRole('officer', 'supervisor'), async (req, res) => {
    res.json(await uc.pendingProductionCorrections(deps, req.actor!));
  });
  return r;
}
