// PAdES baseline B-B (ETSI EN 319 142-1) with the seal's visible imprint, as an incremental update: the
// original bytes are kept as they are and the signature field, its appearance (the seal's PNG at true
// size) and the signature dictionary are appended (@cantoo/pdf-lib's incremental save), so a second seal
// signs after the first and both stay valid. @signpdf/signpdf fills /ByteRange and /Contents; the CMS
// comes from ./cms.ts (SubFilter ETSI.CAdES.detached, no signing-time: the time is the dictionary's /M).
// A 骑缝章 is one signature field with one widget per page (its slice of the imprint as the widget's
// appearance): widgets of a signature field are what later signatures may add without invalidating earlier
// ones (pyHanko flagged stamp annotations as a disallowed change; drawing into page content would be too).
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import {
  concatTransformationMatrix,
  drawObject,
  PDFArray,
  PDFDict,
  PDFDocument,
  PDFHexString,
  PDFName,
  PDFNumber,
  PDFRef,
  PDFStream,
  PDFString,
  popGraphicsState,
  pushGraphicsState,
} from '@cantoo/pdf-lib';
import { SignPdf } from '@signpdf/signpdf';
import { DEFAULT_BYTE_RANGE_PLACEHOLDER, Signer, SUBFILTER_ETSI_CADES_DETACHED } from '@signpdf/utils';

export const MM = 72 / 25.4;
/** A round public seal's imprint is 42 mm across (GA 241.2). */
export const ROUND_SEAL_MM = 42;
/** Room for the CMS in /Contents: a signature with two certificates is about 1.6 KB. */
const CONTENTS_BYTES = 8192;

export interface Placement {
  /** 1-based page number. */
  page: number;
  /** Centre of the imprint, in millimetres from the page's left and bottom edges; default: lower right. */
  xMm?: number;
  yMm?: number;
  sizeMm: number;
  /**
   * 骑缝章: the imprint cut into as many vertical slices as the document has pages, slice i at the right
   * edge of page i (centred at yMm), so the pages' edges laid side by side show the whole imprint. page and
   * xMm are then not used.
   */
  crossPage?: boolean;
}

export interface PadesInput {
  pdf: Buffer;
  /** The imprint; none: a signature field without an image (a signer that has no imprint of its own). */
  imprintPng?: Buffer;
  placement: Placement;
  signingTime: Date;
  /** Shown by readers (/Name, /Reason): the seal's text and the purpose. */
  name: string;
  reason: string;
  /** Makes the CMS (signed attributes over the covered bytes' digest, signed in the HSM). */
  signCms: (coveredSha256: Buffer) => Promise<Buffer>;
  /** A certification signature (DocMDP, P=2: later form filling and signatures only); the first signature only. */
  certify?: boolean;
}

/** certify asked of a PDF that is already signed (a certification signature must be the first). */
export class CertifyNotFirstError extends Error {}

export class PlacementError extends Error {
  constructor(
    readonly field: 'page' | 'x' | 'y',
    readonly limit: number,
  ) {
    super(`${field} out of range (max ${limit})`);
  }
}

/** Adds the signature field with the imprint, then signs; returns the whole signed PDF. */
export async function signPdf(input: PadesInput): Promise<Buffer> {
  const prepared = await withPlaceholder(input);
  let covered: Buffer | null = null;
  class HsmCmsSigner extends Signer {
    async sign(pdfBuffer: Buffer): Promise<Buffer> {
      covered = createHash('sha256').update(pdfBuffer).digest();
      return input.signCms(covered);
    }
  }
  const signed = await new SignPdf().sign(prepared, new HsmCmsSigner());
  if (!covered) throw new Error('the PDF was not signed');
  return signed;
}

async function withPlaceholder(input: PadesInput): Promise<Buffer> {
  const doc = await PDFDocument.load(input.pdf, { forIncrementalUpdate: true, updateMetadata: false });
  await addSignatureField(doc, input);
  const bytes = Buffer.from(await doc.commit({ useObjectStreams: false }));
  return bytes;
}

/** What a signature adds, for its field and widgets, into a document loaded for an incremental update
 * (whole, or lazily from disk: ./pades-stream.ts); the signature's /Contents is a placeholder. */
