// Public certificate-status endpoints for relying parties (U1, M13): they verify seal signatures without
// an account here, so nothing below asks for a login. Mount before `authenticate`.
//   GET  /pki/crl.der              the issuing CA's current CRL (application/pkix-crl)
//   GET  /pki/issuing-ca.pem       the issuing CA certificate
//   GET  /pki/issuing-ca.crt       the same, DER (application/pkix-cert): the AIA caIssuers URL of seal certificates
//   GET  /pki/root-ca.pem          the root CA certificate
//   POST /pki/ocsp                 OCSP (RFC 6960 appendix A.1), body application/ocsp-request ≤ 64 KiB
//                                  (answered before express by withOcspFrontDoor, see web/server.ts)
//   GET  /pki/ocsp/{request}       the same, GET form (URL-encoded base64 of the DER request)
//   GET  /pki/sm2/root-ca.pem, /pki/sm2/issuing-ca.pem, /pki/sm2/issuing-ca.crt, /pki/sm2/crl.der and
//   POST /pki/sm2/ocsp             the same for the SM2 chain (issue 13; 503 when the suite is intl)
// Dependencies are read per request, so building the router needs none of them (route listings do that).
import type { IncomingMessage, RequestListener } from 'node:http';
import { Router, type ErrorRequestHandler, type NextFunction, type Request, type Response } from 'express';
import type { Config } from '../../infra/config';
import type { Db } from '../../infra/db';
import type { Hsm } from '../../infra/hsm/hsm';
import { MALFORMED_REQUEST_RESPONSE } from '../../infra/pki/ocsp';
import { caCertificatePem, issuingCaCertificateDer, latestCrlReader, latestSm2Crl, ocspAnswerer, sm2CaCertificateDer, sm2OcspAnswerer } from '../../usecases/pki-publication';

export interface PkiDeps {
  db: Db;
  /** The responder key signs each OCSP response, so the web process holds an HSM session. */
  hsm: Hsm;
  config: Pick<Config, 'pki'>;
}

export const OCSP_MAX_REQUEST_BYTES = 64 * 1024;
const OCSP_GET_PREFIX = '/pki/ocsp/';

const sendOcsp = (res: Response, der: Buffer) => {
  res.type('application/ocsp-response').send(der);
};

/** The request body, at most `limit` bytes (else the API's 413); a connection cut short is a client error. */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const tooLarge = () => Object.assign(new Error('request entity too large'), { status: 413, type: 'entity.too.large' });
  if (Number(req.headers['content-length'] ?? 0) > limit) return Promise.reject(tooLarge());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= limit) chunks.push(c);
    });
    req.on('end', () => (size > limit ? reject(tooLarge()) : resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks))));
    req.on('error', () => reject(Object.assign(new Error('request aborted'), { status: 400 })));
  });
}

/**
 * The web server's request listener: POST /pki/ocsp, the relying parties' hot path, is answered before
 * express, whose own per-request work cost more than a pre-produced answer. Only requests stating a
 * Content-Length within the limit are taken here; any other goes to `app`, where pkiRoutes answers it the
 * same way (or the API's 413).
 */
export function withOcspFrontDoor(deps: PkiDeps, app: RequestListener): RequestListener {
  const answer = ocspAnswerer(deps);
  return (req, res) => {
    const length = Number(req.headers['content-length']);
    if (req.method !== 'POST' || req.url !== '/pki/ocsp' || !(length <= OCSP_MAX_REQUEST_BYTES)) return app(req, res);
    readBody(req, OCSP_MAX_REQUEST_BYTES)
      .then(answer) // never throws: OCSP errors are OCSP responses
      .then(
        (body) => res.writeHead(200, { 'content-type': 'application/ocsp-response', 'content-length': body.length }).end(body),
        () => res.destroy(), // the client went away mid-request
      )
      // Whatever failed in writing the answer: drop the connection rather than leave an unhandled rejection.
      .catch(() => res.destroy());
  };
}

