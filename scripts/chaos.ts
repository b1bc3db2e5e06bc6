// `npm run chaos`: the back office as `make up` runs it (scripts/back-office.ts: every process supervised),
// on its own ports and data folder (data-chaos/, wiped first), drives applications from submission to
// collection through the JSON API, several at a time, while it kills with SIGKILL, at random moments, the
// HSM worker, the main worker, the Temporal dev server and the PostgreSQL postmaster; the supervisor
// restarts each. Then it checks that nothing was lost or done twice and prints the figures:
//   every case collected; one key, certificate serial, production certificate and filing per seal, no
//   action audited as done twice, the audit chain verifies, no workflow failed or left running;
//   kills by kind, restart time (kill -> process ready) and stall (restart -> every case that was held
//   moves again), p50 and max per kind.
//   npm run chaos [-- --cases 30 --concurrency 4 --kills 12 --max-seconds 300 --settle-seconds 120 --json]
// Exit code 0: every check passed; 1: a check failed.
import { randomInt, randomUUID } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { loadConfig } from '../infra/config';
import { createDb, type Db } from '../infra/db';
import { temporalConnectionOptions } from '../infra/temporal';
import { auditCertificatePath } from '../infra/audit/heads';
import { loadAuditPublicKey, verifyAuditChain } from '../infra/audit/verify';
import type { RestartEvent } from '../infra/services/supervisor';
import { makeResidentId, makeUscc, PNG_BYTES, recentRegistrationDate } from '../test/helpers/fixtures';
import { startBackOffice, waitForReady } from './back-office';

const KINDS = ['HSM worker', 'main worker', 'Temporal dev server', 'PostgreSQL'] as const;
type Kind = (typeof KINDS)[number];
const DISTRICT = '110105';

