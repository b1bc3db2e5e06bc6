// The content-addressed store's operations that retention needs beyond infra/blobs.ts: streamed, size-limited
// ingestion (surveillance video is large), a streamed hash check before anything is served, and deletion
// (the M8 purge, the M7 disposal). Same layout as BlobStore (<dir>/ab/abcd…), so both read the same files;
// a candidate to merge into infra/blobs.ts.
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream, type ReadStream } from 'node:fs';
import { mkdir, rename, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';

const SHA256 = /^[0-9a-f]{64}$/;

/** A file streamed into the store's temporary area, hashed on the way, not yet under its content address. */
export interface IngestedFile {
  tmpPath: string;
  sha256: string;
  size: number;
  /** The first bytes, to sniff the type by content. */
  head: Buffer;
  /** More than the limit was sent; only the limit was kept. */
  truncated: boolean;
  filename: string;
}

export class BlobCorruptedError extends Error {
  constructor(readonly sha256: string, readonly actual: string) {
    super(`blob ${sha256} is corrupted (content hashes to ${actual})`);
    this.name = 'BlobCorruptedError';
  }
}
export class BlobMissingError extends Error {
  constructor(readonly sha256: string) {
    super(`blob ${sha256} is missing from the store`);
    this.name = 'BlobMissingError';
  }
}

export class ContentStore {
  constructor(readonly dir: string) {}

  pathOf(sha256: string): string {
    if (!SHA256.test(sha256)) throw new Error('not a SHA-256 hex digest');
    return path.join(this.dir, sha256.slice(0, 2), sha256);
  }

  /** Streams `source` to a temporary file, hashing and counting; beyond `maxBytes` it keeps reading but stops writing. */
  async ingest(source: Readable, maxBytes: number, filename = ''): Promise<IngestedFile> {
    const tmpDir = path.join(this.dir, '.incoming');
    await mkdir(tmpDir, { recursive: true });
    const tmpPath = path.join(tmpDir, `${randomUUID()}.part`);
    const hash = createHash('sha256');
    const headChunks: Buffer[] = [];
    let headLength = 0;
    let size = 0;
    let truncated = false;
    const meter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        if (truncated) return done();
        const room = maxBytes - size;
        const part = chunk.length > room ? chunk.subarray(0, room) : chunk;
        if (chunk.length > room) truncated = true;
        size += part.length;
        hash.update(part);
        if (headLength < 512) {
          headChunks.push(part.subarray(0, 512 - headLength));
          headLength += Math.min(part.length, 512 - headLength);
        }
        done(null, part);
      },
    });
    try {
      await pipeline(source, meter, createWriteStream(tmpPath, { mode: 0o600 }));
    } catch (e) {
      await unlink(tmpPath).catch(() => undefined);
      throw e;
    }
    return { tmpPath, sha256: hash.digest('hex'), size, head: Buffer.concat(headChunks), truncated, filename };
  }

  /** Moves an ingested file under its content address (written once: an existing copy is kept). */
  async commit(file: IngestedFile): Promise<string> {
    const target = this.pathOf(file.sha256);
    if (await stat(target).then(() => true, () => false)) {
      await this.discard(file);
      return file.sha256;
    }
    await mkdir(path.dirname(target), { recursive: true });
    await rename(file.tmpPath, target);
    return file.sha256;
  }

  async discard(file: IngestedFile | null | undefined): Promise<void> {
    if (file) await unlink(file.tmpPath).catch(() => undefined);
  }

  /** Reads the whole file and checks it against its address; corruption or absence is an error, never served. */
  async verify(sha256: string): Promise<{ size: number }> {
    const hash = createHash('sha256');
    let size = 0;
    try {
      for await (const chunk of createReadStream(this.pathOf(sha256))) {
        hash.update(chunk as Buffer);
        size += (chunk as Buffer).length;
      }
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new BlobMissingError(sha256);
      throw e;
    }
    const actual = hash.digest('hex');
    if (actual !== sha256) throw new BlobCorruptedError(sha256, actual);
    return { size };
  }

  /** A stream of the bytes, after the whole file was checked against its hash. */
  async openVerified(sha256: string): Promise<{ stream: ReadStream; size: number }> {
    const { size } = await this.verify(sha256);
    return { stream: createReadStream(this.pathOf(sha256)), size };
  }

  async exists(sha256: string): Promise<boolean> {
    return stat(this.pathOf(sha256)).then(() => true, () => false);
  }

  /** Removes the bytes (idempotent). Callers decide that nothing still needs them. */
  async delete(sha256: string): Promise<void> {
    await unlink(this.pathOf(sha256)).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOENT') throw e;
    });
  }
}

export type VideoContentType = 'video/mp4' | 'video/quicktime' | 'video/x-matroska' | 'video/mp2t' | 'video/x-msvideo';

/** Surveillance segments are accepted by their content, never by their name: MP4/MOV, Matroska/WebM, MPEG-TS, AVI. */
export function sniffVideoType(head: Buffer): VideoContentType | null {
  if (head.length >= 12 && head.subarray(4, 8).toString('latin1') === 'ftyp') {
    return head.subarray(8, 10).toString('latin1') === 'qt' ? 'video/quicktime' : 'video/mp4';
  }
  if (head.length >= 4 && head.readUInt32BE(0) === 0x1a45dfa3) return 'video/x-matroska';
  if (head.length >= 12 && head.subarray(0, 4).toString('latin1') === 'RIFF' && head.subarray(8, 12).toString('latin1') === 'AVI ') return 'video/x-msvideo';
  if (head.length >= 377 && head[0] === 0x47 && head[188] === 0x47 && head[376] === 0x47) return 'video/mp2t';
  return null;
}
