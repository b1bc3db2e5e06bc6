// The application workflow's deadlines at their real durations on Temporal's Java time-skipping test server:
// the 24-hour filing deadline (M3) and the 3-calendar-month collection limit (M9, M13, M10). Nothing is mocked:
// the project's own activities run against the PostgreSQL and SoftHSM2 token of scripts/with-stack.ts, and the
// cases are driven through the use-cases the web calls. Times written by the workflow are workflow (skipped)
// time, so the assertions read them from PostgreSQL.
//   node --import tsx scripts/with-stack.ts -- npx jest test/workflows/application-timers.test.ts
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { createDbActivities } from '../../activities';
import { addCalendarMonthsEndOfDay } from '../../domain/calendar';
import { BlobStore, bufferedFile } from '../../infra/blobs';
import type { Config } from '../../infra/config';
import type { WorkerTokens } from '../../infra/hsm/tokens';
import { applicationWorkflowId, getCaseView, recordCollection, recordProduction, submitApplication, submitFiling, uploadMaterial } from '../../usecases/applications';
import { decideTask, listTasks } from '../../usecases/tasks';
import { overdueFilings, unclaimedLedger } from '../../usecases/supervision';
import { registerFromMarketFeed } from '../../usecases/licences';
import type { Deps } from '../../usecases/deps';
import type { Actor, Role } from '../../web/auth';
import { caseStateQuery, type CaseState, type CaseStatus } from '../../workflows/application-messages';
import { connectWorkerContext, type WorkerContext } from '../../workers/connect';
import { createHsmWorker, openHsm } from '../../workers/hsm-worker';
import { runWorkersUntil } from '../helpers/run-workers';
import { makeResidentId, makeUscc, PNG_BYTES, createMaker, recentRegistrationDate } from '../helpers/fixtures';
import { createActor, testConfig } from '../helpers/stack';
import { bundleWorkflowsQuietly, createTimeSkippingEnv } from '../helpers/time-skipping';
import { eventually } from '../helpers/wait';
import { PRODUCTION_DATA } from '../helpers/production-data';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const HAIDIAN = '110108';

let config: Config;
let ctx: WorkerContext;
let tokens: WorkerTokens;
let env: TestWorkflowEnvironment;
let workflowBundle: WorkflowBundleWithSourceMap;
let blobs: BlobStore;
let admin: Actor;
let maker: Actor;
let haidianOfficer: Actor;
let chaoyangOfficer: Actor;
let supervisor: Actor;

const actor = (role: Role, scope: { district_code?: string; maker_id?: string; holder_id?: string } = {}): Promise<Actor> => createActor(ctx.db, role, scope);

beforeAll(async () => {
  const t0 = Date.now();
  config = testConfig();
  // First: it installs the worker Runtime that the test environment then shares.
  ctx = await connectWorkerContext(config);
  tokens = await openHsm(ctx);
  blobs = new BlobStore(path.join(config.runtime.dataDir, 'blobs'));
  workflowBundle = await bundleWorkflowsQuietly(require.resolve('../../workflows'));

  admin = await actor('admin');
  maker = await actor('maker', { maker_id: await createMaker(ctx.db) });
  haidianOfficer = await actor('officer', { district_code: HAIDIAN });
  chaoyangOfficer = await actor('officer', { district_code: '110105' });
  supervisor = await actor('supervisor');
  process.stdout.write(`application-timers: set up in ${Date.now() - t0} ms\n`);
});

afterAll(async () => {
  await tokens?.close();
  await ctx?.close();
});

/**
 * Runs one test with its own task queues: a main worker (every workflow + database activities) and an HSM worker
 * (HSM activities), both on the time-skipping server. The test's cases that are still open are terminated before
 * the workers stop, so none of their timers fires later into a queue nobody polls (which would hold the test
 * server's clock for every later test).
 */
async function withWorkers(fn: (deps: Deps, started: string[]) => Promise<void>) {
  // A test server of its own: no timer of an earlier test's workflows can hold this test's clock.
  env = await createTimeSkippingEnv();
  try {
    await runWithWorkers(fn);
  } finally {
    await env.teardown();
  }
}

