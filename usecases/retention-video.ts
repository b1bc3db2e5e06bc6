// Use-cases of premises video retention (M8; P3 scope and M6 access logging on every one): validate,
// authorise, log the attempt, then start, query or update the segment's retention workflow.
import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { parseName } from '../domain/application-intake';
import { conflict, DomainError, fieldRef, invalidField, requiredField, ValidationCollector, type FieldRef } from '../domain/errors';
import { BlobCorruptedError, BlobMissingError, type IncomingFile } from '../infra/blobs';
import { sniffVideoType } from '../infra/blobs/sniff';
import type { Actor } from '../domain/actor';
import { ApiError, forbidden, notFound } from '../domain/refusals';
import { videoRetentionWorkflow } from '../workflows/retention-video';
import { liftLegalHoldUpdate, placeLegalHoldUpdate, videoRetentionQuery, type HoldRole, type VideoRetentionState } from '../workflows/retention-messages';
import type { Deps } from './deps';
import { F, iso, parseReason, update, UUID } from './retention-common';

export const videoWorkflowId = (segmentId: string) => `video:${segmentId}`;

const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})$/;
const MAX_SEGMENT_MS = 24 * 3600 * 1000;
const CLOCK_SKEW_MS = 5 * 60 * 1000;

/** Largest surveillance segment accepted (VIDEO_SEGMENT_MAX_BYTES, default 2 GiB); uploads are streamed to disk. */
export function maxVideoBytes(): number {
  const v = Number(process.env.VIDEO_SEGMENT_MAX_BYTES);
  return Number.isSafeInteger(v) && v > 0 ? v : 2 * 1024 * 1024 * 1024;
}

/** Where a request came from, for the access log. */
export interface AccessContext {
  clientAddress: string | null;
}

type VideoAction = 'upload' | 'view' | 'export' | 'delete' | 'alter' | 'place_legal_hold' | 'lift_legal_hold';

interface SegmentRow {
  id: string;
  maker_id: string;
  district_code: string;
  camera_id: string;
  recorded_start: Date;
  recorded_end: Date;
  sha256: string;
  size: string | number;
  content_type: string;
  original_name: string;
  stored_at: Date;
  retain_until: Date | null;
  status: 'retained' | 'purged';
  purged_at: Date | null;
  purge_basis: string | null;
  purge_ordered_by: string | null;
}

// ---------- helpers ----------

function parseInstant(value: unknown, field: FieldRef): Date {
  if (value === undefined || value === null || value === '') throw requiredField(field);
  if (typeof value !== 'string' || !INSTANT.test(value.trim()) || Number.isNaN(Date.parse(value))) {
    throw invalidField(field, '应为带时区的 ISO 8601 时间，如 2026-12-01T08:00:00+08:00', 'must be an ISO 8601 instant with its offset, e.g. 2026-12-01T08:00:00+08:00');
  }
  return new Date(value.trim());
}

/** What was said as the reason, for the log even when it is refused (bounded). */
const statedReason = (value: unknown): string | null => (typeof value === 'string' && value.trim() !== '' ? value.trim().slice(0, 500) : null);

async function loadSegment(deps: Pick<Deps, 'db'>, id: string): Promise<SegmentRow> {
  if (!UUID.test(id)) throw notFound('Video segment', '录像片段');
  const row = await deps.db('video_segments').where({ id }).first();
  if (!row) throw notFound('Video segment', '录像片段');
  return row as SegmentRow;
}

/** Who may see a segment (P3): its maker, officers of the maker's district, supervisors. */
function scopeOf(actor: Actor, seg: Pick<SegmentRow, 'maker_id' | 'district_code'>): 'maker' | 'officer' | 'supervisor' | null {
  if (actor.role === 'supervisor') return 'supervisor';
  if (actor.role === 'officer' && actor.districtCode === seg.district_code) return 'officer';
  if (actor.role === 'maker' && actor.makerId === seg.maker_id) return 'maker';
  return null;
}

async function logAccess(
  deps: Pick<Deps, 'db'>,
  actor: Actor,
  ctx: AccessContext,
  e: { segmentId: string | null; action: VideoAction; reason: string | null; outcome: 'allowed' | 'refused' | 'failed'; code?: string | null },
) {
  await deps.db('video_access_log').insert({
    segment_id: e.segmentId,
    actor_id: actor.userId,
    actor_role: actor.role,
    actor_district_code: actor.districtCode,
    actor_maker_id: actor.makerId,
    action: e.action,
    reason: e.reason,
    outcome: e.outcome,
    code: e.code ?? null,
    client_address: ctx.clientAddress,
  });
}

