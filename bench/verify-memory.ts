// bench:verify-memory — RSS growth of verifying a large signed PDF through the API (issue 12: a document we
// sign up to the upload limit must verify on our platform too, with flat memory). Runs under
// scripts/with-stack.ts (npm run bench:verify-memory) on its own ports; the app's web server and workers run
// in this process (test/helpers/stack.ts#startApp), curl (another process) uploads.
//  1. Set-up: one collected seal, a keeper and its protection password; a real --big-mb (200) MB PDF.
//  2. Baseline, in the same run: the PAdES B-B signature of that PDF (streamed above pki.padesStreamAboveBytes).
//  3. The verify API on the signed file (read from its staging file: infra/signing/pdf-lazy.ts, the
//     ByteRange hashed as streams), then on the signed file with one covered byte changed.
// Each while this process's RSS, heap and Buffers are sampled every 20 ms from a settled (gc) baseline.
import { execFile } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { createMaker, makeResidentId } from '../test/helpers/fixtures';
import { collectedSeal } from '../test/helpers/journeys';
import { api, createUser, startApp, type RunningApp } from '../test/helpers/stack';
import { memoryGrowth, writeBigPdf } from './big-pdf';
import { fmt, heading, intFlag, printTable } from './lib';

const PASSWORD = 'Bench#Seal2049x';
const TARGET_MB = 64;

async function curl(args: string[]): Promise<number> {
  const { stdout } = await promisify(execFile)('curl', ['-s', '-w', '%{http_code}', ...args]);
  return Number(stdout);
}

async function main() {
  const bigMb = intFlag('big-mb', 200);
  const app: RunningApp = await startApp();
  const tmp = mkdtempSync(path.join(tmpdir(), 'bench-verify-'));
  try {
    heading('set-up');
    const maker = await createUser(app.db, 'maker', { maker_id: await createMaker(app.db) });
    const officer = await createUser(app.db, 'officer', { district_code: '110105' });
    const seal = await collectedSeal(app, maker, officer);
    const staff = await createUser(app.db, 'holder', { holder_id: seal.holderId });
    const keeperId = makeResidentId('19880101');
    if ((await api(app.url, staff.token, 'POST', `/api/seals/${seal.sealId}/keepers`, { name: '孙保管', id_number: keeperId })).status !== 201) throw new Error('keeper');
    if ((await api(app.url, staff.token, 'POST', `/api/seals/${seal.sealId}/password`, { id_number: keeperId, password: PASSWORD })).status !== 201) throw new Error('password');
    const bigPath = path.join(tmp, 'big.pdf');
    await writeBigPdf(bigPath, bigMb);
    const signedPath = path.join(tmp, 'big-signed.pdf');
    const sign = () => {
      const args = ['-o', signedPath, '-H', `authorization: Bearer ${staff.token}`];
      for (const [k, v] of Object.entries({ id_number: keeperId, password: PASSWORD, purpose: '基准测试', document_type: 'agreement', format: 'pades' })) args.push('-F', `${k}=${v}`);
      return curl([...args, '-F', `file=@${bigPath};type=application/pdf`, `${app.url}/api/seals/${seal.sealId}/signatures`]);
    };
    const reportPath = path.join(tmp, 'report.json');
    const verify = (file: string) => curl(['-o', reportPath, '-F', `file=@${file};type=application/pdf`, `${app.url}/api/verifications`]);
    const indications = () => (JSON.parse(readFileSync(reportPath, 'utf8')) as { signatures?: Array<{ indication: string; sub_indication: string | null }> }).signatures?.map((s) => `${s.indication}${s.sub_indication ? `/${s.sub_indication}` : ''}`).join(',') ?? readFileSync(reportPath, 'utf8').slice(0, 200);
    console.log(`PDF ${fmt(statSync(bigPath).size / 1e6)} MB; verification streamed above ${app.config.pki.padesStreamAboveBytes / 1024 / 1024} MiB`);

    heading(`memory: signing, then verifying, a ${bigMb} MB PDF`);
    const signed = await memoryGrowth(sign);
    if (signed.result !== 201) throw new Error(`sign: HTTP ${signed.result}`);
    const verified = await memoryGrowth(() => verify(signedPath));
    if (verified.result !== 200) throw new Error(`verify: HTTP ${verified.result}: ${readFileSync(reportPath, 'utf8').slice(0, 300)}`);
    const good = indications();
    // One byte of the image (covered by the signature) changed in place.
    const fd = openSync(signedPath, 'r+');
    const b = Buffer.alloc(1);
    const at = Math.floor(statSync(signedPath).size / 2);
    readSync(fd, b, 0, 1, at);
    b[0] ^= 0x01;
    writeSync(fd, b, 0, 1, at);
    closeSync(fd);
    const tampered = await memoryGrowth(() => verify(signedPath));
    const bad = indications();
    const verdict = (mb: number) => (mb <= TARGET_MB ? 'PASS' : 'ABOVE TARGET');
    printTable([
      ['what', 'RSS MB', 'heap / Buffers MB', 'target', ''],
      [`baseline: PAdES B-B signature of it in ${fmt(signed.seconds)} s (streamed)`, fmt(signed.rss), `${fmt(signed.heap)} / ${fmt(signed.buffers)}`, `≤ ${TARGET_MB}`, verdict(signed.rss)],
      [`verify API on the signed file in ${fmt(verified.seconds)} s`, fmt(verified.rss), `${fmt(verified.heap)} / ${fmt(verified.buffers)}`, `≤ ${TARGET_MB}`, `${verdict(verified.rss)} ${good}`],
      [`verify API, one covered byte changed, in ${fmt(tampered.seconds)} s`, fmt(tampered.rss), `${fmt(tampered.heap)} / ${fmt(tampered.buffers)}`, `≤ ${TARGET_MB}`, `${verdict(tampered.rss)} ${bad}`],
    ]);
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
