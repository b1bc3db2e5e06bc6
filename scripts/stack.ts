// Brings up the real services on this machine, in order, and knows how to stop them:
// PostgreSQL and Temporal (in parallel), migrations and reference data, the SoftHSM token and the
// platform's PKI. Used by `make up` (scripts/up.ts) and `make test` (scripts/with-stack.ts).
import { suiteHasGm, TOKEN_ENV, type Config } from '../infra/config';
import { provisionSm2Pki } from '../infra/gm/sm2-pki';
import { createDb, migrateToLatest } from '../infra/db';
import { ensureApplicationRole } from '../infra/db-roles';
import { ensureSoftHsmToken } from '../infra/hsm/softhsm-token';
import { Hsm } from '../infra/hsm/hsm';
import { heldToken, rootTokenSettings } from '../infra/hsm/tokens';
import { provisionPlatformPki } from '../infra/pki/platform';
import { ROOT_CA_KEY_LABEL } from '../infra/pki/ca';
import { movePersonalDataKeys } from '../infra/crypto/kek-move';
import { ensureAuditSigningCertificate } from '../infra/audit/heads';
import { ensureSealKeyWrapping } from '../infra/pki/seal-key-wrapping';
import { encryptLegacyPersonalData } from '../infra/crypto/backfill';
import { blobStoreFromConfig } from '../infra/blobs';
import { upsertReferenceData } from '../infra/reference-data';
import { startPostgres } from '../infra/services/postgres';
import { startTemporal } from '../infra/services/temporal-dev-server';
import { startMailpit } from '../infra/services/mailpit';
import type { Supervisor } from '../infra/services/supervisor';

/** The migrations after which stored personal data may still be in clear or in an older format (P1). */
const PERSONAL_DATA_MIGRATIONS = new Set(['20261128040000_personal_data_at_rest.ts', '20261128090000_personal_data_bound.ts']);

export interface Stack {
  /** The application role's connection (M5: only SELECT and INSERT on record tables). */
  databaseUrl: string;
  /** The owner's connection: migrations only, and tests that check what even the owner cannot do. */
  ownerDatabaseUrl: string;
  temporalUiUrl?: string;
  /** mailpit's web UI (the e-mails messages sent), when this stack started it. */
  mailUiUrl?: string;
  /** Environment for child processes (workers, web, tests) so they find the same services. */
  env: Record<string, string>;
  /**
   * Hands the servers this stack started (embedded PostgreSQL, the Temporal dev server) to a supervisor,
   * which restarts them if they die; it stops them from then on (scripts/up.ts, scripts/chaos.ts).
   */
  supervise(supervisor: Supervisor): Promise<void>;
  /** Signals the servers this stack started to stop, synchronously (see scripts/up.ts). */
  signalStop(): void;
  stop(): Promise<void>;
}

/**
 * M4: the environment of one of the platform's processes: its own tokens (HSM_TOKENS) and only their PINs.
 * The root token's settings go to none of them; the web gets only the web token's, the main worker none.
 */
export function processEnv(env: NodeJS.ProcessEnv, role: 'web' | 'hsm-worker' | 'main-worker'): NodeJS.ProcessEnv {
  const out = { ...env };
  const held = { web: ['web'], 'hsm-worker': ['issuing', 'web'], 'main-worker': [] as string[] }[role];
  for (const [token, names] of Object.entries(TOKEN_ENV)) {
    if (!held.includes(token)) for (const v of [names.pin, names.soPin]) delete out[v];
  }
  out.HSM_TOKENS = held.join(',');
  return out;
}

