// A seal's own workflow over years, at real durations on the time-skipping server, with the project's real
// database activities: protection-password expiry reminders (C2), a bounded history (continue-as-new) for a
// seal that lives five years with monthly password changes, the end of a lockout after wrong passwords
// (15 minutes, timed by the seal's workflow), and the 24-hour filing of a lifecycle change.
//   node --import tsx scripts/with-stack.ts -- npx jest test/workflows/seal-timers.test.ts
import { randomUUID } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { createDbActivities } from '../../activities';
import type { Config } from '../../infra/config';
import { sealWorkflow } from '../../workflows/seal';
import { changeRequestWorkflow } from '../../workflows/change-request';
import { decideTask } from '../../usecases/tasks';
import { overdueFilings } from '../../usecases/supervision';
import { submitFiling } from '../../usecases/applications';
import { durationToMs, parseIsoDuration } from '../../domain/calendar';
import { BlobStore } from '../../infra/blobs';
import { passwordSetSignal, sealStatusQuery } from '../../workflows/seal-messages';
import { nameKeeper } from '../../usecases/custody';
import { checkMaySign, setInitialPassword } from '../../usecases/protection-passwords';
import { notifyPasswordLocked } from '../../usecases/password-lock';
import { LOCKOUT_POLICY } from '../../domain/protection-password';
import type { Hsm } from '../../infra/hsm/hsm';
import { openToken } from '../../infra/hsm/tokens';
import { eventually } from '../helpers/wait';
import { connectWorkerContext, type WorkerContext } from '../../workers/connect';
import { createMaker, makeResidentId, makeUscc } from '../helpers/fixtures';
import { createUser, testConfig } from '../helpers/stack';
import { bundleWorkflowsQuietly, createTimeSkippingEnv } from '../helpers/time-skipping';
import { runWorkersUntil } from '../helpers/run-workers';

const DAY = 24 * 3600 * 1000;
const MIN = 60 * 1000;

let config: Config;
let ctx: WorkerContext;
let env: TestWorkflowEnvironment;
let bundle: WorkflowBundleWithSourceMap;
let hsm: Hsm | undefined;

beforeAll(async () => {
  config = testConfig();
  ctx = await connectWorkerContext(config);
  env = await createTimeSkippingEnv();
  bundle = await bundleWorkflowsQuietly(require.resolve('../../workflows'));
});
afterAll(async () => {
  await hsm?.close();
  await env?.teardown();
  await ctx?.close();
});

/** A live seal row (the production path is tested elsewhere); only what the seal's workflow touches. */
async function liveSeal(): Promise<string> {
  const makerId = await createMaker(ctx.db);
  const user = await createUser(ctx.db, 'maker', { maker_id: makerId });
  const holderId = randomUUID();
  await ctx.db('holders').insert({ id: holderId, uscc: makeUscc('110105'), name: '北京口令测试有限公司', kind: 'enterprise', district_code: '110105', address: '北京市朝阳区' });
  const caseId = randomUUID();
  await ctx.db('cases').insert({ id: caseId, maker_id: makerId, holder_id: holderId, district_code: '110105', status: 'collected', language: 'zh', handler_name: '甲', handler_id_number: makeResidentId(), handler_phone: '13500135000', created_by: user.id });
  const sealId = randomUUID();
  await ctx.db('seals').insert({ id: sealId, case_id: caseId, holder_id: holderId, kind: 'legal_name', text: '北京口令测试有限公司', status: 'active', seal_code: `110105${String(Date.now() % 1e7).padStart(7, '0')}` });
  return sealId;
}

async function run<T>(fn: (taskQueue: string) => Promise<T>): Promise<T> {
  const taskQueue = `seal-timers-${randomUUID()}`;
  const worker = await Worker.create({ connection: env.nativeConnection, namespace: env.namespace, taskQueue, workflowBundle: bundle, activities: createDbActivities({ db: ctx.db, pdf: ctx.pdf }) });
  return runWorkersUntil([worker], () => fn(taskQueue));
}

const notices = (sealId: string) => ctx.db('outbox_messages').where({ seal_id: sealId }).orderBy('created_at').select('kind', 'created_at', 'body');

