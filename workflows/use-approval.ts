// 三(四) 使用流程: one request to use a seal on one document, ID `use-approval:<requestId>`. The request is a
// task in the holder's own approval queue (`seal_use_requests`); one of the approvers the holder named for the
// seal decides it through an Update whose validator refuses anyone else, a second decision and a rejection
// without reason. An approved request is spent by exactly one signature (the `consumeUse` Update: its
// validator refuses a second use). Undecided, or approved and not used, at the deadline (a durable timer,
// durations.useApprovalDeadline) the request lapses.
import { ApplicationFailure, allHandlersFinished, condition, proxyActivities, setHandler } from '@temporalio/workflow';
import type { UseApprovalActivities } from '../activities/use-approval';
import { ACTIVITY_POLICIES as P } from './activity-policies';
import {
  consumeUseUpdate,
  decideUseUpdate,
  USE_ALREADY_DECIDED,
  USE_ALREADY_USED,
  USE_INVALID_DECISION,
  USE_NOT_APPROVED,
  USE_NOT_APPROVER,
  useRequestOpenedUpdate,
  useRequestQuery,
  type UseApprovalInput,
  type UseConsumeInput,
  type UseDecisionInput,
  type UseRequestStatus,
} from './use-approval-messages';

const act = proxyActivities<UseApprovalActivities>(P.dbStatement);

const refuse = (type: string, zh: string, en: string, field?: string) => ApplicationFailure.create({ type, nonRetryable: true, message: en, details: [{ zh, en, field }] });
const nowIso = () => new Date(Date.now()).toISOString();
const untilDue = (dueAt: string) => Math.max(0, Date.parse(dueAt) - Date.now());

export async function useApprovalWorkflow(input: UseApprovalInput): Promise<{ status: UseRequestStatus }> {
  let status: UseRequestStatus = 'pending';
  let opened = false;
  let decision: UseDecisionInput | null = null;
  let use: UseConsumeInput | null = null;

  setHandler(useRequestQuery, () => ({ status, decidedBy: decision?.approver.userId ?? null }));
  setHandler(useRequestOpenedUpdate, async () => {
    await condition(() => opened);
    return { status };
  });
  setHandler(
    decideUseUpdate,
    async (d) => {
      decision = d;
      await condition(() => status !== 'pending'); // answered once the decision is recorded
      return { status, decidedBy: d.approver.userId };
    },
    {
      validator: (d) => {
        if (!input.approverIds.includes(d.approver.userId)) throw refuse(USE_NOT_APPROVER, '只有该印章指定的审批人可以审批用印申请', 'Only an approver named for this seal may decide its use requests');
        if (decision || status !== 'pending') throw refuse(USE_ALREADY_DECIDED, `该用印申请已处理（${status}）`, `This use request has already been decided (${status})`);
        if (d.decision !== 'approve' && d.decision !== 'reject') throw refuse(USE_INVALID_DECISION, '应为 approve（批准）或 reject（不批准）', 'must be approve or reject', 'decision');
        if (d.decision === 'reject' && !d.reason?.trim()) throw refuse(USE_INVALID_DECISION, '不批准必须说明理由', 'A rejection needs a reason', 'reason');
      },
    },
  );
  setHandler(
    consumeUseUpdate,
    async (u) => {
      use = u; // first, before any await: a second use in the same activation is refused by its validator
      await condition(() => status === 'used');
      return { approverId: decision!.approver.userId };
    },
    {
      validator: (_u: UseConsumeInput) => {
        if (use || status === 'used') throw refuse(USE_ALREADY_USED, '该用印申请已使用过一次，不能再次用印', 'This use request has already been used once; it cannot sign again', 'use_request_id');
        if (status !== 'approved') throw refuse(USE_NOT_APPROVED, `该用印申请未获批准（当前：${status}）`, `This use request is not approved (it is ${status})`, 'use_request_id');
      },
    },
  );

  await act.openUseRequest(input);
  opened = true;

  if (!(await condition(() => decision !== null, untilDue(input.dueAt)))) return lapse();
  const d = decision!;
  await act.decideUseRequest({ requestId: input.requestId, sealId: input.sealId, decision: d.decision, reason: d.reason?.trim() || null, approver: d.approver, clientAddress: d.clientAddress, httpRequestId: d.requestId, at: nowIso() });
  status = d.decision === 'approve' ? 'approved' : 'rejected';
  if (status === 'rejected') return finish();

  if (!(await condition(() => use !== null, untilDue(input.dueAt)))) return lapse();
  await act.markUseRequestUsed({ requestId: input.requestId, registerId: use!.registerId, at: nowIso() });
  status = 'used';
  return finish();

  async function lapse() {
    await act.lapseUseRequest({ requestId: input.requestId, sealId: input.sealId, at: nowIso() });
    status = 'lapsed';
    return finish();
  }
  async function finish() {
    await condition(allHandlersFinished);
    return { status };
  }
}
