// bench:scale — the same back office on the Temporal CLI's dev server (`make up`) and on the multi-service
// cluster (`npm run cluster`), in one run: issuance throughput (applications from submission to collection
// through the JSON API, --concurrency at a time) and the round trip of an officer's decision (a workflow Update
// behind POST /api/tasks/{id}/decision, p50/p95), with 2 and then 1 worker process of each kind (main, HSM), and
// the ratio of each figure to the dev server's with 1 worker (the baseline, measured in the same run).
//   npm run bench:scale [-- --cases 12 --concurrency 4]
// Each configuration drives --cases applications after 2 warm-up cases. Its own ports and data folders
// (data-bench-scale*, cluster ports from 9700), started fresh and stopped at the end; each backend runs in a
// process of its own.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../infra/config';
import { makeUscc } from '../test/helpers/fixtures';
import { CaseDriver, DISTRICT, ResilientClient, type Holder } from '../scripts/case-driver';
import { startBackOffice, waitForReady, PROCESSES } from '../scripts/back-office';
import { startCluster, WORKERS } from '../scripts/cluster';
import { fmt, heading, intFlag, now, percentile, printTable, runPool } from './lib';

const log = (m: string) => console.log(`\x1b[1;36m[scale]\x1b[0m ${new Date().toISOString().slice(11, 19)} ${m}`);
const load = () => loadavg().map((l) => l.toFixed(1)).join(' ');

interface Target {
  url: string;
  token: (username: string) => string;
  /** Stops the second worker of each kind (main, HSM), leaving one. */
  toOneWorker(): Promise<void>;
  stop(): Promise<void>;
}

interface Figures {
  backend: string;
  workers: number;
  cases: number;
  seconds: number;
  perMinute: number;
  decisionP50: number;
  decisionP95: number;
  load: string;
}

async function drive(target: Target, backend: string, workers: number, cases: number, concurrency: number): Promise<Figures> {
  const http = new ResilientClient(target.url);
  const admin = target.token('admin');
  const run = randomUUID().slice(0, 6);
  const today = new Date().toISOString().slice(0, 10);
  const holders: Holder[] = Array.from({ length: cases + 2 }, (_, i) => ({ uscc: makeUscc(DISTRICT), name: `北京规模测试${run}第${i + 1}有限公司`, address: `北京市海淀区中关村大街${i + 1}号` }));
  await runPool(holders.length, 4, async (i) => {
    const h = holders[i];
    const r = await http.send(admin, 'POST', '/api/registration/holders', { uscc: h.uscc, name: h.name, kind: 'enterprise', address: h.address, district: DISTRICT, legal_representative: '王五', registration_date: today });
    if (r?.status !== 201) throw new Error(`registering ${h.uscc}: HTTP ${r?.status}: ${JSON.stringify(r?.body).slice(0, 300)}`);
  });
  const deadline = Date.now() + 15 * 60_000;
  const warm = new CaseDriver(http, target.token('maker'), target.token('officer.haidian'));
  await Promise.all(holders.slice(0, 2).map((h) => warm.runCase(h, deadline)));
  const driver = new CaseDriver(http, target.token('maker'), target.token('officer.haidian'));
  const t0 = now();
  await runPool(cases, concurrency, (i) => driver.runCase(holders[2 + i], deadline));
  const seconds = (now() - t0) / 1000;
  const f: Figures = { backend, workers, cases, seconds, perMinute: (cases / seconds) * 60, decisionP50: percentile(driver.decisionMs, 50), decisionP95: percentile(driver.decisionMs, 95), load: load() };
  log(`${backend}, ${workers} worker(s) of each kind: ${cases} cases in ${fmt(seconds)} s (${fmt(f.perMinute)}/min), decision p50 ${fmt(f.decisionP50, 0)} ms, p95 ${fmt(f.decisionP95, 0)} ms; load ${f.load}`);
  return f;
}

