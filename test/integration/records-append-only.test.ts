// M5: production data, filings, certificates and the cancellation ledger are never changed in place. The
// application's own database role cannot UPDATE, DELETE or TRUNCATE them; a trigger refuses it even for the
// owner; a correction is a new version with reason and author (and an officer's approval when configured),
// and every version stays readable.
import { randomUUID } from 'node:crypto';
import { collectedSeal } from '../helpers/journeys';
import { PRODUCTION_DATA } from '../helpers/production-data';
import { createMaker } from '../helpers/fixtures';
import { ownerDb } from '../helpers/owner-db';
import { api, createUser, startApp, testConfig, type RunningApp } from '../helpers/stack';
import { startWebServer } from '../../web/server';
import type { Db } from '../../infra/db';
import { RECORD_TABLES as APP_RECORD_TABLES } from '../../infra/db-roles';
import { createApplicationDbActivities } from '../../activities/applications';

const RECORD_TABLES = ['documents', 'filing_decisions', 'filings', 'platform_statements', 'production_record_decisions', 'production_records', 'seal_use_register', 'signed_documents', 'unclaimed_ledger'];

/** The trigger the migrations put on each record table (migrations/20261128030000_append_only_records.ts). */
const APPEND_ONLY_TRIGGER = 'zzz_m5_append_only';

/** The tables of the current schema that carry the M5 append-only trigger (read from PostgreSQL's catalogue, not from our list). */
async function tablesWithRecordTrigger(db: Db): Promise<string[]> {
  const { rows } = await db.raw(
    `select distinct c.relname as name from pg_trigger t join pg_class c on c.oid = t.tgrelid
     join pg_namespace n on n.oid = c.relnamespace where t.tgname = ? and n.nspname = current_schema() order by 1`,
    [APPEND_ONLY_TRIGGER],
  );
  return rows.map((r: { name: string }) => r.name);
}

let app: RunningApp;
let owner: Db;
let noApprovalWeb: Awaited<ReturnType<typeof startWebServer>>;
let maker: { id: string; token: string };
let otherMaker: { id: string; token: string };
let officer: { id: string; token: string };
let otherOfficer: { id: string; token: string };
let supervisor: { id: string; token: string };
let seal: Awaited<ReturnType<typeof collectedSeal>>;

beforeAll(async () => {
  app = await startApp({ taskQueueSuffix: '-m5' });
  owner = ownerDb();
  // The same services with corrections taking effect at once (records.correctionNeedsOfficerApproval off).
  noApprovalWeb = await startWebServer(testConfig({ ...app.workerEnv, ESEAL_RECORDS_CORRECTION_NEEDS_OFFICER_APPROVAL: 'false' }), 0);
  maker = await createUser(app.db, 'maker', { maker_id: await createMaker(app.db) });
  otherMaker = await createUser(app.db, 'maker', { maker_id: await createMaker(app.db) });
  officer = await createUser(app.db, 'officer', { district_code: '110105' });
  otherOfficer = await createUser(app.db, 'officer', { district_code: '110108' });
  supervisor = await createUser(app.db, 'supervisor');
  seal = await collectedSeal(app, maker, officer, { district: '110105' });
}, 120_000);

afterAll(async () => {
  await noApprovalWeb?.close();
  await owner?.destroy();
  await app?.stop();
});

/** One existing row of each record table of this seal (the unclaimed ledger has none for a collected seal). */
async function recordRows(db: Db): Promise<Array<[string, Record<string, string>]>> {
  const filing = await db('filings').where({ case_id: seal.caseId }).first('id');
  const doc = await db('documents').where({ seal_id: seal.sealId }).first('id');
  const statement = await db('seals').where({ id: seal.sealId }).first('imprint_statement_id');
  const v1 = await db('production_records').where({ case_id: seal.caseId, version: 1 }).first('id');
  return [
    ['production_records', { id: v1.id }],
    ['filings', { id: filing.id }],
    ['filing_decisions', { filing_id: filing.id }],
    ['documents', { id: doc.id }],
    ['platform_statements', { id: statement.imprint_statement_id }],
    ['unclaimed_ledger', { seal_id: seal.sealId }],
  ];
}

const snapshot = async (rows: Array<[string, Record<string, string>]>) => Promise.all(rows.map(([t, where]) => owner(t).where(where).select()));

