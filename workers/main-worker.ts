// Worker for the main task queue: every workflow, and activities that touch only PostgreSQL.
import '../infra/observability/register-tracing'; // first: before http, pg and express are loaded
import { Worker } from '@temporalio/worker';
import { createDbActivities } from '../activities';
import { activityInterceptors } from '../activities/failure-interceptor';
import { logContextInterceptors } from '../activities/log-context';
import { logger } from '../infra/observability/logger';
import { WORKFLOW_INTERCEPTOR_MODULES } from './workflow-interceptors';
import { connectWorkerContext, type WorkerContext } from './connect';
import { tracingActivityInterceptors, workflowSpanSinks } from './telemetry';
import { tracing } from '../infra/observability/tracing';
import { loadConfig } from '../infra/config';
import { ensureRegistrationInboxSchedule } from '../usecases/registration-exchange';
import { ensureForeignCrlSchedule } from '../usecases/foreign-crl-schedule';

/**
 * `workflowBundlePath`: the workflows bundled once by the supervisor (scripts/back-office.ts), so a restarted
 * worker polls again in seconds instead of bundling them again (tens of seconds on a busy machine).
 */
export async function createMainWorker(ctx: WorkerContext, opts: { workflowBundlePath?: string } = {}): Promise<Worker> {
  return Worker.create({
    connection: ctx.connection,
    namespace: ctx.config.temporal.namespace,
    taskQueue: ctx.config.temporal.taskQueues.main,
    ...(opts.workflowBundlePath ? { workflowBundle: { codePath: opts.workflowBundlePath } } : { workflowsPath: require.resolve('../workflows') }),
    activities: createDbActivities({ db: ctx.db, pdf: ctx.pdf, config: ctx.config }),
    // Lines carry the request, workflow and case; domain errors are not retried; long activities heartbeat.
    // Each activity in a span of its workflow's trace, workflow spans exported through the sink (workers/telemetry.ts).
    // (A bundle carries its workflow interceptors already: writeWorkflowBundle bundles them in.)
    interceptors: {
      activity: [tracingActivityInterceptors, logContextInterceptors, activityInterceptors],
      ...(opts.workflowBundlePath ? {} : { workflowModules: WORKFLOW_INTERCEPTOR_MODULES }),
    },
    sinks: workflowSpanSinks(),
    // A task for a workflow cached on a worker that died waits this long on its sticky queue before any worker
    // may take it (default 10 s); a live worker takes it in milliseconds.
    stickyQueueScheduleToStartTimeout: '3 seconds',
  });
}

if (require.main === module) {
  void (async () => {
    const ctx = await connectWorkerContext(loadConfig({ ...process.env, HSM_TOKENS: '' })); // M4: no token, no PIN
    try {
      // Worker.run() returns after SIGINT/SIGTERM once in-flight tasks have finished (graceful shutdown).
      await ensureRegistrationInboxSchedule(ctx.connection, ctx.config); // A3: the registration authority's inbox folder, scanned on a schedule
      await ensureForeignCrlSchedule(ctx.connection, ctx.config); // I2: the listed platforms' CRLs fetched again on a schedule
      const worker = await createMainWorker(ctx, { workflowBundlePath: process.env.ESEAL_WORKFLOW_BUNDLE });
      process.send?.('ready'); // to a supervisor that started this process (scripts/back-office.ts)
      await worker.run();
    } finally {
      await ctx.close();
      await tracing().shutdown(); // the spans not yet sent
    }
  })().catch((e) => {
    logger.fatal({ err: e }, 'main worker stopped');
    process.exit(1);
  });
}
