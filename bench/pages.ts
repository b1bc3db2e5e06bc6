// bench:pages — server time of the busiest back-office pages on a city-sized database.
// On the services of scripts/with-stack.ts (own ports and data-bench-pages/):
//   1. seeds, with generate_series SQL, --seals seals (default 1 000 000) of 100 000 holders in the 16
//      districts with their cases, --tasks open officer tasks (default 100 000) with timelines and
//      materials, 2 000 overdue filings and 5 000 seals waiting for collection;
//   2. serves the real app (web/app.ts) in this process and logs in through the login form: an officer of
//      朝阳区, a supervisor;
//   3. --users concurrent users (default 4) request each page --requests times (after a warm-up): the
//      officer's queue, a case page (a random open case of the district), the supervisors' dashboard, the
//      makers' compliance charts and the audit search.
// Prints p50 and p95 of the server time (request in → response finished) per page, against the target
// p95 ≤ 100 ms, and the query plans of each page's queries with the indexes they use.
//   node --import tsx bench/pages.ts [--seals 1000000] [--tasks 100000] [--users 4] [--requests 200]
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { loadConfig } from '../infra/config';
import { BlobStore } from '../infra/blobs';
import { createDb, type Db } from '../infra/db';
import { setLoginPassword } from '../usecases/web-accounts';
import { makerCompliance } from '../usecases/web-compliance';
import { createApp } from '../web/app';
import { fmt, heading, intFlag, now, percentile, printTable } from './lib';

const TARGET_P95_MS = 100;
const DISTRICTS = ['110101', '110102', '110105', '110106', '110107', '110108', '110109', '110111', '110112', '110113', '110114', '110115', '110116', '110117', '110118', '110119'];
const HOLDERS = 100_000;
const MAKERS = 20;
const OVERDUE = 2_000;
const READY = 5_000;
const EVENTS_PER_OPEN_CASE = 8;

const districtExpr = (holderIndex: string) => `(array[${DISTRICTS.map((d) => `'${d}'`).join(',')}])[1 + (${holderIndex}) % 16]`;

