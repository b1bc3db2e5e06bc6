// Use-cases of premises video retention (M8; P3 scope and M6 access logging on every one): validate,
// authorise, log the attempt, then start, query or update the segment's retention workflow.
import { randomUUID } from 'node:crypto';
import { PassThrough, type Readable } from 'node:stream';
import { Zip, ZipPassThrough } from 'fflate';
import { encryptedBlobSize, personalData, type Place } from '../infra/crypto/personal-data';
import { parseName } from '../domain/application-intake';
import { conflict, DomainError, fieldRef, invalidField, requiredField, ValidationCollector, type FieldRef } from '../domain/errors';
import { BlobCorruptedError, BlobMissingError, type IncomingFile } from '../infra/blobs';
import { sniffVideoType } from '../infra/blobs/sniff';
import type { Actor } from '../domain/actor';
import { shanghaiDate, shanghaiEndOfDay, shanghaiStartOfDay } from '../domain/calendar';
import { ApiError, forbidden, notFound } from '../domain/refusals';
import { videoRetentionWorkflow } from '../workflows/retention-video';
import { liftLegalHoldUpdate, placeLegalHoldUpdate, videoRetentionQuery, type HoldRole, type VideoRetentionState } from '../workflows/retention-messages';
import type { Deps } from './deps';
import { F, iso, parseReason, update, UUID } from './retention-common';

export const videoWorkflowId = (segmentId: string) => `video:${segmentId}`;

/** P1: a segment's ciphertext is bound to the segment (moved to another row, it fails to authenticate). */
export const videoPlace = (segmentId: string): Place => ({ table: 'video_segments', column: 'blob_sha256', row: segmentId });

const CASE_REF = fieldRef('case_reference', '案件编号', 'Case reference');

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
  /** The ciphertext's hash in the store; null for a segment stored in clear before encryption. */
  blob_sha256: string | null;
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
  e: { segmentId: string | null; action: VideoAction; reason: string | null; outcome: 'allowed' | 'refused' | 'failed'; code?: string | null; caseReference?: string | null },
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
    case_reference: e.caseReference ?? null,
    client_address: ctx.clientAddress,
  });
}

