// bench:keys — why per-seal keys are wrapped rather than token objects.
// On a throw-away SoftHSM2 token (no Temporal, no PostgreSQL):
//   - wrapped P-256 key generation (Hsm.generateWrappedEcKeyPair) per second, at the start and after
//     creating --wrapped (default 20,000) wrapped keys, stored to a temp file as the database would;
//   - signing with a wrapped key (Hsm.signWithWrappedKey) per second;
//   - token-object key generation (Hsm.ensureEcKeyPair with fresh labels) per second with 0, 1,000 and
//     3,000 existing token objects (--levels), on a second token. SoftHSM keeps each token object as a file;
//     the count is of those files, taken when each measurement starts (it grows while it runs).
// Operations run one at a time (--concurrency changes it for the wrapped ones). Figures are printed; nothing fails on them.
//   node --import tsx bench/keys.ts [--wrapped 20000] [--levels 0,1000,3000] [--seconds 3]
import { randomBytes, createPublicKey, verify } from 'node:crypto';
import { createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadavg } from 'node:os';
import * as pkcs11js from 'pkcs11js';
import { Hsm } from '../infra/hsm/hsm';
import { ensureSoftHsmToken } from '../infra/hsm/softhsm-token';
import { countObjects, fmt, heading, intFlag, measureRate, now, printTable, runPool, tokenDir, type Rate } from './lib';

const WRAPPING_LABEL = 'bench-seal-key-wrapping';
const SO_PIN = '12345678';
const USER_PIN = '87654321';

function levelsFlag(): number[] {
  const i = process.argv.findIndex((a) => a === '--levels' || a.startsWith('--levels='));
  if (i < 0) return [0, 1000, 3000];
  const raw = process.argv[i].includes('=') ? process.argv[i].split('=')[1] : process.argv[i + 1];
  const levels = raw.split(',').map((s) => Number(s.trim()));
  if (levels.some((l) => !Number.isInteger(l) || l < 0)) throw new Error(`--levels must be a comma-separated list of integers, got "${raw}"`);
  return levels.sort((a, b) => a - b);
}


/**
 * Puts `pairs` P-256 token key pairs (2 objects each, like ensureEcKeyPair's) on the token, one after the
 * other, straight through PKCS#11: only the setup of a level, not measured. Not through ensureEcKeyPair,
 * whose two label searches per key make filling quadratic (minutes for 3,000 objects), and not in parallel:
 * SoftHSM 2.6.1 fails token-object generation with CKR_GENERAL_ERROR while another session searches.
 */
function fillTokenObjects(modulePath: string, tokenLabel: string, pin: string, pairs: number, from: number): void {
  if (pairs <= 0) return;
  const lib = new pkcs11js.PKCS11();
  lib.load(modulePath); // the same module the Hsm adapter loaded: already initialised, already logged in
  try {
    try {
      lib.C_Initialize({ flags: pkcs11js.CKF_OS_LOCKING_OK });
    } catch (e) {
      if ((e as { code?: number }).code !== pkcs11js.CKR_CRYPTOKI_ALREADY_INITIALIZED) throw e;
    }
    const slot = lib.C_GetSlotList(true).find((s) => lib.C_GetTokenInfo(s).label.trimEnd() === tokenLabel);
    if (!slot) throw new Error(`no token "${tokenLabel}"`);
    const s = lib.C_OpenSession(slot, pkcs11js.CKF_RW_SESSION | pkcs11js.CKF_SERIAL_SESSION);
    try {
      try {
        lib.C_Login(s, pkcs11js.CKU_USER, pin);
      } catch (e) {
        if ((e as { code?: number }).code !== pkcs11js.CKR_USER_ALREADY_LOGGED_IN) throw e;
      }
      const p256 = Buffer.from('06082a8648ce3d030107', 'hex');
      for (let i = from; i < from + pairs; i++) {
        const label = `bench-fill-${i}`;
        lib.C_GenerateKeyPair(
          s,
          { mechanism: pkcs11js.CKM_EC_KEY_PAIR_GEN },
          [
            { type: pkcs11js.CKA_TOKEN, value: true },
            { type: pkcs11js.CKA_LABEL, value: label },
            { type: pkcs11js.CKA_EC_PARAMS, value: p256 },
            { type: pkcs11js.CKA_VERIFY, value: true },
          ],
          [
            { type: pkcs11js.CKA_TOKEN, value: true },
            { type: pkcs11js.CKA_LABEL, value: label },
            { type: pkcs11js.CKA_PRIVATE, value: true },
            { type: pkcs11js.CKA_SENSITIVE, value: true },
            { type: pkcs11js.CKA_EXTRACTABLE, value: false },
            { type: pkcs11js.CKA_SIGN, value: true },
          ],
        );
      }
    } finally {
      lib.C_CloseSession(s);
    }
  } finally {
    lib.close(); // no C_Finalize: the Hsm adapters still use the module
  }
}