async function runWithWorkers(fn: (deps: Deps, started: string[]) => Promise<void>) {
  const id = randomUUID();
  const taskQueues = { main: `eseal-main-${id}`, hsm: `eseal-hsm-${id}` };
  const deps: Deps = {
    db: ctx.db,
    temporal: env.client,
    config: { ...config, temporal: { ...config.temporal, namespace: env.namespace ?? 'default', taskQueues } },
    blobs,
    hsm: tokens.web, // P1: personal data is encrypted with keys wrapped in the HSM (the web token)
  };
  const mainWorker = await Worker.create({
    connection: env.nativeConnection,
    namespace: env.namespace,
    taskQueue: taskQueues.main,
    workflowBundle,
    activities: createDbActivities({ db: ctx.db, pdf: ctx.pdf }),
  });
  // The production HSM worker (createHsmActivities with the platform key and policies), on the test server.
  const hsmWorker = await createHsmWorker({ ...ctx, connection: env.nativeConnection, config: deps.config }, tokens);
  const started: string[] = [];
  await runWorkersUntil([mainWorker, hsmWorker], async () => {
    try {
      await fn(deps, started);
    } finally {
      const sealIds: string[] = started.length ? await ctx.db('seals').whereIn('case_id', started).pluck('id') : [];
      // The case workflows, the seal workflows that collected seals continue in, and the archive retention
      // (M7) that an ended seal starts: a timer of theirs firing later would hold the test server's clock.
      for (const workflowId of [...started.map(applicationWorkflowId), ...sealIds.flatMap((id) => [`seal:${id}`, `archive:${id}`])]) {
        await env.client.workflow
          .getHandle(workflowId)
          .terminate('test finished')
          .catch((e: Error) => {
            if (!(e instanceof WorkflowNotFoundError)) throw e;
          });
      }
    }
  });
}

/**
 * A timer's effect happens at its moment: not before it, and within the few seconds the workflow task that follows
 * it takes on the test server's clock (which runs on between skips), never at the next skip.
 */
function expectFiredAt(actualMs: number, momentMs: number) {
  expect(actualMs).toBeGreaterThanOrEqual(momentMs);
  expect(actualMs - momentMs).toBeLessThan(5 * SECOND);
}

const serverNow = async () => new Date(await env.currentTimeMs());
const ms = (d: Date | string) => new Date(d).getTime();

const caseState = (caseId: string) => env.client.workflow.getHandle(applicationWorkflowId(caseId)).query(caseStateQuery);

/** Waits until the workflow is in `status` and PostgreSQL shows it too. */
async function waitForStatus(caseId: string, status: CaseStatus, extra: (s: CaseState) => boolean = () => true): Promise<CaseState> {
  const state = await eventually(`workflow state ${status}`, () => caseState(caseId), (s) => s.status === status && extra(s));
  await eventually(`cases.status ${status}`, () => ctx.db('cases').where({ id: caseId }).first('status'), (r) => r.status === status);
  return state;
}

/** Sleeps on the test server's clock until `instant` + `offsetMs` (skipping time; nothing is shortened). */
async function sleepUntil(instant: Date, offsetMs: number) {
  const wait = ms(instant) + offsetMs - (await env.currentTimeMs());
  if (wait > 0) await env.sleep(wait);
  expect(await env.currentTimeMs()).toBeGreaterThanOrEqual(ms(instant) + offsetMs);
}

interface ProducedCase {
  caseId: string;
  sealId: string;
  handlerId: string;
}

/** A pre-verified (A3) holder of Haidian, its contract-seal application, and the seal produced (M2, M4). */
async function produceSeal(deps: Deps, started: string[]): Promise<ProducedCase> {
  const holder = {
    uscc: makeUscc(HAIDIAN),
    name: `北京时限测试科技有限公司${randomUUID().slice(0, 4)}`,
    kind: 'enterprise',
    address: '北京市海淀区中关村大街27号',
    district: HAIDIAN,
    legal_representative: '王五',
  };
  const registered = await registerFromMarketFeed(deps, admin, { ...holder, registration_date: recentRegistrationDate() });
  expect(registered.pre_verified).toBe(true);
  const handlerId = makeResidentId();
  const created = await submitApplication(deps, maker, { holder, seal: { kind: 'business_contract', language: 'zh' }, handler: { name: '赵六', id_number: handlerId, phone: '13800138000' } });
  started.push(created.id);
  const caseId = created.id;
  await waitForStatus(caseId, 'awaiting_production'); // A3: no materials asked for
  const image = await uploadMaterial(deps, maker, caseId, { kind: 'on_site_image', file: bufferedFile(PNG_BYTES, 'onsite.png') });
  await recordProduction(deps, maker, caseId, { production_data: PRODUCTION_DATA, on_site_image_id: image.id });
  const state = await waitForStatus(caseId, 'awaiting_filing');
  const seal = await ctx.db('seals').where({ case_id: caseId }).first();
  expect(seal.seal_code).toMatch(/^1101080\d{6}$/);
  expect(state.filingDueAt).toBe(new Date(ms(seal.produced_at) + DAY).toISOString());
  return { caseId, sealId: seal.id, handlerId };
}