async function seed(db: Db, seals: number, tasks: number) {
  const t0 = now();
  const step = async (label: string, sql: string) => {
    const s = now();
    await db.raw(sql);
    console.log(`  ${label.padEnd(44)} ${fmt((now() - s) / 1000)} s`);
  };
  const existing = Number((await db('seals').count('* as n').first())?.n ?? 0);
  if (existing >= seals) {
    console.log(`  ${existing} seals already seeded`);
    return;
  }
  heading(`seeding ${seals} seals, ${tasks} open tasks`);
  const holderOf = `(1 + i % ${HOLDERS})`;
  await step('makers and the bench user', `
    insert into makers (id, name, uscc, licence_no, district_code, licence_valid_from, licence_valid_until, licence_status)
      select md5('maker' || i)::uuid, '基准印章制作有限公司' || i, 'BM' || lpad(i::text, 16, '0'), 'BENCH-' || i, '110105', '2024-01-01', '2099-12-31', 'active'
      from generate_series(1, ${MAKERS}) i;
    insert into users (id, username, display_name, role, maker_id) values (md5('bench-maker')::uuid, 'bench-maker', '基准制作员', 'maker', md5('maker1')::uuid);`);
  await step(`${HOLDERS} holders`, `
    insert into holders (id, uscc, name, kind, district_code, address)
      select md5('holder' || i)::uuid, 'BH' || lpad(i::text, 16, '0'), '北京基准用章单位' || i || '有限公司', 'enterprise', ${districtExpr('i')}, '北京市基准路' || i || '号'
      from generate_series(1, ${HOLDERS}) i;`);
  // Cases 1..tasks: filed, waiting for the officer; then OVERDUE overdue filings; then READY seals
  // waiting for collection; the rest collected.
  const statusExpr = `case when i <= ${tasks} then 'filing_under_review' when i <= ${tasks + OVERDUE} then 'awaiting_filing' when i <= ${tasks + OVERDUE + READY} then 'ready' else 'collected' end`;
  await step(`${seals} cases`, `
    insert into cases (id, maker_id, holder_id, district_code, status, language, handler_name, handler_id_number, handler_phone, created_by, created_at, updated_at)
      select md5('case' || i)::uuid, md5('maker' || (1 + i % ${MAKERS}))::uuid, md5('holder' || ${holderOf})::uuid, ${districtExpr(holderOf)}, ${statusExpr},
             'zh', '经办人' || i % 1000, '110105198506120' || lpad((i % 1000)::text, 3, '0'), '13800138000', md5('bench-maker')::uuid,
             now() - (i || ' seconds')::interval, now() - (i || ' seconds')::interval
      from generate_series(1, ${seals}) i;`);
  await step(`${seals} seals`, `
    insert into seals (id, case_id, holder_id, kind, number, text, status, seal_code, ready_at, unclaimed_due_at, collected_at, created_at)
      select md5('seal' || i)::uuid, md5('case' || i)::uuid, md5('holder' || ${holderOf})::uuid, 'business_contract', 1 + i / ${HOLDERS}, '北京基准用章单位' || ${holderOf} || '有限公司',
             case when i <= ${tasks + OVERDUE} then 'in_production' when i <= ${tasks + OVERDUE + READY} then 'ready' else 'active' end,
             lpad(i::text, 13, '0'),
             case when i > ${tasks + OVERDUE} then now() - interval '80 days' end,
             case when i > ${tasks + OVERDUE} and i <= ${tasks + OVERDUE + READY} then now() + ((i % 30) || ' days')::interval end,
             case when i > ${tasks + OVERDUE + READY} then now() - interval '70 days' end,
             now() - (i || ' seconds')::interval
      from generate_series(1, ${seals}) i;`);
  await step(`${tasks} open tasks`, `
    insert into tasks (id, kind, case_id, district_code, status, due_at, created_at)
      select md5('task' || i)::uuid, case when i % 10 = 0 then 'cancellation_filing' else 'filing_review' end, md5('case' || i)::uuid, ${districtExpr(holderOf)}, 'open',
             case when i % 4 = 0 then now() + (((i % 2880) - 1440) || ' minutes')::interval end, now() - (i || ' seconds')::interval
      from generate_series(1, ${tasks}) i;`);
  await step('filing deadlines (filed, and overdue)', `
    insert into filing_deadlines (case_id, kind, district_code, maker_id, started_at, due_at, overdue_at, first_filed_at)
      select md5('case' || i)::uuid, 'production', ${districtExpr(holderOf)}, md5('maker' || (1 + i % ${MAKERS}))::uuid,
             now() - interval '2 days' - (i % 600 || ' minutes')::interval, now() - interval '1 day' - (i % 600 || ' minutes')::interval,
             case when i > ${tasks} then now() - interval '1 day' - (i % 600 || ' minutes')::interval end,
             case when i <= ${tasks} then now() - interval '30 hours' end
      from generate_series(1, ${tasks + OVERDUE}) i;`);
  await step(`timelines (${EVENTS_PER_OPEN_CASE} events per open case)`, `
    insert into case_events (case_id, event_key, type, data, actor_id, at)
      select md5('case' || i)::uuid, e || ':' || (array['submitted','materials_required','materials_submitted','materials_complete','awaiting_production','production_recorded','produced','filing_submitted'])[e],
             (array['submitted','materials_required','materials_submitted','materials_complete','awaiting_production','production_recorded','produced','filing_submitted'])[e],
             '{}'::jsonb, case when e in (1, 6, 8) then md5('bench-maker')::uuid end, now() - ((10 - e) || ' hours')::interval
      from generate_series(1, ${tasks}) i, generate_series(1, ${EVENTS_PER_OPEN_CASE}) e;`);
  await step('materials (3 per open case)', `
    insert into blobs (sha256, content_type, size) values (repeat('ab', 32), 'application/pdf', 125);
    insert into materials (id, case_id, kind, original_name, blob_sha256, uploaded_by)
      select md5('material' || i || '/' || k)::uuid, md5('case' || i)::uuid, (array['establishment_document','legal_rep_authorisation_letter','handler_id_copy'])[k], 'file' || k || '.pdf', repeat('ab', 32), md5('bench-maker')::uuid
      from generate_series(1, ${tasks}) i, generate_series(1, 3) k;`);
  await step('vacuum analyze', 'vacuum analyze');
  console.log(`  seeded in ${fmt((now() - t0) / 1000)} s`);
}

