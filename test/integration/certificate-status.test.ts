// Certificate status of seal certificates (M13: a cancelled seal's certificate is revoked; U1: a suspended
// or cancelled seal cannot sign, so relying parties must be able to see it). Three seals are produced
// through the API on the real stack; one is then suspended and one cancelled directly in PostgreSQL (as
// the lifecycle workflow will), the CRL is regenerated, and everything is checked with openssl only:
// `openssl crl` for the CRL and `openssl ocsp` against the HTTP responder.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { randomBytes } from 'node:crypto';
import { BasicOCSPResponse, OCSPRequest, OCSPResponse, Request, Signature } from '@peculiar/asn1-ocsp';
import { AlgorithmIdentifier, Extension, GeneralName } from '@peculiar/asn1-x509';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import express from 'express';
import { errorHandler } from '../../web/errors';
import { pkiRoutes, withOcspFrontDoor } from '../../web/routes/pki';
import { currentCrl, regenerateCrl } from '../../infra/pki/crl';
import { OCSP_RESPONDER_KEY_LABEL } from '../../infra/pki/ocsp-responder';
import { stopOcspCache } from '../../infra/pki/ocsp';
import { HEARTBEAT_MS, HEARTBEAT_TIMEOUT_MS, OcspStatusCache } from '../../infra/pki/ocsp-cache';
import { eventually } from '../helpers/wait';
import { api, createUser, startApp, type RunningApp } from '../helpers/stack';
import { createMaker, makeResidentId, makeUscc, PDF_BYTES, PNG_BYTES, upload, recentRegistrationDate } from '../helpers/fixtures';
import { collectedSeal, waitForCase } from '../helpers/journeys';
import { PRODUCTION_DATA } from '../helpers/production-data';

const run = promisify(execFile);
const ARTIFACTS = path.resolve(__dirname, '../../test-artifacts/certificate-status');
/** Keeps what openssl said, for people reading the run afterwards. */
const keep = (name: string, text: string) => writeFileSync(path.join(ARTIFACTS, name), text);

let app: RunningApp;
let pkiServer: Server;
let pkiUrl: string;
let dir: string;
let seals: Array<{ id: string; serial: string; pem: string }>;
const [GOOD, HELD, CANCELLED] = [0, 1, 2];

