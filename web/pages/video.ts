// Premises surveillance video (M8) in the browser. Makers upload segments (camera, start, end, file; the
// upload is streamed to the store as through the API) and see each segment's retention state; officers of
// the maker's district and supervisors see the segments and the legal holds, and place or lift a hold with
// a reason. Everything goes through usecases/retention-video.ts, which logs every attempt.
import { Router, type Request, type Response } from 'express';
import type { Deps } from '../../usecases/deps';
import * as retention from '../../usecases/retention-video';
import { legalHoldList, videoSegmentDetail } from '../../usecases/web-queries';
import { readVideoUpload, send } from '../routes/retention';
import { ApiError } from '../errors';
import { flash, formBody, refusalOf, type Refusal } from './forms';
import { page } from './guards';
import { countdown, districtName, formatBytes, formatTime } from './labels';
import { sendCsv } from './csv';
import { renderPage } from './render';
import { csrfMatches, type Lang } from './session';

const ctx = (req: Request): retention.AccessContext => ({ clientAddress: req.ip ?? null });
const STATUS: Record<string, [string, string, string]> = {
  retained: ['保存期内', 'Within retention', 'info'],
  held: ['法律保全中', 'Under legal hold', 'warn'],
  purge_pending: ['保存期满，待清除', 'Retention over, to be purged', 'off'],
  purged: ['已清除（保留记录）', 'Purged (tombstone kept)', 'off'],
};
const ACTIONS: Record<string, [string, string]> = {
  upload: ['上传', 'upload'], view: ['查看', 'view'], export: ['导出', 'export'], delete: ['删除', 'delete'], alter: ['修改', 'alter'],
  place_legal_hold: ['设置法律保全', 'place legal hold'], lift_legal_hold: ['解除法律保全', 'lift legal hold'],
};
const OUTCOMES: Record<string, [string, string]> = { allowed: ['允许', 'allowed'], refused: ['拒绝', 'refused'], failed: ['失败', 'failed'] };
const statusChip = (s: string, lang: Lang) => ({ label: STATUS[s]?.[lang === 'zh' ? 0 : 1] ?? s, tone: STATUS[s]?.[2] ?? 'info' });

/** A `datetime-local` value is Beijing time; an instant with its offset is kept as it is. */
export function beijingInstant(v: string | undefined): string | undefined {
  if (!v) return v;
  const t = v.trim();
  return /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/.test(t) ? `${t.length === 16 ? `${t}:00` : t}+08:00` : t;
}

/** A stream-read upload form: its CSRF token is checked before the file is stored (the temporary copy is discarded). */
const videoForm = (deps: Deps) => Object.assign(
  async (req: Request, _res: Response, next: (e?: unknown) => void) => {
    try {
      const upload = await readVideoUpload(req, deps);
      if (!csrfMatches(req, upload.fields._csrf)) {
        await upload.file?.discard();
        return next(new ApiError(403, 'csrf', '表单已过期或来源不明，请刷新页面后重试', 'The form has expired or did not come from this site; reload the page and try again'));
      }
      (req as Request & { videoUpload?: retention.VideoUpload }).videoUpload = upload;
      next();
    } catch (e) {
      next(e);
    }
  },
  { csrf: true as const },
);

