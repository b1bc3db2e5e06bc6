// JSON API: records of a person found by resident ID number (P1: by its keyed hash). POST, so that the ID
// number stays in the body and out of URLs and access logs.
import { Router } from 'express';
import type { Deps } from '../../usecases/deps';
import { lookupPersonByResidentId } from '../../usecases/person-lookup';
import { requireRole } from '../auth';

export function personLookupRoutes(deps: Deps): Router {
  const r = Router();
  r.post('/api/person-lookups', requireRole('officer', 'supervisor'), async (req, res) => {
    res.set('cache-control', 'no-store').json(await lookupPersonByResidentId(deps, req.actor!, req.body));
  });
  return r;
}
