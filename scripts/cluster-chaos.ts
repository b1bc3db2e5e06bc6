// `npm run cluster:chaos`: the cluster of `npm run cluster` (fresh, in data-cluster-chaos/, ports from 9600)
// takes --cases (30) applications from submission to collection through HAProxy, --concurrency (6) at a time,
// while one web process, one main worker, one HSM worker, the history service and the matching service are each
// killed with SIGKILL at a random moment (the supervisor restarts them). Then, from PostgreSQL and Temporal:
// every case collected with one active seal, its certificate and one production certificate (0 lost), no second
// case, filing, review task or application workflow run for anything (0 duplicates), and the audit chain
// verified as `npm run audit:verify` does. Then the per-case costs (docs/capacity.md). Exit code 1 on any loss,
// duplicate or audit finding. Bounded: no case starts after --max-seconds (240) of driving.
//   npm run cluster:chaos [-- --cases 30 --concurrency 6 --no-kill --keep]
// The scripted maker and officer follow bench/issuance.ts's steps; as real clients they retry a request whose
// answer was lost (502 from HAProxy when a web process dies under it) after checking the case's status.
import { randomUUID } from 'node:crypto';
import { loadavg } from 'node:os';
import { Client, Connection } from '@temporalio/client';
import { createDb, type Db } from '../infra/db';
import { auditCertificatePath } from '../infra/audit/heads';
import { loadAuditPublicKey, verifyAuditChain } from '../infra/audit/verify';
import { makeResidentId, makeUscc, PNG_BYTES } from '../test/helpers/fixtures';
import { fmt, intFlag, now, percentile, printTable, runPool, sleep } from '../bench/lib';
import { startCluster, WEB, WORKERS, type RunningCluster } from './cluster';
import { cpuSeconds, measureCaseCosts, printCpuPerCase } from './cluster-costs';
import { checkAcrossWebProcesses } from './cluster-check';

const DISTRICT = '110108'; // 海淀区: the demo officer.haidian sees every task
const ORDER = ['submitted', 'materials_required', 'awaiting_production', 'producing', 'awaiting_filing', 'filing_under_review', 'ready', 'collected'];
const atOrPast = (status: string, target: string) => ORDER.indexOf(status) >= ORDER.indexOf(target);

const log = (m: string) => console.log(`\x1b[1;31m[chaos]\x1b[0m ${new Date().toISOString().slice(11, 19)} ${m}`);
const pick = <T>(xs: T[]) => xs[Math.floor(Math.random() * xs.length)];

interface Counters {
  requests: number;
  lostAnswers: number; // network error or 502/503/504: the answer never came
  refusedRetries: number; // a step sent again and refused (409): its first attempt had gone through, or the state lagged
  refusals: Map<string, number>; // every 409 of a step, by step and error code
}

class ResilientClient {
  readonly counters: Counters = { requests: 0, lostAnswers: 0, refusedRetries: 0, refusals: new Map() };
  constructor(private readonly url: string) {}

  /** One HTTP request; undefined when its answer was lost (the request may or may not have taken effect). */
  async send(token: string, method: string, p: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: any } | undefined> {
    this.counters.requests++;
    try {
      const isForm = body instanceof FormData;
      const res = await fetch(this.url + p, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body !== undefined && !isForm ? { 'content-type': 'application/json' } : {}), ...headers },
        body: body === undefined ? undefined : isForm ? body : JSON.stringify(body),
        signal: AbortSignal.timeout(45_000),
      });
      const text = await res.text();
      if ([502, 503, 504].includes(res.status)) {
        this.counters.lostAnswers++;
        return undefined;
      }
      let json: any = text;
      try {
        json = JSON.parse(text);
      } catch {
        /* not JSON */
      }
      return { status: res.status, body: json };
    } catch {
      this.counters.lostAnswers++;
      return undefined;
    }
  }

  /** A read, retried until it answers. */
  async get(token: string, p: string, deadline: number): Promise<any> {
    for (;;) {
      const r = await this.send(token, 'GET', p);
      if (r?.status === 200) return r.body;
      if (r && r.status !== 200 && ![500].includes(r.status)) throw new Error(`GET ${p}: HTTP ${r.status}: ${JSON.stringify(r.body).slice(0, 300)}`);
      if (Date.now() > deadline) throw new Error(`GET ${p}: no answer before the deadline`);
      await sleep(500);
    }
  }
}

class ChaosDriver {
  constructor(
    private readonly http: ResilientClient,
    private readonly maker: string,
    private readonly officer: string,
  ) {}

