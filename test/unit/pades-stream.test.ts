// The streamed PAdES writer (large PDFs, issue 12): signed from the file on disk as an incremental update,
// the file never loaded whole. Checked by poppler's pdfsig and pyHanko (trusting the test's self-signed
// certificate), by pdf-lib reading the widget back, and by tampering. A test key made here signs; the
// integration test (test/integration/signing.test.ts) signs through the API with the HSM.
import { execFile, execFileSync } from 'node:child_process';
import { createPrivateKey, sign as nodeSign, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { PDFArray, PDFDict, PDFDocument, PDFName, PDFRef } from '@cantoo/pdf-lib';
import { DomainError } from '../../domain/errors';
import { assembleSignedData, buildSignedAttributes } from '../../infra/signing/cms';
import { byteRangeDigest, CertifyNotFirstError, readPdfSignatures } from '../../infra/signing/pades';
import { readDss } from '../../infra/signing/pades-ltv';
import { signPdfFile } from '../../infra/signing/pades-stream';
import { PNG_BYTES } from '../helpers/fixtures';

const dir = mkdtempSync(path.join(tmpdir(), 'pades-stream-'));
let key: KeyObject;
let certDer: Buffer;
let certPem: string;
const covered: Buffer[] = [];

beforeAll(() => {
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'k.pem', '-out', 'c.pem', '-subj', '/CN=Stream test seal', '-days', '2'], { cwd: dir, stdio: 'ignore' });
  key = createPrivateKey(readFileSync(path.join(dir, 'k.pem')));
  certPem = readFileSync(path.join(dir, 'c.pem'), 'utf8');
  certDer = Buffer.from(certPem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
});

async function signCms(digest: Buffer): Promise<Buffer> {
  covered.push(digest);
  const attrs = buildSignedAttributes({ messageDigest: digest, signerCertificate: certDer });
  return assembleSignedData({ attributes: attrs.attributes, signature: nodeSign('sha256', attrs.der, key), signerCertificate: certDer, chain: [] });
}

async function pdfOf(pages: number, useObjectStreams: boolean): Promise<Buffer> {
  const doc = await PDFDocument.create();
  for (let i = 0; i < pages; i++) doc.addPage([595.28, 841.89]).drawText(`page ${i + 1}`, { x: 50, y: 700 });
  return Buffer.from(await doc.save({ useObjectStreams }));
}

let n = 0;
/** Signs the PDF through the streamed path; answers the whole signed file (the original, then the tail). */
async function streamSign(pdf: Buffer, opts: { page?: number; crossPage?: boolean; certify?: boolean; dss?: boolean } = {}): Promise<Buffer> {
  const file = path.join(dir, `in-${++n}.pdf`);
  writeFileSync(file, pdf);
  const out = await signPdfFile({
    path: file,
    imprintPng: PNG_BYTES,
    placement: { page: opts.page ?? 1, sizeMm: 42, crossPage: opts.crossPage },
    signingTime: new Date(),
    name: '测试专用章',
    reason: 'streamed',
    certify: opts.certify,
    signCms,
    ...(opts.dss ? { validationData: async () => ({ certificates: [certDer], ocspResponses: [], crls: [] }) } : {}),
  });
  expect(out.originalSize).toBe(pdf.length);
  return Buffer.concat([pdf, out.tail]);
}

