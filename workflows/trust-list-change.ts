// I2: one change of the trust list (a platform listed, its certificates, addresses or status changed),
// proposed by a supervisor and applied only when a SECOND supervisor approves it (four eyes): an Update whose
// validator refuses the proposer, a second decision and a rejection without reason. The decision and the
// change are then applied and audited in one activity. No timer: a proposal waits until decided.
import { ApplicationFailure, condition, proxyActivities, setHandler } from '@temporalio/workflow';
import type { TrustListActivities } from '../activities/trust-list';
import { ACTIVITY_POLICIES as P } from './activity-policies';
import {
  decideTrustListChangeUpdate,
  TRUST_CHANGE_DECIDED,
  TRUST_CHANGE_INVALID,
  TRUST_CHANGE_SAME_SUPERVISOR,
  trustListChangeQuery,
  type TrustListChangeInput,
  type TrustListDecisionInput,
} from './trust-list-messages';

const act = proxyActivities<TrustListActivities>(P.dbStatement);
const refuse = (type: string, zh: string, en: string, field?: string) => ApplicationFailure.create({ type, nonRetryable: true, message: en, details: [{ zh, en, field }] });

export async function trustListChangeWorkflow(input: TrustListChangeInput): Promise<{ decision: 'approve' | 'reject' }> {
  let decision: TrustListDecisionInput | null = null;
  setHandler(trustListChangeQuery, () => ({ decision: decision?.decision ?? null }));
  setHandler(
    decideTrustListChangeUpdate,
    (d) => {
      decision = d;
      return { decision: d.decision };
    },
    {
      validator: (d) => {
        if (decision) throw refuse(TRUST_CHANGE_DECIDED, '该变更已审批', 'This change has already been decided');
        if (d.supervisorId === input.proposedBy) throw refuse(TRUST_CHANGE_SAME_SUPERVISOR, '提出变更的监管人员不能审批自己的变更，须由另一名监管人员审批', 'The supervisor who proposed a change cannot approve it: a second supervisor decides');
        if (d.decision !== 'approve' && d.decision !== 'reject') throw refuse(TRUST_CHANGE_INVALID, '审批结果：应为 approve（批准）或 reject（驳回）', 'Decision: must be approve or reject', 'decision');
        if (d.decision === 'reject' && !d.reason?.trim()) throw refuse(TRUST_CHANGE_INVALID, '理由：驳回必须说明理由', 'Reason: a rejection needs a reason', 'reason');
      },
    },
  );
  await condition(() => decision !== null);
  const d = decision!;
  await act.applyTrustListDecision({ changeId: input.changeId, decision: d.decision, reason: d.reason, supervisorId: d.supervisorId, at: new Date(Date.now()).toISOString(), audit: d.audit });
  return { decision: d.decision };
}
