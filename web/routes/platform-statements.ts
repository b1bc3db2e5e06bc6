import { Router } from 'express';
import { getStatement, requestStatement, type Deps } from '../../usecases/platform-statements';
import { requireRole } from '../auth';

export function platformStatementRoutes(deps: Deps): Router {
  const r = Router();
  // Signing in the platform's name is for city-level roles only.
  r.post('/api/platform/statements', requireRole('supervisor', 'admin'), async (req, res) => {
    const key = req.get('idempotency-key') ?? undefined;
    res.status(201).json(await requestStatement(deps, req.actor!, req.body, key));
  });
  r.get('/api/platform/statements/:id', requireRole('supervisor', 'admin'), async (req, res) => {
    res.json(await getStatement(deps, String(req.params.id)));
  });
  return r;
}
