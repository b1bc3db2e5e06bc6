// Content-addressed store on local disk (<dir>/ab/abcd…, the layout activities/retention-store.ts reads too):
// streamed into <dir>/.incoming, fsynced, renamed under its hash (atomic: a reader sees all or nothing),
// and hashed again on every read.
import { createHash, randomUUID } from 'node:crypto';
import { mkdir, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { BlobCorruptedError, BlobMissingError } from './errors';
import { hashFile, SHA256_HEX, spoolToFile, type BlobSource } from './spool';
import { reportCorruption, type BlobStore, type BlobStoreHooks, type PutResult } from './store';

const isMissing = (e: unknown) => (e as NodeJS.ErrnoException).code === 'ENOENT';

export class LocalBlobStore implements BlobStore {
  readonly kind = 'local';

  constructor(
    readonly dir: string,
    private readonly hooks: BlobStoreHooks = {},
  ) {}

  /** Where a blob lives on disk. */
  pathOf(sha256: string): string {
    if (!SHA256_HEX.test(sha256)) throw new Error('not a SHA-256 hex digest');
    return path.join(this.dir, sha256.slice(0, 2), sha256);
  }

  async put(source: BlobSource, opts: { maxBytes?: number } = {}): Promise<PutResult> {
    const incoming = path.join(this.dir, '.incoming');
    await mkdir(incoming, { recursive: true });
    const tmp = path.join(incoming, `${randomUUID()}.part`);
    try {
      const { sha256, size } = await spoolToFile(source, tmp, { maxBytes: opts.maxBytes });
      const target = this.pathOf(sha256);
      // Written once: a sound copy is kept; a corrupted one is replaced by these bytes (they hash right).
      const existing = await hashFile(target).catch((e) => (isMissing(e) ? null : Promise.reject(e)));
      if (existing?.sha256 !== sha256) {
        await mkdir(path.dirname(target), { recursive: true });
        await rename(tmp, target);
      }
      return { sha256, size };
    } finally {
      // Whatever failed (reading the old copy, mkdir, rename), no .part is left behind; once renamed it is already gone.
      await unlink(tmp).catch(() => undefined);
    }
  }

  async get(sha256: string): Promise<Buffer> {
    const bytes = await readFile(this.pathOf(sha256)).catch((e) => Promise.reject(isMissing(e) ? new BlobMissingError(sha256, this.kind) : e));
    const actual = createHash('sha256').update(bytes).digest('hex');
    if (actual !== sha256) throw await reportCorruption(this.hooks, new BlobCorruptedError(sha256, actual, this.kind));
    return bytes;
  }

  async open(sha256: string): Promise<{ stream: Readable; size: number }> {
    // One open file for the check and the stream, so the copy checked is the copy served.
    const fh = await open(this.pathOf(sha256), 'r').catch((e) => Promise.reject(isMissing(e) ? new BlobMissingError(sha256, this.kind) : e));
    try {
      const hash = createHash('sha256');
      let size = 0;
      for await (const chunk of fh.createReadStream({ start: 0, autoClose: false })) {
        hash.update(chunk as Buffer);
        size += (chunk as Buffer).length;
      }
      const actual = hash.digest('hex');
      if (actual !== sha256) throw await reportCorruption(this.hooks, new BlobCorruptedError(sha256, actual, this.kind));
      return { stream: fh.createReadStream({ start: 0 }), size };
    } catch (e) {
      await fh.close();
      throw e;
    }
  }

  async has(sha256: string): Promise<boolean> {
    return stat(this.pathOf(sha256)).then(() => true, () => false);
  }

  async delete(sha256: string): Promise<void> {
    await unlink(this.pathOf(sha256)).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOENT') throw e;
    });
  }
}
