// M4: one token per role. The web holds only its own token (OCSP responder key, personal-data KEK): its
// configuration has neither the issuing nor the root token's PIN, and yet OCSP and personal data work through
// it. An attacker with the web's PIN finds no CA, platform or seal-wrapping key there, cannot sign as the
// issuing CA, and cannot log in to the other tokens. Keys of personal data wrapped by a single-token install
// are moved to the web token's KEK at provisioning.
import { execFile } from 'node:child_process';
import { createHash, createPublicKey, randomUUID, verify, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { api, createUser, startApp, testConfig, type RunningApp } from '../helpers/stack';
import { createMaker } from '../helpers/fixtures';
import { readySeal } from '../helpers/journeys';
import { ownerDb } from '../helpers/owner-db';
import { startWebServer } from '../../web/server';
import { heldToken, rootTokenSettings } from '../../infra/hsm/tokens';
import { ISSUING_CA_KEY_LABEL, issueCertificate, ROOT_CA_KEY_LABEL } from '../../infra/pki/ca';
import { generateCrl } from '../../infra/pki/crl';
import { PLATFORM_SIGNING_KEY_LABEL } from '../../infra/pki/platform';
import { OCSP_RESPONDER_KEY_LABEL } from '../../infra/pki/ocsp-responder';
import { SM2_WRAPPING_KEY_LABEL } from '../../infra/hsm/sm2-module';
import { AUDIT_SIGNING_KEY_LABEL } from '../../infra/audit/chain';
import { LEGACY_PERSONAL_DATA_KEK_LABEL, PERSONAL_DATA_KEK_LABEL } from '../../infra/crypto/personal-data';
import { movePersonalDataKeys } from '../../infra/crypto/kek-move';

const run = promisify(execFile);
let app: RunningApp;
let web: Awaited<ReturnType<typeof startWebServer>>;
let webConfig: ReturnType<typeof testConfig>;

beforeAll(async () => {
  app = await startApp({ taskQueueSuffix: '-tokens' });
  // The web as `make up` starts it (HSM_TOKENS=web): with the issuing and root PINs in its environment even.
  webConfig = testConfig({ ...app.workerEnv, HSM_TOKENS: 'web', HSM_PIN: 'issuing-pin-in-env', HSM_ROOT_PIN: 'root-pin-in-env' });
  web = await startWebServer(webConfig, 0);
}, 120_000);
afterAll(async () => {
  await web?.close();
  await app?.stop();
});

const env = () => ({ ...process.env, SOFTHSM2_CONF: process.env.SOFTHSM2_CONF! });
const tokenLabels = () => [heldToken(app.config, 'web').label, heldToken(app.config, 'issuing').label, rootTokenSettings(app.config).label];

/** The attacker with one PIN (test/helpers/pkcs11-token-attacker.js), a process of its own. */
async function attack(pin: string, keyLabels: string[]) {
  const script = path.join(__dirname, '../helpers/pkcs11-token-attacker.js');
  const { stdout } = await run('node', [script, app.config.runtime.pkcs11Module, pin, JSON.stringify(tokenLabels()), JSON.stringify(keyLabels)], { env: env() });
  return JSON.parse(stdout) as Record<string, { login: string; objects?: string[]; sign?: Record<string, string> }>;
}

test('M4: the web configuration holds its own token only: neither the issuing nor the root PIN', () => {
  expect(Object.keys(webConfig.runtime.tokens)).toEqual(['web']);
  expect(JSON.stringify(webConfig)).not.toMatch(/issuing-pin-in-env|root-pin-in-env/);
  expect(JSON.stringify(webConfig)).not.toContain(heldToken(app.config, 'issuing').pin);
  expect(JSON.stringify(webConfig)).not.toContain(rootTokenSettings(app.config).pin);
});

test('M4: sign as the issuing CA from the web token: every attempt fails; the web PIN opens no other token', async () => {
  const webToken = heldToken(app.config, 'web');
  const [webLabel, issuingLabel, rootLabel] = tokenLabels();
  const wanted = [ISSUING_CA_KEY_LABEL, ROOT_CA_KEY_LABEL, PLATFORM_SIGNING_KEY_LABEL, AUDIT_SIGNING_KEY_LABEL, OCSP_RESPONDER_KEY_LABEL];
  const seen = await attack(webToken.pin, wanted);
  // In the web token: the responder key, the personal-data KEK and the SM2 wrapping key of the web's SM2 OCSP
  // responder key (issue 13; the SM2 CA and seal keys are wrapped under the other tokens'), nothing else.
  expect(seen[webLabel].login).toBe('ok');
  expect(seen[webLabel].objects).toEqual([`private:${OCSP_RESPONDER_KEY_LABEL}`, `secret:${SM2_WRAPPING_KEY_LABEL}`, `secret:${PERSONAL_DATA_KEK_LABEL}`]);
  for (const label of [ISSUING_CA_KEY_LABEL, ROOT_CA_KEY_LABEL, PLATFORM_SIGNING_KEY_LABEL, AUDIT_SIGNING_KEY_LABEL]) expect(seen[webLabel].sign![label]).toBe('no such key');
  expect(seen[webLabel].sign![OCSP_RESPONDER_KEY_LABEL]).toMatch(/^signed /); // the attack itself works where a key is
  // The web's PIN is not the issuing or the root token's.
  expect(seen[issuingLabel].login).toBe('refused: CKR_PIN_INCORRECT');
  expect(seen[rootLabel].login).toBe('refused: CKR_PIN_INCORRECT');

  // pkcs11-tool with the web PIN, asked to sign with the issuing CA's label: it finds no such key and signs with
  // the only private key it may use, the responder's; the signature is worthless as the issuing CA's.
  const dir = mkdtempSync(path.join(tmpdir(), 'm4-tokens-'));
  const forged = Buffer.from('tbsCertificate of a forged seal certificate');
  writeFileSync(path.join(dir, 'tbs'), createHash('sha256').update(forged).digest());
  await run('pkcs11-tool', ['--module', app.config.runtime.pkcs11Module, '--token-label', webLabel, '--login', '--pin', webToken.pin, '--sign', '--mechanism', 'ECDSA', '--label', ISSUING_CA_KEY_LABEL, '--input-file', path.join(dir, 'tbs'), '--output-file', path.join(dir, 'sig')], { env: env() });
  const issuingCert = new X509Certificate(readFileSync(path.join(app.config.runtime.dataDir, 'pki', 'issuing-ca.pem')));
  const signature = readFileSync(path.join(dir, 'sig'));
  expect(verify('sha256', forged, { key: issuingCert.publicKey, dsaEncoding: 'ieee-p1363' }, signature)).toBe(false);
  const responderKey = createPublicKey({ key: await app.hsm.publicKeySpki(OCSP_RESPONDER_KEY_LABEL), format: 'der', type: 'spki' });
  expect(verify('sha256', forged, { key: responderKey, dsaEncoding: 'ieee-p1363' }, signature)).toBe(true);

  // The product's own signing path on the web's token: a certificate or a CRL as the issuing CA is refused.
  const issuingDer = (await app.db('ca_certificates').where({ purpose: 'issuing' }).orderBy('created_at', 'desc').first('der')).der as Buffer;
  const spki = await app.hsm.publicKeySpki(OCSP_RESPONDER_KEY_LABEL);
  await expect(issueCertificate(app.hsm, { issuerCertDer: issuingDer, issuerKeyLabel: ISSUING_CA_KEY_LABEL, subject: 'CN=forged', publicKeySpki: spki, notBefore: new Date(), notAfter: new Date(Date.now() + 86_400_000), extensions: [] })).rejects.toThrow(/no EC key pair labelled "eseal-issuing-ca"/);
  const crlsBefore = await app.db('crls').count<{ n: string }[]>('* as n');
  await expect(generateCrl(app.hsm, app.db)).rejects.toThrow(/no EC key pair labelled "eseal-issuing-ca"/);
  expect(await app.db('crls').count<{ n: string }[]>('* as n')).toEqual(crlsBefore);
  // And the issuing token holds no root key: the running system cannot sign as the root either.
  expect(await app.issuingHsm.hasPrivateKey(ROOT_CA_KEY_LABEL)).toBe(false);
  expect(await app.issuingHsm.hasSecretKey(PERSONAL_DATA_KEK_LABEL)).toBe(false);
});

test('M4 P1 M13: through a web holding only its token, personal data is written and found, and OCSP answers good, verified', async () => {
  const viaWeb = { ...app, url: web.url };
  const maker = await createUser(app.db, 'maker', { maker_id: await createMaker(app.db) });
  const officer = await createUser(app.db, 'officer', { district_code: '110105' });
  const s = await readySeal(viaWeb, maker, officer); // the handler's ID and phone encrypted, the on-site image too
  const found = await api(web.url, officer.token, 'POST', '/api/person-lookups', { id_number: s.handlerId });
  expect(found.status).toBe(200);
  expect(found.body.records).toEqual([expect.objectContaining({ role: 'handler', case_id: s.caseId })]);

  const dir = mkdtempSync(path.join(tmpdir(), 'm4-ocsp-'));
  const pki = path.join(app.config.runtime.dataDir, 'pki');
  const seal = await app.db('seals').where({ case_id: s.caseId }).first('certificate_der');
  writeFileSync(path.join(dir, 'seal.der'), seal.certificate_der);
  await run('openssl', ['x509', '-inform', 'DER', '-in', 'seal.der', '-out', 'seal.pem'], { cwd: dir });
  writeFileSync(path.join(dir, 'chain.pem'), `${readFileSync(path.join(pki, 'issuing-ca.pem'), 'utf8').trim()}\n${readFileSync(path.join(pki, 'root-ca.pem'), 'utf8').trim()}\n`);
  const { stdout, stderr } = await run('openssl', ['ocsp', '-issuer', path.join(pki, 'issuing-ca.pem'), '-cert', 'seal.pem', '-url', `${web.url}/pki/ocsp`, '-CAfile', 'chain.pem', '-resp_text'], { cwd: dir });
  expect(stderr + stdout).toContain('Response verify OK');
  expect(stdout).toMatch(/seal\.pem: good/);
  expect(stdout).toContain('OCSP Signing'); // signed by the delegated responder (its key in the web token)
});

test('M4: keys of personal data wrapped by a single-token install move to the web token at provisioning, once, audited; the old KEK is destroyed', async () => {
  const owner = ownerDb();
  try {
    // As earlier versions made it: the KEK in the one token (now the issuing token), a data key wrapped under it.
    await app.issuingHsm.ensureAesWrappingKey(LEGACY_PERSONAL_DATA_KEK_LABEL);
    const legacy = await app.issuingHsm.generateDataKey(LEGACY_PERSONAL_DATA_KEK_LABEL);
    const id = randomUUID();
    // Old enough never to be a current data key of the processes running meanwhile.
    await app.db('personal_data_keys').insert({ id, purpose: 'data', kek_label: LEGACY_PERSONAL_DATA_KEK_LABEL, wrapped_key: legacy.wrapped, created_at: new Date(Date.now() - 400 * 86_400_000) });
    await expect(app.hsm.unwrapDataKey(LEGACY_PERSONAL_DATA_KEK_LABEL, legacy.wrapped)).rejects.toThrow(/no AES key/); // the web cannot read it yet

    const report = await movePersonalDataKeys(owner, app.issuingHsm, app.hsm);
    expect(report).toEqual({ moved: 1, legacyKekDestroyed: true });
    const row = await app.db('personal_data_keys').where({ id }).first();
    expect(row.kek_label).toBe(PERSONAL_DATA_KEK_LABEL);
    expect(await app.hsm.unwrapDataKey(PERSONAL_DATA_KEK_LABEL, row.wrapped_key)).toEqual(legacy.key); // the same data key
    expect(await app.issuingHsm.hasSecretKey(LEGACY_PERSONAL_DATA_KEK_LABEL)).toBe(false);
    const audit = await app.db('audit_entries').where({ action: 'hsm.personal_data_keys_moved' }).orderBy('seq', 'desc').first('details');
    expect(audit.details).toMatchObject({ moved: 1, legacyKekDestroyed: true, to: { token: heldToken(app.config, 'web').label, kek: PERSONAL_DATA_KEK_LABEL } });
    // A second start has nothing to move; the application role still cannot change a key row.
    expect(await movePersonalDataKeys(owner, app.issuingHsm, app.hsm)).toEqual({ moved: 0, legacyKekDestroyed: false });
    await expect(app.db('personal_data_keys').where({ id }).update({ kek_label: LEGACY_PERSONAL_DATA_KEK_LABEL })).rejects.toThrow(/permission denied/);
    await expect(owner('personal_data_keys').where({ id }).update({ wrapped_key: Buffer.alloc(40) })).rejects.toThrow(/never changed or deleted/);
    await expect(owner('personal_data_keys').where({ id }).delete()).rejects.toThrow(/never changed or deleted/);
  } finally {
    await owner.destroy();
  }
});

test('M4: the offline ceremony (npm run pki:ceremony) signs a root CRL and a new issuing-CA certificate with the root token, which openssl verifies', async () => {
  const ceremony = (args: string[]) => run('node', ['--import', 'tsx', 'scripts/pki-ceremony.ts', ...args], { cwd: app.config.rootDir, env: env() });
  const pki = path.join(app.config.runtime.dataDir, 'pki');
  const first = await ceremony(['root-crl', '--days', '30']);
  expect(first.stdout).toMatch(/root CRL #\d+ written/);
  const number = Number(/#(\d+)/.exec(first.stdout)![1]);
  const reissued = await ceremony(['issue-issuing-ca']);
  const serial = /issuing-CA certificate ([0-9a-f]+)/.exec(reissued.stdout)![1];
  expect((await run('openssl', ['verify', '-CAfile', path.join(pki, 'root-ca.pem'), path.join(pki, 'issuing-ca.pem')])).stdout.trim()).toMatch(/: OK$/);
  const newest = await app.db('ca_certificates').where({ purpose: 'issuing' }).orderBy('created_at', 'desc').first('serial', 'der');
  expect(newest.serial).toBe(serial);
  // Same key: what the issuing CA signed before still verifies under the new certificate.
  expect(new X509Certificate(newest.der).publicKey.export({ format: 'der', type: 'spki' })).toEqual(await app.issuingHsm.publicKeySpki(ISSUING_CA_KEY_LABEL));
  // The previous issuing certificate revoked on the next root CRL.
  const previous = (await app.db('ca_certificates').where({ purpose: 'issuing' }).orderBy('created_at', 'asc').first('serial')).serial as string;
  const second = await ceremony(['root-crl', '--revoke', previous]);
  expect(second.stdout).toContain(`root CRL #${number + 1} written`);
  const crl = await run('openssl', ['crl', '-inform', 'DER', '-in', path.join(pki, 'root-ca.crl'), '-CAfile', path.join(pki, 'root-ca.pem'), '-noout', '-text']);
  expect(crl.stderr).toContain('verify OK');
  expect(crl.stdout.replace(/\s/g, '').toLowerCase()).toContain(`serialnumber:${previous.toLowerCase()}`);
  // A wrong root PIN: the ceremony stops, nothing signed.
  await expect(run('node', ['--import', 'tsx', 'scripts/pki-ceremony.ts', 'root-crl'], { cwd: app.config.rootDir, env: { ...env(), HSM_ROOT_PIN: 'not-the-pin' } })).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining('CKR_PIN_INCORRECT') });
}, 60_000);
