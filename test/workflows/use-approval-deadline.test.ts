// 三(四) 使用流程: a use request lapses at its deadline (durations.useApprovalDeadline, 3 days), timed by its
// own workflow's durable timer, at the real duration on the time-skipping server with the real database
// activities: undecided, or approved and never used, it leaves the approval queue as lapsed and can no longer
// be decided or sign. One reserved by a signature at the deadline waits for that signature's outcome: signed,
// it is used; failed, it lapses then. (The reservation and settlement are the signature workflow's activities'.)
//   node --import tsx scripts/with-stack.ts -- npx jest test/workflows/use-approval-deadline.test.ts
import { randomUUID } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { createDbActivities } from '../../activities';
import type { Config } from '../../infra/config';
import { connectWorkerContext, type WorkerContext } from '../../workers/connect';
import { createUseRequest, decideUseRequest, type UseApprovalDeps } from '../../usecases/use-approval';
import { reserveUseApproval, settleUseApproval } from '../../activities/use-approval';
import { durationToMs } from '../../domain/calendar';
import { createMaker, makeResidentId, makeUscc } from '../helpers/fixtures';
import { createActor, testConfig } from '../helpers/stack';
import { bundleWorkflowsQuietly, createTimeSkippingEnv } from '../helpers/time-skipping';
import { runWorkersUntil } from '../helpers/run-workers';
import { eventually } from '../helpers/wait';
import { DomainError } from '../../domain/errors';

/** The DomainError a use-case refuses with (any other outcome fails the test). */
async function refusal(p: Promise<unknown>): Promise<DomainError> {
  const e = await p.then(() => new Error('expected a refusal'), (x: unknown) => x);
  if (e instanceof DomainError) return e;
  throw e;
}

let config: Config;
let ctx: WorkerContext;
let env: TestWorkflowEnvironment;
let bundle: WorkflowBundleWithSourceMap;

beforeAll(async () => {
  config = testConfig();
  ctx = await connectWorkerContext(config);
  env = await createTimeSkippingEnv();
  bundle = await bundleWorkflowsQuietly(require.resolve('../../workflows'));
});
afterAll(async () => {
  await env?.teardown();
  await ctx?.close();
});

