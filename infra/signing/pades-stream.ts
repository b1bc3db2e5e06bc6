// PAdES for PDFs too large to read whole (issue 12: "a 200 MB PDF signs with flat memory"). The same
// signature as ./pades.ts (the same field, widgets, imprint and signature dictionary: addSignatureField), on
// the document opened lazily from its staging file (./pdf-lazy.ts), written as an incremental update of
// its own: only the new and changed objects, a cross-reference section and a trailer with /Prev. The
// original file is never loaded: it is hashed as a stream (with the update's bytes around /Contents) for
// the ByteRange, and the caller answers the original file followed by the `tail` returned here.
// The update's cross-reference section is a classic table even after a file whose newest section is a
// stream, as ./pades.ts (pdf-lib's incremental writer) always did; PDF 1.5 readers follow /Prev across both
// kinds (checked with pdfsig and pyHanko in test/unit/pades-stream.test.ts).
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { addSignatureField, type PadesInput } from './pades';
import { addDss, type ValidationData } from './pades-ltv';
import { nextSnapshot, openPdfLazily } from './pdf-lazy';
import { parseStartxref } from './pdf-xref';

export interface StreamedPadesInput extends Omit<PadesInput, 'pdf'> {
  /** The PDF on disk (the upload's staging file); read in small windows and hashed as a stream. */
  path: string;
  /** B-LT: the validation data, appended as the DSS in one more section after the signature's. */
  validationData?: () => Promise<ValidationData>;
}

export interface StreamedPades {
  /** The file's size: the signed PDF is the file's bytes followed by `tail`. */
  originalSize: number;
  /** The signature's section (and the DSS's), to append. */
  tail: Buffer;
}

export async function signPdfFile(input: StreamedPadesInput): Promise<StreamedPades> {
  const lazy = await openPdfLazily(input.path);
  try {
    const { doc } = lazy;
    await addSignatureField(doc, input);
    const placeholder = Buffer.from(await doc.saveIncremental(doc.context.snapshot!, { useObjectStreams: false }));
    const signed = await fillSignature(input.path, lazy.size, placeholder, input.signCms);
    if (!input.validationData) return { originalSize: lazy.size, tail: signed };
    const data = await input.validationData();
    nextSnapshot(doc, lazy.size + signed.length, parseStartxref(signed.subarray(-2048)));
    addDss(doc, data);
    const dss = Buffer.from(await doc.saveIncremental(doc.context.snapshot!, { useObjectStreams: false }));
    return { originalSize: lazy.size, tail: Buffer.concat([signed, dss]) };
  } finally {
    lazy.close();
  }
}

const BYTE_RANGE_PLACEHOLDER = /\/ByteRange\s*\[\s*0\s+\/\*{10}\s+\/\*{10}\s+\/\*{10}\s*\]/;

/**
 * Fills /ByteRange (offsets in the whole output: the file, then `update`) and /Contents (the CMS over the
 * SHA-256 of everything but /Contents' value, the file read as a stream) in the update, in place.
 */
async function fillSignature(path: string, base: number, update: Buffer, signCms: PadesInput['signCms']): Promise<Buffer> {
  const text = update.toString('latin1');
  const br = BYTE_RANGE_PLACEHOLDER.exec(text);
  if (!br) throw new Error('no /ByteRange placeholder in the update');
  const lt = text.indexOf('<', text.indexOf('/Contents ', br.index + br[0].length));
  const gt = text.indexOf('>', lt);
  if (lt < 0 || gt < 0) throw new Error('no /Contents placeholder in the update');
  const total = base + update.length;
  const [a, b] = [base + lt, base + gt + 1];
  const byteRange = `/ByteRange [0 ${a} ${b} ${total - b}]`;
  if (byteRange.length > br[0].length) throw new Error('the /ByteRange placeholder is too short');
  update.write(byteRange.padEnd(br[0].length, ' '), br.index, 'latin1');

  const hash = createHash('sha256');
  await pipeline(createReadStream(path, { start: 0, end: base - 1, highWaterMark: 1024 * 1024 }), async (chunks: AsyncIterable<Buffer>) => {
    for await (const c of chunks) hash.update(c);
  });
  hash.update(update.subarray(0, lt)).update(update.subarray(gt + 1));
  const cms = await signCms(hash.digest());
  const room = gt - lt - 1;
  if (cms.length * 2 > room) throw new Error(`the CMS (${cms.length} bytes) does not fit /Contents (${room / 2})`);
  update.write(cms.toString('hex').padEnd(room, '0'), lt + 1, 'latin1');
  return update;
}