  private status(caseId: string, deadline: number, waitFor?: string): Promise<{ status: string }> {
    const q = waitFor ? `?wait_for=${waitFor}&timeout_ms=15000` : '';
    return this.http.get(this.maker, `/api/applications/${caseId}/status${q}`, deadline);
  }

  private async until(caseId: string, target: string, deadline: number) {
    for (;;) {
      const s = await this.status(caseId, deadline, target);
      if (atOrPast(s.status, target)) return;
      if (Date.now() > deadline) throw new Error(`case ${caseId} is ${s.status} at the deadline, expected ${target}`);
    }
  }

  /**
   * A step that moves the case on: done once the case is at `done` or past it. The request is sent again
   * only when its answer was lost or it was refused (409: e.g. the first attempt went through), and only
   * after the case's status says it has not taken effect.
   */
  private async step(caseId: string, done: string, deadline: number, request: () => Promise<{ status: number; body: any } | undefined>, ok: number) {
    let attempts = 0;
    for (;;) {
      const s = await this.status(caseId, deadline);
      if (atOrPast(s.status, done)) return;
      const r = await request();
      attempts++;
      if (r?.status === ok) return this.until(caseId, done, deadline);
      if (r?.status === 409) {
        const key = `${done}: ${r.body?.error?.code ?? 'conflict'} (${String(r.body?.error?.message_en ?? '').slice(0, 80)})`;
        this.http.counters.refusals.set(key, (this.http.counters.refusals.get(key) ?? 0) + 1);
      }
      if (r && r.status === 409 && attempts > 1) this.http.counters.refusedRetries++;
      else if (r && r.status !== 0 && r.status !== 409 && r.status !== 500) throw new Error(`case ${caseId} towards ${done}: HTTP ${r.status}: ${JSON.stringify(r.body).slice(0, 300)}`);
      if (Date.now() > deadline) throw new Error(`case ${caseId}: not ${done} by the deadline`);
      await sleep(1000);
    }
  }

  async runCase(holder: Holder, deadline: number): Promise<string> {
    const handlerId = makeResidentId();
    // The idempotency key makes a repeated submission return the case created the first time.
    const key = `chaos-${holder.uscc}`;
    let caseId = '';
    for (;;) {
      const r = await this.http.send(this.maker, 'POST', '/api/applications', {
        holder: { uscc: holder.uscc, name: holder.name, kind: 'enterprise', address: holder.address, district: DISTRICT, legal_representative: '王五' },
        seal: { kind: 'legal_name', language: 'zh' },
        handler: { name: '赵六', id_number: handlerId, phone: `139${String(Math.floor(Math.random() * 1e8)).padStart(8, '0')}` },
      }, { 'idempotency-key': key });
      if (r?.status === 201) {
        caseId = r.body.id;
        break;
      }
      if (r && r.status !== 500) throw new Error(`submit for ${holder.uscc}: HTTP ${r.status}: ${JSON.stringify(r.body).slice(0, 300)}`);
      if (Date.now() > deadline) throw new Error(`submit for ${holder.uscc}: no answer by the deadline`);
      await sleep(1000);
    }
    holder.caseId = caseId;
    await this.until(caseId, 'awaiting_production', deadline);
    let imageId = '';
    await this.step(caseId, 'producing', deadline, async () => {
      if (!imageId) {
        const form = new FormData();
        form.set('kind', 'on_site_image');
        form.set('file', new Blob([PNG_BYTES]), 'onsite.png');
        const up = await this.http.send(this.maker, 'POST', `/api/applications/${caseId}/materials`, form);
        if (up?.status !== 201) return up && up.status !== 500 ? up : undefined;
        imageId = up.body.id;
      }
      return this.http.send(this.maker, 'POST', `/api/applications/${caseId}/production`, { production_data: { produced_on: '2026-12-01', operator: '钱七', medium: 'HSM', device: 'SoftHSM2' }, on_site_image_id: imageId });
    }, 200);
    await this.until(caseId, 'awaiting_filing', deadline);
    await this.step(caseId, 'filing_under_review', deadline, () => this.http.send(this.maker, 'POST', `/api/applications/${caseId}/filing`, { note: '集群故障演练' }), 201);
    await this.step(caseId, 'ready', deadline, async () => {
      const tasks: Array<{ id: string; case_id: string }> = await this.http.get(this.officer, '/api/tasks?kind=filing_review', deadline);
      const task = tasks.find((x) => x.case_id === caseId);
      if (!task) return { status: 0, body: 'no open task yet' }; // the review task is projected a moment later
      return this.http.send(this.officer, 'POST', `/api/tasks/${task.id}/decision`, { decision: 'accept' });
    }, 200);
    await this.step(caseId, 'collected', deadline, () => this.http.send(this.maker, 'POST', `/api/applications/${caseId}/collection`, { collector_name: '赵六', collector_id_number: handlerId }), 200);
    return caseId;
  }
}

