// 三(四) 使用流程: one request to use a seal on one document, ID `use-approval:<requestId>`. The request is a
// task in the holder's own approval queue (`seal_use_requests`); one of the approvers the holder named for the
// seal decides it through an Update whose validator refuses anyone else, a second decision and a rejection
// without reason. An approved request is spent by exactly one signature: the signature's workflow reserves it
// (the `consumeUse` Update: its validator refuses a second signature while one holds it or after it is used)
// and settles it (`settleUse`) once it has signed, spending it, or failed, handing it back usable. A
// reservation is never dropped by a timer: a slow signature may still land. Undecided, or approved and not
// used, at the deadline (a durable timer, durations.useApprovalDeadline) the request lapses; one reserved at
// the deadline waits for its settlement first.
import { ApplicationFailure, allHandlersFinished, condition, patched, proxyActivities, setHandler } from '@temporalio/workflow';
import type { UseApprovalActivities } from '../activities/use-approval';
import { ACTIVITY_POLICIES as P } from './activity-policies';
import { USE_RESERVATION_PATCH } from './use-reservation-patch';
import {
  consumeUseUpdate,
  decideUseUpdate,
  settleUseUpdate,
  USE_ALREADY_DECIDED,
  USE_ALREADY_USED,
  USE_IN_USE,
  USE_INVALID_DECISION,
  USE_NOT_APPROVED,
  USE_NOT_APPROVER,
  useRequestOpenedUpdate,
  useRequestQuery,
  type UseApprovalInput,
  type UseConsumeInput,
  type UseDecisionInput,
  type UseRequestStatus,
  type UseSettleInput,
} from './use-approval-messages';

const act = proxyActivities<UseApprovalActivities>(P.dbStatement);

const refuse = (type: string, zh: string, en: string, field?: string) => ApplicationFailure.create({ type, nonRetryable: true, message: en, details: [{ zh, en, field }] });
const nowIso = () => new Date(Date.now()).toISOString();
const untilDue = (dueAt: string) => Math.max(0, Date.parse(dueAt) - Date.now());

export async function useApprovalWorkflow(input: UseApprovalInput): Promise<{ status: UseRequestStatus }> {
  // Runs started before the patch spend the request in consumeUse itself, answering once it is used.
  const reserving = patched(USE_RESERVATION_PATCH);
  let status: UseRequestStatus = 'pending';
  let opened = false;
  let lapsing = false; // set before the lapse is written: no reservation is taken meanwhile
  let decision: UseDecisionInput | null = null;
  /** The signature holding the request (reserved; before the patch: spending it). */
  let use: UseConsumeInput | null = null;
  let settlement: UseSettleInput | null = null;

  setHandler(useRequestQuery, () => ({ status, decidedBy: decision?.approver.userId ?? null, reservedFor: status === 'approved' ? (use?.registerId ?? null) : null }));
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
      if (!reserving) await condition(() => status === 'used');
      return { approverId: decision!.approver.userId };
    },
    {
      validator: (_u: UseConsumeInput) => {
        if (status === 'used' || (use && !reserving)) throw refuse(USE_ALREADY_USED, '该用印申请已使用过一次，不能再次用印', 'This use request has already been used once; it cannot sign again', 'use_request_id');
        if (use) throw refuse(USE_IN_USE, '该用印申请正用于另一次签章；那次签章失败时可再次使用', 'This use request is held by another signature in progress; it can be used again if that one fails', 'use_request_id');
        if (status !== 'approved' || lapsing) {
          const now = lapsing ? 'lapsed' : status;
          throw refuse(USE_NOT_APPROVED, `该用印申请未获批准（当前：${now}）`, `This use request is not approved (it is ${now})`, 'use_request_id');
        }
      },
    },
  );
  setHandler(settleUseUpdate, async (s) => {
    if (use?.registerId === s.registerId && !settlement) settlement = s;
    // Answered once it took effect; a settlement of a signature that holds nothing (any more) changes nothing.
    await condition(() => status === 'used' || use?.registerId !== s.registerId);
    return { status };
  });

  await act.openUseRequest(input);
  opened = true;

  if (!(await condition(() => decision !== null, untilDue(input.dueAt)))) return lapse();
  const d = decision!;
  await act.decideUseRequest({ requestId: input.requestId, sealId: input.sealId, decision: d.decision, reason: d.reason?.trim() || null, approver: d.approver, clientAddress: d.clientAddress, httpRequestId: d.requestId, at: nowIso() });
  status = d.decision === 'approve' ? 'approved' : 'rejected';
  if (status === 'rejected') return finish();

  if (!reserving) {
    if (!(await condition(() => use !== null, untilDue(input.dueAt)))) return lapse();
    return used(use!.registerId);
  }
  // Usable until the deadline. A reservation waits for its signature's settlement however long that takes;
  // a signature that failed hands the request back (lapsing at once if the deadline has passed meanwhile).
  for (;;) {
    // A reservation taken in the activation in which the deadline fired still holds.
    if (!(await condition(() => use !== null, untilDue(input.dueAt))) && use === null) return lapse();
    await condition(() => settlement !== null);
    if (settlement!.signed) return used(use!.registerId);
    use = null;
    settlement = null;
  }

  async function used(registerId: string) {
    await act.markUseRequestUsed({ requestId: input.requestId, registerId, at: nowIso() });
    status = 'used';
    return finish();
  }
  async function lapse() {
    lapsing = true;
    await act.lapseUseRequest({ requestId: input.requestId, sealId: input.sealId, at: nowIso() });
    status = 'lapsed';
    return finish();
  }
  async function finish() {
    await condition(allHandlersFinished);
    return { status };
  }
}
