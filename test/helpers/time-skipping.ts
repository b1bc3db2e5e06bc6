// Time-skipping Temporal test environment backed by the Java test server from Maven Central
// (io.temporal:temporal-test-server, see tools/temporal-test-server/pom.xml). The SDK's default
// `cached-download` executable cannot be fetched on these machines, so the environment is always
// started from the wrapper that scripts/ensure-temporal-test-server.sh writes.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode } from '@temporalio/worker';
import { loadConfig } from '../../infra/config';

const ROOT = path.resolve(__dirname, '..', '..');
const ENSURE_SCRIPT = path.join(ROOT, 'scripts', 'ensure-temporal-test-server.sh');
export const TEMPORAL_TEST_SERVER_WRAPPER = path.join(ROOT, '.tools', 'temporal-test-server', 'temporal-test-server');

/**
 * Path of the test-server executable. Runs the ensure script (a few ms when nothing changed,
 * a few seconds of Maven resolution on a fresh machine), so a pom version bump is picked up too.
 * TEMPORAL_TEST_SERVER_PATH overrides it with an executable of your own.
 */
export function temporalTestServerPath(): string {
  const override = process.env.TEMPORAL_TEST_SERVER_PATH;
  if (override) {
    if (!existsSync(override)) throw new Error(`TEMPORAL_TEST_SERVER_PATH=${override} does not exist`);
    return override;
  }
  let printed: string;
  try {
    printed = execFileSync('bash', [ENSURE_SCRIPT], {
      cwd: ROOT,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 10 * 60_000,
    }).trim();
  } catch (err) {
    const e = err as { stderr?: string | Buffer; message: string };
    const stderr = e.stderr ? String(e.stderr).trim() : '';
    throw new Error(
      `Could not prepare Temporal's Java time-skipping test server with ${path.relative(ROOT, ENSURE_SCRIPT)} ` +
        `(needs java 17+ and mvn on PATH, and Maven Central reachable on first run): ${e.message}` +
        (stderr ? `\n${stderr}` : ''),
    );
  }
  const wrapper = printed.split('\n').pop() ?? '';
  if (!wrapper || !existsSync(wrapper)) {
    throw new Error(
      `${path.relative(ROOT, ENSURE_SCRIPT)} did not produce the test-server wrapper (expected ${TEMPORAL_TEST_SERVER_WRAPPER}, got "${printed}")`,
    );
  }
  return wrapper;
}

/**
 * Starts a time-skipping TestWorkflowEnvironment on the Java test server. Call `env.teardown()`
 * when done (it kills the server). Time skipping is locked until the client awaits a workflow
 * result or the test calls env.sleep(): see TimeSkippingWorkflowClient in @temporalio/testing.
 */
export async function createTimeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  const wrapper = temporalTestServerPath();
  const env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: wrapper } },
  });
  await registerSearchAttributes(env);
  return env;
}

/**
 * The Java test server knows only its built-in search attributes and refuses the workflows' upserts of
 * CaseStatus & co. until the attributes of temporal.yaml are registered, as the dev server gets them at start-up.
 */
async function registerSearchAttributes(env: TestWorkflowEnvironment) {
  type Request = Parameters<typeof env.connection.operatorService.addSearchAttributes>[0];
  type IndexedValueType = NonNullable<Request['searchAttributes']>[string];
  const indexed: Record<string, number> = { Text: 1, Keyword: 2, Int: 3, Double: 4, Bool: 5, Datetime: 6, KeywordList: 7 };
  const { temporal } = loadConfig({ ...process.env });
  const searchAttributes = Object.fromEntries(
    Object.entries(temporal.searchAttributes).map(([name, type]) => [name, indexed[type] as unknown as IndexedValueType]),
  );
  await env.connection.operatorService.addSearchAttributes({ namespace: env.namespace ?? 'default', searchAttributes });
}

/** The workflow bundle for a time-skipping test, without webpack's progress chatter in the test output. */
export function bundleWorkflowsQuietly(workflowsPath: string) {
  const quiet = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} };
  return bundleWorkflowCode({ workflowsPath, logger: quiet });
}
