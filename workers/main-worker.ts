// Worker for the main task queue: every workflow, and activities that touch only PostgreSQL.
import { Worker } from '@temporalio/worker';
import { createDbActivities } from '../activities';
import { activityInterceptors } from '../activities/failure-interceptor';
import { connectWorkerContext, type WorkerContext } from './connect';

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
    interceptors: { activity: [activityInterceptors] }, // domain errors are not retried; long activities heartbeat
    // A task for a workflow cached on a worker that died waits this long on its sticky queue before any worker
    // may take it (default 10 s); a live worker takes it in milliseconds.
    stickyQueueScheduleToStartTimeout: '3 seconds',
  });
}

if (require.main === module) {
  void (async () => {
    const ctx = await connectWorkerContext();
    try {
      // Worker.run() returns after SIGINT/SIGTERM once in-flight tasks have finished (graceful shutdown).
      const worker = await createMainWorker(ctx, { workflowBundlePath: process.env.ESEAL_WORKFLOW_BUNDLE });
      process.send?.('ready'); // to a supervisor that started this process (scripts/back-office.ts)
      await worker.run();
    } finally {
      await ctx.close();
    }
  })().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
