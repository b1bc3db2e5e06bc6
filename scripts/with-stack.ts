// Runs a command (the test runner) against freshly provisioned real services with their own ports
// and data folder (data-test/), so tests can run beside a `make up` instance; then stops them.
//   tsx scripts/with-stack.ts -- jest --runInBand
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../infra/config';
import { provisionStack } from './stack';

const TEST_ENV: Record<string, string> = {
  DATA_DIR: 'data-test',
  POSTGRES_PORT: '5533',
  WEB_PORT: '3100',
  ESEAL_TEMPORAL_ADDRESS: '127.0.0.1:7333',
  ESEAL_TEMPORAL_DEV_SERVER_PORT: '7333',
  ESEAL_TEMPORAL_DEV_SERVER_UI_PORT: '8333',
  ESEAL_TEMPORAL_NAMESPACE: 'eseal-test',
  ESEAL_NOTIFY_SMTP_PORT: '1125',
  ESEAL_NOTIFY_MAILPIT_UI_PORT: '8125',
};

const log = (m: string) => console.log(`\x1b[1;35m[stack]\x1b[0m ${m}`);

async function main() {
  const sep = process.argv.indexOf('--');
  const command = sep >= 0 ? process.argv.slice(sep + 1) : [];
  if (command.length === 0) throw new Error('usage: tsx scripts/with-stack.ts -- <command> [args…]');

  for (const [k, v] of Object.entries(TEST_ENV)) process.env[k] ??= v;
  const config = loadConfig();
  // Every run starts from nothing, so a test never depends on what an earlier run left behind.
  if (!config.runtime.databaseUrl && !config.runtime.databaseOwnerUrl) rmSync(path.resolve(config.runtime.dataDir), { recursive: true, force: true });
  const stack = await provisionStack(config, log);
  let code = 1;
  try {
    // Tests also get the owner's URL, to show that even the owner cannot change records (M5); workers never do.
    const env = { ...process.env, ...stack.env, DATABASE_OWNER_URL: stack.ownerDatabaseUrl };
    const child = spawn(command[0], command.slice(1), { env, stdio: 'inherit' });
    const forward = (s: NodeJS.Signals) => child.kill(s);
    process.on('SIGINT', forward);
    process.on('SIGTERM', forward);
    code = await new Promise<number>((resolve) => child.on('exit', (c, s) => resolve(c ?? (s ? 1 : 0))));
  } finally {
    await stack.stop();
  }
  process.exit(code);
}

main().catch((e) => {
  console.error(e instanceof Error ? e.stack : e);
  process.exit(1);
});
