// M5 (issue 6): one production-data correction awaiting an officer's approval. The task is opened in the
// case's district queue; an officer decides it through an Update whose validator refuses another district,
// a second decision or a return without reason; the decision is then appended and the task closed.
// No timer: the due time (the filing deadline after submission) only orders and marks the queue.
import { ApplicationFailure, condition, proxyActivities, setHandler, uuid4, workflowInfo } from '@temporalio/workflow';
import type { CorrectionActivities } from '../activities/corrections';
import { upsertCaseScope } from './case-desk';
import {
  CORRECTION_DECIDED,
  CORRECTION_INVALID,
  CORRECTION_WRONG_DISTRICT,
  correctionTaskQuery,
  decideCorrectionUpdate,
  type CorrectionApprovalInput,
  type CorrectionDecisionInput,
} from './correction-messages';
import { ACTIVITY_POLICIES as P } from './activity-policies';

const act = proxyActivities<CorrectionActivities>(P.dbStatement);

const refuse = (type: string, zh: string, en: string, field?: string) => ApplicationFailure.create({ type, nonRetryable: true, message: en, details: [{ zh, en, field }] });

export async function correctionApprovalWorkflow(input: CorrectionApprovalInput): Promise<{ decision: 'accept' | 'return' }> {
  upsertCaseScope(input.districtCode);
  const taskId = uuid4(); // deterministic: the same on replay
  let decision: CorrectionDecisionInput | null = null;

  setHandler(correctionTaskQuery, () => ({ taskId, decision: decision?.decision ?? null }));
  setHandler(
    decideCorrectionUpdate,
    (d) => {
      decision = d;
      return { decision: d.decision };
    },
    {
      validator: (d) => {
        if (decision || d.taskId !== taskId) throw refuse(CORRECTION_DECIDED, '该更正已审批', 'This correction has already been decided');
        if (d.officerDistrictCode !== input.districtCode) throw refuse(CORRECTION_WRONG_DISTRICT, '只有本案件所属辖区的民警可以审批更正', "Only an officer of the case's district may decide this correction");
        if (d.decision !== 'accept' && d.decision !== 'return') throw refuse(CORRECTION_INVALID, '处理结果：应为 accept（通过）或 return（退回）', 'Decision: must be accept or return', 'decision');
        if (d.decision === 'return' && !d.reason?.trim()) throw refuse(CORRECTION_INVALID, '退回必须说明理由', 'A return needs a reason', 'reason');
      },
    },
  );

  await act.openCorrectionTask({ taskId, recordId: input.recordId, caseId: input.caseId, version: input.version, districtCode: input.districtCode, dueAt: input.dueAt, workflowId: workflowInfo().workflowId });
  await condition(() => decision !== null);
  const d = decision!;
  await act.decideCorrection({ taskId, recordId: input.recordId, caseId: input.caseId, version: input.version, decision: d.decision, reason: d.reason, officerId: d.officerId, at: new Date(Date.now()).toISOString(), audit: d.audit ?? null });
  return { decision: d.decision };
}
