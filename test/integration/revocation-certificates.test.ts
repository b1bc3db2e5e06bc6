// M13 and the seal certificate's pointers, judged as a relying party would: openssl finds the CRL, the OCSP
// responder and the issuer from the certificate alone (no hand-written URL here), verifies with the CRL
// (`openssl verify -crl_check`) and asks OCSP; each lifecycle path is checked with `openssl crl -text` and
// `openssl ocsp`: the first revocation time is kept, the reason follows the change, and a seal reported lost
// or compromised is revoked keyCompromise with its invalidity date.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { api, createUser, startApp, type RunningApp } from '../helpers/stack';
import { createMaker, makeResidentId, PDF_BYTES } from '../helpers/fixtures';
import { collectedSeal, waitForCase } from '../helpers/journeys';
import { eventually } from '../helpers/wait';
import { currentCrl, generateCrl } from '../../infra/pki/crl';
import { CRL_SCHEDULE_ID, crlIntervalMinutes, ensureCrlSchedule } from '../../usecases/crl-schedule';

const run = promisify(execFile);
let app: RunningApp;
let maker: { id: string; token: string };
let officer: { id: string; token: string };
let otherOfficer: { id: string; token: string };

beforeAll(async () => {
  app = await startApp({ taskQueueSuffix: '-m13', pkiAtWebUrl: true });
  maker = await createUser(app.db, 'maker', { maker_id: await createMaker(app.db) });
  officer = await createUser(app.db, 'officer', { district_code: '110105' });
  otherOfficer = await createUser(app.db, 'officer', { district_code: '110108' });
});
afterAll(async () => {
  await app?.stop();
});

// Asynchronously: the responder and CRL server are this very process, so a blocking call would wait for itself.
const openssl = async (cwd: string, ...args: string[]) => (await run('openssl', args, { cwd, encoding: 'utf8', timeout: 20_000 })).stdout;

/** The seal's certificate in a folder of its own, with the platform's trust anchor (root) and nothing else. */
async function relyingParty(sealId: string) {
  const seal = await app.db('seals').where({ id: sealId }).first('certificate_der');
  const dir = mkdtempSync(path.join(tmpdir(), 'rp-'));
  writeFileSync(path.join(dir, 'seal.der'), seal.certificate_der);
  await openssl(dir, 'x509', '-inform', 'DER', '-in', 'seal.der', '-out', 'seal.pem');
  writeFileSync(path.join(dir, 'root.pem'), readFileSync(path.join(app.config.runtime.dataDir, 'pki', 'root-ca.pem')));
  const text = await openssl(dir, 'x509', '-in', 'seal.pem', '-noout', '-text');
  const uris = (section: string) => [...(text.split(section)[1] ?? '').split(/\n\s{12}X509v3|\n\s{4}Signature/)[0].matchAll(/URI:(\S+)/g)].map((m) => m[1]);
  const at = { crl: uris('X509v3 CRL Distribution Points')[0], caIssuers: uris('Authority Information Access').find((u) => /issuing-ca/.test(u))!, ocsp: (await openssl(dir, 'x509', '-in', 'seal.pem', '-noout', '-ocsp_uri')).trim() };
  // The issuer certificate from the certificate's own caIssuers URL (DER, RFC 5280 §4.2.2.1).
  const issuer = await fetch(at.caIssuers);
  expect(issuer.headers.get('content-type')).toMatch(/application\/pkix-cert/);
  writeFileSync(path.join(dir, 'issuer.der'), Buffer.from(await issuer.arrayBuffer()));
  await openssl(dir, 'x509', '-inform', 'DER', '-in', 'issuer.der', '-out', 'issuer.pem');
  return {
    dir,
    text,
    at,
    /** `openssl crl -text` of the CRL fetched from the certificate's CRL Distribution Point. */
    async crl(): Promise<string> {
      const res = await fetch(at.crl);
      writeFileSync(path.join(dir, 'crl.der'), Buffer.from(await res.arrayBuffer()));
      await openssl(dir, 'crl', '-inform', 'DER', '-in', 'crl.der', '-out', 'crl.pem');
      return openssl(dir, 'crl', '-in', 'crl.pem', '-noout', '-text');
    },
    /** `openssl verify -crl_check` with that CRL: "seal.pem: OK" or the error. */
    async verify(): Promise<string> {
      await this.crl();
      try {
        return (await openssl(dir, 'verify', '-crl_check', '-CAfile', 'root.pem', '-untrusted', 'issuer.pem', '-CRLfile', 'crl.pem', 'seal.pem')).trim();
      } catch (e) {
        return String((e as { stdout?: string; stderr?: string }).stdout ?? '') + String((e as { stderr?: string }).stderr ?? '');
      }
    },
    /** `openssl ocsp` to the certificate's own OCSP URL, response verified against the root. */
    async ocsp(): Promise<string> {
      return openssl(dir, 'ocsp', '-issuer', 'issuer.pem', '-cert', 'seal.pem', '-url', at.ocsp, '-CAfile', 'root.pem', '-verify_other', 'issuer.pem', '-resp_text');
    },
  };
}

