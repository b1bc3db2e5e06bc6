// JSON API of a seal's custody (C1–C3): keepers, the protection password, reset applications and links.
// Thin: parse, call a use-case, answer. Nothing here is cached by clients or proxies.
import type { Client } from '@temporalio/client';
import type { Config } from '../../infra/config';
import { Router, type Response } from 'express';
import * as uc from '../../usecases/keepers';
import * as resetPage from '../../usecases/password-reset-page';
import { timingLockout } from '../../usecases/password-lock';
import { requireRole } from '../auth';

const noStore = (res: Response) => res.set('cache-control', 'no-store');

export function keeperRoutes(deps: uc.KeeperDeps & { temporal: Client; config: Config }): Router {
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
    const result = await uc.removeKeeper(deps, req.actor!, id(req.params.id), req.body);
    await uc.notifyPasswordSet(deps.temporal, id(req.params.id), new Date()); // the removed keeper knew it: expired now
    res.json(result);
  });

  r.post('/api/seals/:id/password', requireRole('holder', 'maker'), async (req, res) => {
    const status = await uc.setInitialPassword(deps, req.actor!, id(req.params.id), req.body);
    await uc.notifyPasswordSet(deps.temporal, id(req.params.id), status.expires_at);
    noStore(res).status(201).json(status);
  });
  r.post('/api/seals/:id/password/change', requireRole('holder'), async (req, res) => {
    // C2: the lock that wrong passwords start is timed by the seal's workflow.
    const status = await timingLockout(deps, id(req.params.id), () => uc.changePassword(deps, req.actor!, id(req.params.id), req.body));
    await uc.notifyPasswordSet(deps.temporal, id(req.params.id), status.expires_at);
    noStore(res).json(status);
  });
  r.post('/api/seals/:id/password/reset-requests', requireRole('holder'), async (req, res) => {
    const request = await uc.requestPasswordReset(deps, req.actor!, id(req.params.id), req.body);
    res.status(201).json(request);
  });
  // C3: the one-time link opens the reset; the keeper proves identity with the ID number and an SMS code.
  r.post('/api/password-reset/:token/code', async (req, res) => {
    noStore(res).set('referrer-policy', 'no-referrer').json(await resetPage.sendResetCode(deps, id(req.params.token), req.body));
  });
  r.post('/api/password-reset/:token', async (req, res) => {
    const status = await resetPage.resetWithCode(deps, id(req.params.token), req.body);
    await uc.notifyPasswordSet(deps.temporal, status.seal_id, status.expires_at);
    noStore(res).set('referrer-policy', 'no-referrer').json(status);
  });
  return r;
}