test('U1 C1: a use request lapses at the configured deadline (3 days), undecided or approved and unused; a lapsed request is neither decided nor used; one held by a signature at the deadline waits for it (signed: used; failed: lapsed)', async () => {
  expect(config.durations.useApprovalDeadline).toBe('P3D');
  const deadlineMs = durationToMs(config.durations.useApprovalDeadline);
  const makerId = await createMaker(ctx.db);
  const maker = await createActor(ctx.db, 'maker', { maker_id: makerId });
  const holderId = randomUUID();
  await ctx.db('holders').insert({ id: holderId, uscc: makeUscc('110105'), name: '北京用印审批测试有限公司', kind: 'enterprise', district_code: '110105', address: '北京市朝阳区' });
  const caseId = randomUUID();
  await ctx.db('cases').insert({ id: caseId, maker_id: makerId, holder_id: holderId, district_code: '110105', status: 'collected', language: 'zh', handler_name: '甲', handler_id_number: makeResidentId(), handler_phone: '13500135000', created_by: maker.userId });
  const sealId = randomUUID();
  await ctx.db('seals').insert({ id: sealId, case_id: caseId, holder_id: holderId, kind: 'legal_name', text: '北京用印审批测试有限公司', status: 'active', seal_code: `110105${String(Date.now() % 1e7).padStart(7, '0')}` });
  const staff = await createActor(ctx.db, 'holder', { holder_id: holderId });
  const approver = await createActor(ctx.db, 'holder', { holder_id: holderId });
  await ctx.db('seal_use_approvers').insert({ id: randomUUID(), seal_id: sealId, user_id: approver.userId, added_by: staff.userId });

  const taskQueue = `use-approval-${randomUUID()}`;
  const deps: UseApprovalDeps = { db: ctx.db, temporal: env.client, config: { ...config, temporal: { ...config.temporal, taskQueues: { ...config.temporal.taskQueues, main: taskQueue } } } };
  const worker = await Worker.create({ connection: env.nativeConnection, namespace: env.namespace, taskQueue, workflowBundle: bundle, activities: createDbActivities({ db: ctx.db, pdf: ctx.pdf }) });
  const status = async (id: string) => (await ctx.db('seal_use_requests').where({ id }).first('status')).status as string;
  const request = (name: string) => createUseRequest(deps, staff, { seal_id: sealId, purpose: '签订合同', document_type: 'agreement', document_name: name, document_sha256: 'ab'.repeat(32) });

  await runWorkersUntil([worker], async () => {
    const undecided = await request('甲.pdf');
    const unused = await request('乙.pdf');
    const signing = await request('丙.pdf'); // its signature will land after the deadline
    const failing = await request('丁.pdf'); // its signature will fail after the deadline
    for (const r of [unused, signing, failing]) expect((await decideUseRequest(deps, approver, r.id, { decision: 'approve' })).status).toBe('approved');
    const [signature, failed] = [randomUUID(), randomUUID()];
    expect(await reserveUseApproval(env.client, ctx.db, { requestId: signing.id, registerId: signature })).toEqual({ approverId: approver.userId });
    expect(await reserveUseApproval(env.client, ctx.db, { requestId: failing.id, registerId: failed })).toEqual({ approverId: approver.userId });
    const held = await refusal(reserveUseApproval(env.client, ctx.db, { requestId: signing.id, registerId: randomUUID() }));
    expect(held).toMatchObject({ code: 'USE_REQUEST_IN_USE', field: 'use_request_id', httpStatus: 409 });

    await env.sleep(deadlineMs - 60_000); // a minute before the deadline: all still stand
    expect([await status(undecided.id), await status(unused.id)]).toEqual(['pending', 'approved']);

    await env.sleep(2 * 60_000); // past it: both lapse; the reserved ones wait for their signatures
    await eventually('both requests lapsed', async () => [await status(undecided.id), await status(unused.id)], (s) => s.every((x) => x === 'lapsed'));
    expect([await status(signing.id), await status(failing.id)]).toEqual(['approved', 'approved']);
    await settleUseApproval(env.client, { requestId: signing.id, registerId: signature, signed: true }); // answers once recorded
    expect(await ctx.db('seal_use_requests').where({ id: signing.id }).first('status', 'register_id')).toEqual({ status: 'used', register_id: signature });
    await settleUseApproval(env.client, { requestId: failing.id, registerId: failed, signed: false }); // handed back past its deadline
    await eventually('the request whose signature failed lapsed', () => status(failing.id), (s) => s === 'lapsed');
    const lapsedRow = await ctx.db('seal_use_requests').where({ id: undecided.id }).first('lapsed_at', 'decided_by');
    expect(lapsedRow).toMatchObject({ decided_by: null, lapsed_at: expect.any(Date) });
    expect(await ctx.db('audit_entries').where({ action: 'use_request.lapse' }).whereRaw("details->>'use_request_id' in (?, ?)", [undecided.id, unused.id])).toHaveLength(2);

    const late = await refusal(decideUseRequest(deps, approver, undecided.id, { decision: 'approve' }));
    expect(late).toMatchObject({ code: 'USE_REQUEST_DECIDED', httpStatus: 409 });
    const spent = await refusal(reserveUseApproval(env.client, ctx.db, { requestId: unused.id, registerId: randomUUID() }));
    expect(spent).toMatchObject({ code: 'USE_REQUEST_NOT_APPROVED', field: 'use_request_id', httpStatus: 409, messageZh: expect.stringContaining('已过期') });
    const again = await refusal(reserveUseApproval(env.client, ctx.db, { requestId: signing.id, registerId: randomUUID() }));
    expect(again).toMatchObject({ code: 'USE_REQUEST_USED', field: 'use_request_id', httpStatus: 409 });
  });
});
