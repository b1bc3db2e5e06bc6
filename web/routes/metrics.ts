// GET /metrics: Prometheus's text format, for administrators only (Prometheus scrapes with an administrator's
// API token as its bearer token); the figures name districts and workloads, not for the public.
import { Router } from 'express';
import { requireRole } from '../auth';
import { readMetrics } from '../../usecases/metrics';

export function metricsRoutes(): Router {
  const r = Router();
  r.get('/metrics', requireRole('admin'), async (req, res) => {
    const m = await readMetrics(req.actor!);
    res.type(m.contentType).send(m.body);
  });
  return r;
}
