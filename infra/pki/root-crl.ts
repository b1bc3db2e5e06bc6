// The root CA's CRL (RFC 5280 §5), signed with the root key in the root token by the offline ceremony
// (`npm run pki:ceremony -- root-crl`), never by the running system. It lists issuing-CA certificates the
// operator revokes; its number follows the previous root CRL's. Kept as `<dataDir>/pki/root-ca.crl` (DER).
import { readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { AsnConvert } from '@peculiar/asn1-schema';
import { CRLNumber, id_ce_cRLNumber } from '@peculiar/asn1-x509';
import * as x509 from './x509';
import type { Hsm } from '../hsm/hsm';
import { ROOT_CA_KEY_LABEL } from './ca';
import { hsmCrypto, hsmSigningKey } from './hsm-crypto';
import { wholeSeconds } from './crl';

export const rootCrlPath = (dataDir: string) => path.join(path.resolve(dataDir, 'pki'), 'root-ca.crl');

export interface RootCrl {
  crlNumber: number;
  der: Buffer;
  path: string;
  nextUpdate: Date;
  revoked: string[];
}

/** The next root CRL: the previous one's entries, plus `revokeSerials` (hex serials of issuing-CA certificates). */
export async function issueRootCrl(rootHsm: Hsm, opts: { dataDir: string; validityDays: number; revokeSerials?: string[]; now?: Date }): Promise<RootCrl> {
  if (!Number.isInteger(opts.validityDays) || opts.validityDays < 1 || opts.validityDays > 400) throw new Error(`validity days must be 1–400, got ${opts.validityDays}`);
  const dir = path.resolve(opts.dataDir, 'pki');
  const root = new x509.X509Certificate(await readFile(path.join(dir, 'root-ca.pem'), 'utf8'));
  if (!(await rootHsm.publicKeySpki(ROOT_CA_KEY_LABEL)).equals(Buffer.from(root.publicKey.rawData))) {
    throw new Error(`the root token's key "${ROOT_CA_KEY_LABEL}" does not match ${path.join(dir, 'root-ca.pem')} (${root.subject})`);
  }
  const file = rootCrlPath(opts.dataDir);
  const previous = await readFile(file).then((der) => new x509.X509Crl(der), () => undefined);
  if (previous && !(await previous.verify({ publicKey: root.publicKey }, hsmCrypto))) throw new Error(`${file} is not signed by the root CA: move it aside first`);
  const number = previous ? Number(AsnConvert.parse(previous.getExtension(id_ce_cRLNumber)!.value, CRLNumber).value) : 0;
  const now = wholeSeconds(opts.now ?? new Date());
  const entries = new Map<string, Date>((previous?.entries ?? []).map((e) => [e.serialNumber.toLowerCase(), e.revocationDate]));
  for (const s of opts.revokeSerials ?? []) {
    if (!/^[0-9a-f]{2,40}$/i.test(s)) throw new Error(`--revoke: "${s}" is not a hexadecimal certificate serial`);
    if (!entries.has(s.toLowerCase())) entries.set(s.toLowerCase(), now);
  }
  const ski = root.getExtension(x509.SubjectKeyIdentifierExtension);
  const crl = await x509.X509CrlGenerator.create(
    {
      issuer: root.subjectName,
      thisUpdate: now,
      nextUpdate: new Date(now.getTime() + opts.validityDays * 86_400_000),
      signingKey: hsmSigningKey(rootHsm, ROOT_CA_KEY_LABEL),
      signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
      extensions: [
        ...(ski ? [new x509.AuthorityKeyIdentifierExtension(ski.keyId)] : []),
        new x509.Extension(id_ce_cRLNumber, false, AsnConvert.serialize(new CRLNumber(number + 1))),
      ],
      entries: [...entries].map(([serialNumber, revocationDate]) => ({ serialNumber, revocationDate })),
    },
    hsmCrypto,
  );
  const der = Buffer.from(crl.rawData);
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, der, { mode: 0o644 });
  await rename(tmp, file);
  return { crlNumber: number + 1, der, path: file, nextUpdate: crl.nextUpdate!, revoked: [...entries.keys()] };
}
