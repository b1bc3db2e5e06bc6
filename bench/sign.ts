// bench:sign — what signing and verifying through the API cost next to the bare cryptography, measured in the
// same run with the same concurrency (issue 12, "Benchmark"). Runs under scripts/with-stack.ts (npm run
// bench:sign), which provisions Temporal, PostgreSQL and the SoftHSM tokens in data-bench-sign/ on the
// bench's own ports. The app's workers and web server run in this process (test/helpers/stack.ts#startApp).
//
//  1. Set-up: one collected seal through the JSON API, a keeper and its protection password.
//  2. Raw HSM signatures with that seal's key (Hsm.signWithWrappedKey: unwrap in the HSM, sign, destroy —
//     exactly what the HSM worker does per signature), --count (40) at --concurrency (4).
//  3. The sign API at the same count and concurrency: CMS (a 10 KB file), PAdES B-B on a 1-page and a
//     50-page PDF, PAdES B-T on the 1-page PDF (an RFC 3161 timestamp from the platform's TSA, the HSM
//     worker). Each request checks the keeper's password (argon2id), runs the `signature:<id>` workflow (HSM
//     worker signs, main worker writes the use register) and answers.
//  4. The verify API on those documents (the .p7s with its file, the signed PDFs), and the baseline: raw
//     ECDSA-SHA256 verification with node's crypto on the seal's public key.
//  4b. National formats (issue 13): raw SM2 signatures in the software SM2 module with the seal's SM2 key
//     (unwrap from the HSM, sign, wipe: what the HSM worker does), the OFD sign API (an SES_Signature in a
//     small OFD), the verify API on the signed OFDs (SES verification) and raw SM2 verification.
//  5. Memory (run first, right after the warm-up): a real 200 MB PDF (one page showing a 200 MB image, written here in chunks with a correct
//     cross-reference table) uploaded by curl, another process, and signed, CMS (streamed to disk and hashed
//     as it arrives) then PAdES B-B (above pki.padesStreamAboveBytes: signed from disk as a stream,
//     infra/signing/pades-stream.ts, the answer streamed back), each while this process's RSS, heap and
//     Buffers are sampled every 20 ms; the web and both workers are this process, so the growth printed is
//     theirs together (an upper bound for each). pdfsig checks the signed 200 MB PDF.
//  Also printed: the argon2id check of the protection password alone, which every signature pays (C2).
// Ratios are printed against the targets (PASS / BELOW TARGET); the run never fails on them.
import { createHash, verify as nodeVerify, X509Certificate } from 'node:crypto';
import { toDerEcdsaSignature } from '../infra/hsm/hsm';
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { loadavg } from 'node:os';
import { hashPassword, verifyPassword } from '../infra/passwords';
import { Sm2Module } from '../infra/hsm/sm2-module';
import { sm2Verify } from '../infra/gm/sm2';
import { minimalOfd } from '../test/helpers/ofd';
import { createMaker, makeResidentId } from '../test/helpers/fixtures';
import { collectedSeal } from '../test/helpers/journeys';
import { api, createUser, startApp, type RunningApp } from '../test/helpers/stack';
import { cpuProfiler, fmt, heading, intFlag, now, printTable, runPool, stringFlag } from './lib';
import { memoryGrowth, writeBigPdf } from './big-pdf';

const PASSWORD = 'Bench#Seal2049x';
const TARGETS = { cms: 0.5, pades1: 0.3, verify: 0.5, memoryMb: 64, ofd: 0.5, sesVerify: 0.5 };

async function pdfOfPages(pages: number): Promise<Buffer> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { PDFDocument, StandardFonts } = require('@cantoo/pdf-lib');
  const d = await PDFDocument.create();
  const font = await d.embedFont(StandardFonts.Helvetica);
  for (let p = 1; p <= pages; p++) {
    const page = d.addPage([595.28, 841.89]);
    for (let line = 0; line < 40; line++) page.drawText(`Contract 2026-12, page ${p}, clause ${line + 1}: the parties agree as follows.`, { x: 50, y: 790 - line * 18, size: 10, font });
  }
  return Buffer.from(await d.save({ useObjectStreams: false }));
}

