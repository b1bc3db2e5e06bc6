// National formats (issue 13): SM2/SM3 in the software module with keys wrapped by a real SoftHSM2 token,
// checked by OpenSSL; GB/T 38540 seals and signatures checked by ofdrw (one JVM for the whole file).
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import * as pkcs11js from 'pkcs11js';
import { Hsm } from '../../infra/hsm/hsm';
import { ensureSoftHsmToken, setSoftHsmConf } from '../../infra/hsm/softhsm-token';
import { Sm2Module, SM2_WRAPPING_KEY_LABEL } from '../../infra/hsm/sm2-module';
import { sm2Verify } from '../../infra/gm/sm2';
import { certificateSpki, sm2CertificateSignedBy } from '../../infra/gm/sm2-certificates';
import { makeNationalSeal, type NationalSeal, type SealMaker } from '../../infra/gm/national-seal';
import { createSealMaker, signWithNationalSeal } from '../helpers/national-seal';
import { checkSesSignature, readSeal, SES_SEAL_TYPE } from '../../infra/gm/ses';
import { renderImprint } from '../../infra/imprint';
import { checkOfdSignatures, signOfd } from '../../infra/gm/ofd';
import { zipSync, unzipSync } from 'fflate';
import { minimalOfd } from '../helpers/ofd';
import { OfdrwChecker } from '../helpers/ofdrw-checker';

const run = promisify(execFile);
const TOKEN = 'eseal-gm-test';
const PIN = '12345678';

const pem = (label: string, der: Buffer) => `-----BEGIN ${label}-----\n${der.toString('base64').replace(/.{64}/g, '$&\n')}\n-----END ${label}-----\n`;

