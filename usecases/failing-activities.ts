// Administrators: activities that keep failing (a transient fault that did not heal, or a bug), with their
// case and last error, instead of being retried silently (workflows/activity-policies.ts). Read from
// Temporal, which already knows: the running workflows (visibility) and each one's pending activities
// (DescribeWorkflowExecution: attempt, last failure, times). No bookkeeping of our own.
//
// Cost: one describe per running workflow, 8 at a time. Fine for an administrator's page up to tens of
// thousands of running workflows (each live seal has one); beyond that, a worker-side marker would be needed.
import type { Client } from '@temporalio/client';
import type { Db } from '../infra/db';
import type { Actor } from '../domain/actor';
import { DomainError } from '../domain/errors';
import { LONG_FAILING_ATTEMPTS } from '../workflows/activity-policies';

export interface FailingActivity {
  workflow_id: string;
  workflow_type: string;
  case_id: string | null;
  seal_id: string | null;
  activity_type: string;
  activity_id: string;
  attempt: number;
  state: 'scheduled' | 'started' | 'cancel_requested' | 'paused' | 'unknown';
  last_failure: { type: string | null; message: string; at: string | null } | null;
  next_attempt_at: string | null;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const STATES: Record<number, FailingActivity['state']> = { 1: 'scheduled', 2: 'started', 3: 'cancel_requested', 4: 'paused', 5: 'paused' };

const iso = (t: { seconds?: unknown; nanos?: number | null } | null | undefined): string | null => {
  if (!t || t.seconds === undefined || t.seconds === null) return null;
  return new Date(Number(t.seconds) * 1000 + Math.floor((t.nanos ?? 0) / 1e6)).toISOString();
};

/** The case (and seal) a workflow id names: application:/change:<caseId>, seal:/archive:<sealId>. */
async function subjects(db: Db, workflowIds: string[]): Promise<Map<string, { caseId: string | null; sealId: string | null }>> {
  const out = new Map<string, { caseId: string | null; sealId: string | null }>();
  const sealIds: string[] = [];
  for (const id of workflowIds) {
    const [prefix, rest] = [id.slice(0, id.indexOf(':')), id.slice(id.indexOf(':') + 1)];
    if (!UUID.test(rest)) out.set(id, { caseId: null, sealId: null });
    else if (prefix === 'application' || prefix === 'change') out.set(id, { caseId: rest, sealId: null });
    else if (prefix === 'seal' || prefix === 'archive') sealIds.push(rest);
    else out.set(id, { caseId: null, sealId: null });
  }
  const seals = sealIds.length ? await db('seals').whereIn('id', sealIds).select('id', 'case_id') : [];
  const caseOf = new Map(seals.map((s: { id: string; case_id: string }) => [s.id, s.case_id]));
  for (const id of workflowIds) {
    if (out.has(id)) continue;
    const sealId = id.slice(id.indexOf(':') + 1);
    out.set(id, { caseId: caseOf.get(sealId) ?? null, sealId });
  }
  return out;
}

export async function listFailingActivities(
  deps: { db: Db; temporal: Client },
  actor: Actor,
  minAttempts: number = LONG_FAILING_ATTEMPTS,
): Promise<FailingActivity[]> {
  if (actor.role !== 'admin') {
    throw new DomainError({ code: 'FORBIDDEN', messageZh: '仅系统管理员可查看', messageEn: 'Only administrators may see this', httpStatus: 403 });
  }
  const running: { workflowId: string; type: string }[] = [];
  for await (const w of deps.temporal.workflow.list({ query: 'ExecutionStatus = "Running"' })) running.push({ workflowId: w.workflowId, type: w.type });

  const found: Omit<FailingActivity, 'case_id' | 'seal_id'>[] = [];
  for (let i = 0; i < running.length; i += 8) {
    await Promise.all(
      running.slice(i, i + 8).map(async (w) => {
        let pending;
        try {
          pending = (await deps.temporal.workflow.getHandle(w.workflowId).describe()).raw.pendingActivities ?? [];
        } catch {
          return; // closed between the list and the describe
        }
        for (const a of pending) {
          if ((a.attempt ?? 1) < minAttempts) continue;
          const f = a.lastFailure;
          found.push({
            workflow_id: w.workflowId,
            workflow_type: w.type,
            activity_type: a.activityType?.name ?? '',
            activity_id: a.activityId ?? '',
            attempt: a.attempt ?? 1,
            state: STATES[a.state as number] ?? 'unknown',
            last_failure: f ? { type: f.applicationFailureInfo?.type ?? null, message: f.message ?? '', at: iso(a.lastAttemptCompleteTime) } : null,
            next_attempt_at: iso(a.nextAttemptScheduleTime),
          });
        }
      }),
    );
  }
  const ids = await subjects(deps.db, [...new Set(found.map((f) => f.workflow_id))]);
  return found
    .map((f) => ({ ...f, case_id: ids.get(f.workflow_id)?.caseId ?? null, seal_id: ids.get(f.workflow_id)?.sealId ?? null }))
    .sort((a, b) => b.attempt - a.attempt || a.workflow_id.localeCompare(b.workflow_id));
}