/** openssl, asynchronously: the responder answering it runs in this very process. */
async function openssl(args: string[], opts: { allowFailure?: boolean } = {}) {
  try {
    const { stdout, stderr } = await run('openssl', args, { cwd: dir, encoding: 'utf8' });
    return { code: 0, stdout, stderr, all: stdout + stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    if (!opts.allowFailure) throw new Error(`openssl ${args.join(' ')} failed (${err.code}):\n${err.stdout}\n${err.stderr}`);
    return { code: err.code ?? 1, stdout: err.stdout ?? '', stderr: err.stderr ?? '', all: `${err.stdout ?? ''}${err.stderr ?? ''}` };
  }
}

const waitForStatus = (token: string, caseId: string, status: string, timeoutMs = 60_000) => waitForCase(app, token, caseId, status, timeoutMs);

/** A3's short path: a holder from the registration feed needs no materials, so production starts at once. */
async function produceSeal(admin: string, maker: string): Promise<string> {
  const uscc = makeUscc('110101');
  const holder = await api(app.url, admin, 'POST', '/api/registration/holders', {
    uscc, name: `北京证书状态${uscc.slice(-4)}有限公司`, kind: 'enterprise', legal_representative: '孙八', address: '北京市东城区东长安街1号', district: '110101', registration_date: recentRegistrationDate(),
  });
  expect(holder.status).toBe(201);
  const created = await api(app.url, maker, 'POST', '/api/applications', {
    holder: { uscc, name: holder.body.name, kind: 'enterprise', address: '北京市东城区东长安街1号', district: '110101' },
    seal: { kind: 'legal_name', language: 'zh' },
    handler: { name: '周九', id_number: makeResidentId(), phone: '13900139000' },
  });
  expect(created.status).toBe(201);
  const caseId = created.body.id;
  await waitForStatus(maker, caseId, 'awaiting_production');
  const image = await upload(app.url, maker, caseId, 'on_site_image', PNG_BYTES, 'onsite.png');
  const produced = await api(app.url, maker, 'POST', `/api/applications/${caseId}/production`, { production_data: PRODUCTION_DATA, on_site_image_id: image.body.id });
  expect(produced.status).toBe(200);
  return (await waitForStatus(maker, caseId, 'awaiting_filing')).seal.id;
}

async function fetchTo(file: string, urlPath: string) {
  const res = await fetch(pkiUrl + urlPath);
  expect(res.status).toBe(200);
  const bytes = Buffer.from(await res.arrayBuffer());
  writeFileSync(path.join(dir, file), bytes);
  return { res, bytes };
}

/** `openssl ocsp` against the responder over HTTP; the chain file makes it verify the response. */
const ocsp = (extra: string[], opts: { allowFailure?: boolean } = {}) =>
  openssl(['ocsp', '-issuer', 'issuing-ca.pem', '-url', `${pkiUrl}/pki/ocsp`, '-CAfile', 'chain.pem', '-resp_text', ...extra], opts);

beforeAll(async () => {
  app = await startApp();
  const web = express();
  web.use(pkiRoutes({ db: app.db, hsm: app.hsm, config: app.config }));
  web.use(errorHandler);
  pkiServer = await new Promise<Server>((resolve) => {
    const s = createServer(withOcspFrontDoor({ db: app.db, hsm: app.hsm, config: app.config }, web)).listen(0, '127.0.0.1', () => resolve(s));
  });
  const address = pkiServer.address();
  pkiUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  dir = mkdtempSync(path.join(tmpdir(), 'cert-status-'));
  mkdirSync(ARTIFACTS, { recursive: true });

  const admin = (await createUser(app.db, 'admin')).token;
  const maker = (await createUser(app.db, 'maker', { maker_id: await createMaker(app.db) })).token;
  const ids = await Promise.all([0, 1, 2].map(() => produceSeal(admin, maker)));
  seals = [];
  for (const [i, id] of ids.entries()) {
    const row = await app.db('seals').where({ id }).first('certificate_der', 'certificate_serial');
    writeFileSync(path.join(dir, `seal${i}.der`), row.certificate_der);
    await openssl(['x509', '-inform', 'DER', '-in', `seal${i}.der`, '-out', `seal${i}.pem`]);
    seals.push({ id, serial: row.certificate_serial, pem: `seal${i}.pem` });
  }

  // What the seal lifecycle workflow will do on suspension (M12) and cancellation (M13).
  const heldAt = new Date(Date.now() - 120_000);
  const cancelledAt = new Date(Date.now() - 60_000);
  await app.db('seals').where({ id: seals[HELD].id }).update({ status: 'suspended', hold_since: heldAt });
  await app.db('seals').where({ id: seals[CANCELLED].id }).update({ status: 'cancelled', cancelled_at: cancelledAt, revoked_at: cancelledAt, revocation_reason: 'cessationOfOperation' });
  await regenerateCrl(app.issuingHsm, app.db, { nextUpdateHours: app.config.pki.crlNextUpdateHours });

  await fetchTo('issuing-ca.pem', '/pki/issuing-ca.pem');
  await fetchTo('root-ca.pem', '/pki/root-ca.pem');
  writeFileSync(path.join(dir, 'chain.pem'), readFileSync(path.join(dir, 'issuing-ca.pem'), 'utf8') + readFileSync(path.join(dir, 'root-ca.pem'), 'utf8'));
}, 180_000);

afterAll(async () => {
  await new Promise((r) => pkiServer?.close(r));
  if (app) await stopOcspCache(app.db);
  await app?.stop();
});

/** How `openssl ocsp -respin … -resp_text` reports an OCSPResponse with status malformedRequest (1). */
const MALFORMED = /Responder Error: malformedrequest \(1\)/;
const opensslSerial = (hex: string) => hex.toUpperCase();

test('M13 U1: the CRL verifies under the issuing CA and lists the suspended and the cancelled seal with their reasons', async () => {
  const { res } = await fetchTo('crl.der', '/pki/crl.der');
  expect(res.headers.get('content-type')).toBe('application/pkix-crl');
  const verify = await openssl(['crl', '-inform', 'DER', '-in', 'crl.der', '-CAfile', 'chain.pem', '-verify', '-noout']);
  expect(verify.all).toContain('verify OK');
  keep('crl-verify.txt', verify.all);

  const text = (await openssl(['crl', '-inform', 'DER', '-in', 'crl.der', '-text', '-noout', '-nameopt', 'utf8'])).stdout;
  keep('crl-text.txt', text);
  expect(text).toMatch(/Version 2 \(0x1\)/);
  expect(text).toContain('北京市电子印章管理服务平台签发CA');
  expect(text).toMatch(/X509v3 Authority Key Identifier/);
  expect(text).toMatch(/X509v3 CRL Number:\s*\n\s*\d+/);
  expect(text).toMatch(/Next Update: /);
  const entry = (serial: string) => {
    const at = text.indexOf(`Serial Number: ${opensslSerial(serial)}`);
    return at < 0 ? undefined : text.slice(at, at + 300).split(/\n\s*Serial Number:/)[0];
  };
  expect(entry(seals[HELD].serial)).toMatch(/CRL Reason Code:\s*\n\s*Certificate Hold/);
  expect(entry(seals[CANCELLED].serial)).toMatch(/CRL Reason Code:\s*\n\s*Cessation Of Operation/);
  expect(entry(seals[GOOD].serial)).toBeUndefined();

  // Provisioning issued CRL number 1 before any seal existed; every regeneration gets a higher number.
  expect(await app.db('crls').where({ crl_number: 1 }).first('crl_number')).toBeTruthy();
  const before = (await currentCrl(app.db))!.crlNumber;
  const next = await regenerateCrl(app.issuingHsm, app.db, { nextUpdateHours: app.config.pki.crlNextUpdateHours });
  expect(next.crlNumber).toBe(before + 1);
  expect(next.entries).toBeGreaterThanOrEqual(2);
  expect(new Date(next.nextUpdate).getTime() - new Date(next.thisUpdate).getTime()).toBe(app.config.pki.crlNextUpdateHours * 3_600_000);
  await fetchTo('crl2.der', '/pki/crl.der');
  const text2 = (await openssl(['crl', '-inform', 'DER', '-in', 'crl2.der', '-text', '-noout'])).stdout;
  expect(text2).toMatch(new RegExp(`X509v3 CRL Number:\\s*\\n\\s*${before + 1}\\b`));
});

test('M13 U1: the OCSP responder certificate is issued by the issuing CA for OCSP signing only, with ocsp-nocheck', async () => {
  const pem = path.join(app.config.runtime.dataDir, 'pki', 'ocsp-responder.pem');
  expect(existsSync(pem)).toBe(true);
  const row = await app.db('ca_certificates').where({ purpose: 'ocsp_responder' }).orderBy('created_at', 'desc').first();
  expect(row).toMatchObject({ key_label: OCSP_RESPONDER_KEY_LABEL });
  expect(row.pem).toBe(readFileSync(pem, 'utf8'));
  writeFileSync(path.join(dir, 'responder.pem'), row.pem);
  expect((await openssl(['verify', '-CAfile', 'root-ca.pem', '-untrusted', 'issuing-ca.pem', '-purpose', 'ocsphelper', 'responder.pem'])).stdout.trim()).toBe('responder.pem: OK');
  const text = (await openssl(['x509', '-in', 'responder.pem', '-noout', '-text', '-nameopt', 'utf8'])).stdout;
  keep('ocsp-responder-cert.txt', text);
  expect(text).toMatch(/X509v3 Extended Key Usage:\s*\n\s*OCSP Signing\s*\n/);
  expect(text).toMatch(/X509v3 Key Usage: critical\s*\n\s*Digital Signature\s*\n/);
  expect(text).toMatch(/OCSP No Check/);
  expect(text).toMatch(/CA:FALSE/);
});

test('M13 U1: openssl ocsp gets good, revoked (certificateHold) and revoked (cessationOfOperation), each response verified, the nonce echoed', async () => {
  const expected = [
    { status: 'good', reason: undefined },
    { status: 'revoked', reason: 'certificateHold' },
    { status: 'revoked', reason: 'cessationOfOperation' },
  ];
  for (const [i, seal] of seals.entries()) {
    const out = await ocsp(['-cert', seal.pem, '-reqout', `req${i}.der`, '-respout', `resp${i}.der`]);
    keep(`ocsp-${expected[i].status}-${i}.txt`, out.all);
    expect(out.all).toContain('Response verify OK');
    expect(out.stdout).toContain(`${seal.pem}: ${expected[i].status}`);
    expect(out.all).not.toMatch(/WARNING: no nonce|Nonce Verify error/);
    expect(out.stdout).toMatch(/OCSP Response Status: successful \(0x0\)/);
    expect(out.stdout).toMatch(/Responder Id: [0-9A-F]{40}/); // byKey
    expect(out.stdout).toMatch(/Next Update: /);
    if (expected[i].reason) expect(out.stdout).toContain(`Reason: ${expected[i].reason}`);
    // The nonce the request carried is the nonce in the signed response.
    const request = (await openssl(['ocsp', '-reqin', `req${i}.der`, '-req_text'])).stdout;
    keep(`ocsp-request-${i}.txt`, request);
    const nonceOf = (t: string) => t.match(/OCSP Nonce:\s*\n\s*([0-9A-F]+)/)?.[1];
    expect(nonceOf(request)).toMatch(/^0410[0-9A-F]{32}$/);
    expect(nonceOf(out.stdout)).toBe(nonceOf(request));
  }
  // The response is exactly what @peculiar/asn1-ocsp encodes for it (the envelopes are framed by hand).
  for (const i of [0, 1, 2]) {
    const der = readFileSync(path.join(dir, `resp${i}.der`));
    const response = AsnConvert.parse(der, OCSPResponse);
    const basicDer = Buffer.from(response.responseBytes!.response.buffer);
    const basic = AsnConvert.parse(basicDer, BasicOCSPResponse);
    expect(Buffer.from(AsnConvert.serialize(basic)).equals(basicDer)).toBe(true);
    response.responseBytes!.response = new OctetString(AsnConvert.serialize(basic));
    expect(Buffer.from(AsnConvert.serialize(response)).equals(der)).toBe(true);
  }
  // The revocation time is the time the seal was cancelled.
  const cancelled = await app.db('seals').where({ id: seals[CANCELLED].id }).first('revoked_at');
  const out = await ocsp(['-cert', seals[CANCELLED].pem]);
  const when = out.stdout.match(/Revocation Time: (.+)/)![1];
  expect(Math.floor(new Date(when).getTime() / 1000)).toBe(Math.floor(new Date(cancelled.revoked_at).getTime() / 1000));
});

test('U1: SHA-256 CertIDs, requests without a nonce, and the GET form are answered too', async () => {
  const sha256 = await ocsp(['-sha256', '-cert', seals[HELD].pem]);
  expect(sha256.all).toContain('Response verify OK');
  expect(sha256.stdout).toContain(`${seals[HELD].pem}: revoked`);
  expect(sha256.stdout).toContain('Reason: certificateHold');

  const noNonce = await ocsp(['-no_nonce', '-cert', seals[GOOD].pem]);
  expect(noNonce.all).toContain('Response verify OK');
  expect(noNonce.stdout).toContain(`${seals[GOOD].pem}: good`);
  expect(noNonce.stdout).not.toContain('OCSP Nonce');

  // RFC 6960 A.1 GET: the URL-encoded base64 of the DER request.
  await openssl(['ocsp', '-issuer', 'issuing-ca.pem', '-cert', seals[CANCELLED].pem, '-no_nonce', '-reqout', 'get-req.der']);
  const b64 = readFileSync(path.join(dir, 'get-req.der')).toString('base64');
  const res = await fetch(`${pkiUrl}/pki/ocsp/${encodeURIComponent(b64)}`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe('application/ocsp-response');
  writeFileSync(path.join(dir, 'get-resp.der'), Buffer.from(await res.arrayBuffer()));
  const get = await openssl(['ocsp', '-respin', 'get-resp.der', '-issuer', 'issuing-ca.pem', '-cert', seals[CANCELLED].pem, '-CAfile', 'chain.pem', '-resp_text']);
  expect(get.all).toContain('Response verify OK');
  expect(get.stdout).toContain(`${seals[CANCELLED].pem}: revoked`);
  expect(get.stdout).toContain('Reason: cessationOfOperation');
  // Clients that leave '/' and '+' unencoded in the path are understood as well.
  const raw = await fetch(`${pkiUrl}/pki/ocsp/${b64}`);
  expect(raw.status).toBe(200);
  writeFileSync(path.join(dir, 'get-resp-raw.der'), Buffer.from(await raw.arrayBuffer()));
  const rawGet = await openssl(['ocsp', '-respin', 'get-resp-raw.der', '-issuer', 'issuing-ca.pem', '-cert', seals[CANCELLED].pem, '-CAfile', 'chain.pem', '-resp_text']);
  expect(rawGet.all).toContain('Response verify OK');
  expect(rawGet.stdout).toContain(`${seals[CANCELLED].pem}: revoked`);
});

test('U1: a certificate of another CA, and a serial this CA never issued, are unknown', async () => {
  // A throwaway CA and a certificate under it, made by openssl.
  await openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'other-ca.key', '-out', 'other-ca.pem', '-subj', '/CN=Throwaway CA', '-days', '2']);
  await openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'other.key', '-out', 'other.csr', '-subj', '/CN=Someone else']);
  // Same serial as a revoked seal of ours: only the issuer tells them apart.
  await openssl(['x509', '-req', '-in', 'other.csr', '-CA', 'other-ca.pem', '-CAkey', 'other-ca.key', '-set_serial', `0x${seals[CANCELLED].serial}`, '-days', '1', '-out', 'other.pem']);
  const other = await openssl(['ocsp', '-issuer', 'other-ca.pem', '-cert', 'other.pem', '-url', `${pkiUrl}/pki/ocsp`, '-CAfile', 'chain.pem', '-resp_text'], { allowFailure: true });
  expect(other.stdout).toMatch(/OCSP Response Status: successful \(0x0\)/);
  keep('ocsp-other-issuer.txt', other.all);
  expect(other.stdout).toMatch(/Cert Status: unknown/);
  expect(other.stdout).toContain('other.pem: unknown');
  // openssl rightly refuses to trust the answer (our responder is not delegated by that CA); it is only
  // information that this responder knows nothing about the certificate.
  expect(other.all).toMatch(/Response Verify Failure/);

  const serial = await ocsp(['-serial', '0x0badc0ffee']);
  expect(serial.all).toContain('Response verify OK');
  expect(serial.stdout).toContain('0x0badc0ffee: unknown');
});

