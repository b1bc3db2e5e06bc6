// JSON API of use approval (三(四) 使用流程): the holder names each seal's approvers, its staff request a use,
// the named approvers decide in the holder's approval queue. Thin: parse, call one use-case, answer.
import { Router } from 'express';
import { createUseRequest, decideUseRequest, getUseRequest, listUseApprovers, listUseRequests, setUseApprovers, type UseApprovalDeps } from '../../usecases/use-approval';
import { requireRole } from '../auth';

export function useApprovalRoutes(deps: UseApprovalDeps): Router {
  const r = Router();
  r.get('/api/seals/:id/use-approvers', requireRole('holder'), async (req, res) => {
    res.json(await listUseApprovers(deps, req.actor!, String(req.params.id)));
  });
  r.put('/api/seals/:id/use-approvers', requireRole('holder'), async (req, res) => {
    res.json(await setUseApprovers(deps, req.actor!, String(req.params.id), req.body ?? {}));
  });
  r.post('/api/use-requests', requireRole('holder'), async (req, res) => {
    const created = await createUseRequest(deps, req.actor!, req.body ?? {});
    res.status(201).location(`/api/use-requests/${created.id}`).json(created);
  });
  r.get('/api/use-requests', requireRole('holder'), async (req, res) => {
    res.set('cache-control', 'no-store').json({ requests: await listUseRequests(deps, req.actor!, req.query as Record<string, unknown>) });
  });
  r.get('/api/use-requests/:id', requireRole('holder'), async (req, res) => {
    res.set('cache-control', 'no-store').json(await getUseRequest(deps, req.actor!, String(req.params.id)));
  });
  r.post('/api/use-requests/:id/decision', requireRole('holder'), async (req, res) => {
    res.json(await decideUseRequest(deps, req.actor!, String(req.params.id), req.body ?? {}));
  });
  return r;
}
