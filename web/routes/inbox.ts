// JSON API of the web inbox (holders' and makers' accounts): messages, unread count, read receipts.
import { Router } from 'express';
import type { Db } from '../../infra/db';
import { listInbox, markRead } from '../../usecases/inbox';
import { requireRole } from '../auth';

export function inboxRoutes(deps: { db: Db }): Router {
  const r = Router();
  r.get('/api/inbox', requireRole('holder', 'maker'), async (req, res) => {
    res.set('cache-control', 'no-store').json(await listInbox(deps.db, req.actor!));
  });
  r.post('/api/inbox/:id/read', requireRole('holder', 'maker'), async (req, res) => {
    res.json(await markRead(deps.db, req.actor!, String(req.params.id)));
  });
  return r;
}