/** Runs one attempt on a segment and logs it, allowed or refused (M8: every attempt is logged). */
async function attempt<T>(deps: Pick<Deps, 'db'>, actor: Actor, ctx: AccessContext, segmentId: string, action: VideoAction, reason: unknown, fn: () => Promise<T>): Promise<T> {
  let result: T;
  try {
    result = await fn();
  } catch (e) {
    const code = e instanceof ApiError || e instanceof DomainError ? e.code : 'INTERNAL';
    const failed = code === 'BLOB_CORRUPTED' || code === 'BLOB_MISSING' || code === 'INTERNAL';
    await logAccess(deps, actor, ctx, { segmentId, action, reason: statedReason(reason), outcome: failed ? 'failed' : 'refused', code });
    throw e;
  }
  await logAccess(deps, actor, ctx, { segmentId, action, reason: statedReason(reason), outcome: 'allowed' });
  return result;
}

const gone = () => new DomainError({ code: 'VIDEO_PURGED', messageZh: '该录像片段已按保存期限清除，只留有清除记录', messageEn: 'The segment was purged after its retention period; only its tombstone remains', httpStatus: 410 });
const underRetention = (what: { zh: string; en: string }, retainUntil: string | null) =>
  conflict(
    'VIDEO_UNDER_RETENTION',
    `录像在保存期内${retainUntil ? `（至 ${retainUntil}）` : ''}不得${what.zh}（M8）`,
    `Within its retention period${retainUntil ? ` (until ${retainUntil})` : ''} a video segment cannot be ${what.en} (M8)`,
    { retain_until: retainUntil },
  );

/** The retention state from the segment's workflow; from PostgreSQL when the workflow cannot answer. */
async function retentionState(deps: Pick<Deps, 'db' | 'temporal'>, seg: SegmentRow): Promise<VideoRetentionState> {
  if (seg.status !== 'purged') {
    const state = await deps.temporal.workflow
      .getHandle(videoWorkflowId(seg.id))
      .query(videoRetentionQuery)
      .catch(() => null);
    if (state) return state;
  }
  const holds = await deps.db('video_legal_holds').where({ segment_id: seg.id }).whereNull('lifted_at').orderBy('placed_at');
  return {
    segmentId: seg.id,
    status: seg.status === 'purged' ? 'purged' : holds.length ? 'held' : seg.retain_until && Date.now() >= seg.retain_until.getTime() ? 'purge_pending' : 'retained',
    retainUntil: iso(seg.retain_until),
    retentionOver: seg.retain_until !== null && Date.now() >= new Date(seg.retain_until).getTime(),
    holds: holds.map((h) => ({ holdId: h.id, placedBy: h.placed_by, role: h.placed_role, reason: h.reason, placedAt: iso(h.placed_at)! })),
    purgedAt: iso(seg.purged_at),
    purgeBasis: seg.purge_basis as VideoRetentionState['purgeBasis'],
    purgeOrderedBy: seg.purge_ordered_by,
  };
}

async function openVerified(deps: Pick<Deps, 'blobs'>, seg: SegmentRow): Promise<{ stream: Readable; size: number }> {
  try {
    return await deps.blobs.open(seg.sha256);
  } catch (e) {
    if (e instanceof BlobCorruptedError) {
      throw new DomainError({ code: 'BLOB_CORRUPTED', messageZh: '录像文件已损坏（内容与其哈希不符），不予提供', messageEn: 'The video file is corrupted (its content does not match its hash); it is not served', httpStatus: 500, details: { sha256: seg.sha256 } });
    }
    if (e instanceof BlobMissingError) {
      throw new DomainError({ code: 'BLOB_MISSING', messageZh: '录像文件在存储中缺失', messageEn: 'The video file is missing from the store', httpStatus: 500, details: { sha256: seg.sha256 } });
    }
    throw e;
  }
}

