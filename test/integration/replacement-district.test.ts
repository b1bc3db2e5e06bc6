// M11 and P3 through the JSON API on the real stack (P3: a case's district checked against the holder's USCC): a change of legal representative cancels the old representative's
// personal-name seal (and only theirs); a holder's name change replaces every live seal of the holder in one case,
// each in its own new application with new materials, and the replaced seals keep the name they were made under.
// P3: a new holder's district is derived from its registered address, and a maker's other choice is flagged.
//   node --import tsx scripts/with-stack.ts -- npx jest test/integration/replacement-district.test.ts
import { randomUUID } from 'node:crypto';
import { createMaker, makeResidentId, makeUscc, PDF_BYTES, PNG_BYTES, recentRegistrationDate, upload } from '../helpers/fixtures';
import { filedSeal, waitForCase } from '../helpers/journeys';
import { PRODUCTION_DATA } from '../helpers/production-data';
import { api, createUser, startApp, type RunningApp } from '../helpers/stack';

jest.setTimeout(120_000);

let app: RunningApp;
let maker: { id: string; token: string };
let officer: { id: string; token: string };

beforeAll(async () => {
  app = await startApp({ taskQueueSuffix: `-m11-${randomUUID().slice(0, 8)}` });
  maker = await createUser(app.db, 'maker', { maker_id: await createMaker(app.db) });
  officer = await createUser(app.db, 'officer', { district_code: '110105' });
});
afterAll(async () => {
  await app?.stop();
});

/** A collected seal of the holder, through the maker's and the officer's API. */
async function liveSeal(holder: { uscc: string; name: string }, seal: Record<string, unknown>): Promise<string> {
  const handlerId = makeResidentId();
  const created = await api(app.url, maker.token, 'POST', '/api/applications', {
    holder: { uscc: holder.uscc, name: holder.name, kind: 'enterprise', address: '北京市朝阳区光华路1号', district: '110105' },
    seal: { language: 'zh', ...seal },
    handler: { name: '郑十一', id_number: handlerId, phone: '13700137000' },
  });
  if (created.status !== 201) throw new Error(`application refused: ${JSON.stringify(created.body)}`);
  const caseId = created.body.id;
  // A3 waives the materials of a newly registered holder's public seals only: a personal-name seal brings the person's.
  if (seal.kind === 'personal_name') {
    const waiting = await waitForCase(app, maker.token, caseId, 'materials_required');
    for (const m of waiting.missing_materials as Array<{ kind: string }>) await upload(app.url, maker.token, caseId, m.kind, PDF_BYTES);
  }
  await waitForCase(app, maker.token, caseId, 'awaiting_production');
  const image = await upload(app.url, maker.token, caseId, 'on_site_image', PNG_BYTES, 'onsite.png');
  await api(app.url, maker.token, 'POST', `/api/applications/${caseId}/production`, { production_data: PRODUCTION_DATA, on_site_image_id: image.body.id });
  await waitForCase(app, maker.token, caseId, 'awaiting_filing');
  const filed = await api(app.url, maker.token, 'POST', `/api/applications/${caseId}/filing`, {});
  flagged.push(...((await api(app.url, officer.token, 'GET', '/api/tasks')).body as Array<{ id: string; district_mismatches: unknown[] }>).filter((t) => t.id === filed.body.task_id));
  await api(app.url, officer.token, 'POST', `/api/tasks/${filed.body.task_id}/decision`, { decision: 'accept' });
  await waitForCase(app, maker.token, caseId, 'ready');
  const collected = await api(app.url, maker.token, 'POST', `/api/applications/${caseId}/collection`, { collector_name: '郑十一', collector_id_number: handlerId });
  if (collected.body.status !== 'collected') throw new Error(`not collected: ${JSON.stringify(collected.body)}`);
  return collected.body.seal.id;
}

async function requestReplace(sealId: string, extra: Record<string, string>) {
  const form = new FormData();
  const fields: Record<string, string> = { kind: 'replace', legal_rep_id_number: makeResidentId(), handler_name: '冯十二', handler_id_number: makeResidentId(), handler_phone: '13600136000', ...extra };
  for (const [k, v] of Object.entries(fields)) form.set(k, v);
  form.set('authorisation_letter', new Blob([PDF_BYTES]), 'letter.pdf');
  const res = await fetch(`${app.url}/api/seals/${sealId}/changes`, { method: 'POST', headers: { authorization: `Bearer ${maker.token}` }, body: form });
  return { status: res.status, body: (await res.json()) as any };
}
const flagged: Array<{ id: string; district_mismatches: unknown[] }> = [];
const sealView = async (id: string) => (await api(app.url, maker.token, 'GET', `/api/seals/${id}`)).body;