const productionDeadline = (caseId: string) => ctx.db('filing_deadlines').where({ case_id: caseId, kind: 'production' }).first();

/** Files on time, the Haidian officer accepts: the seal is ready for collection. */
async function fileAndAccept(deps: Deps, caseId: string) {
  const filed = await submitFiling(deps, maker, caseId, {});
  expect(filed.late).toBe(false);
  await decideTask(deps, haidianOfficer, filed.task_id, { decision: 'accept' });
  return waitForStatus(caseId, 'ready');
}

/** The outbox messages of a case of one kind (written by the workflow at the moment they are due). */
const caseMessages = (caseId: string, kind: string) => ctx.db('outbox_messages').where({ case_id: caseId, kind }).select('audience', 'recipient', 'created_at', 'body');

test('M3: a filing not made within 24 hours is overdue at that moment, visible to supervisors, and a late filing is accepted and stays marked late; the maker is told 2 hours before and when overdue', async () => {
  await withWorkers(async (deps, started) => {
    const { caseId } = await produceSeal(deps, started);
    const deadline = await productionDeadline(caseId);
    expect(ms(deadline.due_at) - ms(deadline.started_at)).toBe(24 * HOUR);
    const overdueIds = async (a: Actor) => (await overdueFilings(deps, a, await serverNow())).map((r) => r.case_id);

    // The maker's message 2 hours before the deadline, not earlier (issue 14).
    await sleepUntil(deadline.due_at, -2 * HOUR - MINUTE);
    expect(await caseMessages(caseId, 'filing_due_soon')).toHaveLength(0);
    await sleepUntil(deadline.due_at, -HOUR); // 23 hours after production
    expect(await env.currentTimeMs()).toBeLessThan(ms(deadline.due_at));
    const dueSoon = await eventually('the filing-due message', () => caseMessages(caseId, 'filing_due_soon'), (m) => m.length === 1);
    expect(dueSoon[0]).toMatchObject({ audience: 'maker', recipient: maker.makerId });
    expectFiredAt(ms(dueSoon[0].created_at), ms(deadline.due_at) - 2 * HOUR);
    expect((await productionDeadline(caseId)).overdue_at).toBeNull();
    expect(await caseMessages(caseId, 'filing_overdue')).toHaveLength(0);
    expect((await caseState(caseId)).filingOverdue).toBe(false);
    expect(await overdueIds(supervisor)).not.toContain(caseId);

    // Past the 24 hours, with nothing filed: overdue from the deadline itself.
    await sleepUntil(deadline.due_at, MINUTE);
    const overdue = await eventually('overdue_at', () => productionDeadline(caseId), (d) => d.overdue_at !== null);
    expectFiredAt(ms(overdue.overdue_at), ms(overdue.due_at));
    expect(ms(overdue.overdue_at)).toBeGreaterThanOrEqual(ms(overdue.due_at));
    const state = await caseState(caseId);
    expect(state).toMatchObject({ status: 'awaiting_filing', filingOverdue: true });
    const event = await ctx.db('case_events').where({ case_id: caseId, type: 'filing_overdue' }).first();
    expectFiredAt(ms(event.at), ms(overdue.due_at));
    const overdueMessage = await eventually('the overdue message', () => caseMessages(caseId, 'filing_overdue'), (m) => m.length === 1);
    expect(overdueMessage[0]).toMatchObject({ audience: 'maker', recipient: maker.makerId });
    expectFiredAt(ms(overdueMessage[0].created_at), ms(overdue.due_at));

    // Supervisors (city-wide) and the district's officers see it; another district does not.
    const listed = (await overdueFilings(deps, supervisor, await serverNow())).find((r) => r.case_id === caseId);
    expect(listed).toMatchObject({ kind: 'production', district_code: HAIDIAN });
    expect(listed!.late_by_minutes).toBeGreaterThanOrEqual(0);
    expect(await overdueIds(haidianOfficer)).toContain(caseId);
    expect(await overdueIds(chaoyangOfficer)).not.toContain(caseId);

    // It stays visible until filed: still there a day later.
    await env.sleep('1 day');
    const stillListed = (await overdueFilings(deps, supervisor, await serverNow())).find((r) => r.case_id === caseId);
    expect(stillListed!.late_by_minutes).toBeGreaterThanOrEqual(24 * 60);

    // The late filing is taken, marked late, and leaves the overdue list.
    const filed = await submitFiling(deps, maker, caseId, { note: '逾期补报' });
    expect(filed.late).toBe(true);
    expect(await overdueIds(supervisor)).not.toContain(caseId);
    const filing = await ctx.db('filings').where({ id: filed.filing_id }).first();
    expect(filing).toMatchObject({ kind: 'production', late: true });
    expect(await ctx.db('filing_decisions').where({ filing_id: filing.id }).first()).toBeUndefined(); // M5: decided beside it, later
    expect(ms(filing.submitted_at)).toBeGreaterThan(ms(deadline.due_at) + DAY);

    await decideTask(deps, haidianOfficer, filed.task_id, { decision: 'accept' });
    await waitForStatus(caseId, 'ready');
    expect(await ctx.db('filings as f').join('filing_decisions as d', 'd.filing_id', 'f.id').where('f.id', filed.filing_id).first('f.late', 'd.decision')).toEqual({ late: true, decision: 'accepted' });
    const view = await getCaseView(deps, supervisor, caseId);
    expect(view.filing).toMatchObject({ late: true });
    expect(view.filing!.accepted_at).not.toBeNull();
    expect(ms(view.filing!.overdue_at)).toBe(ms(overdue.overdue_at));
    expect(await overdueIds(supervisor)).not.toContain(caseId);
  });
});