test('C2: keepers are reminded 14, 7 and 1 days before the protection password expires, told when it has, and a change restarts the reminders', async () => {
  const sealId = await liveSeal();
  await run(async (taskQueue) => {
    const handle = await env.client.workflow.start(sealWorkflow, { taskQueue, workflowId: `seal:${sealId}`, args: [{ sealId, districtCode: '110105', hsmTaskQueue: `${taskQueue}-hsm`, status: 'active' }] });
    const setAt = await env.currentTimeMs();
    const expiresAt = new Date(setAt + 90 * DAY).toISOString();
    await handle.signal(passwordSetSignal, { expiresAt });

    await env.sleep(75 * DAY); // 15 days before expiry: nothing yet
    expect(await notices(sealId)).toEqual([]);
    await env.sleep(2 * DAY); // 13 days before: the 14-day reminder
    let sent = await notices(sealId);
    expect(sent.map((n) => n.kind)).toEqual(['password_expiry_reminder']);
    expect(sent[0].body).toContain('14');
    expect(Math.abs(new Date(sent[0].created_at).getTime() - (setAt + 76 * DAY))).toBeLessThan(60_000);

    await env.sleep(13 * DAY + 60_000); // past the expiry
    sent = await notices(sealId);
    expect(sent.map((n) => n.kind)).toEqual(['password_expiry_reminder', 'password_expiry_reminder', 'password_expiry_reminder', 'password_expired']);

    // A keeper changes the password: the next reminders count from the new expiry.
    const next = new Date((await env.currentTimeMs()) + 90 * DAY).toISOString();
    await handle.signal(passwordSetSignal, { expiresAt: next });
    await env.sleep(77 * DAY);
    expect((await notices(sealId)).length).toBe(5);
    expect((await handle.query(sealStatusQuery)).passwordExpiresAt).toBe(next);
    await handle.terminate('test finished');
  });
});

test('C2: a seal that lives five years with monthly password changes keeps a bounded history (continue-as-new) and its timers', async () => {
  const sealId = await liveSeal();
  const maxHistory = 100;
  await run(async (taskQueue) => {
    const handle = await env.client.workflow.start(sealWorkflow, { taskQueue, workflowId: `seal:${sealId}`, args: [{ sealId, districtCode: '110105', hsmTaskQueue: `${taskQueue}-hsm`, status: 'active', maxHistory }] });
    const start = await env.currentTimeMs();
    for (let month = 0; month < 60; month++) {
      await handle.signal(passwordSetSignal, { expiresAt: new Date((await env.currentTimeMs()) + 90 * DAY).toISOString() });
      await env.sleep(30 * DAY);
    }
    expect((await env.currentTimeMs()) - start).toBeGreaterThanOrEqual(5 * 360 * DAY);
    const status = await handle.query(sealStatusQuery);
    expect(status.status).toBe('active');
    expect(status.runs).toBeGreaterThanOrEqual(3); // continued as new several times
    const history = await handle.fetchHistory(); // the current run only
    expect(history.events!.length).toBeLessThan(maxHistory + 20);
    // Monthly changes never let a reminder fall due …
    expect(await notices(sealId)).toEqual([]);
    // … and the timers carried across runs still fire when the last password runs out.
    await env.sleep(91 * DAY);
    expect((await notices(sealId)).map((n) => n.kind)).toContain('password_expired');
    await handle.terminate('test finished');
  });
});

