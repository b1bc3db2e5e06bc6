// Reads multipart uploads (text fields and files). Each file is streamed to a private temporary file while
// it is hashed, counted against the limit and sniffed (infra/blobs/incoming.ts), never held whole in memory;
// the use-case judges it and puts it into the store. The temporary files are removed when the response is
// finished, whatever happened. One reader serves the JSON API (readUpload), the video upload
// (web/routes/retention.ts) and the page forms (web/pages/forms.ts); they differ only in their options.
import busboy from 'busboy';
import type { Request } from 'express';
import { stageUpload, type StagedFile } from '../infra/blobs';
import { MAX_UPLOAD_BYTES } from '../usecases/applications';
import { ApiError } from './errors';
import { validateMultipart } from './openapi-validation';

export interface StagedMultipart {
  fields: Record<string, string>;
  files: StagedFile[];
}

export interface MultipartOptions {
  /** Largest file kept, in bytes; a larger one is read to its end and reported truncated (UPLOAD_TOO_LARGE). */
  maxBytes: number;
  /** How many file parts, text fields and bytes a text field busboy accepts. */
  limits: { files: number; fields: number; fieldSize: number };
  /** Staging folder (default: TMPDIR/eseal-uploads). */
  dir?: string;
  /** Whether a file part is staged (by its field name and how many were staged before); others are read and dropped. */
  accept?: (field: string, staged: number) => boolean;
  /** The refusal when the request is not multipart at all (each caller names its own form). */
  notMultipart: ApiError;
}

export function readMultipart(req: Request, opts: MultipartOptions): Promise<StagedMultipart> {
  return new Promise((resolve, reject) => {
    let bb: busboy.Busboy;
    try {
      // utf8: browsers send Chinese file names in UTF-8 (busboy's default is latin1). One byte over the
      // limit is read so that "exactly the limit" and "more" can be told apart.
      bb = busboy({ headers: req.headers, defParamCharset: 'utf8', limits: { ...opts.limits, fileSize: opts.maxBytes + 1 } });
    } catch {
      return reject(opts.notMultipart);
    }
    const fields: Record<string, string> = {};
    const pending: Promise<StagedFile>[] = [];
    req.res?.once('close', () => void Promise.allSettled(pending).then((all) => all.forEach((r) => r.status === 'fulfilled' && void r.value.discard())));
    bb.on('field', (name, value) => {
      fields[name] = value;
    });
    bb.on('file', (name, stream, info) => {
      if (opts.accept && !opts.accept(name, pending.length)) {
        stream.resume();
        return;
      }
      // A cut-off body also errors the file stream, maybe before staging reads it: the form's own 'error'
      // (below) answers it, and an 'error' with no listener would bring the process down.
      stream.on('error', () => undefined);
      const staged = stageUpload(stream, { field: name, filename: info.filename ?? '', maxBytes: opts.maxBytes, dir: opts.dir });
      staged.catch(() => stream.resume()); // awaited on close; a failed write still reads the request to its end
      pending.push(staged);
    });
    // A broken body is the sender's fault: 400, and the response's close removes what was staged.
    bb.on('error', (e) => reject(e instanceof Error ? new ApiError(400, 'malformed_multipart', '上传内容格式有误', `Malformed multipart upload: ${e.message}`) : e));
    bb.on('close', () => {
      // P2: the text fields are checked against web/openapi.yaml once read (the files are on disk by now).
      Promise.all(pending)
        .then(async (files) => {
          await validateMultipart(req, fields, files.map((f) => f.field));
          return { fields, files };
        })
        .then(resolve, reject);
    });
    req.pipe(bb);
  });
}

export interface Upload {
  fields: Record<string, string>;
  file: StagedFile | null;
}

export interface UploadOptions {
  maxBytes?: number;
  /** Staging folder (default: TMPDIR/eseal-uploads). */
  dir?: string;
  /** Only a file part under this field name is staged (default: the first file part, whatever its name). */
  fileField?: string;
}

/** The JSON API's upload: text fields and at most one file. */
export async function readUpload(req: Request, opts: UploadOptions = {}): Promise<Upload> {
  const { fields, files } = await readMultipart(req, {
    maxBytes: opts.maxBytes ?? MAX_UPLOAD_BYTES,
    limits: { files: 1, fields: 20, fieldSize: 4096 },
    dir: opts.dir,
    accept: opts.fileField === undefined ? undefined : (name, staged) => name === opts.fileField && staged === 0,
    notMultipart: new ApiError(400, 'multipart_required', '请以 multipart/form-data 提交（含文件字段 file）', 'Send multipart/form-data (with a file field named file)'),
  });
  return { fields, file: files[0] ?? null };
}
