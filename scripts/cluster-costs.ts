// What one case costs on the cluster, measured around a run of cases (scripts/cluster-chaos.ts): rows and bytes
// in the application's PostgreSQL database per table, Temporal's persistence and visibility databases, the blob
// store, audit entries; and from the cases' own Temporal histories (application and seal workflows): events,
// activities by task queue and type, timers, Updates, signals, and the history bytes the history service stored.
// The figures of docs/capacity.md.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { createDb, type Db } from '../infra/db';
import { fmt, printTable } from '../bench/lib';
import type { RunningCluster } from './cluster';

interface Snapshot {
  rows: Map<string, number>;
  bytes: Map<string, number>;
  databases: Map<string, number>;
  temporalTables: Map<string, number>;
  blobBytes: number;
}

function folderBytes(dir: string): number {
  let total = 0;
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return 0;
  }
  for (const e of entries) {
    const p = path.join(dir, e);
    const s = statSync(p);
    total += s.isDirectory() ? folderBytes(p) : s.size;
  }
  return total;
}

const withTemporalDb = async <T>(cluster: RunningCluster, fn: (db: Db) => Promise<T>) => {
  const db = createDb(cluster.ownerDatabaseUrl.replace(/\/[^/]*$/, '/temporal'), { min: 0, max: 1 });
  try {
    return await fn(db);
  } finally {
    await db.destroy();
  }
};

async function snapshot(db: Db, cluster: RunningCluster): Promise<Snapshot> {
  await db.raw('checkpoint').catch(() => undefined); // sizes on disk after the WAL is written back (owner only)
  const tables: string[] = (await db.raw("select tablename from pg_tables where schemaname = 'public' and tablename not like 'knex_%'")).rows.map((r: any) => r.tablename);
  const rows = new Map<string, number>();
  const bytes = new Map<string, number>();
  for (const t of tables) {
    rows.set(t, Number((await db.raw('select count(*)::bigint as n from ??', [t])).rows[0].n));
    bytes.set(t, Number((await db.raw('select pg_total_relation_size(?::regclass) as b', [t])).rows[0].b));
  }
  const databases = new Map<string, number>(
    (await db.raw("select datname, pg_database_size(datname) as b from pg_database where datname in ('eseal', 'temporal', 'temporal_visibility')")).rows.map((r: any) => [r.datname, Number(r.b)]),
  );
  const temporalTables = await withTemporalDb(cluster, async (tdb) => new Map<string, number>(
    (await tdb.raw("select tablename, pg_total_relation_size(quote_ident(tablename)::regclass) as b from pg_tables where schemaname = 'public'")).rows.map((r: any) => [r.tablename, Number(r.b)]),
  ));
  return { rows, bytes, databases, temporalTables, blobBytes: folderBytes(path.join(cluster.dataDir, 'blobs')) };
}

interface HistoryCosts {
  events: number;
  byKind: Map<string, number>;
}

function countHistory(history: any, into: HistoryCosts, hsmQueue: string) {
  for (const e of history.events ?? []) {
    into.events++;
    const add = (k: string) => into.byKind.set(k, (into.byKind.get(k) ?? 0) + 1);
    if (e.activityTaskScheduledEventAttributes) {
      const a = e.activityTaskScheduledEventAttributes;
      add(a.taskQueue?.name === hsmQueue ? `activity (HSM queue) ${a.activityType?.name}` : 'activity (main queue)');
      add('activities scheduled');
    }
    if (e.activityTaskStartedEventAttributes && (e.activityTaskStartedEventAttributes.attempt ?? 1) > 1) add('activity retries (attempt > 1)');
    if (e.workflowTaskScheduledEventAttributes) add('workflow tasks');
    if (e.timerStartedEventAttributes) add('timers started');
    if (e.workflowExecutionUpdateAcceptedEventAttributes) add('Updates accepted');
    if (e.workflowExecutionSignaledEventAttributes) add('signals received');
    if (e.startChildWorkflowExecutionInitiatedEventAttributes) add('child workflows started');
    if (e.upsertWorkflowSearchAttributesEventAttributes) add('search attribute upserts');
    if (e.workflowExecutionStartedEventAttributes) add('workflow executions started');
    if (e.workflowExecutionContinuedAsNewEventAttributes) add('continue-as-new');
  }
}