test('U1: a malformed request gets an OCSP malformedRequest response, never a server error', async () => {
  const statusOf = async (name: string, bytes: Buffer) => {
    writeFileSync(path.join(dir, name), bytes);
    return (await openssl(['ocsp', '-respin', name, '-resp_text', '-noverify'], { allowFailure: true })).stdout;
  };
  const post = async (body: Buffer | string, type = 'application/ocsp-request') => {
    const res = await fetch(`${pkiUrl}/pki/ocsp`, { method: 'POST', headers: { 'content-type': type }, body });
    return { status: res.status, type: res.headers.get('content-type'), bytes: Buffer.from(await res.arrayBuffer()) };
  };

  const garbage = await post('this is not an OCSP request');
  expect(garbage.status).toBe(200);
  expect(garbage.type).toBe('application/ocsp-response');
  const garbageText = await statusOf('bad1.der', garbage.bytes);
  keep('ocsp-malformed.txt', garbageText);
  expect(garbageText).toMatch(MALFORMED);

  // A valid request cut short, and one with bytes after it.
  await openssl(['ocsp', '-issuer', 'issuing-ca.pem', '-cert', seals[GOOD].pem, '-reqout', 'ok-req.der']);
  const ok = readFileSync(path.join(dir, 'ok-req.der'));
  for (const [i, body] of [ok.subarray(0, ok.length - 5), Buffer.concat([ok, Buffer.from([0, 0])]), Buffer.alloc(0), Buffer.from([0x30, 0x00])].entries()) {
    const r = await post(body);
    expect(r.status).toBe(200);
    expect(await statusOf(`bad-${i}.der`, r.bytes)).toMatch(MALFORMED);
  }
  // Not DER at all in the GET form.
  const get = await fetch(`${pkiUrl}/pki/ocsp/%%%not-base64`);
  expect(get.status).toBe(200);
  expect(await statusOf('bad-get.der', Buffer.from(await get.arrayBuffer()))).toMatch(MALFORMED);
  // Over 64 KiB is refused before parsing, as the rest of the API does: a bilingual 413, not a 500.
  const huge = await post(Buffer.alloc(65 * 1024, 0x30));
  expect(huge.status).toBe(413);
  expect(JSON.parse(huge.bytes.toString('utf8')).error).toMatchObject({ code: 'too_large', message_zh: expect.any(String), message_en: expect.any(String) });
  // JSON is not OCSP either.
  const json = await post('{"a":1}', 'application/json');
  expect(json.status).toBe(200);
  expect(await statusOf('bad-json.der', json.bytes)).toMatch(MALFORMED);
});