interface Signed {
  status: number;
  bytes: Buffer;
  body: unknown;
}

async function signRequest(app: RunningApp, token: string, sealId: string, keeperId: string, format: 'cms' | 'pades' | 'ofd', file: Blob, name: string, extra: Record<string, string> = {}): Promise<Signed> {
  const form = new FormData();
  form.set('id_number', keeperId);
  form.set('password', PASSWORD);
  form.set('purpose', '基准测试');
  form.set('document_type', 'agreement');
  form.set('format', format);
  for (const [k, v] of Object.entries(extra)) form.set(k, v);
  form.set('file', file, name);
  const res = await fetch(`${app.url}/api/seals/${sealId}/signatures`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: form });
  const bytes = Buffer.from(await res.arrayBuffer());
  return { status: res.status, bytes, body: res.status === 201 ? null : bytes.toString('utf8').slice(0, 400) };
}

async function verifyRequest(app: RunningApp, file: Buffer, signature: Buffer | null): Promise<string> {
  const form = new FormData();
  form.set('file', new Blob([file]), signature ? 'doc.bin' : 'doc.pdf');
  if (signature) form.set('signature', new Blob([signature]), 'doc.p7s');
  const res = await fetch(`${app.url}/api/verifications`, { method: 'POST', body: form });
  const body = (await res.json()) as { signatures?: Array<{ indication: string }> };
  if (res.status !== 200) throw new Error(`verification: HTTP ${res.status}: ${JSON.stringify(body).slice(0, 300)}`);
  return body.signatures?.map((s) => s.indication).join(',') ?? '';
}

/** The sign API called by curl (a process of its own); answers the HTTP status; the answer goes to `output`. */
async function curlSign(app: RunningApp, token: string, sealId: string, keeperId: string, format: string, file: string, output = '/dev/null'): Promise<number> {
  const args = ['-s', '-o', output, '-w', '%{http_code}', '-H', `authorization: Bearer ${token}`];
  for (const [k, v] of Object.entries({ id_number: keeperId, password: PASSWORD, purpose: '基准测试', document_type: 'agreement', format })) args.push('-F', `${k}=${v}`);
  args.push('-F', `file=@${file};type=application/pdf`, `${app.url}/api/seals/${sealId}/signatures`);
  const { stdout } = await promisify(execFile)('curl', args);
  return Number(stdout);
}

const mustSign = (s: Signed, what: string) => {
  if (s.status !== 201) throw new Error(`${what}: HTTP ${s.status}: ${String(s.body)}`);
  return s.bytes;
};