export function videoPages(deps: Deps): Router {
  const r = Router();

  async function showList(req: Request, res: Response, refusal: Refusal | null = null, values: Record<string, string> = {}) {
    const lang: Lang = req.lang ?? 'zh';
    const L = (zh: string, en: string) => (lang === 'zh' ? zh : en);
    const actor = req.actor!;
    const status = req.query.status === 'retained' || req.query.status === 'purged' ? req.query.status : undefined;
    const segments = await retention.listVideoSegments(deps, actor, { status, camera_id: typeof req.query.camera === 'string' && req.query.camera ? req.query.camera : undefined });
    const police = actor.role === 'officer' || actor.role === 'supervisor';
    const holds: Array<Record<string, any>> = police ? await legalHoldList(deps.db, actor, { active: true, limit: 100 }) : [];
    const now = new Date();
    renderPage(
      req,
      res,
      'video',
      {
        title: L('场所监控录像', 'Premises surveillance video'),
        isMaker: actor.role === 'maker',
        police,
        T: {
          intro: L('制作场所的监控录像至少保存 90 天，保存期内不得删除或修改；制作单位只见元数据，所在辖区公安机关可查看，并凭案件编号导出；每次访问都有记录（M8）。', 'Premises surveillance video is kept at least 90 days and cannot be deleted or altered meanwhile; the maker sees its metadata only, the police of the district view it and export it for a case; every access is logged (M8).'),
          coverage: L('录像覆盖情况（无录像日期）', 'Video coverage (days without video)'),
          upload: L('上传录像片段', 'Upload a video segment'), camera: L('摄像机编号', 'Camera ID'), start: L('录像开始（北京时间）', 'Recording start (Beijing time)'), end: L('录像结束（北京时间）', 'Recording end (Beijing time)'),
          file: L('录像文件', 'Video file'), fileHint: L('MP4、MOV、MKV/WebM、MPEG-TS 或 AVI，按内容识别', 'MP4, MOV, MKV/WebM, MPEG-TS or AVI, judged by content'),
          sha: L('内容哈希 SHA-256（可选）', 'Content hash SHA-256 (optional)'), shaHint: L('填写后与收到的内容核对；不填则以服务器收到内容的哈希为准', 'Checked against the content received; left empty, the hash of what the server received is recorded'),
          chooseAgain: L('请重新选择文件', 'Choose the file again'), submit: L('上传', 'Upload'),
          segments: L('录像片段', 'Segments'), all: L('全部', 'All'), retainedF: L('保存中', 'Kept'), purgedF: L('已清除', 'Purged'),
          recorded: L('录像时段', 'Recorded'), maker: L('制作单位', 'Maker'), size: L('大小', 'Size'), state: L('保存状态', 'Retention'), until: L('保存至', 'Kept until'), holdsN: L('法律保全', 'Legal holds'),
          open: L('详情', 'Details'), none: L('还没有录像片段。', 'No segments yet.'),
          holds: L('生效中的法律保全', 'Active legal holds'), holdsCsv: L('全部保全记录 CSV', 'All holds (CSV)'), placedBy: L('设置人', 'Placed by'), reason: L('理由', 'Reason'), since: L('设置时间', 'Since'), noHolds: L('没有生效中的法律保全。', 'No active legal holds.'),
        },
        filters: [
          { label: L('全部', 'All'), href: '/video', current: !status },
          { label: L('保存中', 'Kept'), href: '/video?status=retained', current: status === 'retained' },
          { label: L('已清除', 'Purged'), href: '/video?status=purged', current: status === 'purged' },
        ],
        segments: segments.map((s) => ({
          href: `/video/${s.id}`,
          camera: s.camera_id,
          recorded: `${formatTime(s.recorded_start)} – ${formatTime(s.recorded_end).slice(11)}`,
          size: formatBytes(s.size),
          status: statusChip(s.status, lang),
          until: formatTime(s.retain_until),
          countdown: s.retain_until && s.status === 'retained' ? countdown(s.retain_until, lang, now) : null,
          holds: s.active_holds,
        })),
        holds: holds.map((h) => ({
          href: `/video/${h.segment_id}`,
          camera: h.camera_id,
          maker: h.maker_name,
          recorded: formatTime(h.recorded_start),
          placedBy: `${h.placed_by_name ?? ''} (${h.placed_role === 'supervisor' ? L('督导', 'supervisor') : L('民警', 'officer')})`,
          reason: h.reason,
          since: formatTime(h.placed_at),
        })),
        errors: refusal?.fields,
        alert: refusal?.alert,
        values,
      },
      refusal?.status ?? 200,
    );
  }

  r.get('/video', page('maker', 'officer', 'supervisor'), (req, res) => showList(req, res));

  r.post('/video', page('maker'), videoForm(deps), async (req, res) => {
    const upload = (req as Request & { videoUpload: retention.VideoUpload }).videoUpload;
    const f = upload.fields;
    const values = { camera_id: f.camera_id ?? '', recorded_start: f.recorded_start ?? '', recorded_end: f.recorded_end ?? '', sha256: f.sha256 ?? '' };
    // The page's form: Beijing local times, and the received content's own hash when none was typed.
    const fields = { ...f, recorded_start: beijingInstant(f.recorded_start) ?? '', recorded_end: beijingInstant(f.recorded_end) ?? '', sha256: f.sha256?.trim() || upload.file?.sha256 || '' };
    try {
      const out = await retention.uploadVideoSegment(deps, req.actor!, { fields, file: upload.file }, ctx(req));
      flash(req, res, out.created ? 'videoUploaded' : 'videoExisting');
      res.redirect(303, `/video/${out.segment.id}`);
    } catch (e) {
      const refusal = refusalOf(e);
      if (!refusal) throw e;
      await showList(req, res, refusal, values);
    }
  });

  /** `liftOf`: the hold whose lift was refused (its form shows the message and keeps the reason typed). */
  async function showSegment(req: Request, res: Response, refusal: Refusal | null = null, values: Record<string, string> = {}, liftOf?: string) {
    // The export and watch forms keep their own messages (their fields are not the hold form's).
    const isExport = liftOf === 'export';
    const isWatch = liftOf === 'watch';
    if (isExport || isWatch) liftOf = undefined;
    const lang: Lang = req.lang ?? 'zh';
    const L = (zh: string, en: string) => (lang === 'zh' ? zh : en);
    const actor = req.actor!;
    const { segment: s, holds, accessLog } = await videoSegmentDetail(deps.db, actor, String(req.params.id));
    const active = holds.filter((h) => !h.lifted_at);
    const state = s.status === 'purged' ? 'purged' : active.length ? 'held' : s.retain_until && new Date(s.retain_until) <= new Date() ? 'purge_pending' : 'retained';
    const police = actor.role === 'officer' || actor.role === 'supervisor';
    const role = (r: string | null) => (r === 'supervisor' ? L('督导', 'supervisor') : r === 'officer' ? L('民警', 'officer') : '');
    renderPage(
      req,
      res,
      'video-segment',
      {
        title: `${L('录像片段', 'Video segment')} · ${s.camera_id}`,
        T: {
          back: L('场所监控录像', 'Premises video'), camera: L('摄像机', 'Camera'), maker: L('制作单位', 'Maker'), recorded: L('录像时段', 'Recorded'), file: L('文件', 'File'), sha: 'SHA-256',
          stored: L('保存时间', 'Stored'), until: L('保存至', 'Kept until'), state: L('保存状态', 'Retention'), purged: L('清除时间', 'Purged'),
          holds: L('法律保全', 'Legal holds'), placedBy: L('设置', 'Placed'), reason: L('理由', 'Reason'), lifted: L('解除', 'Lifted'), liftedChip: L('已解除', 'lifted'), active: L('生效中', 'active'), colon: L('：', ': '), noHolds: L('没有法律保全。', 'No legal holds.'),
          place: L('设置法律保全', 'Place a legal hold'), placeReason: L('保全理由', 'Reason for the hold'), placeBtn: L('设置保全', 'Place hold'),
          lift: L('解除', 'Lift'), liftReason: L('解除理由', 'Reason for lifting'),
          log: L('访问记录（最近 50 条）', 'Access log (latest 50)'), at: L('时间', 'Time'), who: L('人员', 'Person'), action: L('操作', 'Action'), outcome: L('结果', 'Outcome'), why: L('事由', 'Reason'), address: L('来源地址', 'Address'),
          liftNote: L('解除最后一项保全后，保存期已满的录像会立即清除。', 'When the last hold is lifted after the retention period, the segment is purged at once.'),
          police: L('公安查看与导出', 'Police viewing and export'),
          makerNote: L('制作单位只能看到录像的元数据；录像内容仅由所在辖区公安机关在浏览器中查看或凭案件编号导出（M8）。', 'A maker sees its video\'s metadata only; the police of its district view it in the browser or export it for a case (M8).'),
          watchReason: L('查看事由', 'Reason for viewing'), watch: L('在浏览器中查看', 'View in the browser'),
          caseRef: L('案件编号', 'Case reference'), exportReason: L('导出事由（可选）', 'Reason for the export (optional)'), exportBtn: L('导出（ZIP，含水印）', 'Export (ZIP, watermarked)'),
          exportNote: L('导出文件为 ZIP：录像原样（SHA-256 与上传时一致），附导出人、时间、案件编号的水印清单；每次导出均记录。', 'The export is a ZIP: the video unaltered (same SHA-256 as uploaded) with a manifest watermarked with who, when and the case; every export is logged.'),
          caseRefCol: L('案件编号', 'Case'),
        },
        canWatch: police && s.status !== 'purged',
        isMaker: actor.role === 'maker',
        s: {
          id: s.id,
          camera: s.camera_id,
          maker: s.maker_name,
          recorded: `${formatTime(s.recorded_start)} – ${formatTime(s.recorded_end)}`,
          file: `${s.original_name} · ${formatBytes(Number(s.size))} · ${s.content_type}`,
          sha256: s.sha256,
          stored: formatTime(s.stored_at),
          until: formatTime(s.retain_until),
          countdown: s.retain_until && state === 'retained' ? countdown(s.retain_until, lang) : null,
          status: statusChip(state, lang),
          purged: formatTime(s.purged_at),
          purged_: s.status === 'purged',
        },
        holds: holds.map((h) => ({
          id: h.id,
          active: !h.lifted_at,
          placed: `${formatTime(h.placed_at)} · ${h.placed_by_name ?? ''} (${role(h.placed_role)})`,
          reason: h.reason,
          lifted: h.lifted_at ? `${formatTime(h.lifted_at)} · ${h.lifted_by_name ?? ''} (${role(h.lifted_role)})` : null,
          liftReason: h.lift_reason,
          canLift: police && !h.lifted_at && !(actor.role === 'officer' && h.placed_role === 'supervisor'),
          liftError: liftOf === h.id ? (refusal?.fields.reason?.[lang] ?? refusal?.alert?.[lang] ?? '') : '',
          liftValue: liftOf === h.id ? (values.reason ?? '') : '',
        })),
        canPlace: police && s.status !== 'purged',
        accessLog: accessLog?.map((a: Record<string, any>) => ({
          at: formatTime(a.at),
          who: `${a.display_name ?? ''} (${a.username ?? ''})`,
          action: ACTIONS[a.action]?.[lang === 'zh' ? 0 : 1] ?? a.action,
          outcome: { label: OUTCOMES[a.outcome]?.[lang === 'zh' ? 0 : 1] ?? a.outcome, tone: a.outcome === 'allowed' ? 'ok' : 'bad' },
          code: a.code ?? '',
          reason: [a.case_reference ? `${L('案件', 'Case')} ${a.case_reference}` : '', a.reason ?? ''].filter(Boolean).join(' · '),
          address: a.client_address ?? '',
        })),
        errors: liftOf || isExport || isWatch ? undefined : refusal?.fields,
        watchError: isWatch ? (refusal?.fields.reason?.[lang] ?? '') : '',
        exportErrors: isExport ? { case_reference: refusal?.fields.case_reference?.[lang] ?? '', export_reason: refusal?.fields.export_reason?.[lang] ?? '' } : {},
        exportValues: isExport ? values : {},
        alert: refusal?.alert,
        values: liftOf || isExport || isWatch ? {} : values,
      },
      refusal?.status ?? 200,
    );
  }

  // The tables as CSV (registered before '/video/:id').
  r.get('/video.csv', page('maker', 'officer', 'supervisor'), async (req, res) => {
    const zh = (req.lang ?? 'zh') === 'zh';
    const rows = await retention.listVideoSegments(deps, req.actor!, {});
    sendCsv(
      res,
      'video-segments',
      zh ? ['录像片段编号', '制作单位编号', '辖区', '摄像机', '录像开始', '录像结束', '字节数', 'SHA-256', '保存状态', '保存至', '生效中的法律保全'] : ['Segment', 'Maker ID', 'District', 'Camera', 'Start', 'End', 'Bytes', 'SHA-256', 'Retention', 'Kept until', 'Active holds'],
      rows.map((x) => [x.id, x.maker_id, districtName(x.district_code, zh ? 'zh' : 'en'), x.camera_id, formatTime(x.recorded_start), formatTime(x.recorded_end), x.size, x.sha256, statusChip(x.status, zh ? 'zh' : 'en').label, formatTime(x.retain_until), x.active_holds]),
    );
  });
  r.get('/video/holds.csv', page('officer', 'supervisor'), async (req, res) => {
    const zh = (req.lang ?? 'zh') === 'zh';
    const holds = await legalHoldList(deps.db, req.actor!, { limit: 100_000 });
    sendCsv(
      res,
      'legal-holds',
      zh ? ['录像片段编号', '制作单位', '摄像机', '录像开始', '设置人', '设置人角色', '理由', '设置时间', '解除人', '解除理由', '解除时间'] : ['Segment', 'Maker', 'Camera', 'Recording start', 'Placed by', 'Role', 'Reason', 'Placed', 'Lifted by', 'Lift reason', 'Lifted'],
      holds.map((h: Record<string, any>) => [h.segment_id, h.maker_name, h.camera_id, formatTime(h.recorded_start), h.placed_by_name, h.placed_role, h.reason, formatTime(h.placed_at), h.lifted_by_name, h.lift_reason, formatTime(h.lifted_at)]),
    );
  });

  // M8 oversight: each maker's cameras and the days without video (registered before '/video/:id').
  r.get('/video/coverage', page('officer', 'supervisor'), async (req, res) => {
    const lang: Lang = req.lang ?? 'zh';
    const L = (zh: string, en: string) => (lang === 'zh' ? zh : en);
    const c = await retention.videoCoverage(deps, req.actor!);
    renderPage(req, res, 'video-coverage', {
      title: L('录像覆盖情况', 'Video coverage'),
      T: {
        back: L('场所监控录像', 'Premises video'),
        intro: L(`${c.window.from} 至 ${c.window.until}（北京时间，共 ${c.window.days} 天）每家制作单位的摄像机，以及没有录像的日期。`, `Each maker's cameras from ${c.window.from} to ${c.window.until} (Beijing dates, ${c.window.days} days), and the days without video.`),
        maker: L('制作单位', 'Maker'), district: L('辖区', 'District'), camera: L('摄像机', 'Camera'), withVideo: L('有录像天数', 'Days with video'), missing: L('无录像日期', 'Days without video'),
        noCamera: L('从未上传录像', 'No video ever uploaded'), none: L('无', 'none'), json: 'JSON',
      },
      makers: c.makers.map((m) => ({
        name: m.maker_name,
        district: districtName(m.district_code, lang),
        noCamera: m.cameras.length === 0,
        cameras: m.cameras.map((x) => ({ camera: x.camera_id, withVideo: `${x.days_with_video} / ${c.window.days}`, missingCount: x.days_without_video.length, missing: x.days_without_video.join(', ') })),
      })),
    });
  });

  r.get('/video/:id', page('maker', 'officer', 'supervisor'), (req, res) => showSegment(req, res));

  // M8: the police view in the browser; each request for the video is a view in the access log.
  r.get('/video/:id/watch', page('officer', 'supervisor'), async (req, res) => {
    const lang: Lang = req.lang ?? 'zh';
    const L = (zh: string, en: string) => (lang === 'zh' ? zh : en);
    const reason = typeof req.query.reason === 'string' ? req.query.reason.trim() : '';
    if (!reason) return showSegment(req, res, { status: 400, fields: { reason: { zh: '查看事由：必填', en: 'Reason for viewing: required' } }, alert: { zh: '请填写查看事由', en: 'State why you view the video' } }, {}, 'watch');
    const { segment: s } = await videoSegmentDetail(deps.db, req.actor!, String(req.params.id));
    renderPage(req, res, 'video-watch', {
      title: `${L('查看录像', 'Viewing video')} · ${s.camera_id}`,
      T: { back: L('录像片段', 'Video segment'), note: L('本次查看及其事由已记入访问记录。', 'This viewing and its reason are recorded in the access log.'), reason: L('查看事由', 'Reason') },
      id: s.id,
      reason,
      src: `/video/${s.id}/stream?reason=${encodeURIComponent(reason)}`,
    });
  });
  r.get('/video/:id/stream', page('officer', 'supervisor'), async (req, res) => {
    const v = await retention.viewVideoSegment(deps, req.actor!, String(req.params.id), req.query.reason, ctx(req));
    send(res, v, 'inline');
  });

  r.post('/video/:id/export', page('officer', 'supervisor'), formBody(), async (req, res) => {
    const f = req.form!.fields;
    try {
      const v = await retention.exportVideoSegment(deps, req.actor!, String(req.params.id), { case_reference: f.case_reference ?? '', reason: f.export_reason ?? '' }, ctx(req));
      send(res, v, `attachment; filename="${v.filename}"`);
    } catch (e) {
      const refusal = refusalOf(e, { reason: 'export_reason' });
      if (!refusal) throw e;
      await showSegment(req, res, refusal, { case_reference: f.case_reference ?? '', export_reason: f.export_reason ?? '' }, 'export');
    }
  });

  r.post('/video/:id/holds', page('officer', 'supervisor'), formBody(), async (req, res) => {
    const reason = req.form!.fields.reason ?? '';
    try {
      await retention.placeLegalHold(deps, req.actor!, String(req.params.id), { reason }, ctx(req));
      flash(req, res, 'holdPlaced');
      res.redirect(303, `/video/${req.params.id}`);
    } catch (e) {
      const refusal = refusalOf(e);
      if (!refusal) throw e;
      await showSegment(req, res, refusal, { reason });
    }
  });

  r.post('/video/:id/holds/lift', page('officer', 'supervisor'), formBody(), async (req, res) => {
    const f = req.form!.fields;
    try {
      await retention.liftLegalHold(deps, req.actor!, String(req.params.id), { hold_id: f.hold_id, reason: f.reason ?? '' }, ctx(req));
      flash(req, res, 'holdLifted');
      res.redirect(303, `/video/${req.params.id}`);
    } catch (e) {
      const refusal = refusalOf(e);
      if (!refusal) throw e;
      await showSegment(req, res, refusal, { reason: f.reason ?? '' }, f.hold_id);
    }
  });
  return r;
}