/** The CRL entry of this certificate in `openssl crl -text` (serial, revocation date, extensions). */
function crlEntry(crlText: string, serialHex: string): string | undefined {
  const entries = crlText.split(/\n\s+Serial Number: /).slice(1);
  return entries.find((e) => e.toLowerCase().startsWith(serialHex.toLowerCase()));
}

/** openssl's time format: "Dec  4 06:10:11 2026 GMT". */
function opensslTime(d: Date): string {
  const mon = d.toLocaleString('en-US', { month: 'short', timeZone: 'UTC' });
  const hms = d.toISOString().slice(11, 19);
  return `${mon} ${String(d.getUTCDate()).padStart(2, ' ')} ${hms} ${d.getUTCFullYear()} GMT`;
}

/** Starts the next second, so a later change cannot share a revocation time (whole seconds) with an earlier one. */
async function nextSecond() {
  const start = Math.floor(Date.now() / 1000);
  while (Math.floor(Date.now() / 1000) === start) await new Promise((r) => setTimeout(r, 1000 - (Date.now() % 1000) + 5));
}

async function requestChange(sealId: string, kind: string, extra: Record<string, string> = {}) {
  const form = new FormData();
  const fields: Record<string, string> = { kind, legal_rep_id_number: makeResidentId(), handler_name: '冯十二', handler_id_number: makeResidentId(), handler_phone: '13600136000', ...extra };
  for (const [k, v] of Object.entries(fields)) form.set(k, v);
  form.set('authorisation_letter', new Blob([PDF_BYTES]), 'letter.pdf');
  const res = await fetch(`${app.url}/api/seals/${sealId}/changes`, { method: 'POST', headers: { authorization: `Bearer ${maker.token}` }, body: form });
  return { status: res.status, body: (await res.json()) as any };
}

const serialOf = async (sealId: string) => (await app.db('seals').where({ id: sealId }).first('certificate_serial')).certificate_serial as string;

test('S4 M13 U1: the certificate names its CRL, OCSP responder, issuer and policy; openssl verifies with the CRL and asks OCSP from the certificate alone; serials are random, positive, 16 octets and unique', async () => {
  const { sealId } = await collectedSeal(app, maker, officer);
  const rp = await relyingParty(sealId);
  expect(rp.at).toEqual({ crl: `${app.url}/pki/crl.der`, ocsp: `${app.url}/pki/ocsp`, caIssuers: `${app.url}/pki/issuing-ca.crt` });
  expect(rp.text).toContain('X509v3 Certificate Policies:');
  expect(rp.text).toContain(`Policy: ${app.config.pki.sealCertificatePolicyOid}`);
  expect(rp.text).toMatch(/OCSP - URI:http/);
  expect(rp.text).toMatch(/CA Issuers - URI:http/);
  // The issuer fetched from the certificate is the one that signed it.
  expect((await openssl(rp.dir, 'verify', '-CAfile', 'root.pem', '-untrusted', 'issuer.pem', 'seal.pem')).trim()).toBe('seal.pem: OK');

  expect(await rp.verify()).toBe('seal.pem: OK');
  expect(await rp.ocsp()).toMatch(/seal\.pem: good/);

  // Serial: 16 octets, positive (first octet 0x40–0x7f), different for every certificate.
  const serial = await serialOf(sealId);
  expect(serial).toMatch(/^[4-7][0-9a-f]{31}$/);
  const other = await collectedSeal(app, maker, officer);
  expect(await serialOf(other.sealId)).not.toBe(serial);
  expect(await serialOf(other.sealId)).toMatch(/^[4-7][0-9a-f]{31}$/);
  // UNIQUE in PostgreSQL: a second seal cannot carry the same serial.
  await expect(app.db('seals').where({ id: other.sealId }).update({ certificate_serial: serial })).rejects.toMatchObject({ code: '23505' });

  // Revoked: openssl verify -crl_check refuses it with the CRL from the certificate's distribution point.
  expect((await requestChange(sealId, 'stop')).status).toBe(201);
  expect(await rp.verify()).toMatch(/certificate revoked/);
});