describe('national formats', () => {
  let dir: string;
  let hsm: Hsm;
  let modulePath: string;
  let previousConf: string | undefined;
  let sm2: Sm2Module;
  let ofdrw: OfdrwChecker;

  beforeAll(async () => {
    ofdrw = await OfdrwChecker.start(); // one JVM for the file, started while the token is made
    dir = await mkdtemp(path.join(os.tmpdir(), 'eseal-gm-test-'));
    previousConf = setSoftHsmConf(undefined);
    ({ modulePath } = await ensureSoftHsmToken({ dataDir: dir, label: TOKEN, soPin: '87654321', userPin: PIN }));
    hsm = await Hsm.open({ modulePath, tokenLabel: TOKEN, pin: PIN });
    sm2 = new Sm2Module(hsm);
  });

  afterAll(async () => {
    ofdrw?.stop();
    await hsm?.close();
    setSoftHsmConf(previousConf);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('SM2: a key made in the module signs per GB/T 35276 (user ID 1234567812345678), as OpenSSL checks it', async () => {
    const key = await sm2.generateKeyPair();
    const data = Buffer.from('北京市电子印章 SM2 签名');
    const signature = await sm2.sign(key, data);
    await writeFile(path.join(dir, 'pub.pem'), pem('PUBLIC KEY', key.publicKeySpki));
    await writeFile(path.join(dir, 'data'), data);
    await writeFile(path.join(dir, 'sig'), signature);
    const verify = (id: string) =>
      run('openssl', ['dgst', '-sm3', '-verify', path.join(dir, 'pub.pem'), '-sigopt', `distid:${id}`, '-signature', path.join(dir, 'sig'), path.join(dir, 'data')]).then(
        (r) => r.stdout.trim(),
        (e: { stdout?: string }) => `failed: ${e.stdout?.trim()}`,
      );
    expect(await verify('1234567812345678')).toBe('Verified OK');
    // With another identifier (e.g. OpenSSL's empty default) the same signature does not verify.
    expect(await verify('eseal')).toMatch(/^failed/);
    expect(sm2Verify(key.publicKeySpki, data, signature)).toBe(true);
    expect(sm2Verify(key.publicKeySpki, Buffer.concat([data, Buffer.from('!')]), signature)).toBe(false);
  });

  it('M4: the SM2 private key is stored only wrapped; the token refuses to unwrap it as a token object, wrappable by any key, or as a usable key', async () => {
    const key = await sm2.generateKeyPair();
    expect(key.wrappedPrivateKey.length).toBeGreaterThan(32);
    // Another process with the PIN, straight through PKCS#11.
    const lib = new pkcs11js.PKCS11();
    lib.load(modulePath);
    try {
      lib.C_Initialize();
    } catch {
      /* already initialised in this process */
    }
    const slot = lib.C_GetSlotList(true).find((s) => lib.C_GetTokenInfo(s).label.trim() === TOKEN)!;
    const s = lib.C_OpenSession(slot, pkcs11js.CKF_RW_SESSION | pkcs11js.CKF_SERIAL_SESSION);
    try {
      lib.C_FindObjectsInit(s, [{ type: pkcs11js.CKA_LABEL, value: SM2_WRAPPING_KEY_LABEL }]);
      const [wrap] = lib.C_FindObjects(s, 1);
      lib.C_FindObjectsFinal(s);
      const base = [
        { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
        { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_GENERIC_SECRET },
        { type: pkcs11js.CKA_SENSITIVE, value: false },
      ];
      const attempts: Record<string, pkcs11js.Template> = {
        'as a token object': [...base, { type: pkcs11js.CKA_TOKEN, value: true }, { type: pkcs11js.CKA_WRAP_WITH_TRUSTED, value: true }],
        'wrappable by any key': [...base, { type: pkcs11js.CKA_TOKEN, value: false }, { type: pkcs11js.CKA_WRAP_WITH_TRUSTED, value: false }],
        'as an AES key': [
          { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
          { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_AES },
          { type: pkcs11js.CKA_TOKEN, value: false },
          { type: pkcs11js.CKA_ENCRYPT, value: true },
        ],
      };
      for (const [what, template] of Object.entries(attempts)) {
        let code: number | undefined;
        try {
          lib.C_UnwrapKey(s, { mechanism: pkcs11js.CKM_AES_KEY_WRAP_PAD }, wrap, key.wrappedPrivateKey, template);
        } catch (e) {
          code = (e as pkcs11js.Pkcs11Error).code;
        }
        expect({ what, code }).toEqual({ what, code: pkcs11js.CKR_TEMPLATE_INCONSISTENT });
      }
    } finally {
      lib.C_CloseSession(s);
    }
  });

  describe('GB/T 38540 seals and signatures', () => {
    let maker: SealMaker;
    let seal: NationalSeal;
    const file = (name: string) => path.join(dir, name);
    const validStart = new Date('2026-12-01T00:00:00Z');
    const validEnd = new Date('2031-12-01T00:00:00Z');

    beforeAll(async () => {
      maker = await createSealMaker(sm2, [{ C: ['CN'] }, { O: ['北京市电子印章管理平台'] }, { CN: ['北京市电子印章制章者 SM2'] }], { from: validStart, to: validEnd });
      const imprint = renderImprint({ holderName: '北京示范科技有限公司', sealKind: 'legal_name', sealCode: '1101080000001' });
      seal = await makeNationalSeal(sm2, maker, {
        subject: [{ C: ['CN'] }, { O: ['北京示范科技有限公司'] }, { CN: ['北京示范科技有限公司 公章'] }],
        content: {
          esId: '1101080000001',
          type: SES_SEAL_TYPE.organisation,
          name: '北京示范科技有限公司',
          createdAt: new Date(),
          validStart,
          validEnd,
          picture: { type: 'PNG', data: imprint.png, widthMm: 42, heightMm: 42 },
        },
      });
    });

    it('GB/T 38540: our SESeal (v4) is read by ofdrw, with the imprint, validity, holder certificate and a valid maker signature; a tampered seal is refused', async () => {
      await writeFile(file('ours.esl'), seal.seal);
      const read = await ofdrw.run('seal', file('ours.esl'));
      expect(read).toMatchObject({
        ok: true,
        makerSignatureValid: true,
        version: 4,
        esId: '1101080000001',
        name: '北京示范科技有限公司',
        type: 1,
        certificates: 1,
        pictureType: 'PNG',
        widthMm: 42,
        heightMm: 42,
        validStart: '20261201000000Z',
        validEnd: '20311201000000Z',
      });
      expect(read.maker).toContain('北京市电子印章制章者 SM2');
      // The holder's certificate is an SM2 certificate issued by the maker.
      expect(sm2CertificateSignedBy(seal.certificate, certificateSpki(maker.certificate))).toBe(true);
      // One byte of the seal's name changed (UTF-8 of 京 → another character): the maker's signature fails.
      const tampered = Buffer.from(seal.seal);
      const at = tampered.indexOf(Buffer.from('北京示范科技有限公司'));
      tampered[at + 5] ^= 0x01;
      await writeFile(file('tampered.esl'), tampered);
      expect(await ofdrw.run('seal', file('tampered.esl'))).toMatchObject({ ok: false, makerSignatureValid: false });
      expect(readSeal(tampered).makerSignatureValid).toBe(false);
    });

    it('GB/T 38540: an SES_Signature over a document hash made by our seal is valid for ofdrw (and the seal maker check), and not for other data', async () => {
      const data = Buffer.from('<ofd:Signature>…</ofd:Signature>');
      const signature = await signWithNationalSeal(sm2, seal, data, '/Doc_0/Signs/Sign_0/Signature.xml');
      await writeFile(file('ours.ses'), signature);
      await writeFile(file('data'), data);
      await writeFile(file('other'), Buffer.concat([data, Buffer.from(' ')]));
      expect(await ofdrw.run('signature', file('ours.ses'), file('data'))).toMatchObject({ ok: true, ofdrw: 'valid', sealMakerSignatureValid: true, signerInSeal: true, esId: '1101080000001' });
      const other = await ofdrw.run('signature', file('ours.ses'), file('other'));
      expect(other.ok).toBe(false);
      expect(other.ofdrw).toMatch(/InvalidSignedValueException/);
      expect(checkSesSignature(signature, data)).toMatchObject({ valid: true, propertyInfo: '/Doc_0/Signs/Sign_0/Signature.xml' });
    });

    it('GB/T 38540: a seal and a signature made by another system (ofdrw, its own SM2 keys) are read and verified by ours; tampering is found', async () => {
      const picture = renderImprint({ holderName: '外省示范有限公司', sealKind: 'legal_name', sealCode: '3301080000009' }).png;
      await writeFile(file('other.png'), picture);
      expect(await ofdrw.run('make-seal', file('other-platform'), '外省示范有限公司', file('other.png'))).toMatchObject({ ok: true });
      const theirs = readSeal(await readFile(file('other-platform/seal.esl')));
      expect(theirs).toMatchObject({ version: 4, vid: 'OFDRW-OTHER', name: '外省示范有限公司', type: 1, makerSignatureValid: true });
      expect(theirs.picture).toMatchObject({ type: 'PNG', widthMm: 40, heightMm: 40 });
      expect(theirs.picture.data.equals(picture)).toBe(true);
      expect(theirs.signerCertificates).toHaveLength(1);
      expect(theirs.signerCertificates[0].equals(await readFile(file('other-platform/user.cer')))).toBe(true);

      const data = Buffer.from('另一系统签署的文件');
      await writeFile(file('their-data'), data);
      expect(await ofdrw.run('make-signature', file('other-platform'), file('their-data'), file('theirs.ses'))).toMatchObject({ ok: true });
      const signature = await readFile(file('theirs.ses'));
      const check = checkSesSignature(signature, data);
      expect(check).toMatchObject({ valid: true, checks: { signatureValid: true, sealMakerSignatureValid: true, signerInSeal: true, withinSealValidity: true, dataHashMatches: true } });
      expect(checkSesSignature(signature, Buffer.from('另一份文件')).checks.dataHashMatches).toBe(false);
      const tampered = Buffer.from(signature);
      tampered[tampered.length - 5] ^= 0x01; // inside the signer's signature value
      expect(checkSesSignature(tampered, data)).toMatchObject({ valid: false, checks: { signatureValid: false } });

      // ofdrw's own OFD signer with that seal: our OFD reader checks its files and signature.
      await writeFile(file('plain.ofd'), minimalOfd('另一系统的 OFD 文件'));
      expect(await ofdrw.run('sign-ofd', file('other-platform'), file('plain.ofd'), file('their-signed.ofd'))).toMatchObject({ ok: true });
      const [theirOfd] = checkOfdSignatures(await readFile(file('their-signed.ofd')));
      expect(theirOfd).toMatchObject({ filesIntact: true, sealMatches: true, ses: { valid: true, seal: { vid: 'OFDRW-OTHER' } } });
    });
  
    it('GB/T 33190: an OFD signed twice with our seal passes ofdrw\'s OFDValidator and ours; a changed page fails both', async () => {
      const ofd = minimalOfd('北京市电子印章 OFD 签章测试');
      const sign = (doc: Buffer, xMm: number) =>
        signOfd({
          ofd: doc,
          seal: seal.seal,
          stamp: { page: 1, xMm, yMm: 200, sizeMm: 42 },
          time: new Date(),
          provider: { name: 'eseal-test', company: 'test', version: '1' },
          signSes: (xml, where) => signWithNationalSeal(sm2, seal, xml, where),
        });
      const once = await sign(ofd, 60);
      const twice = await sign(once, 150);
      await writeFile(file('signed.ofd'), twice);
      expect(await ofdrw.run('verify-ofd', file('signed.ofd'))).toMatchObject({ ok: true, ofdrw: 'valid', signatures: 2, sealMakerSignaturesValid: true });
      const ours = checkOfdSignatures(twice);
      expect(ours).toHaveLength(2);
      for (const s of ours) expect(s).toMatchObject({ filesIntact: true, sealMatches: true, ses: { valid: true }, stamp: { pageRef: '1' } });
      // The first signature does not cover the second's files; the second covers everything before it.
      expect(ours[0].uncoveredFiles.sort()).toEqual(['/Doc_0/Signs/Sign_1/Seal.esl', '/Doc_0/Signs/Sign_1/Signature.xml', '/Doc_0/Signs/Sign_1/SignedValue.dat']);
      expect(ours[1].uncoveredFiles).toEqual([]);

      const files = unzipSync(new Uint8Array(twice));
      files['Doc_0/Pages/Page_0/Content.xml'] = new Uint8Array(Buffer.from(Buffer.from(files['Doc_0/Pages/Page_0/Content.xml']).toString('utf8').replace('测试', '篡改')));
      await writeFile(file('changed.ofd'), Buffer.from(zipSync(files)));
      const changed = await ofdrw.run('verify-ofd', file('changed.ofd'));
      expect(changed.ok).toBe(false);
      expect(changed.ofdrw).toMatch(/FileIntegrityException/);
      expect(checkOfdSignatures(Buffer.from(zipSync(files))).map((s) => s.alteredFiles)).toEqual([['/Doc_0/Pages/Page_0/Content.xml'], ['/Doc_0/Pages/Page_0/Content.xml']]);
    });
  });
});
