// A TCP relay between a client and a real service, for outage tests: `cut()` makes the service unreachable
// (connections reset, new ones refused) as if it had been stopped, `restore()` brings it back on the same
// port; `dropResponses` forwards requests but throws the answers away (a lost answer, the socket closed).
import { createServer, connect, type Server, type Socket } from 'node:net';

export interface TcpProxy {
  port: number;
  address: string;
  /** While true: what the service answers is discarded and the client's connection closed. */
  dropResponses: boolean;
  /** How many answers were discarded. */
  dropped: number;
  cut(): Promise<void>;
  restore(): Promise<void>;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  let server: Server | null = null;
  let port = 0;
  const proxy: TcpProxy = {
    port: 0,
    address: '',
    dropResponses: false,
    dropped: 0,
    async cut() {
      const s = server;
      server = null;
      for (const sock of sockets) sock.destroy();
      sockets.clear();
      if (s) await new Promise<void>((r) => s.close(() => r()));
    },
    async restore() {
      await listen();
    },
    async close() {
      await proxy.cut();
    },
  };
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      const s = createServer((client) => {
        const upstream = connect(target.port, target.host);
        sockets.add(client);
        sockets.add(upstream);
        const drop = () => {
          client.destroy();
          upstream.destroy();
        };
        client.on('error', drop).on('close', drop);
        upstream.on('error', drop).on('close', drop);
        client.on('data', (d) => upstream.write(d));
        upstream.on('data', (d) => {
          if (proxy.dropResponses) {
            proxy.dropped++;
            drop(); // the request reached the service; its answer never reaches the client
            return;
          }
          client.write(d);
        });
      });
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => {
        server = s;
        port = (s.address() as { port: number }).port;
        proxy.port = port;
        proxy.address = `127.0.0.1:${port}`;
        resolve();
      });
    });
  await listen();
  return proxy;
}