describe('M5: records are append-only in the database', () => {
  it('M5: workers and the web server connect as the application role, which owns nothing and holds only SELECT and INSERT on the record tables', async () => {
    const { rows } = await app.db.raw(`select current_user as "user", r.rolsuper, r.rolcreaterole, r.rolcreatedb,
      (select count(*) from pg_tables where schemaname = current_schema() and tableowner = current_user)::int as owned
      from pg_roles r where r.rolname = current_user`);
    expect(rows[0]).toEqual({ user: 'eseal_app', rolsuper: false, rolcreaterole: false, rolcreatedb: false, owned: 0 });
    const ownerRole = (await owner.raw('select current_user as "user"')).rows[0].user;
    expect(ownerRole).not.toBe('eseal_app');

    const { rows: privileges } = await app.db.raw(
      `select t.tablename as "table", has_table_privilege(t.tablename, 'SELECT') as "select", has_table_privilege(t.tablename, 'INSERT') as "insert",
        has_table_privilege(t.tablename, 'UPDATE') as "update", has_table_privilege(t.tablename, 'DELETE') as "delete", has_table_privilege(t.tablename, 'TRUNCATE') as "truncate"
       from pg_tables t where t.schemaname = current_schema() and t.tablename = any(?) order by 1`,
      [RECORD_TABLES],
    );
    expect(privileges).toEqual(RECORD_TABLES.map((table) => ({ table, select: true, insert: true, update: false, delete: false, truncate: false })));
    // The read model is updated in place, legitimately.
    expect((await app.db.raw(`select has_table_privilege('cases', 'UPDATE') as c, has_table_privilege('seals', 'UPDATE') as s, has_table_privilege('tasks', 'UPDATE') as t`)).rows[0]).toEqual({ c: true, s: true, t: true });
  });

  it('M5: the record tables the application role is restricted on are exactly the tables carrying the append-only trigger (a new record table missing from either fails here)', async () => {
    expect([...APP_RECORD_TABLES].sort()).toEqual(RECORD_TABLES);
    expect(await tablesWithRecordTrigger(owner)).toEqual(RECORD_TABLES);
  });

  it('M5: as the application, UPDATE, DELETE and TRUNCATE of production records, filings, certificates, statements and the cancellation ledger are refused, and nothing changes', async () => {
    const rows = await recordRows(app.db);
    const before = await snapshot(rows);
    expect(before.slice(0, 5).every((r) => r.length === 1)).toBe(true);
    for (const [table, where] of rows) {
      const column = Object.keys(where)[0];
      await expect(app.db(table).where(where).update({ [column]: where[column] })).rejects.toThrow(new RegExp(`permission denied for table ${table}`));
      await expect(app.db(table).where(where).del()).rejects.toThrow(new RegExp(`permission denied for table ${table}`));
      await expect(app.db.raw('truncate ?? cascade', [table])).rejects.toThrow(/permission denied/);
    }
    await expect(app.db('production_record_decisions').del()).rejects.toThrow(/permission denied for table production_record_decisions/);
    // Nor can the application take the guard away: it owns no table.
    await expect(app.db.raw('alter table production_records disable trigger zzz_m5_append_only')).rejects.toThrow(/must be owner/);
    await expect(app.db.raw('set session_replication_role = replica')).rejects.toThrow(/permission denied/);
    expect(await snapshot(rows)).toEqual(before);
  });

  it('M5: even the owner is refused by the trigger — UPDATE, DELETE and TRUNCATE', async () => {
    const rows = await recordRows(owner);
    const before = await snapshot(rows);
    for (const [table, where] of rows) {
      const column = Object.keys(where)[0];
      await expect(owner(table).where(where).update({ [column]: where[column] })).rejects.toThrow(new RegExp(`M5: ${table} rows are records and are never changed or deleted in place \\(UPDATE refused\\)`));
      await expect(owner(table).where(where).del()).rejects.toThrow(new RegExp(`M5: ${table} rows are records and are never changed or deleted in place \\(DELETE refused\\)`));
      // Archive tables (M7) name their own guard first for TRUNCATE; either way nothing goes.
      await expect(owner.raw('truncate ?? cascade', [table])).rejects.toThrow(/M5: .* rows are records|M7: .* rows belong to seal archives/);
    }
    await expect(owner.raw('truncate production_records cascade')).rejects.toThrow(/M5: production_records rows are records .*\(TRUNCATE refused\)/);
    expect(await snapshot(rows)).toEqual(before);
  });

  it('M5: version 1 recorded by an attempt that pre-M5 workflow code scheduled (no author) names the maker who created the case', async () => {
    const v1 = await owner('production_records').where({ case_id: seal.caseId, version: 1 }).first('on_site_image_id');
    const rollback = new Error('rollback');
    // A copy of the case without production data, in a transaction that is rolled back.
    await expect(
      owner.transaction(async (trx) => {
        const copy = randomUUID();
        await trx.raw(
          `insert into cases select (jsonb_populate_record(null::cases, to_jsonb(c) || jsonb_build_object('id', ?::text, 'idempotency_key', ?::text))).* from cases c where c.id = ?`,
          [copy, copy, seal.caseId],
        );
        await createApplicationDbActivities(trx).recordProductionData({ caseId: copy, productionData: { medium: 'HSM' }, onSiteImageMaterialId: v1.on_site_image_id });
        expect(await trx('production_records').where({ case_id: copy }).select('version', 'author_id', 'data')).toEqual([{ version: 1, author_id: maker.id, data: { medium: 'HSM' } }]);
        throw rollback;
      }),
    ).rejects.toBe(rollback);
  });

  it("M5: a filing's acceptance is appended beside it; the filing itself is kept as submitted", async () => {
    const filing = await app.db('filings').where({ case_id: seal.caseId, kind: 'production' }).first();
    expect(filing).not.toHaveProperty('status');
    expect(await app.db('filing_decisions').where({ filing_id: filing.id }).first('decision', 'reason')).toEqual({ decision: 'accepted', reason: null });
  });
});

