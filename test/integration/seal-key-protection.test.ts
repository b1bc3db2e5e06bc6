// M4: a seal's private key can be used only inside the HSM. The wrapping key's CKA_UNWRAP_TEMPLATE makes the
// HSM itself refuse any unwrap but to a sensitive, non-extractable, sign-only key, whoever holds the PIN.
// Tried as an attacker would, in a process of its own with the token PIN (pkcs11js) and with pkcs11-tool,
// on a seal produced through the API; and a token made by an earlier version (wrapping key without the
// template, from which the same attack does get the key) is moved at start-up.
import { execFile } from 'node:child_process';
import { createPublicKey, verify } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import * as pkcs11js from 'pkcs11js';
import { api, createUser, startApp, type RunningApp } from '../helpers/stack';
import { createMaker } from '../helpers/fixtures';
import { collectedSeal } from '../helpers/journeys';
import { assertSealKeyWrapping, ensureSealKeyWrapping, LEGACY_SEAL_WRAPPING_KEY_LABEL, SEAL_WRAPPING_KEY_LABEL } from '../../infra/pki/seal-key-wrapping';
import * as x509 from '../../infra/pki/x509';
import { heldToken } from '../../infra/hsm/tokens';

const run = promisify(execFile);
let app: RunningApp;
let maker: { id: string; token: string };
let officer: { id: string; token: string };

beforeAll(async () => {
  app = await startApp({ taskQueueSuffix: '-m4' });
  maker = await createUser(app.db, 'maker', { maker_id: await createMaker(app.db) });
  officer = await createUser(app.db, 'officer', { district_code: '110105' });
});
afterAll(async () => {
  await app?.stop();
});

const token = () => ['--module', app.config.runtime.pkcs11Module, '--token-label', heldToken(app.config, 'issuing').label, '--login', '--pin', heldToken(app.config, 'issuing').pin];
const env = () => ({ ...process.env, SOFTHSM2_CONF: process.env.SOFTHSM2_CONF! });

/** The attacker: a process of its own with the token PIN and pkcs11js (test/helpers/pkcs11-attacker.js). */
async function attack(wrappingLabel: string, blob: Buffer, copyLabel: string): Promise<Record<string, string>> {
  const { runtime } = app.config;
  const script = path.join(__dirname, '../helpers/pkcs11-attacker.js');
  const { stdout } = await run('node', [script, runtime.pkcs11Module, heldToken(app.config, 'issuing').label, heldToken(app.config, 'issuing').pin, wrappingLabel, blob.toString('hex'), copyLabel], { env: env() });
  return JSON.parse(stdout);
}

/** pkcs11-tool's outcome: its output on success, or the error it printed. */
async function pkcs11Tool(args: string[]): Promise<{ ok: boolean; out: string }> {
  try {
    const { stdout, stderr } = await run('pkcs11-tool', [...token(), ...args], { env: env() });
    return { ok: true, out: stdout + stderr };
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string };
    return { ok: false, out: `${err.stdout ?? ''}${err.stderr ?? ''}` };
  }
}

async function removeCopies(copyLabel: string) {
  for (const [type, label] of [['privkey', copyLabel], ['secrkey', `${copyLabel}-secret`]]) {
    for (;;) if (!(await pkcs11Tool(['--delete-object', '--type', type, '--label', label])).ok) break;
  }
}

/** Signs through the product's own path and checks the signature with the seal certificate's public key. */
async function signsForCertificate(label: string, blob: Buffer, spki: Buffer) {
  const message = Buffer.from('M4 probe 北京');
  const sig = await app.issuingHsm.signWithWrappedKey(label, blob, message);
  return verify('sha256', message, { key: createPublicKey({ key: spki, format: 'der', type: 'spki' }), dsaEncoding: 'ieee-p1363' }, sig);
}

