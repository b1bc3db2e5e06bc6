// Verification of a large PDF hashes its ByteRange from the staging file as two streams
// (infra/signing/pades.ts byteRangeDigestOfFile): the same digest as the in-memory reader, and the same
// refusal of a range that does not fit the file. The API path is in test/integration/signing.test.ts.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { byteRangeDigest, byteRangeDigestOfFile } from '../../infra/signing/pades';

const bytes = randomBytes(3 * 1024 * 1024 + 17); // more than one read chunk on each side of the gap
const file = path.join(mkdtempSync(path.join(tmpdir(), 'range-digest-')), 'doc.pdf');
writeFileSync(file, bytes);

describe('byteRangeDigestOfFile', () => {
  it('hashes the two ranges from disk as the in-memory reader does', async () => {
    for (const br of [[0, 1_500_000, 1_600_000, bytes.length - 1_600_000], [0, 10, 10, 0], [0, 0, 5, 100], [0, 2_000_000, 2_000_100, 10]]) {
      const expected = byteRangeDigest(bytes, br);
      expect(expected).not.toBeNull();
      expect(await byteRangeDigestOfFile(file, br)).toEqual(expected);
    }
  });

  it('refuses a range outside the file, overlapping, not from the start, or not four integers, as the in-memory reader does', async () => {
    for (const br of [[0, 10, 20, bytes.length], [0, 30, 20, 5], [1, 10, 20, 5], [0, 10, 20], [0, 1.5, 20, 5], [0, -1, 20, 5]]) {
      expect(byteRangeDigest(bytes, br)).toBeNull();
      expect(await byteRangeDigestOfFile(file, br)).toBeNull();
    }
  });
});
