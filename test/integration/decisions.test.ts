// Officers' decisions on the real services (issue 10.4, issue 16.1 and 16.6): a task takes its decision from
// the moment its row is visible, exactly once; two decisions at once give one 200 and one bilingual 409 (or,
// for the same request sent twice, the same answer twice), and the audit trail records the one that took
// effect, once. Each decision answers with the state it led to.
import { api, createUser, startApp, type RunningApp } from '../helpers/stack';
import { createMaker, makeResidentId, makeUscc, PDF_BYTES, PNG_BYTES, upload, recentRegistrationDate } from '../helpers/fixtures';
import { waitForCase } from '../helpers/journeys';
import { PRODUCTION_DATA } from '../helpers/production-data';

let app: RunningApp;
let maker: { id: string; token: string };
let officer: { id: string; token: string };
let secondOfficer: { id: string; token: string };

beforeAll(async () => {
  app = await startApp();
  maker = await createUser(app.db, 'maker', { maker_id: await createMaker(app.db) });
  officer = await createUser(app.db, 'officer', { district_code: '110105' });
  secondOfficer = await createUser(app.db, 'officer', { district_code: '110105' });
});
afterAll(async () => {
  await app?.stop();
});

/** The open task of a case, read the instant its row is in PostgreSQL (what the officers' queue shows). */
async function taskRowOf(caseId: string, kind: string, seen: Set<string> = new Set(), pauseMs = 0): Promise<string> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const row = await app.db('tasks').where({ case_id: caseId, kind, status: 'open' }).whereNotIn('id', [...seen]).first('id');
    if (row) return row.id;
    if (Date.now() > deadline) throw new Error(`no open ${kind} task for case ${caseId}`);
    if (pauseMs) await new Promise((r) => setTimeout(r, pauseMs));
  }
}