function segmentView(seg: SegmentRow, extra: { active_holds?: number; retention?: VideoRetentionState } = {}) {
  return {
    id: seg.id,
    workflow_id: videoWorkflowId(seg.id),
    maker_id: seg.maker_id,
    district_code: seg.district_code,
    camera_id: seg.camera_id,
    recorded_start: iso(seg.recorded_start),
    recorded_end: iso(seg.recorded_end),
    sha256: seg.sha256,
    size: Number(seg.size),
    content_type: seg.content_type,
    original_name: seg.original_name,
    stored_at: iso(seg.stored_at),
    retain_until: iso(seg.retain_until) ?? extra.retention?.retainUntil ?? null,
    status: extra.retention?.status ?? (seg.status === 'purged' ? 'purged' : (extra.active_holds ?? 0) > 0 ? 'held' : 'retained'),
    active_holds: extra.retention ? extra.retention.holds.length : (extra.active_holds ?? 0),
    legal_holds: extra.retention?.holds.map((h) => ({ id: h.holdId, placed_by: h.placedBy, role: h.role, reason: h.reason, placed_at: h.placedAt })),
    // The tombstone of a purged segment: hash and dates above, and who ordered the purge.
    purged_at: iso(seg.purged_at) ?? extra.retention?.purgedAt ?? null,
    purge_basis: seg.purge_basis ?? extra.retention?.purgeBasis ?? null,
    purge_ordered_by: seg.purge_ordered_by ?? extra.retention?.purgeOrderedBy ?? null,
  };
}

// ---------- M8: upload ----------

export interface VideoUpload {
  fields: Record<string, string>;
  /** Staged and hashed as it arrived (infra/blobs stageUpload); the caller removes the staged copy. */
  file: IncomingFile | null;
}

