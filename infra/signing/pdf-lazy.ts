// A PDF on disk opened as a pdf-lib document without reading it whole: the cross-reference data comes from
// ./pdf-xref.ts, and each object is parsed (pdf-lib's own PDFObjectParser) from its bytes on disk the first
// time pdf-lib looks it up, objects inside object streams by decoding just that stream. Signing looks up only
// the catalog, the page tree and page dictionaries, annotation arrays and the form's fields, so the page
// contents, images and fonts (nearly all of a large file) are never read. The document carries an
// incremental snapshot, so `doc.saveIncremental(snapshot)` writes only what changed, after the file's end.
// Reads are synchronous (pdf-lib's lookup is): a few small reads of a local staging file per signature.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { inflateSync } from 'node:zlib';
import {
  IncrementalDocumentSnapshot,
  PDFArray,
  PDFContext,
  PDFDict,
  PDFDocument,
  PDFHexString,
  PDFName,
  PDFNumber,
  PDFObjectParser,
  PDFRawStream,
  PDFRef,
  type PDFObject,
} from '@cantoo/pdf-lib';
import { dictAt, malformedPdf, readXref, type XrefEntry, type XrefInfo } from './pdf-xref';

/** Largest single object read (a page dictionary or a field is a few hundred bytes; an object stream of them, some KB). */
const MAX_OBJECT_BYTES = 8 * 1024 * 1024;
/** Largest object stream once inflated (a few KB is usual; a small hostile one could inflate to gigabytes). */
const MAX_OBJECT_STREAM_BYTES = 16 * 1024 * 1024;
/** Inflated object streams kept for further lookups, in bytes. */
const OBJECT_STREAM_CACHE_BYTES = 32 * 1024 * 1024;

/** An object stream's bytes: unfiltered or FlateDecode without a predictor (what writers use), bounded. */
function decodeObjectStream(num: number, stream: PDFRawStream): Buffer {
  const filter = stream.dict.lookup(PDFName.of('Filter'));
  const filters = filter === undefined ? [] : filter instanceof PDFArray ? filter.asArray() : [filter];
  if (filters.length > 1 || (filters.length === 1 && filters[0] !== PDFName.of('FlateDecode'))) throw malformedPdf(`object stream ${num}: only FlateDecode is supported`);
  const parms = stream.dict.lookup(PDFName.of('DecodeParms'));
  const predictor = parms instanceof PDFDict ? parms.lookup(PDFName.of('Predictor')) : undefined;
  if (predictor !== undefined && !(predictor instanceof PDFNumber && predictor.asNumber() === 1)) throw malformedPdf(`object stream ${num}: predictors are not supported`);
  const raw = Buffer.from(stream.contents);
  if (!filters.length) return raw;
  try {
    return inflateSync(raw, { maxOutputLength: MAX_OBJECT_STREAM_BYTES });
  } catch (e) {
    throw malformedPdf(`object stream ${num} cannot be inflated (${(e as Error).message})`);
  }
}

export interface LazyPdf {
  doc: PDFDocument;
  xref: XrefInfo;
  /** The file's size: where the update starts. */
  size: number;
  /** Closes the file (the document must not look anything up after). */
  close(): void;
  /** The dictionary of a stream object too large to read whole (verification's DocMDP), or undefined. */
  streamDictionary(ref: PDFRef): PDFDict | undefined;
}

/** Objects parsed on first lookup; only those are ever in memory (and written again only when marked changed). */
class LazyObjects extends Map<PDFRef, PDFObject> {
  constructor(private readonly load: (ref: PDFRef) => PDFObject | undefined) {
    super();
  }

  override get(ref: PDFRef): PDFObject | undefined {
    let obj = super.get(ref);
    if (obj === undefined) {
      obj = this.load(ref);
      if (obj !== undefined) super.set(ref, obj);
    }
    return obj;
  }
}

/** `end`: open the revision that ends there (what a signature covers: verification's DocMDP), not the whole file. */
export async function openPdfLazily(path: string, end?: number): Promise<LazyPdf> {
  const xref = await readXref(path, end);
  const fd = openSync(path, 'r');
  try {
    return build(fd, xref, end);
  } catch (e) {
    closeSync(fd);
    throw e;
  }
}

