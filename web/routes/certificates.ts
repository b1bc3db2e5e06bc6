// Each seal's certificate (PEM, DER) and its chain to the root, public as certificates are in any PKI: a
// relying party checks a signed document without an account here (issue 16 point 5). Mount before
// `authenticate`, beside the CRL and OCSP.
import { Router, type Response } from 'express';
import type { Db } from '../../infra/db';
import { sealCertificate } from '../../usecases/seal-certificates';

export function certificateRoutes(deps: { db: Db }): Router {
  const r = Router();
  // The certificate never changes once issued (its status does: CRL, OCSP), so it may be cached long.
  const send = (res: Response, type: string, filename: string, body: string | Buffer) =>
    res.type(type).set('cache-control', 'public, max-age=86400').set('x-content-type-options', 'nosniff').set('content-disposition', `attachment; filename="${filename}"`).send(body);

  r.get('/pki/seals/:id/certificate.pem', async (req, res) => {
    const c = await sealCertificate(deps.db, String(req.params.id));
    send(res, 'application/x-pem-file', `seal-${c.serial}.pem`, c.pem);
  });
  r.get('/pki/seals/:id/certificate.der', async (req, res) => {
    const c = await sealCertificate(deps.db, String(req.params.id));
    send(res, 'application/pkix-cert', `seal-${c.serial}.cer`, c.der);
  });
  r.get('/pki/seals/:id/chain.pem', async (req, res) => {
    const c = await sealCertificate(deps.db, String(req.params.id));
    send(res, 'application/pem-certificate-chain', `seal-${c.serial}-chain.pem`, c.chainPem);
  });
  return r;
}
