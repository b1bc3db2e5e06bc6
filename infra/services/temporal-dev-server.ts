// The official Temporal CLI dev server, persistent in a SQLite file under the data folder.
// Started only when temporal.address points at this machine's dev-server port; any other address
// is taken to be an external cluster that someone else runs.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, openSync } from 'node:fs';
import { connect } from 'node:net';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import type { Config } from '../config';
import { temporalConnectionOptions } from '../temporal';

export interface RunningTemporal {
  address: string;
  uiUrl?: string;
  started: boolean;
  /** The dev server's process, and how to start it again on the same state (scripts/up.ts supervises it). */
  process?: ChildProcess;
  relaunch?: () => Promise<ChildProcess>;
  /** Asks the server to stop at once (synchronous, so it happens even if this process exits right after). */
  signalStop(): void;
  stop(): Promise<void>;
}

export function findTemporalCli(config: Config): string {
  if (config.runtime.temporalCli) return config.runtime.temporalCli;
  const local = path.join(config.rootDir, '.tools/bin/temporal');
  if (existsSync(local)) return local;
  const onPath = spawnSync('sh', ['-c', 'command -v temporal'], { encoding: 'utf8' }).stdout.trim();
  if (onPath) return onPath;
  throw new Error('No Temporal CLI: set TEMPORAL_CLI, put `temporal` on PATH, or run scripts/bootstrap.sh to build it.');
}

const isLocalDevAddress = (config: Config) => {
  const [host, port] = config.temporal.address.split(':');
  return ['127.0.0.1', 'localhost'].includes(host) && Number(port) === config.temporal.devServer.port;
};

/** The dev server's Web UI, opened on the project's namespace (its root shows the namespace `default`). */
export function temporalUiUrl(config: Config): string {
  return `http://127.0.0.1:${config.temporal.devServer.uiPort}/namespaces/${encodeURIComponent(config.temporal.namespace)}/workflows`;
}

export async function startTemporal(config: Config, log: (m: string) => void): Promise<RunningTemporal> {
  if (!isLocalDevAddress(config)) {
    log(`Temporal: using the cluster at ${config.temporal.address}, namespace ${config.temporal.namespace}`);
    await waitForNamespace(config, 30_000);
    return { address: config.temporal.address, started: false, signalStop: () => {}, stop: async () => {} };
  }
  const { port, uiPort, dbFile } = config.temporal.devServer;
  // Someone else's server on our port would answer our health check and take our workflows.
  for (const p of [port, uiPort]) {
    if (await portInUse(p)) throw new Error(`Temporal: port ${p} is already in use (another \`make up\` or test run?); stop it or choose other ports`);
  }
  const dbPath = path.resolve(config.rootDir, config.runtime.dataDir, path.relative('data', dbFile));
  mkdirSync(path.dirname(dbPath), { recursive: true });
  const args = [
    'server', 'start-dev',
    '--ip', '127.0.0.1',
    '--port', String(port),
    '--ui-port', String(uiPort),
    '--db-filename', dbPath,
    '--namespace', config.temporal.namespace,
    '--log-level', 'warn',
    ...Object.entries(config.temporal.searchAttributes).flatMap(([k, t]) => ['--search-attribute', `${k}=${t}`]),
  ];
  const logFile = openSync(path.join(path.dirname(dbPath), 'server.log'), 'a');
  const cli = findTemporalCli(config);
  let child: ChildProcess;
  const launch = async () => {
    const c: ChildProcess = spawn(cli, args, { stdio: ['ignore', logFile, logFile] });
    let exited = false;
    c.on('exit', () => (exited = true));
    try {
      await waitForNamespace(config, 60_000, () => exited);
    } catch (e) {
      c.kill('SIGTERM');
      throw new Error(`Temporal dev server did not become ready (see ${path.dirname(dbPath)}/server.log): ${(e as Error).message}`);
    }
    child = c;
    return c;
  };
  await launch();
  log(`Temporal: dev server on ${config.temporal.address}, Web UI ${temporalUiUrl(config)}, state in ${dbPath}`);
  return {
    address: config.temporal.address,
    uiUrl: temporalUiUrl(config),
    started: true,
    process: child!,
    relaunch: launch,
    signalStop: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    },
    stop: () => stopChild(child),
  };
}

async function waitForNamespace(config: Config, timeoutMs: number, gaveUp: () => boolean = () => false) {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline && !gaveUp()) {
    try {
      const connection = await Connection.connect({ ...temporalConnectionOptions(config), connectTimeout: 2000 });
      try {
        await connection.workflowService.describeNamespace({ namespace: config.temporal.namespace });
        return;
      } finally {
        await connection.close();
      }
    } catch (e) {
      lastError = e;
      await new Promise((r) => setTimeout(r, 300));
    }
  }
  throw new Error(gaveUp() ? 'the server exited' : `timed out: ${String(lastError)}`);
}

function portInUse(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export function stopChild(child: ChildProcess, graceMs = 10_000): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
