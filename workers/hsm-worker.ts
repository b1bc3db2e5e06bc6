// Worker for the HSM task queue: the processes that hold the issuing token (issuing CA, platform keys, seal
// keys), and the web token for the personal data some of their activities read (M4: never the root token).
import '../infra/observability/register-tracing'; // first: before http, pg and express are loaded
import { Worker } from '@temporalio/worker';
import { createHsmActivities } from '../activities';
import { openWorkerTokens, type WorkerTokens } from '../infra/hsm/tokens';
import { pkiBaseUrl } from '../infra/config';
import { loadPlatformSigningKey } from '../infra/pki/platform';
import { activityInterceptors } from '../activities/failure-interceptor';
import { logContextInterceptors } from '../activities/log-context';
import { logger } from '../infra/observability/logger';
import { connectWorkerContext, type WorkerContext } from './connect';
import { tracingActivityInterceptors } from './telemetry';
import { tracing } from '../infra/observability/tracing';
import { startAuditHeadSigning } from '../usecases/audit-head-signing';
import { assertSealKeyWrapping } from '../infra/pki/seal-key-wrapping';
import { ensureCrlSchedule } from '../usecases/crl-schedule';

export async function createHsmWorker(ctx: WorkerContext, tokens: Pick<WorkerTokens, 'issuing' | 'web'>): Promise<Worker> {
  const hsm = tokens.issuing;
  const platformKey = await loadPlatformSigningKey(ctx.db);
  await assertSealKeyWrapping(hsm, ctx.db); // M4: no seal key under a wrapping key that lets it out
  return Worker.create({
    connection: ctx.connection,
    namespace: ctx.config.temporal.namespace,
    taskQueue: ctx.config.temporal.taskQueues.hsm,
    activities: createHsmActivities({
      hsm,
      personalDataHsm: tokens.web,
      db: ctx.db,
      platformKey,
      policy: { validityYears: ctx.config.pki.sealCertificateValidityYears, pkiBaseUrl: pkiBaseUrl(ctx.config), policyOid: ctx.config.pki.sealCertificatePolicyOid, algorithmSuite: ctx.config.pki.algorithmSuite },
      crlNextUpdateHours: ctx.config.pki.crlNextUpdateHours,
      tsa: { policyOid: ctx.config.pki.tsaPolicyOid, url: ctx.config.pki.tsaUrl },
    }),
    // Lines carry the request, workflow and case; domain errors are not retried; long activities heartbeat.
    interceptors: { activity: [tracingActivityInterceptors, logContextInterceptors, activityInterceptors] },
  });
}

/** The issuing token and the web token (personal data), from this process's configuration. */
export function openHsm(ctx: WorkerContext): Promise<WorkerTokens> {
  return openWorkerTokens(ctx.config);
}

if (require.main === module) {
  void (async () => {
    const ctx = await connectWorkerContext();
    const tokens = await openHsm(ctx);
    try {
      await startAuditHeadSigning(ctx.connection, ctx.config); // M6: the audit chain's head is signed here, in the HSM
      await ensureCrlSchedule(ctx.connection, ctx.config); // M13: CRLs issued here on a schedule, served by the web from PostgreSQL
      const worker = await createHsmWorker(ctx, tokens);
      process.send?.('ready'); // to a supervisor that started this process (scripts/back-office.ts)
      await worker.run();
    } finally {
      await tokens.close();
      await ctx.close();
      await tracing().shutdown(); // the spans not yet sent
    }
  })().catch((e) => {
    logger.fatal({ err: e }, 'HSM worker stopped');
    process.exit(1);
  });
}
