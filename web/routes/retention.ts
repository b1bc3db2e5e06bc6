// JSON API of retention: premises surveillance video (M8) and seal archives (M7). Thin: parse, call a
// use-case, answer. Video uploads are streamed to the store, never held in memory.
import { Router, type Request, type Response } from 'express';
import type { Readable } from 'node:stream';
import type { Deps } from '../../usecases/deps';
import * as uc from '../../usecases/retention-video';
import * as archives from '../../usecases/retention-archives';
import path from 'node:path';
import type { StagedFile } from '../../infra/blobs';
import { processTempDir } from '../../infra/blobs/tempdir';
import { requireRole } from '../auth';
import { readUpload } from '../upload';

const ctx = (req: Request): uc.AccessContext => ({ clientAddress: req.ip ?? null });
const query = (req: Request, name: string): string | undefined => (typeof req.query[name] === 'string' ? (req.query[name] as string) : undefined);

export interface StagedVideoUpload extends uc.VideoUpload {
  file: StagedFile | null;
}

/**
 * Reads the multipart form: text fields and one file (field `file`), streamed while hashed to this process's
 * staging folder under DATA_DIR (segments reach gigabytes: not TMPDIR, which may be memory); the use-case
 * puts it into the configured store. The staged copy is removed when the response is finished, whatever happened.
 */
export async function readVideoUpload(req: Request, deps: Pick<Deps, 'config'>): Promise<StagedVideoUpload> {
  return readUpload(req, {
    maxBytes: uc.maxVideoBytes(),
    dir: processTempDir(path.join(deps.config.runtime.dataDir, 'staging', 'video')),
    fileField: 'file',
  });
}

export function send(res: Response, v: { stream: Readable; size?: number; contentType: string; sha256: string }, disposition: string) {
  res.status(200).set('content-type', v.contentType);
  // An export's ZIP is made as it streams: its length is not known in advance.
  if (v.size !== undefined) res.set('content-length', String(v.size));
  res
    .set('content-disposition', disposition)
    .set('x-content-sha256', v.sha256)
    .set('x-content-type-options', 'nosniff')
    .set('cache-control', 'no-store');
  v.stream.on('error', (e) => res.destroy(e));
  v.stream.pipe(res);
}

export function retentionRoutes(deps: Deps): Router {
  const r = Router();
  const videoReaders = requireRole('maker', 'officer', 'supervisor');
  // Every attempt on a segment is logged (M8), so every logged-in role reaches the use-case, which decides.
  const anyone = requireRole('maker', 'officer', 'supervisor', 'holder', 'admin');
  const police = requireRole('officer', 'supervisor');

  // multipart: camera_id, recorded_start, recorded_end, sha256, and the file `file`
  r.post('/api/video-segments', requireRole('maker'), async (req, res) => {
    const upload = await readVideoUpload(req, deps);
    const out = await uc.uploadVideoSegment(deps, req.actor!, upload, ctx(req));
    res.status(out.created ? 201 : 200).json(out.segment);
  });
  r.get('/api/video-segments', videoReaders, async (req, res) => {
    res.json(await uc.listVideoSegments(deps, req.actor!, { camera_id: query(req, 'camera_id'), status: query(req, 'status'), maker_id: query(req, 'maker_id') }));
  });
  r.get('/api/video-segments/:id', anyone, async (req, res) => {
    const v = await uc.viewVideoSegment(deps, req.actor!, String(req.params.id), req.query.reason, ctx(req));
    send(res, v, 'inline');
  });
  r.post('/api/video-segments/:id/export', anyone, async (req, res) => {
    const v = await uc.exportVideoSegment(deps, req.actor!, String(req.params.id), req.body, ctx(req));
    // X-Content-SHA256: the video's own hash inside the ZIP (the ZIP itself differs with each watermark).
    send(res, v, `attachment; filename="${v.filename}"`);
  });
  r.delete('/api/video-segments/:id', anyone, async (req) => {
    await uc.deleteVideoSegment(deps, req.actor!, String(req.params.id), (req.body as { reason?: unknown } | undefined)?.reason ?? req.query.reason, ctx(req));
  });
  r.get('/api/video-coverage', police, async (req, res) => {
    res.json(await uc.videoCoverage(deps, req.actor!));
  });
  r.post('/api/video-segments/:id/legal-hold', police, async (req, res) => {
    res.status(201).json(await uc.placeLegalHold(deps, req.actor!, String(req.params.id), req.body, ctx(req)));
  });
  r.delete('/api/video-segments/:id/legal-hold', police, async (req, res) => {
    const b = (req.body ?? {}) as { hold_id?: unknown; reason?: unknown };
    res.json(await uc.liftLegalHold(deps, req.actor!, String(req.params.id), { hold_id: b.hold_id ?? req.query.hold_id, reason: b.reason ?? req.query.reason }, ctx(req)));
  });

  r.get('/api/archives/:id', police, async (req, res) => {
    res.json(await archives.getArchive(deps, req.actor!, String(req.params.id)));
  });
  r.get('/api/archive-disposals', requireRole('supervisor'), async (req, res) => {
    res.json(await archives.listArchiveDisposalTasks(deps, req.actor!, { status: query(req, 'status') }));
  });
  r.post('/api/archive-disposals/:id/decision', requireRole('supervisor'), async (req, res) => {
    res.json(await archives.decideArchiveDisposal(deps, req.actor!, String(req.params.id), req.body));
  });
  return r;
}
