// A real S3-compatible server for the S3 blob store's tests: Versity S3 Gateway (posix backend: each bucket
// is a folder, each object a file), built by scripts/ensure-s3-test-server.sh and started here on a free
// loopback port with a fresh folder. Stopped by the test that started it.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePorts } from './ports';

export interface S3TestServer {
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
  /** The posix backend's folder: bucket B's object K is the file root/B/K. */
  root: string;
  stop(): Promise<void>;
}


const accepts = (port: number) =>
  new Promise<boolean>((resolve) => {
    const c = connect(port, '127.0.0.1');
    c.once('connect', () => (c.destroy(), resolve(true)));
    c.once('error', () => resolve(false));
  });

export async function startS3TestServer(): Promise<S3TestServer> {
  const rootDir = path.resolve(__dirname, '../..');
  const bin = execFileSync('bash', [path.join(rootDir, 'scripts/ensure-s3-test-server.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
  const root = mkdtempSync(path.join(tmpdir(), 'eseal-s3-'));
  const [port] = await freePorts(1);
  const creds = { accessKeyId: 'eseal-test-access', secretAccessKey: 'eseal-test-secret-0123456789', region: 'us-east-1' };
  const child: ChildProcess = spawn(bin, ['--access', creds.accessKeyId, '--secret', creds.secretAccessKey, '--region', creds.region, '--port', `127.0.0.1:${port}`, '--quiet', 'posix', root], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // Never outlive the process that started it (a test run or bench that ends without stop()).
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const deadline = Date.now() + 20_000;
  while (!(await accepts(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`versitygw did not start on port ${port}: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    endpoint: `http://127.0.0.1:${port}`,
    ...creds,
    root,
    async stop() {
      process.removeListener('exit', killOnExit);
      if (child.exitCode === null) child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** The environment that selects `server`'s bucket as the blob store, by configuration alone (as a deployment would). */
export function s3StoreEnv(server: S3TestServer, bucket: string, prefix: string): Record<string, string> {
  return {
    ESEAL_BLOBS_BACKEND: 's3',
    ESEAL_BLOBS_S3_ENDPOINT: server.endpoint,
    ESEAL_BLOBS_S3_BUCKET: bucket,
    ESEAL_BLOBS_S3_REGION: server.region,
    ESEAL_BLOBS_S3_ACCESS_KEY_ID: server.accessKeyId,
    ESEAL_BLOBS_S3_SECRET_ACCESS_KEY: server.secretAccessKey,
    ESEAL_BLOBS_S3_FORCE_PATH_STYLE: 'true',
    ESEAL_BLOBS_S3_PREFIX: prefix,
  };
}
