// National formats (issue 13): SM2/SM3 in the software module with keys wrapped by a real SoftHSM2 token,
// checked by OpenSSL; GB/T 38540 seals and signatures checked by ofdrw (one JVM for the whole file).
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import * as pkcs11js from 'pkcs11js';
import { Hsm } from '../../infra/hsm/hsm';
import { ensureSoftHsmToken, setSoftHsmConf } from '../../infra/hsm/softhsm-token';
import { Sm2Module, SM2_WRAPPING_KEY_LABEL } from '../../infra/hsm/sm2-module';
import { sm2Verify } from '../../infra/gm/sm2';

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

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'eseal-gm-test-'));
    previousConf = setSoftHsmConf(undefined);
    ({ modulePath } = await ensureSoftHsmToken({ dataDir: dir, label: TOKEN, soPin: '87654321', userPin: PIN }));
    hsm = await Hsm.open({ modulePath, tokenLabel: TOKEN, pin: PIN });
    sm2 = new Sm2Module(hsm);
  });

  afterAll(async () => {
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
});