describe('M5: a correction is a new version; every version stays readable', () => {
  it('M5: version 1 is what was recorded at production, by the maker', async () => {
    const list = await api(app.url, maker.token, 'GET', `/api/applications/${seal.caseId}/production-records`);
    expect(list.status).toBe(200);
    expect(list.body).toMatchObject({ case_id: seal.caseId, current_version: 1, versions: [{ version: 1, state: 'current', data: { ...PRODUCTION_DATA, key_algorithm: 'ECDSA-P256', certificate_serial: expect.stringMatching(/^[0-9a-f]+$/i), imprint_sha256: expect.stringMatching(/^[0-9a-f]{64}$/) }, reason: null, author: { id: maker.id }, needs_approval: false, approval: null }] });
  });

  it('M5: bad input is refused naming the field in Chinese and English, and nothing is stored', async () => {
    const noReason = await api(noApprovalWeb.url, maker.token, 'POST', `/api/applications/${seal.caseId}/production-records`, { production_data: PRODUCTION_DATA });
    expect(noReason.status).toBe(400);
    expect(noReason.body.error.fields).toEqual([{ field: 'reason', message_zh: '更正原因：必须填写', message_en: 'Reason for the correction: is required' }]);
    const notObject = await api(noApprovalWeb.url, maker.token, 'POST', `/api/applications/${seal.caseId}/production-records`, { production_data: 'HSM', reason: '录入有误' });
    expect(notObject.status).toBe(400);
    expect(notObject.body.error.fields).toEqual([{ field: 'production_data', message_zh: '制作信息：应为对象（键值）', message_en: 'Production data: must be an object (keys and values)' }]);
    const otherImage = await api(noApprovalWeb.url, maker.token, 'POST', `/api/applications/${seal.caseId}/production-records`, { production_data: PRODUCTION_DATA, reason: '录入有误', on_site_image_id: seal.caseId });
    expect(otherImage.status).toBe(400);
    expect(otherImage.body.error.fields).toEqual([expect.objectContaining({ field: 'on_site_image_id' })]);
    // Another maker, or anyone but a maker, may not correct it.
    expect((await api(noApprovalWeb.url, otherMaker.token, 'POST', `/api/applications/${seal.caseId}/production-records`, { production_data: PRODUCTION_DATA, reason: '录入有误' })).status).toBe(403);
    expect((await api(noApprovalWeb.url, officer.token, 'POST', `/api/applications/${seal.caseId}/production-records`, { production_data: PRODUCTION_DATA, reason: '录入有误' })).status).toBe(403);
    expect(await app.db('production_records').where({ case_id: seal.caseId }).count('* as n').first()).toEqual({ n: '1' });
  });

  it('M5: without approval configured, a correction is version 2 with its reason and author at once; version 1 stays readable in the API and the case view', async () => {
    const corrected = await api(noApprovalWeb.url, maker.token, 'POST', `/api/applications/${seal.caseId}/production-records`, { production_data: { ...PRODUCTION_DATA, operator: '钱七' }, reason: '制作人员姓名漏录' });
    expect(corrected.status).toBe(201);
    expect(corrected.body).toMatchObject({ version: 2, state: 'current', data: { medium: 'HSM', operator: '钱七', produced_on: '2026-12-01' }, reason: '制作人员姓名漏录', author: { id: maker.id }, needs_approval: false, approval: null });

    for (const who of [maker, officer, supervisor]) {
      const list = await api(app.url, who.token, 'GET', `/api/applications/${seal.caseId}/production-records`);
      expect(list.body.current_version).toBe(2);
      expect(list.body.versions.map((v: { version: number; state: string; data: { operator: string } }) => [v.version, v.state, v.data.operator])).toEqual([
        [1, 'superseded', PRODUCTION_DATA.operator],
        [2, 'current', '钱七'],
      ]);
    }
    const view = await api(app.url, officer.token, 'GET', `/api/applications/${seal.caseId}`);
    expect(view.body.production_records.map((v: { version: number; state: string }) => [v.version, v.state])).toEqual([[1, 'superseded'], [2, 'current']]);
    // …and on the case's page in the back office, every version with its reason and author.
    const page = await fetch(`${app.url}/cases/${seal.caseId}`, { headers: { authorization: `Bearer ${officer.token}` } });
    const html = await page.text();
    expect(page.status).toBe(200);
    expect(html).toContain('制作信息（各版本）');
    expect(html).toMatch(/v1<\/td><td><span class="chip info">已被更正<\/span>/);
    expect(html).toMatch(/v2<\/td><td><span class="chip ok">现行<\/span>/);
    expect(html).toContain('制作人员姓名漏录');
    expect(html).toContain('钱七');
    // Out of scope: another district's officer and another maker see nothing.
    expect((await api(app.url, otherOfficer.token, 'GET', `/api/applications/${seal.caseId}/production-records`)).status).toBe(403);
    expect((await api(app.url, otherMaker.token, 'GET', `/api/applications/${seal.caseId}/production-records`)).status).toBe(403);
    // Version 1 is the very row written at production, untouched.
    const v1 = await owner('production_records').where({ case_id: seal.caseId, version: 1 }).first();
    expect(v1).toMatchObject({ data: PRODUCTION_DATA, reason: null, author_id: maker.id });
  });

  it("M5: with approval configured, a correction waits for an officer of the case's district; the current version stays until it is approved, and a rejected one stays readable", async () => {
    const path = `/api/applications/${seal.caseId}/production-records`;
    const v3 = await api(app.url, maker.token, 'POST', path, { production_data: { ...PRODUCTION_DATA, operator: '钱七', note: '复核' }, reason: '补充备注' });
    expect(v3.status).toBe(201);
    expect(v3.body).toMatchObject({ version: 3, state: 'pending_approval', needs_approval: true, approval: null });
    expect((await api(app.url, maker.token, 'GET', path)).body.current_version).toBe(2);
    // One correction waits at a time.
    const another = await api(app.url, maker.token, 'POST', path, { production_data: PRODUCTION_DATA, reason: '再次更正' });
    expect(another.status).toBe(409);
    expect(another.body.error.code).toBe('CORRECTION_PENDING');
    // The officer's queue of corrections: own district only.
    expect((await api(app.url, officer.token, 'GET', '/api/production-corrections')).body).toEqual([expect.objectContaining({ case_id: seal.caseId, version: 3, reason: '补充备注', district_code: '110105' })]);
    expect((await api(app.url, otherOfficer.token, 'GET', '/api/production-corrections')).body).toEqual([]);

    expect((await api(app.url, otherOfficer.token, 'POST', `${path}/3/decision`, { decision: 'approve' })).status).toBe(403);
    expect((await api(app.url, maker.token, 'POST', `${path}/3/decision`, { decision: 'approve' })).status).toBe(403);
    const noDecision = await api(app.url, officer.token, 'POST', `${path}/3/decision`, {});
    expect(noDecision.status).toBe(400);
    expect(noDecision.body.error.fields).toEqual([{ field: 'decision', message_zh: '审批结论：必须填写', message_en: 'Decision: is required' }]);
    const approved = await api(app.url, officer.token, 'POST', `${path}/3/decision`, { decision: 'approve' });
    expect(approved.status).toBe(200);
    expect(approved.body).toMatchObject({ version: 3, state: 'current', approval: { decision: 'approved', decided_by: officer.id } });
    const again = await api(app.url, officer.token, 'POST', `${path}/3/decision`, { decision: 'reject', reason: '改主意' });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('ALREADY_DECIDED');

    // A rejected correction is kept, readable, and never becomes current.
    const v4 = await api(app.url, maker.token, 'POST', path, { production_data: { ...PRODUCTION_DATA, medium: 'USB' }, reason: '介质录错' });
    expect(v4.body).toMatchObject({ version: 4, state: 'pending_approval' });
    const noReason = await api(app.url, officer.token, 'POST', `${path}/4/decision`, { decision: 'reject' });
    expect(noReason.status).toBe(400);
    expect(noReason.body.error.fields).toEqual([{ field: 'reason', message_zh: '审批意见：必须填写', message_en: 'Reason: is required' }]);
    const rejected = await api(app.url, officer.token, 'POST', `${path}/4/decision`, { decision: 'reject', reason: '介质确为 HSM' });
    expect(rejected.body).toMatchObject({ version: 4, state: 'rejected', approval: { decision: 'rejected', reason: '介质确为 HSM' } });

    const list = await api(app.url, supervisor.token, 'GET', path);
    expect(list.body.current_version).toBe(3);
    expect(list.body.versions.map((v: { version: number; state: string }) => [v.version, v.state])).toEqual([[1, 'superseded'], [2, 'superseded'], [3, 'current'], [4, 'rejected']]);
    expect(list.body.versions[0].data).toMatchObject(PRODUCTION_DATA);
    expect(list.body.versions[3]).toMatchObject({ reason: '介质录错', author: { id: maker.id }, data: { medium: 'USB' } });
  });

  it("M5: a correction awaiting approval is a task in the case's district queue (not another district's); the task page shows both versions, reason and author; the officer decides it through the correction's workflow Update", async () => {
    const path = `/api/applications/${seal.caseId}/production-records`;
    const v5 = await api(app.url, maker.token, 'POST', path, { production_data: { ...PRODUCTION_DATA, operator: '孙八', note: '复核' }, reason: '制作人员换人' });
    expect(v5.body).toMatchObject({ version: 5, state: 'pending_approval' });
    const record = await app.db('production_records').where({ case_id: seal.caseId, version: 5 }).first('id', 'created_at');

    // The task reaches the district's queue (opened by the workflow's activity), due 24 hours after submission.
    const openTasks = async (who: { token: string }) => (await api(app.url, who.token, 'GET', '/api/tasks?kind=production_correction')).body as Array<{ id: string; case_id: string; due_at: string }>;
    const deadline = Date.now() + 20_000;
    while (!(await openTasks(officer)).some((t) => t.case_id === seal.caseId) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const [task] = (await openTasks(officer)).filter((t) => t.case_id === seal.caseId);
    expect(new Date(task.due_at).getTime() - new Date(record.created_at).getTime()).toBe(24 * 3600_000);
    expect(await app.db('tasks').where({ id: task.id }).first('kind', 'district_code', 'workflow_id', 'record_id')).toEqual({ kind: 'production_correction', district_code: '110105', workflow_id: `correction:${record.id}:5`, record_id: record.id });
    expect((await api(app.url, officer.token, 'GET', '/api/production-corrections')).body).toEqual([expect.objectContaining({ version: 5, task_id: task.id, due_at: task.due_at })]);
    // Another district's officer: not in the queue, the page and the decision are refused.
    expect((await openTasks(otherOfficer)).filter((t) => t.case_id === seal.caseId)).toEqual([]);
    const otherQueue = await fetch(`${app.url}/tasks`, { headers: { authorization: `Bearer ${otherOfficer.token}` } });
    expect(await otherQueue.text()).not.toContain(task.id);
    expect((await fetch(`${app.url}/tasks/${task.id}`, { headers: { authorization: `Bearer ${otherOfficer.token}` } })).status).toBe(403);
    expect((await api(app.url, otherOfficer.token, 'POST', `/api/tasks/${task.id}/decision`, { decision: 'accept' })).status).toBe(403);
    // The maker (own case) sees the pending version, not the officers' task page.
    expect((await fetch(`${app.url}/tasks/${task.id}`, { headers: { authorization: `Bearer ${maker.token}` } })).status).toBe(403);

    // The right district: in the queue page, and the task page shows the version in effect (v3) beside v5.
    const queue = await (await fetch(`${app.url}/tasks?kind=production_correction`, { headers: { authorization: `Bearer ${officer.token}` } })).text();
    expect(queue).toContain(`href="/tasks/${task.id}"`);
    expect(queue).toContain('制作信息更正审批');
    const taskPage = await fetch(`${app.url}/tasks/${task.id}`, { headers: { authorization: `Bearer ${officer.token}` } });
    const html = await taskPage.text();
    expect(taskPage.status).toBe(200);
    expect(html).toContain('v3 → v5');
    expect(html).toContain('<dd class="correction-reason">制作人员换人</dd>');
    expect(html).toContain('<dd class="correction-author">test maker</dd>');
    expect(html).toMatch(/<tr class="changed"><th scope="row" class="mono">operator<\/th><td class="old">钱七<\/td><td class="new">孙八 <span class="chip warn">已更改<\/span><\/td><\/tr>/);
    expect(html).toMatch(/<tr><th scope="row" class="mono">note<\/th><td class="old">复核<\/td><td class="new">复核<\/td><\/tr>/);

    // A return without reason is refused naming the field; nothing is stored, the task stays open.
    const noReason = await api(app.url, officer.token, 'POST', `/api/tasks/${task.id}/decision`, { decision: 'return' });
    expect(noReason.status).toBe(400);
    expect(noReason.body.error.fields).toEqual([{ field: 'reason', message_zh: '退回理由：必须填写', message_en: 'Reason for the return: is required' }]);
    // The Update's validator itself refuses an officer of another district, even past the web's check.
    const handle = app.temporalClient.workflow.getHandle(`correction:${record.id}:5`);
    await expect(handle.executeUpdate('decideCorrection', { args: [{ taskId: task.id, decision: 'accept', reason: null, officerId: otherOfficer.id, officerDistrictCode: '110108' }] })).rejects.toMatchObject({ cause: { type: 'CorrectionWrongDistrict' } });
    expect(await app.db('production_record_decisions').where({ record_id: record.id }).first()).toBeUndefined();
    expect(await app.db('tasks').where({ id: task.id }).first('status')).toEqual({ status: 'open' });

    const accepted = await api(app.url, officer.token, 'POST', `/api/tasks/${task.id}/decision`, { decision: 'accept', reason: '已核实' });
    expect(accepted.status).toBe(200);
    expect(await handle.result()).toEqual({ decision: 'accept' });
    expect(await app.db('tasks').where({ id: task.id }).first('status', 'decision', 'decided_by')).toEqual({ status: 'done', decision: 'accept', decided_by: officer.id });
    const list = await api(app.url, maker.token, 'GET', path);
    expect(list.body.current_version).toBe(5);
    expect(list.body.versions[4]).toMatchObject({ state: 'current', approval: { decision: 'approved', reason: '已核实', decided_by: officer.id } });
    expect((await api(app.url, officer.token, 'GET', '/api/production-corrections')).body).toEqual([]);
    // Decided once: by the task or by the correction's own route, a second decision is a conflict.
    expect((await api(app.url, officer.token, 'POST', `/api/tasks/${task.id}/decision`, { decision: 'return', reason: '改主意' })).status).toBe(409);
    const again = await api(app.url, officer.token, 'POST', `${path}/5/decision`, { decision: 'reject', reason: '改主意' });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('ALREADY_DECIDED');
    const events = await app.db('case_events').where({ case_id: seal.caseId }).whereIn('type', ['correction_submitted', 'correction_approved', 'correction_rejected']).orderBy('id').select('type', 'data');
    expect(events.filter((e) => e.data.version === 5).map((e) => e.type)).toEqual(['correction_submitted', 'correction_approved']);
  });
});
