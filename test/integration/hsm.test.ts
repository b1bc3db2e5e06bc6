// Real SoftHSM2 token in a fresh temp data dir; no mocks.
import { execFile, spawn } from 'node:child_process';
import { createPublicKey, generateKeyPairSync, randomBytes, sign as nodeSign, verify as nodeVerify } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Hsm, keyIdForLabel, SEAL_KEY_UNWRAP_TEMPLATE, toDerEcdsaSignature } from '../../infra/hsm/hsm';
import { ensureSoftHsmToken, listSoftHsmTokenLabels, setSoftHsmConf } from '../../infra/hsm/softhsm-token';

const run = promisify(execFile);
const TOKEN = 'eseal-test';
const SO_PIN = '87654321';
const PIN = '12345678';

interface ListedObject {
  kind: string;
  label?: string;
  id?: string;
  usage: string[];
  access: string[];
}

/** Parses `pkcs11-tool --list-objects` output into one entry per object. */
function parseObjects(stdout: string): ListedObject[] {
  const objects: ListedObject[] = [];
  for (const line of stdout.split('\n')) {
    const head = /^(Private Key|Public Key|Secret Key|Certificate|Data) Object/.exec(line);
    if (head) {
      objects.push({ kind: head[1], usage: [], access: [] });
      continue;
    }
    const field = /^\s+(label|ID|Usage|Access):\s*(.*)$/.exec(line);
    const current = objects[objects.length - 1];
    if (!field || !current) continue;
    const [, name, value] = field;
    if (name === 'label') current.label = value.trim();
    else if (name === 'ID') current.id = value.trim();
    else if (name === 'Usage') current.usage = value.split(',').map((s) => s.trim());
    else current.access = value.split(',').map((s) => s.trim());
  }
  return objects;
}

