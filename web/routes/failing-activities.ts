// Administrators: activities that keep failing, with their case and last error (usecases/failing-activities.ts).
import { Router } from 'express';
import type { Deps } from '../../usecases/deps';
import { listFailingActivities } from '../../usecases/failing-activities';
import { requireRole } from '../auth';

export function failingActivityRoutes(deps: Deps): Router {
  const r = Router();
  r.get('/api/admin/failing-activities', requireRole('admin'), async (req, res) => {
    res.set('cache-control', 'no-store').json(await listFailingActivities(deps, req.actor!));
  });
  return r;
}
