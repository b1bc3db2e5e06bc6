// Worker for the HSM task queue: the only processes that hold a PKCS#11 session.
import { Worker } from '@temporalio/worker';
import { createHsmActivities } from '../activities';
import { Hsm } from '../infra/hsm/hsm';
import { pkiBaseUrl } from '../infra/config';
import { loadPlatformSigningKey } from '../infra/pki/platform';
import { activityInterceptors } from '../activities/failure-interceptor';
import { connectWorkerContext, type WorkerContext } from './connect';
import { startAuditHeadSigning } from '../usecases/audit-head-signing';
import { assertSealKeyWrapping } from '../infra/pki/seal-key-wrapping';
import { ensureCrlSchedule } from '../usecases/crl-schedule';

export async function createHsmWorker(ctx: WorkerContext, hsm: Hsm): Promise<Worker> {
  const platformKey = await loadPlatformSigningKey(ctx.db);
  await assertSealKeyWrapping(hsm, ctx.db); // M4: no seal key under a wrapping key that lets it out
  return Worker.create({
    connection: ctx.connection,
    namespace: ctx.config.temporal.namespace,
    taskQueue: ctx.config.temporal.taskQueues.hsm,
    activities: createHsmActivities({
      hsm,
      db: ctx.db,
      platformKey,
      policy: { validityYears: ctx.config.pki.sealCertificateValidityYears, pkiBaseUrl: pkiBaseUrl(ctx.config), policyOid: ctx.config.pki.sealCertificatePolicyOid },
      crlNextUpdateHours: ctx.config.pki.crlNextUpdateHours,
    }),
    interceptors: { activity: [activityInterceptors] }, // domain errors are not retried; long activities heartbeat
  });
}

export function openHsm(ctx: WorkerContext): Promise<Hsm> {
  const { pkcs11Module, hsmTokenLabel, hsmPin } = ctx.config.runtime;
  return Hsm.open({ modulePath: pkcs11Module, tokenLabel: hsmTokenLabel, pin: hsmPin });
}

if (require.main === module) {
  void (async () => {
    const ctx = await connectWorkerContext();
    const hsm = await openHsm(ctx);
    try {
      await startAuditHeadSigning(ctx.connection, ctx.config); // M6: the audit chain's head is signed here, in the HSM
      await ensureCrlSchedule(ctx.connection, ctx.config); // M13: CRLs issued here on a schedule, served by the web from PostgreSQL
      const worker = await createHsmWorker(ctx, hsm);
      process.send?.('ready'); // to a supervisor that started this process (scripts/back-office.ts)
      await worker.run();
    } finally {
      await hsm.close();
      await ctx.close();
    }
  })().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
