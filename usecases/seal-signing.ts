// A keeper signs a document with a seal (U1, C1, C2) and the holder reads its use register (C4 用印登记).
// Who: the holder's staff send the request, naming the keeper (resident ID number) and giving the seal's
// protection password, which only keepers know; checkMaySign judges seal, keeper and password (wrong
// passwords count towards the lock). The document is hashed as it streams in (web/upload.ts) and never
// leaves this process: the seal's key signs only the signed attributes, in the HSM, through the
// `signature:<id>` workflow, which also writes the register entry. Every attempt, refused or done, is in the
// audit trail (the HTTP audit middleware); every signature is also an audit entry of its own (`seal.use`).
import { createHash, randomUUID, X509Certificate } from 'node:crypto';
import { Readable } from 'node:stream';
import { WorkflowExecutionAlreadyStartedError, WorkflowFailedError, type Client } from '@temporalio/client';
import { suiteHasGm, type Config } from '../infra/config';
import type { Db } from '../infra/db';
import type { Hsm } from '../infra/hsm/hsm';
import type { IncomingFile } from '../infra/blobs';
import { currentAuditContext } from '../infra/audit/context';
import { personalData } from '../infra/crypto/personal-data';
import { assembleSignedData, buildSignedAttributes, signatureTimeStampAttribute } from '../infra/signing/cms';
import { conflict, DomainError, invalidField, notFound, requiredField, ValidationCollector } from '../domain/errors';
import { maySignError } from '../domain/protection-password';
import { identityKey, parseIdentityDocument } from '../domain/identity-documents';
import { assertFormatInSuite, documentName, imprintSizeMm, parseCertify, parseCrossPage, parseDocumentType, parseOptionalInt, parseOptionalMm, parsePurpose, parseSignatureFormat, parseSignatureLevel, SIGN_FIELDS, type DocumentType, type SignatureFormat, type SignatureLevel } from '../domain/signing';
import { CertifyNotFirstError, PlacementError, signPdf, type PadesInput } from '../infra/signing/pades';
import { signPdfFile } from '../infra/signing/pades-stream';
import { appendDss, type ValidationData } from '../infra/signing/pades-ltv';
import { ocspRequestDer } from '../infra/pki/ocsp-request';
import { answerOcsp } from '../infra/pki/ocsp';
import { currentCrl } from '../infra/pki/crl';
import { rootCrlPath } from '../infra/pki/root-crl';
import { readFile } from 'node:fs/promises';
import { checkMaySign } from './protection-passwords';
import { notifyPasswordLocked } from './password-lock';
import { nationalSealWorkflow, sealSignatureWorkflow } from '../workflows/seal-signature';
import { domainRefusal } from '../workflows/activity-policies';
import { OfdError, signOfd } from '../infra/gm/ofd';
import { makeSesSignature, sm3 } from '../infra/gm/ses';
import { certificateSerialHex } from '../infra/gm/sm2-certificates';
import { SEAL_NOT_LIVE } from '../domain/signing';
import type { Actor } from '../domain/actor';
import { forbidden } from '../domain/refusals';
import { USE_FIELDS } from '../domain/use-approval';
import { checkUseRequest, requiresUseApproval } from './use-approval';

export interface SigningDeps {
  db: Db;
  hsm?: Hsm;
  temporal: Client;
  config: Config;
}

/** Largest document signed: it is staged on disk and hashed as it streams, never held whole for CMS. */
export const SIGN_MAX_BYTES = 256 * 1024 * 1024;
/**
 * A PDF read whole (pdf-lib parses it in memory): verification, and signing of a PDF not staged on disk. A
 * staged PDF above pki.padesStreamAboveBytes is signed from disk as a stream, up to SIGN_MAX_BYTES.
 */
export const PADES_MAX_BYTES = 64 * 1024 * 1024;
/** An OFD package is read whole too (unzipped in memory to add the signature's files). */
export const OFD_MAX_BYTES = 64 * 1024 * 1024;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

