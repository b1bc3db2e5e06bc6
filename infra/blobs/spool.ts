// Streams bytes to a file while hashing and counting them, so no upload is ever held whole in memory and
// its address (SHA-256) is known when the last byte is written.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, unlink } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { BlobTooLargeError } from './errors';

export type BlobSource = Buffer | Readable;

export interface Spooled {
  sha256: string;
  size: number;
  /** The first bytes, to judge the type by content. */
  head: Buffer;
  /** More than maxBytes arrived (only with overflow 'drain'); the file was removed. */
  truncated: boolean;
}

export interface SpoolOptions {
  maxBytes?: number;
  /** 'throw': stop reading and fail with BlobTooLargeError; 'drain': read the rest, keep nothing, report truncated. */
  overflow?: 'throw' | 'drain';
  headBytes?: number;
}

async function* chunksOf(source: BlobSource): AsyncGenerator<Buffer> {
  if (Buffer.isBuffer(source)) {
    yield source;
    return;
  }
  for await (const chunk of source) yield Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
}

/** Writes `source` to the new file `file` (mode 0600, fsynced); on any failure or overflow the file is removed. */
export async function spoolToFile(source: BlobSource, file: string, opts: SpoolOptions = {}): Promise<Spooled> {
  const max = opts.maxBytes ?? Number.MAX_SAFE_INTEGER;
  const headBytes = opts.headBytes ?? 512;
  const hash = createHash('sha256');
  const head: Buffer[] = [];
  let headLength = 0;
  let size = 0;
  let truncated = false;
  const fh = await open(file, 'wx', 0o600);
  try {
    for await (const chunk of chunksOf(source)) {
      if (truncated) continue; // draining: the sender is still sending, nothing more is kept
      if (size + chunk.length > max) {
        truncated = true;
        if (opts.overflow !== 'drain') throw new BlobTooLargeError(max);
        continue;
      }
      hash.update(chunk);
      size += chunk.length;
      if (headLength < headBytes) {
        const part = chunk.subarray(0, headBytes - headLength);
        head.push(part);
        headLength += part.length;
      }
      for (let offset = 0; offset < chunk.length; ) offset += (await fh.write(chunk, offset)).bytesWritten;
    }
    if (!truncated) await fh.sync(); // durable before it is renamed under its address
  } catch (e) {
    await fh.close().catch(() => undefined);
    await unlink(file).catch(() => undefined);
    throw e;
  }
  await fh.close();
  if (truncated) await unlink(file).catch(() => undefined);
  return { sha256: hash.digest('hex'), size, head: Buffer.concat(head), truncated };
}

/** SHA-256 and size of a file, streamed. */
export async function hashFile(file: string): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(file)) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { sha256: hash.digest('hex'), size };
}

export const SHA256_HEX = /^[0-9a-f]{64}$/;
