// Seals on OFD documents (GB/T 33190-2016 §18, 签名): a signature adds Doc_N/Signs/Sign_K/ with Seal.esl (the
// seal, GB/T 38540), Signature.xml (every file of the package at that moment with its SM3 digest, the stamp
// annotation: page and box of the imprint) and SignedValue.dat (the DER SES_Signature over Signature.xml),
// lists it in Signatures.xml and, on the first signature, names Signatures.xml in OFD.xml. Files are read
// and written with fflate, XML with @xmldom/xmldom. Signatures.xml is the one file a later signature may
// change, so no signature covers it.
import { createHash } from 'node:crypto';
import { DOMParser, XMLSerializer, type Document as XmlDocument, type Element } from '@xmldom/xmldom';
import { unzipSync, zipSync } from 'fflate';
import { checkSesSignature, sm3, type SesSignatureCheck } from './ses';
import { OID_SM2_WITH_SM3 } from './sm2';

export const OFD_NS = 'http://www.ofdspec.org/2016';
/** GM/T 0006: SM3. */
export const OID_SM3 = '1.2.156.10197.1.401';
/** The largest package read (sum of uncompressed sizes): against zip bombs. */
export const OFD_MAX_UNPACKED_BYTES = 256 * 1024 * 1024;

/** Why an OFD cannot be signed or read, with the field it concerns (the API names it). */
export class OfdError extends Error {
  constructor(
    readonly field: 'file' | 'page' | 'x' | 'y',
    readonly zh: string,
    en: string,
    readonly limit?: number,
  ) {
    super(en);
  }
}

type Files = Record<string, Uint8Array>;

function unpack(ofd: Buffer): Files {
  let total = 0;
  try {
    return unzipSync(new Uint8Array(ofd), {
      filter: (f) => {
        total += f.originalSize;
        if (total > OFD_MAX_UNPACKED_BYTES) throw new OfdError('file', '解压后过大', 'is too large unpacked');
        return true;
      },
    });
  } catch (e) {
    if (e instanceof OfdError) throw e;
    throw new OfdError('file', '不是 OFD 文件（无法作为 ZIP 包读取）', 'is not an OFD file (not a readable ZIP package)');
  }
}

const clean = (p: string) => p.replace(/^\/+/, '');
const dirOf = (p: string) => (p.includes('/') ? p.slice(0, p.lastIndexOf('/')) : '');
/** A package path from an ST_Loc: absolute ("/Doc_0/…") or relative to `base`'s folder; no "..". */
function resolveLoc(loc: string, baseFile: string): string {
  const joined = loc.startsWith('/') ? clean(loc) : [dirOf(baseFile), loc].filter(Boolean).join('/');
  const parts: string[] = [];
  for (const part of joined.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') parts.pop();
    else parts.push(part);
  }
  return parts.join('/');
}

function parseXml(files: Files, path: string): XmlDocument {
  const bytes = files[path];
  if (!bytes) throw new OfdError('file', `缺少 ${path}`, `lacks ${path}`);
  try {
    return new DOMParser().parseFromString(Buffer.from(bytes).toString('utf8'), 'text/xml');
  } catch {
    throw new OfdError('file', `中的 ${path} 不是有效的 XML`, `has an invalid XML file ${path}`);
  }
}

const children = (parent: Element | XmlDocument, local: string): Element[] =>
  Array.from(parent.childNodes).filter((n): n is Element => n.nodeType === 1 && (n as Element).namespaceURI === OFD_NS && (n as Element).localName === local);
const child = (parent: Element | XmlDocument, local: string) => children(parent, local)[0];
const text = (e: Element | undefined) => e?.textContent?.trim() ?? '';
const serialize = (doc: XmlDocument) => Buffer.from(`<?xml version="1.0" encoding="UTF-8"?>${new XMLSerializer().serializeToString(doc).replace(/^<\?xml[^>]*\?>/, '')}`, 'utf8');

function add(doc: XmlDocument, parent: Element, local: string, attrs: Record<string, string> = {}, content?: string): Element {
  const e = doc.createElementNS(OFD_NS, `ofd:${local}`);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (content !== undefined) e.appendChild(doc.createTextNode(content));
  parent.appendChild(e);
  return e;
}

const ofdTime = (d: Date) => d.toISOString().replace(/[-:T]/g, '').replace(/\.\d+Z$/, 'Z');
const mm = (n: number) => String(Math.round(n * 100) / 100);

/** The first document of the package: its DocBody, its Document.xml path. */
function firstDocument(files: Files) {
  if (!files['OFD.xml']) throw new OfdError('file', '不是 OFD 文件（缺少 OFD.xml）', 'is not an OFD file (no OFD.xml)');
  const ofdXml = parseXml(files, 'OFD.xml');
  const root = ofdXml.documentElement;
  const body = root && child(root, 'DocBody');
  const docRoot = body && text(child(body, 'DocRoot'));
  if (!root || root.localName !== 'OFD' || !body || !docRoot) throw new OfdError('file', '不是 OFD 文件（OFD.xml 中没有文档）', 'is not an OFD file (no document in OFD.xml)');
  return { ofdXml, body, documentPath: resolveLoc(docRoot, 'OFD.xml') };
}