export async function addSignatureField(doc: PDFDocument, input: Omit<PadesInput, 'pdf' | 'signCms'>): Promise<void> {
  const pages = doc.getPages();
  const { placement } = input;
  const size = placement.sizeMm * MM;
  const widgets = placement.crossPage ? crossPageWidgets(pages, placement, size) : [singleWidget(pages, placement, size)];

  const ctx = doc.context;
  const snapshot = ctx.snapshot!;
  if (input.certify && (doc.catalog.getAcroForm()?.getAllFields() ?? []).some(([f]) => f.dict.lookup(PDFName.of('FT')) === PDFName.of('Sig') && f.dict.get(PDFName.of('V')))) {
    throw new CertifyNotFirstError('the PDF is already signed');
  }
  // No imprint: a platform signature on a maker's behalf when the maker has no live seal (s6-docs).
  const image = input.imprintPng ? await doc.embedPng(input.imprintPng) : null;
  if (image) await image.embed(); // written now, so its object is part of this update
  // Each widget's appearance: the imprint (transparent background) at true size, shifted left by the part
  // of it shown on earlier pages; the form's BBox (the slice) clips the rest (ISO 32000-1 §8.10.1).
  const appearanceRefs = widgets.map((w) =>
    ctx.register(
      image
        ? ctx.formXObject([pushGraphicsState(), concatTransformationMatrix(size, 0, 0, size, -w.offset, 0), drawObject('Imprint'), popGraphicsState()], {
            BBox: [0, 0, w.rect[2] - w.rect[0], size],
            Resources: { XObject: { Imprint: image.ref } },
          })
        : ctx.formXObject([], { BBox: [0, 0, w.rect[2] - w.rect[0], size] }),
    ),
  );

  const placeholder = PDFName.of(DEFAULT_BYTE_RANGE_PLACEHOLDER);
  const signature = ctx.obj({
    Type: 'Sig',
    Filter: 'Adobe.PPKLite',
    SubFilter: SUBFILTER_ETSI_CADES_DETACHED,
    ByteRange: PDFArray.withContext(ctx),
    Contents: PDFHexString.of('0'.repeat(CONTENTS_BYTES * 2)),
    M: PDFString.fromDate(input.signingTime),
    Name: PDFHexString.fromText(input.name),
    Reason: PDFHexString.fromText(input.reason),
  });
  if (input.certify) {
    // ISO 32000-1 §12.8.2.2: the signature references the DocMDP transform, the catalog's /Perms names it.
    signature.set(PDFName.of('Reference'), ctx.obj([{ Type: 'SigRef', TransformMethod: 'DocMDP', TransformParams: { Type: 'TransformParams', P: 2, V: '1.2' } }]));
  }
  const byteRange = signature.get(PDFName.of('ByteRange')) as PDFArray;
  byteRange.push(PDFNumber.of(0));
  for (let i = 0; i < 3; i++) byteRange.push(placeholder);
  const signatureRef = ctx.register(signature);
  if (input.certify) doc.catalog.set(PDFName.of('Perms'), ctx.obj({ DocMDP: signatureRef }));

  const hadForm = doc.catalog.getAcroForm() !== undefined;
  const acroForm = doc.catalog.getOrCreateAcroForm();
  const fieldNo = acroForm.getAllFields().length + 1;
  const fieldEntries = { FT: 'Sig', V: signatureRef, T: PDFHexString.fromText(`seal-${fieldNo}-${input.signingTime.getTime()}`) };
  const widgetEntries = (i: number) => ({ Type: 'Annot', Subtype: 'Widget', Rect: widgets[i].rect, F: 4 /* print */, P: widgets[i].page.ref, AP: { N: appearanceRefs[i] } });
  let fieldRef: PDFRef;
  const widgetRefs: PDFRef[] = [];
  if (widgets.length === 1) {
    // One field merged with its widget (ISO 32000-1 §12.7.3.1).
    fieldRef = ctx.register(ctx.obj({ ...widgetEntries(0), ...fieldEntries }));
    widgetRefs.push(fieldRef);
  } else {
    // 骑缝章: one signature field whose widgets (its kids, one per page) carry the slices; one signature
    // value covers the document. The kids repeat /V: poppler reads it from each widget, not the parent.
    fieldRef = ctx.register(ctx.obj({ ...fieldEntries, Kids: [] }));
    const kids = (ctx.lookup(fieldRef) as PDFDict).get(PDFName.of('Kids')) as PDFArray;
    widgets.forEach((_, i) => {
      const ref = ctx.register(ctx.obj({ ...widgetEntries(i), V: signatureRef, Parent: fieldRef }));
      kids.push(ref);
      widgetRefs.push(ref);
    });
  }
  widgets.forEach((w, i) => {
    // Not page.node.addAnnot(): it normalises the page (wraps its content streams in q/Q, copies resources),
    // a change validators flag as a modification of the signed content.
    const annots = w.page.node.lookup(PDFName.of('Annots'));
    if (annots instanceof PDFArray) annots.push(widgetRefs[i]);
    else w.page.node.set(PDFName.of('Annots'), ctx.obj([widgetRefs[i]]));
  });
  acroForm.addField(fieldRef);
  acroForm.dict.set(PDFName.of('SigFlags'), PDFNumber.of(3)); // signatures exist; append only

  // Exactly what changed goes into the update: the pages (or their annotation arrays), the form and its
  // field array, and the catalog only when the form is new.
  const raws: unknown[] = [doc.catalog.get(PDFName.of('AcroForm')), acroForm.dict.get(PDFName.of('Fields'))];
  for (const w of widgets) {
    snapshot.markRefForSave(w.page.ref);
    raws.push(w.page.node.get(PDFName.of('Annots')));
  }
  for (const raw of raws) if (raw instanceof PDFRef) snapshot.markRefForSave(raw);
  if (input.certify || !hadForm || !(doc.catalog.get(PDFName.of('AcroForm')) instanceof PDFRef)) snapshot.markObjForSave(doc.catalog);
}

