// Worker for the main task queue: every workflow, and activities that touch only PostgreSQL.
import { Worker } from '@temporalio/worker';
import { createDbActivities } from '../activities';
import { activityInterceptors } from '../activities/failure-interceptor';
import { connectWorkerContext, type WorkerContext } from './connect';

export async function createMainWorker(ctx: WorkerContext): Promise<Worker> {
  return Worker.create({
    connection: ctx.connection,
    namespace: ctx.config.temporal.namespace,
    taskQueue: ctx.config.temporal.taskQueues.main,
    workflowsPath: require.resolve('../workflows'),
    activities: createDbActivities({ db: ctx.db, pdf: ctx.pdf }),
    interceptors: { activity: [activityInterceptors] }, // domain errors are not retried; long activities heartbeat
  });
}

if (require.main === module) {
  void (async () => {
    const ctx = await connectWorkerContext();
    try {
      // Worker.run() returns after SIGINT/SIGTERM once in-flight tasks have finished (graceful shutdown).
      await (await createMainWorker(ctx)).run();
    } finally {
      await ctx.close();
    }
  })().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