function pdfsig(pdf: Buffer): string {
  const f = path.join(dir, `check-${++n}.pdf`);
  writeFileSync(f, pdf);
  try {
    return execFileSync('pdfsig', [f], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    return String((e as { stdout?: string }).stdout ?? e);
  }
}

async function pyhanko(pdf: Buffer): Promise<string> {
  const bin = execFileSync('bash', [path.join(__dirname, '../../scripts/ensure-pyhanko.sh')], { encoding: 'utf8' }).trim();
  writeFileSync(path.join(dir, 'h.pdf'), pdf);
  writeFileSync(path.join(dir, 'trust.pem'), certPem);
  const r = await promisify(execFile)(bin, ['sign', 'validate', '--executive-summary', '--trust', 'trust.pem', '--trust-replace', 'h.pdf'], { cwd: dir, encoding: 'utf8' }).catch((e: { stdout: string; stderr: string }) => e);
  return `${r.stdout}${r.stderr}`;
}

/** The signature widgets on each page (by the field's /FT Sig, on the widget or its parent). */
async function widgetsPerPage(pdf: Buffer): Promise<number[]> {
  const doc = await PDFDocument.load(pdf, { updateMetadata: false });
  return doc.getPages().map((p) => {
    const annots = p.node.lookup(PDFName.of('Annots'));
    if (!(annots instanceof PDFArray)) return 0;
    return annots.asArray().filter((r) => {
      const a = doc.context.lookup(r as PDFRef) as PDFDict;
      const parent = a.lookup(PDFName.of('Parent'));
      return (a.lookup(PDFName.of('FT')) ?? (parent instanceof PDFDict ? parent.lookup(PDFName.of('FT')) : undefined)) === PDFName.of('Sig');
    }).length;
  });
}

describe('streamed PAdES (large PDFs, issue 12)', () => {
  it('signs a classic-xref PDF on the chosen page as an incremental update: the original bytes untouched, pdfsig finds the signature valid over the whole file, the ByteRange digest is what the CMS signed', async () => {
    const pdf = await pdfOf(3, false);
    const signed = await streamSign(pdf, { page: 2 });
    expect(signed.subarray(0, pdf.length).equals(pdf)).toBe(true);
    const out = pdfsig(signed);
    expect(out).toMatch(/Signature Type: ETSI\.CAdES\.detached/);
    expect(out).toMatch(/Signature Validation: Signature is Valid\./);
    expect(out).toMatch(/Total document signed/);
    expect(await widgetsPerPage(signed)).toEqual([0, 1, 0]);
    const [sig] = await readPdfSignatures(signed);
    expect(sig!.byteRange[3]! + sig!.byteRange[2]!).toBe(signed.length);
    expect(byteRangeDigest(signed, sig!.byteRange)!.equals(covered.at(-1)!)).toBe(true);
    expect(sig!.fieldName).toMatch(/^seal-1-/);
  });

  it('signs a PDF with a cross-reference stream and object streams, then again on top: both signatures valid for pdfsig and pyHanko (the second a permitted change for the first); a changed byte of the original is detected', async () => {
    const pdf = await pdfOf(2, true);
    expect(pdf.toString('latin1')).toMatch(/\/Type \/ObjStm/);
    const once = await streamSign(pdf, { page: 1 });
    const twice = await streamSign(once, { page: 2 });
    expect(twice.subarray(0, once.length).equals(once)).toBe(true);
    const out = pdfsig(twice);
    expect(out.match(/Signature is Valid\./g)).toHaveLength(2);
    expect(out).toMatch(/Signature #1:[\s\S]*Not total document signed[\s\S]*Signature #2:[\s\S]*Total document signed/);
    expect(await widgetsPerPage(twice)).toEqual([1, 1]);
    const names = (await readPdfSignatures(twice)).map((s) => s.fieldName);
    expect(names).toEqual([expect.stringMatching(/^seal-1-/), expect.stringMatching(/^seal-2-/)]);
    expect((await pyhanko(twice)).match(/:VALID$/gm)).toHaveLength(2);

    const tampered = Buffer.from(twice);
    const at = pdf.indexOf('stream') + 10; // inside the first page's content stream
    tampered[at] = tampered[at] === 0x41 ? 0x42 : 0x41;
    expect(pdfsig(tampered)).not.toMatch(/Signature is Valid\./);
  }, 30_000);

  it('骑缝章 and certification work on the streamed path too; B-LT appends the DSS after the signature; certify on a signed PDF is refused', async () => {
    const pdf = await pdfOf(3, false);
    const certified = await streamSign(pdf, { crossPage: true, certify: true, dss: true });
    expect(await widgetsPerPage(certified)).toEqual([1, 1, 1]);
    const [sig] = await readPdfSignatures(certified);
    expect(sig!.docMdp).toBe(2);
    expect(pdfsig(certified).match(/Signature is Valid\./g)!.length).toBeGreaterThanOrEqual(1);
    expect(sig!.byteRange[2]! + sig!.byteRange[3]!).toBeLessThan(certified.length); // the DSS section comes after
    expect((await readDss(certified)).certificates[0]!.equals(certDer)).toBe(true);
    await expect(streamSign(certified, { certify: true })).rejects.toBeInstanceOf(CertifyNotFirstError);
  });

  it('refuses what is not a readable PDF with PDF_MALFORMED naming the document', async () => {
    const notPdf = Buffer.from('%PDF-1.7\nnothing here\n%%EOF\n');
    const e: unknown = await streamSign(notPdf).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(DomainError);
    expect(e).toMatchObject({ code: 'PDF_MALFORMED', field: 'document' });
  });
});