export interface OfdStamp {
  /** Page number from 1. */
  page: number;
  /** Centre of the imprint, in mm from the page's left and top edges (OFD's coordinate system); default lower right. */
  xMm?: number | null;
  yMm?: number | null;
  sizeMm: number;
}

/**
 * Adds one seal signature to an OFD package. `signSes` receives the Signature.xml bytes and its path and
 * returns the DER SES_Signature over them (the seal's key signs inside the HSM worker).
 */
export async function signOfd(p: {
  ofd: Buffer;
  seal: Buffer;
  stamp: OfdStamp;
  time: Date;
  provider: { name: string; company: string; version: string };
  signSes: (signatureXml: Buffer, propertyInfo: string) => Promise<Buffer>;
}): Promise<Buffer> {
  const files = unpack(p.ofd);
  const { ofdXml, body, documentPath } = firstDocument(files);

  // The page: its ID for PageRef, its size for the stamp's bounds.
  const document = parseXml(files, documentPath).documentElement!;
  const pages = child(document, 'Pages') ? children(child(document, 'Pages'), 'Page') : [];
  if (p.stamp.page > pages.length) throw new OfdError('page', `超出页数（共 ${pages.length} 页）`, `is beyond the last page (${pages.length})`, pages.length);
  const pageId = pages[p.stamp.page - 1].getAttribute('ID') ?? '';
  const common = child(document, 'CommonData');
  const area = common && child(common, 'PageArea');
  const box = text(area && child(area, 'PhysicalBox'))
    .split(/\s+/)
    .map(Number);
  const [pageW, pageH] = box.length === 4 && box.every(Number.isFinite) ? [box[2], box[3]] : [210, 297];
  const x = p.stamp.xMm ?? Math.max(0, pageW - p.stamp.sizeMm);
  const y = p.stamp.yMm ?? Math.max(0, pageH - 1.5 * p.stamp.sizeMm);
  if (x > pageW) throw new OfdError('x', `超出页面（最大 ${pageW}）`, `is outside the page (at most ${pageW})`, pageW);
  if (y > pageH) throw new OfdError('y', `超出页面（最大 ${pageH}）`, `is outside the page (at most ${pageH})`, pageH);

  // Signatures.xml: named in OFD.xml on the first signature.
  let signaturesPath: string;
  const named = text(child(body, 'Signatures'));
  if (named) {
    signaturesPath = resolveLoc(named, 'OFD.xml');
  } else {
    signaturesPath = [dirOf(documentPath), 'Signs', 'Signatures.xml'].filter(Boolean).join('/');
    add(ofdXml, body, 'Signatures', {}, `/${signaturesPath}`);
    files['OFD.xml'] = serialize(ofdXml);
  }
  let signaturesXml: XmlDocument;
  if (files[signaturesPath]) {
    signaturesXml = parseXml(files, signaturesPath);
  } else {
    signaturesXml = new DOMParser().parseFromString(`<ofd:Signatures xmlns:ofd="${OFD_NS}"/>`, 'text/xml');
  }
  const list = signaturesXml.documentElement!;
  const existing = children(list, 'Signature');
  const maxId = Math.max(0, Number(text(child(list, 'MaxSignId'))) || 0, ...existing.map((s) => Number(s.getAttribute('ID')) || 0));
  const id = String(maxId + 1);
  let k = existing.length;
  const signsDir = dirOf(signaturesPath);
  while (Object.keys(files).some((f) => f.startsWith(`${signsDir}/Sign_${k}/`))) k++;
  const signDir = `${signsDir}/Sign_${k}`;

  files[`${signDir}/Seal.esl`] = new Uint8Array(p.seal);
  const sig = new DOMParser().parseFromString(`<ofd:Signature xmlns:ofd="${OFD_NS}"/>`, 'text/xml');
  const info = add(sig, sig.documentElement!, 'SignedInfo');
  add(sig, info, 'Provider', { ProviderName: p.provider.name, Company: p.provider.company, Version: p.provider.version });
  add(sig, info, 'SignatureMethod', {}, OID_SM2_WITH_SM3);
  add(sig, info, 'SignatureDateTime', {}, ofdTime(p.time));
  const refs = add(sig, info, 'References', { CheckMethod: OID_SM3 });
  for (const path of Object.keys(files).sort()) {
    if (path === signaturesPath || path.endsWith('/')) continue;
    const ref = add(sig, refs, 'Reference', { FileRef: `/${path}` });
    add(sig, ref, 'CheckValue', {}, sm3(Buffer.from(files[path])).toString('base64'));
  }
  const half = p.stamp.sizeMm / 2;
  add(sig, info, 'StampAnnot', { ID: '1', PageRef: pageId, Boundary: [x - half, y - half, p.stamp.sizeMm, p.stamp.sizeMm].map(mm).join(' ') });
  const sealEl = add(sig, info, 'Seal');
  add(sig, sealEl, 'BaseLoc', {}, `/${signDir}/Seal.esl`);
  add(sig, sig.documentElement!, 'SignedValue', {}, `/${signDir}/SignedValue.dat`);
  const signatureXml = serialize(sig);

  const signedValue = await p.signSes(signatureXml, `/${signDir}/Signature.xml`);
  files[`${signDir}/Signature.xml`] = new Uint8Array(signatureXml);
  files[`${signDir}/SignedValue.dat`] = new Uint8Array(signedValue);

  for (const m of children(list, 'MaxSignId')) list.removeChild(m);
  const max = signaturesXml.createElementNS(OFD_NS, 'ofd:MaxSignId');
  max.appendChild(signaturesXml.createTextNode(id));
  list.insertBefore(max, list.firstChild);
  add(signaturesXml, list, 'Signature', { ID: id, Type: 'Seal', BaseLoc: `/${signDir}/Signature.xml` });
  files[signaturesPath] = serialize(signaturesXml);
  return Buffer.from(zipSync(files, { level: 6 }));
}

