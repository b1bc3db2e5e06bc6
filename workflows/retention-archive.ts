// M7: a seal's archive (ID archive:<sealId>) from the seal's end. For the retention period (temporal.yaml
// durations.archiveRetention, P5Y on the Asia/Shanghai calendar, to the end of that day) nothing can dispose
// of it; then a supervisor's disposal task; only an approved disposal erases the personal data, and a
// tombstone stays. A supervisor may instead keep it: it is reviewed again one retention period later.
import { allHandlersFinished, condition, continueAsNew, patched, proxyActivities, setHandler, uuid4 } from '@temporalio/workflow';
import type { DbActivities } from '../activities';
import { now } from './case-desk';
import {
  archiveRetentionQuery,
  decideDisposalUpdate,
  refusal,
  sealEndedSignal,
  type ArchiveRetentionState,
  type DisposalDecisionInput,
  type SealEnd,
} from './retention-messages';
import { ACTIVITY_POLICIES as P } from './activity-policies';

export interface ArchiveRetentionInput {
  sealId: string;
  end: SealEnd;
}

export const archiveWorkflowId = (sealId: string) => `archive:${sealId}`;

const db = proxyActivities<DbActivities>(P.dbStatement);
// Deleting the materials' bytes of a large archive may take a while.
const disposal = proxyActivities<DbActivities>(P.disposal);

export async function archiveRetentionWorkflow(input: ArchiveRetentionInput): Promise<ArchiveRetentionState> {
  const state: ArchiveRetentionState = {
    sealId: input.sealId,
    status: 'retained',
    ends: [input.end],
    retainUntil: null,
    openTask: null,
    reviews: 0,
    disposedAt: null,
  };
  let endsVersion = 0;
  let decision: DisposalDecisionInput | null = null;
  const acted = new Set<string>(); // tasks whose decision the workflow has carried out: their Update answers then
  const answersWhenActed = patched('disposal-answers-when-acted'); // runs started before answer at once, as they did

  setHandler(archiveRetentionQuery, () => state);
  setHandler(sealEndedSignal, (end: SealEnd) => {
    if (state.status === 'disposed' || state.ends.some((e) => e.kind === end.kind && e.at === end.at)) return;
    state.ends.push(end);
    endsVersion++;
  });
  setHandler(
    decideDisposalUpdate,
    async (d: DisposalDecisionInput) => {
      decision = d;
      if (answersWhenActed) await condition(() => acted.has(d.taskId)); // answers with the state the decision led to (disposed, retained)
      return state;
    },
    {
      validator: (d: DisposalDecisionInput) => {
        if (!state.openTask || state.openTask.id !== d.taskId || decision) {
          throw refusal(
            'ARCHIVE_UNDER_RETENTION',
            409,
            `该印章档案${state.retainUntil ? `保存至 ${state.retainUntil}，` : ''}当前没有待审批的销毁任务`,
            `The archive of this seal is kept${state.retainUntil ? ` until ${state.retainUntil}` : ''}; there is no open disposal task to decide`,
          );
        }
        if (d.decision !== 'approve' && d.decision !== 'retain') throw refusal('INVALID_FIELD', 400, '处理结果：应为 approve（批准销毁）或 retain（继续保存）', 'Decision: must be approve or retain', 'decision');
        if (d.decision === 'retain' && !d.reason?.trim()) throw refusal('REQUIRED_FIELD', 400, '继续保存的理由：必须填写', 'Reason to keep the archive: is required', 'reason');
      },
    },
  );

  let reviewedAt: string | null = null; // after a supervisor kept it, the next period runs from that decision
  for (;;) {
    // 1. Retention: recomputed from the latest end and the latest record of the archive, never shortened.
    for (;;) {
      const version = endsVersion;
      const { retainUntil, disposed } = await db.archiveRetentionDue({ sealId: input.sealId, ends: state.ends, reviewedAt });
      state.retainUntil = retainUntil;
      if (disposed) {
        // Already disposed of for this end (a repeated start): nothing more to keep.
        state.status = 'disposed';
        return state;
      }
      const wait = Date.parse(retainUntil) - Date.now();
      if (wait <= 0 && version === endsVersion) break;
      if (wait > 0) await condition(() => endsVersion !== version, wait);
    }

    // 2. The disposal task for a supervisor.
    const taskId = uuid4();
    const openedAt = now();
    // The task takes a decision before its row is visible: one sent the instant it shows is never refused.
    state.openTask = { id: taskId, openedAt };
    state.status = 'awaiting_disposal_decision';
    const version = endsVersion;
    await db.openArchiveDisposalTask({ taskId, sealId: input.sealId, retainUntil: state.retainUntil!, at: openedAt });
    await condition(() => decision !== null || endsVersion !== version);
    const d = decision as DisposalDecisionInput | null;
    decision = null;
    state.openTask = null;
    if (d === null) {
      // The seal ended again (a stopped seal was cancelled): the retention runs again from the later end.
      await db.closeArchiveDisposalTask({ taskId, sealId: input.sealId, decision: 'superseded', reason: null, decidedBy: null, at: now() });
      state.status = 'retained';
      continue;
    }
    await db.closeArchiveDisposalTask({ taskId, sealId: input.sealId, decision: d.decision, reason: d.reason, decidedBy: d.supervisorId, at: now() });
    state.reviews++;
    if (d.decision === 'approve') {
      const at = now();
      await disposal.disposeArchive({ sealId: input.sealId, taskId, approvedBy: d.supervisorId, reason: d.reason, at });
      state.status = 'disposed';
      state.disposedAt = at;
      acted.add(taskId);
      await condition(allHandlersFinished);
      if (endsVersion !== version) {
        // The seal ended again while it was being disposed of: its later records get a retention of their own.
        const latest = [...state.ends].sort((a, b) => Date.parse(b.at) - Date.parse(a.at))[0]!;
        return continueAsNew<typeof archiveRetentionWorkflow>({ sealId: input.sealId, end: latest });
      }
      return state;
    }
    reviewedAt = now();
    state.status = 'retained';
    acted.add(taskId);
  }
}

/**
 * Called by the seal's workflow (stopped, cancelled) and the application workflow (cancelled unclaimed) where
 * the seal ends: signal-with-start of archive:<sealId> (an activity: workflows have no signal-with-start), so
 * it starts the archive's retention or tells a running one that the seal ended again. Behind a patch marker,
 * so seal workflows already running replay their earlier ends unchanged.
 */
export async function startArchiveRetention(sealId: string, end: SealEnd): Promise<void> {
  if (!patched('m7-archive-retention')) return;
  await db.startArchiveRetention({ sealId, end });
}
