// bench:blobs — what the hash check on every read costs, on local disk and on an S3-compatible server.
// No Temporal, no PostgreSQL: a LocalBlobStore in a temporary folder and an S3BlobStore on Versity S3
// Gateway (posix backend, started here on loopback; built by scripts/ensure-s3-test-server.sh).
// For each size: puts (streamed, hashed, fsynced/sent with their SHA-256), verified reads as bytes (get) and
// as a stream (open, read to the end), one at a time. Figures are printed; nothing fails on them.
//   node --import tsx bench/blobs.ts [--count 50]
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { LocalBlobStore, S3BlobStore, type BlobStore } from '../infra/blobs';
import { startS3TestServer } from '../test/helpers/s3-server';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};

async function measure(store: BlobStore, size: number, count: number) {
  const blobs = Array.from({ length: count }, () => randomBytes(size));
  const t0 = performance.now();
  const hashes: string[] = [];
  for (const b of blobs) hashes.push((await store.put(Readable.from([b]))).sha256);
  const t1 = performance.now();
  for (const h of hashes) await store.get(h);
  const t2 = performance.now();
  for (const h of hashes) {
    const { stream } = await store.open(h);
    for await (const chunk of stream) void chunk;
  }
  const t3 = performance.now();
  const mib = (size * count) / 1048576;
  const rate = (ms: number) => `${(count / (ms / 1000)).toFixed(0).padStart(5)}/s ${(mib / (ms / 1000)).toFixed(0).padStart(5)} MiB/s`;
  return { put: rate(t1 - t0), get: rate(t2 - t1), open: rate(t3 - t2) };
}

void (async () => {
  const count = arg('count', 50);
  const dir = mkdtempSync(path.join(tmpdir(), 'eseal-bench-blobs-'));
  const server = await startS3TestServer();
  const s3 = new S3BlobStore({ endpoint: server.endpoint, bucket: 'bench', region: server.region, accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey, forcePathStyle: true, prefix: '', spoolDir: '' });
  try {
    await s3.client.send(new CreateBucketCommand({ Bucket: 'bench' }));
    const stores: [string, BlobStore][] = [['local', new LocalBlobStore(dir)], ['s3 (versitygw)', s3]];
    console.log(`bench:blobs  count per size ${count} (fewer for 64 MiB)  load ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
    console.log('store           size      put (streamed, hashed)   get (verified bytes)     open (verified stream)');
    for (const [name, store] of stores) {
      for (const size of [64 * 1024, 1024 * 1024, 64 * 1024 * 1024]) {
        const n = size >= 64 * 1024 * 1024 ? Math.max(2, Math.floor(count / 25)) : count;
        const r = await measure(store, size, n);
        console.log(`${name.padEnd(15)} ${`${size / 1024} KiB`.padEnd(9)} ${r.put}     ${r.get}     ${r.open}`);
      }
    }
  } finally {
    s3.destroy();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
