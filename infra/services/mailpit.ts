// mailpit (built by scripts/bootstrap.sh into .tools/bin/mailpit): the SMTP server that `make up` and the tests
// deliver e-mail to, with a web UI and an HTTP API to read what arrived. Started only when notify.smtp.host is
// this machine; any other host is a real mail server that someone else runs.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, openSync } from 'node:fs';
import { connect } from 'node:net';
import path from 'node:path';
import type { Config } from '../config';
import { stopChild } from './temporal-dev-server';

export interface RunningMailpit {
  uiUrl?: string;
  process?: ChildProcess;
  relaunch?: () => Promise<ChildProcess>;
  signalStop(): void;
  stop(): Promise<void>;
}

export const mailpitUiUrl = (config: Config) => `http://127.0.0.1:${config.notify.mailpit.uiPort}`;

function findMailpit(config: Config): string {
  const local = path.join(config.rootDir, '.tools/bin/mailpit');
  if (existsSync(local)) return local;
  const onPath = spawnSync('sh', ['-c', 'command -v mailpit'], { encoding: 'utf8' }).stdout.trim();
  if (onPath) return onPath;
  throw new Error('No mailpit: run scripts/bootstrap.sh to build it, or put `mailpit` on PATH.');
}

const listening = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });

export async function startMailpit(config: Config, log: (m: string) => void): Promise<RunningMailpit> {
  const { host, port } = config.notify.smtp;
  if (!['127.0.0.1', 'localhost'].includes(host)) {
    log(`e-mail: SMTP server ${host}:${port}`);
    return { signalStop: () => {}, stop: async () => {} };
  }
  const uiPort = config.notify.mailpit.uiPort;
  for (const p of [port, uiPort]) {
    if (await listening(p)) throw new Error(`mailpit: port ${p} is already in use (another \`make up\` or test run?); set ESEAL_NOTIFY_SMTP_PORT / ESEAL_NOTIFY_MAILPIT_UI_PORT`);
  }
  const dir = path.join(config.runtime.dataDir, 'mailpit');
  mkdirSync(dir, { recursive: true });
  const args = ['--smtp', `127.0.0.1:${port}`, '--listen', `127.0.0.1:${uiPort}`, '--database', path.join(dir, 'mailpit.db'), '--disable-version-check', '--quiet'];
  const logFile = openSync(path.join(dir, 'mailpit.log'), 'a');
  const bin = findMailpit(config);
  let child: ChildProcess | undefined;
  const launch = async () => {
    const c = spawn(bin, args, { stdio: ['ignore', logFile, logFile] });
    const deadline = Date.now() + 30_000;
    while (!(await listening(port)) || !(await listening(uiPort))) {
      if (c.exitCode !== null || Date.now() > deadline) {
        c.kill('SIGTERM');
        throw new Error(`mailpit did not start (see ${dir}/mailpit.log)`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    child = c;
    return c;
  };
  await launch();
  log(`mailpit: SMTP 127.0.0.1:${port}, web UI ${mailpitUiUrl(config)}`);
  return {
    uiUrl: mailpitUiUrl(config),
    process: child,
    relaunch: launch,
    signalStop: () => child?.kill('SIGTERM'),
    stop: async () => {
      if (child) await stopChild(child);
    },
  };
}