/** A lifecycle change as the maker processes it (M12): applied by the seal's workflow before the answer. */
async function requestChange(token: string, sealId: string, kind: string, reason?: string) {
  const form = new FormData();
  const fields: Record<string, string> = { kind, legal_rep_id_number: makeResidentId(), handler_name: '冯十二', handler_id_number: makeResidentId(), handler_phone: '13600136000', ...(reason ? { reason } : {}) };
  for (const [k, v] of Object.entries(fields)) form.set(k, v);
  form.set('authorisation_letter', new Blob([PDF_BYTES]), 'letter.pdf');
  const res = await fetch(`${app.url}/api/seals/${sealId}/changes`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: form });
  return { status: res.status, body: (await res.json()) as { seal_status: string; case_id: string } };
}

test('M12 M13 U1: a pre-produced response (no nonce, RFC 5019) shows the new status when asked right after a suspend, resume or cancel is reported done (the NOTIFY is heard first); a nonce always gets a fresh response', async () => {
  const maker = await createUser(app.db, 'maker', { maker_id: await createMaker(app.db) });
  const officer = await createUser(app.db, 'officer', { district_code: '110105' });
  const { sealId } = await collectedSeal(app, maker, officer);
  const row = await app.db('seals').where({ id: sealId }).first('certificate_der');
  writeFileSync(path.join(dir, 'life.der'), row.certificate_der);
  await openssl(['x509', '-inform', 'DER', '-in', 'life.der', '-out', 'life.pem']);
  let n = 0;
  /** What openssl says, asking without a nonce as RFC 5019 clients do, and the response bytes. */
  const askPlain = async () => {
    const file = `life-${++n}.der`;
    const out = await ocsp(['-no_nonce', '-cert', 'life.pem', '-respout', file]);
    expect(out.all).toContain('Response verify OK');
    return { out: out.stdout, der: readFileSync(path.join(dir, file)) };
  };
  const fileAndAccept = async (caseId: string) => {
    await waitForStatus(maker.token, caseId, 'awaiting_filing');
    const filed = await api(app.url, maker.token, 'POST', `/api/applications/${caseId}/filing`, {});
    expect((await api(app.url, officer.token, 'POST', `/api/tasks/${filed.body.task_id}/decision`, { decision: 'accept' })).status).toBe(200);
    await waitForStatus(maker.token, caseId, 'completed');
  };

  const first = await askPlain();
  expect(first.out).toContain('life.pem: good');
  // Pre-produced: the second relying party gets the very bytes signed for the first (same producedAt).
  expect((await askPlain()).der.equals(first.der)).toBe(true);
  // With a nonce: signed for this request, echoing its nonce, even though a good response is cached.
  const fresh = await ocsp(['-cert', 'life.pem', '-respout', 'life-nonce.der']);
  expect(fresh.all).toContain('Response verify OK');
  expect(fresh.stdout).toContain('life.pem: good');
  expect(fresh.all).not.toMatch(/WARNING: no nonce|Nonce Verify error/);

  const steps: Array<[kind: string, want: RegExp]> = [
    ['suspend', /life\.pem: revoked[\s\S]*Reason: certificateHold/],
    ['resume', /life\.pem: good/],
    ['cancel', /life\.pem: revoked[\s\S]*Reason: cessationOfOperation/],
  ];
  let previous = first.der;
  for (const [kind, want] of steps) {
    const change = await requestChange(maker.token, sealId, kind, kind === 'cancel' ? '单位注销' : undefined);
    expect(change.status).toBe(201);
    // Asked at once after the change is reported done: no stale cached answer, without and with a nonce.
    const plain = await askPlain();
    expect(plain.out).toMatch(want);
    expect(plain.der.equals(previous)).toBe(false);
    expect((await ocsp(['-cert', 'life.pem'])).stdout).toMatch(want);
    // The new answer is pre-produced in its turn.
    expect((await askPlain()).der.equals(plain.der)).toBe(true);
    previous = plain.der;
    if (kind !== 'cancel') await fileAndAccept(change.body.case_id);
  }
  keep('ocsp-after-cancel.txt', (await askPlain()).out);
}, 240_000);

