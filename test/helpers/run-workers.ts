// Runs a test body while in-process Temporal workers poll, and guarantees the workers are gone afterwards,
// even when the body hangs. Worker.runUntil alone waits for the body for ever: when jest then gives up on the
// test, the workers keep polling, the suite's afterAll stops their server, and they retry against a closed
// port until CI's limit (this is how one CI run hung for 90 minutes). Here the body races a deadline shorter
// than the test's own timeout, so a hang fails the test with a message and the workers are shut down.
import type { Worker } from '@temporalio/worker';

/** The default body deadline: with the shutdown limit it stays inside jest's 120 s test timeout (jest.config.js). */
export const BODY_DEADLINE_MS = 80_000;
/** How long shutdown may take: in-flight activities are cancelled and most end at once. */
const SHUTDOWN_LIMIT_MS = 30_000;

export async function runWorkersUntil<R>(workers: Worker[], body: () => Promise<R>, opts: { deadlineMs: number } = { deadlineMs: BODY_DEADLINE_MS }): Promise<R> {
  const runs = workers.map((w) => w.run());
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the test body did not finish within ${opts.deadlineMs / 1000} s; its workers were stopped`)), opts.deadlineMs);
  });
  // A worker that ends (lost its server, fatal error) ends the body too: nothing would serve its tasks.
  const workerEnded = Promise.race(runs).then(() => Promise.reject(new Error('a worker stopped while the test body was running')));
  const outcome = await Promise.race([body(), deadline, workerEnded]).then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
  clearTimeout(timer);
  for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
  let limit: NodeJS.Timeout | undefined;
  const stopped = await Promise.race([
    Promise.allSettled(runs).then(() => true),
    new Promise<false>((resolve) => (limit = setTimeout(() => resolve(false), SHUTDOWN_LIMIT_MS))),
  ]);
  clearTimeout(limit);
  if (!stopped) throw new Error(`workers did not stop within ${SHUTDOWN_LIMIT_MS / 1000} s of shutdown (${workers.map((w) => w.getState()).join(', ')})`);
  if (!outcome.ok) throw outcome.error;
  return outcome.value;
}
