// The pure rules of signing and verification: the request's fields (U1, C4) and the ETSI EN 319 102-1
// conclusion from a validation's findings (U2), and the public verification's rate limit.
import express from 'express';
import type { AddressInfo } from 'node:net';
import { conclude, type ValidationFindings } from '../../domain/signature-validation';
import { assertFormatInSuite, documentName, parseCrossPage, parseDocumentType, parsePurpose, parseSignatureFormat } from '../../domain/signing';
import { catchDomainError } from '../helpers/domain-errors';
import { rateLimit } from '../../web/rate-limit';

const T0 = new Date('2026-12-04T08:00:00Z');
const day = (n: number) => new Date(T0.getTime() + n * 86_400_000);
const ok: ValidationFindings = {
  formatOk: true, digestOk: true, signatureOk: true, signingCertificateOk: true, chainOk: true,
  poe: T0, claimedTime: T0, certificate: { notBefore: day(-10), notAfter: day(1000) }, revokedAt: null, holdSince: null, now: day(5),
};

describe('U2: the conclusion in ETSI EN 319 102-1 terms', () => {
  it.each<[string, Partial<ValidationFindings>, string, string | null, string, string]>([
    ['all good', {}, 'TOTAL-PASSED', null, 'good', 'good'],
    ['broken format', { formatOk: false }, 'TOTAL-FAILED', 'FORMAT_FAILURE', 'good', 'good'],
    ['changed content', { digestOk: false }, 'TOTAL-FAILED', 'HASH_FAILURE', 'good', 'good'],
    ['forged value', { signatureOk: false }, 'TOTAL-FAILED', 'SIG_CRYPTO_FAILURE', 'good', 'good'],
    ['no signing certificate', { signingCertificateOk: false }, 'INDETERMINATE', 'NO_SIGNING_CERTIFICATE_FOUND', 'unknown', 'good'],
    ['not our chain', { chainOk: false }, 'INDETERMINATE', 'NO_CERTIFICATE_CHAIN_FOUND', 'good', 'good'],
    ['revoked after the proven signing time', { revokedAt: day(2) }, 'TOTAL-PASSED', null, 'good', 'revoked'],
    ['revoked, no proof of time', { poe: null, revokedAt: day(2) }, 'INDETERMINATE', 'REVOKED_NO_POE', 'good', 'revoked'],
    ['I2: revoked before the time the signature claims, no proof of time', { poe: null, revokedAt: day(-1) }, 'TOTAL-FAILED', 'REVOKED', 'revoked', 'revoked'],
    ['I2: revoked in the second the signature claims, no proof of time', { poe: null, claimedTime: new Date(T0.getTime() + 900), revokedAt: new Date(T0.getTime() + 100) }, 'INDETERMINATE', 'REVOKED_NO_POE', 'revoked', 'revoked'],
    ['signed while revoked (proven)', { revokedAt: day(-1) }, 'TOTAL-FAILED', 'REVOKED', 'revoked', 'revoked'],
    ['on hold now, no proof of time', { poe: null, holdSince: day(3) }, 'INDETERMINATE', 'TRY_LATER', 'good', 'on_hold'],
    ['on hold after the proven signing time', { holdSince: day(3) }, 'TOTAL-PASSED', null, 'good', 'on_hold'],
    ['expired now, no proof of time', { poe: null, certificate: { notBefore: day(-10), notAfter: day(1) } }, 'INDETERMINATE', 'OUT_OF_BOUNDS_NO_POE', 'good', 'good'],
    ['expired now, signed within validity (proven)', { certificate: { notBefore: day(-10), notAfter: day(1) } }, 'TOTAL-PASSED', null, 'good', 'good'],
    ['signed after expiry (proven)', { poe: day(2), certificate: { notBefore: day(-10), notAfter: day(1) } }, 'TOTAL-FAILED', 'EXPIRED', 'good', 'good'],
  ])('U2: %s', (_name, change, indication, sub, atSigning, now) => {
    expect(conclude({ ...ok, ...change })).toEqual({ indication, subIndication: sub, statusAtSigningTime: atSigning, statusNow: now });
  });
});