async function since(before: Snapshot, db: Db, cluster: RunningCluster, temporal: Client, caseIds: string[]) {
  const after = await snapshot(db, cluster);
  const n = caseIds.length;
  const hsmQueue = cluster.env.ESEAL_TEMPORAL_TASK_QUEUES_HSM ?? 'eseal-hsm';
  // Temporal, from the cases' own histories (application workflow, then the seal's workflow it started).
  const sample = caseIds.slice(0, 10);
  const costs: HistoryCosts = { events: 0, byKind: new Map() };
  const workflowIds: string[] = [];
  for (const caseId of sample) {
    const seal = await db('seals').where({ case_id: caseId }).first('id');
    for (const id of [`application:${caseId}`, ...(seal ? [`seal:${seal.id}`] : [])]) {
      workflowIds.push(id);
      const history = await temporal.workflow.getHandle(id).fetchHistory();
      countHistory(history, costs, hsmQueue);
      if (id.startsWith('seal:')) costs.byKind.set('  events of the (open) seal workflow', (costs.byKind.get('  events of the (open) seal workflow') ?? 0) + (history.events?.length ?? 0));
    }
  }
  const stored = await withTemporalDb(cluster, async (tdb) => {
    const r = await tdb.raw(
      `select count(distinct e.run_id) as runs, coalesce(sum(octet_length(h.data)), 0) as history_bytes, count(h.*) as history_nodes
         from executions e left join history_node h on h.tree_id = e.run_id where e.workflow_id = any(?)`,
      [workflowIds],
    );
    const m = await tdb.raw('select coalesce(sum(octet_length(data) + octet_length(state)), 0) as b from executions where workflow_id = any(?)', [workflowIds]);
    // The seal's workflow stays open for the seal's life: its share is what a city's millions of seals keep.
    const sealIds = workflowIds.filter((id) => id.startsWith('seal:'));
    const sh = await tdb.raw('select coalesce(sum(octet_length(h.data)), 0) as b from executions e join history_node h on h.tree_id = e.run_id where e.workflow_id = any(?)', [sealIds]);
    const sm = await tdb.raw('select coalesce(sum(octet_length(data) + octet_length(state)), 0) as b from executions where workflow_id = any(?)', [sealIds]);
    return {
      runs: Number(r.rows[0].runs),
      historyBytes: Number(r.rows[0].history_bytes),
      historyNodes: Number(r.rows[0].history_nodes),
      mutableStateBytes: Number(m.rows[0].b),
      sealHistoryBytes: Number(sh.rows[0].b),
      sealMutableStateBytes: Number(sm.rows[0].b),
      seals: sealIds.length,
    };
  });
  return {
    print() {
      console.log(`\nper case, measured over these ${n} cases (Temporal: the histories of ${sample.length} of them, application and seal workflows)`);
      const kinds = [...costs.byKind.entries()].sort(([a], [b]) => a.localeCompare(b));
      printTable([
        ['Temporal, per case', 'value'],
        ['history events', fmt(costs.events / sample.length, 1)],
        ...kinds.map(([k, v]) => [k, fmt(v / sample.length, 2)]),
        [`history bytes stored (history_node, ${stored.historyNodes} nodes of ${stored.runs} runs)`, fmt(stored.historyBytes / sample.length, 0)],
        ['mutable state bytes (executions.data + state)', fmt(stored.mutableStateBytes / sample.length, 0)],
        ['  of which the open seal workflow: history bytes', fmt(stored.sealHistoryBytes / Math.max(1, stored.seals), 0)],
        ['  of which the open seal workflow: mutable state bytes', fmt(stored.sealMutableStateBytes / Math.max(1, stored.seals), 0)],
      ]);
      const grown = [...after.rows.keys()]
        .map((t) => ({ t, rows: (after.rows.get(t) ?? 0) - (before.rows.get(t) ?? 0), bytes: (after.bytes.get(t) ?? 0) - (before.bytes.get(t) ?? 0) }))
        .filter((x) => x.rows !== 0)
        .sort((a, b) => b.bytes - a.bytes);
      printTable([
        ['PostgreSQL eseal, per case', 'rows', 'bytes (table + indexes + TOAST growth)'],
        ...grown.map((x) => [x.t, fmt(x.rows / n, 2), fmt(x.bytes / n, 0)]),
        ['all tables', fmt(grown.reduce((s, x) => s + x.rows, 0) / n, 1), fmt(grown.reduce((s, x) => s + x.bytes, 0) / n, 0)],
      ]);
      const db = (name: string) => fmt(((after.databases.get(name) ?? 0) - (before.databases.get(name) ?? 0)) / n, 0);
      const tgrown = [...after.temporalTables.entries()].map(([t, b]) => [t, b - (before.temporalTables.get(t) ?? 0)] as const).filter(([, d]) => d > 0).sort((a, b) => b[1] - a[1]).slice(0, 6);
      printTable([
        ['database growth, per case', 'bytes'],
        ['eseal (pg_database_size)', db('eseal')],
        ['temporal (pg_database_size)', db('temporal')],
        ['temporal_visibility (pg_database_size)', db('temporal_visibility')],
        ...tgrown.map(([t, d]) => [`  temporal.${t}`, fmt(d / n, 0)]),
        ['blob store (files on disk)', fmt((after.blobBytes - before.blobBytes) / n, 0)],
      ]);
    },
  };
}

