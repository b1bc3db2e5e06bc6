// I2: another platform's OCSP answers are hostile input. `openssl ocsp` (test/helpers/openssl-platform.ts)
// makes real answers; the reader keeps only one signed by the certificate's issuer, naming that certificate,
// and current — and reads the responder's address from the certificate's AIA.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ocspAddressesOf, readOcspAnswer } from '../../infra/pki/foreign-ocsp';
import { ocspRequestDer } from '../../infra/pki/ocsp-request';
import { OpensslPlatform, type OpensslSeal } from '../helpers/openssl-platform';

const OCSP_URL = 'http://ocsp.example.test/tj';
let dir: string;
let tj: OpensslPlatform;
let other: OpensslPlatform;
let seal: OpensslSeal;
let crlOnly: OpensslSeal;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'eseal-ocsp-'));
  [tj, other] = await Promise.all([OpensslPlatform.create(path.join(dir, 'tj'), 'Tianjin E-Seal', OCSP_URL), OpensslPlatform.create(path.join(dir, 'other'), 'Other E-Seal', OCSP_URL)]);
  seal = await tj.issue('seal', { key: 'ec', holder: 'Demo' });
  crlOnly = await tj.issue('crl-only', { key: 'rsa', holder: 'Demo', crlOnly: true });
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

const answer = (cert: OpensslSeal, id: string) => tj.answerOcsp(ocspRequestDer(cert.certDer, tj.rootDer), id);

describe('I2: the OCSP answers of another platform', () => {
  it('I2: the certificate names its responder (AIA) or none', () => {
    expect(ocspAddressesOf(seal.certDer)).toEqual([OCSP_URL]);
    expect(ocspAddressesOf(crlOnly.certDer)).toEqual([]);
    expect(ocspAddressesOf(Buffer.from('not a certificate'))).toEqual([]);
  });

  it('I2: an answer is read only when its issuer signed it, it names the certificate and it is current; revocation is read with its time', async () => {
    const now = new Date();
    const good = await answer(seal, 'good');
    expect(readOcspAnswer(good, seal.certDer, tj.rootDer, now)).toMatchObject({ status: 'good', revokedAt: null, nextUpdate: expect.any(Date) });
    // Another platform's root did not sign it; it is about another certificate; it is past its nextUpdate.
    expect(() => readOcspAnswer(good, seal.certDer, other.rootDer, now)).toThrow('not signed by the issuer');
    expect(() => readOcspAnswer(good, crlOnly.certDer, tj.rootDer, now)).toThrow('does not name the certificate');
    expect(() => readOcspAnswer(good, seal.certDer, tj.rootDer, new Date(now.getTime() + 2 * 86_400_000))).toThrow('out of date');
    expect(() => readOcspAnswer(Buffer.from('garbage'), seal.certDer, tj.rootDer, now)).toThrow();

    const before = Math.floor(Date.now() / 1000) * 1000; // the index keeps whole seconds
    await tj.revoke(seal);
    const revoked = readOcspAnswer(await answer(seal, 'revoked'), seal.certDer, tj.rootDer, new Date());
    expect(revoked.status).toBe('revoked');
    expect(revoked.revokedAt!.getTime()).toBeGreaterThanOrEqual(before);
    expect(revoked.revokedAt!.getTime()).toBeLessThanOrEqual(Date.now());
  });
});
