// 三(四) 使用流程 through the JSON API on the real services: a holder requires that each use of a seal be
// approved by named staff; a use request is decided in the holder's approval queue (the workflow's Update),
// and only an approved request signs, once, the document it names. Other holders see nothing of it.
//   node --import tsx scripts/with-stack.ts -- npx jest test/integration/use-approval.test.ts
import { createHash, randomUUID } from 'node:crypto';
import { api, createUser, startApp, type RunningApp } from '../helpers/stack';
import { createMaker, makeResidentId, makeUscc } from '../helpers/fixtures';
import { collectedSeal } from '../helpers/journeys';

let app: RunningApp;
const GOOD = 'Tiger#Lake2049x';
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

beforeAll(async () => {
  app = await startApp();
});
afterAll(async () => {
  await app?.stop();
});

async function sign(token: string, sealId: string, fields: Record<string, string>, file: Buffer, filename = '采购合同.txt') {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.set(k, v);
  form.set('file', new Blob([file]), filename);
  const res = await fetch(`${app.url}/api/seals/${sealId}/signatures`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: form });
  const bytes = Buffer.from(await res.arrayBuffer());
  const body = (res.headers.get('content-type') ?? '').startsWith('application/json') ? JSON.parse(bytes.toString('utf8')) : null;
  return { status: res.status, headers: res.headers, body };
}

/** The refusal names `use_request_id` in Chinese and English. */
function expectUseRefusal(res: { status: number; body: any }, status: number, code: string) {
  expect(res.status).toBe(status);
  expect(res.body.error.code).toBe(code);
  expect(res.body.error.fields[0]).toMatchObject({ field: 'use_request_id', message_zh: expect.stringMatching(/^用印申请：/), message_en: expect.stringMatching(/^Use request: /) });
}

