// Verification of seal signatures on OFD documents (U2, I2): each signature of the package is checked (every
// referenced file's SM3 digest, the SES_Signature over Signature.xml, the seal inside it and its maker's
// signature, Seal.esl) and reported in the same terms as CMS and PAdES signatures. A seal made by this
// platform is recognised by its SM2 certificate (issued by the platform's SM2 issuing CA) and judged with the
// seal's status and use register; a seal made by another system is read and checked, and reported as from a
// platform this one does not (yet) recognise.
import { createHash, X509Certificate } from 'node:crypto';
import type { Db } from '../infra/db';
import { checkOfdSignatures, OfdError, type OfdSignatureCheck } from '../infra/gm/ofd';
import { certificateSpki, sm2CertificateSignedBy } from '../infra/gm/sm2-certificates';
import { loadSm2CaKey } from '../infra/gm/sm2-ca';
import { conclude } from '../domain/signature-validation';
import { invalidField, type FieldRef } from '../domain/errors';
import { SEAL_KIND_LABELS, type SealKind } from '../domain/seals';
import type { SignatureReport } from './verification';
import { recogniseExternal, reportExternal } from './recognition';
import { certificateView } from './certificate-view';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const sm3 = (b: Buffer) => createHash('sm3').update(b).digest('hex');


/** Another system's certificate is hostile input: its subject, or a placeholder when it cannot be read. */
function subjectOf(der: Buffer): string {
  try {
    return new X509Certificate(der).subject.replace(/\n/g, ', ');
  } catch {
    return '?';
  }
}

/** Every seal signature of an OFD package, judged; the file field is named when it is no readable OFD. */
export async function judgeOfdSignatures(db: Db, ofd: Buffer, field: FieldRef, now: Date): Promise<SignatureReport[]> {
  let found: OfdSignatureCheck[];
  try {
    found = checkOfdSignatures(ofd);
  } catch (e) {
    if (e instanceof OfdError) throw invalidField(field, e.zh, e.message, { code: 'OFD_UNREADABLE' });
    throw e;
  }
  if (found.length === 0) throw invalidField(field, '中没有电子签章', 'has no seal signature', { code: 'NO_SIGNATURE_FOUND', httpStatus: 422 });
  const [maker, issuing, root] = await Promise.all([db('gm_seal_makers').first('certificate_der'), loadSm2CaKey(db, 'issuing'), loadSm2CaKey(db, 'root')]);
  const sm2Chain = issuing && root ? { issuing: issuing.certificate, root: root.certificate } : null;
  return Promise.all(found.map((f, i) => judgeOne(db, f, `S-${i + 1}`, maker ? Buffer.from(maker.certificate_der) : null, sm2Chain, now)));
}

/**
 * The certificates from the signer to a trust anchor of ours: the SM2 issuing CA and root (seals made since
 * the SM2 chain exists), or the self-issued seal maker that certified seals made before it (legacy).
 */
function ourChain(signer: Buffer, maker: Buffer, sm2Chain: { issuing: Buffer; root: Buffer } | null): Array<{ der: Buffer; role: 'issuing_ca' | 'root' }> | null {
  if (sm2Chain && sm2CertificateSignedBy(signer, certificateSpki(sm2Chain.issuing)) && sm2CertificateSignedBy(sm2Chain.issuing, certificateSpki(sm2Chain.root))) {
    return [{ der: sm2Chain.issuing, role: 'issuing_ca' }, { der: sm2Chain.root, role: 'root' }];
  }
  return sm2CertificateSignedBy(signer, certificateSpki(maker)) ? [{ der: maker, role: 'root' }] : null;
}

