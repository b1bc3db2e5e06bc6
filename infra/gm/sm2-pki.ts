// Provisioning of the SM2 chain (issue 13), run by scripts/stack.ts beside the ECDSA PKI when the algorithm
// suite is gm or both: the SM2 root, issuing CA and OCSP responder (sm2-ca.ts) and a first SM2 CRL, so
// relying parties can fetch one from the first start (one that expired while the platform was down is
// replaced at once).
import type { Db } from '../db';
import type { Hsm } from '../hsm/hsm';
import { Sm2Module } from '../hsm/sm2-module';
import { ensureSm2PlatformCa } from './sm2-ca';
import { currentSm2Crl, generateSm2Crl } from './sm2-crl';

export async function provisionSm2Pki(tokens: { issuing: Hsm; web: Hsm; root: () => Promise<Hsm> }, db: Db, opts: { crlNextUpdateHours?: number } = {}) {
  const ca = await ensureSm2PlatformCa(tokens, db);
  const crl = await currentSm2Crl(db);
  if (!crl || crl.nextUpdate <= new Date() || ca.created.issuing) await generateSm2Crl(new Sm2Module(tokens.issuing), db, { nextUpdateHours: opts.crlNextUpdateHours });
  return ca;
}