test('M13: stopped, then cancelled: CRL and OCSP keep the stop\'s revocation time and reason', async () => {
  const { sealId } = await collectedSeal(app, maker, officer);
  const rp = await relyingParty(sealId);
  const serial = await serialOf(sealId);
  expect((await requestChange(sealId, 'stop')).status).toBe(201);
  const stopped = await app.db('seals').where({ id: sealId }).first('revoked_at', 'stopped_at');
  const stopTime = opensslTime(new Date(stopped.stopped_at));
  expect(crlEntry(await rp.crl(), serial)).toContain(`Revocation Date: ${stopTime}`);
  expect(await rp.ocsp()).toContain(`Revocation Time: ${stopTime}`);

  await nextSecond();
  const cancelled = await requestChange(sealId, 'cancel');
  expect(cancelled.body.seal_status).toBe('cancelled');
  const seal = await app.db('seals').where({ id: sealId }).first('revoked_at', 'cancelled_at', 'revocation_reason');
  expect(opensslTime(new Date(seal.cancelled_at))).not.toBe(stopTime);
  expect(new Date(seal.revoked_at).getTime()).toBe(new Date(stopped.stopped_at).getTime());
  const entry = crlEntry(await rp.crl(), serial)!;
  expect(entry).toContain(`Revocation Date: ${stopTime}`);
  expect(entry).toMatch(/CRL Reason Code:\s+Cessation Of Operation/);
  const ocsp = await rp.ocsp();
  expect(ocsp).toContain(`Revocation Time: ${stopTime}`);
  expect(ocsp).toMatch(/seal\.pem: revoked[\s\S]*Reason: cessationOfOperation/);
});

test('M13: suspended (certificateHold), then stopped: revoked from the start of the hold', async () => {
  const { sealId } = await collectedSeal(app, maker, officer);
  const rp = await relyingParty(sealId);
  const serial = await serialOf(sealId);
  expect((await requestChange(sealId, 'suspend')).status).toBe(201);
  const { hold_since: holdSince } = await app.db('seals').where({ id: sealId }).first('hold_since');
  const holdTime = opensslTime(new Date(holdSince));
  const held = crlEntry(await rp.crl(), serial)!;
  expect(held).toContain(`Revocation Date: ${holdTime}`);
  expect(held).toMatch(/CRL Reason Code:\s+Certificate Hold/);
  expect(await rp.ocsp()).toMatch(/seal\.pem: revoked[\s\S]*Reason: certificateHold/);

  await nextSecond();
  expect((await requestChange(sealId, 'stop')).status).toBe(201);
  const entry = crlEntry(await rp.crl(), serial)!;
  expect(entry).toContain(`Revocation Date: ${holdTime}`);
  expect(entry).toMatch(/CRL Reason Code:\s+Cessation Of Operation/);
  const ocsp = await rp.ocsp();
  expect(ocsp).toContain(`Revocation Time: ${holdTime}`);
  expect(ocsp).toMatch(/Reason: cessationOfOperation/);
});

test.each([
  ['damaged', 'superseded', 'Superseded'],
  ['holder_change', 'affiliationChanged', 'Affiliation Changed'],
])('M11 M13: a replacement (%s) revokes the old certificate as %s', async (replacementReason, reason, crlText) => {
  const { sealId } = await collectedSeal(app, maker, officer);
  const rp = await relyingParty(sealId);
  const replaced = await requestChange(sealId, 'replace', { replacement_reason: replacementReason, ...(replacementReason === 'holder_change' ? { new_holder_name: `北京新名称${sealId.slice(0, 4)}有限公司` } : {}) });
  expect(replaced.status).toBe(201);
  expect(crlEntry(await rp.crl(), await serialOf(sealId))).toMatch(new RegExp(`CRL Reason Code:\\s+${crlText}`));
  expect(await rp.ocsp()).toMatch(new RegExp(`seal\\.pem: revoked[\\s\\S]*Reason: ${reason}`));
});

