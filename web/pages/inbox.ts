// The inbox in the browser (holders and makers): messages newest first, unread marked, "mark read" per message.
import { Router } from 'express';
import type { Deps } from '../../usecases/applications';
import { listInbox, markRead } from '../../usecases/inbox';
import { formBody } from './forms';
import { page } from './guards';
import { renderPage } from './render';

export function inboxPages(deps: Deps): Router {
  const r = Router();
  r.get('/inbox', page('holder', 'maker'), async (req, res) => {
    const inbox = await listInbox(deps.db, req.actor!);
    const en = req.lang === 'en';
    const messages = inbox.messages.map((m) => {
      const [zh, english] = m.body.split(' / ');
      return { ...m, text: en ? (english ?? zh) : zh, created: m.created_at.toISOString().slice(0, 16).replace('T', ' ') + ' UTC' };
    });
    renderPage(req, res, 'inbox', { title: en ? 'Messages' : '消息', unread: inbox.unread, messages });
  });
  r.post('/inbox/:id/read', page('holder', 'maker'), formBody(), async (req, res) => {
    await markRead(deps.db, req.actor!, String(req.params.id));
    res.redirect(303, '/inbox');
  });
  return r;
}
