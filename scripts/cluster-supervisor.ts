// A small process supervisor for `npm run cluster`: each child is restarted a second after it dies (whatever
// killed it), until stopAll(); its output goes to <logDir>/<name>.log. The chaos run kills children through it.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync, closeSync } from 'node:fs';
import path from 'node:path';

const RESTART_DELAY_MS = 1000;

export interface SupervisedSpec {
  name: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
}

export class Supervised {
  child?: ChildProcess;
  restarts = 0;
  private stopped = false;
  private timer?: NodeJS.Timeout;
  /** Resolves whenever the current child exits (replaced on each start). */
  private exited: Promise<void> = Promise.resolve();

  constructor(
    readonly spec: SupervisedSpec,
    private readonly logFile: string,
    private readonly log: (m: string) => void,
  ) {}

  get pid() {
    return this.child?.pid;
  }

  get running() {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  start() {
    if (this.stopped) return;
    const out = openSync(this.logFile, 'a');
    const child = spawn(this.spec.command, this.spec.args, { env: this.spec.env ?? process.env, stdio: ['ignore', out, out] });
    closeSync(out); // the child holds its own descriptor
    this.child = child;
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        resolve();
        if (this.stopped) return;
        this.restarts++;
        this.log(`${this.spec.name} (pid ${child.pid}) exited (${signal ?? `code ${code}`}); restarting it (${this.restarts}), log ${this.logFile}`);
        this.timer = setTimeout(() => this.start(), RESTART_DELAY_MS);
      });
      // A command that cannot be run at all is reported through 'exit' as well (code -2 etc.) after 'error'.
      child.once('error', (e) => this.log(`${this.spec.name}: ${e.message}`));
    });
  }

  /** Sends a signal to the current child (the chaos run's SIGKILL); the supervisor brings it back. */
  kill(signal: NodeJS.Signals) {
    if (this.running) this.child!.kill(signal);
  }

  /** Stops supervising and signals the child (synchronous, so it also happens if this process exits at once). */
  signalStop(signal: NodeJS.Signals = 'SIGTERM') {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.running) this.child!.kill(signal);
  }

  /** Stops supervising, asks the child to stop, and kills it after `graceMs`. */
  async stop(graceMs = 15_000) {
    this.signalStop();
    if (!this.child) return;
    const child = this.child;
    const force = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(force);
  }
}

export class Supervisor {
  readonly children = new Map<string, Supervised>();
  private closed = false;

  constructor(
    private readonly logDir: string,
    private readonly log: (m: string) => void,
  ) {
    mkdirSync(logDir, { recursive: true });
  }

  start(spec: SupervisedSpec): Supervised {
    if (this.closed) throw new Error(`supervisor: stopping, ${spec.name} not started`);
    if (this.children.has(spec.name)) throw new Error(`supervisor: ${spec.name} is already supervised`);
    const s = new Supervised(spec, path.join(this.logDir, `${spec.name}.log`), this.log);
    this.children.set(spec.name, s);
    s.start();
    return s;
  }

  get(name: string): Supervised {
    const s = this.children.get(name);
    if (!s) throw new Error(`supervisor: no process named ${name}`);
    return s;
  }

  signalStopAll() {
    this.closed = true;
    for (const s of this.children.values()) s.signalStop();
  }

  /** Stops the named groups one after another (each group in parallel), then anything left. */
  async stopAll(order: string[][] = []) {
    this.closed = true;
    for (const group of order) await Promise.all(group.filter((n) => this.children.has(n)).map((n) => this.get(n).stop()));
    await Promise.all([...this.children.values()].map((s) => s.stop()));
  }
}