test('M13: a plain cancellation revokes as cessationOfOperation', async () => {
  const { sealId } = await collectedSeal(app, maker, officer);
  const rp = await relyingParty(sealId);
  expect((await requestChange(sealId, 'cancel')).status).toBe(201);
  expect(crlEntry(await rp.crl(), await serialOf(sealId))).toMatch(/CRL Reason Code:\s+Cessation Of Operation/);
  expect(await rp.ocsp()).toMatch(/Reason: cessationOfOperation/);
});

test('M13 P3: the holder reports the seal lost: key destroyed, revoked keyCompromise with the invalidity date, filed with the district', async () => {
  const { sealId, holderId } = await collectedSeal(app, maker, officer);
  const holder = await createUser(app.db, 'holder', { holder_id: holderId });
  const otherHolder = await createUser(app.db, 'holder', { holder_id: (await collectedSeal(app, maker, officer)).holderId });
  const rp = await relyingParty(sealId);
  const report = { report: 'lost', invalidity_date: '2026-12-01T09:30:00+08:00', handler_name: '周十三', handler_id_number: makeResidentId(), handler_phone: '13700137000', reason: '印章介质遗失' };

  // Only the seal's holder or an officer of its district; a bad date is refused naming the field, zh and en.
  expect((await api(app.url, otherHolder.token, 'POST', `/api/seals/${sealId}/compromise-reports`, report)).status).toBe(403);
  expect((await api(app.url, otherOfficer.token, 'POST', `/api/seals/${sealId}/compromise-reports`, report)).status).toBe(403);
  expect((await api(app.url, maker.token, 'POST', `/api/seals/${sealId}/compromise-reports`, report)).status).toBe(403);
  const future = await api(app.url, holder.token, 'POST', `/api/seals/${sealId}/compromise-reports`, { ...report, invalidity_date: '2999-01-01T00:00:00Z' });
  expect(future.status).toBe(400);
  expect(future.body.error.fields.map((f: { field: string }) => f.field)).toEqual(['invalidity_date']);
  expect(future.body.error.message_zh).toMatch(/不能晚于现在/);
  expect(future.body.error.message_en).toMatch(/future/);
  const badKind = await api(app.url, holder.token, 'POST', `/api/seals/${sealId}/compromise-reports`, { ...report, report: 'stolen?' });
  expect(badKind.status).toBe(400);
  expect(badKind.body.error.fields.map((f: { field: string }) => f.field)).toEqual(['report']);
  expect((await app.db('seals').where({ id: sealId }).first('status')).status).toBe('active'); // nothing changed

  const done = await api(app.url, holder.token, 'POST', `/api/seals/${sealId}/compromise-reports`, report);
  expect(done.status).toBe(201);
  expect(done.body.seal_status).toBe('stopped');
  const key = await app.db('seal_keys').where({ seal_id: sealId }).first();
  expect(key.wrapped_private_key).toBeNull();
  const seal = await app.db('seals').where({ id: sealId }).first('revoked_at', 'revocation_reason', 'invalidity_date');
  expect(seal.revocation_reason).toBe('keyCompromise');
  expect(new Date(seal.invalidity_date).toISOString()).toBe('2026-12-01T01:30:00.000Z');

  const entry = crlEntry(await rp.crl(), await serialOf(sealId))!;
  expect(entry).toMatch(/CRL Reason Code:\s+Key Compromise/);
  expect(entry).toMatch(/Invalidity Date:\s+Dec\s+1 01:30:00 2026 GMT/);
  expect(entry).toContain(`Revocation Date: ${opensslTime(new Date(seal.revoked_at))}`);
  const ocsp = await rp.ocsp();
  expect(ocsp).toMatch(/seal\.pem: revoked[\s\S]*Reason: keyCompromise/);
  expect(ocsp).toMatch(/Invalidity Date:\s+Dec\s+1 01:30:00 2026 GMT/);

  // Filed like other changes: the maker files it within 24 hours, an officer of the district accepts it.
  await waitForCase(app, maker.token, done.body.case_id, 'awaiting_filing');
  const filed = await api(app.url, maker.token, 'POST', `/api/applications/${done.body.case_id}/filing`, {});
  expect(filed.status).toBe(201);
  expect((await api(app.url, officer.token, 'POST', `/api/tasks/${filed.body.task_id}/decision`, { decision: 'accept' })).status).toBe(200);
  await waitForCase(app, maker.token, done.body.case_id, 'completed');
  const view = await api(app.url, holder.token, 'GET', `/api/seals/${sealId}`);
  expect(view.body.requests.map((r: { kind: string; status: string }) => `${r.kind}:${r.status}`)).toContain('compromise:completed');
});