test('M11 P3: a change of legal representative cancels the old representative\'s personal-name seal; a name change replaces every live seal of the holder in one case and leaves the old seals their name', async () => {
  const admin = await createUser(app.db, 'admin');
  // P3: the holder's USCC was issued by Haidian's registration authority, its address and district are Chaoyang's.
  const uscc = makeUscc('110108');
  const oldName = `北京更名前${uscc.slice(-5)}有限公司`;
  const registered = await api(app.url, admin.token, 'POST', '/api/registration/holders', { uscc, name: oldName, kind: 'enterprise', legal_representative: '吴十', address: '北京市朝阳区光华路1号', district: '110105', registration_date: recentRegistrationDate() });
  expect(registered.status).toBeLessThan(300);
  const holder = { uscc, name: oldName };
  const oldRep = makeResidentId('19600101');
  const newRep = makeResidentId('19750505');
  const [contract, finance, oldRepSeal, newRepSeal] = await Promise.all([
    liveSeal(holder, { kind: 'business_contract' }),
    liveSeal(holder, { kind: 'business_finance' }),
    liveSeal(holder, { kind: 'personal_name', person: { name: '吴十', id_number: oldRep, role: 'legal_representative' } }),
    liveSeal(holder, { kind: 'personal_name', person: { name: '郑新', id_number: newRep, role: 'legal_representative' } }),
  ]);

  // P3: each filing task says the USCC's registration authority is another district's (the address agrees).
  expect(flagged).toHaveLength(4);
  for (const t of flagged) expect(t.district_mismatches).toEqual([{ source: 'uscc', district_code: '110108' }]);
  const taskPage = await (await fetch(`${app.url}/tasks/${flagged[0].id}`, { headers: { authorization: `Bearer ${officer.token}` } })).text();
  expect(taskPage).toContain('统一社会信用代码的登记管理机关在海淀区，与本案辖区不符');

  // 1. The legal representative changes to the holder of newRepSeal: the contract seal is replaced, the old
  //    representative's personal-name seal is cancelled, the new one's and the finance seal stay.
  const repChange = await requestReplace(contract, { replacement_reason: 'legal_rep_change', legal_rep_id_number: newRep });
  expect(repChange.status).toBe(201);
  expect(repChange.body.replacement_case_id).toBeTruthy();
  expect(repChange.body.also_cancelled).toEqual([oldRepSeal]);
  expect((await sealView(oldRepSeal)).status).toBe('cancelled');
  expect((await sealView(newRepSeal)).status).toBe('active');
  expect((await sealView(finance)).status).toBe('active');
  // M11: each with new materials: the replacement's application asks the holder's documents and IDs anew
  // (the old licence and letters name the old representative), none waived or carried over.
  const repCase = await waitForCase(app, maker.token, repChange.body.replacement_case_id, 'materials_required');
  expect((repCase.missing_materials as Array<{ kind: string }>).map((m) => m.kind)).toEqual(['establishment_document', 'legal_rep_authorisation_letter', 'handler_id_copy']);

  // 2. A name change without the new name is refused, naming the field; nothing changes.
  const unnamed = await requestReplace(finance, { replacement_reason: 'name_change' });
  expect(unnamed.status).toBe(400);
  expect(JSON.stringify(unnamed.body)).toContain('new_holder_name');
  expect((await sealView(finance)).status).toBe('active');

  // 3. The name change, asked on the finance seal, replaces it and every other live seal (the new
  //    representative's personal-name seal) in the same case, each in its own new application.
  const newName = `北京更名后${uscc.slice(-5)}有限公司`;
  const renamed = await requestReplace(finance, { replacement_reason: 'name_change', new_holder_name: newName });
  expect(renamed.status).toBe(201);
  expect(renamed.body.also_replaced.map((a: { seal_id: string }) => a.seal_id)).toEqual([newRepSeal]);
  const newCases = [renamed.body.replacement_case_id, renamed.body.also_replaced[0].replacement_case_id];
  expect(new Set(newCases).size).toBe(2);
  // M11: each replacement waits for new materials, brought through the usual upload, and then goes on.
  for (const caseId of newCases) {
    const waiting = await waitForCase(app, maker.token, caseId, 'materials_required');
    expect((waiting.missing_materials as Array<{ kind: string }>).map((m) => m.kind)).toContain('establishment_document');
    for (const m of waiting.missing_materials as Array<{ kind: string }>) await upload(app.url, maker.token, caseId, m.kind, PDF_BYTES);
    await waitForCase(app, maker.token, caseId, 'awaiting_production');
  }
  const newSeals = await app.db('seals').whereIn('case_id', newCases).select('id', 'kind', 'text', 'replaces_seal_id', 'status');
  expect(newSeals.map((s) => s.replaces_seal_id).sort()).toEqual([finance, newRepSeal].sort());
  expect(newSeals.find((s) => s.kind === 'business_finance')!.text).toBe(newName);
  // The replaced seals (and the ones made before) keep the name they were made under; the new ones take the new one.
  for (const id of [finance, newRepSeal, contract, oldRepSeal]) {
    const v = await sealView(id);
    expect({ id, status: v.status, holder_name: v.holder_name }).toEqual({ id, status: 'cancelled', holder_name: oldName });
  }
  for (const s of newSeals) expect((await sealView(s.id)).holder_name).toBe(newName);
  // One request case took them all.
  const requests = await app.db('cases').where({ id: renamed.body.case_id }).select('kind', 'subject_seal_id');
  expect(requests).toEqual([{ kind: 'replace', subject_seal_id: finance }]);
});