interface Holder {
  uscc: string;
  name: string;
  address: string;
  caseId?: string;
}

interface Kill {
  name: string;
  at: number;
  pid?: number;
  backAfter?: number;
}

/**
 * Kills each victim once, in random order, at random moments within the first `windowMs` of the cases (the cases'
 * starts are spread over that window, so they are in flight); waits for each victim to be back before the next.
 */
async function chaos(cluster: RunningCluster, victims: string[], windowMs: number, active: () => boolean, kills: Kill[]) {
  const order = [...victims].sort(() => Math.random() - 0.5);
  const moments = order.map(() => 3000 + Math.random() * (windowMs - 3000)).sort((a, b) => a - b);
  const t0 = now();
  for (const [i, name] of order.entries()) {
    await sleep(Math.max(0, t0 + moments[i] - now()));
    if (!active()) return;
    const s = cluster.supervisor.get(name);
    const kill: Kill = { name, at: (now() - t0) / 1000, pid: s.pid };
    kills.push(kill);
    log(`SIGKILL ${name} (pid ${s.pid})`);
    const restartsBefore = s.restarts;
    s.kill('SIGKILL');
    const killedAt = now();
    while (s.restarts === restartsBefore || !s.running) await sleep(200);
    if (WEB.includes(name)) {
      const url = cluster.webUrls[WEB.indexOf(name)];
      for (;;) {
        const ok = await fetch(`${url}/readyz`).then((r) => r.ok, () => false);
        if (ok) break;
        await sleep(500);
      }
    }
    kill.backAfter = (now() - killedAt) / 1000;
    log(`${name} is back (pid ${s.pid}) after ${fmt(kill.backAfter, 1)} s`);
  }
}

async function verify(db: Db, temporal: Client, holders: Holder[], makerId: string) {
  const findings: string[] = [];
  const ids = holders.map((h) => h.caseId).filter((x): x is string => !!x);
  const unsubmitted = holders.filter((h) => !h.caseId);
  if (unsubmitted.length) findings.push(`lost: ${unsubmitted.length} holders without a case id`);
  const cases = await db('cases as c')
    .leftJoin('seals as s', 's.case_id', 'c.id')
    .leftJoin('documents as d', function () {
      this.on('d.seal_id', 's.id').andOnVal('d.kind', 'production_certificate');
    })
    .whereIn('c.id', ids)
    .select('c.id', 'c.status', 's.id as seal_id', 's.status as seal_status', 's.certificate_serial as serial', 'd.id as document_id');
  const byId = new Map(cases.map((c: any) => [c.id, c]));
  let lost = unsubmitted.length;
  for (const id of ids) {
    const c: any = byId.get(id);
    if (!c || c.status !== 'collected' || c.seal_status !== 'active' || !c.serial || !c.document_id) {
      lost++;
      findings.push(`lost: case ${id} is ${c ? `${c.status}, seal ${c.seal_status ?? 'none'}, certificate ${c.serial ?? 'none'}, production certificate ${c.document_id ?? 'none'}` : 'missing'}`);
    }
  }
  // Duplicates: a second case for a holder, a second filing or review task for a case, a second run of its workflow.
  const usccs = holders.map((h) => h.uscc);
  const perHolder = await db('cases as c').join('holders as h', 'h.id', 'c.holder_id').whereIn('h.uscc', usccs).where('c.maker_id', makerId)
    .groupBy('h.uscc').havingRaw('count(*) > 1').select('h.uscc').count<{ uscc: string; count: string }[]>('* as count');
  const perCaseFilings = await db('filings').whereIn('case_id', ids).groupBy('case_id').havingRaw('count(*) > 1').select('case_id').count('* as count');
  const perCaseTasks = await db('tasks').whereIn('case_id', ids).where('kind', 'filing_review').groupBy('case_id').havingRaw('count(*) > 1').select('case_id').count('* as count');
  const perCaseRecords = await db('production_records').whereIn('case_id', ids).groupBy('case_id').havingRaw('count(*) > 1').select('case_id').count('* as count');
  const runs = new Map<string, number>();
  for await (const wf of temporal.workflow.list({ query: "WorkflowType = 'applicationWorkflow'" })) runs.set(wf.workflowId, (runs.get(wf.workflowId) ?? 0) + 1);
  const workflowDups = ids.filter((id) => (runs.get(`application:${id}`) ?? 0) > 1);
  const missingRuns = ids.filter((id) => !runs.has(`application:${id}`));
  const duplicates = perHolder.length + perCaseFilings.length + perCaseTasks.length + perCaseRecords.length + workflowDups.length;
  for (const [what, rows] of [['cases per holder', perHolder], ['filings per case', perCaseFilings], ['review tasks per case', perCaseTasks], ['production records per case', perCaseRecords]] as const) {
    if (rows.length) findings.push(`duplicate ${what}: ${JSON.stringify(rows).slice(0, 300)}`);
  }
  if (workflowDups.length) findings.push(`duplicate application workflow runs: ${workflowDups.join(', ')}`);
  if (missingRuns.length) findings.push(`no application workflow in Temporal's visibility for ${missingRuns.join(', ')}`);
  const extraUploads = await db('materials').whereIn('case_id', ids).groupBy('case_id').havingRaw('count(*) > 1').select('case_id');
  return { lost, duplicates, findings, extraUploads: extraUploads.length, collected: ids.length - (lost - unsubmitted.length) };
}

