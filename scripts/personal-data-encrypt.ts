// `npm run personal-data:encrypt` — brings the personal data of an existing database to the current format
// (P1): values stored in clear are encrypted, values of the old format (`pd1:`, not bound to their row) are
// re-encrypted bound to table, column and row. For deployments whose database and HSM are not started by
// `make up` (which runs the same at start-up). Idempotent; prints the counts per column.
// Needs DATABASE_URL and the HSM settings of the web process (PKCS11_MODULE, HSM_WEB_TOKEN_LABEL, HSM_WEB_PIN).
// Exit code 0: done; 1: some values did not authenticate (left as they are, audited); 2: could not run.
import { loadConfig } from '../infra/config';
import { createDb } from '../infra/db';
import { openToken } from '../infra/hsm/tokens';
import { backfillMaterialFiles, backfillPersonalData } from '../infra/crypto/backfill';
import { blobStoreFromConfig } from '../infra/blobs';

async function main(): Promise<number> {
  const config = loadConfig();
  // The embedded server's local credentials (infra/services/postgres.ts) when no DATABASE_URL is given.
  const url = config.runtime.databaseUrl ?? `postgres://postgres:eseal-local@127.0.0.1:${config.runtime.postgresPort}/eseal`;
  const db = createDb(url, { min: 0, max: 3 });
  const hsm = await openToken(config, 'web'); // M4: the personal-data KEK is in the web token
  try {
    const started = Date.now();
    const counts = await backfillPersonalData(db, hsm);
    for (const c of counts) {
      console.log(`${`${c.table}.${c.column}`.padEnd(32)} encrypted from clear ${c.fromClear}, re-encrypted from pd1 ${c.fromV1}, already current ${c.current}${c.refused ? `, REFUSED ${c.refused}` : ''}`);
    }
    const files = await backfillMaterialFiles(db, hsm, blobStoreFromConfig(config));
    console.log(`${'material files'.padEnd(32)} rewritten ${files.rewritten} (old files removed ${files.removed})${files.refused ? `, REFUSED ${files.refused}` : ''}`);
    const sum = (k: 'fromClear' | 'fromV1' | 'refused') => counts.reduce((n, c) => n + c[k], 0);
    console.log(`personal-data:encrypt done in ${((Date.now() - started) / 1000).toFixed(2)} s — ${sum('fromClear')} values from clear, ${sum('fromV1')} from pd1, ${files.rewritten} files; ${sum('refused') + files.refused} refused`);
    return sum('refused') + files.refused > 0 ? 1 : 0;
  } finally {
    await hsm.close();
    await db.destroy();
  }
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(`personal-data:encrypt could not run: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(2);
  },
);