/** M8: the maker stores a surveillance segment; its hash is computed here and checked against the one sent. */
export async function uploadVideoSegment(deps: Deps, actor: Actor, upload: VideoUpload, ctx: AccessContext) {
  const file = upload.file;
  if (actor.role !== 'maker' || !actor.makerId) throw forbidden('Only a maker stores video of its premises', '只有印章制作单位可以上传本单位场所的监控录像');
  const maker = await deps.db('makers').where({ id: actor.makerId }).first('id', 'district_code');
  const f = upload.fields;
  const v = new ValidationCollector();
  const cameraId = v.check(() => {
    const c = parseName(f.camera_id, F.camera, 64);
    if (!/^[\w.:\-/]+$/.test(c)) throw invalidField(F.camera, '只能含字母、数字和 . _ : - /', 'only letters, digits and . _ : - /');
    return c;
  });
  const start = v.check(() => parseInstant(f.recorded_start, F.start));
  const end = v.check(() => parseInstant(f.recorded_end, F.end));
  if (start && end) {
    if (end <= start) v.add(invalidField(F.end, '应晚于录像开始时间', 'must be after the recording start'));
    else if (end.getTime() - start.getTime() > MAX_SEGMENT_MS) v.add(invalidField(F.end, '一个录像片段最长 24 小时', 'a segment covers at most 24 hours'));
    if (end.getTime() > Date.now() + CLOCK_SKEW_MS) v.add(invalidField(F.end, '不能晚于当前时间', 'cannot be in the future'));
  }
  const claimed = typeof f.sha256 === 'string' ? f.sha256.trim().toLowerCase() : '';
  if (!claimed) v.add(requiredField(F.sha256));
  else if (!/^[0-9a-f]{64}$/.test(claimed)) v.add(invalidField(F.sha256, '应为 64 位十六进制 SHA-256 摘要', 'must be a SHA-256 digest of 64 hexadecimal digits'));
  let contentType: string | null = null;
  // Truncated first: an oversized file keeps nothing, so its size says nothing.
  if (file?.truncated) v.add(invalidField(F.file, `超过 ${Math.floor(maxVideoBytes() / 1024 / 1024)} MiB`, `exceeds ${Math.floor(maxVideoBytes() / 1024 / 1024)} MiB`, { code: 'UPLOAD_TOO_LARGE' }));
  else if (!file || file.size === 0) v.add(requiredField(F.file));
  else {
    contentType = sniffVideoType(file.head);
    if (!contentType) v.add(invalidField(F.file, '只接受 MP4、MOV、MKV/WebM、MPEG-TS 或 AVI 录像（按内容识别，不按文件名）', 'only MP4, MOV, MKV/WebM, MPEG-TS or AVI video is accepted (judged by content, not by name)', { code: 'UNSUPPORTED_TYPE' }));
    if (claimed && /^[0-9a-f]{64}$/.test(claimed) && claimed !== file.sha256) {
      v.add(invalidField(F.sha256, `与收到的内容不符（收到内容的哈希为 ${file.sha256}）`, `does not match the content received (which hashes to ${file.sha256})`, { code: 'CONTENT_HASH_MISMATCH' }));
    }
  }
  v.throwIfAny();
  const name = parseName(file!.filename || 'segment', fieldRef('filename', '文件名', 'File name'), 200);

  const sha = file!.sha256;
  /** A retained segment of this camera overlapping these times: the same one again, or an alteration. */
  const clash = async (q: typeof deps.db) => {
    const overlapping: Array<{ id: string; sha256: string; recorded_start: Date; recorded_end: Date }> = await q('video_segments')
      .where({ maker_id: maker.id, camera_id: cameraId, status: 'retained' })
      .where('recorded_start', '<', end!)
      .where('recorded_end', '>', start!)
      .orderBy('recorded_start')
      .select('id', 'sha256', 'recorded_start', 'recorded_end');
    const same = overlapping.find((o) => o.sha256 === sha && o.recorded_start.getTime() === start!.getTime() && o.recorded_end.getTime() === end!.getTime());
    if (same) return { kind: 'existing' as const, id: same.id };
    if (overlapping.length > 0) return { kind: 'alteration' as const, id: overlapping[0]!.id };
    return null;
  };
  // The bytes go to the store (perhaps S3, perhaps gigabytes) before the transaction, so that no database
  // connection or camera lock is held while they travel; a clash known already stores nothing. A put is
  // idempotent (content-addressed, written once): a retry, or the same bytes twice, changes nothing.
  let outcome: { kind: 'existing' | 'alteration' | 'created'; id: string } | null = await clash(deps.db);
  if (!outcome) {
    const put = await deps.blobs.put(file!.open(), { maxBytes: maxVideoBytes() });
    if (put.sha256 !== sha) throw new Error(`the staged segment changed on its way into the store (${sha} became ${put.sha256})`);
  }
  outcome ??= await deps.db.transaction(async (trx) => {
    // One camera's segments are checked again and written one at a time. (Lost to a concurrent upload here,
    // the bytes stay in the store unreferenced: never served, and nothing else is lost.)
    await trx.raw('select pg_advisory_xact_lock(hashtext(?))', [`video:${maker.id}:${cameraId}`]);
    const again = await clash(trx as unknown as typeof deps.db);
    if (again) return again;
    // A purge of another segment with the same bytes may have deleted them since the put (it holds this lock
    // while it checks and deletes: activities/retention.ts); then they are put again before the row exists.
    await trx.raw('select pg_advisory_xact_lock(hashtext(?))', [`blob:${sha}`]);
    if (!(await deps.blobs.has(sha))) await deps.blobs.put(file!.open(), { maxBytes: maxVideoBytes() });
    await trx('blobs').insert({ sha256: file!.sha256, content_type: contentType, size: file!.size }).onConflict('sha256').merge({ erased_at: null });
    const id = randomUUID();
    await trx('video_segments').insert({
      id,
      maker_id: maker.id,
      district_code: maker.district_code,
      camera_id: cameraId,
      recorded_start: start,
      recorded_end: end,
      sha256: file!.sha256,
      size: file!.size,
      content_type: contentType,
      original_name: name,
      uploaded_by: actor.userId,
    });
    return { kind: 'created' as const, id };
  });
  if (outcome.kind === 'alteration') {
    // A stored segment is never replaced or overwritten (M8): the attempt is refused and logged.
    await logAccess(deps, actor, ctx, { segmentId: outcome.id, action: 'alter', reason: null, outcome: 'refused', code: 'VIDEO_ALTERATION_REFUSED' });
    throw conflict(
      'VIDEO_ALTERATION_REFUSED',
      '该摄像机此时段已有录像，保存期内不得替换或修改（M8）',
      'This camera already has a stored segment for this time; stored video cannot be replaced or altered (M8)',
      { segment_id: outcome.id },
    );
  }
  if (outcome.kind === 'created') await logAccess(deps, actor, ctx, { segmentId: outcome.id, action: 'upload', reason: null, outcome: 'allowed' });
  await startVideoRetention(deps, outcome.id);
  const seg = await loadSegment(deps, outcome.id);
  return { created: outcome.kind === 'created', segment: segmentView(seg) };
}