async function main() {
  const count = intFlag('count', 40);
  const concurrency = intFlag('concurrency', 4);
  const bigMb = intFlag('big-mb', 200);
  const profileDir = stringFlag('profile');
  const profiler = cpuProfiler();
  if (profileDir) mkdirSync(profileDir, { recursive: true });
  const app = await startApp();
  const tmp = mkdtempSync(path.join(tmpdir(), 'bench-sign-'));
  try {
    heading('set-up');
    const maker = await createUser(app.db, 'maker', { maker_id: await createMaker(app.db) });
    const officer = await createUser(app.db, 'officer', { district_code: '110105' });
    const seal = await collectedSeal(app, maker, officer);
    const staff = await createUser(app.db, 'holder', { holder_id: seal.holderId });
    const keeperId = makeResidentId('19880101');
    if ((await api(app.url, staff.token, 'POST', `/api/seals/${seal.sealId}/keepers`, { name: '孙保管', id_number: keeperId })).status !== 201) throw new Error('keeper');
    if ((await api(app.url, staff.token, 'POST', `/api/seals/${seal.sealId}/password`, { id_number: keeperId, password: PASSWORD })).status !== 201) throw new Error('password');
    const key = await app.db('seal_keys').where({ seal_id: seal.sealId }).first('wrapping_key_label', 'wrapped_private_key');
    const certDer = (await app.db('seals').where({ id: seal.sealId }).first('certificate_der')).certificate_der as Buffer;
    const publicKey = new X509Certificate(certDer).publicKey;
    const doc = Buffer.alloc(10_240, 0x41);
    const pdf1 = await pdfOfPages(1);
    const pdf50 = await pdfOfPages(50);
    console.log(`load average ${loadavg().map((l) => l.toFixed(1)).join(' ')} (2 cores)`);
    console.log(`seal ${seal.sealId}; count ${count}, concurrency ${concurrency}; PDFs: 1 page ${pdf1.length} B, 50 pages ${pdf50.length} B`);

    // Warm-up (not counted): the first workflow, the first PDF parse, the first verification.
    const warmCms = mustSign(await signRequest(app, staff.token, seal.sealId, keeperId, 'cms', new Blob([doc]), 'doc.bin'), 'warm-up cms');
    mustSign(await signRequest(app, staff.token, seal.sealId, keeperId, 'pades', new Blob([pdf1]), 'one.pdf'), 'warm-up pades');
    await verifyRequest(app, doc, warmCms);

    // With --profile DIR, each API phase is CPU-profiled on its own (DIR/<phase>.cpuprofile, for Chrome's
    // DevTools or scripts that read the JSON); the raw baselines are not.
    const rate = async (op: (i: number) => Promise<unknown>, phase?: string) => {
      if (profileDir && phase) await profiler.start();
      const t0 = now();
      await runPool(count, concurrency, op);
      const perSecond = count / ((now() - t0) / 1000);
      if (profileDir && phase) await profiler.stop(path.join(profileDir, `${phase}.cpuprofile`));
      return perSecond;
    };

    // First, from the settled process after the warm-up: the later phases leave RSS grown, which would hide growth.
    // --big-mb 0 leaves this phase out (when only the rates are wanted).
    if (bigMb > 0) {
    heading(`memory: signing a ${bigMb} MB PDF`);
    const bigPath = path.join(tmp, 'big.pdf');
    await writeBigPdf(bigPath, bigMb);
    const bigSize = statSync(bigPath).size;
    // The upload comes from curl, another process, so that what grows here is the web's and the workers'.
    const cmsBig = await memoryGrowth(() => curlSign(app, staff.token, seal.sealId, keeperId, 'cms', bigPath));
    if (cmsBig.result !== 201) throw new Error(`cms of ${bigMb} MB: HTTP ${cmsBig.result}`);
    const signedBig = path.join(tmp, 'big-signed.pdf');
    const padesBig = await memoryGrowth(() => curlSign(app, staff.token, seal.sealId, keeperId, 'pades', bigPath, signedBig));
    if (padesBig.result !== 201) throw new Error(`PAdES of ${bigMb} MB: HTTP ${padesBig.result}`);
    // The signed file checked by poppler (no trust anchor here: the signature's integrity is what counts).
    const pdfsig = await promisify(execFile)('pdfsig', [signedBig], { encoding: 'utf8', maxBuffer: 1 << 20 }).then((r) => r.stdout, (e: { stdout?: string }) => e.stdout ?? '');
    const pdfsigVerdict = /Signature is Valid\./.test(pdfsig) && /Total document signed/.test(pdfsig) ? 'pdfsig: valid, whole file' : `pdfsig: ${pdfsig.split('\n').find((l) => /Validation/.test(l))?.trim() ?? 'no signature'}`;
    const verdictMb = (mb: number) => (mb <= TARGETS.memoryMb ? 'PASS' : 'ABOVE TARGET');
    printTable([
      ['what', 'MB', 'target', ''],
      [`RSS growth (web + both workers: this process), CMS of ${fmt(bigSize / 1e6)} MB in ${fmt(cmsBig.seconds)} s`, fmt(cmsBig.rss), `≤ ${TARGETS.memoryMb}`, verdictMb(cmsBig.rss)],
      ['  heap / Buffers (arrayBuffers) growth, same', `${fmt(cmsBig.heap)} / ${fmt(cmsBig.buffers)}`, '', ''],
      [`RSS growth, PAdES B-B of the same PDF in ${fmt(padesBig.seconds)} s (streamed, answered as a stream)`, fmt(padesBig.rss), `≤ ${TARGETS.memoryMb}`, verdictMb(padesBig.rss)],
      ['  heap / Buffers (arrayBuffers) growth, same', `${fmt(padesBig.heap)} / ${fmt(padesBig.buffers)}`, '', pdfsigVerdict],
    ]);
    }
    heading('signing (per second)');
    const tbs = createHash('sha256').update(doc).digest(); // stands for the signed attributes: a few dozen bytes
    const rawSign = await rate(() => app.issuingHsm.signWithWrappedKey(key.wrapping_key_label, key.wrapped_private_key, tbs));
    const hash = await hashPassword(PASSWORD);
    const argon = await rate(async () => {
      if (!(await verifyPassword(hash, PASSWORD))) throw new Error('argon2');
    });
    const cmsOut: Buffer[] = [];
    const cms = await rate(async (i) => cmsOut.push(mustSign(await signRequest(app, staff.token, seal.sealId, keeperId, 'cms', new Blob([doc]), `doc-${i}.bin`), 'cms')), 'sign-cms');
    const pades1Out: Buffer[] = [];
    const pades1 = await rate(async (i) => pades1Out.push(mustSign(await signRequest(app, staff.token, seal.sealId, keeperId, 'pades', new Blob([pdf1]), `one-${i}.pdf`), 'pades 1 page')), 'sign-pades1');
    const pades50Out: Buffer[] = [];
    const pades50 = await rate(async (i) => pades50Out.push(mustSign(await signRequest(app, staff.token, seal.sealId, keeperId, 'pades', new Blob([pdf50]), `fifty-${i}.pdf`), 'pades 50 pages')));
    const padesTOut: Buffer[] = [];
    const padesT = await rate(async (i) => padesTOut.push(mustSign(await signRequest(app, staff.token, seal.sealId, keeperId, 'pades', new Blob([pdf1]), `one-t-${i}.pdf`, { level: 'B-T' }), 'pades B-T')));
    const verdict = (ratio: number, target: number) => (ratio >= target ? 'PASS' : 'BELOW TARGET');
    printTable([
      ['what', 'per s', 'vs raw HSM', 'target', ''],
      ['raw HSM signature (seal key, unwrap+sign+destroy)', fmt(rawSign), '1.00', '', ''],
      ['  of which: argon2id password check alone (C2)', fmt(argon), fmt(argon / rawSign, 2), '', 'every signature checks the password'],
      ['CMS sign API (10 KB file)', fmt(cms), fmt(cms / rawSign, 2), `≥ ${TARGETS.cms}`, verdict(cms / rawSign, TARGETS.cms)],
      ['PAdES B-B sign API, 1 page', fmt(pades1), fmt(pades1 / rawSign, 2), `≥ ${TARGETS.pades1}`, verdict(pades1 / rawSign, TARGETS.pades1)],
      ['PAdES B-B sign API, 50 pages', fmt(pades50), fmt(pades50 / rawSign, 2), '', ''],
      ['PAdES B-T sign API, 1 page (timestamp from the platform TSA)', fmt(padesT), fmt(padesT / rawSign, 2), '', ''],
    ]);

    heading('verifying (per second)');
    // The baseline verifies a signature the seal's key made in the HSM (DER), over the signed attributes of a real .p7s.
    const rawDer = toDerEcdsaSignature(await app.issuingHsm.signWithWrappedKey(key.wrapping_key_label, key.wrapped_private_key, tbs));
    const rawVerify = await rate(async () => {
      if (!nodeVerify('sha256', tbs, publicKey, rawDer)) throw new Error('raw verification failed');
    });
    const check = (indications: string, what: string) => {
      if (!/^TOTAL-PASSED(,TOTAL-PASSED)*$/.test(indications)) throw new Error(`${what}: ${indications}`);
    };
    const vCms = await rate(async (i) => check(await verifyRequest(app, doc, cmsOut[i % cmsOut.length]), 'verify cms'), 'verify-cms');
    const vPades1 = await rate(async (i) => check(await verifyRequest(app, pades1Out[i % pades1Out.length], null), 'verify pades 1'), 'verify-pades1');
    const vPades50 = await rate(async (i) => check(await verifyRequest(app, pades50Out[i % pades50Out.length], null), 'verify pades 50'));
    printTable([
      ['what', 'per s', 'vs raw verify', 'target', ''],
      ["raw ECDSA-SHA256 verify (node's crypto)", fmt(rawVerify), '1.00', '', ''],
      ['verify API, CMS (.p7s + 10 KB file)', fmt(vCms), fmt(vCms / rawVerify, 4), `≥ ${TARGETS.verify}`, verdict(vCms / rawVerify, TARGETS.verify)],
      ['verify API, PAdES 1 page', fmt(vPades1), fmt(vPades1 / rawVerify, 4), `≥ ${TARGETS.verify}`, verdict(vPades1 / rawVerify, TARGETS.verify)],
      ['verify API, PAdES 50 pages', fmt(vPades50), fmt(vPades50 / rawVerify, 4), '', ''],
      ['verify API, PAdES B-T 1 page', fmt(await rate(async (i) => check(await verifyRequest(app, padesTOut[i % padesTOut.length], null), 'verify pades B-T'))), '', '', ''],
    ]);

    heading('national formats: SM2 and OFD (per second)');
    // The seal's SM2 key and SESeal are made on its first OFD signature (the national-seal workflow).
    const ofd = minimalOfd('基准测试通知');
    const ofdAt = { page: '1', x: '150', y: '230' };
    const warmOfd = mustSign(await signRequest(app, staff.token, seal.sealId, keeperId, 'ofd', new Blob([ofd]), 'warm.ofd', ofdAt), 'warm-up ofd');
    await verifyRequest(app, warmOfd, null);
    const national = await app.db('seal_national').where({ seal_id: seal.sealId }).first('wrapped_private_key', 'public_key_spki');
    const sm2Key = { wrappedPrivateKey: national.wrapped_private_key as Buffer, publicKeySpki: national.public_key_spki as Buffer };
    const sm2Module = new Sm2Module(app.issuingHsm);
    const rawSm2 = await rate(() => sm2Module.sign(sm2Key, tbs));
    const ofdOut: Buffer[] = [];
    const ofdApi = await rate(async (i) => ofdOut.push(mustSign(await signRequest(app, staff.token, seal.sealId, keeperId, 'ofd', new Blob([ofd]), `notice-${i}.ofd`, ofdAt), 'ofd')));
    const sm2Signature = await sm2Module.sign(sm2Key, tbs);
    const rawSm2Verify = await rate(async () => {
      if (!sm2Verify(sm2Key.publicKeySpki, tbs, sm2Signature)) throw new Error('raw SM2 verification failed');
    });
    const vOfd = await rate(async (i) => check(await verifyRequest(app, ofdOut[i % ofdOut.length], null), 'verify ofd'));
    printTable([
      ['what', 'per s', 'ratio', 'target', ''],
      ['raw SM2 signature (software SM2 module: unwrap from the HSM, sign, wipe)', fmt(rawSm2), '1.00', '', ''],
      ['OFD sign API (SES_Signature, SM2)', fmt(ofdApi), `${fmt(ofdApi / rawSm2, 2)} of raw SM2`, `≥ ${TARGETS.ofd}`, verdict(ofdApi / rawSm2, TARGETS.ofd)],
      ['raw SM2-SM3 verify (sm-crypto-v2)', fmt(rawSm2Verify), '1.00', '', ''],
      ['verify API, OFD (SES verification)', fmt(vOfd), `${fmt(vOfd / rawSm2Verify, 4)} of raw`, `≥ ${TARGETS.sesVerify}`, verdict(vOfd / rawSm2Verify, TARGETS.sesVerify)],
    ]);

    if (!(globalThis as { gc?: () => void }).gc) console.log('(run with node --expose-gc for a settled baseline)');
    console.log(`load average at the end ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
    await app.stop();
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
