// JSON API of accounts (issue 16 point 7): administrators list, create and disable accounts of every role; a
// new account's holder sets a password through the one-time link the creation answered with (shown once).
import { Router } from 'express';
import type { Deps } from '../../usecases/deps';
import { completeAccountSetup, createAccount, disableAccount, listAccounts } from '../../usecases/account-admin';
import { requireRole } from '../auth';

export function accountRoutes(deps: Deps): Router {
  const r = Router();
  r.get('/api/users', requireRole('admin'), async (req, res) => {
    res.set('cache-control', 'no-store').json(await listAccounts(deps.db, req.actor!));
  });
  r.post('/api/users', requireRole('admin'), async (req, res) => {
    res.status(201).set('cache-control', 'no-store').json(await createAccount(deps.db, req.actor!, req.body));
  });
  r.post('/api/users/:id/disable', requireRole('admin'), async (req, res) => {
    res.set('cache-control', 'no-store').json(await disableAccount(deps.db, req.actor!, String(req.params.id)));
  });
  // Public: the one-time link is the credential (the account has no password yet).
  r.post('/api/account-setup/:token', async (req, res) => {
    res.set('cache-control', 'no-store').json(await completeAccountSetup(deps.db, String(req.params.token), req.body));
  });
  return r;
}