function flag(name: string, fallback: number): number {
  const argv = process.argv.slice(2);
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? Number(argv[i + 1]) : fallback;
}
const json = process.argv.includes('--json');
const say = (m: string) => (json ? process.stderr : process.stdout).write(`\x1b[1;31m[chaos]\x1b[0m ${m}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Kill { kind: Kind; at: number; restartedAt: number | null; inFlight: string[] }

/** One HTTP call; network errors come back as status 0, so callers just try again. */
async function call(url: string, token: string, method: string, p: string, body?: unknown, headers: Record<string, string> = {}) {
  try {
    const res = await fetch(url + p, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body !== undefined && !(body instanceof FormData) ? { 'content-type': 'application/json' } : {}), ...headers },
      body: body === undefined ? undefined : body instanceof FormData ? body : JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
    const text = await res.text();
    let parsed: any = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      /* not JSON */
    }
    return { status: res.status, body: parsed };
  } catch (e) {
    return { status: 0, body: String(e) };
  }
}

const pct = (xs: number[], p: number) => {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
};

async function main(): Promise<number> {
  const cases = flag('cases', 30);
  const concurrency = flag('concurrency', 4);
  const kills = flag('kills', 12);
  const maxSeconds = flag('max-seconds', 300);
  const settleSeconds = flag('settle-seconds', 120);
  const config = loadConfig();
  const dataDir = path.resolve(config.runtime.dataDir);
  // Every run starts from nothing, so the folder must be chaos's own, never `make up`'s data.
  if (!path.basename(dataDir).includes('chaos')) throw new Error(`DATA_DIR (${dataDir}) is wiped by a chaos run: give it a folder of its own whose name contains "chaos" (npm run chaos uses data-chaos)`);
  rmSync(dataDir, { recursive: true, force: true });
  mkdirSync(dataDir, { recursive: true });
  const office = await startBackOffice(config, (m) => say(m), { logFile: path.join(dataDir, 'processes.log') });
  const started = Date.now();
  let db: Db | undefined;
  let temporal: Connection | undefined;
  try {
    await waitForReady(`${office.webUrl}/readyz`, 120_000);
    const token = (role: string, scope?: string) => office.logins.find((l) => l.role === role && (!scope || l.scope.includes(scope)))!.token;
    const [maker, officer, admin] = [token('maker'), token('officer', DISTRICT), token('admin')];
    const url = office.webUrl;
    db = createDb(office.stack.ownerDatabaseUrl, { min: 0, max: 4 });

    say(`driving ${cases} cases (more if the kills are not done by then), ${concurrency} at a time, with ${kills} kills`);

    // No case is started and no process killed after `deadline`; a case started before it is driven on until
    // `finishBy`, so a slow machine makes a late case slow, not lost: lost means not done even then.
    const deadline = started + maxSeconds * 1000;
    const finishBy = deadline + settleSeconds * 1000;
    const inFlight = new Set<string>();
    const caseIds: string[] = [];
    let driving = true;
    const done: Kill[] = [];
    const restarts: RestartEvent[] = [];

    // A case driven as a person would, from whatever state it is in, so a lost answer is simply read again.
    async function drive() {
      // A pre-registered (A3) holder of its own, registered through the API (a 409 means an earlier try did it).
      const uscc = makeUscc(DISTRICT);
      const h = { uscc, name: `北京混沌测试${uscc.slice(-6)}有限公司` };
      for (;;) {
        if (Date.now() > deadline) return;
        const r = await call(url, admin, 'POST', '/api/registration/holders', { ...h, kind: 'enterprise', legal_representative: '周九', address: '北京市朝阳区建国路1号', district: DISTRICT, registration_date: recentRegistrationDate() });
        if (r.status === 201 || r.status === 409) break;
        await sleep(300);
      }
      const handlerId = makeResidentId();
      const key = randomUUID();
      let caseId: string | undefined;
      while (!caseId && Date.now() < deadline) {
        const r = await call(url, maker, 'POST', '/api/applications', {
          holder: { uscc: h.uscc, name: h.name, kind: 'enterprise', address: '北京市朝阳区建国路1号', district: DISTRICT },
          seal: { kind: 'business_contract', language: 'zh' },
          handler: { name: '郑十一', id_number: handlerId, phone: `139${String(randomInt(1e8)).padStart(8, '0')}` },
        }, { 'idempotency-key': key });
        if (r.status === 201) caseId = r.body.id;
        else {
          // The answer may have been lost after the case was stored: look for it before trying again.
          const row = await db!('cases').join('holders', 'holders.id', 'cases.holder_id').where('holders.uscc', h.uscc).first('cases.id').catch(() => undefined);
          if (row) caseId = row.id;
          else await sleep(300);
        }
      }
      if (!caseId) return;
      caseIds.push(caseId);
      inFlight.add(caseId);
      let imageId: string | undefined;
      // Like a person: a step whose answer came (2xx) is not sent again; one whose answer was lost (an outage,
      // a 5xx) is, so every retry the API must tolerate does happen.
      const answered = new Set<string>();
      const send = async (step: string, f: () => Promise<{ status: number; body: any }>) => {
        if (answered.has(step)) return null;
        const r = await f();
        if (r.status >= 200 && r.status < 300) answered.add(step);
        return r;
      };
      try {
        while (Date.now() < finishBy) {
          const s = await call(url, maker, 'GET', `/api/applications/${caseId}/status`);
          if (s.status !== 200) {
            await sleep(300);
            continue;
          }
          const status: string = s.body.status;
          if (status === 'collected') return;
          if (['rejected', 'cancelled', 'cancelled_unclaimed', 'withdrawn'].includes(status)) return;
          let r: { status: number; body: any } | null = null;
          if (status === 'awaiting_production') {
            if (!imageId) {
              const form = new FormData();
              form.set('kind', 'on_site_image');
              form.set('file', new Blob([PNG_BYTES]), 'onsite.png');
              const up = await call(url, maker, 'POST', `/api/applications/${caseId}/materials`, form);
              if (up.status === 201) imageId = up.body.id;
            }
            if (imageId) r = await send('production', () => call(url, maker, 'POST', `/api/applications/${caseId}/production`, { production_data: { produced_on: '2026-12-01', operator: '钱七', medium: 'HSM', device: 'SoftHSM2' }, on_site_image_id: imageId }));
          } else if (status === 'awaiting_filing' || status === 'filing_returned') {
            if (status === 'filing_returned') answered.delete('filing');
            r = await send('filing', () => call(url, maker, 'POST', `/api/applications/${caseId}/filing`, {}));
          } else if (status === 'filing_under_review') {
            const task = (s.body.tasks as { id: string; kind: string; status: string }[]).find((t) => t.status === 'open');
            if (task) r = await send(`decide:${task.id}`, () => call(url, officer, 'POST', `/api/tasks/${task.id}/decision`, { decision: 'accept' }));
          } else if (status === 'ready') {
            r = await send('collection', () => call(url, maker, 'POST', `/api/applications/${caseId}/collection`, { collector_name: '郑十一', collector_id_number: handlerId }));
          }
          // Nothing to do (the workflow is working), a refusal because it moved on, or an outage: look again.
          if (!r || r.status === 0 || r.status >= 400) await sleep(r ? 300 : 150);
        }
      } finally {
        inFlight.delete(caseId);
      }
    }

    const driver = (async () => {
      let next = 0;
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while ((next < cases || done.length < kills) && Date.now() < deadline) {
            next++;
            await drive();
          }
        }),
      );
      driving = false;
    })();

    // The killer: at random moments, one process of each kind in turn (shuffled per round), each restarted
    // by the supervisor; the next kill waits until the cases held by the last one have moved again.
    office.supervisor.on('restart', (e: RestartEvent) => restarts.push(e));
    const lastEvent = async (ids: string[]) =>
      ids.length === 0 ? new Map<string, number>() : new Map((await db!('case_events').whereIn('case_id', ids).groupBy('case_id').select('case_id', db!.raw('max(at) as at'))).map((r: { case_id: string; at: Date }) => [r.case_id, new Date(r.at).getTime()]));
    const killer = (async () => {
      let round: Kind[] = [];
      while (done.length < kills && driving && Date.now() < deadline) {
        await sleep(randomInt(1500, 4500));
        if (round.length === 0) round = [...KINDS].sort(() => randomInt(3) - 1);
        const kind = round.shift()!;
        const pid = office.supervisor.pid(kind);
        if (!pid || inFlight.size === 0) continue;
        const held = [...inFlight];
        const kill: Kill = { kind, at: Date.now(), restartedAt: null, inFlight: held };
        process.kill(pid, 'SIGKILL');
        done.push(kill);
        say(`kill ${done.length}/${kills}: ${kind} (pid ${pid}) with ${held.length} cases in flight`);
        while (!restarts.some((r) => r.name === kind && r.diedAt >= kill.at) && Date.now() < deadline) await sleep(50);
        kill.restartedAt = restarts.find((r) => r.name === kind && r.diedAt >= kill.at)?.at ?? null;
        // Wait (up to 60 s) until every held case has moved since the restart, or finished.
        const until = Math.min(deadline, Date.now() + 60_000);
        while (Date.now() < until) {
          try {
            const last = await lastEvent(held.filter((id) => inFlight.has(id)));
            if ([...last.values()].every((t) => t > (kill.restartedAt ?? Infinity))) break;
          } catch {
            /* PostgreSQL may be the one restarting */
          }
          await sleep(200);
        }
      }
    })();
    await Promise.all([driver, killer]);
    const seconds = (Date.now() - started) / 1000;
    say(`driving done in ${seconds.toFixed(0)} s; checking`);

    // Figures from the cases' own timelines (case_events.at is when the workflow recorded each step).
    const events: { case_id: string; type: string; at: Date }[] = caseIds.length ? await db('case_events').whereIn('case_id', caseIds).select('case_id', 'type', 'at') : [];
    const byCase = new Map<string, number[]>();
    for (const e of events) byCase.set(e.case_id, [...(byCase.get(e.case_id) ?? []), new Date(e.at).getTime()]);
    const stallOf = (k: Kill): number | null => {
      if (k.restartedAt === null) return null;
      let worst = 0;
      for (const id of k.inFlight) {
        const next = (byCase.get(id) ?? []).filter((t) => t > k.at).sort((a, b) => a - b)[0];
        if (next !== undefined && next > k.restartedAt) worst = Math.max(worst, next - k.restartedAt); // held until after the restart
      }
      return worst;
    };
    const perKind = Object.fromEntries(
      KINDS.map((kind) => {
        const ks = done.filter((k) => k.kind === kind);
        const downs = ks.filter((k) => k.restartedAt !== null).map((k) => k.restartedAt! - k.at);
        const stalls = ks.map(stallOf).filter((s): s is number => s !== null);
        return [kind, { kills: ks.length, restart_ms: { p50: pct(downs, 50), max: pct(downs, 100) }, stall_ms: { p50: pct(stalls, 50), max: pct(stalls, 100) } }];
      }),
    );

    // Checks.
    const statuses: { id: string; status: string }[] = caseIds.length ? await db('cases').whereIn('id', caseIds).select('id', 'status') : [];
    const collected = statuses.filter((c) => c.status === 'collected').length;
    const sealIds: string[] = caseIds.length ? (await db('seals').whereIn('case_id', caseIds).select('id')).map((s: { id: string }) => s.id) : [];
    const dupRows = async (q: string, bindings: unknown[]) => Number((await db!.raw(`select count(*)::int as n from (${q}) x`, bindings as never)).rows[0].n);
    const any = (ids: string[]) => (ids.length ? ids : [randomUUID()]);
    const duplicates = {
      keys: await dupRows(`select seal_id from seal_keys where seal_id = any(?) group by seal_id having count(*) > 1`, [any(sealIds)])
        + await dupRows(`select public_key_spki from seals where public_key_spki is not null group by public_key_spki having count(*) > 1`, []),
      certificate_serials: await dupRows(`select certificate_serial from seals where certificate_serial is not null group by certificate_serial having count(*) > 1`, []),
      documents: await dupRows(`select seal_id, kind from documents where seal_id = any(?) group by seal_id, kind having count(*) > 1`, [any(sealIds)]),
      filings: await dupRows(`select case_id, kind from filings where case_id = any(?) group by case_id, kind having count(*) > 1`, [any(caseIds)]),
      audit_events: await dupRows(`select case_id, action from audit_entries where case_id = any(?) and outcome = 'ok' and action not like '%.read' group by case_id, action, coalesce(target_id, '') having count(*) > 1`, [any(caseIds)]),
      timeline_events: await dupRows(`select case_id, type from case_events where case_id = any(?) and type in ('produced', 'collected', 'filing_accepted') group by case_id, type having count(*) > 1`, [any(caseIds)]),
    };
    const auditDuplicates = caseIds.length
      ? (await db.raw(`select action, count(*)::int as n from audit_entries where case_id = any(?) and outcome = 'ok' and action not like '%.read' group by case_id, action, coalesce(target_id, '') having count(*) > 1`, [caseIds])).rows
      : [];
    const missing = {
      keys: sealIds.length - Number((await db('seal_keys').whereIn('seal_id', any(sealIds)).count<{ n: string }[]>('* as n'))[0]!.n),
      documents: sealIds.length - Number((await db('documents').whereIn('seal_id', any(sealIds)).where({ kind: 'production_certificate' }).count<{ n: string }[]>('* as n'))[0]!.n),
    };
    const audit = await verifyAuditChain(db, loadAuditPublicKey(auditCertificatePath(config.runtime.dataDir)));

    temporal = await Connection.connect(temporalConnectionOptions(config));
    const client = new Client({ connection: temporal, namespace: config.temporal.namespace });
    const count = async (query: string) => (await client.workflow.count(query)).count;
    // Each case's workflow finishes its last steps after the case shows collected: give it 60 s to complete.
    const outcomes = await Promise.all(
      caseIds.map(async (id) => {
        const result = client.workflow.getHandle(`application:${id}`).result().then(() => 'completed' as const, () => 'failed' as const);
        return Promise.race([result, sleep(60_000).then(() => 'stuck' as const)]);
      }),
    );
    const workflows = {
      failed: await count('ExecutionStatus = "Failed" OR ExecutionStatus = "TimedOut" OR ExecutionStatus = "Terminated"'),
      cases_failed: outcomes.filter((o) => o === 'failed').length,
      stuck: outcomes.filter((o) => o === 'stuck').length,
    };

    const report = {
      seconds: Math.round(seconds),
      cases: { driven: caseIds.length, collected, lost: caseIds.length - collected },
      kills: { total: done.length, by_kind: Object.fromEntries(KINDS.map((k) => [k, perKind[k]!.kills])) },
      restart_and_stall_ms: perKind,
      duplicates,
      duplicated: Object.values(duplicates).reduce((a, b) => a + b, 0),
      missing,
      audit_duplicates: auditDuplicates,
      audit: { ok: audit.ok, entries: audit.entries, finding: audit.finding ?? null },
      workflows,
      kill_log: done.map((k) => ({ kind: k.kind, at: new Date(k.at).toISOString(), restart_ms: k.restartedAt === null ? null : k.restartedAt - k.at, stall_ms: stallOf(k), cases_in_flight: k.inFlight.length })),
    };
    const ok = report.cases.lost === 0 && report.duplicated === 0 && missing.keys === 0 && missing.documents === 0 && audit.ok && workflows.failed === 0 && workflows.cases_failed === 0 && workflows.stuck === 0 && done.length >= kills;
    if (json) console.log(JSON.stringify({ ok, ...report }));
    else {
      const ms = (v: number | null) => (v === null ? '-' : `${(v / 1000).toFixed(1)} s`);
      console.log(`
chaos: ${report.cases.driven} cases, ${concurrency} at a time, ${done.length} kills (SIGKILL) in ${report.seconds} s
  kills by kind        ${KINDS.map((k) => `${k} ${perKind[k]!.kills}`).join(', ')}
  cases                ${collected} collected, ${report.cases.lost} lost
  duplicated           ${report.duplicated} (${Object.entries(duplicates).map(([k, v]) => `${k} ${v}`).join(', ')}); missing keys ${missing.keys}, certificates ${missing.documents}${auditDuplicates.length ? `\n  audited twice        ${JSON.stringify(auditDuplicates)}` : ''}
  audit chain          ${audit.ok ? `verifies (${audit.entries} entries)` : `FAILED: ${JSON.stringify(audit.finding)}`}
  workflows            ${workflows.failed} failed (${workflows.cases_failed} of the cases'), ${workflows.stuck} applications not finished 60 s after collection
  restart (kill -> process ready), p50 / max:
${KINDS.map((k) => `    ${k.padEnd(20)} ${ms(perKind[k]!.restart_ms.p50)} / ${ms(perKind[k]!.restart_ms.max)}`).join('\n')}
  stall (restart -> every held case moves again), p50 / max:
${KINDS.map((k) => `    ${k.padEnd(20)} ${ms(perKind[k]!.stall_ms.p50)} / ${ms(perKind[k]!.stall_ms.max)}`).join('\n')}
  ${ok ? 'OK' : 'FAILED'}
`);
    }
    return ok ? 0 : 1;
  } finally {
    await temporal?.close().catch(() => undefined);
    await db?.destroy().catch(() => undefined);
    office.signalStop();
    await office.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(e instanceof Error ? e.stack : e);
    process.exit(1);
  },
);
