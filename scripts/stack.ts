// Brings up the real services on this machine, in order, and knows how to stop them:
// PostgreSQL and Temporal (in parallel), migrations and reference data, the SoftHSM token and the
// platform's PKI. Used by `make up` (scripts/up.ts) and `make test` (scripts/with-stack.ts).
import type { Config } from '../infra/config';
import { createDb, migrateToLatest } from '../infra/db';
import { ensureApplicationRole } from '../infra/db-roles';
import { ensureSoftHsmToken } from '../infra/hsm/softhsm-token';
import { Hsm } from '../infra/hsm/hsm';
import { provisionPlatformPki } from '../infra/pki/platform';
import { ensureAuditSigningCertificate } from '../infra/audit/heads';
import { ensureSealKeyWrapping } from '../infra/pki/seal-key-wrapping';
import { PERSONAL_DATA_KEK_LABEL } from '../infra/crypto/personal-data';
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
      const token = await ensureSoftHsmToken({
        dataDir: runtime.dataDir,
        label: runtime.hsmTokenLabel,
        soPin: runtime.hsmSoPin,
        userPin: runtime.hsmPin,
        modulePath: runtime.pkcs11Module,
      });
      const hsm = await Hsm.open({ modulePath: token.modulePath, tokenLabel: runtime.hsmTokenLabel, pin: runtime.hsmPin });
      try {
        const pki = await provisionPlatformPki(hsm, db, runtime.dataDir, { crlNextUpdateHours: config.pki.crlNextUpdateHours });
        await ensureAuditSigningCertificate(hsm, runtime.dataDir); // M6: the key that signs the audit chain's heads
        await hsm.ensureAesWrappingKey(PERSONAL_DATA_KEK_LABEL); // P1: wraps the keys of personal data at rest
        // M4: the seal wrapping key with its unwrap template; seal keys of an older token are moved under it.
        const wrapping = await ensureSealKeyWrapping(hsm, db);
        if (wrapping.rewrapped > 0 || wrapping.legacyKeyDestroyed) log(`M4: ${wrapping.rewrapped} seal keys re-wrapped under the key with an unwrap template; old wrapping key destroyed: ${wrapping.legacyKeyDestroyed}`);
        // Values in clear or an older format can only predate the personal-data migrations: rewrite them when a start
        // applies one (an upgrade), not on every start, where it would scan every personal-data column for nothing.
        if (applied.some((m) => PERSONAL_DATA_MIGRATIONS.has(m))) {
          const encrypted = await encryptLegacyPersonalData(db, hsm, blobStoreFromConfig(config));
          if (encrypted > 0) log(`P1: brought ${encrypted} personal-data values and files stored in clear or an older format to the current one`);
        }
        log(`HSM: token "${runtime.hsmTokenLabel}" (${token.confPath}); CA chain in ${pki.dir}`);
      } finally {
        await hsm.close();
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
