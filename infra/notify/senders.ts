// The outside channels of message delivery: SMTP (nodemailer) and an SMS gateway over HTTP. Each send
// carries the delivery's idempotency key (SMTP Message-ID, the gateway's Idempotency-Key header), so a
// receiver can drop the copy a retry sends when a worker died between the send and its record.
import nodemailer, { type Transporter } from 'nodemailer';
import type { NotifyConfig } from '../config';

/** A refusal that will not change on a retry (an address the server rejects, a gateway's 4xx). */
export class PermanentSendError extends Error {}

export interface OutgoingMessage {
  idempotencyKey: string;
  to: string;
  subject: string;
  text: string;
}

const transports = new Map<string, Transporter>();

export async function sendEmail(config: NotifyConfig, m: OutgoingMessage): Promise<string> {
  const { host, port, secure, from } = config.smtp;
  const key = `${host}:${port}:${secure}`;
  let transport = transports.get(key);
  if (!transport) {
    transport = nodemailer.createTransport({ host, port, secure, connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 20_000 });
    transports.set(key, transport);
  }
  const messageId = `<${m.idempotencyKey.replace(/[^A-Za-z0-9.-]/g, '.')}@eseal.delivery>`;
  try {
    const info = await transport.sendMail({ from, to: m.to, subject: m.subject, text: m.text, messageId, headers: { 'X-Eseal-Idempotency-Key': m.idempotencyKey } });
    return info.messageId ?? messageId;
  } catch (e) {
    const code = (e as { responseCode?: number }).responseCode;
    // 5xx: the server refuses this message for good; 4xx and connection errors are worth another attempt.
    if (code && code >= 500) throw new PermanentSendError(`SMTP ${code}: ${(e as Error).message}`);
    throw e;
  }
}

export async function sendSms(config: NotifyConfig, m: OutgoingMessage): Promise<string> {
  if (!config.sms.url) throw new PermanentSendError('notify.sms.url is not set');
  const res = await fetch(config.sms.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': m.idempotencyKey },
    body: JSON.stringify({ to: m.to, text: `${m.subject}\n${m.text}`, idempotency_key: m.idempotencyKey }),
    signal: AbortSignal.timeout(15_000),
  });
  const answer = await res.text();
  if (res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429) throw new PermanentSendError(`SMS gateway ${res.status}: ${answer.slice(0, 200)}`);
  if (!res.ok) throw new Error(`SMS gateway ${res.status}: ${answer.slice(0, 200)}`);
  try {
    return String((JSON.parse(answer) as { id?: unknown }).id ?? res.status);
  } catch {
    return String(res.status);
  }
}
