// P1: the chunked file format (infra/crypto/stream.ts) on its own, without the HSM: a file round-trips at any
// size, and a file altered, cut short (also at a chunk boundary), with chunks reordered or appended, or read
// for another place is refused rather than given out.
import { randomBytes, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { decryptChunks, encryptChunks, encryptedBlobSize } from '../../infra/crypto/stream';
import type { Place } from '../../infra/crypto/place';

const key = randomBytes(32);
const keyId = randomUUID();
const place: Place = { table: 'materials', column: 'blob_sha256', row: randomUUID() };
const CHUNK = 1024;
const TAG = 16;
const HEADER = 33;

async function collect(gen: AsyncIterable<Buffer>): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const c of gen) out.push(c);
  return Buffer.concat(out);
}
const encrypt = (clear: Buffer, pieces = 7) => collect(encryptChunks(Readable.from(split(clear, pieces), { objectMode: false }), key, keyId, place, CHUNK));
const decrypt = (sealed: Buffer, at: Place = place) =>
  collect(decryptChunks(Readable.from(split(sealed, 5), { objectMode: false }), async (id) => (id === keyId ? key : Promise.reject(new Error('no such key'))), at, async (reason) => new Error(`refused: ${reason}`)));
function split(b: Buffer, n: number): Buffer[] {
  const size = Math.max(1, Math.ceil(b.length / n));
  const parts: Buffer[] = [];
  for (let i = 0; i < b.length; i += size) parts.push(b.subarray(i, i + size));
  return parts.length ? parts : [Buffer.alloc(0)];
}

test.each([0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK, 3 * CHUNK + 17])('P1: a file of %i bytes round-trips, at the size encryptedBlobSize says', async (n) => {
  const clear = randomBytes(n);
  const sealed = await encrypt(clear);
  expect(sealed.length).toBe(encryptedBlobSize(n, CHUNK));
  if (n >= 16) expect(sealed.includes(clear.subarray(0, 16))).toBe(false);
  expect((await decrypt(sealed)).equals(clear)).toBe(true);
});

test('P1: a chunked file altered, cut short, reordered, extended or read for another place is refused', async () => {
  const clear = randomBytes(3 * CHUNK);
  const sealed = await encrypt(clear);
  const chunk = (i: number) => sealed.subarray(HEADER + i * (CHUNK + TAG), HEADER + (i + 1) * (CHUNK + TAG));
  const flipped = Buffer.from(sealed);
  flipped[HEADER + CHUNK + 40] ^= 1;
  await expect(decrypt(flipped)).rejects.toThrow(/refused: chunk 1/);
  // Cut at a chunk boundary: every remaining chunk is intact, but the last one was not sealed as the last.
  await expect(decrypt(sealed.subarray(0, HEADER + 2 * (CHUNK + TAG)))).rejects.toThrow(/refused: last chunk/);
  await expect(decrypt(sealed.subarray(0, sealed.length - 5))).rejects.toThrow(/refused/);
  await expect(decrypt(sealed.subarray(0, HEADER - 1))).rejects.toThrow(/refused: shorter than its header/);
  await expect(decrypt(Buffer.concat([sealed.subarray(0, HEADER), chunk(1), chunk(0), chunk(2)]))).rejects.toThrow(/refused: chunk 0/);
  await expect(decrypt(Buffer.concat([sealed, chunk(2)]))).rejects.toThrow(/refused/);
  await expect(decrypt(sealed, { ...place, row: randomUUID() })).rejects.toThrow(/refused: chunk 0/);
  await expect(decrypt(sealed, { ...place, column: 'other' })).rejects.toThrow(/refused: chunk 0/);
  // The header is authenticated too (a changed chunk size or nonce prefix does not slip through).
  const header = Buffer.from(sealed);
  header[HEADER - 5] ^= 1;
  await expect(decrypt(header)).rejects.toThrow(/refused/);
  expect((await decrypt(sealed)).equals(clear)).toBe(true);
});

test('P1: encryption holds at most about one chunk of a large stream in memory', async () => {
  let produced = 0;
  let maxAhead = 0;
  let consumed = 0;
  const source = Readable.from(
    (async function* () {
      for (let i = 0; i < 256; i++) {
        produced += 4096;
        maxAhead = Math.max(maxAhead, produced - consumed);
        yield randomBytes(4096);
      }
    })(),
    { objectMode: false },
  );
  for await (const c of encryptChunks(source, key, keyId, place, CHUNK)) consumed += Math.max(0, c.length - TAG);
  // The encryptor never runs more than one chunk plus one incoming piece ahead of its reader.
  expect(maxAhead).toBeLessThanOrEqual(CHUNK + 2 * 4096 + HEADER);
  expect(produced).toBe(256 * 4096);
});
