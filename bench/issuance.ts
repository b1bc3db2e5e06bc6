// bench:issuance — seals issued end to end through the JSON API, against a bare Temporal baseline measured
// in the same run on the same server. Runs under scripts/with-stack.ts (npm run bench:issuance), which
// provisions Temporal, PostgreSQL and a SoftHSM token in data-bench/ on the bench's own ports.
//
//  1. HSM: wrapped key generation per second (generateWrappedEcKeyPair, ~3 s).
//  2. Set-up: --n (200) pre-verified A3 holders (registered through /api/registration/holders, so no
//     materials); --warmup (2 × concurrency) cases and as many bare runs, not counted (one case's Temporal
//     history gives the baseline its activities).
//  3. --rounds (5) alternating rounds, so load from others on a shared machine falls on both sides alike:
//     a. n/rounds applications, --concurrency (8) at a time, each driven by a scripted maker and officer:
//        submit → (awaiting_production) upload on-site image → production → (awaiting_filing) filing →
//        officer accepts from the task list → (ready) collection → collected. The clients follow the case
//        by long-polling GET /api/applications/{id}/status (or, with --poll-ms, the full view). No case
//        starts after --max-seconds/rounds (100 s in all; 0 = no limit);
//     b. as many runs of a bare workflow with the same activities (count, order, task-queue split, read from
//        a real case's history) as no-ops, own task queues and workers, at the same concurrency.
//     Each round's ratio (issued/s ÷ bare/s) is printed, and the overall one (cases ÷ summed times), target
//     ≥ 0.5 (printed PASS / BELOW TARGET; never fails the run). Then where the time went per activity
//     (queued vs running) from some histories of each side.
//  4. HSM: wrapped key generation per second again, after those seals.
//  5. HSM baseline: token-object key generation (ensureEcKeyPair, fresh labels, ~2 s), last so its
//     token objects cannot slow the steps above; ratio wrapped / token-object.
// The app's workers and web server run in this process, as test/helpers/stack.ts#startApp starts them.
import { randomUUID } from 'node:crypto';
import { loadavg } from 'node:os';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { SEAL_WRAPPING_KEY_LABEL } from '../activities/seal-production';
import { loadConfig } from '../infra/config';
import { heldToken } from '../infra/hsm/tokens';
import { createTemporalClient, temporalConnectionOptions } from '../infra/temporal';
import { applicationWorkflowId } from '../usecases/applications';
import { createMaker, makeResidentId, makeUscc, PNG_BYTES } from '../test/helpers/fixtures';
import { api, createUser, startApp, type RunningApp } from '../test/helpers/stack';
import { bareActivities, bareWorkflow, type BareWorkflowInput } from './fixtures/bare-workflow';
import { countObjects, fmt, heading, intFlag, measureRate, now, percentile, printTable, runPool, sleep, tokenDir, type Rate } from './lib';

const DISTRICT = '110108'; // 海淀区: every holder is registered there, so one officer sees every task
const TARGET_RATIO = 0.5;
const STEPS = ['submit', 'upload on-site image', 'production', 'filing', 'officer accepts', 'collection'] as const;
type Step = (typeof STEPS)[number];
interface StepTiming {
  client: number;
  wait: number;
}

const load = () => loadavg().map((l) => l.toFixed(2)).join(' ');

class Driver {
  constructor(
    private readonly app: RunningApp,
    private readonly maker: string,
    private readonly officer: string,
    private readonly pollMs: number,
  ) {}

  private async call(token: string, method: string, p: string, body: unknown, expected: number) {
    const res = await api(this.app.url, token, method, p, body);
    if (res.status !== expected) throw new Error(`${method} ${p}: HTTP ${res.status} (expected ${expected}): ${JSON.stringify(res.body).slice(0, 500)}`);
    return res.body;
  }

