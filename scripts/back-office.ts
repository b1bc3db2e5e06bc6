// What `make up` runs, supervised: PostgreSQL and Temporal (provisioned by scripts/stack.ts), the main and
// HSM workers and the web server, each restarted (and logged) if it dies. Shared by scripts/up.ts and
// scripts/chaos.ts, which kills them on purpose to check that nothing is lost.
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../infra/config';
import { createDb } from '../infra/db';
import { Supervisor } from '../infra/services/supervisor';
import { seedDemoData, type DemoLogin } from './seed-demo';
import { processEnv, provisionStack, type Stack } from './stack';
import { writeWorkflowBundle } from '../workers/workflow-bundle';

export const PROCESSES = { main: 'main worker', hsm: 'HSM worker', web: 'web' } as const;

export interface BackOffice {
  stack: Stack;
  supervisor: Supervisor;
  logins: DemoLogin[];
  webUrl: string;
  /** Synchronously asks every process to stop (see scripts/up.ts). */
  signalStop(): void;
  /** Stops web and workers, then Temporal and PostgreSQL. */
  stop(): Promise<void>;
}

/**
 * Node processes (workers, web). A worker is ready when it says so (its workflows bundled, about to poll);
 * the web once spawned. Their output goes to the terminal, or to `logFile`.
 */
function nodeProcess(config: Config, env: NodeJS.ProcessEnv, file: string, opts: { logFile?: string; saysReady: boolean }) {
  return () =>
    new Promise<ChildProcess>((resolve, reject) => {
      const out = opts.logFile ? openSync(opts.logFile, 'a') : 'inherit';
      const child = spawn(process.execPath, ['--import', 'tsx', path.join(config.rootDir, file)], { env, stdio: ['ignore', out, out, 'ipc'] });
      if (opts.saysReady) child.on('message', (m) => m === 'ready' && resolve(child));
      else child.once('spawn', () => resolve(child));
      child.once('error', reject);
      child.once('exit', (code, signal) => reject(new Error(`${file} exited (${signal ?? code}) before it was ready`)));
    });
}

/** `workers`: how many main and HSM worker processes (default 1 of each; bench:scale runs 2, named "… 2"). */
export async function startBackOffice(config: Config, log: (m: string) => void, opts: { logFile?: string; workers?: number } = {}): Promise<BackOffice> {
  const stack = await provisionStack(config, log);
  const supervisor = new Supervisor(log);
  try {
    await stack.supervise(supervisor);
    const env: NodeJS.ProcessEnv = { ...process.env, ...stack.env };
    delete env.DATABASE_OWNER_URL; // workers and web run as the application role only (M5, P1)

    const db = createDb(stack.databaseUrl);
    const logins = await seedDemoData(db, config.runtime.dataDir).finally(() => db.destroy());

    // The workflows are bundled once here, for every start of the main worker (a restart then takes seconds).
    const bundlePath = path.join(path.resolve(config.rootDir, config.runtime.dataDir), 'workflow-bundle.js');
    await writeWorkflowBundle(bundlePath);
    env.ESEAL_WORKFLOW_BUNDLE = bundlePath;
    // M4: each process gets the PINs of its own tokens only (the root token's to none).
    for (let i = 1; i <= (opts.workers ?? 1); i++) {
      const n = i === 1 ? '' : ` ${i}`;
      await supervisor.add(PROCESSES.main + n, nodeProcess(config, processEnv(env, 'main-worker'), 'workers/main-worker.ts', { logFile: opts.logFile, saysReady: true }));
      await supervisor.add(PROCESSES.hsm + n, nodeProcess(config, processEnv(env, 'hsm-worker'), 'workers/hsm-worker.ts', { logFile: opts.logFile, saysReady: true }));
    }
    await supervisor.add(PROCESSES.web, nodeProcess(config, processEnv(env, 'web'), 'web/server.ts', { logFile: opts.logFile, saysReady: false }));
    return {
      stack,
      supervisor,
      logins,
      webUrl: `http://127.0.0.1:${config.runtime.webPort}`,
      signalStop: () => supervisor.signalStop(),
      stop: () => supervisor.stop(),
    };
  } catch (e) {
    supervisor.signalStop();
    await supervisor.stop(5000);
    await stack.stop();
    throw e;
  }
}

export async function waitForReady(url: string, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url);
      last = await res.text();
      if (res.ok) return;
    } catch (e) {
      last = String(e);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`not ready after ${timeoutMs / 1000} s: ${last}`);
}
