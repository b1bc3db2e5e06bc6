// 三(四) 使用流程 through the JSON API on the real services: a holder requires that each use of a seal be
// approved by named staff; a use request is decided in the holder's approval queue (the workflow's Update),
// and only an approved request signs, once, the document it names; a signature that fails hands the request
// back, approved and usable. Other holders see nothing of it.
//   node --import tsx scripts/with-stack.ts -- npx jest test/integration/use-approval.test.ts
import { createHash, randomUUID } from 'node:crypto';
import { api, createUser, startApp, type RunningApp } from '../helpers/stack';
import { createMaker, makeResidentId, makeUscc } from '../helpers/fixtures';
import { changeSealThroughRequest, collectedSeal } from '../helpers/journeys';
import { eventually } from '../helpers/wait';
import { runWorkersUntil } from '../helpers/run-workers';
import { connectWorkerContext } from '../../workers/connect';
import { createHsmWorker } from '../../workers/hsm-worker';
import { useApprovalWorkflowId, useRequestQuery } from '../../workflows/use-approval-messages';

let app: RunningApp;
const GOOD = 'Tiger#Lake2049x';
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
// One seal whose uses the holder's `approver` approves, kept by `keeperId`, shared by the tests.
let maker: { id: string; token: string };
let officer: { id: string; token: string };
let seal: Awaited<ReturnType<typeof collectedSeal>>;
let staff: { id: string; token: string };
let approver: { id: string; token: string };
const keeperId = makeResidentId('19880101');

beforeAll(async () => {
  app = await startApp();
  maker = await createUser(app.db, 'maker', { maker_id: await createMaker(app.db) });
  officer = await createUser(app.db, 'officer', { district_code: '110105' });
  seal = await collectedSeal(app, maker, officer);
  staff = await createUser(app.db, 'holder', { holder_id: seal.holderId });
  approver = await createUser(app.db, 'holder', { holder_id: seal.holderId });
  expect((await api(app.url, staff.token, 'POST', `/api/seals/${seal.sealId}/keepers`, { name: '孙保管', id_number: keeperId })).status).toBe(201);
  expect((await api(app.url, staff.token, 'POST', `/api/seals/${seal.sealId}/password`, { id_number: keeperId, password: GOOD })).status).toBe(201);
  expect((await api(app.url, staff.token, 'PUT', `/api/seals/${seal.sealId}/use-approvers`, { approver_ids: [approver.id] })).status).toBe(200);
});
afterAll(async () => {
  await app?.stop();
});

async function sign(token: string, sealId: string, fields: Record<string, string>, file: Buffer, filename = '采购合同.txt', url = app.url) {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.set(k, v);
  form.set('file', new Blob([file]), filename);
  const res = await fetch(`${url}/api/seals/${sealId}/signatures`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: form });
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

/** A request to use the seal on `doc`, approved by the named approver. */
async function approvedRequest(doc: Buffer, name: string): Promise<string> {
  const created = await api(app.url, staff.token, 'POST', '/api/use-requests', { seal_id: seal.sealId, purpose: '签订采购合同', document_type: 'agreement', document_name: name, document_sha256: sha256(doc) });
  expect(created.status).toBe(201);
  expect((await api(app.url, approver.token, 'POST', `/api/use-requests/${created.body.id}/decision`, { decision: 'approve' })).body).toMatchObject({ status: 'approved' });
  return created.body.id;
}

/** Suspends or resumes the seal through a change request (the maker files it, the officer accepts it). */
async function changeSeal(kind: 'suspend' | 'resume') {
  await changeSealThroughRequest(app, maker, officer, seal.sealId, kind);
  expect(await app.db('seals').where({ id: seal.sealId }).first('status')).toEqual({ status: kind === 'suspend' ? 'suspended' : 'active' });
}

const base = { id_number: keeperId, password: GOOD, format: 'cms' };