interface SealRow {
  id: string;
  status: string;
  case_id: string;
  holder_id: string;
  kind: string;
  text: string;
  certificate_der: Buffer | null;
  certificate_serial: string | null;
}

async function loadSeal(db: Db, sealId: string): Promise<SealRow> {
  const missing = () => notFound('SEAL_NOT_FOUND', '印章不存在', 'Seal not found');
  if (!UUID.test(sealId)) throw missing();
  const seal = await db('seals').where({ id: sealId }).first('id', 'status', 'case_id', 'holder_id', 'kind', 'text', 'certificate_der', 'certificate_serial');
  if (!seal) throw missing();
  return seal;
}

export interface SignRequest {
  fields: Record<string, string>;
  file: IncomingFile | null;
  channel?: 'api' | 'web';
}

export interface SignedResult {
  registerId: string;
  format: SignatureFormat;
  documentName: string;
  documentSha256: string;
  signedAt: string;
  level: SignatureLevel;
  /**
   * The .p7s (cms) or the signed document, to answer as a stream: from memory, or (a large PDF signed as a
   * stream) the upload's staging file followed by the signature's update, so it is never held whole.
   */
  content: SignedContent;
  fileName: string;
  contentType: string;
}

export interface SignedContent {
  size: number;
  open(): Readable;
}

const inMemory = (bytes: Buffer): SignedContent => ({ size: bytes.length, open: () => Readable.from([bytes]) });