/** Waits for the case's projected status in PostgreSQL (cheaper than the case view, which audits each read). */
async function caseStatus(caseId: string, status: string) {
  const deadline = Date.now() + 120_000;
  while ((await app.db('cases').where({ id: caseId }).first('status')).status !== status) {
    if (Date.now() > deadline) {
      const now = await app.db('cases').where({ id: caseId }).first('status');
      const d = await app.temporalClient.workflow.getHandle(`application:${caseId}`).describe().catch((e: Error) => e.message);
      throw new Error(`case ${caseId} did not reach ${status}: it is ${now.status}; workflow ${JSON.stringify(d, (_k, v) => (typeof v === 'bigint' ? String(v) : v)).slice(0, 2000)}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

const decide = (who: { token: string }, taskId: string, body: Record<string, unknown>) => api(app.url, who.token, 'POST', `/api/tasks/${taskId}/decision`, body);

/** A newly established state organ (A4) of 朝阳区, materials uploaded: its establishment approval is the next task. */
async function establishmentCase(): Promise<string> {
  const uscc = makeUscc('110105', '11');
  const created = await api(app.url, maker.token, 'POST', '/api/applications', {
    holder: { uscc, name: `北京市朝阳区新设事务中心${uscc.slice(-6, -1)}`, kind: 'state_organ', address: '北京市朝阳区光华路1号', district: '110105' },
    seal: { kind: 'legal_name', language: 'zh' },
    handler: { name: '周九', id_number: makeResidentId(), phone: '13900139000' },
    newly_established_organ: true,
  });
  if (created.status !== 201) throw new Error(`application refused: ${JSON.stringify(created.body)}`);
  await caseStatus(created.body.id, 'materials_required');
  // A4 state organ, legal-name seal in Chinese: the establishment document, the legal representative's letter, the handler's ID.
  for (const kind of ['establishment_document', 'legal_rep_authorisation_letter', 'handler_id_copy']) expect((await upload(app.url, maker.token, created.body.id, kind, PDF_BYTES)).status).toBe(201);
  return created.body.id;
}

/** The audit entries of one task's decision. */
const decisionEntries = (taskId: string) => app.db('audit_entries').where({ action: 'task.decide', target_id: taskId }).orderBy('seq').select('outcome', 'actor_user_id', 'details', 'request_id');

async function inBatches<T>(n: number, size: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < n; i += size) out.push(...(await Promise.all(Array.from({ length: Math.min(size, n - i) }, (_, j) => fn(i + j)))));
  return out;
}

test('P3 M3 M6: a filing review decided the instant its task row appears is accepted, 50 rounds, each answered with the state it led to', async () => {
  const uscc = makeUscc('110105');
  const admin = await createUser(app.db, 'admin');
  const holder = await api(app.url, admin.token, 'POST', '/api/registration/holders', { uscc, name: `北京即决${uscc.slice(-5)}有限公司`, kind: 'enterprise', legal_representative: '吴十', address: '北京市朝阳区光华路1号', district: '110105', registration_date: recentRegistrationDate() });
  const created = await api(app.url, maker.token, 'POST', '/api/applications', {
    holder: { uscc, name: holder.body.name, kind: 'enterprise', address: '北京市朝阳区光华路1号', district: '110105' },
    seal: { kind: 'business_contract', language: 'zh' },
    handler: { name: '郑十一', id_number: makeResidentId(), phone: '13700137000' },
  });
  const caseId = created.body.id;
  await waitForCase(app, maker.token, caseId, 'awaiting_production');
  const image = await upload(app.url, maker.token, caseId, 'on_site_image', PNG_BYTES, 'onsite.png');
  // Issue 16.6: recording production answers with the state it led to, not the one before it.
  const produced = await api(app.url, maker.token, 'POST', `/api/applications/${caseId}/production`, { production_data: PRODUCTION_DATA, on_site_image_id: image.body.id });
  expect(produced.status).toBe(200);
  expect(produced.body.status).toBe('awaiting_filing');

  const seen = new Set<string>();
  for (let round = 1; round <= 50; round++) {
    const filing = api(app.url, maker.token, 'POST', `/api/applications/${caseId}/filing`, {});
    const taskId = await taskRowOf(caseId, 'filing_review', seen);
    seen.add(taskId);
    const returned = await decide(officer, taskId, { decision: 'return', reason: `第${round}轮：印章编码与备案资料不一致` });
    expect({ round, status: returned.status, body: returned.body }).toMatchObject({ round, status: 200, body: { task_id: taskId, decision: 'return', case_status: 'filing_returned', recorded: true } });
    const filed = await filing;
    expect(filed.status).toBe(201);
    expect(filed.body.task_id).toBe(taskId);
  }
  // Each round's decision recorded and audited once; the case waits for the next filing.
  const tasks = await app.db('tasks').where({ case_id: caseId, kind: 'filing_review' }).select('id', 'status', 'decision');
  expect(tasks).toHaveLength(50);
  expect(tasks.every((t) => t.status === 'done' && t.decision === 'return')).toBe(true);
  const entries = await app.db('audit_entries').where({ action: 'task.decide', case_id: caseId });
  expect(entries.filter((e) => e.outcome === 'ok')).toHaveLength(50);
  expect(entries.filter((e) => e.outcome !== 'ok')).toHaveLength(0);
  expect((await app.db('case_events').where({ case_id: caseId, type: 'filing_returned' })).length).toBe(50);
  const view = await api(app.url, maker.token, 'GET', `/api/applications/${caseId}`);
  expect(view.body.status).toBe('filing_returned');
}, 240_000);

test('A4 P3 M6: accept and return sent at once on one task, 50 runs: exactly one 200 and one bilingual 409, one decision applied and audited', async () => {
  const cases = await inBatches(50, 5, () => establishmentCase());
  const runs = await inBatches(50, 5, async (i) => {
    const caseId = cases[i];
    const taskId = await taskRowOf(caseId, 'establishment_approval', new Set(), 5);
    const [a, r] = await Promise.all([decide(officer, taskId, { decision: 'accept' }), decide(secondOfficer, taskId, { decision: 'return', reason: '设立文件不全' })]);
    return { caseId, taskId, a, r };
  });
  let accepted = 0;
  for (const { caseId, taskId, a, r } of runs) {
    expect([a.status, r.status].sort()).toEqual([200, 409]);
    const [won, lost] = a.status === 200 ? [a, r] : [r, a];
    const decision = won.body.decision as 'accept' | 'return';
    if (decision === 'accept') accepted++;
    // The answer is the state the decision led to.
    expect(won.body).toMatchObject({ task_id: taskId, case_status: decision === 'accept' ? 'awaiting_production' : 'rejected', recorded: true });
    // The refusal names the decision taken, in Chinese and English, and says this one was not applied.
    expect(lost.body.error.code).toBe('TaskAlreadyDecided');
    expect(lost.body.error.message_zh).toContain(decision === 'accept' ? '已处理（通过）' : '已处理（退回）');
    expect(lost.body.error.message_en).toContain(`already been decided (${decision}); this decision was not applied`);
    // Only the winner is recorded: task, timeline, case status, audit trail.
    expect(await app.db('tasks').where({ id: taskId }).first('status', 'decision')).toEqual({ status: 'done', decision });
    const events = await app.db('case_events').where({ case_id: caseId }).whereIn('type', ['establishment_approved', 'establishment_rejected']).pluck('type');
    expect(events).toEqual([decision === 'accept' ? 'establishment_approved' : 'establishment_rejected']);
    expect((await api(app.url, maker.token, 'GET', `/api/applications/${caseId}`)).body.status).toBe(decision === 'accept' ? 'awaiting_production' : 'rejected');
    const entries = await decisionEntries(taskId);
    expect(entries.filter((e) => e.outcome === 'ok').map((e) => [e.actor_user_id, e.details.decision])).toEqual([[decision === 'accept' ? officer.id : secondOfficer.id, decision]]);
    expect(entries.filter((e) => e.outcome === 'refused')).toHaveLength(1);
  }
  // Both outcomes occurred, or the test would not show that either can lose.
  expect(accepted).toBeGreaterThan(0);
  expect(accepted).toBeLessThan(50);
}, 240_000);

test('A4 M6: the same accept sent twice at once (a retried request) is one Update, 20 runs: the same answer twice, applied and audited once; from another officer it is a 409', async () => {
  const cases = await inBatches(20, 5, () => establishmentCase());
  const runs = await inBatches(20, 5, async (i) => {
    const taskId = await taskRowOf(cases[i], 'establishment_approval', new Set(), 5);
    // Even runs: one officer's request sent twice; odd runs: two officers accept at once.
    const other = i % 2 === 0 ? officer : secondOfficer;
    const [a, b] = await Promise.all([decide(officer, taskId, { decision: 'accept' }), decide(other, taskId, { decision: 'accept' })]);
    return { i, caseId: cases[i], taskId, a, b };
  });
  for (const { i, caseId, taskId, a, b } of runs) {
    if (i % 2 === 0) {
      expect([a.status, b.status]).toEqual([200, 200]);
      for (const r of [a, b]) expect(r.body).toMatchObject({ task_id: taskId, decision: 'accept', case_status: 'awaiting_production' });
    } else {
      expect([a.status, b.status].sort()).toEqual([200, 409]);
      expect((a.status === 409 ? a : b).body.error.code).toBe('TaskAlreadyDecided');
    }
    const ok = (await decisionEntries(taskId)).filter((e) => e.outcome === 'ok');
    expect(ok).toHaveLength(1);
    expect(await app.db('case_events').where({ case_id: caseId, type: 'establishment_approved' }).count('* as n').first()).toEqual({ n: '1' });
  }
  // A retry after the answer is answered from the record, not applied again (and not audited again).
  const { caseId, taskId } = runs[0];
  const again = await decide(officer, taskId, { decision: 'accept' });
  expect(again.status).toBe(200);
  expect(again.body).toMatchObject({ task_id: taskId, decision: 'accept', case_status: 'awaiting_production', repeated: true });
  expect((await decisionEntries(taskId)).filter((e) => e.outcome === 'ok')).toHaveLength(1);
  const late = await decide(officer, taskId, { decision: 'return', reason: '迟到的退回' });
  expect(late.status).toBe(409);
  expect(late.body.error.code).toBe('TaskAlreadyDecided');
  expect((await app.db('case_events').where({ case_id: caseId, type: 'establishment_rejected' })).length).toBe(0);
}, 240_000);
