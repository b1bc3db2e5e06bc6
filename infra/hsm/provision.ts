// Provisions the local SoftHSM token and the platform CA (keys in the HSM, certificates under DATA_DIR/pki)
// and prints what it found or made. Idempotent. Usage: npx tsx infra/hsm/provision.ts
// Reads DATA_DIR, HSM_TOKEN_LABEL, HSM_PIN, HSM_SO_PIN, PKCS11_MODULE through infra/config.
import { loadConfig } from '../config';
import { ensurePlatformCa } from '../pki/ca';
import { Hsm } from './hsm';
import { ensureSoftHsmToken } from './softhsm-token';

async function main(): Promise<void> {
  const { runtime } = loadConfig();
  const t0 = performance.now();
  const token = await ensureSoftHsmToken({
    dataDir: runtime.dataDir,
    label: runtime.hsmTokenLabel,
    soPin: runtime.hsmSoPin,
    userPin: runtime.hsmPin,
    modulePath: runtime.pkcs11Module,
  });
  const t1 = performance.now();
  const hsm = await Hsm.open({ modulePath: token.modulePath, tokenLabel: runtime.hsmTokenLabel, pin: runtime.hsmPin });
  try {
    const ca = await ensurePlatformCa(hsm, { dataDir: runtime.dataDir });
    const t2 = performance.now();
    const status = await hsm.status(ca.issuing.keyLabel);
    console.log(
      JSON.stringify(
        {
          softhsmConf: token.confPath,
          module: token.modulePath,
          token: runtime.hsmTokenLabel,
          root: { ...ca.root, created: ca.created.root },
          issuing: { ...ca.issuing, created: ca.created.issuing },
          status,
          ms: { token: Math.round(t1 - t0), openAndCa: Math.round(t2 - t1) },
        },
        null,
        2,
      ),
    );
  } finally {
    await hsm.close();
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