/** Runs one attempt on a segment and logs it, allowed or refused (M8: every attempt is logged). */
async function attempt<T>(deps: Pick<Deps, 'db'>, actor: Actor, ctx: AccessContext, segmentId: string, action: VideoAction, reason: unknown, fn: () => Promise<T>, caseReference?: unknown): Promise<T> {
  const caseRef = typeof caseReference === 'string' && caseReference.trim() !== '' ? caseReference.trim().slice(0, 100) : null;
  let result: T;
  try {
    result = await fn();
  } catch (e) {
    const code = e instanceof ApiError || e instanceof DomainError ? e.code : 'INTERNAL';
    const failed = code === 'BLOB_CORRUPTED' || code === 'BLOB_MISSING' || code === 'INTERNAL';
    await logAccess(deps, actor, ctx, { segmentId, action, reason: statedReason(reason), outcome: failed ? 'failed' : 'refused', code, caseReference: caseRef });
    throw e;
  }
  await logAccess(deps, actor, ctx, { segmentId, action, reason: statedReason(reason), outcome: 'allowed', caseReference: caseRef });
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

/** The clear video: the stored ciphertext verified against its hash, then decrypted chunk by chunk (P1). */
async function openVerified(deps: Pick<Deps, 'blobs' | 'db' | 'hsm'>, seg: SegmentRow): Promise<{ stream: Readable; size: number }> {
  try {
    if (!seg.blob_sha256) return await deps.blobs.open(seg.sha256); // stored in clear before encryption
    const { stream } = await deps.blobs.open(seg.blob_sha256);
    return { stream: await personalData(deps).decryptStream(stream, videoPlace(seg.id)), size: Number(seg.size) };
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
  // P1: the video is encrypted on its way in, bound to this segment, so only ciphertext reaches the store
  // (its own hash, different for every upload: no other segment or material shares it).
  const id = randomUUID();
  let blobSha: string | null = null;
  if (!outcome) blobSha = (await deps.blobs.put(await personalData(deps).encryptStream(file!.open(), videoPlace(id)), { maxBytes: encryptedBlobSize(maxVideoBytes()) })).sha256;
  outcome ??= await deps.db.transaction(async (trx) => {
    // One camera's segments are checked again and written one at a time.
    await trx.raw('select pg_advisory_xact_lock(hashtext(?))', [`video:${maker.id}:${cameraId}`]);
    const again = await clash(trx as unknown as typeof deps.db);
    if (again) return again;
    await trx('blobs').insert({ sha256: blobSha, content_type: 'application/octet-stream', size: encryptedBlobSize(file!.size) }).onConflict('sha256').merge({ erased_at: null });
    await trx('video_segments').insert({
      id,
      blob_sha256: blobSha,
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
  // Lost to a concurrent upload of the same or an overlapping segment: its ciphertext is referenced by nothing.
  if (blobSha && outcome.kind !== 'created') await deps.blobs.delete(blobSha);
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

/** Police of the maker's district (officers) and supervisors; the maker sees its video's metadata only (M8). */
function policeScope(actor: Actor, seg: SegmentRow, what: { zh: string; en: string }): 'officer' | 'supervisor' {
  const scope = scopeOf(actor, seg);
  if (scope === 'officer' || scope === 'supervisor') return scope;
  if (scope === 'maker') throw forbidden(`A maker sees the metadata of its video only (camera, times, size, hash); only the police of its district ${what.en} the video (M8)`, `制作单位只能看到本单位录像的元数据（摄像机、时段、大小、哈希）；录像内容仅由所在辖区公安机关${what.zh}（M8）`);
  throw forbidden(`Only officers of the maker's district and supervisors ${what.en} its video`, `只有所在辖区民警和督导人员可以${what.zh}该录像`);
}

/** M8: the police of the maker's district (and supervisors) view in the browser, with a stated reason; every view is logged. */
export async function viewVideoSegment(deps: Deps, actor: Actor, id: string, reason: unknown, ctx: AccessContext) {
  const seg = await loadSegment(deps, id);
  return attempt(deps, actor, ctx, seg.id, 'view', reason, async () => {
    policeScope(actor, seg, { zh: '查看', en: 'view' });
    parseReason(reason, fieldRef('reason', '查看事由', 'Reason for viewing'));
    if (seg.status === 'purged') throw gone();
    const { stream, size } = await openVerified(deps, seg);
    return { stream, size, contentType: seg.content_type, sha256: seg.sha256, segment: segmentView(seg) };
  });
}

/** A police case reference (案件编号): letters, digits, CJK and a few separators, at most 100 characters. */
export function parseCaseReference(value: unknown): string {
  if (value === undefined || value === null || (typeof value === 'string' && value.trim() === '')) throw requiredField(CASE_REF);
  if (typeof value !== 'string') throw invalidField(CASE_REF, '应为文本', 'must be text');
  const v = value.trim();
  if (v.length > 100) throw invalidField(CASE_REF, '最多 100 个字符', 'at most 100 characters');
  if (!/^[\p{L}\p{N}][\p{L}\p{N}()（）〔〕[\]【】 .:/_#-]*$/u.test(v)) throw invalidField(CASE_REF, '只能含文字、数字、空格和 ( ) 〔 〕 [ ] . : / _ # -', 'only letters, digits, spaces and ( ) 〔 〕 [ ] . : / _ # -');
  return v;
}

/** The watermark an export carries: who exported what, when, for which case. */
export interface ExportWatermark {
  exported_by: { user_id: string; username: string; display_name: string; role: string; district_code: string | null };
  exported_at: string;
  case_reference: string;
  reason: string | null;
  segment: { id: string; maker_id: string; district_code: string; camera_id: string; recorded_start: string | null; recorded_end: string | null; sha256: string; size: number; content_type: string; retain_until: string | null };
  file: string;
}

const EXTENSIONS: Record<string, string> = { 'video/mp4': 'mp4', 'video/quicktime': 'mov', 'video/x-matroska': 'mkv', 'video/webm': 'webm', 'video/mp2t': 'ts', 'video/x-msvideo': 'avi' };

/**
 * The export as a ZIP: the video byte for byte as recorded (its SHA-256 is the one registered at upload, so an
 * investigator can prove it unaltered), `export-manifest.json` with the watermark, and the watermark again as
 * the video entry's comment (shown by `unzip -l -v`/`zipinfo`). Stored, not compressed: video does not compress.
 */
function exportZip(video: Readable, watermark: ExportWatermark): Readable {
  const out = new PassThrough();
  const zip = new Zip((err, chunk, final) => {
    if (err) {
      out.destroy(err);
      return;
    }
    out.write(Buffer.from(chunk));
    if (final) out.end();
  });
  const mtime = new Date(watermark.exported_at);
  const manifest = new ZipPassThrough('export-manifest.json');
  manifest.mtime = mtime;
  zip.add(manifest);
  manifest.push(Buffer.from(`${JSON.stringify(watermark, null, 2)}\n`, 'utf8'), true);
  const entry = new ZipPassThrough(watermark.file);
  entry.mtime = mtime;
  entry.comment = `Exported by ${watermark.exported_by.display_name} (${watermark.exported_by.username}, ${watermark.exported_by.role}${watermark.exported_by.district_code ? ` ${watermark.exported_by.district_code}` : ''}) at ${watermark.exported_at} for case ${watermark.case_reference}; SHA-256 ${watermark.segment.sha256}`;
  zip.add(entry);
  (async () => {
    let pending: Buffer | null = null; // one piece held back: the last one is pushed as final
    for await (const c of video) {
      if (pending) entry.push(pending);
      pending = Buffer.isBuffer(c) ? c : Buffer.from(c as Uint8Array);
      // Back-pressure: wait while the reader is behind; a reader gone (client disconnected) ends the export.
      if (out.writableNeedDrain) await new Promise((r) => { out.once('drain', r); out.once('close', r); });
      if (out.destroyed) {
        video.destroy();
        return;
      }
    }
    entry.push(pending ?? new Uint8Array(0), true);
    zip.end();
  })().catch((e: Error) => out.destroy(e));
  return out;
}

/**
 * M8: the police of the maker's district (and supervisors) export a segment within its 90 days, naming the case
 * it is for; afterwards only a segment kept by a legal hold still exists to export. Logged, and watermarked with
 * who/when/case in the exported file.
 */
export async function exportVideoSegment(deps: Deps, actor: Actor, id: string, body: unknown, ctx: AccessContext) {
  const seg = await loadSegment(deps, id);
  const b = (body ?? {}) as { reason?: unknown; case_reference?: unknown };
  return attempt(
    deps,
    actor,
    ctx,
    seg.id,
    'export',
    b.reason,
    async () => {
      policeScope(actor, seg, { zh: '导出', en: 'export' });
      const caseReference = parseCaseReference(b.case_reference);
      const reason = b.reason === undefined || b.reason === null || b.reason === '' ? null : parseReason(b.reason, fieldRef('reason', '导出事由', 'Reason for the export'));
      const state = await retentionState(deps, seg);
      if (state.status === 'purged') throw gone();
      if (state.retentionOver && state.holds.length === 0) throw conflict('VIDEO_PURGE_PENDING', '保存期已满且无法律保全，录像正在按期清除', 'The retention period is over and no legal hold is on: the segment is being purged');
      const user = await deps.db('users').where({ id: actor.userId }).first('username', 'display_name');
      const view = segmentView(seg, { retention: state });
      const file = `video-${seg.id}.${EXTENSIONS[seg.content_type] ?? 'bin'}`;
      const watermark: ExportWatermark = {
        exported_by: { user_id: actor.userId, username: user?.username ?? '', display_name: user?.display_name ?? '', role: actor.role, district_code: actor.districtCode ?? null },
        exported_at: new Date().toISOString(),
        case_reference: caseReference,
        reason,
        segment: { id: seg.id, maker_id: seg.maker_id, district_code: seg.district_code, camera_id: seg.camera_id, recorded_start: view.recorded_start, recorded_end: view.recorded_end, sha256: seg.sha256, size: Number(seg.size), content_type: seg.content_type, retain_until: view.retain_until },
        file,
      };
      const { stream } = await openVerified(deps, seg);
      return { stream: exportZip(stream, watermark), contentType: 'application/zip', sha256: seg.sha256, filename: `video-export-${seg.id}.zip`, watermark, segment: view };
    },
    b.case_reference,
  );
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

// ---------- M8: coverage (which cameras recorded, which days have no video) ----------

const COVERAGE_DAYS = 90;

/**
 * M8 oversight: every maker (of the officer's district; all for a supervisor) with its cameras and, for each, the
 * days of the last 90 full days (Beijing dates, yesterday back) when no segment of that camera covers any part of
 * the day. A maker that never uploaded has no cameras and every day missing. Cameras are those that ever
 * uploaded (the platform knows no other list of them).
 */
export async function videoCoverage(deps: Pick<Deps, 'db'>, actor: Actor, now = new Date()) {
  if (actor.role !== 'supervisor' && actor.role !== 'officer') throw forbidden('Video coverage is for supervisors and the district\'s officers', '录像覆盖情况仅供督导人员和辖区民警查看');
  const last = shanghaiDate(new Date(now.getTime() - 24 * 3600_000));
  const days: string[] = [];
  for (let i = COVERAGE_DAYS - 1; i >= 0; i--) days.push(shanghaiDate(new Date(shanghaiStartOfDay(last).getTime() - i * 24 * 3600_000 + 12 * 3600_000)));
  const from = shanghaiStartOfDay(days[0]!);
  const until = shanghaiEndOfDay(last);
  const makersQ = deps.db('makers').orderBy('name').select('id', 'name', 'district_code');
  if (actor.role === 'officer') makersQ.where({ district_code: actor.districtCode });
  const makers: Array<{ id: string; name: string; district_code: string }> = await makersQ;
  // The Beijing dates each camera's segments touch within the window, computed in PostgreSQL.
  const covered: Array<{ maker_id: string; camera_id: string; day: string | null }> = makers.length
    ? (
        await deps.db.raw(
          `select c.maker_id, c.camera_id, to_char(d.day, 'YYYY-MM-DD') as day
             from (select distinct maker_id, camera_id from video_segments where maker_id = any(?)) c
             left join lateral (
               select distinct g.day::date as day
                 from video_segments s
                 cross join lateral generate_series((greatest(s.recorded_start, ?::timestamptz) at time zone 'Asia/Shanghai')::date,
                                                    ((least(s.recorded_end, ?::timestamptz) - interval '1 microsecond') at time zone 'Asia/Shanghai')::date, interval '1 day') g(day)
                where s.maker_id = c.maker_id and s.camera_id = c.camera_id and s.recorded_end > ? and s.recorded_start < ?
             ) d on true`,
          [makers.map((m) => m.id), from, until, from, until],
        )
      ).rows
    : [];
  const byCamera = new Map<string, { maker_id: string; camera_id: string; days: Set<string> }>();
  for (const r of covered) {
    const key = `${r.maker_id}\u0000${r.camera_id}`;
    const cam = byCamera.get(key) ?? { maker_id: r.maker_id, camera_id: r.camera_id, days: new Set<string>() };
    if (r.day) cam.days.add(r.day);
    byCamera.set(key, cam);
  }
  return {
    window: { from: days[0]!, until: last, days: COVERAGE_DAYS },
    makers: makers.map((m) => {
      const cameras = [...byCamera.values()].filter((c) => c.maker_id === m.id).sort((a, b) => a.camera_id.localeCompare(b.camera_id));
      return {
        maker_id: m.id,
        maker_name: m.name,
        district_code: m.district_code,
        cameras: cameras.map((c) => {
          const missing = days.filter((d) => !c.days.has(d));
          return { camera_id: c.camera_id, days_with_video: COVERAGE_DAYS - missing.length, days_without_video: missing };
        }),
        /** Days on which none of the maker's cameras recorded anything. */
        days_without_any_video: days.filter((d) => !cameras.some((c) => c.days.has(d))),
      };
    }),
  };
}
