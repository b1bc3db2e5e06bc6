// Case rows without a workflow (issue 17, 10.5): left by a crash or an outage between writing the rows and
// starting the workflow, in versions before workflow first (applications and resets still `submitted`,
// lifecycle requests still `processing`). Each web process runs this at start-up and every
// minute; workflow ids are the cases', so processes racing each other start each workflow once.
import type { Client } from '@temporalio/client';
import type { Config } from '../infra/config';
import type { Db } from '../infra/db';
import { applicationWorkflowId, startCaseWorkflow } from './applications';
import type { Deps } from './deps';
import { startPasswordResetCase } from './password-resets';
import { changeWorkflowId, REQUEST_KINDS, startChangeWorkflow, type RequestKind } from './seal-lifecycle';
import { NEXT_STATUS, type ChangeKind, type SealLifeStatus } from '../workflows/seal-messages';
import { caseRecordSignal } from '../workflows/application-messages';

/**
 * A lifecycle request an earlier version wrote and applied (its seal's Update) before starting its workflow:
 * if the seal shows the change, the workflow is started to finish what followed (the replacement, the filing);
 * otherwise it applies the change itself.
 */
async function startChangeRequest(deps: RepairDeps, c: CaseRow) {
  const seal = await deps.db('seals').where({ id: c.subject_seal_id }).first('status');
  const applied = seal && seal.status === (c.kind === 'replace' ? 'cancelled' : NEXT_STATUS[c.kind as ChangeKind]) ? (seal.status as SealLifeStatus) : undefined;
  const workflow = await startChangeWorkflow(deps, { caseId: c.id, kind: c.kind as RequestKind, sealId: c.subject_seal_id!, districtCode: c.district_code, makerId: c.maker_id, actorId: c.created_by, newHolderName: null, alreadyApplied: applied });
  await workflow.signal(caseRecordSignal, { stored: true }); // its rows are there
}

const KINDS = [
  { kinds: ['application'], status: 'submitted', workflowId: applicationWorkflowId, start: (deps: RepairDeps, c: CaseRow) => startCaseWorkflow(deps as Deps, c.id) },
  { kinds: ['password_reset'], status: 'submitted', workflowId: changeWorkflowId, start: (deps: RepairDeps, c: CaseRow) => startPasswordResetCase(deps, c.id, c.district_code).then(() => undefined) },
  { kinds: REQUEST_KINDS, status: 'processing', workflowId: changeWorkflowId, start: startChangeRequest },
] as const;

interface RepairDeps { db: Db; temporal: Client; config: Config }
interface CaseRow { id: string; kind: string; status: string; district_code: string; subject_seal_id: string | null; maker_id: string; created_by: string }

/** Starts the workflow of each case still `submitted` a while after it was written and without one; returns their ids. */
export async function repairCasesWithoutWorkflow(deps: RepairDeps, opts: { olderThanMs?: number } = {}): Promise<string[]> {
  const before = new Date(Date.now() - (opts.olderThanMs ?? 60_000));
  const rows: CaseRow[] = await deps.db('cases')
    .where((q) => {
      for (const k of KINDS) void q.orWhere((w) => w.whereIn('kind', [...k.kinds]).where({ status: k.status }));
    })
    .where('created_at', '<', before)
    .orderBy('created_at')
    .limit(100)
    .select('id', 'kind', 'status', 'district_code', 'subject_seal_id', 'maker_id', 'created_by');
  const started: string[] = [];
  for (const c of rows) {
    const k = KINDS.find((x) => (x.kinds as readonly string[]).includes(c.kind) && x.status === c.status)!;
    const exists = await deps.temporal.workflow.getHandle(k.workflowId(c.id)).describe().then(
      () => true,
      (e: Error) => (e.name === 'WorkflowNotFoundError' ? false : Promise.reject(e)),
    );
    if (exists) continue;
    await k.start(deps, c).catch((e: Error) => {
      if (e.name !== 'WorkflowExecutionAlreadyStartedError') throw e;
    });
    started.push(c.id);
  }
  return started;
}
