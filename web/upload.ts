// Reads one multipart upload (text fields and at most one file) with a hard size limit. The file's type
// is later judged by its content; nothing is trusted from its name.
import busboy from 'busboy';
import type { Request } from 'express';
import { MAX_UPLOAD_BYTES } from '../usecases/applications';
import { ApiError } from './errors';

export interface Upload {
  fields: Record<string, string>;
  file: { filename: string; bytes: Buffer; truncated: boolean } | null;
}

export function readUpload(req: Request): Promise<Upload> {
  return new Promise((resolve, reject) => {
    let bb: busboy.Busboy;
    try {
      // utf8: browsers send Chinese file names in UTF-8 (busboy's default is latin1).
      bb = busboy({ headers: req.headers, defParamCharset: 'utf8', limits: { fileSize: MAX_UPLOAD_BYTES, files: 1, fields: 20, fieldSize: 4096 } });
    } catch {
      return reject(new ApiError(400, 'multipart_required', '请以 multipart/form-data 提交（含文件字段 file）', 'Send multipart/form-data (with a file field named file)'));
    }
    const fields: Record<string, string> = {};
    let file: Upload['file'] = null;
    const chunks: Buffer[] = [];
    bb.on('field', (name, value) => {
      fields[name] = value;
    });
    bb.on('file', (_name, stream, info) => {
      file = { filename: info.filename ?? '', bytes: Buffer.alloc(0), truncated: false };
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('limit', () => (file!.truncated = true));
    });
    bb.on('error', reject);
    bb.on('close', () => {
      if (file) file.bytes = Buffer.concat(chunks);
      resolve({ fields, file });
    });
    req.pipe(bb);
  });
}