test('U1 C1: with use approval required, a seal signs only under a request approved by a named approver, once, for the document it names; the register records the approver; another holder sees none of it', async () => {
  const maker = await createUser(app.db, 'maker', { maker_id: await createMaker(app.db) });
  const officer = await createUser(app.db, 'officer', { district_code: '110105' });
  const seal = await collectedSeal(app, maker, officer);
  const staff = await createUser(app.db, 'holder', { holder_id: seal.holderId });
  const approver = await createUser(app.db, 'holder', { holder_id: seal.holderId });
  const keeperId = makeResidentId('19880101');
  expect((await api(app.url, staff.token, 'POST', `/api/seals/${seal.sealId}/keepers`, { name: '孙保管', id_number: keeperId })).status).toBe(201);
  expect((await api(app.url, staff.token, 'POST', `/api/seals/${seal.sealId}/password`, { id_number: keeperId, password: GOOD })).status).toBe(201);
  // Another holder, with its own staff account.
  const otherHolderId = randomUUID();
  await app.db('holders').insert({ id: otherHolderId, uscc: makeUscc('110105'), name: '北京别家测试有限公司', kind: 'enterprise', district_code: '110105', address: '北京市朝阳区' });
  const stranger = await createUser(app.db, 'holder', { holder_id: otherHolderId });

  // The holder names the approver (its own account only).
  const foreign = await api(app.url, staff.token, 'PUT', `/api/seals/${seal.sealId}/use-approvers`, { approver_ids: [stranger.id] });
  expect(foreign.status).toBe(400);
  expect(foreign.body.error.fields[0].field).toBe('approver_ids');
  expect((await api(app.url, stranger.token, 'PUT', `/api/seals/${seal.sealId}/use-approvers`, { approver_ids: [stranger.id] })).status).toBe(403);
  const named = await api(app.url, staff.token, 'PUT', `/api/seals/${seal.sealId}/use-approvers`, { approver_ids: [approver.id] });
  expect(named.status).toBe(200);
  expect(named.body).toMatchObject({ requires_approval: true, approvers: [{ user_id: approver.id }] });

  const doc = Buffer.from('采购合同 第1条：甲方向乙方采购办公设备。');
  const base = { id_number: keeperId, password: GOOD, format: 'cms' };
  // Without a request: refused, naming the field.
  expectUseRefusal(await sign(staff.token, seal.sealId, { ...base, purpose: '签订采购合同', document_type: 'agreement' }, doc), 409, 'USE_APPROVAL_REQUIRED');

  // The request is in the holder's queue at once; the named approver may decide it, nobody else sees it.
  const created = await api(app.url, staff.token, 'POST', '/api/use-requests', { seal_id: seal.sealId, purpose: '签订采购合同', document_type: 'agreement', document_name: '采购合同.txt', document_sha256: sha256(doc) });
  expect(created.status).toBe(201);
  expect(created.body).toMatchObject({ status: 'pending', can_decide: false, approver_ids: [approver.id], document_sha256: sha256(doc) });
  const id = created.body.id;
  const due = new Date(created.body.due_at).getTime() - new Date(created.body.created_at).getTime();
  expect(Math.abs(due - 3 * 24 * 3600_000)).toBeLessThan(60_000); // durations.useApprovalDeadline P3D
  const queue = await api(app.url, approver.token, 'GET', '/api/use-requests?status=pending');
  expect(queue.body.requests.find((r: any) => r.id === id)).toMatchObject({ can_decide: true, purpose: '签订采购合同' });
  expect((await api(app.url, stranger.token, 'GET', '/api/use-requests')).body.requests.map((r: any) => r.id)).not.toContain(id);
  expect((await api(app.url, stranger.token, 'GET', `/api/use-requests/${id}`)).status).toBe(404);
  expect((await api(app.url, stranger.token, 'POST', `/api/use-requests/${id}/decision`, { decision: 'approve' })).status).toBe(404);
  expect((await api(app.url, staff.token, 'POST', `/api/use-requests/${id}/decision`, { decision: 'approve' })).status).toBe(403); // not a named approver

  // Not yet approved: refused.
  expectUseRefusal(await sign(staff.token, seal.sealId, { ...base, use_request_id: id }, doc), 409, 'USE_REQUEST_NOT_APPROVED');

  const approved = await api(app.url, approver.token, 'POST', `/api/use-requests/${id}/decision`, { decision: 'approve' });
  expect(approved.status).toBe(200);
  expect(approved.body).toMatchObject({ status: 'approved', decided_by: approver.id });
  expect((await api(app.url, approver.token, 'POST', `/api/use-requests/${id}/decision`, { decision: 'reject', reason: '改主意' })).status).toBe(409);
  const decidedAudit = await app.db('audit_entries').where({ action: 'use_request.decide' }).whereRaw("details->>'use_request_id' = ?", [id]);
  expect(decidedAudit).toHaveLength(1);

  // Another document than the one approved: refused, nothing spent.
  expectUseRefusal(await sign(staff.token, seal.sealId, { ...base, use_request_id: id }, Buffer.concat([doc, Buffer.from('（附加条款）')])), 409, 'USE_REQUEST_OTHER_DOCUMENT');

  // The approved document signs, once; the register names the request and its approver.
  const signed = await sign(staff.token, seal.sealId, { ...base, use_request_id: id }, doc);
  expect(signed.status).toBe(201);
  const registerId = signed.headers.get('x-seal-use-id');
  const register = await api(app.url, staff.token, 'GET', `/api/use-register?seal_id=${seal.sealId}`);
  expect(register.body.entries.find((e: any) => e.id === registerId)).toMatchObject({ approver_id: approver.id, use_request_id: id, purpose: '签订采购合同', document_type: 'agreement', document_sha256: sha256(doc) });
  expect((await api(app.url, staff.token, 'GET', `/api/use-requests/${id}`)).body).toMatchObject({ status: 'used', register_id: registerId });
  expectUseRefusal(await sign(staff.token, seal.sealId, { ...base, use_request_id: id }, doc), 409, 'USE_REQUEST_USED');
  expect(await app.db('seal_use_register').where({ use_request_id: id })).toHaveLength(1);

  // A rejection needs a reason; a rejected request never signs.
  const second = await api(app.url, staff.token, 'POST', '/api/use-requests', { seal_id: seal.sealId, purpose: '再次用印', document_type: 'voucher', document_name: '收据.txt', document_sha256: sha256(doc) });
  const noReason = await api(app.url, approver.token, 'POST', `/api/use-requests/${second.body.id}/decision`, { decision: 'reject' });
  expect(noReason.status).toBe(400);
  expect(noReason.body.error.fields[0].field).toBe('reason');
  expect((await api(app.url, approver.token, 'POST', `/api/use-requests/${second.body.id}/decision`, { decision: 'reject', reason: '不属于本部门业务' })).body).toMatchObject({ status: 'rejected', reason: '不属于本部门业务' });
  expectUseRefusal(await sign(staff.token, seal.sealId, { ...base, use_request_id: second.body.id }, doc), 409, 'USE_REQUEST_NOT_APPROVED');
});