type PdfPage = ReturnType<PDFDocument['getPages']>[number];
/** Where a widget goes: its page, its rectangle (points) and how far the imprint is shifted left in it. */
interface WidgetPlace {
  page: PdfPage;
  rect: [number, number, number, number];
  offset: number;
}

function singleWidget(pages: PdfPage[], placement: Placement, size: number): WidgetPlace {
  if (placement.page < 1 || placement.page > pages.length) throw new PlacementError('page', pages.length);
  const page = pages[placement.page - 1];
  const { width, height } = page.getSize();
  const cx = placement.xMm === undefined ? width - size / 2 - 20 * MM : placement.xMm * MM;
  const cy = placement.yMm === undefined ? size / 2 + 30 * MM : placement.yMm * MM;
  if (cx < 0 || cx > width) throw new PlacementError('x', Math.floor(width / MM));
  if (cy < 0 || cy > height) throw new PlacementError('y', Math.floor(height / MM));
  return { page, rect: [cx - size / 2, cy - size / 2, cx + size / 2, cy + size / 2], offset: 0 };
}

/** 骑缝章: slice i (from the left) of the imprint, size/N wide, at the right edge of page i, centred at yMm (default mid-page). */
function crossPageWidgets(pages: PdfPage[], placement: Placement, size: number): WidgetPlace[] {
  const slice = size / pages.length;
  return pages.map((page, i) => {
    const { width, height } = page.getSize();
    const cy = placement.yMm === undefined ? height / 2 : placement.yMm * MM;
    if (cy - size / 2 < 0 || cy + size / 2 > height) throw new PlacementError('y', Math.floor((height - size / 2) / MM));
    return { page, rect: [width - slice, cy - size / 2, width, cy + size / 2], offset: i * slice };
  });
}

// ---- reading signatures back (verification) ----

export interface PdfSignature {
  byteRange: number[];
  /** The CMS as stored (the /Contents, padding removed by its DER length). */
  cms: Buffer;
  subFilter: string | null;
  /** /M: the claimed signing time. */
  signingTime: Date | null;
  fieldName: string | null;
  /** A certification signature's DocMDP permissions (1, 2 or 3), or null. */
  docMdp: number | null;
}

/** The DER element at the start of `b` (its own length), so the zero padding of /Contents is left out. */
function derPrefix(b: Buffer): Buffer {
  if (b.length < 2 || b[0] !== 0x30) return b;
  const first = b[1];
  if (first < 0x80) return b.subarray(0, 2 + first);
  const n = first & 0x7f;
  if (n === 0 || n > 4 || b.length < 2 + n) return b;
  let len = 0;
  for (let i = 0; i < n; i++) len = len * 256 + b[2 + i];
  return b.subarray(0, Math.min(b.length, 2 + n + len));
}

/** The PDF as pdf-lib reads it for verification: loaded whole from bytes, or a document already open (./pdf-lazy.ts). */
export async function pdfForReading(pdf: Buffer | PDFDocument): Promise<PDFDocument> {
  return pdf instanceof PDFDocument ? pdf : PDFDocument.load(pdf, { ignoreEncryption: true, updateMetadata: false, throwOnInvalidObject: false });
}

/**
 * Every signature field of the PDF that has a value, in the order of the form's fields. A lazily opened
 * document (a large file, ./pdf-lazy.ts) reads only the catalog, the form's fields and their values.
 */