async function devServer(): Promise<Target> {
  const config = loadConfig();
  rmSync(path.resolve(config.runtime.dataDir), { recursive: true, force: true });
  const office = await startBackOffice(config, log, { logFile: path.join(path.resolve(config.runtime.dataDir), 'processes.log'), workers: 2 });
  await waitForReady(`${office.webUrl}/readyz`, 120_000);
  return {
    url: office.webUrl,
    token: (u) => office.logins.find((l) => l.username === u)!.token,
    toOneWorker: () => office.supervisor.stop(15_000, (name) => name === `${PROCESSES.main} 2` || name === `${PROCESSES.hsm} 2`),
    stop: async () => {
      await office.stop();
      await office.stack.stop();
    },
  };
}

async function cluster(): Promise<Target> {
  const c = await startCluster({ dataDir: 'data-bench-scale-cluster', basePort: Number(process.env.BENCH_SCALE_CLUSTER_BASE_PORT ?? 9700), namespace: 'eseal', historyShards: 4, fresh: true, log });
  return {
    url: c.url,
    token: (u) => c.logins.find((l) => l.username === u)!.token,
    toOneWorker: async () => {
      await c.supervisor.get(WORKERS.main[1]).stop();
      await c.supervisor.get(WORKERS.hsm[1]).stop();
    },
    stop: () => c.stop(),
  };
}

/** One backend in this process (`--backend dev|cluster`): 2 workers of each kind, then 1; its figures as JSON. */
async function measureBackend(backend: 'dev' | 'cluster', cases: number, concurrency: number): Promise<Figures[]> {
  const name = backend === 'dev' ? 'dev server' : 'cluster';
  log(`starting the ${name} with 2 workers of each kind; load ${load()}`);
  const target = await (backend === 'dev' ? devServer() : cluster());
  try {
    const two = await drive(target, name, 2, cases, concurrency);
    await target.toOneWorker();
    return [two, await drive(target, name, 1, cases, concurrency)];
  } finally {
    await target.stop();
  }
}

async function main() {
  const cases = intFlag('cases', 12);
  const concurrency = Math.max(1, intFlag('concurrency', 4));
  const only = process.argv[process.argv.indexOf('--backend') + 1];
  if (process.argv.includes('--backend')) {
    const figures = await measureBackend(only === 'cluster' ? 'cluster' : 'dev', cases, concurrency);
    console.log(`FIGURES ${JSON.stringify(figures)}`);
    return;
  }
  // Each backend in a process of its own: a process holds one SoftHSM configuration (read at C_Initialize).
  const figures: Figures[] = [];
  for (const backend of ['dev', 'cluster']) {
    const out = await new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', __filename, '--backend', backend, '--cases', String(cases), '--concurrency', String(concurrency)], { stdio: ['ignore', 'pipe', 'inherit'] });
      let text = '';
      child.stdout.on('data', (b: Buffer) => {
        text += b.toString();
        process.stdout.write(b.toString().split('\n').filter((l) => !l.startsWith('FIGURES ')).join('\n'));
      });
      child.on('exit', (code) => (code === 0 ? resolve(text) : reject(new Error(`the ${backend} run failed (exit ${code})`))));
    });
    figures.push(...(JSON.parse(out.split('\n').find((l) => l.startsWith('FIGURES '))!.slice(8)) as Figures[]));
  }
  const base = figures.find((f) => f.backend === 'dev server' && f.workers === 1)!;
  heading(`bench:scale — ${cases} cases per configuration, ${concurrency} at a time (baseline: dev server, 1 worker of each kind)`);
  printTable([
    ['backend', 'workers of each kind', 'cases/min', '× baseline', 'decision p50 ms', 'p95 ms', '× baseline (p50)', 'load during'],
    ...figures.map((f) => [f.backend, f.workers, fmt(f.perMinute), fmt(f.perMinute / base.perMinute, 2), fmt(f.decisionP50, 0), fmt(f.decisionP95, 0), fmt(f.decisionP50 / base.decisionP50, 2), f.load]),
  ]);
  console.log('\nOn this 2-core machine every process of both backends shares the same two cores: the ratios say what the');
  console.log('cluster costs or gains per case here, not what more machines would give (docs/capacity.md).');
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
