// U2 P2: the signed verification report's HTML (infra/documents/render.ts) treats every value as hostile: a
// file name, a holder name, a certificate subject or a message that holds markup is shown as text.
import { renderDocumentHtml, type VerificationReportData, type VerifiedSignatureData } from '../../infra/documents/render';

const HOSTILE = '</td></table><script>alert(1)</script><img src=x onerror=alert(2)>"\'&amp;';
const PNG = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');

function signature(over: Partial<VerifiedSignatureData> = {}): VerifiedSignatureData {
  return {
    id: 'S-1',
    indication: { code: 'TOTAL-PASSED', label: { zh: '验证通过', en: 'Valid' } },
    subIndication: null,
    format: 'PAdES-BASELINE-B',
    seal: { holderName: `北京${HOSTILE}有限公司`, uscc: '91110105MA01ABCD2X', kindLabel: { zh: '合同专用章', en: 'Contract seal' }, number: 2, text: HOSTILE, code: '1101050000001' },
    platform: null,
    imprint: { mediaType: 'image/png', bytes: PNG },
    signingTime: { claimed: new Date('2026-12-04T01:02:03Z'), useRegister: new Date('2026-12-04T01:02:03Z'), timestamp: null },
    timestamp: null,
    chain: [{ role: 'signer', subject: `CN=${HOSTILE}`, serial: '5DB2F9FB', fingerprint: 'AB'.repeat(32) }],
    status: { atSigningTime: { zh: '有效', en: 'good' }, now: { zh: '有效', en: 'good' }, revokedAt: null, onHoldSince: null },
    liveWhenSigned: true,
    covers: { wholeDocument: true, byteRange: [0, 10, 20, 30] },
    checks: { format: true, messageDigest: true, signatureValue: true, signingCertificate: true, chain: true },
    docmdpViolated: null,
    messages: [{ zh: HOSTILE, en: HOSTILE }],
    ...over,
  };
}

const report = (over: Partial<VerificationReportData> = {}): VerificationReportData => ({
  validationTime: new Date('2026-12-04T22:00:00Z'),
  verifier: { zh: '北京市电子印章管理服务平台', en: 'Beijing electronic seal platform' },
  policy: 'eseal-beijing-basic',
  document: { name: HOSTILE, size: 1234, sha256: 'ab'.repeat(32) },
  detachedSignature: { name: `${HOSTILE}.p7s`, size: 99, sha256: 'cd'.repeat(32) },
  signatures: [signature()],
  ...over,
});

describe('the verification report document', () => {
  it('shows hostile file names, holder names, subjects and messages as text: no markup, script or attribute gets through', () => {
    const html = renderDocumentHtml('verification-report', report());
    expect(html).not.toContain('<script>alert');
    expect(html).not.toContain('</td></table><script>');
    expect(html).not.toContain('<img src=x');
    expect(html).toContain('&lt;/td&gt;&lt;/table&gt;&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('&amp;amp;');
    // The only <script> is none at all, the only images are the imprints' data: URIs.
    expect(html.match(/<script/g)).toBeNull();
    expect(html.match(/<img [^>]*>/g)!.every((tag) => /src="data:image\/png;base64,/.test(tag))).toBe(true);
    // What was verified, when, by whom, and the findings.
    expect(html).toContain('ab'.repeat(32));
    expect(html).toContain('cd'.repeat(32));
    expect(html).toContain('2026年12月5日 06:00');
    expect(html).toContain('北京市电子印章管理服务平台');
    expect(html).toContain('合同专用章(2)');
    expect(html).toContain('TOTAL-PASSED');
  });

  it('refuses a value that is not what the report holds (an imprint as a string, a bad SHA-256) instead of rendering it', () => {
    expect(() => renderDocumentHtml('verification-report', report({ signatures: [signature({ imprint: { mediaType: 'image/png', bytes: '<svg onload=alert(1)>' as unknown as Buffer } })] }))).toThrow(/must be a Buffer/);
    expect(() => renderDocumentHtml('verification-report', report({ document: { name: 'a.pdf', size: 1, sha256: `${'ab'.repeat(31)}">` } }))).toThrow(/hexadecimal/);
  });
});