/** POST /api/seals/{id}/signatures: the keeper's signature with the seal over the uploaded file. */
export async function signDocument(deps: SigningDeps, actor: Actor, sealId: string, req: SignRequest, now = new Date()): Promise<SignedResult> {
  const seal = await loadSeal(deps.db, sealId);
  // The holder's staff, or (U2) an API client of the holder (a maker's client: the maker's own seals) whose
  // token holds the sign scope; either way the keeper and the password come with the request.
  const mayUse = actor.client ? actor.client.scopes.includes('sign') : actor.role === 'holder';
  if (!mayUse || !actor.holderId || actor.holderId !== seal.holder_id) throw forbidden("Only the seal holder's staff may sign with it", '只有印章所属单位的人员可以使用此印章签章');

  const f = req.fields;
  const v = new ValidationCollector();
  const idNumber = v.check(() => identityKey(parseIdentityDocument({ type: f.id_type, number: f.id_number, country: f.id_country }, { type: SIGN_FIELDS.idType, number: SIGN_FIELDS.idNumber, country: SIGN_FIELDS.idCountry }, now)));
  if (typeof f.password !== 'string' || f.password === '') v.add(requiredField(SIGN_FIELDS.password));
  // 三(四) 使用流程: a use approved through a request names it; purpose and document type are then the request's.
  const useRequestId = typeof f.use_request_id === 'string' && f.use_request_id.trim() !== '' ? f.use_request_id.trim() : null;
  let purpose = useRequestId ? undefined : v.check(() => parsePurpose(f.purpose));
  let documentType = useRequestId ? undefined : v.check(() => parseDocumentType(f.document_type));
  const format = v.check(() => parseSignatureFormat(f.format ?? 'cms'));
  const level = v.check(() => parseSignatureLevel(f.level, format)) ?? 'B-B';
  const certify = v.check(() => parseCertify(f.certify, format)) ?? false;
  const crossPage = v.check(() => parseCrossPage(f.cross_page, format)) ?? false;
  const file = req.file;
  if (!file) v.add(requiredField(SIGN_FIELDS.file));
  else if (file.truncated) v.add(invalidField(SIGN_FIELDS.file, `超过 ${SIGN_MAX_BYTES / 1024 / 1024} MiB`, `exceeds ${SIGN_MAX_BYTES / 1024 / 1024} MiB`, { code: 'UPLOAD_TOO_LARGE', httpStatus: 413 }));
  else if (file.size === 0) v.add(invalidField(SIGN_FIELDS.file, '是空文件', 'is empty'));
  else if (format === 'pades' && file.contentType !== 'application/pdf') v.add(invalidField(SIGN_FIELDS.file, 'PDF 签章只能用于 PDF 文件', 'a PDF signature needs a PDF file'));
  // PAdES: where the imprint goes (page from 1; its centre in mm from the page's left and bottom edges); a
  // 骑缝章 (cross_page) is on every page's right edge at height y.
  const page = v.check(() => parseOptionalInt(f.page, SIGN_FIELDS.page, 1, 100_000)) ?? 1;
  const xMm = v.check(() => parseOptionalMm(f.x, SIGN_FIELDS.x, 0, 5000));
  const yMm = v.check(() => parseOptionalMm(f.y, SIGN_FIELDS.y, 0, 5000));
  if (format) v.check(() => assertFormatInSuite(format, deps.config.pki.algorithmSuite));
  if (format === 'ofd' && file && file.size > OFD_MAX_BYTES) v.add(invalidField(SIGN_FIELDS.file, `OFD 签章的文件最大 ${OFD_MAX_BYTES / 1024 / 1024} MiB`, `is at most ${OFD_MAX_BYTES / 1024 / 1024} MiB for an OFD signature`, { code: 'UPLOAD_TOO_LARGE', httpStatus: 413 }));
  if (format === 'pades' && file && file.size > PADES_MAX_BYTES && !file.path) v.add(invalidField(SIGN_FIELDS.file, `PDF 签章的文件最大 ${PADES_MAX_BYTES / 1024 / 1024} MiB`, `is at most ${PADES_MAX_BYTES / 1024 / 1024} MiB for a PDF signature`, { code: 'UPLOAD_TOO_LARGE', httpStatus: 413 }));
  v.throwIfAny();
  if (!useRequestId && (await requiresUseApproval(deps.db, seal.id))) {
    throw new DomainError({ code: 'USE_APPROVAL_REQUIRED', field: USE_FIELDS.useRequestId, httpStatus: 409, messageZh: '用印申请：此印章每次用印须经审批，请先提出用印申请并获批准', messageEn: 'Use request: every use of this seal must be approved; make a use request and have it approved first' });
  }

  // C1 C2 U1: seal live, keeper current, password right (a wrong one counts towards the lock).
  const check = await checkMaySign(deps, seal.id, idNumber!, f.password!, now);
  if (!check.allowed) {
    if (check.reason === 'locked') await notifyPasswordLocked(deps, seal.id, now);
    if (check.reason === 'wrong_password') {
      throw invalidField(SIGN_FIELDS.password, `不正确（再输错${check.attemptsLeft}次将被锁定）`, `is wrong (${check.attemptsLeft} more wrong attempts lock it)`, {
        code: 'WRONG_PASSWORD',
        httpStatus: 403,
        details: { attempts_left: check.attemptsLeft },
      });
    }
    throw maySignError(check);
  }
  const keeper = await deps.db('seal_keepers')
    .where({ seal_id: seal.id, id_number_hmac: await personalData(deps).idLookupHash(idNumber!) })
    .whereNull('removed_at')
    .first('id');
  if (!keeper || !seal.certificate_der || !seal.certificate_serial) throw maySignError({ allowed: false, reason: 'not_live', zh: '印章没有可用的证书，不能签章', en: 'The seal has no certificate to sign with' });
  // The approved request: this holder's, this seal's, approved and unused, for exactly this file (its SHA-256).
  // A fast, clear refusal; the signature's workflow then reserves it and spends it only once it has signed.
  if (useRequestId) {
    const approved = await checkUseRequest(deps.db, actor, useRequestId, seal.id, file!.sha256);
    purpose = approved.purpose;
    documentType = approved.document_type;
  }

  const registerId = randomUUID();
  const signerCertificate = Buffer.from(seal.certificate_der);
  const chain = [await issuerOf(deps.db, signerCertificate)];
  const name = documentName(file!.filename);
  const entry = {
    id: registerId,
    sealId: seal.id,
    caseId: seal.case_id,
    keeperId: keeper.id,
    approverId: null as string | null, // the signature's workflow names the approver of the request it reserved
    useRequestId,
    purpose: purpose!,
    documentType: documentType as DocumentType,
    documentName: name,
    format: format!,
    certificateSerial: seal.certificate_serial,
    requestedBy: actor,
    channel: req.channel ?? 'api',
    clientAddress: currentAuditContext()?.clientAddress ?? null,
  };
  if (format === 'cms') {
    // CAdES-B-B over the file as uploaded (its SHA-256 was computed as it streamed in).
    const signedAttrs = buildSignedAttributes({ messageDigest: Buffer.from(file!.sha256, 'hex'), signerCertificate, signingTime: now });
    const signed = await runSignature(deps, { toBeSigned: signedAttrs.der, entry: { ...entry, documentSha256: file!.sha256 }, timestamp: level !== 'B-B' });
    const p7s = assembleSignedData({ attributes: signedAttrs.attributes, signature: signed.signature, signerCertificate, chain, unsignedAttributes: unsignedOf(signed) });
    return { registerId, format, level, documentName: name, documentSha256: file!.sha256, signedAt: signed.signedAt, content: inMemory(p7s), fileName: `${name}.p7s`, contentType: 'application/pkcs7-signature' };
  }

  if (format === 'ofd') return signOfdDocument(deps, { sealId: seal.id, kind: seal.kind, text: seal.text }, file!, entry, { page, xMm, yMm }, now);

  // PAdES B-B: the imprint and the signature appended as an incremental update; the register keeps the
  // SHA-256 of what the signature covers (its ByteRange), which is what a verifier finds.
  const imprint = await deps.db('seals').where({ id: seal.id }).first('imprint_png');
  if (!imprint?.imprint_png) throw maySignError({ allowed: false, reason: 'not_live', zh: '印章没有印模图像，不能签章', en: 'The seal has no imprint image to sign with' });
  let signedAt = now.toISOString();
  let coveredHex: string | null = null;
  const padesInput: Omit<PadesInput, 'pdf'> = {
    imprintPng: Buffer.from(imprint.imprint_png),
    placement: { page, xMm, yMm, sizeMm: imprintSizeMm(seal.kind), crossPage },
    signingTime: now,
    name: seal.text,
    reason: purpose!,
    certify,
    signCms: async (covered) => {
      coveredHex = covered.toString('hex');
      const signedAttrs = buildSignedAttributes({ messageDigest: covered, signerCertificate });
      const signed = await runSignature(deps, { toBeSigned: signedAttrs.der, entry: { ...entry, documentSha256: covered.toString('hex') }, timestamp: level !== 'B-B' });
      signedAt = signed.signedAt;
      return assembleSignedData({ attributes: signedAttrs.attributes, signature: signed.signature, signerCertificate, chain, unsignedAttributes: unsignedOf(signed) });
    },
  };
  // B-LT: the validation data of the seal's and the TSA's chains, as of now, appended after the signature.
  const ltv = level === 'B-LT' ? () => validationData(deps, signerCertificate, chain[0]) : undefined;
  // A large staged PDF is signed from disk (issue 12: flat memory); the answer is the upload, then the update.
  const streamed = file!.path !== undefined && file!.size > deps.config.pki.padesStreamAboveBytes ? file!.path : null;
  let content: SignedContent;
  try {
    if (streamed) {
      const out = await signPdfFile({ ...padesInput, path: streamed, ...(ltv ? { validationData: ltv } : {}) });
      content = {
        size: out.originalSize + out.tail.length,
        open: () => Readable.from((async function* () {
          yield* file!.open();
          yield out.tail;
        })()),
      };
    } else {
      let pdf = await signPdf({ ...padesInput, pdf: await file!.readBytes() });
      if (ltv) pdf = await appendDss(pdf, await ltv());
      content = inMemory(pdf);
    }
  } catch (e) {
    if (e instanceof PlacementError) {
      const field = e.field === 'page' ? SIGN_FIELDS.page : e.field === 'x' ? SIGN_FIELDS.x : SIGN_FIELDS.y;
      throw invalidField(field, `超出页面（最大 ${e.limit}）`, `is outside the page (at most ${e.limit})`);
    }
    if (e instanceof CertifyNotFirstError) {
      throw invalidField(SIGN_FIELDS.certify, '只能用于文件的第一个签章（此 PDF 已有签名）', 'is for the first signature only (this PDF is already signed)', { code: 'CERTIFY_NOT_FIRST', httpStatus: 409 });
    }
    if (coveredHex !== null || (e instanceof DomainError && e.code !== 'PDF_MALFORMED')) throw e;
    // pdf-lib (or the streamed reader) could not read it: an encrypted, damaged or unsupported PDF.
    throw invalidField(SIGN_FIELDS.file, '无法读取此 PDF（已加密、损坏或不支持）', 'cannot be read as a PDF (encrypted, damaged or unsupported)', { code: 'PDF_UNREADABLE' });
  }
  return { registerId, format: 'pades', level, documentName: name, documentSha256: coveredHex!, signedAt, content, fileName: name.toLowerCase().endsWith('.pdf') ? name : `${name}.pdf`, contentType: 'application/pdf' };
}

