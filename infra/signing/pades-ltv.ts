// PAdES B-LT (ETSI EN 319 142-1 §5.4, ISO 32000-2 §12.8.4.3): the validation data of a signed PDF (the
// certificates of every chain, OCSP answers, CRLs) in the catalog's /DSS dictionary, appended as one more
// incremental update, so that every signature before it stays valid and a validator needs no network.
// A DSS already there (an earlier B-LT signature) is extended, not replaced.
import { pdfForReading } from './pades';
import { PDFArray, PDFDict, PDFDocument, PDFName, PDFRawStream, PDFRef } from '@cantoo/pdf-lib';

export interface ValidationData {
  certificates: Buffer[];
  ocspResponses: Buffer[];
  crls: Buffer[];
}

export async function appendDss(pdf: Buffer, data: ValidationData): Promise<Buffer> {
  const doc = await PDFDocument.load(pdf, { forIncrementalUpdate: true, updateMetadata: false });
  addDss(doc, data);
  return Buffer.from(await doc.commit({ useObjectStreams: false }));
}

/** The DSS changes, marked for the document's next incremental section (whole or lazily loaded: ./pades-stream.ts). */
export function addDss(doc: PDFDocument, data: ValidationData): void {
  const ctx = doc.context;
  const snapshot = ctx.snapshot!;
  let dss = doc.catalog.lookup(PDFName.of('DSS'));
  const existingRef = doc.catalog.get(PDFName.of('DSS'));
  if (!(dss instanceof PDFDict)) dss = ctx.obj({});
  const dict = dss as PDFDict;
  const add = (key: 'Certs' | 'OCSPs' | 'CRLs', items: Buffer[]) => {
    if (items.length === 0) return;
    let arr = dict.lookup(PDFName.of(key));
    if (!(arr instanceof PDFArray)) {
      arr = ctx.obj([]);
      dict.set(PDFName.of(key), arr as PDFArray);
    } else {
      const raw = dict.get(PDFName.of(key));
      if (raw instanceof PDFRef) snapshot.markRefForSave(raw);
    }
    for (const der of items) (arr as PDFArray).push(ctx.register(PDFRawStream.of(ctx.obj({}), new Uint8Array(der))));
  };
  add('Certs', data.certificates);
  add('OCSPs', data.ocspResponses);
  add('CRLs', data.crls);
  if (existingRef instanceof PDFRef) snapshot.markRefForSave(existingRef);
  else {
    doc.catalog.set(PDFName.of('DSS'), ctx.register(dict));
    snapshot.markObjForSave(doc.catalog);
  }
}

/** The DER items of the PDF's /DSS (empty lists when it has none): for the verification report. */
export async function readDss(pdf: Buffer | PDFDocument): Promise<ValidationData> {
  const doc = await pdfForReading(pdf);
  const dss = doc.catalog.lookup(PDFName.of('DSS'));
  const out: ValidationData = { certificates: [], ocspResponses: [], crls: [] };
  if (!(dss instanceof PDFDict)) return out;
  const items = (key: string) => {
    const arr = dss.lookup(PDFName.of(key));
    if (!(arr instanceof PDFArray)) return [];
    return arr.asArray().flatMap((r) => {
      const s = r instanceof PDFRef ? doc.context.lookup(r) : r;
      return s instanceof PDFRawStream && !s.dict.get(PDFName.of('Filter')) ? [Buffer.from(s.contents)] : [];
    });
  };
  return { certificates: items('Certs'), ocspResponses: items('OCSPs'), crls: items('CRLs') };
}