test('M4: with the PIN, an attacker gets no seal key out of the HSM, through pkcs11js or pkcs11-tool; the seal still signs', async () => {
  const { sealId } = await collectedSeal(app, maker, officer);
  const seal = await app.db('seals').where({ id: sealId }).first('certificate_der');
  const key = await app.db('seal_keys').where({ seal_id: sealId }).first();
  expect(key.wrapping_key_label).toBe(SEAL_WRAPPING_KEY_LABEL);

  // The wrapping key as the token holds it: its unwrap template, attribute by attribute.
  const template = new Map((await app.issuingHsm.unwrapTemplate(SEAL_WRAPPING_KEY_LABEL)).map((a) => [a.type, a.value]));
  expect(template.get(pkcs11js.CKA_SENSITIVE)).toEqual(Buffer.from([1]));
  expect(template.get(pkcs11js.CKA_EXTRACTABLE)).toEqual(Buffer.from([0]));
  expect(template.get(pkcs11js.CKA_SIGN)).toEqual(Buffer.from([1]));
  expect(template.get(pkcs11js.CKA_DECRYPT)).toEqual(Buffer.from([0]));
  expect(template.get(pkcs11js.CKA_WRAP_WITH_TRUSTED)).toEqual(Buffer.from([1]));

  const copy = `m4-attack-${sealId.slice(0, 8)}`;
  try {
    const tried = await attack(SEAL_WRAPPING_KEY_LABEL, key.wrapped_private_key, copy);
    expect(tried).toEqual({
      readWrappingKeyValue: 'refused: CKR_ATTRIBUTE_SENSITIVE',
      unwrapExtractableReadable: 'refused: CKR_TEMPLATE_INCONSISTENT',
      unwrapAsGenericSecret: 'refused: CKR_TEMPLATE_INCONSISTENT',
      unwrapWithDefaults: 'refused: CKR_TEMPLATE_INCONSISTENT',
      unwrapTokenSecretCopy: 'refused: CKR_TEMPLATE_INCONSISTENT',
      unwrapTokenCopyExtractable: 'refused: CKR_TEMPLATE_INCONSISTENT',
      // The one unwrap the HSM allows gives a key that only signs inside it:
      unwrapTokenCopyAsAllowed: 'allowed',
      readCopyValue: 'refused: CKR_ATTRIBUTE_SENSITIVE',
      setCopyExtractable: 'refused: CKR_ATTRIBUTE_READ_ONLY',
      setCopyNotSensitive: 'refused: CKR_ATTRIBUTE_READ_ONLY',
      wrapCopyUnderOwnKey: 'refused: CKR_KEY_UNEXTRACTABLE',
    });

    // pkcs11-tool: read the wrapping key or a readable copy, unwrap the blob as extractable.
    const dir = mkdtempSync(path.join(tmpdir(), 'm4-'));
    writeFileSync(path.join(dir, 'blob.bin'), key.wrapped_private_key);
    const readWrapping = await pkcs11Tool(['--read-object', '--type', 'secrkey', '--label', SEAL_WRAPPING_KEY_LABEL, '-o', path.join(dir, 'wrapping.bin')]);
    expect(readWrapping).toMatchObject({ ok: false, out: expect.stringMatching(/CKR_ATTRIBUTE_SENSITIVE/) });
    const readCopy = await pkcs11Tool(['--read-object', '--type', 'secrkey', '--label', `${copy}-secret`, '-o', path.join(dir, 'copy.bin')]);
    expect(readCopy).toMatchObject({ ok: false, out: expect.stringMatching(/object not found/) });
    // (pkcs11-tool reads no private keys at all: it writes nothing, whatever the key.)
    await pkcs11Tool(['--read-object', '--type', 'privkey', '--label', copy, '-o', path.join(dir, 'copy.der')]);
    expect(existsSync(path.join(dir, 'copy.der'))).toBe(false);
    const unwrap = await pkcs11Tool(['--unwrap', '-m', '0x210A', '--label', SEAL_WRAPPING_KEY_LABEL, '-i', path.join(dir, 'blob.bin'), '--key-type', 'GENERIC:', '--extractable', '--application-label', `${copy}-tool`]);
    expect(unwrap).toMatchObject({ ok: false, out: expect.stringMatching(/C_UnwrapKey failed/) });
  } finally {
    await removeCopies(copy);
  }

  // The product's own path still signs with it, and the signature verifies under the seal certificate.
  const cert = new x509.X509Certificate(seal.certificate_der);
  expect(await signsForCertificate(key.wrapping_key_label, key.wrapped_private_key, Buffer.from(cert.publicKey.rawData))).toBe(true);
});

