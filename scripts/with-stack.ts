// Runs a command (the test runner) against freshly provisioned real services with their own ports
// and data folder (data-test/), so tests can run beside a `make up` instance; then stops them.
//   tsx scripts/with-stack.ts [--stacks N] -- jest …
// `--stacks N` provisions N independent stacks (PostgreSQL, Temporal, mailpit, tokens; the second on ports 100
// higher and in data-test-2/, …) for jest's N workers: worker k uses stack k (test/helpers/stack-environment.js),
// so test files that run side by side share no database, namespace or token.
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../infra/config';
import { writeWorkflowBundle } from '../workers/workflow-bundle';
import { provisionStack, type Stack } from './stack';

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
const PORTS = ['POSTGRES_PORT', 'WEB_PORT', 'ESEAL_TEMPORAL_DEV_SERVER_PORT', 'ESEAL_TEMPORAL_DEV_SERVER_UI_PORT', 'ESEAL_NOTIFY_SMTP_PORT', 'ESEAL_NOTIFY_MAILPIT_UI_PORT'];

const log = (m: string) => console.log(`\x1b[1;35m[stack]\x1b[0m ${m}`);

/** The settings of stack k (1-based): the first as given, each further one on ports 100·(k−1) higher. */
function stackSettings(k: number): Record<string, string> {
  const base = Object.fromEntries(Object.keys(TEST_ENV).map((key) => [key, process.env[key] as string]));
  if (k === 1) return base;
  const shifted: Record<string, string> = { ...base, DATA_DIR: `${base.DATA_DIR}-${k}` };
  for (const key of PORTS) shifted[key] = String(Number(base[key]) + 100 * (k - 1));
  shifted.ESEAL_TEMPORAL_ADDRESS = `127.0.0.1:${shifted.ESEAL_TEMPORAL_DEV_SERVER_PORT}`;
  return shifted;
}

async function main() {
  const sep = process.argv.indexOf('--');
  const command = sep >= 0 ? process.argv.slice(sep + 1) : [];
  if (command.length === 0) throw new Error('usage: tsx scripts/with-stack.ts [--stacks N] -- <command> [args…]');
  const stacksArg = process.argv.indexOf('--stacks');
  const count = stacksArg >= 0 && stacksArg < sep ? Number(process.argv[stacksArg + 1]) : 1;
  if (!Number.isInteger(count) || count < 1 || count > 4) throw new Error('--stacks takes 1 to 4');

  for (const [k, v] of Object.entries(TEST_ENV)) process.env[k] ??= v;
  const settings = Array.from({ length: count }, (_, i) => stackSettings(i + 1));
  const configs = settings.map((s) => loadConfig({ ...process.env, ...s }));
  // Every run starts from nothing, so a test never depends on what an earlier run left behind.
  for (const config of configs) {
    if (!config.runtime.databaseUrl && !config.runtime.databaseOwnerUrl) rmSync(path.resolve(config.runtime.dataDir), { recursive: true, force: true });
  }
  if (count > 1 && (configs[0].runtime.databaseUrl || configs[0].runtime.databaseOwnerUrl)) throw new Error('--stacks N needs embedded PostgreSQL (no DATABASE_URL)');
  const stacks: Stack[] = [];
  let code = 1;
  try {
    // One after the other: SoftHSM reads SOFTHSM2_CONF (this process's environment) when the module is initialised.
    // Provisioning points SOFTHSM2_CONF at its stack's token folder; the next stack starts without it.
    const givenConf = process.env.SOFTHSM2_CONF;
    for (const [i, config] of configs.entries()) {
      if (i > 0) delete process.env.SOFTHSM2_CONF;
      stacks.push(await provisionStack(config, count > 1 ? (m) => log(`${i + 1}: ${m}`) : log));
    }
    if (givenConf !== undefined) process.env.SOFTHSM2_CONF = givenConf;
    // The workflows bundled once for every test file's in-process main worker (and the workers tests spawn).
    const bundle = path.resolve(configs[0].runtime.dataDir, 'workflow-bundle.js');
    await writeWorkflowBundle(bundle);
    // Tests also get the owner's URL, to show that even the owner cannot change records (M5); workers never do.
    const overlays = stacks.map((stack, i) => ({ ...settings[i], ...stack.env, DATABASE_OWNER_URL: stack.ownerDatabaseUrl }));
    const env = { ...process.env, ...overlays[0], ESEAL_WORKFLOW_BUNDLE: bundle, ESEAL_TEST_STACK_ENVS: JSON.stringify(overlays) };
    const child = spawn(command[0], command.slice(1), { env, stdio: 'inherit' });
    const forward = (s: NodeJS.Signals) => child.kill(s);
    process.on('SIGINT', forward);
    process.on('SIGTERM', forward);
    code = await new Promise<number>((resolve) => child.on('exit', (c, s) => resolve(c ?? (s ? 1 : 0))));
  } finally {
    await Promise.all(stacks.map((s) => s.stop()));
  }
  process.exit(code);
}

main().catch((e) => {
  console.error(e instanceof Error ? e.stack : e);
  process.exit(1);
});
