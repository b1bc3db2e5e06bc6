// P3: a supervisor moves a case filed in the wrong district to the right one. The case's workflow does it (an
// Update): the case row, its open task (the new district's officers see it in their queue, the old district's
// no longer reach it) and its search attribute move together, with the supervisor's audit entry and a timeline
// event. One Update per case, count of earlier moves and target district: a request sent twice moves once.
import { DomainError, fieldRef, invalidField, requiredField, ValidationCollector } from '../domain/errors';
import { isDistrictCode } from '../domain/districts';
import { parseName } from '../domain/application-intake';
import type { Actor } from '../domain/actor';
import { forbidden } from '../domain/refusals';
import { currentAuditContext, recordEffectElsewhere } from '../infra/audit/context';
import { moveDistrictUpdate } from '../workflows/application-messages';
import type { Deps } from './deps';
import { ACTION_ANSWER_WITHIN_MS, caseWorkflowId, loadCase, update, within } from './applications';

export const MOVE_FIELDS = {
  districtCode: fieldRef('district_code', '移交辖区', 'District to move to'),
  reason: fieldRef('reason', '移交理由', 'Reason for the move'),
} as const;

export async function moveCaseToDistrict(deps: Pick<Deps, 'db' | 'temporal'>, actor: Actor, caseId: string, body: unknown) {
  if (actor.role !== 'supervisor' || actor.client) throw forbidden('Only a supervisor moves a case to another district', '只有监管人员可以将案件移交其他辖区');
  const b = (body ?? {}) as { district_code?: unknown; reason?: unknown };
  const v = new ValidationCollector();
  if (b.district_code === undefined || b.district_code === null || b.district_code === '') v.add(requiredField(MOVE_FIELDS.districtCode));
  else if (!isDistrictCode(b.district_code)) v.add(invalidField(MOVE_FIELDS.districtCode, '不是北京市的区代码', 'is not a Beijing district code'));
  const reason = v.check(() => {
    if (b.reason === undefined || b.reason === null || b.reason === '') throw requiredField(MOVE_FIELDS.reason);
    return parseName(b.reason, MOVE_FIELDS.reason, 500);
  });
  v.throwIfAny();
  const c = await loadCase(deps.db, caseId);
  const toDistrict = b.district_code as string;
  const ctx = currentAuditContext();
  recordEffectElsewhere(); // the move's entry is written by the workflow's activity, with the move itself
  // The Update's id: the case, how many moves it had and where to. A request sent twice is one move; a later
  // move back and forth again is another.
  const moves = Number((await deps.db('case_events').where({ case_id: caseId, type: 'district_moved' }).count<{ n: string }[]>('* as n'))[0]!.n);
  const moved = await within(deps.temporal, () =>
    update(() =>
      deps.temporal.workflow.getHandle(caseWorkflowId(c)).executeUpdate(moveDistrictUpdate, {
        args: [{ toDistrict, reason: reason!, supervisorId: actor.userId, audit: { username: actor.username, role: actor.role, districtCode: actor.districtCode, clientAddress: ctx?.clientAddress ?? null, requestId: ctx?.requestId ?? null } }],
        updateId: `moveDistrict:${caseId}:${moves}:${toDistrict}`,
      }),
    ), ACTION_ANSWER_WITHIN_MS,
  ).catch((e) => {
    // The workflow names the field of a move to the district the case is in.
    if (e instanceof DomainError && e.code === 'SameDistrict') throw invalidField(MOVE_FIELDS.districtCode, '案件已在该辖区', 'is the district the case is in already', { code: 'SAME_DISTRICT', httpStatus: 409 });
    throw e;
  });
  if (moved === null) {
    throw new DomainError({ code: 'MOVE_NOT_TAKEN', httpStatus: 503, messageZh: '案件流程暂未完成移交（工作进程不可用），请稍后查看案件所属辖区后再试', messageEn: "The case's process has not completed the move yet (no worker is available); check the case's district shortly before trying again" });
  }
  return { case_id: caseId, from_district: moved.fromDistrict, district_code: moved.toDistrict, status: moved.status };
}