async function main() {
  const seconds = intFlag('seconds', 3);
  const tokenSeconds = intFlag('token-seconds', 2);
  const wrappedCount = intFlag('wrapped', 20_000);
  const concurrency = Math.max(1, intFlag('concurrency', 1));
  const levels = levelsFlag();
  const started = now();

  const dataDir = mkdtempSync(path.join(tmpdir(), 'eseal-bench-keys-'));
  try {
    // Two tokens, both initialised before the module is loaded (SoftHSM scans its tokens at C_Initialize).
    const a = await ensureSoftHsmToken({ dataDir, label: 'bench-wrapped', soPin: SO_PIN, userPin: USER_PIN });
    await ensureSoftHsmToken({ dataDir, label: 'bench-objects', soPin: SO_PIN, userPin: USER_PIN });
    const wrappedHsm = await Hsm.open({ modulePath: a.modulePath, tokenLabel: 'bench-wrapped', pin: USER_PIN });
    const objectHsm = await Hsm.open({ modulePath: a.modulePath, tokenLabel: 'bench-objects', pin: USER_PIN });
    const tokensRoot = path.join(dataDir, 'hsm', 'tokens');
    const wrappedDir = tokenDir(tokensRoot, 'bench-wrapped');
    const objectsDir = tokenDir(tokensRoot, 'bench-objects');
    console.log(`SoftHSM tokens in ${tokensRoot} (module ${a.modulePath}); ${concurrency} operation(s) in flight; load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);

    try {
      await wrappedHsm.ensureAesWrappingKey(WRAPPING_LABEL);
      const wrapOnce = () => wrappedHsm.generateWrappedEcKeyPair(WRAPPING_LABEL);
      await runPool(50, concurrency, wrapOnce); // warm-up: sessions, OpenSSL, the AES key handle

      heading('wrapped key generation (generateWrappedEcKeyPair)');
      const wrappedStart = await measureRate(seconds, wrapOnce, concurrency);
      console.log(`at the start: ${fmt(wrappedStart.perSecond)} keys/s (${wrappedStart.ops} in ${fmt(wrappedStart.seconds, 2)} s)`);

      // Stored as the seal_keys table would hold them: the wrapped blob and the public key, one line each.
      const storePath = path.join(dataDir, 'wrapped-keys.jsonl');
      const store = createWriteStream(storePath);
      let lastKey: { wrappedPrivateKey: Buffer; publicKeySpki: Buffer } | undefined;
      const bulkSeconds = await runPool(wrappedCount, concurrency, async (i) => {
        const k = await wrapOnce();
        lastKey = k;
        if (!store.write(`${JSON.stringify({ i, w: k.wrappedPrivateKey.toString('base64'), p: k.publicKeySpki.toString('base64') })}\n`)) {
          await new Promise<void>((r) => store.once('drain', () => r()));
        }
      });
      await new Promise<void>((r, j) => store.end((e?: Error | null) => (e ? j(e) : r())));
      const bulk: Rate = { ops: wrappedCount, seconds: bulkSeconds, perSecond: wrappedCount / bulkSeconds };
      console.log(`created ${wrappedCount} wrapped keys in ${fmt(bulkSeconds, 1)} s (${fmt(bulk.perSecond)} keys/s), stored in ${(statSync(storePath).size / 1e6).toFixed(1)} MB; token objects on that token: ${countObjects(wrappedDir)}`);
      const wrappedAfter = await measureRate(seconds, wrapOnce, concurrency);
      console.log(`after ${wrappedCount}: ${fmt(wrappedAfter.perSecond)} keys/s (${wrappedAfter.ops} in ${fmt(wrappedAfter.seconds, 2)} s)`);

      heading('signing with a wrapped key (signWithWrappedKey: unwrap, sign, destroy)');
      const key = lastKey ?? (await wrapOnce());
      const message = randomBytes(64);
      const sig = await wrappedHsm.signWithWrappedKey(WRAPPING_LABEL, key.wrappedPrivateKey, message);
      const pub = createPublicKey({ key: key.publicKeySpki, format: 'der', type: 'spki' });
      if (!verify('sha256', message, { key: pub, dsaEncoding: 'ieee-p1363' }, sig)) throw new Error('signature by the wrapped key did not verify');
      const signRate = await measureRate(seconds, () => wrappedHsm.signWithWrappedKey(WRAPPING_LABEL, key.wrappedPrivateKey, message), concurrency);
      console.log(`${fmt(signRate.perSecond)} signatures/s (${signRate.ops} in ${fmt(signRate.seconds, 2)} s; one checked with node:crypto)`);

      heading('token-object key generation (ensureEcKeyPair, fresh labels; 2 objects per key pair)');
      let seq = 0;
      const tokenOnce = () => objectHsm.ensureEcKeyPair(`bench-seal-${seq++}`);
      let filledPairs = 0;
      const tokenRates: Array<{ level: number; existing: number; rate: Rate; fillSeconds: number; filled: number }> = [];
      for (const level of levels) {
        const before = countObjects(objectsDir);
        const pairs = Math.max(0, Math.ceil((level - before) / 2));
        const fillStart = now();
        fillTokenObjects(a.modulePath, 'bench-objects', USER_PIN, pairs, filledPairs);
        filledPairs += pairs;
        const fillSeconds = (now() - fillStart) / 1000;
        const existing = countObjects(objectsDir);
        if (pairs > 0) console.log(`filled the token to ${existing} objects (${pairs} key pairs in ${fmt(fillSeconds, 1)} s, ${fmt(pairs / fillSeconds)} pairs/s)`);
        const rate = await measureRate(tokenSeconds, tokenOnce, 1, 10); // one at a time: see fillTokenObjects
        console.log(`with ${existing} existing token objects: ${fmt(rate.perSecond)} keys/s (${rate.ops} in ${fmt(rate.seconds, 2)} s)`);
        tokenRates.push({ level, existing, rate, fillSeconds, filled: pairs });
      }

      heading('summary (bench:keys)');
      const wrappedObjects = countObjects(wrappedDir);
      const rows: Array<Array<string | number>> = [['operation', 'token objects', 'per second', 'relative']];
      const rel = (r: Rate, base: Rate) => `${fmt(r.perSecond / base.perSecond, 3)}x`;
      rows.push(['wrapped key generation, at the start', wrappedObjects, fmt(wrappedStart.perSecond), rel(wrappedStart, wrappedStart)]);
      rows.push([`wrapped key generation, ${wrappedCount} in bulk`, wrappedObjects, fmt(bulk.perSecond), rel(bulk, wrappedStart)]);
      rows.push([`wrapped key generation, after ${wrappedCount}`, wrappedObjects, fmt(wrappedAfter.perSecond), rel(wrappedAfter, wrappedStart)]);
      rows.push(['sign with a wrapped key', wrappedObjects, fmt(signRate.perSecond), '-']);
      const base = tokenRates[0]?.rate;
      for (const t of tokenRates) rows.push([`token-object key generation (${t.level})`, t.existing, fmt(t.rate.perSecond), rel(t.rate, base!)]);
      printTable(rows);
      console.log('(token objects: files on the token when the measurement started; relative: to the first row of the same kind)');
      for (const t of tokenRates) {
        console.log(`wrapped (after ${wrappedCount}) / token-object with ${t.existing} objects: ${fmt(wrappedAfter.perSecond / t.rate.perSecond, 0)}x`);
      }
      console.log(`total ${fmt((now() - started) / 1000, 1)} s; load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
    } finally {
      await wrappedHsm.close();
      await objectHsm.close();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.stack : e);
  process.exit(1);
});
