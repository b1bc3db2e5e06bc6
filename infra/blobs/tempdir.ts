// Each process keeps its temporary files (staged uploads, S3 spools) in a folder of its own,
// <root>/<host>-<pid>-<random>, so that two stacks on one machine never see or count each other's files.
// The first use in a process sweeps the folders that processes of this host left behind when they died.
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';

const mine = new Map<string, string>();
// Host names may contain '-': the pid and the random part are the last two fields.
const OWNER = /^(.+)-(\d+)-[A-Za-z0-9]{6}$/;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'; // exists, another user's
  }
}

/** Removes folders under root left by dead processes of this host (other hosts' folders are never judged). */
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
    if (pid === process.pid && mine.get(root) === path.join(root, name)) continue;
    if (pid !== process.pid && alive(pid)) continue;
    rmSync(path.join(root, name), { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}

/** This process's own folder under root (mode 0700), created and the leftovers swept on first use. */
export function processTempDir(root: string): string {
  const known = mine.get(root);
  if (known) return known;
  mkdirSync(root, { recursive: true, mode: 0o700 });
  sweepLeftovers(root); // a folder of this very pid is a dead predecessor's (pid reuse): swept as well
  const dir = mkdtempSync(path.join(root, `${hostname()}-${process.pid}-`));
  mine.set(root, dir);
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