interface Scenario {
  name: string;
  cookie: string;
  paths: () => string;
}

async function main() {
  const seals = intFlag('seals', 1_000_000);
  const tasks = intFlag('tasks', 100_000);
  const users = intFlag('users', 4);
  const requests = intFlag('requests', 200);
  const config = loadConfig();
  if (!config.runtime.databaseUrl) throw new Error('bench:pages needs the services: run it with `npm run bench:pages` (scripts/with-stack.ts).');
  const db = createDb(config.runtime.databaseUrl, { min: 2, max: 10 });
  await seed(db, seals, tasks);

  // The real app, in this process, with a clock on every request.
  const app = createApp({ db, temporal: {} as Client, config, blobs: new BlobStore(path.join(config.runtime.dataDir, 'blobs')) });
  const times = new Map<string, number[]>();
  const server = http.createServer((req, res) => {
    const start = process.hrtime.bigint();
    const label = String(req.headers['x-bench'] ?? '');
    res.on('finish', () => {
      if (!label) return;
      const list = times.get(label) ?? [];
      list.push(Number(process.hrtime.bigint() - start) / 1e6);
      times.set(label, list);
    });
    app(req, res);
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  // Users of the pages, logged in through the form.
  const officerId = '00000000-0000-4000-8000-00000000b001';
  const supervisorId = '00000000-0000-4000-8000-00000000b002';
  await db('users').insert([
    { id: officerId, username: 'bench-officer', display_name: '朝阳分局 基准警官', role: 'officer', district_code: '110105' },
    { id: supervisorId, username: 'bench-supervisor', display_name: '市局 基准督导', role: 'supervisor' },
  ]).onConflict('id').ignore();
  const password = 'Bench-pages-2026';
  await setLoginPassword(db, officerId, password);
  await setLoginPassword(db, supervisorId, password);
  const login = async (username: string) => {
    const form = await fetch(`${base}/login`);
    const token = /eseal_login_csrf=([^;]+)/.exec(form.headers.getSetCookie().join('\n'))![1];
    await form.text();
    const res = await fetch(`${base}/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: `eseal_login_csrf=${token}` },
      body: new URLSearchParams({ _csrf: token, username, password }),
    });
    const sid = /eseal_sid=([^;]+)/.exec(res.headers.getSetCookie().join('\n'));
    if (res.status !== 303 || !sid) throw new Error(`login of ${username} failed: ${res.status}`);
    return `eseal_sid=${sid[1]}`;
  };
  const officer = await login('bench-officer');
  const supervisor = await login('bench-supervisor');
  const openCases: string[] = await db('tasks').where({ district_code: '110105', status: 'open' }).limit(2000).pluck('case_id');
  if (openCases.length === 0) throw new Error('no open cases in 110105');

  const scenarios: Scenario[] = [
    { name: 'officer queue  GET /tasks', cookie: officer, paths: () => '/tasks' },
    { name: 'case page      GET /cases/:id', cookie: officer, paths: () => `/cases/${openCases[Math.floor(Math.random() * openCases.length)]}` },
    { name: 'supervision    GET /supervision', cookie: supervisor, paths: () => '/supervision' },
    { name: 'compliance     GET /supervision/compliance', cookie: supervisor, paths: () => '/supervision/compliance' },
    { name: 'audit search   GET /supervision/audit', cookie: supervisor, paths: () => '/supervision/audit?user=bench-officer' },
  ];

  const get = async (s: Scenario, label: string) => {
    const res = await fetch(base + s.paths(), { headers: { cookie: s.cookie, 'x-bench': label, accept: 'text/html' } });
    const body = await res.text();
    if (res.status !== 200) throw new Error(`${s.name}: ${res.status} ${body.slice(0, 300)}`);
  };

  heading(`server time, ${users} concurrent users, ${requests} requests per page`);
  const rows: Array<Array<string | number>> = [['page', 'requests', 'p50 ms', 'p95 ms', 'max ms', `p95 ≤ ${TARGET_P95_MS} ms`]];
  let allMet = true;
  for (const s of scenarios) {
    for (let i = 0; i < 20; i++) await get(s, ''); // warm-up: caches, compiled templates, connections
    let next = 0;
    await Promise.all(Array.from({ length: users }, async () => {
      while (next++ < requests) await get(s, s.name);
    }));
    const t = times.get(s.name) ?? [];
    const p95 = percentile(t, 95);
    allMet &&= p95 <= TARGET_P95_MS;
    rows.push([s.name, t.length, fmt(percentile(t, 50)), fmt(p95), fmt(Math.max(...t)), p95 <= TARGET_P95_MS ? 'yes' : 'NO']);
  }
  printTable(rows);

  // The compliance page reuses its statistics for a minute; their computation itself, afresh each time:
  const fresh: number[] = [];
  const supervisorActor = { userId: supervisorId, username: 'bench-supervisor', role: 'supervisor' as const, districtCode: null, makerId: null, holderId: null };
  for (let i = 0; i < 20; i++) {
    const s = now();
    await makerCompliance(db, supervisorActor, { weeks: 12, now: new Date() });
    fresh.push(now() - s);
  }
  console.log(`\ncompliance statistics computed afresh (12 weeks, one user): p50 ${fmt(percentile(fresh, 50))} ms, p95 ${fmt(percentile(fresh, 95))} ms (once a minute per web process)`);

  // Each page's queries and the indexes their plans use.
  heading('query plans (EXPLAIN ANALYZE) of each page');
  const runs: Array<{ name: string; run: () => Promise<unknown> }> = [
    ...scenarios.map((s) => ({ name: s.name, run: () => get(s, '') })),
    // The compliance page above answered from its one-minute cache: its queries, computed afresh.
    { name: 'compliance statistics (afresh)', run: () => makerCompliance(db, supervisorActor, { weeks: 12, now: new Date() }) },
  ];
  for (const s of runs) {
    const captured: Array<{ sql: string; bindings: unknown[] }> = [];
    const listener = (q: { sql: string; bindings?: unknown[] }) => captured.push({ sql: q.sql, bindings: q.bindings ?? [] });
    db.on('query', listener);
    await s.run();
    db.off('query', listener);
    console.log(`\n${s.name}`);
    const table: Array<Array<string | number>> = [['query', 'ms', 'indexes used', 'sequential scans']];
    for (const q of captured) {
      if (!/^\s*select/i.test(q.sql) || /web_sessions|login_throttle|login_known_sources/.test(q.sql)) continue;
      // knex reports PostgreSQL's $1, $2 … placeholders; raw() takes ? in the same order.
      const sql = q.sql.replace(/\$\d+/g, '?');
      const plan = (await db.raw(`explain (analyze, costs off, timing on) ${sql}`, q.bindings as never)).rows.map((r: Record<string, string>) => r['QUERY PLAN']) as string[];
      const indexes = [...new Set(plan.flatMap((l) => [...l.matchAll(/(?:Index Scan|Index Only Scan|Bitmap Index Scan)(?: Backward)? (?:using|on) (\w+)/g)].map((m) => m[1])))];
      const seqs = [...new Set(plan.flatMap((l) => [...l.matchAll(/Seq Scan on (\w+)/g)].map((m) => m[1])))];
      const ms = Number(/Execution Time: ([\d.]+)/.exec(plan.join('\n'))?.[1] ?? NaN);
      const from = /\bfrom "?(\w+)"?/i.exec(q.sql)?.[1] ?? '?';
      table.push([`${from}: ${q.sql.replace(/\s+/g, ' ').slice(0, 60)}…`, fmt(ms, 2), indexes.join(', ') || '-', seqs.join(', ') || '-']);
    }
    printTable(table);
  }
  const big = ['cases', 'seals', 'tasks', 'case_events', 'materials', 'filing_deadlines', 'holders'];
  console.log(`\nTables of a million rows must be read through indexes only (sequential scans above are on small tables: ${['districts', 'users', 'makers', 'unclaimed_ledger', 'documents'].join(', ')}; large ones: ${big.join(', ')}).`);
  console.log(allMet ? `\nTarget met: every page's p95 ≤ ${TARGET_P95_MS} ms.` : `\nTarget NOT met for some page (p95 > ${TARGET_P95_MS} ms).`);

  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await db.destroy();
  process.exit(allMet ? 0 : 1);
}

main().catch((e) => {
  console.error(e instanceof Error ? e.stack : e);
  process.exit(1);
});