describe('U1 C4: the fields of a signature request', () => {
  it('C4: purpose, document type and format are checked and named in Chinese and English', () => {
    expect(parsePurpose('  签订合同 ')).toBe('签订合同');
    expect(catchDomainError(() => parsePurpose('')).toJSON()).toMatchObject({ field: 'purpose', messageZh: '用印事由：必须填写', messageEn: 'Purpose: is required' });
    expect(catchDomainError(() => parsePurpose('a\nb')).messageEn).toBe('Purpose: must not contain control characters');
    expect(catchDomainError(() => parsePurpose('字'.repeat(201))).messageZh).toBe('用印事由：最长200个字');
    expect(parseDocumentType('circulation_form')).toBe('circulation_form');
    expect(catchDomainError(() => parseDocumentType('toString')).field).toBe('document_type');
    expect(catchDomainError(() => parseSignatureFormat('xades')).messageEn).toBe('Signature format: must be one of cms, pades, ofd');
    expect(documentName('C:\\docs\\合同\u0007.pdf')).toBe('合同.pdf');
    expect(documentName('')).toBe('document');
  });
});

describe('U2: the public verification is rate-limited per address', () => {
  it('U2: past the limit a client gets 429 with Retry-After and a bilingual message', async () => {
    const app = express();
    app.use(rateLimit({ limit: 3, windowMs: 60_000 }));
    app.post('/v', (_req, res) => void res.json({ ok: true }));
    const server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v`;
      for (let i = 0; i < 3; i++) expect((await fetch(url, { method: 'POST' })).status).toBe(200);
      const over = await fetch(url, { method: 'POST' });
      expect(over.status).toBe(429);
      expect(Number(over.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(((await over.json()) as any).error).toMatchObject({ code: 'rate_limited', message_zh: expect.stringContaining('请求过于频繁'), message_en: expect.stringContaining('Too many requests') });
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});

describe('issue 13: the formats each algorithm suite offers (pki.algorithmSuite)', () => {
  it('U1: both offers cms, pades and ofd; intl refuses ofd and gm refuses cms and pades, naming the format field in Chinese and English (422)', () => {
    for (const f of ['cms', 'pades', 'ofd'] as const) expect(() => assertFormatInSuite(f, 'both')).not.toThrow();
    expect(() => assertFormatInSuite('cms', 'intl')).not.toThrow();
    expect(() => assertFormatInSuite('ofd', 'gm')).not.toThrow();
    for (const [f, suite] of [['ofd', 'intl'], ['cms', 'gm'], ['pades', 'gm']] as const) {
      let err: unknown;
      try {
        assertFormatInSuite(f, suite);
      } catch (e) {
        err = e;
      }
      expect(err).toMatchObject({ code: 'FORMAT_NOT_IN_SUITE', httpStatus: 422, field: 'format' });
      expect((err as { messageZh: string }).messageZh).toMatch(/^签名格式：.*国密/);
      expect((err as { messageEn: string }).messageEn).toMatch(/^Signature format: .*SM2\/SM3/);
    }
  });
});

describe('U1: 骑缝章 (cross_page)', () => {
  it('U1: cross_page is "true" or "false", for PDF signatures only; anything else is named in Chinese and English', () => {
    expect(parseCrossPage('true', 'pades')).toBe(true);
    expect(parseCrossPage(undefined, 'pades')).toBe(false);
    expect(parseCrossPage('false', 'cms')).toBe(false);
    const bad = catchDomainError(() => parseCrossPage('yes', 'pades'));
    expect(bad.toJSON()).toMatchObject({ field: 'cross_page', messageZh: '骑缝章：应为 true 或 false', messageEn: 'Cross-page seal (骑缝章): must be true or false' });
    expect(catchDomainError(() => parseCrossPage('true', 'cms')).toJSON()).toMatchObject({ field: 'cross_page', messageZh: '骑缝章：只用于 PDF 签章' });
  });
});
