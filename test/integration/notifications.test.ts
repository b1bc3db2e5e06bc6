// Delivery of outbox messages (issue 14): the production-certificate message of a collected seal reaches the
// holder's accounts through every configured channel — the web inbox (unread count, read receipts), e-mail read
// back from mailpit's HTTP API (the SMTP server with-stack started), and SMS through an HTTP gateway that this
// test runs — once per channel and account, recorded, and never sent twice.
//   node --import tsx scripts/with-stack.ts -- npx jest test/integration/notifications.test.ts
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { WorkflowIdReusePolicy } from '@temporalio/common';
import { issueApiToken } from '../../web/auth';
import { messageDeliveryWorkflowId } from '../../activities/outbox';
import { readySeal } from '../helpers/journeys';
import { createMaker } from '../helpers/fixtures';
import { api, createUser, startApp, type RunningApp } from '../helpers/stack';
import { eventually } from '../helpers/wait';
import { browserUser, launch, loginAs, shot } from '../e2e/browser';

jest.setTimeout(180_000);

let app: RunningApp;
let gateway: Server;
const smsReceived: Array<{ key: string | undefined; body: { to: string; text: string; idempotency_key: string } }> = [];

beforeAll(async () => {
  // The SMS gateway: an HTTP endpoint that answers like one (the channel is off unless configured).
  gateway = createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => (raw += c));
    req.on('end', () => {
      smsReceived.push({ key: req.headers['idempotency-key'] as string | undefined, body: JSON.parse(raw) });
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id: `sms-${smsReceived.length}` }));
    });
  });
  await new Promise<void>((resolve) => gateway.listen(0, '127.0.0.1', resolve));
  process.env.ESEAL_NOTIFY_CHANNELS = 'inbox,email,sms';
  process.env.ESEAL_NOTIFY_SMS_URL = `http://127.0.0.1:${(gateway.address() as AddressInfo).port}/send`;
  app = await startApp({ taskQueueSuffix: `-notify-${randomUUID().slice(0, 8)}` });
});

afterAll(async () => {
  await app?.stop();
  await new Promise((resolve) => gateway?.close(resolve));
  delete process.env.ESEAL_NOTIFY_CHANNELS;
  delete process.env.ESEAL_NOTIFY_SMS_URL;
});

const mailpit = () => `http://127.0.0.1:${app.config.notify.mailpit.uiPort}`;
const mailsTo = async (address: string) => {
  const res = await fetch(`${mailpit()}/api/v1/search?query=${encodeURIComponent(`to:"${address}"`)}`);
  expect(res.status).toBe(200);
  return ((await res.json()) as { messages: Array<{ ID: string; Subject: string; MessageID: string }> }).messages;
};

