// The workflows bundled once (webpack, seconds of CPU) for every main worker started from them: by the
// supervisor of `make up` before it starts its workers, and by the test stack before jest starts (each test
// file's in-process worker would otherwise bundle them again).
import { writeFileSync } from 'node:fs';
import { bundleWorkflowCode } from '@temporalio/worker';
import { WORKFLOW_INTERCEPTOR_MODULES } from './workflow-interceptors';

const noop = () => undefined;
const quietLogger = { log: noop, trace: noop, debug: noop, info: noop, warn: noop, error: (m: string) => console.error(m) };

/** Writes the bundle to `file`, for `createMainWorker(ctx, { workflowBundlePath: file })`. */
export async function writeWorkflowBundle(file: string): Promise<void> {
  const { code } = await bundleWorkflowCode({ workflowsPath: require.resolve('../workflows'), workflowInterceptorModules: WORKFLOW_INTERCEPTOR_MODULES, logger: quietLogger });
  writeFileSync(file, code);
}
