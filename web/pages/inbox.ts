// The inbox in the browser (holders and makers): messages newest first, unread marked, "mark read" per message.
import { Router } from 'express';
import type { Deps } from '../../usecases/deps';
import { listInbox, markRead } from '../../usecases/inbox';
import { formBody } from './forms';
import { page } from './guards';
import { renderPage } from './render';

export function inboxPages(deps: Deps): Router {
  const r = Router();
  r.get('/inbox', page('holder', 'maker'), async (req, res) => {
    const inbox = await listInbox(deps.db, req.actor!);
    const en = req.lang === 'en';
    // Bodies are "中文 / English": the page's language only.
    const at = (d: Date) => `${new Date(d.getTime() + 8 * 3600_000).toISOString().slice(0, 16).replace('T', ' ')} ${en ? 'Beijing time' : '北京时间'}`;
    const messages = inbox.messages.map((m) => {
      const [zh, english] = m.body.split(/\s?\/ (?=[A-Z])/);
      return { ...m, text: en ? (english ?? zh) : zh, created: at(m.created_at), read: m.read_at ? at(m.read_at) : null };
    });
    renderPage(req, res, 'inbox', { title: en ? 'Messages' : '消息', unread: inbox.unread, messages });
  });
  r.post('/inbox/:id/read', page('holder', 'maker'), formBody(), async (req, res) => {
    await markRead(deps.db, req.actor!, String(req.params.id));
    res.redirect(303, '/inbox');
  });
  return r;
}
