// An uploaded file on its way in: streamed to a private temporary file while hashed, counted against the
// limit and sniffed from its first bytes, so that the use-case can judge it (size, type, who may upload)
// before anything reaches the store, and nothing is ever held whole in memory.
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readFile, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { sniffContentType, type SniffedType } from './sniff';
import { spoolToFile } from './spool';
import { processTempDir } from './tempdir';

export interface IncomingFile {
  /** The form field it came in. */
  field: string;
  /** As the sender named it (untrusted; validated by the use-case). */
  filename: string;
  size: number;
  sha256: string;
  /** More than the limit was sent: nothing was kept, and nothing may be stored. */
  truncated: boolean;
  /** PDF, PNG or JPEG by its first bytes, or null. */
  contentType: SniffedType | null;
  /** The first bytes (up to 512), for other sniffers. */
  head: Buffer;
  /** The bytes, to put into the store. */
  open(): Readable;
  /** The whole file in memory, only for a layer that needs it whole (bounded by the upload limit). */
  readBytes(): Promise<Buffer>;
  /** The staging file, for a reader that needs random access (a large PDF signed as a stream); none when in memory. */
  path?: string;
}

export interface StagedFile extends IncomingFile {
  /** Removes the temporary file (idempotent). */
  discard(): Promise<void>;
}

/**
 * Where this process's uploads wait while their request is handled: TMPDIR/eseal-uploads/<host>-<pid>-…,
 * private files removed after the response; a dead process's folder is swept by the next one to start.
 */
export const defaultStagingDir = () => processTempDir(path.join(tmpdir(), 'eseal-uploads'));

/** Streams an upload to the staging folder; past maxBytes it reads on (the sender is still sending) but keeps nothing. */
export async function stageUpload(source: Readable, opts: { field: string; filename: string; maxBytes: number; dir?: string }): Promise<StagedFile> {
  const dir = opts.dir ?? defaultStagingDir();
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const file = path.join(dir, `${randomUUID()}.upload`);
  const s = await spoolToFile(source, file, { maxBytes: opts.maxBytes, overflow: 'drain' });
  const discard = () => unlink(file).catch(() => undefined);
  return {
    field: opts.field,
    filename: opts.filename,
    size: s.size,
    sha256: s.sha256,
    truncated: s.truncated,
    contentType: s.truncated ? null : sniffContentType(s.head),
    head: s.head,
    open: () => {
      if (s.truncated) throw new Error('an oversized upload has no bytes to store');
      return createReadStream(file);
    },
    readBytes: () => (s.truncated ? Promise.reject(new Error('an oversized upload has no bytes')) : readFile(file)),
    ...(s.truncated ? {} : { path: file }),
    discard,
  };
}

/** A file already in memory (tests, generated documents) as an IncomingFile. */
export function bufferedFile(bytes: Buffer, filename = '', field = 'file'): IncomingFile {
  return {
    field,
    filename,
    size: bytes.length,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    truncated: false,
    contentType: sniffContentType(bytes),
    head: bytes.subarray(0, 512),
    open: () => Readable.from([bytes]),
    readBytes: () => Promise.resolve(bytes),
  };
}
