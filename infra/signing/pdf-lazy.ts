// A PDF on disk opened as a pdf-lib document without reading it whole: the cross-reference data comes from
// ./pdf-xref.ts, and each object is parsed (pdf-lib's own PDFObjectParser) from its bytes on disk the first
// time pdf-lib looks it up, objects inside object streams by decoding just that stream. Signing looks up only
// the catalog, the page tree and page dictionaries, annotation arrays and the form's fields, so the page
// contents, images and fonts (nearly all of a large file) are never read. The document carries an
// incremental snapshot, so `doc.saveIncremental(snapshot)` writes only what changed, after the file's end.
// Reads are synchronous (pdf-lib's lookup is): a few small reads of a local staging file per signature.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import {
  decodePDFRawStream,
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
import { malformedPdf, readXref, type XrefEntry, type XrefInfo } from './pdf-xref';

/** Largest single object read (a page dictionary or a field is a few hundred bytes; an object stream of them, some KB). */
const MAX_OBJECT_BYTES = 8 * 1024 * 1024;

export interface LazyPdf {
  doc: PDFDocument;
  xref: XrefInfo;
  /** The file's size: where the update starts. */
  size: number;
  /** Closes the file (the document must not look anything up after). */
  close(): void;
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

export async function openPdfLazily(path: string): Promise<LazyPdf> {
  const xref = await readXref(path);
  const fd = openSync(path, 'r');
  try {
    return build(fd, xref);
  } catch (e) {
    closeSync(fd);
    throw e;
  }
}

function build(fd: number, xref: XrefInfo): LazyPdf {
  const { size } = fstatSync(fd);
  // An object ends where the next one (or the file) begins: its bytes are read in one bounded window.
  const starts = xref.entries.sortedOffsets([xref.startxref, size]);
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
    const bytes = decodePDFRawStream(stream).decode();
    const n = stream.dict.lookup(PDFName.of('N'));
    const first = stream.dict.lookup(PDFName.of('First'));
    if (!(n instanceof PDFNumber) || !(first instanceof PDFNumber)) throw malformedPdf(`object stream ${num} without /N or /First`);
    const pairs = Buffer.from(bytes.subarray(0, first.asNumber())).toString('latin1').trim().split(/\s+/).map(Number);
    const offsets = new Map<number, number>();
    for (let i = 0; i < n.asNumber(); i++) offsets.set(pairs[2 * i]!, first.asNumber() + pairs[2 * i + 1]!);
    if (objectStreams.size >= 8) objectStreams.delete(objectStreams.keys().next().value!);
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
  ctx.largestObjectNumber = xref.size - 1;
  ctx.trailerInfo.Root = PDFRef.of(xref.root.num, xref.root.gen);
  if (xref.info) ctx.trailerInfo.Info = PDFRef.of(xref.info.num, xref.info.gen);
  if (xref.id0) ctx.trailerInfo.ID = PDFArray.withContext(ctx);
  if (xref.id0) for (const id of [xref.id0, xref.id1 ?? xref.id0]) (ctx.trailerInfo.ID as PDFArray).push(PDFHexString.of(id));
  ctx.pdfFileDetails.pdfSize = size;
  ctx.pdfFileDetails.prevStartXRef = xref.startxref;
  ctx.snapshot = new IncrementalDocumentSnapshot(xref.size - 1, new Set(), size, xref.startxref, ctx);

  if (!(ctx.lookup(ctx.trailerInfo.Root) instanceof PDFDict)) throw malformedPdf('the trailer /Root is not a dictionary');
  // pdf-lib's PDFDocument has a private constructor; load() would parse the whole file, which is what this avoids.
  const doc = Reflect.construct(PDFDocument, [ctx, false, false]) as PDFDocument;
  return { doc, xref, size, close: () => closeSync(fd) };
}

/** Starts a new incremental section after `tail` bytes were appended (a signature, before its DSS). */
export function nextSnapshot(doc: PDFDocument, fileSize: number, startxref: number): void {
  const ctx = doc.context;
  ctx.pdfFileDetails.pdfSize = fileSize;
  ctx.pdfFileDetails.prevStartXRef = startxref;
  ctx.snapshot = new IncrementalDocumentSnapshot(ctx.largestObjectNumber, new Set(), fileSize, startxref, ctx);
}
