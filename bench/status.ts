// bench:status — how close the OCSP responder comes to the HSM's own signing speed.
// On the services of scripts/with-stack.ts (PostgreSQL and the SoftHSM2 token with the provisioned PKI):
//   1. seeds --seals seal certificates (serials only; a tenth on hold, a tenth revoked) and builds OCSP
//      requests for them with one SHA-1 CertID each, as `openssl ocsp` builds them: once without a nonce
//      and once with a fresh 16-byte nonce per request;
//   2. starts the PKI routes (web/routes/pki.ts) in a child process, as the web server runs them, and
//      POSTs requests over HTTP keep-alive from --clients concurrent clients for --seconds, twice:
//      a. the request mix of real relying parties: nonce-less requests (RFC 5019 §2.1: browsers, Windows
//         and CA-run clients send no nonce), answered from pre-produced signed responses that the
//         responder signs once per certificate and drops when PostgreSQL notifies a status change (the
//         warm-up asks once for every certificate, and prints that cold-start rate);
//      b. every request with its own nonce (RFC 6960 §4.4.1), each needing a fresh HSM signature;
//   3. signs with the responder key directly through pkcs11js (Hsm.signEcdsaSha256), same concurrency.
// The three run in 5 interleaved rounds (a fifth of --seconds each), so other load on the machine falls on
// all of them alike; the ratio of each round is printed too.
// Prints the three rates and both ratios; the target is a rate of the real mix (a) of at least half the raw
// signing rate. The nonce rate (b) is printed beside it: it is bounded by the signing rate itself.
//   node --import tsx bench/status.ts [--seconds 10] [--clients 8] [--seals 2000]
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import http from 'node:http';
import os from 'node:os';
import type { AddressInfo } from 'node:net';
import { CertID, OCSPRequest, OCSPResponse, OCSPResponseStatus, BasicOCSPResponse, Request, TBSRequest, id_pkix_ocsp_nonce } from '@peculiar/asn1-ocsp';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier, Certificate, Extension } from '@peculiar/asn1-x509';
import express from 'express';
import { loadConfig, type Config } from '../infra/config';
import { createDb, type Db } from '../infra/db';
import { openToken } from '../infra/hsm/tokens';
import { serialHex } from '../infra/pki/ocsp';
import { OCSP_RESPONDER_KEY_LABEL } from '../infra/pki/ocsp-responder';
import { stopOcspCache } from '../infra/pki/ocsp';
import { errorHandler } from '../web/errors';
import { pkiRoutes, withOcspFrontDoor } from '../web/routes/pki';
import { fmt, heading, intFlag, measureRate, printTable, runPool } from './lib';

const TARGET_RATIO = 0.5;
const ROUNDS = 5;
const SHA1 = '1.3.14.3.2.26';

/** M4: the OCSP responder key is in the web token, as the web process opens it. */
const openHsm = (config: Config) => openToken(config, 'web');

function needDatabase(config: Config): string {
  if (!config.runtime.databaseUrl) throw new Error('bench:status needs the services: run it with `npm run bench:status` (scripts/with-stack.ts).');
  return config.runtime.databaseUrl;
}

// ---------- the server (child process) ----------