export async function readPdfSignatures(pdf: Buffer | PDFDocument): Promise<PdfSignature[]> {
  const doc = await pdfForReading(pdf);
  const out: PdfSignature[] = [];
  const acroForm = doc.catalog.getAcroForm();
  if (!acroForm) return out;
  for (const [field] of acroForm.getAllFields()) {
    const dict = field.dict;
    if (dict.lookup(PDFName.of('FT')) !== PDFName.of('Sig')) continue;
    const v = dict.lookup(PDFName.of('V'));
    if (!(v instanceof PDFDict)) continue;
    const br = v.lookup(PDFName.of('ByteRange'));
    const contents = v.lookup(PDFName.of('Contents'));
    if (!(br instanceof PDFArray) || !(contents instanceof PDFHexString || contents instanceof PDFString)) continue;
    const byteRange = br.asArray().map((n) => (n instanceof PDFNumber ? n.asNumber() : NaN));
    const m = v.lookup(PDFName.of('M'));
    const t = dict.lookup(PDFName.of('T'));
    out.push({
      byteRange,
      cms: derPrefix(Buffer.from(contents.asBytes())),
      subFilter: (v.lookup(PDFName.of('SubFilter')) as PDFName | undefined)?.decodeText?.() ?? null,
      signingTime: m instanceof PDFString || m instanceof PDFHexString ? safeDate(m) : null,
      fieldName: t instanceof PDFString || t instanceof PDFHexString ? t.decodeText() : null,
      docMdp: docMdpOf(v),
    });
  }
  return out;
}

/** P of the signature's DocMDP reference (default 2, ISO 32000-1 table 254), or null when it certifies nothing. */
function docMdpOf(sig: PDFDict): number | null {
  const refs = sig.lookup(PDFName.of('Reference'));
  if (!(refs instanceof PDFArray)) return null;
  for (const r of refs.asArray()) {
    const ref = r instanceof PDFRef ? sig.context.lookup(r) : r;
    if (!(ref instanceof PDFDict) || ref.lookup(PDFName.of('TransformMethod')) !== PDFName.of('DocMDP')) continue;
    const p = (ref.lookup(PDFName.of('TransformParams')) as PDFDict | undefined)?.lookup(PDFName.of('P'));
    return p instanceof PDFNumber ? p.asNumber() : 2;
  }
  return null;
}

/**
 * What a certification with P=2 forbids, found between the revision a signature covers (the bytes up to
 * `revisionEnd`) and the whole file: pages added or removed, a page's content streams or resources
 * changed, or an annotation other than a signature widget added. Form filling, signatures and the DSS are
 * allowed and not looked at.
 */
export async function disallowedChangesAfter(pdf: Buffer, revisionEnd: number): Promise<string[]> {
  const load = (b: Buffer) => PDFDocument.load(b, { ignoreEncryption: true, updateMetadata: false, throwOnInvalidObject: false });
  const [before, after] = await Promise.all([load(pdf.subarray(0, revisionEnd)), load(pdf)]);
  const digest = (doc: PDFDocument, obj: unknown): string => {
    const h = createHash('sha256');
    const walk = (o: unknown, depth: number) => {
      if (depth > 8) return;
      const v = o instanceof PDFRef ? doc.context.lookup(o) : o;
      if (v && typeof (v as { getContents?: unknown }).getContents === 'function') h.update((v as { getContents(): Uint8Array }).getContents());
      else if (v instanceof PDFArray) v.asArray().forEach((x) => walk(x, depth + 1));
      else if (v instanceof PDFDict) {
        for (const [k, x] of v.entries()) {
          h.update(k.asString());
          walk(x, depth + 1);
        }
      }
      else if (v !== undefined) h.update(String(v));
    };
    walk(obj, 0);
    return h.digest('hex');
  };
  return pageChanges(before, after, digest);
}

/**
 * The same judgement for two lazily opened revisions of a file on disk (./pdf-lazy.ts), without reading any
 * stream's content: an object whose cross-reference entry is the same in both revisions has the same bytes,
 * so what a page's keys reach differs iff its structure differs or it reaches an object `redefined` after
 * the revision (defined anew, or new). A stream too large to parse is followed through its dictionary
 * alone; null when even that cannot be read (its references are not known: the caller cannot judge).
 */
