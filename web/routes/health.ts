import { Router } from 'express';
import { readinessProbe, type ReadinessDeps } from '../../usecases/readiness';

export function healthRoutes(deps: ReadinessDeps): Router {
  const r = Router();
  const probe = readinessProbe(deps);
  // Liveness: the process serves HTTP; touches no service.
  r.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  r.get('/readyz', async (_req, res, next) => {
    try {
      const result = await probe();
      if (!result.ready) res.set('Retry-After', '5');
      res.status(result.ready ? 200 : 503).json(result);
    } catch (e) {
      next(e);
    }
  });
  return r;
}