type EntryDraft = Omit<Parameters<typeof sealSignatureWorkflow>[0]['entry'], 'documentSha256' | 'certificateSerial'> & { certificateSerial: string };

/**
 * OFD (GB/T 33190) signed with the seal in the national format: the seal's SM2 key, certificate and SESeal
 * are made on its first OFD signature (workflow `national-seal:<sealId>`, HSM worker); the SES_Signature's
 * TBS_Sign is signed by that key in the HSM worker through the same `signature:<id>` workflow, which writes
 * the register entry (its document hash: the SHA-256 of the Signature.xml the signature covers, which lists
 * every file of the package with its SM3 digest).
 */
async function signOfdDocument(
  deps: SigningDeps,
  seal: { sealId: string; kind: string; text: string },
  file: IncomingFile,
  entry: EntryDraft,
  at: { page: number; xMm: number | null | undefined; yMm: number | null | undefined },
  now: Date,
): Promise<SignedResult> {
  const ofd = await file.readBytes();
  await ensureNationalSeal(deps, seal.sealId);
  const national = await deps.db('seal_national').where({ seal_id: seal.sealId }).first('seal_der', 'certificate_der');
  const signerCertificate = Buffer.from(national.certificate_der);
  let signedAt = now.toISOString();
  let coveredHex: string | null = null;
  let signed: Buffer;
  try {
    signed = await signOfd({
      ofd,
      seal: Buffer.from(national.seal_der),
      stamp: { page: at.page, xMm: at.xMm, yMm: at.yMm, sizeMm: imprintSizeMm(seal.kind) },
      time: now,
      provider: { name: 'Beijing e-seal back office', company: '北京市电子印章管理平台', version: '1' },
      signSes: (signatureXml, where) =>
        makeSesSignature({
          seal: Buffer.from(national.seal_der),
          signerCertificate,
          dataHash: sm3(signatureXml),
          propertyInfo: where,
          time: now,
          sign: async (tbs) => {
            coveredHex = createHash('sha256').update(signatureXml).digest('hex');
            const out = await runSignature(deps, { toBeSigned: tbs, keyKind: 'sm2', entry: { ...entry, certificateSerial: certificateSerialHex(signerCertificate), documentSha256: coveredHex } });
            signedAt = out.signedAt;
            return out.signature;
          },
        }),
    });
  } catch (e) {
    if (e instanceof OfdError) {
      const field = e.field === 'page' ? SIGN_FIELDS.page : e.field === 'x' ? SIGN_FIELDS.x : e.field === 'y' ? SIGN_FIELDS.y : SIGN_FIELDS.file;
      throw invalidField(field, e.zh, e.message, e.field === 'file' ? { code: 'OFD_UNREADABLE' } : {});
    }
    throw e;
  }
  const name = entry.documentName;
  return { registerId: entry.id, format: 'ofd', level: 'B-B', documentName: name, documentSha256: coveredHex!, signedAt, content: inMemory(signed), fileName: name.toLowerCase().endsWith('.ofd') ? name : `${name}.ofd`, contentType: 'application/ofd' };
}

