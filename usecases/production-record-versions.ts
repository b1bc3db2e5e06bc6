// M5: the versions of a case's production record as readers see them (case view, API, pages). Kept apart
// from usecases/production-records.ts so the case view can show them without an import cycle.
import { PLATFORM_KEY_ALGORITHM } from '../domain/production-data';
import type { Db } from '../infra/db';

export type VersionState = 'current' | 'superseded' | 'pending_approval' | 'rejected';

export interface ProductionRecordVersion {
  version: number;
  state: VersionState;
  data: Record<string, unknown>;
  on_site_image_id: string;
  reason: string | null;
  author: { id: string; username: string; display_name: string };
  created_at: string;
  needs_approval: boolean;
  approval: { decision: 'approved' | 'rejected'; reason: string | null; decided_by: string; decided_at: string } | null;
}

/** A version counts once it needs no approval or has been approved; the highest such version is current. */
export const takesEffect = (r: { needs_approval: boolean; decision: string | null }) => !r.needs_approval || r.decision === 'approved';

/** Every version of a case's production record, oldest first, each with its state (no scope check). */
export async function productionRecordVersions(db: Db, caseId: string): Promise<ProductionRecordVersion[]> {
  const rows = await db('production_records as r')
    .join('users as u', 'u.id', 'r.author_id')
    .leftJoin('production_record_decisions as d', 'd.record_id', 'r.id')
    .where('r.case_id', caseId)
    .orderBy('r.version')
    .select('r.version', 'r.data', 'r.on_site_image_id', 'r.reason', 'r.needs_approval', 'r.created_at', 'u.id as author_id', 'u.username', 'u.display_name', 'd.decision', 'd.reason as decision_reason', 'd.decided_by', 'd.decided_at');
  // M2: what the platform knows itself is added to every version, never typed by the maker.
  const seal = await db('seals').where({ case_id: caseId }).first('certificate_serial', 'imprint_sha256');
  const known = { key_algorithm: PLATFORM_KEY_ALGORITHM, certificate_serial: seal?.certificate_serial ?? null, imprint_sha256: seal?.imprint_sha256 ?? null };
  const current = Math.max(0, ...rows.filter(takesEffect).map((r) => r.version as number));
  return rows.map((r) => ({
    version: r.version,
    state: takesEffect(r) ? (r.version === current ? 'current' : 'superseded') : r.decision === 'rejected' ? 'rejected' : 'pending_approval',
    data: { ...r.data, ...known },
    on_site_image_id: r.on_site_image_id,
    reason: r.reason,
    author: { id: r.author_id, username: r.username, display_name: r.display_name },
    created_at: new Date(r.created_at).toISOString(),
    needs_approval: r.needs_approval,
    approval: r.decision ? { decision: r.decision, reason: r.decision_reason, decided_by: r.decided_by, decided_at: new Date(r.decided_at).toISOString() } : null,
  }));
}

