// JSON API of a seal's custody (C1–C3): keepers, the protection password, reset applications and links.
// Thin: parse, call the operation's use-case (usecases/keeper-operations.ts, the seal page calls the same), answer.
// Nothing here is cached by clients or proxies.
import type { Config } from '../../infra/config';
import { Router, type Response } from 'express';
import * as uc from '../../usecases/keeper-operations';
import { requireRole } from '../auth';

const noStore = (res: Response) => res.set('cache-control', 'no-store');

export function keeperRoutes(deps: uc.KeeperOperationDeps & { config: Config }): Router {
  const r = Router();
  const id = (p: unknown) => String(p);

  r.post('/api/seals/:id/keepers', requireRole('holder'), async (req, res) => {
    res.status(201).json(await uc.nameKeeper(deps, req.actor!, id(req.params.id), req.body));
  });
  r.get('/api/seals/:id/keepers', requireRole('holder', 'maker', 'officer', 'supervisor'), async (req, res) => {
    noStore(res).json(await uc.listKeepers(deps, req.actor!, id(req.params.id)));
  });
  // The keeper is named in the body ({ id_number } or { keeper_id }), keeping ID numbers out of URLs.
  r.delete('/api/seals/:id/keepers', requireRole('holder'), async (req, res) => {
    res.json(await uc.removeKeeper(deps, req.actor!, id(req.params.id), req.body));
  });

  r.post('/api/seals/:id/password', requireRole('holder', 'maker'), async (req, res) => {
    noStore(res).status(201).json(await uc.setInitialPassword(deps, req.actor!, id(req.params.id), req.body));
  });
  r.post('/api/seals/:id/password/change', requireRole('holder'), async (req, res) => {
    noStore(res).json(await uc.changePassword(deps, req.actor!, id(req.params.id), req.body));
  });
  r.post('/api/seals/:id/password/reset-requests', requireRole('holder'), async (req, res) => {
    res.status(201).json(await uc.requestPasswordReset(deps, req.actor!, id(req.params.id), req.body));
  });
  // C3: the one-time link opens the reset; the keeper proves identity with the ID number and an SMS code.
  r.post('/api/password-reset/:token/code', async (req, res) => {
    noStore(res).set('referrer-policy', 'no-referrer').json(await uc.sendResetCode(deps, id(req.params.token), req.body));
  });
  r.post('/api/password-reset/:token', async (req, res) => {
    const status = await uc.resetPasswordWithCode(deps, id(req.params.token), req.body);
    noStore(res).set('referrer-policy', 'no-referrer').json(status);
  });
  return r;
}
