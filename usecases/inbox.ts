// The web inbox of a holder's or maker's account: the messages delivered to it (message_deliveries, channel
// inbox), unread first counted, and read receipts (message_reads) per account. Only the account's own.
import type { Db } from '../infra/db';
import { notFound, forbidden } from '../domain/refusals';
import type { Actor } from '../domain/actor';

export interface InboxMessage {
  id: string;
  kind: string;
  body: string;
  link_path: string | null;
  created_at: Date;
  read_at: Date | null;
}

const inboxQuery = (db: Db, actor: Actor) => {
  if (actor.role !== 'holder' && actor.role !== 'maker') throw forbidden('Only holders and makers have an inbox', '只有用章单位和制作单位有消息');
  return db('outbox_messages as m')
    .join('message_deliveries as d', (j) => j.on('d.message_id', 'm.id').andOn('d.user_id', db.raw('?', [actor.userId])))
    .leftJoin('message_reads as r', (j) => j.on('r.message_id', 'm.id').andOn('r.user_id', db.raw('?', [actor.userId])))
    .where({ 'd.channel': 'inbox', 'd.status': 'sent' })
    // The scope again (an account moved to another holder or maker no longer sees the old one's messages).
    .where(actor.role === 'holder' ? { 'm.audience': 'holder', 'm.recipient': actor.holderId } : { 'm.audience': 'maker', 'm.recipient': actor.makerId });
};

export async function listInbox(db: Db, actor: Actor): Promise<{ unread: number; messages: InboxMessage[] }> {
  const messages = (await inboxQuery(db, actor)
    .orderBy('m.created_at', 'desc')
    .limit(200)
    .select('m.id', 'm.kind', 'm.body', 'm.link_path', 'm.created_at', 'r.read_at')) as InboxMessage[];
  const [{ n }] = await inboxQuery(db, actor).whereNull('r.read_at').count<{ n: string }[]>({ n: '*' });
  return { unread: Number(n), messages };
}

/** A read receipt: the first reading counts; reading again changes nothing. */
export async function markRead(db: Db, actor: Actor, messageId: string, now = new Date()): Promise<{ id: string; read_at: Date }> {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(messageId) || !(await inboxQuery(db, actor).where('m.id', messageId).first('m.id'))) {
    throw notFound('Message', '消息');
  }
  await db('message_reads').insert({ message_id: messageId, user_id: actor.userId, read_at: now }).onConflict(['message_id', 'user_id']).ignore();
  const { read_at } = await db('message_reads').where({ message_id: messageId, user_id: actor.userId }).first('read_at');
  return { id: messageId, read_at };
}
