// Ports for the services a test starts as separate processes (its own `make up`, its own chaos stack).
// Not `listen(0)`: that hands out a port from the kernel's ephemeral range (32768–60999 here), which every
// outgoing connection also draws its local port from, so between choosing the port and the service binding it
// a client socket can take it ("bind: address already in use", seen in one run of the chaos test). Ports below
// that range are only ever taken by a listener, so a free one stays free.
import { createServer } from 'node:net';

const LOW = 20_000;
const HIGH = 32_000; // below /proc/sys/net/ipv4/ip_local_port_range's start

const isFree = (port: number) =>
  new Promise<boolean>((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });

/** `n` distinct free ports below the ephemeral range. */
export async function freePorts(n: number): Promise<number[]> {
  const ports: number[] = [];
  while (ports.length < n) {
    const p = LOW + Math.floor(Math.random() * (HIGH - LOW));
    if (!ports.includes(p) && (await isFree(p))) ports.push(p);
  }
  return ports;
}
