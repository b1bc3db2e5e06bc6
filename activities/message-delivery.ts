// Delivery of one outbox message (workflows/message-delivery.ts): whom and through which channels, then one
// send per channel and account, recorded in message_deliveries under its idempotency key so a retried or
// repeated activity never sends what is already recorded as sent.
import { randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { loadConfig, webBaseUrl, type Config } from '../infra/config';
import type { Db } from '../infra/db';
import { PermanentSendError, sendEmail, sendSms } from '../infra/notify/senders';
import { mintResetLink } from '../infra/reset-links';

const resetLinkPath = async (db: Db, caseId: string, key: string) => {
  const token = await mintResetLink(db, caseId, key);
  return token ? `/password-reset/${token}` : null;
};

export type Channel = 'inbox' | 'email' | 'sms';
export interface DeliveryTarget { messageId: string; channel: Channel; userId: string }

const SUBJECTS: Record<string, string> = {
  password_expiry_reminder: '保护口令即将过期 / Protection password expires soon',
  password_expired: '保护口令已过期 / Protection password expired',
  password_reset_link: '保护口令重置已获批准 / Password reset approved',
  seal_unclaimed_reminder: '印章待领取，逾期将被登出 / Seal awaiting collection: it will be cancelled',
  filing_due_soon: '备案将在 2 小时内到期 / Police filing due within 2 hours',
  filing_overdue: '备案已逾期 / Police filing overdue',
  production_certificate_ready: '电子印章制作证书已签发 / Production certificate issued',
};

export const deliveryKey = (t: DeliveryTarget) => `${t.messageId}:${t.channel}:${t.userId}`;

export function createMessageDeliveryActivities(db: Db, config: Pick<Config, 'notify' | 'runtime'> = loadConfig()) {
  const channels = config.notify.channels;
  return {
    /** Every active account of the message's holder or maker, once per configured channel it can be reached on. */
    async planMessageDelivery({ messageId }: { messageId: string }): Promise<DeliveryTarget[]> {
      const m = await db('outbox_messages').where({ id: messageId }).first('audience', 'recipient');
      if (!m) return [];
      const users = await db('users')
        .where(m.audience === 'maker' ? { role: 'maker', maker_id: m.recipient } : { role: 'holder', holder_id: m.recipient })
        .whereNull('disabled_at')
        .orderBy('username')
        .select('id', 'email', 'phone');
      const reachable = (c: Channel, u: { email: string | null; phone: string | null }) =>
        c === 'inbox' || (c === 'email' && !!u.email) || (c === 'sms' && !!u.phone && !!config.notify.sms.url);
      return channels.flatMap((channel) => users.filter((u) => reachable(channel, u)).map((u) => ({ messageId, channel, userId: u.id })));
    },

    /** One channel, one account: sent at most once as far as this platform can tell (see infra/notify/senders.ts). */
    async deliverMessage(t: DeliveryTarget): Promise<{ status: 'sent' }> {
      const key = deliveryKey(t);
      await db('message_deliveries')
        .insert({ id: randomUUID(), message_id: t.messageId, channel: t.channel, user_id: t.userId, idempotency_key: key, status: 'sending' })
        .onConflict('idempotency_key')
        .ignore();
      const row = await db('message_deliveries').where({ idempotency_key: key }).first('status');
      if (row.status === 'sent') return { status: 'sent' };
      await db('message_deliveries').where({ idempotency_key: key }).increment('attempts', 1);
      let providerId: string | null = null;
      if (t.channel !== 'inbox') {
        const m = await db('outbox_messages').where({ id: t.messageId }).first('kind', 'body', 'link_path', 'case_id');
        const u = await db('users').where({ id: t.userId }).first('email', 'phone');
        // C3: an approved reset's link is minted for this send (only its hash is stored); none once the reset is closed.
        const path = m.kind === 'password_reset_link' && m.case_id ? await resetLinkPath(db, m.case_id, key) : m.link_path;
        const link = path ? `\n\n${webBaseUrl(config)}${path}` : '';
        const outgoing = { idempotencyKey: key, subject: SUBJECTS[m.kind] ?? m.kind, text: `${m.body}${link}` };
        try {
          providerId = t.channel === 'email' ? await sendEmail(config.notify, { ...outgoing, to: u.email }) : await sendSms(config.notify, { ...outgoing, to: u.phone });
        } catch (e) {
          await db('message_deliveries').where({ idempotency_key: key }).update({ error: (e as Error).message.slice(0, 500) });
          if (e instanceof PermanentSendError) throw ApplicationFailure.nonRetryable(e.message, 'PermanentSendError');
          throw e;
        }
      }
      // The inbox shows a message once its delivery row says sent.
      await db('message_deliveries').where({ idempotency_key: key }).update({ status: 'sent', provider_id: providerId, sent_at: new Date(), error: null });
      return { status: 'sent' };
    },

    /** The retries ran out or the channel refused: recorded, and the other channels are unaffected. */
    async recordDeliveryFailure({ target, error }: { target: DeliveryTarget; error: string }) {
      await db('message_deliveries').where({ idempotency_key: deliveryKey(target) }).whereNot({ status: 'sent' }).update({ status: 'failed', error: error.slice(0, 500) });
    },

    async markMessageDelivered({ messageId, at }: { messageId: string; at: string }) {
      await db('outbox_messages').where({ id: messageId }).whereNull('sent_at').update({ sent_at: at });
    },
  };
}