  /**
   * Follows the case (as its maker) until it shows `status`; returns the milliseconds waited. By default one
   * long-poll of the light status resource (no personal data, so no audit entry) per wait; with --poll-ms
   * the full case view every pollMs, as the bench did before the status resource existed.
   */
  private async until(caseId: string, status: string, timeoutMs = 120_000): Promise<number> {
    const start = now();
    for (;;) {
      const view = this.pollMs > 0
        ? await this.call(this.maker, 'GET', `/api/applications/${caseId}`, undefined, 200)
        : await this.call(this.maker, 'GET', `/api/applications/${caseId}/status?wait_for=${status}&timeout_ms=20000`, undefined, 200);
      if (view.status === status) return now() - start;
      if (now() - start > timeoutMs) throw new Error(`case ${caseId} is ${view.status} after ${timeoutMs} ms, expected ${status}`);
      if (this.pollMs > 0) await sleep(this.pollMs);
    }
  }

  private async step<T>(fn: () => Promise<T>, next: ((r: T) => Promise<number>) | null): Promise<StepTiming> {
    const start = now();
    const r = await fn();
    const client = now() - start;
    return { client, wait: next ? await next(r) : 0 };
  }

  async upload(caseId: string) {
    const form = new FormData();
    form.set('kind', 'on_site_image');
    form.set('file', new Blob([PNG_BYTES]), 'onsite.png');
    const res = await fetch(`${this.app.url}/api/applications/${caseId}/materials`, { method: 'POST', headers: { authorization: `Bearer ${this.maker}` }, body: form });
    const body = (await res.json()) as any;
    if (res.status !== 201) throw new Error(`upload for ${caseId}: HTTP ${res.status}: ${JSON.stringify(body).slice(0, 500)}`);
    return body.id as string;
  }

  /** One case from submission to collection; returns each step's timing. */
  async runCase(holder: HolderRecord): Promise<{ caseId: string; steps: Record<Step, StepTiming> }> {
    const handlerId = makeResidentId();
    const t = {} as Record<Step, StepTiming>;
    let caseId = '';
    t.submit = await this.step(
      async () => {
        const view = await this.call(this.maker, 'POST', '/api/applications', {
          holder: { uscc: holder.uscc, name: holder.name, kind: 'enterprise', address: holder.address, district: DISTRICT, legal_representative: '王五' },
          seal: { kind: 'legal_name', language: 'zh' },
          handler: { name: '赵六', id_number: handlerId, phone: '13800138000' },
        }, 201);
        caseId = view.id;
      },
      () => this.until(caseId, 'awaiting_production'),
    );
    let imageId = '';
    t['upload on-site image'] = await this.step(async () => {
      imageId = await this.upload(caseId);
    }, null);
    t.production = await this.step(
      () => this.call(this.maker, 'POST', `/api/applications/${caseId}/production`, { production_data: { produced_on: '2026-12-01', operator: '钱七', medium: 'HSM', device: 'SoftHSM2' }, on_site_image_id: imageId }, 200),
      () => this.until(caseId, 'awaiting_filing'),
    );
    t.filing = await this.step(
      () => this.call(this.maker, 'POST', `/api/applications/${caseId}/filing`, { note: '基准测试' }, 201),
      () => this.until(caseId, 'filing_under_review'),
    );
    // The officer works from the district's queue, as a person would.
    t['officer accepts'] = await this.step(
      async () => {
        const tasks: Array<{ id: string; case_id: string }> = await this.call(this.officer, 'GET', '/api/tasks?kind=filing_review', undefined, 200);
        const task = tasks.find((x) => x.case_id === caseId);
        if (!task) throw new Error(`no open filing_review task for case ${caseId} in the officer's queue`);
        return this.call(this.officer, 'POST', `/api/tasks/${task.id}/decision`, { decision: 'accept' }, 200);
      },
      () => this.until(caseId, 'ready'),
    );
    t.collection = await this.step(
      () => this.call(this.maker, 'POST', `/api/applications/${caseId}/collection`, { collector_name: '赵六', collector_id_number: handlerId }, 200),
      (view) => (view.status === 'collected' ? Promise.resolve(0) : this.until(caseId, 'collected')),
    );
    return { caseId, steps: t };
  }
}

interface HolderRecord {
  uscc: string;
  name: string;
  address: string;
}