test('M13 U1: the responder cache drops a status read before a change it heard of, forgets a changed serial, and caches nothing while its listener is down', async () => {
  const cache = new OcspStatusCache(app.db.client.config.connection as ConstructorParameters<typeof OcspStatusCache>[0]);
  try {
    await eventually('the cache listening', async () => cache.enabled, (on) => on);
    const serial = seals[GOOD].serial;
    const touch = () => app.db.raw('update seals set hold_since = case when hold_since is null then now() else null end where id = ?', [seals[GOOD].id]);

    // Read (mark taken), then a change is committed and notified, then the store: dropped.
    const mark = cache.mark();
    await touch();
    await eventually('the notification', async () => cache.mark(), (m) => m !== mark);
    cache.storeStatus(serial, {}, mark);
    expect(cache.status(serial)).toBeUndefined();
    // Stored with a mark taken after the change: kept, until the next change of that serial.
    cache.storeStatus(serial, {}, cache.mark());
    expect(cache.status(serial)).toEqual({});
    await touch();
    await eventually('the serial forgotten', async () => cache.status(serial), (s) => s === undefined);

    // The listening connection dies: nothing is served from the cache until it listens again, empty.
    cache.storeStatus(serial, {}, cache.mark());
    await app.db.raw("select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'eseal-ocsp-listen' and pid <> pg_backend_pid()");
    await eventually('the cache off', async () => cache.enabled, (on) => !on);
    expect(cache.status(serial)).toBeUndefined();
    await eventually('the cache listening again', async () => cache.enabled, (on) => on, 10_000);
    expect(cache.status(serial)).toBeUndefined();

    // A listener that stops answering while its connection stays open (as in a network partition, when
    // notifications silently stop): the heartbeat gives it up, and the cache with it, within its bound.
    cache.storeStatus(serial, {}, cache.mark());
    const pid = cache.listenerPid!;
    process.kill(pid, 'SIGSTOP');
    const silentAt = Date.now();
    try {
      await eventually('the silent listener given up', async () => cache.enabled, (on) => !on, HEARTBEAT_MS + HEARTBEAT_TIMEOUT_MS + 2000);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    const givenUpMs = Date.now() - silentAt;
    expect(cache.status(serial)).toBeUndefined();
    await eventually('the cache listening again', async () => cache.enabled, (on) => on, 10_000);

    // How long after commit a change is heard (the window in which a process still serves the old answer).
    const delays: number[] = [];
    for (let i = 0; i < 20; i++) {
      const m = cache.mark();
      await touch();
      const committed = performance.now();
      while (cache.mark() === m) await new Promise((r) => setImmediate(r));
      delays.push(performance.now() - committed);
    }
    delays.sort((a, b) => a - b);
    keep('ocsp-notify-latency.txt', `NOTIFY heard after commit (ms, 20 changes): p50 ${delays[10].toFixed(2)}, max ${delays[19].toFixed(2)}\nsilent listener given up after ${givenUpMs} ms (bound ${HEARTBEAT_MS + HEARTBEAT_TIMEOUT_MS} ms)\n`);
  } finally {
    await cache.stop();
  }
}, 60_000);

// 1,000 here through the real responder and HSM (each is signed for itself); the unit test
// test/unit/ocsp-cache-key.test.ts checks 10,000 variants of the cache key without signing.
const PADDED_VARIANTS = 1_000;
test('M13 U1: 1,000 padded variants of one nonce-less request are all answered good, signed for themselves, and leave at most one cached response (only the one-CertID RFC 5019 form is cached)', async () => {
  await openssl(['ocsp', '-issuer', 'issuing-ca.pem', '-cert', seals[GOOD].pem, '-no_nonce', '-reqout', 'pad-base.der']);
  const base = readFileSync(path.join(dir, 'pad-base.der'));
  // Through the web's responder, as a relying party (or an attacker) reaches it.
  const answer = async (der: Buffer) => {
    const res = await fetch(`${app.url}/pki/ocsp`, { method: 'POST', headers: { 'content-type': 'application/ocsp-request' }, body: der });
    expect(res.status).toBe(200);
    return Buffer.from(await res.arrayBuffer());
  };
  const statusOf = (der: Buffer) => {
    const response = AsnConvert.parse(der, OCSPResponse);
    const basic = AsnConvert.parse(response.responseBytes!.response.buffer, BasicOCSPResponse);
    return basic.tbsResponseData.responses.map((r) => (r.certStatus.good !== undefined ? 'good' : r.certStatus.revoked ? 'revoked' : 'unknown'));
  };
  // The plain request: answered and pre-produced, the one entry this test allows.
  await eventually('the responder cache listening', async () => {
    const a = await answer(base);
    return (await answer(base)).equals(a);
  }, (same) => same);
  const first = await answer(base);
  expect(statusOf(first)).toEqual(['good']);
  // What the responder keeps, as the administrator's Prometheus reads it.
  const admin = (await createUser(app.db, 'admin')).token;
  const ocspCacheSize = async () => {
    const text = await (await fetch(`${app.url}/metrics`, { headers: { authorization: `Bearer ${admin}` } })).text();
    const entries = (kind: string) => Number(new RegExp(`^eseal_ocsp_cache_entries\\{kind="${kind}"\\} (\\d+)$`, 'm').exec(text)?.[1]);
    return { statuses: entries('statuses'), responses: entries('responses') };
  };
  const before = await ocspCacheSize();
  expect(before.responses).toBeGreaterThanOrEqual(1); // the plain request's pre-produced response
  expect(before.statuses).toBeGreaterThanOrEqual(1);

  // What an attacker varies to make each request distinct: its own extension, a requestorName, a second
  // CertID, a single-request extension, a signature.
  const parsed = () => AsnConvert.parse(base, OCSPRequest);
  const variant = (i: number) => {
    const r = parsed();
    const pad = new Extension({ extnID: `1.3.6.1.4.1.99999.${i}`, extnValue: new OctetString(randomBytes(8 + (i % 56))) });
    switch (i % 5) {
      case 0: r.tbsRequest.requestExtensions = [pad]; break;
      case 1: r.tbsRequest.requestorName = new GeneralName({ dNSName: `relying-${i}.example` }); break;
      case 2: r.tbsRequest.requestList = [r.tbsRequest.requestList[0], new Request({ reqCert: Object.assign(parsed().tbsRequest.requestList[0].reqCert, { serialNumber: new Uint8Array([0x7f, i >> 8, i & 0xff]).buffer }) })]; break;
      case 3: r.tbsRequest.requestList[0].singleRequestExtensions = [pad]; break;
      default: r.optionalSignature = new Signature({ signatureAlgorithm: new AlgorithmIdentifier({ algorithm: '1.2.840.10045.4.3.2' }), signature: new Uint8Array(randomBytes(64)).buffer });
    }
    return Buffer.from(AsnConvert.serialize(r));
  };
  const started = Date.now();
  const statuses = new Map<string, number>();
  let next = 0;
  await Promise.all(Array.from({ length: 8 }, async () => {
    for (let i = next++; i < PADDED_VARIANTS; i = next++) {
      const v = variant(i);
      const response = await answer(v);
      const key = `${i % 5}:${statusOf(response).join(',')}`;
      statuses.set(key, (statuses.get(key) ?? 0) + 1);
    }
  }));
  const seconds = (Date.now() - started) / 1000;
  keep('ocsp-padded-variants.txt', `${PADDED_VARIANTS} padded variants answered in ${seconds.toFixed(1)} s; answers by kind: ${JSON.stringify(Object.fromEntries(statuses))}\ncache before ${JSON.stringify(before)}, after ${JSON.stringify(await ocspCacheSize())}\n`);
  // Each is answered: good for our certificate, unknown for the made-up second serial.
  const each = PADDED_VARIANTS / 5;
  expect(Object.fromEntries(statuses)).toEqual({ '0:good': each, '1:good': each, '2:good,unknown': each, '3:good': each, '4:good': each });
  // Nothing new is kept: not one response, not one status for the made-up serials.
  const after = await ocspCacheSize();
  expect(after.responses).toBeLessThanOrEqual(before.responses);
  expect(after.statuses).toBeLessThanOrEqual(before.statuses);
  // The plain request is still answered from its one pre-produced response.
  expect((await answer(base)).equals(first)).toBe(true);
}, 180_000);