export function disallowedChangesBetween(
  before: PDFDocument,
  after: PDFDocument,
  redefined: (ref: PDFRef) => boolean,
  /** A stream too large to parse whole (a scan's image): its dictionary alone, for its references. */
  largeStreamDictionary: (doc: PDFDocument, ref: PDFRef) => PDFDict | undefined = () => undefined,
): string[] | null {
  let unknown = false;
  const digest = (doc: PDFDocument, obj: unknown): string => {
    const h = createHash('sha256');
    const walk = (o: unknown, depth: number) => {
      if (depth > 8) return;
      if (o instanceof PDFRef) {
        h.update(o.toString());
        if (doc === after && redefined(o)) h.update('(redefined after the revision)');
      }
      let v: unknown;
      try {
        v = o instanceof PDFRef ? doc.context.lookup(o) : o;
      } catch {
        v = o instanceof PDFRef ? largeStreamDictionary(doc, o) : undefined;
        if (v === undefined) {
          unknown = true;
          return;
        }
      }
      if (v instanceof PDFStream) walk(v.dict, depth + 1); // its content: same entry, same bytes
      else if (v instanceof PDFArray) v.asArray().forEach((x) => walk(x, depth + 1));
      else if (v instanceof PDFDict) {
        for (const [k, x] of v.entries()) {
          h.update(k.asString());
          walk(x, depth + 1);
        }
      }
      else if (v !== undefined) h.update(String(v));
    };
    walk(obj, 0);
    return h.digest('hex');
  };
  const changes = pageChanges(before, after, digest);
  return unknown ? null : changes;
}

function pageChanges(before: PDFDocument, after: PDFDocument, digest: (doc: PDFDocument, obj: unknown) => string): string[] {
  const changes: string[] = [];
  const pagesBefore = before.getPages();
  const pagesAfter = after.getPages();
  if (pagesBefore.length !== pagesAfter.length) changes.push(`pages: ${pagesBefore.length} → ${pagesAfter.length}`);
  for (let i = 0; i < Math.min(pagesBefore.length, pagesAfter.length); i++) {
    const [a, b] = [pagesBefore[i].node, pagesAfter[i].node];
    for (const key of ['Contents', 'Resources', 'MediaBox', 'Rotate']) {
      if (digest(before, a.get(PDFName.of(key))) !== digest(after, b.get(PDFName.of(key)))) changes.push(`page ${i + 1}: ${key}`);
    }
    const annots = (doc: PDFDocument, page: PDFDict) => {
      const arr = page.lookup(PDFName.of('Annots'));
      return arr instanceof PDFArray ? arr.asArray().map((r) => (r instanceof PDFRef ? r.toString() : '')) : [];
    };
    const known = new Set(annots(before, a));
    for (const r of annots(after, b)) {
      if (known.has(r)) continue;
      const annot = after.context.lookup(PDFRef.of(Number(r.split(' ')[0]), Number(r.split(' ')[1])));
      const parent = annot instanceof PDFDict ? annot.lookup(PDFName.of('Parent')) : undefined;
      const ft = annot instanceof PDFDict ? (annot.lookup(PDFName.of('FT')) ?? (parent instanceof PDFDict ? parent.lookup(PDFName.of('FT')) : undefined)) : undefined;
      const isSigWidget = annot instanceof PDFDict && annot.lookup(PDFName.of('Subtype')) === PDFName.of('Widget') && ft === PDFName.of('Sig');
      if (!isSigWidget) changes.push(`page ${i + 1}: annotation ${r} added`);
    }
  }
  return changes;
}

function safeDate(s: PDFString | PDFHexString): Date | null {
  try {
    return s.decodeDate();
  } catch {
    return null;
  }
}

/** Whether a ByteRange is two ranges in order, the first from the file's start, within `size` bytes. */
function byteRangeFits(br: number[], size: number): boolean {
  if (br.length !== 4 || br.some((n) => !Number.isInteger(n) || n < 0) || br[0] !== 0) return false;
  return br[0] + br[1] <= br[2] && br[2] + br[3] <= size;
}

/** SHA-256 of the bytes a ByteRange covers, or null when the range does not fit the file. */
export function byteRangeDigest(pdf: Buffer, br: number[]): Buffer | null {
  if (!byteRangeFits(br, pdf.length)) return null;
  const [a, b, c, d] = br;
  return createHash('sha256').update(pdf.subarray(a, a + b)).update(pdf.subarray(c, c + d)).digest();
}

/** The same digest of a file on disk, its two ranges read as streams (a large PDF is never held whole). */
export async function byteRangeDigestOfFile(path: string, br: number[]): Promise<Buffer | null> {
  const { size } = await stat(path);
  if (!byteRangeFits(br, size)) return null;
  const h = createHash('sha256');
  for (const [start, len] of [[br[0], br[1]], [br[2], br[3]]] as const) {
    if (len === 0) continue;
    for await (const chunk of createReadStream(path, { start, end: start + len - 1, highWaterMark: 1024 * 1024 })) h.update(chunk as Buffer);
  }
  return h.digest();
}
