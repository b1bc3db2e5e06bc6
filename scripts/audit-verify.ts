// `npm run audit:verify` — walks the audit trail's hash chain and its signed heads (M6, P1) and prints OK,
// or names the first entry that was altered, removed or reordered. Exit code 0: intact; 1: a finding;
// 2: could not verify (no database, no certificate).
//   npm run audit:verify [-- --json] [--certificate data/pki/audit-signing.pem] [--page-size 10000]
// The database is DATABASE_URL, or the embedded PostgreSQL of `make up` (POSTGRES_PORT, default 5433).
// The public key comes from the audit signing certificate on disk (checked against the issuing CA beside
// it), never from the database being verified.
import { loadConfig } from '../infra/config';
import { createDb } from '../infra/db';
import { auditCertificatePath } from '../infra/audit/heads';
import { loadAuditPublicKey, verifyAuditChain } from '../infra/audit/verify';

function flag(name: string): string | undefined {
  const argv = process.argv.slice(2);
  const i = argv.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  if (i < 0) return undefined;
  return argv[i].includes('=') ? argv[i].slice(argv[i].indexOf('=') + 1) : argv[i + 1];
}

async function main(): Promise<number> {
  const config = loadConfig();
  const json = process.argv.includes('--json');
  // The embedded server's local credentials (infra/services/postgres.ts) when no DATABASE_URL is given.
  const url = config.runtime.databaseUrl ?? `postgres://postgres:eseal-local@127.0.0.1:${config.runtime.postgresPort}/eseal`;
  const certPath = flag('certificate') ?? auditCertificatePath(config.runtime.dataDir);
  const pageSize = Number(flag('page-size') ?? 10_000);
  const key = loadAuditPublicKey(certPath);
  const db = createDb(url, { min: 0, max: 3 });
  try {
    const report = await verifyAuditChain(db, key, { pageSize });
    if (json) {
      console.log(JSON.stringify({ ...report, certificate: certPath, key_fingerprint: key.fingerprint }));
    } else if (report.ok) {
      const range = report.lastSeq ? `entries ${report.firstSeq}–${report.lastSeq}` : 'no entries yet';
      console.log(`audit:verify OK — ${range} (${report.entries}), ${report.heads} signed heads, the last at seq ${report.lastSignedSeq ?? '-'}; ${report.unsignedTail} entries after it await the next head; ${report.seconds.toFixed(2)} s`);
      console.log(`  key ${key.fingerprint} (${key.subject ?? certPath})`);
    } else {
      const f = report.finding!;
      console.log(`audit:verify FAILED — entry ${f.seq} ${f.kind}: ${f.message}`);
    }
    return report.ok ? 0 : 1;
  } finally {
    await db.destroy();
  }
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(`audit:verify could not verify: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(2);
  },
);