export function pkiRoutes(deps: PkiDeps): Router {
  const r = Router();

  // ---------- CRL ----------
  // The latest CRL in PostgreSQL (usecases/pki-publication.ts); the web never signs one.
  const latestCrl = latestCrlReader(deps.db);

  r.get('/pki/crl.der', async (_req, res) => {
    const crl = await latestCrl();
    if (!crl) {
      res.status(503).json({ error: { code: 'not_provisioned', message_zh: '尚未签发证书撤销列表', message_en: 'No CRL has been issued yet', fields: [] } });
      return;
    }
    res
      .type('application/pkix-crl')
      .set('cache-control', 'public, max-age=60, no-transform')
      .set('last-modified', crl.thisUpdate.toUTCString())
      .set('etag', `"crl-${crl.crlNumber}"`)
      .set('content-disposition', 'attachment; filename="issuing-ca.crl"')
      .send(crl.der);
  });

  // ---------- CA certificates ----------
  async function sendCaPem(res: Response, purpose: 'root' | 'issuing') {
    const pem = await caCertificatePem(deps.db, purpose);
    if (pem === undefined) {
      res.status(503).json({ error: { code: 'not_provisioned', message_zh: '平台证书尚未生成', message_en: 'The platform PKI is not provisioned', fields: [] } });
      return;
    }
    // A trailing newline, so that files fetched from here can be concatenated into a chain file.
    res.type('application/x-pem-file').set('cache-control', 'public, max-age=3600').send(pem.endsWith('\n') ? pem : `${pem}\n`);
  }
  r.get('/pki/root-ca.pem', async (_req, res) => sendCaPem(res, 'root'));
  r.get('/pki/issuing-ca.pem', async (_req, res) => sendCaPem(res, 'issuing'));
  // RFC 5280 §4.2.2.1: an HTTP caIssuers URI names a DER certificate (or certs-only CMS).
  r.get('/pki/issuing-ca.crt', async (_req, res) => {
    const der = await issuingCaCertificateDer(deps.db);
    if (!der) {
      res.status(503).json({ error: { code: 'not_provisioned', message_zh: '平台证书尚未生成', message_en: 'The platform PKI is not provisioned', fields: [] } });
      return;
    }
    res.type('application/pkix-cert').set('cache-control', 'public, max-age=3600').send(der);
  });

  // ---------- OCSP ----------
  const answer = ocspAnswerer(deps);

  // Any content type: the body is the DER request (a body another parser took, e.g. JSON, is malformed).
  // Read and answered on the plain stream, as withOcspFrontDoor does: express.raw and res.send (ETag,
  // freshness) cost more than a pre-produced answer itself.
  r.post('/pki/ocsp', async (req, res) => {
    const der = req.body === undefined ? await readBody(req, OCSP_MAX_REQUEST_BYTES) : undefined;
    const body = der ? await answer(der) : MALFORMED_REQUEST_RESPONSE;
    res.writeHead(200, { 'content-type': 'application/ocsp-response', 'content-length': body.length }).end(body);
  });

  /** GET form: the raw path after /pki/ocsp/, percent-decoded once, then base64 (or base64url). */
  async function ocspGet(req: Request, res: Response) {
    const url = req.originalUrl.split('?')[0];
    let der: Buffer | undefined;
    try {
      const b64 = decodeURIComponent(url.slice(url.indexOf(OCSP_GET_PREFIX) + OCSP_GET_PREFIX.length));
      if (b64.length <= (OCSP_MAX_REQUEST_BYTES * 4) / 3 + 4 && /^[A-Za-z0-9+/_-]+={0,2}$/.test(b64)) {
        der = Buffer.from(b64.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
      }
    } catch {
      der = undefined; // bad percent-encoding
    }
    const body = der ? await answer(der) : MALFORMED_REQUEST_RESPONSE;
    sendOcsp(res.set('cache-control', 'public, max-age=60, no-transform'), body);
  }
  r.get('/pki/ocsp/:request', async (req, res) => ocspGet(req, res));
  // Clients that leave '/' unencoded in the base64 make several path segments; they are answered too.
  r.use(OCSP_GET_PREFIX, (req: Request, res: Response, next: NextFunction) => {
    if (req.method !== 'GET') return next();
    ocspGet(req, res).catch(next);
  });

  // ---------- the SM2 chain (issue 13) ----------
  const notProvisioned = (res: Response) =>
    res.status(503).json({ error: { code: 'not_provisioned', message_zh: 'SM2 证书链未配置（pki.algorithmSuite 为 intl）或尚未生成', message_en: 'The SM2 chain is not configured (pki.algorithmSuite intl) or not provisioned', fields: [] } });
  const pem = (der: Buffer) => `-----BEGIN CERTIFICATE-----\n${der.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END CERTIFICATE-----\n`;
  for (const purpose of ['root', 'issuing'] as const) {
    r.get(`/pki/sm2/${purpose}-ca.pem`, async (_req, res) => {
      const der = await sm2CaCertificateDer(deps.db, purpose);
      if (!der) return void notProvisioned(res);
      res.type('application/x-pem-file').set('cache-control', 'public, max-age=3600').send(pem(der));
    });
  }
  r.get('/pki/sm2/issuing-ca.crt', async (_req, res) => {
    const der = await sm2CaCertificateDer(deps.db, 'issuing');
    if (!der) return void notProvisioned(res);
    res.type('application/pkix-cert').set('cache-control', 'public, max-age=3600').send(der);
  });
  r.get('/pki/sm2/crl.der', async (_req, res) => {
    const crl = await latestSm2Crl(deps.db);
    if (!crl) return void notProvisioned(res);
    res
      .type('application/pkix-crl')
      .set('cache-control', 'public, max-age=60, no-transform')
      .set('last-modified', crl.thisUpdate.toUTCString())
      .set('etag', `"sm2-crl-${crl.crlNumber}"`)
      .set('content-disposition', 'attachment; filename="sm2-issuing-ca.crl"')
      .send(crl.der);
  });
  const answerSm2 = sm2OcspAnswerer(deps);
  r.post('/pki/sm2/ocsp', async (req, res) => {
    const der = req.body === undefined ? await readBody(req, OCSP_MAX_REQUEST_BYTES) : undefined;
    const body = der ? await answerSm2(der) : MALFORMED_REQUEST_RESPONSE;
    res.writeHead(200, { 'content-type': 'application/ocsp-response', 'content-length': body.length }).end(body);
  });

  // A path express cannot decode, or a body cut short, is an OCSP malformedRequest (HTTP 200, as RFC 6960
  // answers every OCSP-level error). An oversized body stays the API's bilingual 413.
  const ocspRequestErrors: ErrorRequestHandler = (err, req, res, next) => {
    const clientError = typeof err?.status === 'number' && err.status >= 400 && err.status < 500 && err.status !== 413;
    if (!req.path.startsWith('/pki/ocsp') || res.headersSent || !clientError) return next(err);
    sendOcsp(res, MALFORMED_REQUEST_RESPONSE);
  };
  r.use(ocspRequestErrors);
  return r;
}