test('C2: five wrong protection passwords lock signing; the seal workflow lifts the lock after the real 15 minutes on its clock, and the keeper may sign again', async () => {
  expect(LOCKOUT_POLICY.lockMs).toBe(15 * MIN);
  hsm ??= await openToken(config, 'web'); // keepers' ID numbers: personal data (the web token's KEK)
  const sealId = await liveSeal();
  const { holder_id: holderId } = await ctx.db('seals').where({ id: sealId }).first('holder_id');
  const holderUser = await createUser(ctx.db, 'holder', { holder_id: holderId });
  const holder = { userId: holderUser.id, username: 'h', role: 'holder' as const, districtCode: null, makerId: null, holderId };
  const deps = { db: ctx.db, hsm, config };
  const keeperId = makeResidentId();
  const password = 'Tiger#Lake2049x';
  await nameKeeper(deps, holder, sealId, { name: '丙', id_number: keeperId });
  await setInitialPassword(deps, holder, sealId, { id_number: keeperId, password });
  const maySign = () => checkMaySign(deps, sealId, keeperId, password);
  await run(async (taskQueue) => {
    const handle = await env.client.workflow.start(sealWorkflow, { taskQueue, workflowId: `seal:${sealId}`, args: [{ sealId, districtCode: '110105', hsmTaskQueue: `${taskQueue}-hsm`, status: 'active' }] });
    expect(await maySign()).toEqual({ allowed: true });
    for (let i = 1; i <= 4; i++) expect(await checkMaySign(deps, sealId, keeperId, `Wrong#Pass${i}x`)).toMatchObject({ allowed: false, reason: 'wrong_password', attemptsLeft: 5 - i });
    expect(await checkMaySign(deps, sealId, keeperId, 'Wrong#Pass5x')).toMatchObject({ allowed: false, reason: 'locked' });
    await notifyPasswordLocked({ db: ctx.db, temporal: env.client }, sealId); // as the signing path does on 'locked'
    await eventually('the workflow timing the lock', () => handle.query(sealStatusQuery), (q) => q.passwordLock !== null);

    // Locked: even the right password is refused, up to the last minute of the 15.
    expect(await maySign()).toMatchObject({ allowed: false, reason: 'locked' });
    await env.sleep(14 * MIN);
    expect(await maySign()).toMatchObject({ allowed: false, reason: 'locked' });
    expect((await handle.query(sealStatusQuery)).passwordLock).not.toBeNull();

    // The 15th minute passes on the workflow's clock (the wall clock has moved by seconds only).
    await env.sleep(1 * MIN + 1000);
    await eventually('the lock lifted', () => ctx.db('protection_passwords').where({ seal_id: sealId }).first('locked_until'), (r) => r.locked_until === null);
    expect(await maySign()).toEqual({ allowed: true });
    expect((await handle.query(sealStatusQuery)).passwordLock).toBeNull();
    await handle.terminate('test finished');
  });
});

test('M12 M3: a lifecycle change not filed within 24 hours becomes overdue at that moment; the late filing is accepted and stays late', async () => {
  const sealId = await liveSeal();
  const seal = await ctx.db('seals').where({ id: sealId }).first('case_id', 'holder_id');
  const app = await ctx.db('cases').where({ id: seal.case_id }).first('maker_id');
  const caseId = randomUUID();
  const makerUser = await createUser(ctx.db, 'maker', { maker_id: app.maker_id });
  await ctx.db('cases').insert({ id: caseId, kind: 'suspend', subject_seal_id: sealId, maker_id: app.maker_id, holder_id: seal.holder_id, district_code: '110105', status: 'processing', language: 'zh', handler_name: '乙', handler_id_number: makeResidentId(), handler_phone: '13500135000', created_by: makerUser.id });
  const officerUser = await createUser(ctx.db, 'officer', { district_code: '110105' });
  const maker = { userId: makerUser.id, username: 'm', role: 'maker' as const, districtCode: null, makerId: app.maker_id, holderId: null };
  const officer = { userId: officerUser.id, username: 'o', role: 'officer' as const, districtCode: '110105', makerId: null, holderId: null };
  await run(async (taskQueue) => {
    const deps = { db: ctx.db, temporal: env.client, config: { ...config, temporal: { ...config.temporal, namespace: env.namespace ?? 'default', taskQueues: { main: taskQueue, hsm: `${taskQueue}-hsm` } } }, blobs: new BlobStore('/tmp/unused') };
    const handle = await env.client.workflow.start(changeRequestWorkflow, { taskQueue, workflowId: `change:${caseId}`, args: [{ caseId, kind: 'suspend', districtCode: '110105', filingDeadlineMs: durationToMs(parseIsoDuration(config.durations.filingDeadline)) }] });
    const deadline = async () => ctx.db('filing_deadlines').where({ case_id: caseId, kind: 'suspend' }).first();
    while (!(await deadline())) await new Promise((r) => setTimeout(r, 50));
    const { due_at } = await deadline();
    await env.sleep(23 * 3600 * 1000);
    expect((await deadline()).overdue_at).toBeNull();
    await env.sleep(2 * 3600 * 1000);
    const overdue = await deadline();
    expect(Math.abs(new Date(overdue.overdue_at).getTime() - new Date(due_at).getTime())).toBeLessThan(2000);
    expect((await overdueFilings(deps, officer, new Date(await env.currentTimeMs()))).map((r) => r.case_id)).toContain(caseId);

    const filed = await submitFiling(deps, maker, caseId, {});
    expect(filed.late).toBe(true);
    await decideTask(deps, officer, filed.task_id, { decision: 'accept' });
    expect((await handle.result()).status).toBe('completed');
    expect(await ctx.db('filings').where({ case_id: caseId }).first('late')).toEqual({ late: true });
    expect((await overdueFilings(deps, officer)).map((r) => r.case_id)).not.toContain(caseId);
  });
});