test('M13: an officer reports a stopped seal compromised: the stop\'s revocation time is kept, the reason becomes keyCompromise', async () => {
  const { sealId } = await collectedSeal(app, maker, officer);
  const rp = await relyingParty(sealId);
  expect((await requestChange(sealId, 'stop')).status).toBe(201);
  const { stopped_at: stoppedAt } = await app.db('seals').where({ id: sealId }).first('stopped_at');
  await nextSecond();
  const done = await api(app.url, officer.token, 'POST', `/api/seals/${sealId}/compromise-reports`, { report: 'compromised', handler_name: '周十三', handler_id_number: makeResidentId(), handler_phone: '13700137000' });
  expect(done.status).toBe(201);
  const entry = crlEntry(await rp.crl(), await serialOf(sealId))!;
  expect(entry).toContain(`Revocation Date: ${opensslTime(new Date(stoppedAt))}`);
  expect(entry).toMatch(/CRL Reason Code:\s+Key Compromise/);
  expect(entry).toMatch(/Invalidity Date:/);
  const ocsp = await rp.ocsp();
  expect(ocsp).toContain(`Revocation Time: ${opensslTime(new Date(stoppedAt))}`);
  expect(ocsp).toMatch(/Reason: keyCompromise/);
});

// Last in this file: it leaves an expired CRL behind for a moment.
test('M13: CRLs are issued on a Temporal Schedule by the HSM queue; the web serves the latest from PostgreSQL and never signs one', async () => {
  // The latest CRL has expired (as if the schedule had stopped): the web serves it as it is, and issues none.
  const expired = await generateCrl(app.issuingHsm, app.db, { nextUpdateHours: 1, now: new Date(Date.now() - 2 * 3_600_000) });
  const served = await fetch(`${app.url}/pki/crl.der`);
  expect(served.headers.get('etag')).toBe(`"crl-${expired.crlNumber}"`);
  expect(Buffer.from(await served.arrayBuffer()).equals(expired.der)).toBe(true);
  expect((await currentCrl(app.db))!.crlNumber).toBe(expired.crlNumber);

  await ensureCrlSchedule(app.temporalClient.connection, app.config);
  await ensureCrlSchedule(app.temporalClient.connection, app.config); // a second start updates, does not fail
  const schedule = app.temporalClient.schedule.getHandle(CRL_SCHEDULE_ID);
  try {
    const described = await schedule.describe();
    expect(described.spec.intervals?.[0].every).toBe(crlIntervalMinutes(app.config) * 60_000);
    expect(crlIntervalMinutes(app.config)).toBe((app.config.pki.crlNextUpdateHours * 60) / 4);
    expect(described.action).toMatchObject({ workflowType: 'crlIssuanceWorkflow', taskQueue: app.config.temporal.taskQueues.main, args: [{ hsmTaskQueue: app.config.temporal.taskQueues.hsm }] });
    await schedule.trigger();
    const fresh = await eventually('a CRL issued by the schedule', () => currentCrl(app.db), (c) => !!c && c.crlNumber > expired.crlNumber);
    expect(fresh!.nextUpdate.getTime() - fresh!.thisUpdate.getTime()).toBe(app.config.pki.crlNextUpdateHours * 3_600_000);
    const again = await fetch(`${app.url}/pki/crl.der`);
    expect(again.headers.get('etag')).toBe(`"crl-${fresh!.crlNumber}"`);
    // The one a relying party finds from a certificate verifies under the issuing CA.
    const { sealId } = await collectedSeal(app, maker, officer);
    expect(await (await relyingParty(sealId)).verify()).toBe('seal.pem: OK');
  } finally {
    await schedule.delete();
  }
});