export async function provisionStack(config: Config, log: (m: string) => void): Promise<Stack> {
  const started = Date.now();
  const [pgResult, temporalResult, mailResult] = await Promise.allSettled([startPostgres(config, log), startTemporal(config, log), startMailpit(config, log)]);
  const stopStarted = async () => {
    if (mailResult.status === 'fulfilled') await mailResult.value.stop();
    if (temporalResult.status === 'fulfilled') await temporalResult.value.stop();
    if (pgResult.status === 'fulfilled') await pgResult.value.stop();
  };
  const failed = [pgResult, temporalResult, mailResult].find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await stopStarted();
    throw failed.reason;
  }
  const mail = (mailResult as PromiseFulfilledResult<Awaited<ReturnType<typeof startMailpit>>>).value;
  const pg = (pgResult as PromiseFulfilledResult<Awaited<ReturnType<typeof startPostgres>>>).value;
  const temporal = (temporalResult as PromiseFulfilledResult<Awaited<ReturnType<typeof startTemporal>>>).value;
  try {
    const db = createDb(pg.ownerUrl);
    try {
      const applied = await migrateToLatest(db);
      log(`PostgreSQL: ${applied.length ? `applied migrations ${applied.join(', ')}` : 'schema up to date'}`);
      await ensureApplicationRole(db, pg.appRole);
      await upsertReferenceData(db);

      const { runtime } = config;
      // M4: one token per role. The provisioner (this privileged step, before any process starts) opens each
      // for its own step: the root token only when the CA certificates must be made.
      const issuingToken = heldToken(config, 'issuing');
      const webToken = heldToken(config, 'web');
      const rootToken = rootTokenSettings(config);
      let token = { confPath: '', modulePath: runtime.pkcs11Module };
      // All three exist before the module is initialised here: SoftHSM sees only tokens present at C_Initialize.
      for (const t of [issuingToken, webToken, rootToken]) {
        token = await ensureSoftHsmToken({ dataDir: runtime.dataDir, label: t.label, soPin: t.soPin, userPin: t.pin, modulePath: runtime.pkcs11Module });
      }
      const open = (t: { label: string; pin: string }) => Hsm.open({ modulePath: token.modulePath, tokenLabel: t.label, pin: t.pin });
      const hsm = await open(issuingToken);
      const web = await open(webToken).catch(async (e) => {
        await hsm.close();
        throw e;
      });
      let root: Promise<Hsm> | undefined;
      try {
        const pki = await provisionPlatformPki({ issuing: hsm, web, root: () => (root ??= open(rootToken)) }, db, runtime.dataDir, { crlNextUpdateHours: config.pki.crlNextUpdateHours });
        // Issue 13: the SM2 chain beside the ECDSA one (its root key wrapped under the root token's SM2 wrapping key).
        if (suiteHasGm(config)) {
          const sm2 = await provisionSm2Pki({ issuing: hsm, web, root: () => (root ??= open(rootToken)) }, db, { crlNextUpdateHours: config.pki.crlNextUpdateHours });
          if (sm2.created.root || sm2.created.issuing) log(`issue 13: SM2 root and issuing CA made (pki.algorithmSuite ${config.pki.algorithmSuite}); served at /pki/sm2/`);
        }
        if (root) log(`M4: root token "${rootToken.label}" opened to make the CA certificates (${pki.dir}); the running system never opens it`);
        await ensureAuditSigningCertificate(hsm, runtime.dataDir); // M6: the key that signs the audit chain's heads
        // P1, M4: the KEK of personal data lives in the web token; keys of a single-token install are moved to it.
        const moved = await movePersonalDataKeys(db, hsm, web);
        if (moved.moved > 0 || moved.legacyKekDestroyed) log(`M4: ${moved.moved} personal-data keys moved to the web token's KEK; old KEK destroyed: ${moved.legacyKekDestroyed}`);
        // M4: the seal wrapping key with its unwrap template; seal keys of an older token are moved under it.
        const wrapping = await ensureSealKeyWrapping(hsm, db);
        if (wrapping.rewrapped > 0 || wrapping.legacyKeyDestroyed) log(`M4: ${wrapping.rewrapped} seal keys re-wrapped under the key with an unwrap template; old wrapping key destroyed: ${wrapping.legacyKeyDestroyed}`);
        // Values in clear or an older format can only predate the personal-data migrations: rewrite them when a start
        // applies one (an upgrade), not on every start, where it would scan every personal-data column for nothing.
        if (applied.some((m) => PERSONAL_DATA_MIGRATIONS.has(m))) {
          const encrypted = await encryptLegacyPersonalData(db, web, blobStoreFromConfig(config));
          if (encrypted > 0) log(`P1: brought ${encrypted} personal-data values and files stored in clear or an older format to the current one`);
        }
        if (await hsm.hasPrivateKey(ROOT_CA_KEY_LABEL)) {
          log(`M4 WARNING: the issuing token "${issuingToken.label}" still holds the root CA key of a single-token install (see README, "HSM tokens"): HSM workers could sign as the root`);
        }
        log(`HSM: tokens "${issuingToken.label}" (issuing), "${webToken.label}" (web), "${rootToken.label}" (root, offline) (${token.confPath}); CA chain in ${pki.dir}`);
      } finally {
        await Promise.all([hsm.close(), web.close(), root?.then((r) => r.close(), () => undefined)]);
      }
      log(`services ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      return {
        databaseUrl: pg.url,
        ownerDatabaseUrl: pg.ownerUrl,
        temporalUiUrl: temporal.uiUrl,
        mailUiUrl: mail.uiUrl,
        env: {
          DATABASE_URL: pg.url,
          SOFTHSM2_CONF: token.confPath,
          PKCS11_MODULE: token.modulePath,
          DATA_DIR: runtime.dataDir,
          ESEAL_TEMPORAL_ADDRESS: config.temporal.address,
          ESEAL_TEMPORAL_NAMESPACE: config.temporal.namespace,
          ESEAL_NOTIFY_SMTP_HOST: config.notify.smtp.host,
          ESEAL_NOTIFY_SMTP_PORT: String(config.notify.smtp.port),
          ESEAL_NOTIFY_MAILPIT_UI_PORT: String(config.notify.mailpit.uiPort),
        },
        async supervise(supervisor) {
          if (pg.process && pg.relaunch) await supervisor.add('PostgreSQL', pg.relaunch, { running: pg.process, stopSignal: 'SIGINT' });
          if (temporal.process && temporal.relaunch) await supervisor.add('Temporal dev server', temporal.relaunch, { running: temporal.process });
          if (mail.process && mail.relaunch) await supervisor.add('mailpit', mail.relaunch, { running: mail.process });
        },
        signalStop: () => {
          temporal.signalStop();
          mail.signalStop();
        },
        stop: stopStarted,
      };
    } finally {
      await db.destroy();
    }
  } catch (e) {
    await stopStarted();
    throw e;
  }
}