test('U1 C1: with use approval required, a seal signs only under a request approved by a named approver, once, for the document it names; the register records the approver; another holder sees none of it', async () => {
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

test('U1 C1: two signatures at once under one approval: exactly one signs, the other is refused (USE_REQUEST_IN_USE while the first holds the request, USE_REQUEST_USED once it is used); one register entry', async () => {
  const doc = Buffer.from('采购合同 第2条：两次同时签章，只有一次有效。');
  const id = await approvedRequest(doc, '采购合同2.txt');
  const both = await Promise.all([sign(staff.token, seal.sealId, { ...base, use_request_id: id }, doc), sign(staff.token, seal.sealId, { ...base, use_request_id: id }, doc)]);
  expect(both.map((r) => r.status).sort()).toEqual([201, 409]);
  const refused = both.find((r) => r.status === 409)!;
  expect(['USE_REQUEST_IN_USE', 'USE_REQUEST_USED']).toContain(refused.body.error.code);
  expectUseRefusal(refused, 409, refused.body.error.code);
  const entries = await app.db('seal_use_register').where({ use_request_id: id }).select('id', 'approver_id');
  expect(entries).toEqual([{ id: both.find((r) => r.status === 201)!.headers.get('x-seal-use-id'), approver_id: approver.id }]);
  expect((await api(app.url, staff.token, 'GET', `/api/use-requests/${id}`)).body).toMatchObject({ status: 'used', register_id: entries[0].id });
});

test('U1 C1: a signature that fails after the approval was reserved (the seal suspended before the HSM signs) leaves the request approved and usable; meanwhile another signature under it is refused; once the seal is resumed the same request signs, once', async () => {
  const doc = Buffer.from('采购合同 第3条：签章失败后，用印申请仍可使用。');
  const id = await approvedRequest(doc, '采购合同3.txt');
  // A second web and main worker whose HSM queue has no worker yet: its signature reserves the request, then
  // waits at the HSM step for as long as the test needs (deterministic: no race with the suspension).
  const lonely = await startApp({ hsmWorker: false, taskQueueSuffix: '-use-approval-c1' });
  const ctx = await connectWorkerContext(lonely.config);
  try {
    const pending = sign(staff.token, seal.sealId, { ...base, use_request_id: id }, doc, '采购合同3.txt', lonely.url);
    const request = app.temporalClient.workflow.getHandle(useApprovalWorkflowId(id));
    const { reservedFor } = await eventually('the signature reserved the request', () => request.query(useRequestQuery), (q) => q.reservedFor !== null);
    const signature = app.temporalClient.workflow.getHandle(`signature:${reservedFor}`);
    await eventually('the signature waits for the HSM worker', async () => (await signature.describe()).raw.pendingActivities?.map((a) => a.activityType?.name) ?? [], (names) => names.includes('signWithSealKey'));

    // Held by that signature: another one is refused, naming the field, and says it may be usable again.
    const meanwhile = await sign(staff.token, seal.sealId, { ...base, use_request_id: id }, doc, '采购合同3.txt');
    expectUseRefusal(meanwhile, 409, 'USE_REQUEST_IN_USE');
    expect(meanwhile.body.error.message_en).toContain('if that one fails');

    await changeSeal('suspend');
    const failed = await runWorkersUntil([await createHsmWorker(ctx, { issuing: lonely.issuingHsm, web: lonely.hsm })], () => pending);
    expect(failed.status).toBe(409);
    expect(failed.body.error.code).toBe('SIGN_NOT_LIVE');
    // Handed back: approved, held by nothing, nothing registered.
    expect((await api(app.url, staff.token, 'GET', `/api/use-requests/${id}`)).body).toMatchObject({ status: 'approved', register_id: null, used_at: null });
    expect(await request.query(useRequestQuery)).toMatchObject({ status: 'approved', reservedFor: null });
    expect(await app.db('seal_use_register').where({ use_request_id: id })).toHaveLength(0);
  } finally {
    await ctx.close();
    await lonely.stop();
  }

  await changeSeal('resume');
  const signed = await sign(staff.token, seal.sealId, { ...base, use_request_id: id }, doc, '采购合同3.txt');
  expect(signed.status).toBe(201);
  expect((await api(app.url, staff.token, 'GET', `/api/use-requests/${id}`)).body).toMatchObject({ status: 'used', register_id: signed.headers.get('x-seal-use-id') });
  expect(await app.db('seal_use_register').where({ use_request_id: id }).select('approver_id')).toEqual([{ approver_id: approver.id }]);
  expectUseRefusal(await sign(staff.token, seal.sealId, { ...base, use_request_id: id }, doc, '采购合同3.txt'), 409, 'USE_REQUEST_USED');
});