test('M3: a filing made at 23 hours is on time', async () => {
  await withWorkers(async (deps, started) => {
    const { caseId } = await produceSeal(deps, started);
    const deadline = await productionDeadline(caseId);

    await env.sleep('23 hours');
    const filed = await submitFiling(deps, maker, caseId, {});
    expect(filed.late).toBe(false);
    const filing = await ctx.db('filings').where({ id: filed.filing_id }).first();
    expect(filing.late).toBe(false);
    expect(ms(filing.submitted_at) - ms(deadline.started_at)).toBeGreaterThanOrEqual(23 * HOUR);
    expect(ms(filing.submitted_at)).toBeLessThan(ms(deadline.due_at));

    // The officer decides after the 24 hours have passed: the filing was on time and is never overdue.
    await sleepUntil(deadline.due_at, 2 * HOUR);
    expect((await productionDeadline(caseId)).overdue_at).toBeNull();
    expect((await overdueFilings(deps, supervisor, await serverNow())).map((r) => r.case_id)).not.toContain(caseId);
    expect((await caseState(caseId)).filingOverdue).toBe(false);
    await decideTask(deps, haidianOfficer, filed.task_id, { decision: 'accept' });
    await waitForStatus(caseId, 'ready');
    const after = await productionDeadline(caseId);
    expect(after.overdue_at).toBeNull();
    expect(after.accepted_at).not.toBeNull();
    expect((await ctx.db('filings').where({ id: filed.filing_id }).first('late')).late).toBe(false);
    expect(await ctx.db('case_events').where({ case_id: caseId, type: 'filing_overdue' })).toHaveLength(0);
  });
});