describe('HSM adapter on a real SoftHSM2 token', () => {
  let dataDir: string;
  let confPath: string;
  let modulePath: string;
  let hsm: Hsm;
  let previousConf: string | undefined;

  const listObjects = async (type: 'privkey' | 'pubkey' | 'secrkey') => {
    const { stdout } = await run(
      'pkcs11-tool',
      ['--module', modulePath, '--token-label', TOKEN, '--login', '--pin', PIN, '--list-objects', '--type', type],
      { env: { ...process.env, SOFTHSM2_CONF: confPath } },
    );
    return parseObjects(stdout);
  };

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'eseal-hsm-test-'));
    previousConf = setSoftHsmConf(undefined);
    ({ confPath, modulePath } = await ensureSoftHsmToken({ dataDir, label: TOKEN, soPin: SO_PIN, userPin: PIN }));
    hsm = await Hsm.open({ modulePath, tokenLabel: TOKEN, pin: PIN });
  });

  afterAll(async () => {
    await hsm?.close();
    setSoftHsmConf(previousConf); // other test files in this jest process may use the stack's token
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  test('provisioning the token twice keeps a single token with that label', async () => {
    expect(process.env.SOFTHSM2_CONF).toBe(confPath);
    expect(confPath).toBe(path.join(dataDir, 'hsm', 'softhsm2.conf'));
    await ensureSoftHsmToken({ dataDir, label: TOKEN, soPin: SO_PIN, userPin: PIN });
    const labels = await listSoftHsmTokenLabels(confPath);
    expect(labels.filter((l) => l === TOKEN)).toHaveLength(1);
  });

  test('a second ensureEcKeyPair returns the same public key and the token holds one non-extractable private key', async () => {
    const first = await hsm.ensureEcKeyPair('seal-test-key');
    const second = await hsm.ensureEcKeyPair('seal-test-key');
    expect(first.created).toBe(true);
    expect(second.created).toBe(false);
    expect(second.publicKeySpki.equals(first.publicKeySpki)).toBe(true);

    const mine = (await listObjects('privkey')).filter((o) => o.label === 'seal-test-key');
    expect(mine).toHaveLength(1);
    expect(mine[0].id).toBe(keyIdForLabel('seal-test-key').toString('hex'));
    expect(mine[0].usage).toEqual(['sign']);
    expect(mine[0].access).toEqual(expect.arrayContaining(['sensitive', 'always sensitive', 'never extractable']));
    expect(await hsm.keyAttributes('seal-test-key')).toEqual({
      sensitive: true,
      extractable: false,
      neverExtractable: true,
      alwaysSensitive: true,
    });
  });

  test('the public key is a P-256 SubjectPublicKeyInfo that Node can import', async () => {
    const spki = await hsm.publicKeySpki('seal-test-key');
    const key = createPublicKey({ key: spki, format: 'der', type: 'spki' });
    expect(key.asymmetricKeyType).toBe('ec');
    expect(key.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(Buffer.from(key.export({ format: 'der', type: 'spki' })).equals(spki)).toBe(true);
  });

  test('many concurrent callers asking for the same new label get one key', async () => {
    const results = await Promise.all(Array.from({ length: 8 }, () => hsm.ensureEcKeyPair('concurrent-key')));
    expect(new Set(results.map((r) => r.publicKeySpki.toString('hex'))).size).toBe(1);
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect((await listObjects('privkey')).filter((o) => o.label === 'concurrent-key')).toHaveLength(1);
    expect((await listObjects('pubkey')).filter((o) => o.label === 'concurrent-key')).toHaveLength(1);
  });

  test('several processes racing to create the same label end up sharing one key', async () => {
    // Each child opens the token, waits for "go" on stdin, then calls ensureEcKeyPair at the same moment.
    const script = path.join(dataDir, 'race-child.ts');
    await writeFile(
      script,
      `import { Hsm } from ${JSON.stringify(path.resolve(__dirname, '../../infra/hsm/hsm'))};
(async () => {
  const hsm = await Hsm.open({ modulePath: ${JSON.stringify(modulePath)}, tokenLabel: ${JSON.stringify(TOKEN)}, pin: ${JSON.stringify(PIN)} });
  process.stdout.write('ready\\n');
  await new Promise((r) => process.stdin.once('data', r));
  const { publicKeySpki, created } = await hsm.ensureEcKeyPair('raced-key');
  process.stdout.write(JSON.stringify({ spki: publicKeySpki.toString('hex'), created }) + '\\n');
  await hsm.close();
  process.exit(0);
})().catch((e) => { console.error(e); process.exit(1); });
`,
    );
    const repoRoot = path.resolve(__dirname, '../..');
    const children = Array.from({ length: 4 }, () => {
      const child = spawn(process.execPath, ['--import', 'tsx', script], {
        cwd: repoRoot,
        env: { ...process.env, SOFTHSM2_CONF: confPath },
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let out = '';
      let err = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (err += d));
      const ready = new Promise<void>((resolve, reject) => {
        child.stdout.on('data', () => out.includes('ready') && resolve());
        child.on('exit', (code) => reject(new Error(`child exited early (${code}): ${err}`)));
      });
      const done = new Promise<string>((resolve, reject) =>
        child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`child failed (${code}): ${err}`)))),
      );
      return { child, ready, done };
    });
    await Promise.all(children.map((c) => c.ready));
    for (const c of children) c.child.stdin.end('go\n');
    const outputs = await Promise.all(children.map((c) => c.done));
    const results = outputs.map((o) => JSON.parse(o.trim().split('\n').pop()!) as { spki: string; created: boolean });

    expect(new Set(results.map((r) => r.spki)).size).toBe(1);
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect((await listObjects('privkey')).filter((o) => o.label === 'raced-key')).toHaveLength(1);
    expect((await listObjects('pubkey')).filter((o) => o.label === 'raced-key')).toHaveLength(1);
    // This process did not take part and sees the same key.
    expect((await hsm.ensureEcKeyPair('raced-key')).publicKeySpki.toString('hex')).toBe(results[0].spki);
  });

  test('an HSM signature over SHA-256 verifies with Node crypto in raw and DER form', async () => {
    const data = randomBytes(4096);
    const raw = await hsm.signEcdsaSha256('seal-test-key', data);
    expect(raw).toHaveLength(64);
    const key = createPublicKey({ key: await hsm.publicKeySpki('seal-test-key'), format: 'der', type: 'spki' });
    expect(nodeVerify('sha256', data, { key, dsaEncoding: 'ieee-p1363' }, raw)).toBe(true);
    expect(nodeVerify('sha256', data, key, toDerEcdsaSignature(raw))).toBe(true);
    expect(nodeVerify('sha256', Buffer.concat([data, Buffer.from([0])]), key, toDerEcdsaSignature(raw))).toBe(false);
  });

  test('concurrent signing from one process returns valid signatures', async () => {
    const key = createPublicKey({ key: await hsm.publicKeySpki('seal-test-key'), format: 'der', type: 'spki' });
    const messages = Array.from({ length: 64 }, (_, i) => Buffer.from(`message ${i}`));
    const sigs = await Promise.all(messages.map((m) => hsm.signEcdsaSha256('seal-test-key', m)));
    sigs.forEach((sig, i) => expect(nodeVerify('sha256', messages[i], { key, dsaEncoding: 'ieee-p1363' }, sig)).toBe(true));
  });

  test('raw r||s signatures convert to DER that Node accepts, including leading zero and high-bit cases', () => {
    const r = Buffer.alloc(32);
    r[31] = 1;
    const s = Buffer.alloc(32);
    s[0] = 0x80;
    const der = toDerEcdsaSignature(Buffer.concat([r, s]));
    expect(der.toString('hex')).toBe('3026020101022100' + s.toString('hex'));

    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    for (let i = 0; i < 300; i++) {
      const msg = Buffer.from(`m${i}`);
      const raw = nodeSign('sha256', msg, { key: privateKey, dsaEncoding: 'ieee-p1363' });
      expect(nodeVerify('sha256', msg, publicKey, toDerEcdsaSignature(raw))).toBe(true);
    }
    expect(() => toDerEcdsaSignature(Buffer.alloc(63))).toThrow();
  });

  test('M4: the seal wrapping key is created once with its unwrap template; a key of that label without one is refused by name', async () => {
    expect((await hsm.ensureSealWrappingKey('seal-wrap-m4')).created).toBe(true);
    expect((await hsm.ensureSealWrappingKey('seal-wrap-m4')).created).toBe(false);
    expect((await hsm.unwrapTemplate('seal-wrap-m4')).map((a) => a.type).sort()).toEqual(SEAL_KEY_UNWRAP_TEMPLATE.map((a) => a.type).sort());
    expect(await hsm.keyAttributes('seal-wrap-m4')).toMatchObject({ sensitive: true, extractable: false, neverExtractable: true });
    // Made the old way (no template): refused, naming the key, also through a fresh adapter.
    await hsm.ensureAesWrappingKey('seal-wrap-plain');
    expect(await hsm.unwrapTemplate('seal-wrap-plain')).toEqual([]);
    await expect(hsm.ensureSealWrappingKey('seal-wrap-plain')).rejects.toThrow(/"seal-wrap-plain" has no CKA_UNWRAP_TEMPLATE/);
    // A seal key wrapped under the templated key signs, unwrapped as the template says.
    const { wrappedPrivateKey, publicKeySpki } = await hsm.generateWrappedEcKeyPair('seal-wrap-m4');
    const msg = Buffer.from('M4 北京');
    const sig = await hsm.signWithWrappedKey('seal-wrap-m4', wrappedPrivateKey, msg);
    expect(nodeVerify('sha256', msg, { key: createPublicKey({ key: publicKeySpki, format: 'der', type: 'spki' }), dsaEncoding: 'ieee-p1363' }, sig)).toBe(true);
  });

  test('the AES-256 wrapping key is created once, sensitive and never extractable, for wrap/unwrap only', async () => {
    expect((await hsm.ensureAesWrappingKey('seal-wrapping-key')).created).toBe(true);
    expect((await hsm.ensureAesWrappingKey('seal-wrapping-key')).created).toBe(false);
    const mine = (await listObjects('secrkey')).filter((o) => o.label === 'seal-wrapping-key');
    expect(mine).toHaveLength(1);
    expect(mine[0].usage.sort()).toEqual(['unwrap', 'wrap']);
    expect(mine[0].access).toEqual(expect.arrayContaining(['sensitive', 'always sensitive', 'never extractable']));
    expect(await hsm.keyAttributes('seal-wrapping-key')).toEqual({
      sensitive: true,
      extractable: false,
      neverExtractable: true,
      alwaysSensitive: true,
    });
  });

  test('the status check reports a logged-in token that can sign', async () => {
    expect(await hsm.status('seal-test-key')).toEqual({ loggedIn: true, canSign: true, tokenLabel: TOKEN });
  });

  test('the status check reports a missing key instead of throwing', async () => {
    const status = await hsm.status('no-such-key');
    expect(status).toMatchObject({ loggedIn: true, canSign: false, tokenLabel: TOKEN });
    expect(status.detail).toMatch(/no-such-key/);
  });

  test('signing with an unknown label fails without creating a key', async () => {
    await expect(hsm.signEcdsaSha256('never-created', Buffer.from('x'))).rejects.toThrow(/never-created/);
    expect((await listObjects('privkey')).filter((o) => o.label === 'never-created')).toHaveLength(0);
  });

  test('opening a token label that does not exist fails with the labels that do', async () => {
    await expect(Hsm.open({ modulePath, tokenLabel: 'absent-token', pin: PIN })).rejects.toThrow(/eseal-test/);
  });

  test('a second adapter in the same process shares the module and sees the same keys', async () => {
    const other = await Hsm.open({ modulePath, tokenLabel: TOKEN, pin: PIN, maxSessions: 1 });
    try {
      expect((await other.publicKeySpki('seal-test-key')).equals(await hsm.publicKeySpki('seal-test-key'))).toBe(true);
    } finally {
      await other.close();
    }
    // Closing the other adapter must not finalise the module under this one.
    expect((await hsm.status('seal-test-key')).canSign).toBe(true);
  });
});