export const measureCaseCosts = { snapshot, since };

/** CPU seconds used so far by each supervised process and its descendants (Chromium under a main worker), and PostgreSQL's. */
export function cpuSeconds(cluster: RunningCluster): Map<string, number> {
  const ticks = 100; // USER_HZ on Linux
  const procs = new Map<number, { ppid: number; cpu: number; cmd: string }>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const cmd = readFileSync(`/proc/${d}/cmdline`, 'utf8');
      procs.set(Number(d), { ppid: Number(f[1]), cpu: (Number(f[11]) + Number(f[12])) / ticks, cmd });
    } catch {
      /* gone */
    }
  }
  const treeCpu = (root: number): number => {
    let total = procs.get(root)?.cpu ?? 0;
    for (const [pid, p] of procs) if (p.ppid === root) total += treeCpu(pid);
    return total;
  };
  const out = new Map<string, number>();
  for (const s of cluster.supervisor.children.values()) if (s.pid) out.set(s.spec.name, treeCpu(s.pid));
  const pgDir = path.join(cluster.dataDir, 'postgres');
  for (const [pid, p] of procs) if (p.cmd.includes(pgDir) && procs.get(p.ppid)?.cmd.includes(pgDir) !== true) out.set('postgresql', treeCpu(pid)); // the postmaster and its backends
  return out;
}

/** CPU seconds per case by kind of process, between two cpuSeconds() readings. */
export function printCpuPerCase(before: Map<string, number>, after: Map<string, number>, cases: number) {
  const group = (name: string) => name.replace(/-\d+$/, '');
  const sums = new Map<string, number>();
  for (const [name, v] of after) sums.set(group(name), (sums.get(group(name)) ?? 0) + v - (before.get(name) ?? 0));
  printTable([
    ['CPU seconds per case (all processes of the kind)', 'value'],
    ...[...sums.entries()].sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, fmt(v / cases, 3)]),
    ['total', fmt([...sums.values()].reduce((a, b) => a + b, 0) / cases, 3)],
  ]);
}