/**
 * GET /api/seals/{id}/national-seal: the seal's GB/T 38540 SESeal (DER), made now if the seal has none yet,
 * for the holder's staff (the same seal is inside every OFD signature it makes).
 */
export async function nationalSealData(deps: SigningDeps, actor: Actor, sealId: string): Promise<{ der: Buffer; fileName: string }> {
  const seal = await loadSeal(deps.db, sealId);
  if (actor.role !== 'holder' || actor.holderId !== seal.holder_id) throw forbidden("Only the seal holder's staff may download its seal data", '只有印章所属单位的人员可以下载其电子印章数据');
  const made = await deps.db('seal_national').where({ seal_id: seal.id }).first('seal_id');
  if (!made && !suiteHasGm(deps.config)) throw conflict('NO_NATIONAL_SEAL', '本平台未启用国密算法（SM2/SM3），此印章没有电子印章数据（GB/T 38540）', 'This platform does not offer the SM2/SM3 suite: the seal has no GB/T 38540 seal data');
  await ensureNationalSeal(deps, seal.id);
  const row = await deps.db('seal_national as n').join('seals as s', 's.id', 'n.seal_id').where('n.seal_id', seal.id).first('n.seal_der', 's.seal_code');
  return { der: Buffer.from(row.seal_der), fileName: `${row.seal_code}.esl` };
}