async function registerHolders(app: RunningApp, adminToken: string, count: number, concurrency: number): Promise<HolderRecord[]> {
  const holders: HolderRecord[] = Array.from({ length: count }, (_, i) => ({
    uscc: makeUscc(DISTRICT),
    name: `北京基准测试第${i + 1}科技有限公司`,
    address: `北京市海淀区中关村大街${i + 1}号`,
  }));
  const today = new Date().toISOString().slice(0, 10);
  await runPool(count, concurrency, async (i) => {
    const h = holders[i];
    const res = await api(app.url, adminToken, 'POST', '/api/registration/holders', {
      uscc: h.uscc, name: h.name, kind: 'enterprise', address: h.address, district: DISTRICT, legal_representative: '王五', registration_date: today,
    });
    if (res.status !== 201 || res.body.pre_verified !== true) throw new Error(`registering ${h.uscc}: HTTP ${res.status}: ${JSON.stringify(res.body).slice(0, 300)}`);
  });
  return holders;
}

const tsMs = (t: { seconds?: unknown; nanos?: number | null } | null | undefined) => (t ? Number(String(t.seconds ?? 0)) * 1000 + (t.nanos ?? 0) / 1e6 : NaN);

/**
 * Where a case's time goes, from the histories of some measured cases: per activity type (and for workflow
 * tasks), the time from scheduled to started (waiting in the task queue) and from started to completed.
 */
async function printActivityBreakdown(client: Client, workflowIds: string[], title: string) {
  const waits = new Map<string, number[]>();
  const runs = new Map<string, number[]>();
  const add = (m: Map<string, number[]>, k: string, v: number) => (m.get(k) ?? m.set(k, []).get(k)!).push(v);
  for (const workflowId of workflowIds) {
    const history = await client.workflow.getHandle(workflowId).fetchHistory();
    const scheduled = new Map<string, { name: string; at: number }>();
    const started = new Map<string, number>();
    for (const e of history.events ?? []) {
      const at = tsMs(e.eventTime);
      const id = String(e.eventId);
      if (e.activityTaskScheduledEventAttributes) scheduled.set(id, { name: e.activityTaskScheduledEventAttributes.activityType?.name ?? '?', at });
      else if (e.workflowTaskScheduledEventAttributes) scheduled.set(id, { name: '(workflow task)', at });
      const s = e.activityTaskStartedEventAttributes ?? e.workflowTaskStartedEventAttributes;
      if (s) {
        const sch = scheduled.get(String(s.scheduledEventId));
        if (sch) {
          add(waits, sch.name, at - sch.at);
          started.set(String(s.scheduledEventId), at);
        }
      }
      const c = e.activityTaskCompletedEventAttributes ?? e.workflowTaskCompletedEventAttributes;
      if (c) {
        const sch = scheduled.get(String(c.scheduledEventId));
        const st = started.get(String(c.scheduledEventId));
        if (sch && st !== undefined) add(runs, sch.name, at - st);
      }
    }
  }
  const names = [...runs.keys()].sort((a, b) => sum(runs.get(b)!) + sum(waits.get(b) ?? []) - sum(runs.get(a)!) - sum(waits.get(a) ?? []));
  const rows: Array<Array<string | number>> = [[`${title} (ms, ${workflowIds.length} histories)`, 'count/run', 'queued p50', 'queued p95', 'run p50', 'run p95', 'share of task time']];
  const total = names.reduce((t, k) => t + sum(runs.get(k)!) + sum(waits.get(k) ?? []), 0);
  for (const k of names) {
    const r = runs.get(k)!;
    const w = waits.get(k) ?? [];
    rows.push([k, fmt(r.length / workflowIds.length, 1), fmt(percentile(w, 50), 0), fmt(percentile(w, 95), 0), fmt(percentile(r, 50), 0), fmt(percentile(r, 95), 0), `${fmt((100 * (sum(r) + sum(w))) / total, 1)} %`]);
  }
  printTable(rows);
}
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

async function hsmWrappedRate(app: RunningApp, seconds: number): Promise<Rate> {
  return measureRate(seconds, () => app.issuingHsm.generateWrappedEcKeyPair(SEAL_WRAPPING_KEY_LABEL));
}

