// Reads one multipart upload (text fields and at most one file). The file is streamed to a private
// temporary file while it is hashed, counted against the limit and sniffed (infra/blobs/incoming.ts), never
// held whole in memory; the use-case judges it and puts it into the store. The temporary file is removed
// when the response is finished, whatever happened.
import busboy from 'busboy';
import type { Request } from 'express';
import { stageUpload, type StagedFile } from '../infra/blobs';
import { MAX_UPLOAD_BYTES } from '../usecases/applications';
import { ApiError } from './errors';

export interface Upload {
  fields: Record<string, string>;
  file: StagedFile | null;
}

export interface UploadOptions {
  maxBytes?: number;
  /** Staging folder (default: TMPDIR/eseal-uploads). */
  dir?: string;
}

export function readUpload(req: Request, opts: UploadOptions = {}): Promise<Upload> {
  const maxBytes = opts.maxBytes ?? MAX_UPLOAD_BYTES;
  return new Promise((resolve, reject) => {
    let bb: busboy.Busboy;
    try {
      // utf8: browsers send Chinese file names in UTF-8 (busboy's default is latin1). One byte over the
      // limit is read so that "exactly the limit" and "more" can be told apart.
      bb = busboy({ headers: req.headers, defParamCharset: 'utf8', limits: { fileSize: maxBytes + 1, files: 1, fields: 20, fieldSize: 4096 } });
    } catch {
      return reject(new ApiError(400, 'multipart_required', '请以 multipart/form-data 提交（含文件字段 file）', 'Send multipart/form-data (with a file field named file)'));
    }
    const fields: Record<string, string> = {};
    let staging: Promise<StagedFile> | null = null;
    const cleanUp = () => void staging?.then((f) => f.discard(), () => undefined);
    req.res?.once('close', cleanUp);
    bb.on('field', (name, value) => {
      fields[name] = value;
    });
    bb.on('file', (name, stream, info) => {
      staging = stageUpload(stream, { field: name, filename: info.filename ?? '', maxBytes, dir: opts.dir });
      staging.catch(() => stream.resume()); // a failed write still reads the request to its end
    });
    bb.on('error', (e) => {
      cleanUp();
      reject(e instanceof Error ? new ApiError(400, 'malformed_multipart', '上传内容格式有误', `Malformed multipart upload: ${e.message}`) : e);
    });
    bb.on('close', () => {
      if (!staging) return resolve({ fields, file: null });
      staging.then((file) => resolve({ fields, file }), reject);
    });
    req.pipe(bb);
  });
}