/** The seal's national-format data, made once in the HSM worker (concurrent first uses share one run). */
async function ensureNationalSeal(deps: SigningDeps, sealId: string): Promise<void> {
  if (await deps.db('seal_national').where({ seal_id: sealId }).first('seal_id')) return;
  const workflowId = `national-seal:${sealId}`;
  try {
    try {
      await deps.temporal.workflow.execute(nationalSealWorkflow, { taskQueue: deps.config.temporal.taskQueues.main, workflowId, args: [{ hsmTaskQueue: deps.config.temporal.taskQueues.hsm, sealId }] });
    } catch (e) {
      if (!(e instanceof WorkflowExecutionAlreadyStartedError)) throw e;
      await deps.temporal.workflow.getHandle(workflowId).result(); // a concurrent first use's run
    }
  } catch (e) {
    if (e instanceof WorkflowFailedError && failureType(e) === SEAL_NOT_LIVE) throw notLive();
    throw e;
  }
}

const notLive = () =>
  new DomainError({ code: 'SIGN_NOT_LIVE', messageZh: '印章已不在用（停用、暂停或注销），不能签章（U1）', messageEn: 'The seal is no longer active (suspended, stopped or cancelled); it cannot sign (U1)', httpStatus: 409 });

/**
 * The seal's key signs `toBeSigned` in the HSM and the register entry is written (workflow `signature:<id>`);
 * under a use request (the entry names it) the workflow reserves the request first and spends it once signed.
 */
