// Each process keeps its temporary files (staged uploads, S3 spools) in a folder of its own,
// <root>/<host>-<pid>-<random>, so that two stacks on one machine never see or count each other's files.
// The first use in a process sweeps the folders that processes of this host left behind when they died.
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';

const mine = new Map<string, string>();
// Host names may contain '-': the pid and the random part are the last two fields.
const OWNER = /^(.+)-(\d+)-[A-Za-z0-9]{6}$/;
/**
 * A folder is swept only when untouched this long as well: a process in another PID namespace on a shared
 * TMPDIR looks dead from here, but its folder changes with every file it stages.
 */
export const LEFTOVER_AGE_MS = 60 * 60 * 1000;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'; // exists, another user's
  }
}

/** Removes folders under root left by dead processes of this host, untouched for an hour (other hosts' are never judged). */
export function sweepLeftovers(root: string): string[] {
  const host = hostname();
  const removed: string[] = [];
  let names: string[];
  try {
    names = readdirSync(root);
  } catch {
    return removed;
  }
  for (const name of names) {
    const m = OWNER.exec(name);
    if (!m || m[1] !== host) continue;
    const pid = Number(m[2]);
    // Never this process's own folders (another copy of this module, as a test runner may load, has its own
    // map), nor a live process's; a dead predecessor with this same pid is left for a later process to sweep.
    if (pid === process.pid || alive(pid)) continue;
    const folder = path.join(root, name);
    const touched = (() => {
      try {
        return statSync(folder).mtimeMs;
      } catch {
        return Date.now();
      }
    })();
    if (Date.now() - touched < LEFTOVER_AGE_MS) continue;
    rmSync(folder, { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}

/** This process's own folder under root (mode 0700), created and the leftovers swept on first use. */
export function processTempDir(root: string): string {
  const known = mine.get(root);
  if (known) return known;
  mkdirSync(root, { recursive: true, mode: 0o700 });
  sweepLeftovers(root);
  const dir = mkdtempSync(path.join(root, `${hostname()}-${process.pid}-`));
  mine.set(root, dir);
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
