// The audit trail (M6, P1) on the real stack: reads of personal data and changes are recorded with who,
// role, district or maker, what, which case, when and from where; the hash chain stays linear under
// concurrent appends; its head is signed in the HSM; `npm run audit:verify` names the first entry that a
// database superuser altered, removed or reordered; supervisors search and export it, nobody else can.
import { execFile } from 'node:child_process';
import { randomUUID, verify as nodeVerify } from 'node:crypto';
import path from 'node:path';
import { promisify } from 'node:util';
import { createDb, type Db } from '../../infra/db';
import { appendAudit } from '../../infra/audit/log';
import { AUDIT_SIGNING_KEY_LABEL, entryHash, headBytes, type AuditRow } from '../../infra/audit/chain';
import { auditCertificatePath } from '../../infra/audit/heads';
import { loadAuditPublicKey, verifyAuditChain } from '../../infra/audit/verify';
import { auditHeadSigningWorkflow } from '../../workflows/audit-head-signing';
import { api, createUser, startApp, type RunningApp } from '../helpers/stack';
import { ownerDb } from '../helpers/owner-db';
import { createMaker, makeResidentId, makeUscc, PDF_BYTES, upload } from '../helpers/fixtures';

const run = promisify(execFile);
const ROOT = path.join(__dirname, '..', '..');

let app: RunningApp;
type User = { id: string; token: string };
let maker: User;
let otherMaker: User;
let chaoyang: User; // officer of 110105
let haidian: User; // officer of 110108
let supervisor: User;
let holderUser: User;
let admin: User;

beforeAll(async () => {
  app = await startApp();
  const makerId = await createMaker(app.db);
  maker = await createUser(app.db, 'maker', { maker_id: makerId });
  otherMaker = await createUser(app.db, 'maker', { maker_id: await createMaker(app.db) });
  chaoyang = await createUser(app.db, 'officer', { district_code: '110105' });
  haidian = await createUser(app.db, 'officer', { district_code: '110108' });
  supervisor = await createUser(app.db, 'supervisor');
  admin = await createUser(app.db, 'admin');
});
afterAll(async () => {
  await app?.stop();
});

const username = async (u: User) => (await app.db('users').where({ id: u.id }).first('username')).username as string;
const entriesOf = (where: Record<string, unknown>) => app.db('audit_entries').where(where).orderBy('seq');
const lastSeq = async () => BigInt((await app.db('audit_chain_head').where({ id: 1 }).first('seq')).seq);

async function submitCase(district = '110105') {
  const uscc = makeUscc(district);
  const res = await api(app.url, maker.token, 'POST', '/api/applications', {
    holder: { uscc, name: `北京审计测试${uscc.slice(-5)}有限公司`, kind: 'enterprise', address: '北京市朝阳区建国路1号', district, legal_representative: '王五' },
    seal: { kind: 'business_contract', language: 'zh' },
    handler: { name: '赵六', id_number: makeResidentId(), phone: '13800138000' },
  }, { 'x-forwarded-for': '198.51.100.23' });
  expect(res.status).toBe(201);
  return res.body as { id: string; holder: { id: string } };
}

/** `npm run audit:verify -- --json` as a child process, against the test database. */
async function auditVerify(): Promise<{ code: number; report: any; stdout: string }> {
  try {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', path.join(ROOT, 'scripts/audit-verify.ts'), '--json'], { cwd: ROOT, env: process.env });
    return { code: 0, report: JSON.parse(stdout), stdout };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    let report: any = null;
    try {
      report = JSON.parse(err.stdout);
    } catch {
      throw new Error(`audit:verify exited ${err.code}: ${err.stdout} ${err.stderr}`);
    }
    return { code: err.code, report, stdout: err.stdout };
  }
}

/** As the database superuser with triggers switched off: what an attacker with full database access can do. */
async function asSuperuser<T>(fn: (trx: Db) => Promise<T>): Promise<T> {
  const superuser = ownerDb(); // the application's own role may not switch triggers off (M5)
  try {
    return await superuser.transaction(async (trx) => {
      await trx.raw('set local session_replication_role = replica');
      return fn(trx as unknown as Db);
    });
  } finally {
    await superuser.destroy();
  }
}

