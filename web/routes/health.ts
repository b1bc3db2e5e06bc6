import { Router } from 'express';
import { readiness } from '../../usecases/readiness';
import type { Deps } from '../../usecases/platform-statements';

export function healthRoutes(deps: Deps): Router {
  const r = Router();
  r.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  r.get('/readyz', async (_req, res) => {
    const result = await readiness(deps);
    res.status(result.ready ? 200 : 503).json(result);
  });
  return r;
}
