// Files encrypted as streams (P1): AES-256-GCM over fixed-size chunks, each with its own nonce and tag, so
// neither encryption nor decryption holds a whole file in memory, and every chunk is authenticated before
// its clear bytes are given out. The nonce is a random per-file prefix, the chunk's index and a final-chunk
// flag (the STREAM construction), so reordered, dropped or appended chunks and a file cut short at a
// chunk boundary all fail to authenticate. The header (key id, nonce prefix, chunk size) and the file's
// place are the additional data of every chunk.
//
//   header: "ESPD2\n" | key id (16) | nonce prefix (7) | chunk size (uint32 BE)
//   chunks: ciphertext (chunk size bytes; the last one 0..chunk size) | tag (16)
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { placeAad, type Place } from './place';

export const BLOB_MAGIC = Buffer.from('ESPD2\n', 'latin1');
const HEADER_BYTES = BLOB_MAGIC.length + 16 + 7 + 4;
const TAG = 16;
/** Clear bytes per chunk: big enough that the tags cost nothing (0.02 %), small enough to stay out of memory. */
export const BLOB_CHUNK_BYTES = 64 * 1024;
/** A header asking for more than this per chunk is refused (it would make the reader buffer that much). */
const MAX_CHUNK_BYTES = 16 * 1024 * 1024;

/** Bytes an encrypted file of `clearBytes` takes (for the store's size limit). */
export const encryptedBlobSize = (clearBytes: number, chunkBytes = BLOB_CHUNK_BYTES) => HEADER_BYTES + clearBytes + TAG * Math.max(1, Math.ceil(clearBytes / chunkBytes));

export const isChunkedBlob = (b: Buffer) => b.length >= HEADER_BYTES + TAG && b.subarray(0, BLOB_MAGIC.length).equals(BLOB_MAGIC);

export const blobAad = (place: Place, header: Buffer) => Buffer.concat([placeAad(place), header]);

function nonce(prefix: Buffer, index: number, final: boolean): Buffer {
  const n = Buffer.alloc(12);
  prefix.copy(n, 0);
  n.writeUInt32BE(index, 7);
  n[11] = final ? 1 : 0;
  return n;
}

const uuidToBytes = (id: string) => Buffer.from(id.replace(/-/g, ''), 'hex');
const bytesToUuid = (b: Buffer) => b.toString('hex').replace(/^(.{8})(.{4})(.{4})(.{4})(.{12})$/, '$1-$2-$3-$4-$5');

/** Buffers just enough of `source` to cut chunks: at most one chunk plus one incoming piece. */
class Chunker {
  private parts: Buffer[] = [];
  private length = 0;
  push(b: Buffer) {
    this.parts.push(b);
    this.length += b.length;
  }
  get size() {
    return this.length;
  }
  take(n: number): Buffer {
    const all = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts);
    const head = all.subarray(0, n);
    const rest = all.subarray(n);
    this.parts = rest.length ? [rest] : [];
    this.length = rest.length;
    return head;
  }
}

const asBuffer = (c: unknown) => (Buffer.isBuffer(c) ? c : Buffer.from(c as Uint8Array));

export async function* encryptChunks(source: AsyncIterable<unknown>, key: Buffer, keyId: string, place: Place, chunkBytes = BLOB_CHUNK_BYTES): AsyncGenerator<Buffer> {
  const header = Buffer.alloc(HEADER_BYTES);
  BLOB_MAGIC.copy(header, 0);
  uuidToBytes(keyId).copy(header, BLOB_MAGIC.length);
  const prefix = randomBytes(7);
  prefix.copy(header, BLOB_MAGIC.length + 16);
  header.writeUInt32BE(chunkBytes, BLOB_MAGIC.length + 23);
  const aad = blobAad(place, header);
  let index = 0;
  const sealChunk = (clear: Buffer, final: boolean) => {
    const c = createCipheriv('aes-256-gcm', key, nonce(prefix, index++, final));
    c.setAAD(aad);
    return Buffer.concat([c.update(clear), c.final(), c.getAuthTag()]);
  };
  yield header;
  const pending = new Chunker();
  for await (const piece of source) {
    pending.push(asBuffer(piece));
    // A chunk goes out only once more bytes follow it: the last one must carry the final flag.
    while (pending.size > chunkBytes) yield sealChunk(pending.take(chunkBytes), false);
  }
  yield sealChunk(pending.take(pending.size), true);
}

/**
 * The clear bytes of a chunked file, chunk by chunk, each authenticated before it is given out. `keyFor`
 * returns the data key named in the header; `refuse` turns a failure into the error to throw.
 */
export async function* decryptChunks(source: AsyncIterable<unknown>, keyFor: (keyId: string) => Promise<Buffer>, place: Place, refuse: (reason: string) => Promise<Error>): AsyncGenerator<Buffer> {
  const pending = new Chunker();
  const it = source[Symbol.asyncIterator]();
  const fill = async (n: number) => {
    while (pending.size < n) {
      const r = await it.next();
      if (r.done) return false;
      pending.push(asBuffer(r.value));
    }
    return true;
  };
  if (!(await fill(HEADER_BYTES))) throw await refuse('shorter than its header');
  const header = Buffer.from(pending.take(HEADER_BYTES));
  if (!header.subarray(0, BLOB_MAGIC.length).equals(BLOB_MAGIC)) throw await refuse('not an encrypted file');
  const keyId = bytesToUuid(header.subarray(BLOB_MAGIC.length, BLOB_MAGIC.length + 16));
  const prefix = header.subarray(BLOB_MAGIC.length + 16, BLOB_MAGIC.length + 23);
  const chunkBytes = header.readUInt32BE(BLOB_MAGIC.length + 23);
  if (chunkBytes < 1 || chunkBytes > MAX_CHUNK_BYTES) throw await refuse('bad chunk size');
  const key = await keyFor(keyId);
  const aad = blobAad(place, header);
  let index = 0;
  const openChunk = async (sealed: Buffer, final: boolean) => {
    const d = createDecipheriv('aes-256-gcm', key, nonce(prefix, index++, final));
    d.setAAD(aad);
    d.setAuthTag(sealed.subarray(sealed.length - TAG));
    try {
      return Buffer.concat([d.update(sealed.subarray(0, sealed.length - TAG)), d.final()]);
    } catch {
      throw await refuse(final ? 'last chunk: altered, cut short or another place' : `chunk ${index - 1}: altered or another place`);
    }
  };
  for (;;) {
    // More than a whole sealed chunk buffered: the first one is not the last.
    if (await fill(chunkBytes + TAG + 1)) {
      yield await openChunk(pending.take(chunkBytes + TAG), false);
      continue;
    }
    if (pending.size < TAG) throw await refuse('cut short');
    yield await openChunk(pending.take(pending.size), true);
    return;
  }
}