/** Starts the segment's retention workflow (again after a failure: a running or finished one is kept). */
async function startVideoRetention(deps: Deps, segmentId: string) {
  await deps.temporal.workflow
    .start(videoRetentionWorkflow, {
      taskQueue: deps.config.temporal.taskQueues.main,
      workflowId: videoWorkflowId(segmentId),
      workflowIdConflictPolicy: 'USE_EXISTING',
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      args: [{ segmentId, retention: deps.config.durations.videoRetention }],
    })
    .catch((e: Error) => {
      if (e.name !== 'WorkflowExecutionAlreadyStartedError') throw e;
    });
}

// ---------- M8: reading ----------

export async function listVideoSegments(deps: Pick<Deps, 'db'>, actor: Actor, filter: { camera_id?: string; status?: string; maker_id?: string }) {
  if (!['maker', 'officer', 'supervisor'].includes(actor.role)) throw forbidden('Premises video is for its maker, the district\'s officers and supervisors', '监控录像仅供本制作单位、所在辖区民警和督导人员查看');
  const q = deps.db('video_segments as s');
  if (actor.role === 'maker') q.where('s.maker_id', actor.makerId);
  else if (actor.role === 'officer') q.where('s.district_code', actor.districtCode);
  if (filter.maker_id) {
    if (!UUID.test(filter.maker_id)) throw invalidField(fieldRef('maker_id', '制作单位', 'Maker'), '应为 UUID', 'must be a UUID');
    q.where('s.maker_id', filter.maker_id);
  }
  if (filter.camera_id) q.where('s.camera_id', filter.camera_id);
  if (filter.status) {
    if (!['retained', 'purged'].includes(filter.status)) throw invalidField(fieldRef('status', '状态', 'Status'), '应为 retained 或 purged', 'must be retained or purged');
    q.where('s.status', filter.status);
  }
  const rows = await q
    .orderBy('s.recorded_start', 'desc')
    .limit(500)
    .select('s.*', deps.db.raw('(select count(*) from video_legal_holds h where h.segment_id = s.id and h.lifted_at is null)::int as active_holds'));
  return rows.map((r: SegmentRow & { active_holds: number }) => segmentView(r, { active_holds: r.active_holds }));
}

/** M8: viewing needs the maker itself, an officer of its district or a supervisor, and a stated reason; logged. */
export async function viewVideoSegment(deps: Deps, actor: Actor, id: string, reason: unknown, ctx: AccessContext) {
  const seg = await loadSegment(deps, id);
  return attempt(deps, actor, ctx, seg.id, 'view', reason, async () => {
    if (!scopeOf(actor, seg)) throw forbidden('Only the maker itself, officers of its district and supervisors may view its video', '只有本制作单位、所在辖区民警和督导人员可以查看其录像');
    parseReason(reason, fieldRef('reason', '查看事由', 'Reason for viewing'));
    if (seg.status === 'purged') throw gone();
    const { stream, size } = await openVerified(deps, seg);
    return { stream, size, contentType: seg.content_type, sha256: seg.sha256, segment: segmentView(seg) };
  });
}

/**
 * M8: video is never copied out within its retention period. Afterwards only a segment kept by a legal hold
 * exists, and an officer of the maker's district or a supervisor may export it, with a stated reason; logged.
 */
export async function exportVideoSegment(deps: Deps, actor: Actor, id: string, body: unknown, ctx: AccessContext) {
  const seg = await loadSegment(deps, id);
  const reason = (body as { reason?: unknown } | undefined)?.reason;
  return attempt(deps, actor, ctx, seg.id, 'export', reason, async () => {
    const scope = scopeOf(actor, seg);
    if (scope !== 'officer' && scope !== 'supervisor') throw forbidden('Only officers of the maker\'s district and supervisors may export video', '只有所在辖区民警和督导人员可以导出录像');
    parseReason(reason, fieldRef('reason', '导出事由', 'Reason for the export'));
    const state = await retentionState(deps, seg);
    if (state.status === 'purged') throw gone();
    if (!state.retentionOver) throw underRetention({ zh: '复制导出', en: 'copied out' }, state.retainUntil);
    if (state.holds.length === 0) throw conflict('VIDEO_PURGE_PENDING', '保存期已满且无法律保全，录像正在按期清除', 'The retention period is over and no legal hold is on: the segment is being purged');
    const { stream, size } = await openVerified(deps, seg);
    return { stream, size, contentType: seg.content_type, sha256: seg.sha256, segment: segmentView(seg, { retention: state }) };
  });
}

