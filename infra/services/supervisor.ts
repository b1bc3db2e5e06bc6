// Keeps the processes `make up` runs alive: each is started by its own launcher (which resolves once the
// process is ready), and one that dies without being asked to is logged and started again, with a short
// backoff while it keeps dying. Shared by scripts/up.ts and scripts/chaos.ts, which kills them on purpose.
import { EventEmitter } from 'node:events';
import type { ChildProcess } from 'node:child_process';

/** Starts a process and resolves once it is ready; rejects if it could not start. */
export type Launcher = () => Promise<ChildProcess>;

export interface ExitEvent { name: string; pid: number | undefined; code: number | null; signal: NodeJS.Signals | null; at: number }
export interface RestartEvent { name: string; pid: number | undefined; diedAt: number; at: number; attempts: number }

interface Entry { name: string; launch: Launcher; stopSignal: NodeJS.Signals; child: ChildProcess | null; restarts: number; restarting: boolean }

export interface SuperviseOptions {
  /** A process already started (and ready): watched from now on instead of launched. */
  running?: ChildProcess;
  /** How to ask it to stop (PostgreSQL: SIGINT, its fast shutdown). */
  stopSignal?: NodeJS.Signals;
}

export class Supervisor extends EventEmitter {
  private readonly entries: Entry[] = [];
  private stopping = false;

  constructor(private readonly log: (m: string) => void) {
    super();
  }

  /** Starts the process now (failing if its first start fails) and restarts it whenever it dies. */
  async add(name: string, launch: Launcher, opts: SuperviseOptions = {}): Promise<void> {
    const entry: Entry = { name, launch, stopSignal: opts.stopSignal ?? 'SIGTERM', child: null, restarts: 0, restarting: false };
    this.entries.push(entry);
    this.watch(entry, opts.running ?? (await launch()));
  }

  /** The current process id of a supervised process (undefined while it is being restarted). */
  pid(name: string): number | undefined {
    const e = this.entries.find((x) => x.name === name);
    return e?.child && e.child.exitCode === null && e.child.signalCode === null ? e.child.pid : undefined;
  }

  names(): string[] {
    return this.entries.map((e) => e.name);
  }

  restarts(name: string): number {
    return this.entries.find((x) => x.name === name)?.restarts ?? 0;
  }

  private watch(entry: Entry, child: ChildProcess) {
    entry.child = child;
    child.once('exit', (code, signal) => {
      if (this.stopping || entry.child !== child) return;
      const diedAt = Date.now();
      this.emit('exit', { name: entry.name, pid: child.pid, code, signal, at: diedAt } satisfies ExitEvent);
      this.log(`${entry.name} (pid ${child.pid}) exited (${signal ?? code}); restarting`);
      void this.restart(entry, diedAt);
    });
  }

  private async restart(entry: Entry, diedAt: number) {
    if (entry.restarting) return;
    entry.restarting = true;
    entry.child = null;
    let delay = 200;
    for (let attempt = 1; !this.stopping; attempt++) {
      try {
        const child = await entry.launch();
        if (this.stopping) {
          child.kill(entry.stopSignal);
          return;
        }
        entry.restarts++;
        entry.restarting = false;
        const at = Date.now();
        this.log(`${entry.name} restarted (pid ${child.pid}) ${((at - diedAt) / 1000).toFixed(1)} s after it died${attempt > 1 ? `, on attempt ${attempt}` : ''}`);
        this.watch(entry, child);
        this.emit('restart', { name: entry.name, pid: child.pid, diedAt, at, attempts: attempt } satisfies RestartEvent);
        if (child.exitCode !== null || child.signalCode !== null) child.emit('exit', child.exitCode, child.signalCode); // died at once
        return;
      } catch (e) {
        this.log(`${entry.name} did not start again (attempt ${attempt}): ${String((e as Error)?.message ?? e).split('\n')[0]}; retrying in ${delay} ms`);
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, 5000);
      }
    }
  }

  /** Asks every process to stop at once (synchronous: see scripts/up.ts), and restarts none after. */
  signalStop(): void {
    this.stopping = true;
    for (const e of this.entries) if (e.child && e.child.exitCode === null && e.child.signalCode === null) e.child.kill(e.stopSignal);
  }

  /**
   * Stops the processes in the reverse order of their start (web and workers before Temporal and
   * PostgreSQL), each with its stop signal and, after `graceMs`, SIGKILL.
   */
  async stop(graceMs = 15_000, only?: (name: string) => boolean): Promise<void> {
    this.stopping = true;
    for (const e of [...this.entries].reverse()) {
      if (only && !only(e.name)) continue;
      const c = e.child;
      if (!c || c.exitCode !== null || c.signalCode !== null) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => c.kill('SIGKILL'), graceMs);
        c.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        c.kill(e.stopSignal);
      });
    }
  }
}