async function serve() {
  const config = loadConfig();
  const db = createDb(needDatabase(config));
  const hsm = await openHsm(config);
  const app = express();
  app.disable('x-powered-by');
  app.use(pkiRoutes({ db, hsm, config }));
  app.use(errorHandler);
  // As web/server.ts serves it: OCSP POSTs before express.
  const server = http.createServer(withOcspFrontDoor({ db, hsm, config }, app)).listen(0, '127.0.0.1', () => {
    process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`);
  });
  server.keepAliveTimeout = 30_000;
  const stop = () => {
    server.closeAllConnections();
    server.close(() => void stopOcspCache(db).then(() => hsm.close()).then(() => db.destroy()).then(() => process.exit(0)));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

function startServer(): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, ['--import', 'tsx', __filename, '--serve'], { stdio: ['ignore', 'pipe', 'inherit'], env: process.env });
  return new Promise((resolve, reject) => {
    let buf = '';
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      const line = buf.split('\n').find((l) => l.startsWith('{'));
      if (line) resolve({ child, port: (JSON.parse(line) as { port: number }).port });
    });
    child.once('exit', (code) => reject(new Error(`OCSP server exited with ${code} before listening`)));
  });
}

// ---------- seed data and requests ----------

async function seedSeals(db: Db, count: number): Promise<Array<{ serial: string; status: 'good' | 'held' | 'revoked' }>> {
  const district = (await db('districts').first('code')).code as string;
  const makerId = randomUUID();
  const userId = randomUUID();
  const tag = makerId.slice(0, 8);
  await db('makers').insert({
    id: makerId, name: `压测印章制作${tag}`, uscc: `9111${randomBytes(7).toString('hex').toUpperCase()}`,
    licence_no: `bench-${tag}`, district_code: district, licence_valid_from: '2024-01-01', licence_valid_until: '2099-12-31', licence_status: 'active',
  });
  await db('users').insert({ id: userId, username: `bench-status-${tag}`, display_name: 'bench', role: 'maker', maker_id: makerId });
  const seals: Array<{ serial: string; status: 'good' | 'held' | 'revoked' }> = [];
  const now = new Date();
  for (let start = 0; start < count; start += 500) {
    const holders = [];
    const cases = [];
    const rows = [];
    for (let i = start; i < Math.min(count, start + 500); i++) {
      const holderId = randomUUID();
      const caseId = randomUUID();
      const serial = serialHex(randomBytes(16)); // as @peculiar/x509 stores it
      const status = i % 10 === 1 ? 'held' : i % 10 === 2 ? 'revoked' : 'good';
      holders.push({ id: holderId, uscc: `9111${randomBytes(7).toString('hex').toUpperCase()}`, name: `压测单位${i}`, kind: 'enterprise', district_code: district, address: '北京市' });
      cases.push({ id: caseId, maker_id: makerId, holder_id: holderId, district_code: district, status: 'collected', language: 'zh', handler_name: '压测', handler_id_number: '110105198506120010', handler_phone: '13800138000', created_by: userId });
      rows.push({
        id: randomUUID(), case_id: caseId, holder_id: holderId, kind: 'legal_name', text: `压测单位${i}`,
        status: status === 'good' ? 'active' : status === 'held' ? 'suspended' : 'cancelled', certificate_serial: serial,
        hold_since: status === 'held' ? now : null, revoked_at: status === 'revoked' ? now : null, revocation_reason: status === 'revoked' ? 'cessationOfOperation' : null,
      });
      seals.push({ serial, status });
    }
    await db('holders').insert(holders);
    await db('cases').insert(cases);
    await db('seals').insert(rows);
  }
  return seals;
}

/** OCSP requests as `openssl ocsp` builds them: one SHA-1 CertID, and a 16-byte nonce unless `-no_nonce`. */
async function buildRequests(db: Db, seals: Array<{ serial: string }>, count: number, withNonce: boolean): Promise<Buffer[]> {
  const issuing = AsnConvert.parse((await db('ca_certificates').where({ purpose: 'issuing' }).orderBy('created_at', 'desc').first('der')).der as Buffer, Certificate);
  const nameHash = createHash('sha1').update(Buffer.from(AsnConvert.serialize(issuing.tbsCertificate.subject))).digest();
  const keyHash = createHash('sha1').update(Buffer.from(issuing.tbsCertificate.subjectPublicKeyInfo.subjectPublicKey)).digest();
  return Array.from({ length: count }, (_, i) => {
    const serial = Buffer.from(seals[i % seals.length].serial, 'hex');
    const der = serial[0] & 0x80 ? Buffer.concat([Buffer.from([0]), serial]) : serial;
    const nonce = new Extension({ extnID: id_pkix_ocsp_nonce, extnValue: new OctetString(AsnConvert.serialize(new OctetString(randomBytes(16)))) });
    const request = new OCSPRequest({
      tbsRequest: new TBSRequest({
        requestList: [new Request({ reqCert: new CertID({ hashAlgorithm: new AlgorithmIdentifier({ algorithm: SHA1, parameters: null }), issuerNameHash: new OctetString(nameHash), issuerKeyHash: new OctetString(keyHash), serialNumber: new Uint8Array(der).buffer }) })],
        requestExtensions: withNonce ? [nonce] : undefined,
      }),
    });
    return Buffer.from(AsnConvert.serialize(request));
  });
}

/** The status the responder gave (sanity check that the benchmark measures real answers). */
function statusOf(responseDer: Buffer): string {
  const response = AsnConvert.parse(responseDer, OCSPResponse);
  if (response.responseStatus !== OCSPResponseStatus.successful) return OCSPResponseStatus[response.responseStatus];
  const basic = AsnConvert.parse(response.responseBytes!.response.buffer, BasicOCSPResponse);
  const s = basic.tbsResponseData.responses[0].certStatus;
  return s.good !== undefined ? 'good' : s.revoked ? 'revoked' : 'unknown';
}

function post(agent: http.Agent, port: number, body: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, path: '/pki/ocsp', method: 'POST', agent, headers: { 'content-type': 'application/ocsp-request', 'content-length': body.length } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => (res.statusCode === 200 ? resolve(Buffer.concat(chunks)) : reject(new Error(`HTTP ${res.statusCode}`))));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

// ---------- main ----------

async function main() {
  const seconds = intFlag('seconds', 10);
  const clients = Math.max(1, intFlag('clients', 8));
  const sealCount = Math.max(10, intFlag('seals', 2000));
  const config = loadConfig();
  const db = createDb(needDatabase(config));
  const hsm = await openHsm(config);
  let server: { child: ChildProcess; port: number } | undefined;
  try {
    const seals = await seedSeals(db, sealCount);
    const plain = await buildRequests(db, seals, sealCount, false);
    const nonced = await buildRequests(db, seals, 4096, true);
    console.log(`${sealCount} seal certificates seeded (a tenth on hold, a tenth revoked); ${clients} clients; ${seconds} s per measurement`);
    console.log(`${os.cpus().length} CPUs, load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')} (client, server, PostgreSQL and SoftHSM share them)`);

    server = await startServer();
    const port = server.port;
    const agent = new http.Agent({ keepAlive: true, maxSockets: clients });
    // A check that the answers are the statuses seeded, with and without a nonce.
    for (let i = 0; i < 30; i++) {
      const want = seals[i % seals.length].status === 'good' ? 'good' : 'revoked';
      for (const r of [plain[i % plain.length], nonced[i]]) {
        const got = statusOf(await post(agent, port, r));
        if (got !== want) throw new Error(`request ${i}: responder said ${got}, expected ${want}`);
      }
    }

    // The three are measured in interleaved slices (ROUNDS of seconds/ROUNDS each), so that load from other
    // processes on the machine falls on all three alike rather than on whichever ran while it peaked.
    const tbs = randomBytes(300); // about the size of a ResponseData with a nonce
    const measures = {
      ocsp: (i: number) => post(agent, port, plain[i % plain.length]),
      nonce: (i: number) => post(agent, port, nonced[i % nonced.length]),
      raw: () => hsm.signEcdsaSha256(OCSP_RESPONDER_KEY_LABEL, tbs),
    };
    type Name = keyof typeof measures;
    const names = Object.keys(measures) as Name[];
    // Warm-up. Pre-produced means produced before relying parties ask: one pass over every certificate signs
    // each nonce-less answer (its rate, the cold start after a restart, is printed), then the rest warm up.
    const cold = await runPool(plain.length, clients, (i) => post(agent, port, plain[i]));
    console.log(`cold start: ${plain.length} nonce-less answers produced (status read, signed) in ${fmt(cold, 2)} s, ${fmt(plain.length / cold)} /s`);
    for (const n of names) await measureRate(0.5, measures[n], clients);
    const totals = Object.fromEntries(names.map((n) => [n, { ops: 0, seconds: 0 }])) as Record<Name, { ops: number; seconds: number }>;
    const roundRatios: string[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const rate = {} as Record<Name, number>;
      for (const n of names) {
        const m = await measureRate(seconds / ROUNDS, measures[n], clients);
        totals[n].ops += m.ops;
        totals[n].seconds += m.seconds;
        rate[n] = m.perSecond;
      }
      roundRatios.push(fmt(rate.ocsp / rate.raw, 2));
    }
    agent.destroy();
    const perSecond = (n: Name) => totals[n].ops / totals[n].seconds;
    const ocsp = { perSecond: perSecond('ocsp') };
    const nonce = { perSecond: perSecond('nonce') };
    const raw = { perSecond: perSecond('raw') };
    heading(`OCSP over HTTP, real mix: 100 % nonce-less (RFC 5019), ${plain.length} certificates in turn (POST /pki/ocsp, keep-alive)`);
    console.log(`${fmt(ocsp.perSecond)} responses/s (${totals.ocsp.ops} in ${fmt(totals.ocsp.seconds, 2)} s; each certificate's answer signed once, then pre-produced)`);
    heading('OCSP over HTTP, every request with a nonce (RFC 6960: a fresh signature each)');
    console.log(`${fmt(nonce.perSecond)} responses/s (${totals.nonce.ops} in ${fmt(totals.nonce.seconds, 2)} s)`);
    heading(`raw signing with "${OCSP_RESPONDER_KEY_LABEL}" (Hsm.signEcdsaSha256 through pkcs11js)`);
    console.log(`${fmt(raw.perSecond)} signatures/s (${totals.raw.ops} in ${fmt(totals.raw.seconds, 2)} s)`);
    console.log(`real mix / raw in each of the ${ROUNDS} rounds: ${roundRatios.join(' ')}`);

    const ratio = ocsp.perSecond / raw.perSecond;
    heading('result');
    printTable([
      ['measure', 'per second', 'ratio to raw'],
      ['OCSP over HTTP, real mix (100 % nonce-less)', fmt(ocsp.perSecond), fmt(ratio, 2)],
      ['OCSP over HTTP, with nonce', fmt(nonce.perSecond), fmt(nonce.perSecond / raw.perSecond, 2)],
      ['raw HSM signatures', fmt(raw.perSecond), '1.00'],
    ]);
    console.log(`${ratio >= TARGET_RATIO ? 'PASS' : 'BELOW TARGET'}: OCSP (real mix)/raw = ${fmt(ratio, 2)} (target ≥ ${TARGET_RATIO}); with nonce ${fmt(nonce.perSecond / raw.perSecond, 2)}`);
  } finally {
    if (server) server.child.kill('SIGTERM');
    await hsm.close();
    await db.destroy();
  }
}

if (process.argv.includes('--serve')) {
  serve().catch((e) => {
    console.error(e);
    process.exit(1);
  });
} else {
  main().catch((e) => {
    console.error(e instanceof Error ? e.stack : e);
    process.exit(1);
  });
}