test('M9 M13: a seal not collected within 3 calendar months is entered in the unclaimed ledger, its key destroyed, its certificate revoked, a cancellation certificate produced and the cancellation filed with the district; the holder is told 2 weeks before', async () => {
  await withWorkers(async (deps, started) => {
    const { caseId, sealId } = await produceSeal(deps, started);
    await fileAndAccept(deps, caseId);
    const ready = await ctx.db('seals').where({ id: sealId }).first();
    const dueAt = addCalendarMonthsEndOfDay(new Date(ready.ready_at), 3);
    expect(ms(ready.unclaimed_due_at)).toBe(dueAt.getTime());
    expect((await caseState(caseId)).unclaimedDueAt).toBe(dueAt.toISOString());
    expect(dueAt.getTime() - ms(ready.ready_at)).toBeGreaterThan(88 * DAY);

    // M9: the holder's message 2 weeks before the cancellation, not earlier.
    await sleepUntil(dueAt, -14 * DAY - MINUTE);
    expect(await caseMessages(caseId, 'seal_unclaimed_reminder')).toHaveLength(0);
    await sleepUntil(dueAt, -14 * DAY + MINUTE);
    const reminder = await eventually('the unclaimed reminder', () => caseMessages(caseId, 'seal_unclaimed_reminder'), (m) => m.length === 1);
    expect(reminder[0]).toMatchObject({ audience: 'holder', recipient: ready.holder_id });
    expectFiredAt(ms(reminder[0].created_at), dueAt.getTime() - 14 * DAY);
    expect(reminder[0].body).toContain('逾期未领取将被登出');

    // A minute before the limit: still waiting for collection, nothing cancelled.
    await sleepUntil(dueAt, -MINUTE);
    expect((await caseState(caseId)).status).toBe('ready');
    expect((await ctx.db('seals').where({ id: sealId }).first('status')).status).toBe('ready');
    expect(await ctx.db('unclaimed_ledger').where({ seal_id: sealId })).toHaveLength(0);
    expect((await ctx.db('seal_keys').where({ seal_id: sealId }).first()).wrapped_private_key).not.toBeNull();

    await sleepUntil(dueAt, MINUTE);
    const state = await waitForStatus(caseId, 'cancelled_unclaimed', (s) => s.openTask?.kind === 'cancellation_filing');
    expect(state.reason?.zh).toContain('超过三个月未领取');

    // M9: 登记造册, at the limit.
    const ledger = await ctx.db('unclaimed_ledger').where({ seal_id: sealId }).first();
    expect(ledger).toMatchObject({ case_id: caseId, district_code: HAIDIAN });
    expect(ms(ledger.due_at)).toBe(dueAt.getTime());
    expect(ms(ledger.ready_at)).toBe(ms(ready.ready_at));
    expect(ms(ledger.entered_at)).toBeGreaterThanOrEqual(dueAt.getTime());
    expect(ms(ledger.entered_at)).toBeLessThan(dueAt.getTime() + SECOND);
    expect((await unclaimedLedger(deps, supervisor)).map((r) => r.seal_id)).toContain(sealId);
    expect((await unclaimedLedger(deps, chaoyangOfficer)).map((r) => r.seal_id)).not.toContain(sealId);

    // The key is destroyed, the certificate revoked but kept.
    const key = await ctx.db('seal_keys').where({ seal_id: sealId }).first();
    expect(key.wrapped_private_key).toBeNull();
    expect(key.destroyed_at).not.toBeNull();
    expect(key.public_key_spki).not.toBeNull();
    const seal = await ctx.db('seals').where({ id: sealId }).first();
    expect(seal).toMatchObject({ status: 'cancelled', cancellation_reason: 'unclaimed', revocation_reason: 'cessationOfOperation' });
    expect(ms(seal.cancelled_at)).toBe(ms(ledger.entered_at));
    expect(ms(seal.revoked_at)).toBe(ms(seal.cancelled_at));
    expect(Buffer.isBuffer(seal.certificate_der) && seal.certificate_der.length).toBeGreaterThan(100);
    expect(seal.certificate_der.equals(ready.certificate_der)).toBe(true);

    // M13: the cancellation certificate names the seal and the reason.
    const doc = await ctx.db('documents').where({ seal_id: sealId, kind: 'cancellation_certificate' }).first();
    expect(doc.document_no).toMatch(/^京章登证〔\d{4}〕第\d{6}号$/);
    const dir = mkdtempSync(path.join(tmpdir(), 'unclaimed-'));
    writeFileSync(path.join(dir, 'cancellation.pdf'), doc.pdf);
    const pdfText = execFileSync('pdftotext', ['cancellation.pdf', '-'], { cwd: dir, encoding: 'utf8' });
    expect(pdfText).toContain(seal.seal_code);
    expect(pdfText).toContain('超过三个月未领取');
    expect(await ctx.db('documents').where({ seal_id: sealId, kind: 'production_certificate' })).toHaveLength(0);

    // M9 M13: the cancellation is filed with the holder's district (P3) and decided there.
    const task = await ctx.db('tasks').where({ id: state.openTask!.id }).first();
    expect(task).toMatchObject({ kind: 'cancellation_filing', status: 'open', district_code: HAIDIAN, case_id: caseId });
    expect(ms(task.due_at)).toBe(ms(seal.cancelled_at) + DAY);
    expect((await listTasks(deps, haidianOfficer, { kind: 'cancellation_filing' })).map((t) => t.id)).toContain(task.id);
    expect((await listTasks(deps, chaoyangOfficer, { kind: 'cancellation_filing' })).map((t) => t.id)).not.toContain(task.id);
    const filing = await ctx.db('filings').where({ case_id: caseId, kind: 'cancellation' }).first();
    expect(filing).toMatchObject({ task_id: task.id, late: false });
    expect(ms(filing.submitted_at)).toBe(ms(seal.cancelled_at));

    await expect(decideTask(deps, chaoyangOfficer, task.id, { decision: 'accept' })).rejects.toMatchObject({ status: 403 });
    const decided = await decideTask(deps, haidianOfficer, task.id, { decision: 'accept' });
    expect(decided.case_id).toBe(caseId);
    const final = await env.client.workflow.getHandle(applicationWorkflowId(caseId)).result();
    expect(final).toMatchObject({ status: 'cancelled_unclaimed', openTask: null });
    expect(await ctx.db('filing_decisions').where({ filing_id: filing.id }).first('decision')).toEqual({ decision: 'accepted' });
    expect(await ctx.db('tasks').where({ id: task.id }).first('status', 'decision')).toEqual({ status: 'done', decision: 'accept' });
    const cancellationDeadline = await ctx.db('filing_deadlines').where({ case_id: caseId, kind: 'cancellation' }).first();
    expect(cancellationDeadline.accepted_at).not.toBeNull();
    expect(cancellationDeadline.overdue_at).toBeNull();
    expect(await ctx.db('case_events').where({ case_id: caseId, type: 'cancellation_filing_accept' })).toHaveLength(1);
  });
});

