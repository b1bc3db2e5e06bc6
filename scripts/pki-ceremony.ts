// `npm run pki:ceremony -- issue-issuing-ca | root-crl [--days N] [--revoke <serial>…]` — M4: the only use
// of the root CA key after the platform is set up, as an offline ceremony: the running web and workers never
// log in to the root token (their configuration does not even hold its PIN).
//   issue-issuing-ca  a new certificate for the issuing CA's key (in the issuing token), signed in the root
//                     token: written to <DATA_DIR>/pki/issuing-ca.pem (the old one moved aside) and PostgreSQL.
//   root-crl          the root CRL (<DATA_DIR>/pki/root-ca.crl), N days valid (default 180), listing the
//                     issuing-CA certificates revoked so far and any --revoke serials.
// Needs the root token's settings (PKCS11_MODULE, HSM_ROOT_TOKEN_LABEL, HSM_ROOT_PIN; demo PIN only for the
// project's SoftHSM token) and, for issue-issuing-ca, the issuing token's (HSM_TOKEN_LABEL, HSM_PIN: its
// public key is read) and the database (DATABASE_OWNER_URL or DATABASE_URL; default the embedded server).
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { loadConfig, PROJECT_SOFTHSM_MODULE } from '../infra/config';
import { createDb } from '../infra/db';
import { Hsm } from '../infra/hsm/hsm';
import { setSoftHsmConf } from '../infra/hsm/softhsm-token';
import { openToken, rootTokenSettings } from '../infra/hsm/tokens';
import { ISSUING_CA_KEY_LABEL, issueIssuingCaCertificate, replaceIssuingCaFile, ROOT_CA_KEY_LABEL } from '../infra/pki/ca';
import { issueRootCrl } from '../infra/pki/root-crl';
import * as x509 from '../infra/pki/x509';

const USAGE = 'usage: npm run pki:ceremony -- issue-issuing-ca | root-crl [--days N] [--revoke <hex serial>]…';

function flags(args: string[]): { days?: number; revoke: string[] } {
  const out: { days?: number; revoke: string[] } = { revoke: [] };
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--days') out.days = Number(args[++i]);
    else if (args[i] === '--revoke') out.revoke.push(args[++i] ?? '');
    else throw new Error(`unknown argument "${args[i]}"\n${USAGE}`);
  }
  return out;
}

async function main(): Promise<void> {
  const [command, ...rest] = process.argv.slice(2);
  if (command !== 'issue-issuing-ca' && command !== 'root-crl') throw new Error(USAGE);
  const opts = flags(rest);
  const config = loadConfig({ ...process.env, HSM_TOKENS: command === 'issue-issuing-ca' ? 'issuing' : '' });
  const { runtime } = config;
  // The project's SoftHSM tokens live under DATA_DIR (scripts/stack.ts); `make up` sets this for its children.
  if (!process.env.SOFTHSM2_CONF && runtime.pkcs11Module === PROJECT_SOFTHSM_MODULE) setSoftHsmConf(path.join(runtime.dataDir, 'hsm', 'softhsm2.conf'));
  const rootToken = rootTokenSettings(config);
  const root = await Hsm.open({ modulePath: runtime.pkcs11Module, tokenLabel: rootToken.label, pin: rootToken.pin });
  try {
    if (!(await root.hasPrivateKey(ROOT_CA_KEY_LABEL))) {
      throw new Error(`token "${rootToken.label}" holds no root CA key "${ROOT_CA_KEY_LABEL}"; in a data folder of a single-token version it is still in the issuing token: HSM_ROOT_TOKEN_LABEL=<its label> HSM_ROOT_PIN=<its PIN> (README, "HSM tokens")`);
    }
    if (command === 'root-crl') {
      const crl = await issueRootCrl(root, { dataDir: runtime.dataDir, validityDays: opts.days ?? 180, revokeSerials: opts.revoke });
      console.log(`root CRL #${crl.crlNumber} written to ${crl.path}: ${crl.revoked.length} revoked issuing-CA certificate(s), next update ${crl.nextUpdate.toISOString()}`);
      return;
    }
    const dir = path.resolve(runtime.dataDir, 'pki');
    const rootCert = new x509.X509Certificate(await readFile(path.join(dir, 'root-ca.pem'), 'utf8'));
    const current = await readFile(path.join(dir, 'issuing-ca.pem'), 'utf8').then((pem) => new x509.X509Certificate(pem), () => undefined);
    if (!current) throw new Error(`no ${path.join(dir, 'issuing-ca.pem')}: provision the platform first (make up)`);
    const issuing = await openToken(config, 'issuing');
    const issuingSpki = await issuing.publicKeySpki(ISSUING_CA_KEY_LABEL).finally(() => issuing.close());
    const issued = await issueIssuingCaCertificate(root, { rootDer: Buffer.from(rootCert.rawData), issuingSpki, subject: current.subjectName });
    const url = process.env.DATABASE_OWNER_URL || runtime.databaseUrl || `postgres://postgres:eseal-local@127.0.0.1:${runtime.postgresPort}/eseal`;
    const db = createDb(url, { min: 0, max: 1 });
    try {
      const fingerprint = createHash('sha256').update(issued.der).digest('hex');
      const file = await replaceIssuingCaFile(runtime.dataDir, issued.pem);
      const c = issued.certificate;
      await db('ca_certificates')
        .insert({ fingerprint_sha256: fingerprint, purpose: 'issuing', key_label: ISSUING_CA_KEY_LABEL, subject: c.subject, serial: c.serialNumber, der: issued.der, pem: issued.pem, not_before: c.notBefore, not_after: c.notAfter })
        .onConflict('fingerprint_sha256')
        .ignore();
      console.log(`issuing-CA certificate ${c.serialNumber} (SHA-256 ${fingerprint}) valid until ${c.notAfter.toISOString()}, written to ${file} and PostgreSQL`);
    } finally {
      await db.destroy();
    }
  } finally {
    await root.close();
  }
}

main().catch((e) => {
  console.error(`pki:ceremony: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(2);
});