test('the production certificate message reaches the holder by inbox, e-mail (mailpit) and SMS, once each, with read receipts and no secret', async () => {
  const maker = await createUser(app.db, 'maker', { maker_id: await createMaker(app.db) });
  const officer = await createUser(app.db, 'officer', { district_code: '110105' });
  const admin = await createUser(app.db, 'admin');
  const other = await createUser(app.db, 'maker', { maker_id: await createMaker(app.db) });

  const { caseId, uscc, handlerId } = await readySeal(app, maker, officer);
  const holderId: string = (await app.db('holders').where({ uscc }).first('id')).id;

  // The holder's staff account with an e-mail address and a mobile number, made by the administrator.
  const email = `holder-${randomUUID().slice(0, 8)}@example.cn`;
  const refused = await api(app.url, admin.token, 'POST', '/api/users', { username: `bad-${randomUUID().slice(0, 6)}`, display_name: '坏地址', role: 'holder', holder_id: holderId, email: 'not-an-address' });
  expect(refused.status).toBe(400);
  expect(JSON.stringify(refused.body)).toContain('电子邮箱');
  const created = await api(app.url, admin.token, 'POST', '/api/users', { username: `holder-${randomUUID().slice(0, 8)}`, display_name: '用章单位经办', role: 'holder', holder_id: holderId, email, phone: '13911112222' });
  expect(created.status).toBe(201);
  expect(created.body.email).toBe(email);
  const holderAccount = { id: created.body.id as string, email };
  // A second account of the holder, with a browser password and no contact details: the inbox only.
  const clerk = await browserUser(app.db, 'holder', { holder_id: holderId });

  // Collection issues the production certificate, and with it the message.
  const collected = await api(app.url, maker.token, 'POST', `/api/applications/${caseId}/collection`, { collector_name: '郑十一', collector_id_number: handlerId });
  expect(collected.body.status).toBe('collected');
  const sealId: string = collected.body.seal.id;
  const holderToken = await issueApiToken(app.db, holderAccount.id, 'test');

  const message = await eventually(
    'the production certificate message delivered',
    () => app.db('outbox_messages').where({ case_id: caseId, kind: 'production_certificate_ready' }).first(),
    (m) => m?.sent_at != null,
    60_000,
  );
  expect(message).toMatchObject({ audience: 'holder', recipient: holderId, link_path: `/seals/${sealId}` });

  // E-mail: one mail in mailpit, to the account's address, with the subject and the link to the seal's page.
  const mails = await mailsTo(holderAccount.email);
  expect(mails).toHaveLength(1);
  expect(mails[0].Subject).toBe('电子印章制作证书已签发 / Production certificate issued');
  const full = (await (await fetch(`${mailpit()}/api/v1/message/${mails[0].ID}`)).json()) as { Text: string };
  expect(full.Text).toContain(`/seals/${sealId}`);
  expect(full.Text).toContain('制作证书');

  // SMS: one POST to the gateway, to the account's number, with the delivery's idempotency key.
  const sms = smsReceived.filter((s) => s.body.to === '13911112222');
  expect(sms).toHaveLength(1);
  expect(sms[0].key).toBe(`${message.id}:sms:${holderAccount.id}`);

  // Recorded per channel; the holder's account without contact details gets the inbox only.
  const deliveries = await app.db('message_deliveries').where({ message_id: message.id, user_id: holderAccount.id }).orderBy('channel').select('channel', 'status', 'attempts');
  expect(deliveries).toEqual([
    { channel: 'email', status: 'sent', attempts: 1 },
    { channel: 'inbox', status: 'sent', attempts: 1 },
    { channel: 'sms', status: 'sent', attempts: 1 },
  ]);

  // Never twice: the delivery workflow of a message cannot run again, and nothing more was sent.
  await expect(
    app.temporalClient.workflow.start('messageDeliveryWorkflow', {
      taskQueue: app.config.temporal.taskQueues.main,
      workflowId: messageDeliveryWorkflowId(message.id),
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      args: [{ messageId: message.id }],
    }),
  ).rejects.toBeInstanceOf(WorkflowExecutionAlreadyStartedError);
  expect(await mailsTo(holderAccount.email)).toHaveLength(1);

  // Inbox: unread, then read (the first receipt stays); nobody else's inbox has it.
  const inbox = await api(app.url, holderToken, 'GET', '/api/inbox');
  expect(inbox.status).toBe(200);
  expect(inbox.body.unread).toBe(1);
  expect(inbox.body.messages[0]).toMatchObject({ id: message.id, kind: 'production_certificate_ready', read_at: null });
  const read = await api(app.url, holderToken, 'POST', `/api/inbox/${message.id}/read`);
  expect(read.status).toBe(200);
  expect((await api(app.url, holderToken, 'POST', `/api/inbox/${message.id}/read`)).body.read_at).toBe(read.body.read_at);
  expect((await api(app.url, holderToken, 'GET', '/api/inbox')).body.unread).toBe(0);
  expect((await api(app.url, other.token, 'POST', `/api/inbox/${message.id}/read`)).status).toBe(404);
  expect((await api(app.url, other.token, 'GET', '/api/inbox')).body.messages.map((m: { id: string }) => m.id)).not.toContain(message.id);
  expect((await api(app.url, officer.token, 'GET', '/api/inbox')).status).toBe(403);
  expect(await app.db('message_deliveries').where({ message_id: message.id, user_id: clerk.id }).pluck('channel')).toEqual(['inbox']);

  // The same message in the browser, for the second account (its own read receipt): unread, then read.
  const browser = await launch();
  try {
    const { page } = await loginAs(browser, app.url, clerk);
    await page.getByRole('link', { name: '消息' }).click();
    await page.waitForURL((u) => u.pathname === '/inbox');
    expect(await page.getByTestId('unread').innerText()).toBe('1 条未读');
    expect(await page.locator('li.unread').innerText()).toContain('《电子印章制作证书》已签发');
    await shot(page, 'holder-inbox-unread');
    const reloaded = page.waitForResponse((r) => new URL(r.url()).pathname === '/inbox' && r.request().method() === 'GET');
    await page.getByRole('button', { name: '标为已读' }).click();
    await reloaded;
    expect(await page.getByTestId('unread').innerText()).toBe('0 条未读');
    expect(await page.locator('li.read').innerText()).toContain('已读于');
    await shot(page, 'holder-inbox-read');
    await page.getByRole('link', { name: '查看' }).click();
    await page.waitForURL((u) => u.pathname === `/seals/${sealId}`);
  } finally {
    await browser.close();
  }
});