test('M10: a seal collected just before the 3-month limit is not cancelled', async () => {
  await withWorkers(async (deps, started) => {
    const { caseId, sealId, handlerId } = await produceSeal(deps, started);
    await fileAndAccept(deps, caseId);
    const ready = await ctx.db('seals').where({ id: sealId }).first();
    const dueAt = addCalendarMonthsEndOfDay(new Date(ready.ready_at), 3);

    await sleepUntil(dueAt, -HOUR);
    const view = await recordCollection(deps, maker, caseId, { collector_name: '赵六', collector_id_number: handlerId });
    expect(view.status).toBe('collected');
    expect(view.seal.status).toBe('active');
    expect(ms(view.seal.collected_at!)).toBeLessThan(dueAt.getTime());
    expect(ms(view.seal.collected_at!)).toBeGreaterThanOrEqual(dueAt.getTime() - HOUR);
    expect(await env.client.workflow.getHandle(applicationWorkflowId(caseId)).result()).toMatchObject({ status: 'collected' });

    // Well past the limit: nothing was cancelled.
    await sleepUntil(dueAt, DAY);
    const seal = await ctx.db('seals').where({ id: sealId }).first();
    expect(seal).toMatchObject({ status: 'active', cancelled_at: null, revoked_at: null });
    expect((await ctx.db('cases').where({ id: caseId }).first('status')).status).toBe('collected');
    expect(await ctx.db('unclaimed_ledger').where({ seal_id: sealId })).toHaveLength(0);
    const key = await ctx.db('seal_keys').where({ seal_id: sealId }).first();
    expect(key.wrapped_private_key).not.toBeNull();
    expect(key.destroyed_at).toBeNull();
    expect(await ctx.db('documents').where({ seal_id: sealId }).pluck('kind')).toEqual(['production_certificate']);
    expect(await ctx.db('tasks').where({ case_id: caseId, kind: 'cancellation_filing' })).toHaveLength(0);
  });
});
