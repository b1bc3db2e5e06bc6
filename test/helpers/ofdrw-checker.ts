// The ofdrw checker (tools/ofdrw-checker, built by scripts/ensure-java-tool.sh): one JVM per test file,
// one command per line, one JSON answer per line. Started detached and killed by process group, so it never
// outlives the file even when a test hangs.
import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import * as path from 'node:path';
import * as readline from 'node:readline';

const ROOT = path.resolve(__dirname, '..', '..');

export interface OfdrwAnswer {
  ok: boolean;
  error?: string;
  [key: string]: unknown;
}

export class OfdrwChecker {
  private readonly answers: Array<(a: OfdrwAnswer) => void> = [];
  private queue: Promise<unknown> = Promise.resolve();
  private exited?: Error;

  private constructor(private readonly child: ChildProcessWithoutNullStreams) {
    readline.createInterface({ input: child.stdout }).on('line', (line) => this.answers.shift()?.(JSON.parse(line) as OfdrwAnswer));
    child.on('exit', (code, signal) => {
      this.exited = new Error(`ofdrw checker exited (${code ?? signal})`);
      for (const a of this.answers.splice(0)) a({ ok: false, error: this.exited.message });
    });
  }

  static async start(): Promise<OfdrwChecker> {
    const wrapper = execFileSync('bash', [path.join(ROOT, 'scripts', 'ensure-java-tool.sh'), 'ofdrw-checker'], { cwd: ROOT, encoding: 'utf8', timeout: 10 * 60_000 }).trim();
    const checker = new OfdrwChecker(spawn(wrapper, [], { detached: true, stdio: ['pipe', 'pipe', 'pipe'] }));
    const ready = await checker.next();
    if (!ready.ok) throw new Error(`ofdrw checker did not start: ${ready.error}`);
    return checker;
  }

  private next(): Promise<OfdrwAnswer> {
    return new Promise((resolve) => (this.exited ? resolve({ ok: false, error: this.exited.message }) : this.answers.push(resolve)));
  }

  /** Sends one command (fields joined by tabs) and waits for its answer; commands run one at a time. */
  run(...fields: string[]): Promise<OfdrwAnswer> {
    const result = this.queue.then(() => {
      const answer = this.next();
      this.child.stdin.write(`${fields.join('\t')}\n`);
      return answer;
    });
    this.queue = result.catch(() => undefined);
    return result;
  }

  stop(): void {
    try {
      process.kill(-this.child.pid!, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
}