/**
 * M8: deletion is never a person's act. Within the retention period, or under a legal hold, it is refused;
 * afterwards the retention workflow purges the segment itself. Every attempt is refused and logged.
 */
export async function deleteVideoSegment(deps: Deps, actor: Actor, id: string, reason: unknown, ctx: AccessContext): Promise<never> {
  const seg = await loadSegment(deps, id);
  return attempt(deps, actor, ctx, seg.id, 'delete', reason, async () => {
    if (!scopeOf(actor, seg)) throw forbidden('This segment belongs to another maker or district', '该录像属于其他制作单位或辖区');
    const state = await retentionState(deps, seg);
    if (state.status === 'purged') throw gone();
    if (!state.retentionOver) throw underRetention({ zh: '删除', en: 'deleted' }, state.retainUntil);
    if (state.holds.length > 0) throw conflict('VIDEO_LEGAL_HOLD', '录像处于法律保全中，不得删除', 'The segment is under a legal hold and cannot be deleted', { holds: state.holds.length });
    throw conflict('VIDEO_PURGE_PENDING', '保存期已满，录像由保存策略自动清除，不能手工删除', 'The retention period is over; the retention policy purges the segment, it is not deleted by hand');
  });
}

// ---------- M8: legal holds ----------

function holdRole(actor: Actor, seg: SegmentRow): HoldRole {
  const scope = scopeOf(actor, seg);
  if (scope !== 'officer' && scope !== 'supervisor') throw forbidden('Only officers of the maker\'s district and supervisors place or lift legal holds', '只有所在辖区民警和督导人员可以设置或解除法律保全');
  return scope;
}

export async function placeLegalHold(deps: Deps, actor: Actor, id: string, body: unknown, ctx: AccessContext) {
  const seg = await loadSegment(deps, id);
  const reason = (body as { reason?: unknown } | undefined)?.reason;
  return attempt(deps, actor, ctx, seg.id, 'place_legal_hold', reason, async () => {
    const role = holdRole(actor, seg);
    const why = parseReason(reason, fieldRef('reason', '法律保全理由', 'Reason for the legal hold'));
    if (seg.status === 'purged') throw gone();
    const state = await update(() =>
      deps.temporal.workflow.getHandle(videoWorkflowId(seg.id)).executeUpdate(placeLegalHoldUpdate, { args: [{ holdId: randomUUID(), placedBy: actor.userId, role, reason: why }] }),
    );
    return segmentView(seg, { retention: state });
  });
}

export async function liftLegalHold(deps: Deps, actor: Actor, id: string, input: { hold_id?: unknown; reason?: unknown }, ctx: AccessContext) {
  const seg = await loadSegment(deps, id);
  return attempt(deps, actor, ctx, seg.id, 'lift_legal_hold', input.reason, async () => {
    const role = holdRole(actor, seg);
    const why = parseReason(input.reason, fieldRef('reason', '解除理由', 'Reason for lifting the hold'));
    if (seg.status === 'purged') throw gone();
    const state = await retentionState(deps, seg);
    let holdId: string;
    if (input.hold_id !== undefined && input.hold_id !== null && input.hold_id !== '') {
      holdId = String(input.hold_id);
      if (!state.holds.some((h) => h.holdId === holdId)) throw invalidField(F.holdId, '该录像片段上没有这项生效的法律保全', 'is not an active legal hold on this segment', { code: 'HOLD_NOT_FOUND', httpStatus: 404 });
    } else if (state.holds.length === 1) {
      holdId = state.holds[0]!.holdId;
    } else if (state.holds.length === 0) {
      throw conflict('NO_LEGAL_HOLD', '该录像片段上没有法律保全', 'There is no legal hold on this segment');
    } else {
      throw invalidField(F.holdId, '该录像有多项法律保全，请指明要解除哪一项', 'the segment has several legal holds; name the one to lift', { code: 'REQUIRED_FIELD' });
    }
    const hold = state.holds.find((h) => h.holdId === holdId)!;
    if (role === 'officer' && hold.role === 'supervisor') throw forbidden('A hold placed by a supervisor is lifted by a supervisor', '督导人员设置的法律保全只能由督导人员解除');
    const after = await update(() =>
      deps.temporal.workflow.getHandle(videoWorkflowId(seg.id)).executeUpdate(liftLegalHoldUpdate, { args: [{ holdId, liftedBy: actor.userId, role, reason: why }] }),
    );
    return segmentView(seg, { retention: after });
  });
}
