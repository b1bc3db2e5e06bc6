// The supervisor `make up` and `npm run chaos` share (infra/services/supervisor.ts), on small real processes:
// one killed with SIGKILL is logged and started again; one that fails to start is retried; stop() ends all
// and restarts none.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { Supervisor, type RestartEvent } from '../../infra/services/supervisor';

const sleeper = () => spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
const started = async (c: ChildProcess) => {
  await once(c, 'spawn');
  return c;
};

test('a process killed with SIGKILL is logged and started again; stop() ends it for good', async () => {
  const log: string[] = [];
  const sup = new Supervisor((m) => log.push(m));
  await sup.add('sleeper', () => started(sleeper()));
  const first = sup.pid('sleeper')!;
  expect(first).toBeGreaterThan(0);

  const restarted = once(sup, 'restart') as Promise<[RestartEvent]>;
  process.kill(first, 'SIGKILL');
  const [e] = await restarted;
  expect(e).toMatchObject({ name: 'sleeper', attempts: 1 });
  expect(e.pid).not.toBe(first);
  expect(sup.pid('sleeper')).toBe(e.pid);
  expect(sup.restarts('sleeper')).toBe(1);
  expect(log.some((m) => m.includes(`sleeper (pid ${first}) exited (SIGKILL); restarting`))).toBe(true);
  expect(log.some((m) => m.includes(`sleeper restarted (pid ${e.pid})`))).toBe(true);

  await sup.stop(5000);
  expect(sup.pid('sleeper')).toBeUndefined();
  expect(sup.restarts('sleeper')).toBe(1); // stopped, not restarted
});

test('a process that does not start again at once is retried until it does', async () => {
  const log: string[] = [];
  const sup = new Supervisor((m) => log.push(m));
  let launches = 0;
  await sup.add('flaky', async () => {
    launches++;
    if (launches === 2 || launches === 3) throw new Error('port still in use');
    return started(sleeper());
  });
  const restarted = once(sup, 'restart') as Promise<[RestartEvent]>;
  process.kill(sup.pid('flaky')!, 'SIGKILL');
  const [e] = await restarted;
  expect(e.attempts).toBe(3);
  expect(log.filter((m) => m.includes('did not start again'))).toHaveLength(2);
  await sup.stop(5000);
});