describe('M6 P1: audit trail', () => {
  let caseId: string;

  it('M6 P1: an officer reading a case writes an entry naming them, their role and district, the case, the time and their address', async () => {
    const c = await submitCase('110105');
    caseId = c.id;
    const before = new Date();
    const read = await api(app.url, chaoyang.token, 'GET', `/api/applications/${caseId}`, undefined, { 'x-forwarded-for': '203.0.113.7' });
    expect(read.status).toBe(200);
    const [entry] = await entriesOf({ action: 'case.read', case_id: caseId, actor_user_id: chaoyang.id });
    expect(entry).toMatchObject({
      actor_username: await username(chaoyang),
      actor_role: 'officer',
      actor_district_code: '110105',
      actor_maker_id: null,
      outcome: 'ok',
      target_type: 'case',
      target_id: caseId,
      client_address: '203.0.113.7',
    });
    expect(entry.at.getTime()).toBeGreaterThanOrEqual(before.getTime() - 5);
    expect(entry.at.getTime()).toBeLessThanOrEqual(Date.now());

    // An officer of another district is refused (P3), and the attempt is recorded too.
    expect((await api(app.url, haidian.token, 'GET', `/api/applications/${caseId}`)).status).toBe(403);
    const [refused] = await entriesOf({ action: 'case.read', case_id: caseId, actor_user_id: haidian.id });
    expect(refused).toMatchObject({ outcome: 'refused', actor_role: 'officer', actor_district_code: '110108', client_address: '127.0.0.1' });
    expect(refused.details).toMatchObject({ method: 'GET', path: '/api/applications/{id}', status: 403, error_code: 'forbidden' });

    // A maker polling the case view records one read per request, not one per internal poll.
    const n = (await entriesOf({ action: 'case.read', case_id: caseId, actor_user_id: maker.id })).length;
    await api(app.url, maker.token, 'GET', `/api/applications/${caseId}`);
    expect(await entriesOf({ action: 'case.read', case_id: caseId, actor_user_id: maker.id })).toHaveLength(n + 1);
  });

  it('M6 P1: downloading a material (personal data) writes a material.read entry for the case', async () => {
    const up = await upload(app.url, maker.token, caseId, 'handler_id_copy', PDF_BYTES, 'id.pdf');
    expect(up.status).toBe(201);
    const got = await fetch(`${app.url}/api/materials/${up.body.id}`, { headers: { authorization: `Bearer ${chaoyang.token}` } });
    expect(got.status).toBe(200);
    await got.arrayBuffer();
    const [entry] = await entriesOf({ action: 'material.read', target_id: up.body.id });
    expect(entry).toMatchObject({ case_id: caseId, actor_user_id: chaoyang.id, actor_district_code: '110105', outcome: 'ok', target_type: 'material' });
    expect(entry.details).toEqual({ kind: 'handler_id_copy' });
    // The upload itself is a change, recorded with the maker's scope and the new material.
    const [uploaded] = await entriesOf({ action: 'material.upload', target_id: up.body.id });
    expect(uploaded).toMatchObject({ case_id: caseId, actor_user_id: maker.id, actor_role: 'maker', actor_maker_id: (await app.db('users').where({ id: maker.id }).first('maker_id')).maker_id, outcome: 'ok' });
  });

  it('M6 P1: a change writes an entry (who, maker, what, which case, when, from where), and so do refused changes', async () => {
    const before = new Date();
    const c = await submitCase('110105');
    // The entry is committed before the response leaves: no waiting.
    const [submitted] = await entriesOf({ action: 'case.submit', case_id: c.id });
    expect(submitted).toMatchObject({ actor_user_id: maker.id, actor_role: 'maker', outcome: 'ok', target_type: 'case', target_id: c.id, client_address: '198.51.100.23' });
    expect(submitted.actor_maker_id).toBeTruthy();
    expect(submitted.details).toMatchObject({ method: 'POST', path: '/api/applications', status: 201 });
    expect(submitted.at.getTime()).toBeGreaterThanOrEqual(before.getTime() - 5);
    // Request bodies are never recorded: no ID number, phone or name in the entry.
    expect(JSON.stringify(submitted)).not.toMatch(/13800138000|赵六/);

    // Refused: another maker's upload to this case (403), no token at all (401), a decision on no task (404).
    expect((await upload(app.url, otherMaker.token, c.id, 'handler_id_copy', PDF_BYTES)).status).toBe(403);
    const [foreign] = await entriesOf({ action: 'material.upload', case_id: c.id, actor_user_id: otherMaker.id });
    expect(foreign).toMatchObject({ outcome: 'refused', actor_role: 'maker', target_type: 'material', target_id: null });
    expect(foreign.details).toMatchObject({ status: 403, error_code: 'forbidden' });

    const anonymous = await api(app.url, null, 'POST', `/api/applications/${c.id}/filing`, {});
    expect(anonymous.status).toBe(401);
    const [anon] = await entriesOf({ action: 'case.filing', case_id: c.id });
    expect(anon).toMatchObject({ outcome: 'refused', actor_user_id: null, actor_role: null, client_address: '127.0.0.1' });

    const taskId = randomUUID();
    expect((await api(app.url, chaoyang.token, 'POST', `/api/tasks/${taskId}/decision`, { decision: 'accept' })).status).toBe(404);
    const [decision] = await entriesOf({ action: 'task.decide', target_id: taskId });
    expect(decision).toMatchObject({ outcome: 'refused', actor_user_id: chaoyang.id, actor_district_code: '110105', target_type: 'task' });

    // A credential in the path (the one-time reset link) is never recorded.
    const token = 'A'.repeat(43);
    expect((await api(app.url, null, 'POST', `/api/password-reset/${token}`, { code: '123456', password: 'Mu7!qZ_p0rT9' })).status).toBe(404);
    const [reset] = await app.db('audit_entries').where({ action: 'password.reset' }).orderBy('seq', 'desc').limit(1);
    expect(reset.details.path).toBe('/api/password-reset/{token}');
    expect(JSON.stringify(reset)).not.toContain(token);
  });

  it('M6 P1: the application cannot change or remove entries — the trail is append-only in the database', async () => {
    const [e] = await app.db('audit_entries').orderBy('seq').limit(1);
    // Not granted to the application (M5: SELECT and INSERT only), and the trigger refuses it even to the owner.
    await expect(app.db('audit_entries').where({ seq: e.seq }).update({ details: JSON.stringify({ x: 1 }) })).rejects.toThrow(/permission denied for table audit_entries/);
    await expect(app.db('audit_entries').where({ seq: e.seq }).delete()).rejects.toThrow(/permission denied for table audit_entries/);
    const owner = ownerDb();
    try {
      await expect(owner('audit_entries').where({ seq: e.seq }).update({ details: JSON.stringify({ x: 1 }) })).rejects.toThrow(/append-only/);
      await expect(owner('audit_entries').where({ seq: e.seq }).delete()).rejects.toThrow(/append-only/);
    } finally {
      await owner.destroy();
    }
    await expect(app.db.raw('truncate audit_entries')).rejects.toThrow(/permission denied for table audit_entries/); // not even granted
    await expect(app.db('audit_chain_head').where({ id: 1 }).update({ seq: 1 })).rejects.toThrow(/only moves forward/);
  });

  it('M6 P1: an entry written in the caller\'s transaction is committed with the change, or not at all', async () => {
    const before = await lastSeq();
    await expect(
      app.db.transaction(async (trx) => {
        await appendAudit(trx, { action: 'test.in_transaction', details: { kept: false } });
        throw new Error('the change failed');
      }),
    ).rejects.toThrow('the change failed');
    expect(await lastSeq()).toBe(before);
    const kept = await app.db.transaction((trx) => appendAudit(trx, { action: 'test.in_transaction', details: { kept: true } }));
    expect(BigInt(kept.seq)).toBe(before + 1n);
    expect(await entriesOf({ action: 'test.in_transaction' })).toHaveLength(1);
  });

  it('M6 P1: concurrent appends from several processes and requests keep one linear, gapless chain', async () => {
    const url = process.env.DATABASE_URL!;
    const pools = [app.db, createDb(url), createDb(url)]; // three writers, as three processes would have
    const start = await lastSeq();
    try {
      await Promise.all([
        ...pools.flatMap((db, p) =>
          Array.from({ length: 150 }, (_, i) => appendAudit(db, { action: 'test.concurrent', details: { pool: p, i }, clientAddress: '192.0.2.1' })),
        ),
        ...Array.from({ length: 20 }, () => api(app.url, chaoyang.token, 'GET', `/api/applications/${caseId}`)),
        ...Array.from({ length: 10 }, () => api(app.url, haidian.token, 'POST', `/api/tasks/${randomUUID()}/decision`, { decision: 'accept' })),
      ]);
    } finally {
      await Promise.all(pools.slice(1).map((db) => db.destroy()));
    }
    const rows: AuditRow[] = await app.db('audit_entries').where('seq', '>', start.toString()).orderBy('seq');
    expect(rows.length).toBeGreaterThanOrEqual(450 + 20 + 10);
    let prev = (await app.db('audit_entries').where({ seq: start.toString() }).first('hash'))?.hash ?? '0'.repeat(64);
    rows.forEach((r, i) => {
      expect(BigInt(r.seq)).toBe(start + BigInt(i) + 1n); // gapless
      expect(r.prev_hash).toBe(prev); // each links to the one before
      expect(entryHash(r.seq, r.prev_hash, r)).toBe(r.hash);
      prev = r.hash;
    });
    expect(new Set(rows.filter((r) => r.action === 'test.concurrent').map((r) => `${r.details.pool}:${r.details.i}`)).size).toBe(450);
    const head = await app.db('audit_chain_head').where({ id: 1 }).first();
    expect({ seq: String(head.seq), hash: head.hash }).toEqual({ seq: rows[rows.length - 1].seq, hash: prev });
  });

  it('M6 P1: the chain head is signed in the HSM at intervals by auditHeadSigningWorkflow on the HSM worker', async () => {
    const cert = loadAuditPublicKey(auditCertificatePath(app.config.runtime.dataDir));
    expect(cert.subject).toContain('审计日志签名');
    expect(await app.issuingHsm.keyAttributes(AUDIT_SIGNING_KEY_LABEL)).toMatchObject({ sensitive: true, extractable: false, neverExtractable: true });

    const handle = await app.temporalClient.workflow.start(auditHeadSigningWorkflow, {
      taskQueue: app.config.temporal.taskQueues.main,
      workflowId: `audit-head-signing-test-${randomUUID()}`,
      args: [{ hsmTaskQueue: app.config.temporal.taskQueues.hsm, everyEntries: 5, everySeconds: 3, pollMs: 100 }],
    });
    try {
      for (let i = 0; i < 5; i++) await appendAudit(app.db, { action: 'test.head', details: { i } });
      const target = await lastSeq();
      const deadline = Date.now() + 30_000;
      let head: any;
      while (!(head = await app.db('audit_heads').where('seq', '>=', target.toString()).orderBy('seq').first())) {
        if (Date.now() > deadline) throw new Error('no head signed within 30 s');
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(head.key_label).toBe(AUDIT_SIGNING_KEY_LABEL);
      expect(head.key_fingerprint).toBe(cert.fingerprint);
      const entry = await app.db('audit_entries').where({ seq: head.seq }).first('hash');
      expect(head.hash).toBe(entry.hash);
      const bytes = headBytes({ seq: String(head.seq), hash: head.hash, prevHeadSeq: head.prev_head_seq === null ? null : String(head.prev_head_seq), signedAt: head.signed_at });
      expect(nodeVerify('sha256', bytes, cert.key, head.signature)).toBe(true);

      // With nothing new for T seconds, one more entry is signed once it is T seconds old.
      const one = await appendAudit(app.db, { action: 'test.head', details: { late: true } });
      const until = Date.now() + 30_000;
      while (!(await app.db('audit_heads').where({ seq: one.seq }).first())) {
        if (Date.now() > until) throw new Error('the lone entry was not signed within 30 s');
        await new Promise((r) => setTimeout(r, 200));
      }
    } finally {
      await handle.cancel(); // the activity hears it at its next heartbeat
      await expect(handle.result()).rejects.toThrow();
    }
  });

  it('M6 P1: audit:verify says OK for an intact chain', async () => {
    const { code, report } = await auditVerify();
    expect(code).toBe(0);
    expect(report).toMatchObject({ ok: true, firstSeq: '1' });
    expect(report.heads).toBeGreaterThanOrEqual(1);
    expect(BigInt(report.lastSeq)).toBe(await lastSeq());
  });

  describe('M6 P1: tampering as the database superuser is found and the first entry affected is named', () => {
    let k: string; // an entry in the middle of the chain, before the last signed head
    beforeAll(async () => {
      const head = await app.db('audit_heads').orderBy('seq', 'desc').first('seq');
      const e = await app.db('audit_entries').where('seq', '<', head.seq).andWhere({ action: 'case.read', actor_user_id: chaoyang.id }).orderBy('seq').first('seq');
      k = String(e.seq);
    });
    afterEach(async () => {
      const { code, report } = await auditVerify(); // each test puts the chain back as it was
      expect({ code, ok: report.ok, finding: report.finding }).toEqual({ code: 0, ok: true, finding: undefined });
    });

    it('M6 P1: a details field updated in place → "entry k altered"', async () => {
      const original = await app.db('audit_entries').where({ seq: k }).first('details');
      await asSuperuser((db) => db('audit_entries').where({ seq: k }).update({ details: JSON.stringify({ ...original.details, forged: true }) }));
      try {
        const { code, report, stdout } = await auditVerify();
        expect(code).toBe(1);
        expect(report.finding).toMatchObject({ kind: 'altered', seq: k });
        expect(stdout).toContain(`entry ${k}`);
      } finally {
        await asSuperuser((db) => db('audit_entries').where({ seq: k }).update({ details: JSON.stringify(original.details) }));
      }
    });

    it('M6 P1: an entry deleted → "entry k removed"', async () => {
      const row = await app.db('audit_entries').where({ seq: k }).first();
      await asSuperuser((db) => db('audit_entries').where({ seq: k }).delete());
      try {
        const { code, report } = await auditVerify();
        expect(code).toBe(1);
        expect(report.finding).toMatchObject({ kind: 'removed', seq: k });
      } finally {
        await asSuperuser((db) => db('audit_entries').insert({ ...row, details: JSON.stringify(row.details) }));
      }
    });

    it('M6 P1: two entries swapped (their seqs exchanged) → "entry k reordered"', async () => {
      const other = (BigInt(k) + 3n).toString();
      const parked = (BigInt(k) + 10n ** 15n).toString(); // the primary key is checked row by row: swap in three steps
      const swap = async (db: Db) => {
        await db('audit_entries').where({ seq: k }).update({ seq: parked });
        await db('audit_entries').where({ seq: other }).update({ seq: k });
        await db('audit_entries').where({ seq: parked }).update({ seq: other });
      };
      await asSuperuser(swap);
      try {
        const { code, report } = await auditVerify();
        expect(code).toBe(1);
        expect(report.finding).toMatchObject({ kind: 'reordered', seq: k });
        expect(report.finding.message).toContain(`now at seq ${other}`);
      } finally {
        await asSuperuser(swap);
      }
    });

    it('M6 P1: an entry altered and its hash recomputed → the next entry no longer links to it: "entry k altered"', async () => {
      const row: AuditRow = await app.db('audit_entries').where({ seq: k }).first();
      const forged = { ...row, details: { ...row.details, forged: true } };
      await asSuperuser((db) => db('audit_entries').where({ seq: k }).update({ details: JSON.stringify(forged.details), hash: entryHash(k, row.prev_hash, forged) }));
      try {
        const { code, report } = await auditVerify();
        expect(code).toBe(1);
        expect(report.finding).toMatchObject({ kind: 'altered', seq: k });
      } finally {
        await asSuperuser((db) => db('audit_entries').where({ seq: k }).update({ details: JSON.stringify(row.details), hash: row.hash }));
      }
    });

    it('M6 P1: the whole chain rewritten from entry k on (every hash recomputed) → caught by the head signed in the HSM', async () => {
      const rows: AuditRow[] = await app.db('audit_entries').where('seq', '>=', k).orderBy('seq');
      const previousHead = await app.db('audit_heads').where('seq', '<', k).orderBy('seq', 'desc').first('seq');
      const chainHead = await app.db('audit_chain_head').where({ id: 1 }).first();
      let prev = rows[0].prev_hash;
      const forged = rows.map((r, i) => {
        const details = i === 0 ? { ...r.details, forged: true } : r.details;
        const hash = entryHash(r.seq, prev, { ...r, details });
        const out = { seq: r.seq, details, prev_hash: prev, hash };
        prev = hash;
        return out;
      });
      await asSuperuser(async (db) => {
        for (const f of forged) await db('audit_entries').where({ seq: f.seq }).update({ details: JSON.stringify(f.details), prev_hash: f.prev_hash, hash: f.hash });
        await db('audit_chain_head').where({ id: 1 }).update({ hash: prev });
      });
      try {
        const { code, report } = await auditVerify();
        expect(code).toBe(1);
        expect(report.finding.kind).toBe('rewritten');
        // Somewhere after the last head that still matches: the earliest entry the signatures can name.
        expect(BigInt(report.finding.seq)).toBe(BigInt(previousHead?.seq ?? 0) + 1n);
        expect(BigInt(report.finding.seq)).toBeLessThanOrEqual(BigInt(k));
      } finally {
        await asSuperuser(async (db) => {
          for (const r of rows) await db('audit_entries').where({ seq: r.seq }).update({ details: JSON.stringify(r.details), prev_hash: r.prev_hash, hash: r.hash });
          await db('audit_chain_head').where({ id: 1 }).update({ hash: chainHead.hash });
        });
      }
    });

    it('M6 P1: the newest entries removed (the tail cut off) → "entry n removed"', async () => {
      const tail = await app.db('audit_entries').orderBy('seq', 'desc').limit(2);
      await asSuperuser((db) => db('audit_entries').whereIn('seq', tail.map((t) => t.seq)).delete());
      try {
        const { code, report } = await auditVerify();
        expect(code).toBe(1);
        expect(report.finding).toMatchObject({ kind: 'removed', seq: String(tail[1].seq) });
      } finally {
        await asSuperuser((db) => db('audit_entries').insert(tail.map((t) => ({ ...t, details: JSON.stringify(t.details) }))));
      }
    });
  });

  it('M6 P1: in-process verification agrees with the command', async () => {
    const report = await verifyAuditChain(app.db, loadAuditPublicKey(auditCertificatePath(app.config.runtime.dataDir)), { pageSize: 100 });
    expect(report.ok).toBe(true);
    expect(report.entries).toBe(Number(await lastSeq()));
  });

  describe('M6 P1: supervisors search and export the trail; nobody else can', () => {
    it('M6 P1: search by case, person (ID or username), action (exact or prefix) and time range, newest first, paged', async () => {
      const byCase = await api(app.url, supervisor.token, 'GET', `/api/audit?case=${caseId}`);
      expect(byCase.status).toBe(200);
      expect(byCase.body.entries.length).toBeGreaterThan(2);
      expect(byCase.body.entries.every((e: any) => e.case_id === caseId)).toBe(true);
      const seqs = byCase.body.entries.map((e: any) => BigInt(e.seq));
      expect([...seqs].sort((a, b) => (a > b ? -1 : 1))).toEqual(seqs);
      expect(byCase.body.entries.map((e: any) => e.action)).toEqual(expect.arrayContaining(['case.submit', 'case.read', 'material.upload', 'material.read']));

      const byUser = await api(app.url, supervisor.token, 'GET', `/api/audit?user=${chaoyang.id}&case=${caseId}&action=case.read`);
      expect(byUser.body.entries.length).toBeGreaterThan(0);
      expect(byUser.body.entries.every((e: any) => e.actor_user_id === chaoyang.id && e.action === 'case.read')).toBe(true);
      const byName = await api(app.url, supervisor.token, 'GET', `/api/audit?user=${encodeURIComponent(await username(chaoyang))}&action=material.*`);
      expect(byName.body.entries.map((e: any) => e.action)).toEqual(expect.arrayContaining(['material.read']));
      expect(byName.body.entries.every((e: any) => e.action.startsWith('material.'))).toBe(true);

      const future = await api(app.url, supervisor.token, 'GET', `/api/audit?case=${caseId}&from=2099-01-01`);
      expect(future.body.entries).toEqual([]);
      const today = await api(app.url, supervisor.token, 'GET', `/api/audit?case=${caseId}&from=2020-01-01&to=${new Date(Date.now() + 60_000).toISOString()}`);
      const seqsOf = (b: any) => b.entries.filter((e: any) => e.action !== 'audit.search').map((e: any) => e.seq); // each search of the case is itself an entry of the case
      expect(seqsOf(today.body)).toEqual(seqsOf(byCase.body));
      const past = await api(app.url, supervisor.token, 'GET', `/api/audit?case=${caseId}&to=${byCase.body.entries[byCase.body.entries.length - 1].at}`);
      expect(past.body.entries.map((e: any) => e.seq)).toContain(byCase.body.entries[byCase.body.entries.length - 1].seq);

      const page1 = await api(app.url, supervisor.token, 'GET', `/api/audit?case=${caseId}&limit=2`);
      expect(page1.body.entries).toHaveLength(2);
      const page2 = await api(app.url, supervisor.token, 'GET', `/api/audit?case=${caseId}&limit=2&before_seq=${page1.body.next_before_seq}`);
      expect(BigInt(page2.body.entries[0].seq)).toBeLessThan(BigInt(page1.body.entries[1].seq));

      const bad = await api(app.url, supervisor.token, 'GET', '/api/audit?case=x&from=yesterday&limit=0');
      expect(bad.status).toBe(400);
      expect(bad.body.error.fields.map((f: any) => f.field).sort()).toEqual(['case', 'from', 'limit']);

      // The search is itself in the trail.
      const [search] = await app.db('audit_entries').where({ action: 'audit.search', actor_user_id: supervisor.id }).orderBy('seq').limit(1);
      expect(search).toMatchObject({ actor_role: 'supervisor', case_id: caseId, outcome: 'ok' });
      expect(search.details.filter).toMatchObject({ case: caseId });
    });

    it('M6 P1: export as CSV — every matching entry, oldest first, formula-safe', async () => {
      const hostile = { userId: randomUUID(), username: '=HYPERLINK("http://evil.example","x")', role: 'maker', districtCode: null, makerId: null, holderId: null };
      await appendAudit(app.db, { action: 'test.csv', actor: hostile, caseId, details: { note: '+1, "quoted"\nnext line' } });
      const res = await fetch(`${app.url}/api/audit.csv?case=${caseId}`, { headers: { authorization: `Bearer ${supervisor.token}` } });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/csv; charset=utf-8/);
      expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="audit-\d{8}T\d{6}Z\.csv"$/);
      const text = await res.text();
      const lines = text.replace(/^\uFEFF/, '').trimEnd().split('\r\n');
      expect(lines[0]).toBe('seq,at,actor_user_id,actor_username,actor_role,actor_district_code,actor_maker_id,actor_holder_id,action,outcome,target_type,target_id,case_id,client_address,request_id,details,hash');
      const expected = await app.db('audit_entries').where({ case_id: caseId }).count<{ count: string }[]>('* as count');
      expect(lines.length - 1).toBe(Number(expected[0].count));
      expect(text).toContain(await username(chaoyang));
      expect(text).toContain('203.0.113.7');
      expect(text).toContain(`"'=HYPERLINK(""http://evil.example"",""x"")"`); // a text cell, not a formula
      expect(text).not.toMatch(/(^|,)=HYPERLINK/m);
      const seqs = lines.slice(1).map((l) => BigInt(l.split(',')[0]));
      expect([...seqs].sort((a, b) => (a < b ? -1 : 1))).toEqual(seqs);
      const [exported] = await app.db('audit_entries').where({ action: 'audit.export', actor_user_id: supervisor.id }).orderBy('seq', 'desc').limit(1);
      expect(exported).toMatchObject({ case_id: caseId, outcome: 'ok' });
    });

    it('M6 P1: officers, makers, holders and administrators are refused (403), anonymous callers 401, and each refusal is recorded', async () => {
      const holderId = (await app.db('cases').where({ id: caseId }).first('holder_id')).holder_id;
      holderUser = await createUser(app.db, 'holder', { holder_id: holderId });
      for (const u of [chaoyang, maker, holderUser, admin]) {
        expect((await api(app.url, u.token, 'GET', '/api/audit')).status).toBe(403);
        expect((await api(app.url, u.token, 'GET', '/api/audit.csv')).status).toBe(403);
        const refused = await entriesOf({ actor_user_id: u.id, outcome: 'refused' }).whereIn('action', ['audit.search', 'audit.export']);
        expect(refused.map((e: any) => e.action).sort()).toEqual(['audit.export', 'audit.search']);
      }
      expect((await api(app.url, null, 'GET', '/api/audit')).status).toBe(401);
    });
  });
});