function build(fd: number, xref: XrefInfo, end?: number): LazyPdf {
  const size = Math.min(end ?? Infinity, fstatSync(fd).size);
  // An object ends where the next one (or the file) begins: its bytes are read in one bounded window.
  const starts = xref.entries.sortedOffsets([...xref.sectionOffsets, size]);
  /** The first start after `offset` (or the file's end). */
  const endOf = (offset: number): number => {
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (starts[mid]! > offset) hi = mid;
      else lo = mid + 1;
    }
    return starts[lo]! > offset ? starts[lo]! : size;
  };
  const readAt = (pos: number, len: number): Buffer => {
    const buf = Buffer.alloc(len);
    const n = readSync(fd, buf, 0, len, pos);
    return buf.subarray(0, n);
  };

  const ctx = PDFContext.create();
  const objectStreams = new Map<number, { bytes: Uint8Array; offsets: Map<number, number> }>();

  const parseAt = (bytes: Uint8Array, ref: PDFRef | undefined): PDFObject => {
    // Without the snapshot while parsing: pdf-lib's change tracking would search every loaded object for
    // the container of each array element parsed (quadratic in the pages), and a parsed object is no change.
    const snapshot = ctx.snapshot;
    ctx.snapshot = undefined;
    try {
      return PDFObjectParser.forBytes(bytes, ctx).parseObject(ref);
    } catch (e) {
      throw malformedPdf(`object ${ref?.objectNumber ?? ''} cannot be parsed (${(e as Error).message.split('\n')[0]})`);
    } finally {
      ctx.snapshot = snapshot;
    }
  };

  const direct = (num: number, entry: Extract<XrefEntry, { kind: 'offset' }>): PDFObject => {
    const len = endOf(entry.offset) - entry.offset;
    if (len > MAX_OBJECT_BYTES) throw malformedPdf(`object ${num} is larger than ${MAX_OBJECT_BYTES / 1024 / 1024} MiB`);
    const bytes = readAt(entry.offset, len);
    const head = /^\s*(\d+)\s+(\d+)\s+obj\b/.exec(bytes.subarray(0, 64).toString('latin1'));
    if (!head || Number(head[1]) !== num) throw malformedPdf(`the cross-reference entry of object ${num} points elsewhere`);
    return parseAt(bytes.subarray(head[0].length), PDFRef.of(num, entry.gen));
  };

  const objectStream = (num: number) => {
    let s = objectStreams.get(num);
    if (s) return s;
    const entry = xref.entries.get(num);
    if (!entry || entry.kind !== 'offset') throw malformedPdf(`object stream ${num} is missing`);
    const stream = direct(num, entry);
    if (!(stream instanceof PDFRawStream)) throw malformedPdf(`object ${num} is not an object stream`);
    const bytes = decodeObjectStream(num, stream);
    const nObj = stream.dict.lookup(PDFName.of('N'));
    const firstObj = stream.dict.lookup(PDFName.of('First'));
    if (!(nObj instanceof PDFNumber) || !(firstObj instanceof PDFNumber)) throw malformedPdf(`object stream ${num} without /N or /First`);
    const [n, first] = [nObj.asNumber(), firstObj.asNumber()];
    if (!Number.isInteger(first) || first < 0 || first > bytes.length) throw malformedPdf(`object stream ${num}: /First is outside the stream`);
    const pairs = bytes.subarray(0, first).toString('latin1').trim().split(/\s+/).filter(Boolean).map(Number);
    // /N is the file's word: it must match the pairs that are there (a huge /N would loop for ever).
    if (!Number.isInteger(n) || n < 0 || 2 * n > pairs.length || pairs.slice(0, 2 * n).some((x) => !Number.isSafeInteger(x) || x < 0)) throw malformedPdf(`object stream ${num}: /N does not match its offsets`);
    const offsets = new Map<number, number>();
    for (let i = 0; i < n; i++) offsets.set(pairs[2 * i]!, first + pairs[2 * i + 1]!);
    let cached = bytes.length;
    for (const v of objectStreams.values()) cached += v.bytes.length;
    for (const [k, v] of objectStreams) {
      if (cached <= OBJECT_STREAM_CACHE_BYTES) break;
      cached -= v.bytes.length;
      objectStreams.delete(k);
    }
    s = { bytes, offsets };
    objectStreams.set(num, s);
    return s;
  };

  const load = (ref: PDFRef): PDFObject | undefined => {
    const entry = xref.entries.get(ref.objectNumber);
    if (!entry) return undefined; // a free or missing object is null (ISO 32000-1 §7.3.10)
    if (entry.kind === 'offset') return entry.gen === ref.generationNumber ? direct(ref.objectNumber, entry) : undefined;
    if (ref.generationNumber !== 0) return undefined;
    const s = objectStream(entry.stream);
    const at = s.offsets.get(ref.objectNumber);
    if (at === undefined) throw malformedPdf(`object ${ref.objectNumber} is not in object stream ${entry.stream}`);
    return parseAt(s.bytes.subarray(at), undefined);
  };
  (ctx as unknown as { indirectObjects: Map<PDFRef, PDFObject> }).indirectObjects = new LazyObjects(load);

  // New objects are numbered after the file's; the trailer of the update repeats /Root, /Info and /ID.
  // /Size is the file's word; an object listed above it must not be overwritten by the update's new objects.
  const lastObjectNumber = Math.max(xref.size - 1, xref.entries.highest());
  ctx.largestObjectNumber = lastObjectNumber;
  ctx.trailerInfo.Root = PDFRef.of(xref.root.num, xref.root.gen);
  if (xref.info) ctx.trailerInfo.Info = PDFRef.of(xref.info.num, xref.info.gen);
  if (xref.id0) ctx.trailerInfo.ID = PDFArray.withContext(ctx);
  if (xref.id0) for (const id of [xref.id0, xref.id1 ?? xref.id0]) (ctx.trailerInfo.ID as PDFArray).push(PDFHexString.of(id));
  ctx.pdfFileDetails.pdfSize = size;
  ctx.pdfFileDetails.prevStartXRef = xref.startxref;
  ctx.snapshot = new IncrementalDocumentSnapshot(lastObjectNumber, new Set(), size, xref.startxref, ctx);

  if (!(ctx.lookup(ctx.trailerInfo.Root) instanceof PDFDict)) throw malformedPdf('the trailer /Root is not a dictionary');
  // pdf-lib's PDFDocument has a private constructor; load() would parse the whole file, which is what this avoids.
  const doc = Reflect.construct(PDFDocument, [ctx, false, false]) as PDFDocument;
  const streamDictionary = (ref: PDFRef): PDFDict | undefined => {
    const entry = xref.entries.get(ref.objectNumber);
    if (!entry || entry.kind !== 'offset' || entry.gen !== ref.generationNumber) return undefined;
    const text = readAt(entry.offset, Math.min(64 * 1024, endOf(entry.offset) - entry.offset)).toString('latin1');
    const head = /^\s*(\d+)\s+(\d+)\s+obj\b/.exec(text.slice(0, 64));
    if (!head || Number(head[1]) !== ref.objectNumber) return undefined;
    try {
      const dict = PDFObjectParser.forBytes(Buffer.from(dictAt(text, head[0].length).body, 'latin1'), ctx).parseObject();
      return dict instanceof PDFDict ? dict : undefined;
    } catch {
      return undefined;
    }
  };
  return { doc, xref, size, close: () => closeSync(fd), streamDictionary };
}

/** Starts a new incremental section after `tail` bytes were appended (a signature, before its DSS). */
export function nextSnapshot(doc: PDFDocument, fileSize: number, startxref: number): void {
  const ctx = doc.context;
  ctx.pdfFileDetails.pdfSize = fileSize;
  ctx.pdfFileDetails.prevStartXRef = startxref;
  ctx.snapshot = new IncrementalDocumentSnapshot(ctx.largestObjectNumber, new Set(), fileSize, startxref, ctx);
}