async function runSignature(deps: SigningDeps, input: { toBeSigned: Buffer; keyKind?: 'sm2'; entry: Parameters<typeof sealSignatureWorkflow>[0]['entry']; timestamp?: boolean }) {
  try {
    const out = await deps.temporal.workflow.execute(sealSignatureWorkflow, {
      taskQueue: deps.config.temporal.taskQueues.main,
      workflowId: `signature:${input.entry.id}`,
      args: [{ hsmTaskQueue: deps.config.temporal.taskQueues.hsm, toBeSignedB64: input.toBeSigned.toString('base64'), keyKind: input.keyKind, entry: input.entry, ...(input.timestamp ? { timestamp: true } : {}), ...(input.entry.useRequestId ? { useRequestId: input.entry.useRequestId } : {}) }],
    });
    return { signature: Buffer.from(out.signatureB64, 'base64'), signedAt: out.signedAt, timestampToken: out.timestampTokenB64 ? Buffer.from(out.timestampTokenB64, 'base64') : null };
  } catch (e) {
    if (e instanceof WorkflowFailedError && failureType(e) === SEAL_NOT_LIVE) throw notLive();
    // The use request refused (used, held by another signature, no longer approved): bilingual, naming the field.
    const refused = e instanceof WorkflowFailedError ? domainRefusal(e.cause) : null;
    if (refused) throw new DomainError(refused);
    throw e;
  }
}

/**
 * What a validator needs to check the seal's signature and its timestamp without asking anyone: the
 * certificates (seal, issuing CA, root, TSA, OCSP responder), the responder's answer for the seal's
 * certificate (signed here, in the web token: M4), the issuing CA's current CRL (it covers the TSA's
 * certificate too) and the root CRL when the ceremony has issued one.
 */
async function validationData(deps: SigningDeps, sealCertificate: Buffer, issuing: Buffer): Promise<ValidationData> {
  if (!deps.hsm) throw new Error('B-LT needs the OCSP responder key (the web token) in this process');
  const rows: Array<{ purpose: string; der: Buffer }> = await deps.db('ca_certificates').whereIn('purpose', ['root', 'tsa', 'ocsp_responder']).orderBy('created_at', 'desc').select('purpose', 'der');
  const newest = (purpose: string) => rows.find((r) => r.purpose === purpose)?.der;
  const others = ['root', 'tsa', 'ocsp_responder'].map(newest).filter((d): d is Buffer => !!d).map((d) => Buffer.from(d));
  const ocsp = await answerOcsp(deps.hsm, deps.db, ocspRequestDer(sealCertificate, issuing), { nextUpdateHours: deps.config.pki.crlNextUpdateHours });
  const crl = await currentCrl(deps.db);
  const rootCrl = await readFile(rootCrlPath(deps.config.runtime.dataDir)).catch(() => null);
  return { certificates: [sealCertificate, issuing, ...others], ocspResponses: [ocsp], crls: [...(crl ? [crl.der] : []), ...(rootCrl ? [rootCrl] : [])] };
}

/** B-T: the signature-timestamp token as the signer's unsigned attribute. */
const unsignedOf = (signed: { timestampToken: Buffer | null }) => (signed.timestampToken ? [signatureTimeStampAttribute(signed.timestampToken)] : undefined);

/** The ApplicationFailure type at the bottom of a failed workflow's cause chain. */
function failureType(e: unknown): string | undefined {
  let cur = e as { cause?: unknown; type?: string } | undefined;
  let type: string | undefined;
  while (cur) {
    if (typeof cur.type === 'string') type = cur.type;
    cur = cur.cause as typeof cur;
  }
  return type;
}

/** The platform issuing CA's certificate that issued the seal's (the newest one may be a later CA). */
async function issuerOf(db: Db, sealCertificate: Buffer): Promise<Buffer> {
  const cert = new X509Certificate(sealCertificate);
  const rows: Array<{ der: Buffer }> = await db('ca_certificates').where({ purpose: 'issuing' }).orderBy('created_at', 'desc').select('der');
  const issuer = rows.find((r) => {
    const ca = new X509Certificate(r.der);
    return cert.checkIssued(ca) && cert.verify(ca.publicKey);
  });
  if (!issuer) throw new Error(`no issuing CA certificate in PostgreSQL issued the seal certificate ${cert.serialNumber}`);
  return Buffer.from(issuer.der);
}