async function judgeOne(db: Db, f: OfdSignatureCheck, id: string, makerCertificate: Buffer | null, sm2Chain: { issuing: Buffer; root: Buffer } | null, now: Date): Promise<SignatureReport> {
  const messages: SignatureReport['messages'] = [];
  const ses = f.ses;
  const report: SignatureReport = {
    id,
    indication: 'TOTAL-FAILED',
    sub_indication: 'FORMAT_FAILURE',
    signature_format: 'SES-V4-OFD',
    checks: { format: false, message_digest: false, signature_value: false, signing_certificate: false, chain: false },
    covers: { kind: 'package_files', whole_document: f.uncoveredFiles.length === 0 },
    signing_time: { claimed: null, use_register: null },
    seal: null,
    seal_live_when_signed: null,
    use_register_id: null,
    certificate: null,
    chain: [],
    certificate_status: { at_signing_time: 'unknown', now: 'unknown', revoked_at: null, revocation_reason: null, on_hold_since: null },
    messages,
  };
  if (!ses || f.error) {
    messages.push(f.error ?? { zh: '签名数据无法解析', en: 'The signature data cannot be parsed' });
    return report;
  }
  const signer = ses.signerCertificate;
  let cert: X509Certificate | null = null;
  try {
    cert = new X509Certificate(signer);
  } catch {
    messages.push({ zh: '签章者证书无法解析', en: "The signer's certificate cannot be parsed" });
  }
  const formatOk = !!cert;
  const digestOk = f.filesIntact && ses.checks.dataHashMatches === true;
  if (!f.filesIntact) messages.push({ zh: `签章后文件被改动：${f.alteredFiles.join('、')}`, en: `Files changed after signing: ${f.alteredFiles.join(', ')}` });
  else if (!ses.checks.dataHashMatches) messages.push({ zh: '签名描述文件（Signature.xml）与电子签章数据不符', en: 'Signature.xml does not match the signature data' });
  const signatureOk = ses.checks.signatureValid && ses.checks.sealMakerSignatureValid;
  if (!ses.checks.signatureValid) messages.push({ zh: '电子签章签名值验证失败', en: 'The signature value does not verify' });
  if (!ses.checks.sealMakerSignatureValid) messages.push({ zh: '电子印章的制章者签名验证失败', en: "The seal maker's signature on the seal does not verify" });
  const signingCertificateOk = ses.checks.signerInSeal && f.sealMatches !== false;
  if (!ses.checks.signerInSeal) messages.push({ zh: '签章者证书不在电子印章的证书列表中', en: "The signer's certificate is not one of the seal's" });
  if (f.sealMatches === false) messages.push({ zh: 'Seal.esl 与签章数据中的印章不一致', en: 'Seal.esl differs from the seal in the signature data' });
  if (!ses.checks.withinSealValidity) messages.push({ zh: '签章时间不在印章有效期内', en: "The signing time is outside the seal's validity" });

  // Ours: the seal maker is this platform's and the signer's certificate is one it issued for a seal of ours.
  const ourMaker = !!makerCertificate && ses.seal.makerCertificate.equals(makerCertificate);
  const seal = ourMaker
    ? await db('seal_national as n')
        .join('seals as s', 's.id', 'n.seal_id')
        .join('holders as h', 'h.id', 's.holder_id')
        .where('n.certificate_sm3', sm3(signer))
        .first('s.id', 's.seal_code', 's.kind', 's.text', 's.status', 'n.certificate_der', 's.revoked_at', 's.revocation_reason', 's.hold_since', 'h.name as holder_name', 'h.uscc')
    : undefined;
  const chain = seal && Buffer.from(seal.certificate_der).equals(signer) ? ourChain(signer, makerCertificate!, sm2Chain) : null;
  const chainOk = !!chain;
  if (!ourMaker) {
    // I2: a seal filed here by a listed platform is judged by that platform's trust list entry and CRL.
    const external = await recogniseExternal(db, { signer, maker: ses.seal.makerCertificate, sealDer: ses.sealDer, at: ses.signedAt, now });
    if (external) {
      report.signing_time.claimed = ses.signedAt.toISOString();
      report.certificate = cert ? certificateView(signer) : null;
      reportExternal(report, external, {
        formatOk,
        digestOk,
        signatureOk,
        signingCertificateOk,
        poe: null,
        claimedTime: ses.signedAt,
        certificate: cert ? { notBefore: new Date(cert.validFrom), notAfter: new Date(cert.validTo) } : { notBefore: now, notAfter: now },
        now,
      });
      if (!report.covers.whole_document) messages.push({ zh: '此签章之后文件中加入了其他文件（如后续的签章）；签章只覆盖其签署时的文件', en: 'Files were added after this signature (e.g. a later signature); it covers the files as they were when it was made' });
      return report;
    }
    const makerName = subjectOf(ses.seal.makerCertificate);
    messages.push({
      zh: `此电子印章由其他电子印章系统制作（制章者：${makerName}），本平台尚未将该系统列为互认平台`,
      en: `This seal was made by another e-seal system (maker: ${makerName}), which this platform does not yet recognise`,
    });
  } else if (!chainOk) {
    messages.push({ zh: '签章者证书不是本平台为印章签发的', en: "The signer's certificate was not issued by this platform for a seal" });
  }

  let poe: Date | null = null;
  if (seal && chainOk) {
    const entry = await db('seal_use_register').where({ seal_id: seal.id, signature_sha256: sha256(ses.signatureValue), format: 'ofd' }).first('id', 'signed_at', 'document_sha256');
    if (entry && entry.document_sha256 === f.signatureXmlSha256) {
      poe = new Date(entry.signed_at);
      report.use_register_id = entry.id;
      report.signing_time.use_register = poe.toISOString();
    } else {
      messages.push({ zh: '用印登记中没有这次签章：无法证明签章时间及当时印章状态', en: "This signature is not in the use register: its time and the seal's status then cannot be proven" });
    }
  }
  report.signing_time.claimed = ses.signedAt.toISOString();
  const c = conclude({
    formatOk,
    digestOk,
    signatureOk,
    signingCertificateOk,
    chainOk,
    poe,
    claimedTime: ses.signedAt,
    certificate: cert ? { notBefore: new Date(cert.validFrom), notAfter: new Date(cert.validTo) } : { notBefore: now, notAfter: now },
    revokedAt: seal?.revoked_at ? new Date(seal.revoked_at) : null,
    holdSince: seal?.hold_since ? new Date(seal.hold_since) : null,
    now,
  });
  report.indication = c.indication;
  report.sub_indication = c.subIndication;
  report.checks = { format: formatOk, message_digest: digestOk, signature_value: signatureOk, signing_certificate: signingCertificateOk, chain: chainOk };
  report.certificate = cert ? certificateView(signer) : null;
  report.chain = chain ? [{ ...certificateView(signer), role: 'signer' }, ...chain.map((c) => ({ ...certificateView(c.der), role: c.role }))] : [];
  report.certificate_status = {
    at_signing_time: chainOk ? c.statusAtSigningTime : 'unknown',
    now: chainOk ? c.statusNow : 'unknown',
    revoked_at: seal?.revoked_at ? new Date(seal.revoked_at).toISOString() : null,
    revocation_reason: seal?.revocation_reason ?? null,
    on_hold_since: seal?.hold_since ? new Date(seal.hold_since).toISOString() : null,
  };
  if (seal && chainOk) {
    report.seal = { id: seal.id, seal_code: seal.seal_code, kind: seal.kind, kind_zh: SEAL_KIND_LABELS[seal.kind as SealKind]?.zh ?? seal.kind, text: seal.text, status_now: seal.status, holder: { name: seal.holder_name, uscc: seal.uscc } };
    report.seal_live_when_signed = poe ? true : null;
  }
  if (!report.covers.whole_document) messages.push({ zh: '此签章之后文件中加入了其他文件（如后续的签章）；签章只覆盖其签署时的文件', en: 'Files were added after this signature (e.g. a later signature); it covers the files as they were when it was made' });
  if (c.statusNow === 'revoked') messages.push({ zh: '该印章的证书现已撤销', en: "The seal's certificate is now revoked" });
  if (c.statusNow === 'on_hold') messages.push({ zh: '该印章现已暂停使用（证书挂起）', en: 'The seal is now suspended (certificate on hold)' });
  return report;
}
