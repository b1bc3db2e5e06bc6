// M8: one premises-video segment (ID video:<segmentId>). For the retention period (temporal.yaml
// durations.videoRetention, P90D, a real 90 days) nothing deletes, alters or copies it out; afterwards the
// workflow purges it (bytes deleted, row kept as its tombstone) unless a legal hold is on it; lifting the
// last hold lets the purge proceed, ordered by whoever lifted it.
import { allHandlersFinished, condition, proxyActivities, setHandler, sleep } from '@temporalio/workflow';
import type { DbActivities } from '../activities';
import { addIsoDuration } from '../domain/calendar';
import { now } from './case-desk';
import {
  liftLegalHoldUpdate,
  placeLegalHoldUpdate,
  refusal,
  videoRetentionQuery,
  type LegalHold,
  type LiftHoldInput,
  type PlaceHoldInput,
  type PurgeBasis,
  type VideoRetentionState,
} from './retention-messages';
import { ACTIVITY_POLICIES as P } from './activity-policies';

export interface VideoRetentionInput {
  segmentId: string;
  /** ISO 8601 duration from temporal.yaml (P90D). */
  retention: string;
}

const db = proxyActivities<DbActivities>(P.dbStatement);
const purge = proxyActivities<DbActivities>(P.disposal); // a segment's bytes, up to 2 GiB

export async function videoRetentionWorkflow(input: VideoRetentionInput): Promise<VideoRetentionState> {
  let holds: LegalHold[] = [];
  let retainUntil: string | null = null;
  let retentionOver = false;
  let busy = 0; // hold updates in flight: the purge waits for them
  let purging = false;
  let purged: { at: string; basis: PurgeBasis; orderedBy: string | null } | null = null;
  const lifts: { last: { by: string; at: string } | null } = { last: null }; // the last hold lifted, and by whom

  const snapshot = (): VideoRetentionState => ({
    segmentId: input.segmentId,
    status: purged ? 'purged' : holds.length > 0 ? 'held' : retentionOver ? 'purge_pending' : 'retained',
    retainUntil,
    retentionOver,
    holds: [...holds],
    purgedAt: purged?.at ?? null,
    purgeBasis: purged?.basis ?? null,
    purgeOrderedBy: purged?.orderedBy ?? null,
  });
  const refusePurged = () => {
    if (purged || purging) throw refusal('VIDEO_PURGED', 409, '该录像片段已按保存期限清除', 'The segment has been purged after its retention period');
  };

  setHandler(videoRetentionQuery, snapshot);
  setHandler(
    placeLegalHoldUpdate,
    async (h: PlaceHoldInput) => {
      busy++;
      try {
        const at = now();
        holds = [...holds, { ...h, placedAt: at }]; // before any await: a purge cannot slip in meanwhile
        await db.recordVideoLegalHold({ segmentId: input.segmentId, holdId: h.holdId, placedBy: h.placedBy, role: h.role, reason: h.reason, at });
        return snapshot();
      } finally {
        busy--;
      }
    },
    {
      validator: (h: PlaceHoldInput) => {
        refusePurged();
        if (!h.reason?.trim()) throw refusal('REQUIRED_FIELD', 400, '法律保全理由：必须填写', 'Reason for the legal hold: is required', 'reason');
        if (holds.some((x) => x.holdId === h.holdId)) throw refusal('HOLD_EXISTS', 409, '该法律保全已存在', 'This legal hold is already on the segment');
      },
    },
  );
  setHandler(
    liftLegalHoldUpdate,
    async (l: LiftHoldInput) => {
      busy++;
      try {
        const at = now();
        await db.recordVideoLegalHoldLift({ segmentId: input.segmentId, holdId: l.holdId, liftedBy: l.liftedBy, role: l.role, reason: l.reason, at });
        holds = holds.filter((x) => x.holdId !== l.holdId);
        lifts.last = { by: l.liftedBy, at };
        return snapshot();
      } finally {
        busy--;
      }
    },
    {
      validator: (l: LiftHoldInput) => {
        refusePurged();
        if (!l.reason?.trim()) throw refusal('REQUIRED_FIELD', 400, '解除理由：必须填写', 'Reason for lifting the hold: is required', 'reason');
        if (!holds.some((x) => x.holdId === l.holdId)) throw refusal('HOLD_NOT_FOUND', 404, '该录像片段上没有这项法律保全', 'No such legal hold on this segment', 'hold_id');
      },
    },
  );

  // The retention period runs from the moment the segment is stored; a restarted run keeps the first date
  // and the holds already recorded.
  const started = await db.startVideoRetention({ segmentId: input.segmentId, retainUntil: addIsoDuration(new Date(now()), input.retention).toISOString() });
  retainUntil = started.retainUntil;
  const known = new Set(holds.map((h) => h.holdId));
  holds = [...holds, ...started.holds.filter((h) => !known.has(h.holdId))];
  if (started.purged) {
    purged = started.purged;
    return snapshot();
  }

  const wait = Date.parse(retainUntil) - Date.now();
  if (wait > 0) await sleep(wait);
  retentionOver = true;

  await condition(() => holds.length === 0 && busy === 0);
  purging = true;
  const at = now();
  // Held past the retention date, the purge is ordered by whoever lifted the last hold; otherwise by the policy.
  const lift = lifts.last;
  const liftedAfterRetention = lift !== null && Date.parse(lift.at) >= Date.parse(retainUntil);
  const basis: PurgeBasis = liftedAfterRetention ? 'legal_hold_lifted' : 'retention_policy';
  const orderedBy = liftedAfterRetention ? lift.by : null;
  await purge.purgeVideoSegment({ segmentId: input.segmentId, basis, orderedBy, at });
  purged = { at, basis, orderedBy };
  await condition(allHandlersFinished);
  return snapshot();
}