export interface OfdSignatureCheck {
  id: string;
  signaturePath: string;
  /** SHA-256 of Signature.xml (what the SES_Signature covers; the use register keeps it). */
  signatureXmlSha256: string | null;
  /** Every referenced file present with its SM3 digest; the names of those that are not. */
  filesIntact: boolean;
  alteredFiles: string[];
  /** Files of the package no signature of this one covers (added later), other than Signatures.xml. */
  uncoveredFiles: string[];
  /** Seal.esl is the seal inside the SES_Signature. */
  sealMatches: boolean | null;
  ses: SesSignatureCheck | null;
  stamp: { pageRef: string; boundary: string } | null;
  error?: { zh: string; en: string };
}

/** Reads every seal signature of an OFD package and checks it (files, SES_Signature, seal). */
export function checkOfdSignatures(ofd: Buffer): OfdSignatureCheck[] {
  const files = unpack(ofd);
  const { body } = firstDocument(files);
  const named = text(child(body, 'Signatures'));
  if (!named) return [];
  const signaturesPath = resolveLoc(named, 'OFD.xml');
  const list = parseXml(files, signaturesPath).documentElement!;
  return children(list, 'Signature').map((entry) => {
    const signaturePath = resolveLoc(entry.getAttribute('BaseLoc') ?? '', signaturesPath);
    const result: OfdSignatureCheck = { id: entry.getAttribute('ID') ?? '', signaturePath, signatureXmlSha256: null, filesIntact: false, alteredFiles: [], uncoveredFiles: [], sealMatches: null, ses: null, stamp: null };
    try {
      const sig = parseXml(files, signaturePath).documentElement!;
      result.signatureXmlSha256 = createHash('sha256').update(files[signaturePath]).digest('hex');
      const info = child(sig, 'SignedInfo');
      const refs = info && child(info, 'References');
      const method = refs?.getAttribute('CheckMethod') ?? '';
      if (!refs || (method !== OID_SM3 && method.toUpperCase() !== 'SM3')) throw new OfdError('file', `签名 ${result.id} 的摘要算法不是 SM3`, `signature ${result.id} does not use SM3 digests`);
      const covered = new Set<string>();
      for (const ref of children(refs, 'Reference')) {
        const path = resolveLoc(ref.getAttribute('FileRef') ?? '', signaturePath);
        covered.add(path);
        const bytes = files[path];
        if (!bytes || !sm3(Buffer.from(bytes)).equals(Buffer.from(text(child(ref, 'CheckValue')), 'base64'))) result.alteredFiles.push(`/${path}`);
      }
      result.filesIntact = covered.size > 0 && result.alteredFiles.length === 0;
      const ownDir = dirOf(signaturePath);
      result.uncoveredFiles = Object.keys(files)
        .filter((f) => !f.endsWith('/') && !covered.has(f) && f !== signaturesPath && !f.startsWith(`${ownDir}/`))
        .map((f) => `/${f}`);
      const valuePath = resolveLoc(text(child(sig, 'SignedValue')), signaturePath);
      const value = files[valuePath];
      if (!value) throw new OfdError('file', `缺少签名值 ${valuePath}`, `lacks the signed value ${valuePath}`);
      result.ses = checkSesSignature(Buffer.from(value), Buffer.from(files[signaturePath]));
      const sealLoc = info && child(info, 'Seal') && text(child(child(info, 'Seal'), 'BaseLoc'));
      if (sealLoc) {
        const seal = files[resolveLoc(sealLoc, signaturePath)];
        result.sealMatches = !!seal && Buffer.from(seal).equals(result.ses.sealDer);
      }
      const stamp = info && child(info, 'StampAnnot');
      if (stamp) result.stamp = { pageRef: stamp.getAttribute('PageRef') ?? '', boundary: stamp.getAttribute('Boundary') ?? '' };
    } catch (e) {
      result.error = e instanceof OfdError ? { zh: e.zh, en: e.message } : { zh: '签名数据无法解析', en: 'The signature data cannot be parsed' };
    }
    return result;
  });
}