test('M4: a token made by an earlier version (wrapping key without template, from which the attack gets the key) is moved at start-up and its old key destroyed', async () => {
  const { sealId } = await collectedSeal(app, maker, officer);
  // As earlier versions made it: a plain wrap/unwrap AES key, and a seal key wrapped under it.
  await app.issuingHsm.ensureAesWrappingKey(LEGACY_SEAL_WRAPPING_KEY_LABEL);
  const legacy = await app.issuingHsm.generateWrappedEcKeyPair(LEGACY_SEAL_WRAPPING_KEY_LABEL);
  await app.db('seal_keys').where({ seal_id: sealId }).update({ wrapping_key_label: LEGACY_SEAL_WRAPPING_KEY_LABEL, wrapped_private_key: legacy.wrappedPrivateKey, public_key_spki: legacy.publicKeySpki });

  const copy = `m4-legacy-${sealId.slice(0, 8)}`;
  try {
    // What the fix is for: under the old key, the PIN is enough to read the private key.
    const before = await attack(LEGACY_SEAL_WRAPPING_KEY_LABEL, legacy.wrappedPrivateKey, copy);
    expect(before.unwrapExtractableReadable).toMatch(/^value [0-9a-f]{64}$/);
    const dir = mkdtempSync(path.join(tmpdir(), 'm4-legacy-'));
    const exported = await pkcs11Tool(['--read-object', '--type', 'secrkey', '--label', `${copy}-secret`, '-o', path.join(dir, 'stolen.der')]);
    expect(exported.ok).toBe(true);
    // pkcs11-tool exported the seal's PKCS#8 private key in clear (AES-KW-PAD zero padding after it).
    expect(readFileSync(path.join(dir, 'stolen.der')).toString('hex')).toContain(before.unwrapExtractableReadable.slice('value '.length));
  } finally {
    await removeCopies(copy);
  }

  // The HSM worker refuses to start on such a token, naming the fix.
  await expect(assertSealKeyWrapping(app.issuingHsm, app.db)).rejects.toThrow(/hsm:rewrap-seal-keys/);

  // Start-up (scripts/stack.ts) moves every live seal key under the key with the template, then destroys the old key.
  const report = await ensureSealKeyWrapping(app.issuingHsm, app.db);
  expect(report).toMatchObject({ created: false, legacyKeyDestroyed: true });
  expect(report.rewrapped).toBeGreaterThanOrEqual(1);
  const moved = await app.db('seal_keys').where({ seal_id: sealId }).first();
  expect(moved.wrapping_key_label).toBe(SEAL_WRAPPING_KEY_LABEL);
  expect(Buffer.compare(moved.wrapped_private_key, legacy.wrappedPrivateKey)).not.toBe(0);
  expect(await app.issuingHsm.hasSecretKey(LEGACY_SEAL_WRAPPING_KEY_LABEL)).toBe(false);
  await expect(assertSealKeyWrapping(app.issuingHsm, app.db)).resolves.toBeUndefined();
  // The same key signs, and now no longer comes out.
  expect(await signsForCertificate(moved.wrapping_key_label, moved.wrapped_private_key, legacy.publicKeySpki)).toBe(true);
  const after = await attack(SEAL_WRAPPING_KEY_LABEL, moved.wrapped_private_key, copy);
  try {
    expect(after.unwrapExtractableReadable).toBe('refused: CKR_TEMPLATE_INCONSISTENT');
    expect(after.unwrapAsGenericSecret).toBe('refused: CKR_TEMPLATE_INCONSISTENT');
  } finally {
    await removeCopies(copy);
  }
  // A second start has nothing left to move.
  expect(await ensureSealKeyWrapping(app.issuingHsm, app.db)).toEqual({ created: false, rewrapped: 0, legacyKeyDestroyed: false });
  // The seal view is unaffected.
  expect((await api(app.url, maker.token, 'GET', `/api/seals/${sealId}`)).status).toBe(200);
});