async function main() {
  if (process.argv.includes('--help')) {
    console.log('npm run bench:issuance -- [--n 200] [--concurrency 8] [--rounds 5] [--max-seconds 100] [--warmup 2×concurrency] [--poll-ms 0]\n' +
      '  --rounds       real and bare rounds alternate; each gets n/rounds cases and max-seconds/rounds of budget\n' +
      '  --max-seconds  no real case starts after this share of a round (0: no limit)\n' +
      '  --poll-ms      0: the scripted clients long-poll GET /api/applications/{id}/status; >0: poll the full case view every so many ms');
    return;
  }
  const n = intFlag('n', 200);
  const concurrency = Math.max(1, intFlag('concurrency', 8));
  const pollMs = intFlag('poll-ms', 0);
  // Two cases per concurrent client before timing: with fewer (4 before), the first round still paid for
  // starting Chromium pages and compiling hot paths at full concurrency (its ratio ~0.34 against ~0.48 after).
  const warmup = Math.max(1, intFlag('warmup', 2 * concurrency));
  const maxSeconds = intFlag('max-seconds', 100);
  const rounds = Math.max(1, intFlag('rounds', 5));
  const config = loadConfig();
  if (!config.runtime.databaseUrl) {
    throw new Error('bench:issuance needs the services: run it with `npm run bench:issuance` (scripts/with-stack.ts).');
  }
  const started = now();
  const following = pollMs > 0 ? `polling the case view every ${pollMs} ms` : 'long-polling /status';
  console.log(`bench:issuance n=${n} concurrency=${concurrency} ${following} warm-up=${warmup} max-seconds=${maxSeconds} rounds=${rounds}; Temporal ${config.temporal.address} namespace ${config.temporal.namespace}; load average ${load()}`);

  const app = await startApp();
  let bareWorkers: Worker[] = [];
  let bareRuns: Promise<void>[] = [];
  let bareConnection: NativeConnection | undefined;
  const client = await createTemporalClient(config);
  try {
    const makerId = await createMaker(app.db);
    const maker = await createUser(app.db, 'maker', { maker_id: makerId });
    const officer = await createUser(app.db, 'officer', { district_code: DISTRICT });
    const admin = await createUser(app.db, 'admin');

    // 1. HSM at the start.
    await app.issuingHsm.ensureSealWrappingKey(SEAL_WRAPPING_KEY_LABEL);
    await runPool(20, 1, () => app.issuingHsm.generateWrappedEcKeyPair(SEAL_WRAPPING_KEY_LABEL));
    heading('HSM: wrapped key generation (generateWrappedEcKeyPair), one at a time');
    const hsmStart = await hsmWrappedRate(app, 3);
    console.log(`at the start: ${fmt(hsmStart.perSecond)} keys/s (${hsmStart.ops} in ${fmt(hsmStart.seconds, 2)} s)`);

    // 2. Set-up: holders, warm-up cases (one's history gives the bare workflow its activities), bare workers.
    heading(`issuance: up to ${n} seals through the API, ${concurrency} cases at a time, in ${rounds} rounds alternating with the bare workflow`);
    const regStart = now();
    const holders = await registerHolders(app, admin.token, warmup + n, concurrency);
    console.log(`registered ${holders.length} pre-verified holders (A3) through /api/registration/holders in ${fmt((now() - regStart) / 1000, 1)} s (set-up, not timed)`);
    const driver = new Driver(app, maker.token, officer.token, pollMs);
    const w = await runPool(warmup, concurrency, (i) => driver.runCase(holders[i]));
    console.log(`warm-up: ${warmup} cases in ${fmt(w, 1)} s (not counted; starts Chromium for the certificates)`);

    const history = await client.workflow.getHandle(applicationWorkflowId((await app.db('cases').where({ maker_id: makerId, status: 'collected' }).first('id')).id)).fetchHistory();
    const queues: BareWorkflowInput['queues'] = [];
    for (const e of history.events ?? []) {
      const a = e.activityTaskScheduledEventAttributes;
      if (a) queues.push(a.taskQueue?.name === config.temporal.taskQueues.main ? 'main' : 'second');
    }
    const second = queues.filter((q) => q === 'second').length;
    console.log(`a case ran ${queues.length} activities (${queues.length - second} on ${config.temporal.taskQueues.main}, ${second} on ${config.temporal.taskQueues.hsm}); the bare workflow runs as many no-ops in the same order on bench-bare / bench-bare-second`);
    bareConnection = await NativeConnection.connect(temporalConnectionOptions(config));
    const bareQueue = `bench-bare-${randomUUID().slice(0, 8)}`;
    const input: BareWorkflowInput = { queues, secondTaskQueue: `${bareQueue}-second` };
    bareWorkers = [
      await Worker.create({ connection: bareConnection, namespace: config.temporal.namespace, taskQueue: bareQueue, workflowsPath: path.resolve(__dirname, 'fixtures/bare-workflow.ts'), activities: bareActivities }),
      await Worker.create({ connection: bareConnection, namespace: config.temporal.namespace, taskQueue: input.secondTaskQueue, activities: bareActivities }),
    ];
    bareRuns = bareWorkers.map((wk) => wk.run());
    const bareIds: string[] = [];
    const runBare = async () => {
      const start = now();
      const workflowId = `bench-bare:${randomUUID()}`;
      bareIds.push(workflowId);
      const result = await client.workflow.execute(bareWorkflow, { taskQueue: bareQueue, workflowId, args: [input] });
      if (result !== queues.length) throw new Error(`bare workflow ran ${result} activities, expected ${queues.length}`);
      return now() - start;
    };
    await runPool(warmup, concurrency, runBare);
    const bareWarmIds = bareIds.length;

    // 3. Rounds: real cases, then as many bare workflows, alternating, so load from others on this shared
    //    machine falls on both alike. Each round has n/rounds cases and max-seconds/rounds of budget.
    const timings: Array<Record<Step, StepTiming>> = [];
    const caseIds: string[] = [];
    const caseTotals: number[] = [];
    const bareLatencies: number[] = [];
    const perRound = Math.ceil(n / rounds);
    const roundRows: Array<Array<string | number>> = [['round', 'cases', 'seals/s', 'bare/s', 'ratio', 'load average']];
    let issued = 0;
    let issueSeconds = 0;
    let bareSeconds = 0;
    for (let round = 1; round <= rounds && issued < n; round++) {
      const count = Math.min(perRound, n - issued);
      const offset = warmup + issued;
      const roundStart = now();
      const realDone: number[] = [];
      const seconds = await runPool(count, concurrency, async (i) => {
        const start = now();
        const r = await driver.runCase(holders[offset + i]);
        timings.push(r.steps);
        caseIds.push(r.caseId);
        caseTotals.push(now() - start);
        realDone.push(i);
      }, maxSeconds > 0 ? roundStart + (maxSeconds * 1000) / rounds : Infinity);
      const done = realDone.length;
      if (done === 0) break;
      const bSeconds = await runPool(done, concurrency, async () => {
        bareLatencies.push(await runBare());
      });
      issued += done;
      issueSeconds += seconds;
      bareSeconds += bSeconds;
      const ratio = done / seconds / (done / bSeconds);
      roundRows.push([round, done, fmt(done / seconds, 2), fmt(done / bSeconds, 2), fmt(ratio, 3), load()]);
      console.log(`round ${round}: ${done} seals in ${fmt(seconds, 1)} s (${fmt(done / seconds, 2)}/s), ${done} bare in ${fmt(bSeconds, 1)} s (${fmt(done / bSeconds, 2)}/s): ratio ${fmt(ratio, 3)}; load ${load()}`);
    }
    if (issued < n) console.log(`time budget: no case started after ${maxSeconds / rounds} s of a round (--max-seconds ${maxSeconds} / ${rounds} rounds; 0 for none), so ${issued} of the ${n} cases ran; the baseline ran as many`);
    const collected = await app.db('seals as s').join('cases as c', 'c.id', 's.case_id').where({ 'c.maker_id': makerId, 'c.status': 'collected', 's.status': 'active' }).count<{ count: string }[]>('* as count');
    if (Number(collected[0].count) !== warmup + issued) throw new Error(`expected ${warmup + issued} collected cases with active seals, found ${collected[0].count}`);
    const issuedPerSecond = issued / issueSeconds;
    const barePerSecond = issued / bareSeconds;
    console.log(`${issued} seals issued in ${fmt(issueSeconds, 1)} s: ${fmt(issuedPerSecond, 2)} seals/s (${warmup + issued} collected cases with active seals in PostgreSQL)`);
    console.log(`${issued} bare workflows in ${fmt(bareSeconds, 1)} s: ${fmt(barePerSecond, 2)} workflows/s (latency p50 ${fmt(percentile(bareLatencies, 50), 0)} ms, p95 ${fmt(percentile(bareLatencies, 95), 0)} ms)`);
    printTable(roundRows);
    const rows: Array<Array<string | number>> = [['step (ms)', 'client p50', 'client p95', 'to next status p50', 'to next status p95', 'total p50', 'total p95', 'next status']];
    const nextStatus: Record<Step, string> = {
      submit: 'awaiting_production',
      'upload on-site image': '-',
      production: 'awaiting_filing',
      filing: 'filing_under_review',
      'officer accepts': 'ready',
      collection: 'collected',
    };
    for (const s of STEPS) {
      const c = timings.map((t) => t[s].client);
      const wait = timings.map((t) => t[s].wait);
      const total = timings.map((t) => t[s].client + t[s].wait);
      rows.push([s, fmt(percentile(c, 50), 0), fmt(percentile(c, 95), 0), fmt(percentile(wait, 50), 0), fmt(percentile(wait, 95), 0), fmt(percentile(total, 50), 0), fmt(percentile(total, 95), 0), nextStatus[s]]);
    }
    rows.push(['whole case', '', '', '', '', fmt(percentile(caseTotals, 50), 0), fmt(percentile(caseTotals, 95), 0), '']);
    printTable(rows);
    await printActivityBreakdown(client, caseIds.slice(0, 40).map(applicationWorkflowId), 'application activity');
    await printActivityBreakdown(client, bareIds.slice(bareWarmIds, bareWarmIds + 40), 'bare activity');

    // 4. HSM after the seals.
    heading(`HSM: wrapped key generation after ${warmup + issued} seals`);
    const hsmAfter = await hsmWrappedRate(app, 3);
    console.log(`after the seals: ${fmt(hsmAfter.perSecond)} keys/s (${hsmAfter.ops} in ${fmt(hsmAfter.seconds, 2)} s)`);

    // 5. Token-object key generation, the baseline that motivated wrapped keys.
    heading('HSM baseline: token-object key generation (ensureEcKeyPair, fresh labels), one at a time');
    const dir = tokenDir(path.join(config.runtime.dataDir, 'hsm', 'tokens'), heldToken(config, 'issuing').label);
    const objectsBefore = countObjects(dir);
    const runId = randomUUID().slice(0, 8);
    const tokenRate = await measureRate(2, (i) => app.issuingHsm.ensureEcKeyPair(`bench-token-key-${runId}-${i}`), 1, 5);
    console.log(`${fmt(tokenRate.perSecond)} keys/s (${tokenRate.ops} in ${fmt(tokenRate.seconds, 2)} s; ${objectsBefore} token objects before, ${countObjects(dir)} after)`);

    // Summary.
    const ratio = issuedPerSecond / barePerSecond;
    heading('summary (bench:issuance)');
    printTable([
      ['figure', 'value'],
      [`seals issued per second (API, end to end; ${issued} cases in ${roundRows.length - 1} rounds)`, fmt(issuedPerSecond, 2)],
      ['bare workflows per second (same activities, no-ops; interleaved rounds)', fmt(barePerSecond, 2)],
      ['ratio issued / bare (overall)', fmt(ratio, 3)],
      ['ratio per round', roundRows.slice(1).map((r) => r[4]).join(' ')],
      ['HSM wrapped key generation per second, at the start', fmt(hsmStart.perSecond)],
      [`HSM wrapped key generation per second, after ${warmup + issued} seals`, fmt(hsmAfter.perSecond)],
      ['HSM token-object key generation per second', fmt(tokenRate.perSecond)],
      ['ratio wrapped (after the seals) / token-object', fmt(hsmAfter.perSecond / tokenRate.perSecond, 1)],
    ]);
    console.log(`issued/s ÷ bare/s = ${fmt(ratio, 3)} (target ≥ ${TARGET_RATIO}): ${ratio >= TARGET_RATIO ? 'PASS' : 'BELOW TARGET'}`);
    console.log(`total ${fmt((now() - started) / 1000, 1)} s; load average ${load()}`);
  } finally {
    for (const wk of bareWorkers) wk.shutdown();
    await Promise.all(bareRuns);
    await bareConnection?.close();
    await client.connection.close();
    await app.stop();
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e instanceof Error ? e.stack : e);
    process.exit(1);
  },
);
