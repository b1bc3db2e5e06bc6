// `npm run hsm:rewrap-seal-keys` — M4 for a deployment not started by `make up` (which does the same at
// start-up): ensures the seal wrapping key with its unwrap template, re-wraps every seal key still under the
// wrapping key of earlier versions inside the HSM, then destroys that key. Idempotent.
// Needs DATABASE_URL and the settings of the issuing token (PKCS11_MODULE, HSM_TOKEN_LABEL, HSM_PIN).
import { loadConfig } from '../infra/config';
import { createDb } from '../infra/db';
import { openToken } from '../infra/hsm/tokens';
import { ensureSealKeyWrapping } from '../infra/pki/seal-key-wrapping';

async function main(): Promise<void> {
  const config = loadConfig();
  const url = config.runtime.databaseUrl ?? `postgres://postgres:eseal-local@127.0.0.1:${config.runtime.postgresPort}/eseal`;
  const db = createDb(url, { min: 0, max: 2 });
  const hsm = await openToken(config, 'issuing');
  try {
    const r = await ensureSealKeyWrapping(hsm, db);
    console.log(`seal wrapping key ${r.created ? 'created' : 'present'}; ${r.rewrapped} seal keys re-wrapped; old wrapping key destroyed: ${r.legacyKeyDestroyed}`);
  } finally {
    await hsm.close();
    await db.destroy();
  }
}

main().catch((e) => {
  console.error(`hsm:rewrap-seal-keys could not run: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(2);
});