async function main() {
  const started = now();
  const cases = intFlag('cases', 30);
  const concurrency = Math.max(1, intFlag('concurrency', 6));
  const maxSeconds = intFlag('max-seconds', 240);
  const kill = !process.argv.includes('--no-kill');
  const cluster = await startCluster({
    dataDir: process.env.CLUSTER_CHAOS_DATA_DIR ?? 'data-cluster-chaos',
    basePort: Number(process.env.CLUSTER_CHAOS_BASE_PORT ?? 9600),
    namespace: 'eseal',
    historyShards: 4,
    fresh: !process.argv.includes('--keep'),
    // A signed head every few seconds, so the chain's verification below also covers heads signed during the kills.
    appEnv: { AUDIT_HEAD_EVERY_SECONDS: '10' },
    log,
  });
  let code = 1;
  const db = createDb(cluster.ownerDatabaseUrl, { min: 0, max: 4 });
  const connection = await Connection.connect({ address: cluster.env.ESEAL_TEMPORAL_ADDRESS });
  const temporal = new Client({ connection, namespace: cluster.env.ESEAL_TEMPORAL_NAMESPACE });
  const stopAll = async () => {
    await connection.close();
    await db.destroy();
    await cluster.stop();
  };
  process.once('SIGINT', () => {
    cluster.signalStop();
    void stopAll().then(() => process.exit(130));
  });
  try {
    log(`cluster up in ${fmt((now() - started) / 1000, 0)} s; load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
    const token = (username: string) => cluster.logins.find((l) => l.username === username)!.token;
    const maker = token('maker');
    const makerId = (await db('users').where({ username: 'maker' }).first('maker_id')).maker_id as string;
    const http = new ResilientClient(cluster.url);
    const admin = token('admin');
    const run = randomUUID().slice(0, 6);
    const holders: Holder[] = Array.from({ length: cases }, (_, i) => ({ uscc: makeUscc(DISTRICT), name: `北京集群演练${run}第${i + 1}有限公司`, address: `北京市海淀区知春路${i + 1}号` }));
    const today = new Date().toISOString().slice(0, 10);
    await runPool(cases, 4, async (i) => {
      const h = holders[i];
      const r = await http.send(admin, 'POST', '/api/registration/holders', { uscc: h.uscc, name: h.name, kind: 'enterprise', address: h.address, district: DISTRICT, legal_representative: '王五', registration_date: today });
      if (r?.status !== 201) throw new Error(`registering ${h.uscc}: HTTP ${r?.status}: ${JSON.stringify(r?.body).slice(0, 300)}`);
    });
    const before = await measureCaseCosts.snapshot(db, cluster);
    const cpuBefore = cpuSeconds(cluster);

    const driver = new ChaosDriver(http, maker, token('officer.haidian'));
    const victims = [pick(WEB), pick(WORKERS.main), pick(WORKERS.hsm), 'history', 'matching'];
    let driving = true;
    const kills: Kill[] = [];
    log(`${cases} cases through HAProxy (${cluster.url}), ${concurrency} at a time${kill ? `; SIGKILL at random moments: ${victims.join(', ')}` : '; no kills (--no-kill)'}`);
    const caseStart = now();
    const durations: number[] = [];
    const errors: string[] = [];
    // Case starts are spread over the kill window (at most one every 1.5 s), so that every kill falls among cases in flight.
    const spreadMs = 1500;
    const chaosRun = kill ? chaos(cluster, victims, cases * spreadMs, () => driving, kills) : Promise.resolve();
    const seconds = await runPool(cases, concurrency, async (i) => {
      if (kill) await sleep(Math.max(0, caseStart + i * spreadMs - now()));
      const t = now();
      try {
        await driver.runCase(holders[i], Date.now() + 200_000);
        durations.push(now() - t);
      } catch (e) {
        errors.push((e as Error).message);
        log(`case of ${holders[i].uscc} failed: ${(e as Error).message}`);
      }
    }, caseStart + maxSeconds * 1000);
    driving = false;
    await chaosRun;
    const cpuAfter = cpuSeconds(cluster);
    log(`cases done in ${fmt(seconds, 1)} s (p50 ${fmt(percentile(durations, 50) / 1000, 1)} s, p95 ${fmt(percentile(durations, 95) / 1000, 1)} s per case)`);

    const result = await verify(db, temporal, holders, makerId);
    // The audit chain, as `npm run audit:verify` walks it, with the certificate on disk.
    const audit = await verifyAuditChain(db, loadAuditPublicKey(auditCertificatePath(cluster.dataDir)), { pageSize: 10_000 });
    const costs = await measureCaseCosts.since(before, db, cluster, temporal, holders.map((h) => h.caseId).filter((x): x is string => !!x));
    // Whichever web process answers: sessions, uploads, OCSP cache invalidation (after the costs: it adds a case).
    const seal = await db('seals as s').join('cases as c', 'c.id', 's.case_id').whereIn('c.id', holders.map((h) => h.caseId ?? '')).where('s.status', 'active').first('s.id');
    const checks = seal ? await checkAcrossWebProcesses(cluster, db, seal.id) : [{ name: 'checks across web processes', ok: false, detail: 'no active seal to check with' }];

    console.log('');
    printTable([
      ['killed (SIGKILL)', 'at s', 'old pid', 'back after s'],
      ...kills.map((k) => [k.name, fmt(k.at, 1), String(k.pid ?? '-'), fmt(k.backAfter ?? NaN, 1)]),
    ]);
    const restarts = [...cluster.supervisor.children.values()].filter((s) => s.restarts > 0).map((s) => `${s.spec.name}×${s.restarts}`);
    console.log(`\nrestarts by the supervisor: ${restarts.join(', ') || 'none'}`);
    console.log(`client: ${http.counters.requests} requests, ${http.counters.lostAnswers} answers lost (HAProxy 502/503 or connection cut), ${http.counters.refusedRetries} steps sent again and refused (409: the first attempt had gone through); ${result.extraUploads} cases with a re-sent on-site image`);
    for (const [k, v] of http.counters.refusals) console.log(`  409 towards ${k}: ${v}`);
    costs.print();
    if (!kill) printCpuPerCase(cpuBefore, cpuAfter, cases); // a killed process takes its CPU time with it
    console.log('');
    console.log(`cases: ${cases}, collected: ${result.collected}`);
    console.log(`lost: ${result.lost}`);
    console.log(`duplicates: ${result.duplicates}`);
    console.log(
      audit.ok
        ? `audit chain: verifies (entries ${audit.firstSeq}–${audit.lastSeq}, ${audit.heads} signed heads, last signed seq ${audit.lastSignedSeq ?? '-'})`
        : `audit chain: FAILED at entry ${audit.finding?.seq}: ${audit.finding?.message}`,
    );
    for (const f of [...result.findings, ...errors]) console.log(`  ${f}`);
    for (const c of checks) console.log(`whichever web process answers, ${c.name}: ${c.ok ? 'OK' : 'FAILED'} — ${c.detail}`);
    const ok = result.lost === 0 && result.duplicates === 0 && audit.ok && errors.length === 0 && checks.every((c) => c.ok) && (!kill || kills.length === victims.length);
    if (kill && kills.length < victims.length) console.log(`  only ${kills.length} of ${victims.length} kills happened before the cases finished: run with more --cases`);
    console.log(`${ok ? 'PASS' : 'FAIL'} in ${fmt((now() - started) / 1000, 0)} s`);
    code = ok ? 0 : 1;
  } finally {
    await stopAll();
  }
  process.exit(code);
}

main().catch((e) => {
  console.error(e instanceof Error ? e.stack : e);
  process.exit(1);
});