test('P3: a new holder\'s district is derived from its registered address, not the maker\'s choice, which is flagged to the officer in the case view', async () => {
  const uscc = makeUscc('110108');
  const created = await api(app.url, maker.token, 'POST', '/api/applications', {
    holder: { uscc, name: `北京辖区${uscc.slice(-5)}有限公司`, kind: 'enterprise', address: '北京市海淀区中关村大街1号', district: '110105' },
    seal: { language: 'zh', kind: 'business_contract' },
    handler: { name: '郑十一', id_number: makeResidentId(), phone: '13700137000' },
  });
  expect(created.status).toBe(201);
  const haidian = await createUser(app.db, 'officer', { district_code: '110108' });
  const view = await api(app.url, haidian.token, 'GET', `/api/applications/${created.body.id}`);
  expect(view.status).toBe(200);
  expect(view.body).toMatchObject({ district_code: '110108', district_mismatches: [{ source: 'maker', district_code: '110105' }] });
  expect((await api(app.url, officer.token, 'GET', `/api/applications/${created.body.id}`)).status).toBe(403);
});

test('P3: a supervisor moves a case to another district: its open task leaves the old district\'s queue for the new one, whose officer decides it; the move is audited and on the timeline; others may not move it', async () => {
  const { caseId, taskId } = await filedSeal(app, maker); // 朝阳 (110105), its filing review open
  const supervisor = await createUser(app.db, 'supervisor');
  const haidian = await createUser(app.db, 'officer', { district_code: '110108' });
  const move = (token: string, body: unknown) => api(app.url, token, 'POST', `/api/applications/${caseId}/district`, body);

  expect((await move(officer.token, { district_code: '110108', reason: '登记地址在海淀区' })).status).toBe(403);
  const missing = await move(supervisor.token, { district_code: '999999' });
  expect(missing.status).toBe(400);
  expect(missing.body.error.fields.map((f: { field: string }) => f.field).sort()).toEqual(['district_code', 'reason']);
  const same = await move(supervisor.token, { district_code: '110105', reason: '误操作' });
  expect(same.status).toBe(409);
  expect(same.body.error).toMatchObject({ code: 'SAME_DISTRICT', fields: [{ field: 'district_code', message_zh: expect.any(String), message_en: expect.any(String) }] });

  const moved = await move(supervisor.token, { district_code: '110108', reason: '登记地址在海淀区' });
  expect(moved).toMatchObject({ status: 200, body: { case_id: caseId, from_district: '110105', district_code: '110108', status: 'filing_under_review' } });
  // The queue of the old district no longer has the task, nor may its officer decide it; the new one's does.
  expect((await api(app.url, officer.token, 'GET', '/api/tasks')).body.map((t: { id: string }) => t.id)).not.toContain(taskId);
  expect((await api(app.url, officer.token, 'POST', `/api/tasks/${taskId}/decision`, { decision: 'accept' })).status).toBe(403);
  expect((await api(app.url, haidian.token, 'GET', '/api/tasks')).body.map((t: { id: string }) => t.id)).toContain(taskId);
  expect((await api(app.url, haidian.token, 'POST', `/api/tasks/${taskId}/decision`, { decision: 'accept' })).status).toBe(200);
  await waitForCase(app, maker.token, caseId, 'ready');
  // The same move sent again once done is refused (the case is there), not applied twice; the trail and the timeline name it once.
  expect((await move(supervisor.token, { district_code: '110108', reason: '登记地址在海淀区' })).body.error).toMatchObject({ code: 'SAME_DISTRICT' });
  const audit = await app.db('audit_entries').where({ case_id: caseId, action: 'case.move_district' }).select('actor_user_id', 'details');
  expect(audit).toEqual([{ actor_user_id: supervisor.id, details: expect.objectContaining({ from_district: '110105', to_district: '110108', reason: '登记地址在海淀区' }) }]);
  expect(await app.db('case_events').where({ case_id: caseId, type: 'district_moved' })).toHaveLength(1);
  // The supervisor's case page offers the move while the case is open (it is ready now, so still open).
  const page = await fetch(`${app.url}/cases/${caseId}`, { headers: { authorization: `Bearer ${supervisor.token}` } });
  expect(await page.text()).toContain('id="move-district"');
});
