// Uploaded files: streamed in (size limit and type judged while they arrive, nothing held whole in memory),
// kept under their SHA-256 and checked against it on every read, on local disk and on a real S3-compatible
// server (Versity S3 Gateway, scripts/ensure-s3-test-server.sh).
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, symlinkSync, utimesSync, readFileSync, watch, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { request } from 'node:http';
import { connect, createServer, type Server } from 'node:net';
import { Readable } from 'node:stream';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import {
  BlobCorruptedError,
  BlobMissingError,
  BlobTooLargeError,
  blobStoreFromConfig,
  LocalBlobStore,
  S3BlobStore,
  defaultStagingDir,
  stageUpload,
} from '../../infra/blobs';
import { loadConfig } from '../../infra/config';
import { LEFTOVER_AGE_MS, processTempDir } from '../../infra/blobs/tempdir';
import { MAX_UPLOAD_BYTES } from '../../usecases/applications';
import { api, createUser, startApp, type RunningApp } from '../helpers/stack';
import { createMaker, makeResidentId, makeUscc, PDF_BYTES, PNG_BYTES, upload, recentRegistrationDate } from '../helpers/fixtures';
import { waitForCase } from '../helpers/journeys';
import { eventually } from '../helpers/wait';
import { freePorts } from '../helpers/ports';
import { s3StoreEnv, startS3TestServer, type S3TestServer } from '../helpers/s3-server';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const JPEG_BYTES = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), randomBytes(64), Buffer.from([0xff, 0xd9])]);

/** Flips one byte of a file in place, as a failing disk or a person with shell access would. */
function flipByte(file: string, at = 10) {
  const bytes = readFileSync(file);
  bytes[at] ^= 0xff;
  writeFileSync(file, bytes);
}

/** `total` bytes generated as they are sent, so the client never holds them either. */
function streamedBody(head: Buffer, total: number, chunk = 64 * 1024): Readable {
  let sent = 0;
  const filler = Buffer.alloc(chunk, 0x20);
  return new Readable({
    read() {
      if (sent >= total) {
        this.push(null);
        return;
      }
      const part = sent === 0 ? head : filler.subarray(0, Math.min(chunk, total - sent));
      sent += part.length;
      this.push(part);
    },
  });
}

/** A multipart upload whose file part is a stream of `size` bytes (node:http honours backpressure; the filler is reused). */
function streamUpload(url: string, token: string, caseId: string, head: Buffer, size: number) {
  const boundary = `----eseal${randomBytes(8).toString('hex')}`;
  const pre = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="kind"\r\n\r\non_site_image\r\n--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="huge.png"\r\nContent-Type: image/png\r\n\r\n`);
  const post = Buffer.from(`\r\n--${boundary}--\r\n`);
  return new Promise<{ status: number; body: any }>((resolve, reject) => {
    const req = request(`${url}/api/applications/${caseId}/materials`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': `multipart/form-data; boundary=${boundary}` } }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
    });
    req.on('error', reject);
    Readable.from([pre]).once('end', () => {
      const file = streamedBody(head, size);
      file.once('end', () => req.end(post));
      file.pipe(req, { end: false });
    }).pipe(req, { end: false });
  });
}

/**
 * A TCP relay to the S3 server that damages what clients send on a connection (every one, or the first
 * `connections`): it is cut after `cutAfter` bytes, or the byte at `flipAt` is flipped, as a failing network would.
 */
async function faultyRelay(endpoint: string, fault: { cutAfter?: number; flipAt?: number; connections?: number }): Promise<{ endpoint: string; close(): Promise<void> }> {
  let opened = 0;
  const target = new URL(endpoint);
  const sockets = new Set<import('node:net').Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(Number(target.port), target.hostname);
    sockets.add(client).add(upstream);
    const faulty = ++opened <= (fault.connections ?? Infinity);
    let seen = 0;
    client.on('data', (data: Buffer) => {
      let chunk = data;
      if (!faulty) return void upstream.write(chunk);
      if (fault.flipAt !== undefined && fault.flipAt >= seen && fault.flipAt < seen + chunk.length) {
        chunk = Buffer.from(chunk);
        chunk[fault.flipAt - seen]! ^= 0xff;
      }
      if (fault.cutAfter !== undefined && seen + chunk.length >= fault.cutAfter) {
        upstream.write(chunk.subarray(0, fault.cutAfter - seen), () => {
          upstream.destroy();
          client.destroy();
        });
        seen = fault.cutAfter;
        return;
      }
      seen += chunk.length;
      upstream.write(chunk);
    });
    upstream.pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

const filesUnder = (dir: string): string[] =>
  existsSync(dir) ? readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(path.join(dir, e.name)) : [path.join(dir, e.name)])) : [];

/** A maker and a case of theirs that takes uploads (a pre-registered A3 holder, waiting for production). */
async function openCase(app: RunningApp) {
  const admin = await createUser(app.db, 'admin');
  const maker = await createUser(app.db, 'maker', { maker_id: await createMaker(app.db) });
  const uscc = makeUscc('110101');
  const holder = await api(app.url, admin.token, 'POST', '/api/registration/holders', {
    uscc, name: `北京文件存储${uscc.slice(-4)}有限公司`, kind: 'enterprise', legal_representative: '孙八', address: '北京市东城区东长安街1号', district: '110101', registration_date: recentRegistrationDate(),
  });
  expect(holder.status).toBe(201);
  const created = await api(app.url, maker.token, 'POST', '/api/applications', {
    holder: { uscc, name: holder.body.name, kind: 'enterprise', address: '北京市东城区东长安街1号', district: '110101' },
    seal: { kind: 'business_contract', language: 'zh' },
    handler: { name: '周九', id_number: makeResidentId(), phone: '13900139000' },
  });
  expect(created.status).toBe(201);
  await waitForCase(app, maker.token, created.body.id, 'awaiting_production');
  return { maker, caseId: created.body.id as string };
}

describe('uploads through the API, local store', () => {
  let app: RunningApp;
  let maker: { id: string; token: string };
  let caseId: string;
  let blobDir: string;

  beforeAll(async () => {
    app = await startApp();
    blobDir = path.join(app.config.runtime.dataDir, 'blobs');
    ({ maker, caseId } = await openCase(app));
  });
  afterAll(async () => {
    await app?.stop();
  });

  test('M5: a corrupted blob detected on read: refused with a clear bilingual error, never served, recorded in the audit trail', async () => {
    const stored = await upload(app.url, maker.token, caseId, 'on_site_image', PNG_BYTES, 'onsite.png');
    expect(stored.status).toBe(201);
    const read = await fetch(`${app.url}/api/materials/${stored.body.id}`, { headers: { authorization: `Bearer ${maker.token}` } });
    expect(read.status).toBe(200);
    expect(Buffer.from(await read.arrayBuffer()).equals(PNG_BYTES)).toBe(true);

    // The file on disk is where its address says; one byte of it is changed behind the platform's back.
    const file = path.join(blobDir, stored.body.sha256.slice(0, 2), stored.body.sha256);
    expect(existsSync(file)).toBe(true);
    flipByte(file, 20);

    const again = await api(app.url, maker.token, 'GET', `/api/materials/${stored.body.id}`);
    expect(again.status).toBe(500);
    expect(again.body.error.code).toBe('BLOB_CORRUPTED');
    expect(again.body.error.message_zh).toMatch(/完整性校验/);
    expect(again.body.error.message_en).toMatch(/failed its integrity check/);
    expect(JSON.stringify(again.body)).not.toContain(PNG_BYTES.subarray(16, 40).toString('latin1'));
    const entry = await app.db('audit_entries').where({ action: 'blob.corrupted', target_id: stored.body.sha256 }).first();
    expect(entry).toMatchObject({ outcome: 'error', target_type: 'blob' });
    expect(entry.details).toMatchObject({ store: 'local', actualSha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
  });

  test('A2: the type is judged by the first bytes, not by the name: text named .pdf is refused naming the field, a JPEG named .pdf is a JPEG', async () => {
    const before = filesUnder(blobDir).length;
    const text = await upload(app.url, maker.token, caseId, 'establishment_document', Buffer.from('hello, not a PDF at all'), 'scan.pdf');
    expect(text.status).toBe(400);
    expect(text.body.error).toMatchObject({ code: 'UNSUPPORTED_TYPE', fields: [expect.objectContaining({ field: 'file', message_zh: expect.stringMatching(/PDF/), message_en: expect.stringMatching(/judged by content/) })] });
    expect(filesUnder(blobDir).length).toBe(before);

    const jpeg = await upload(app.url, maker.token, caseId, 'on_site_image', JPEG_BYTES, 'photo.pdf');
    expect(jpeg.status).toBe(201);
    expect(jpeg.body.content_type).toBe('image/jpeg');
    const read = await fetch(`${app.url}/api/materials/${jpeg.body.id}`, { headers: { authorization: `Bearer ${maker.token}` } });
    expect(read.headers.get('content-type')).toBe('image/jpeg');
    expect(Buffer.from(await read.arrayBuffer()).equals(JPEG_BYTES)).toBe(true);
  });

  test('A2: the size limit holds while the upload streams: exactly the limit is kept, one byte more is refused naming the field and nothing is stored', async () => {
    const exact = Buffer.concat([PNG_BYTES, Buffer.alloc(MAX_UPLOAD_BYTES - PNG_BYTES.length)]);
    const ok = await upload(app.url, maker.token, caseId, 'on_site_image', exact, 'exact.png');
    expect(ok.status).toBe(201);
    expect(ok.body.size).toBe(MAX_UPLOAD_BYTES);

    const materialsBefore = (await api(app.url, maker.token, 'GET', `/api/applications/${caseId}`)).body.materials.length;
    const blobsBefore = filesUnder(blobDir).length;
    const over = await upload(app.url, maker.token, caseId, 'on_site_image', Buffer.concat([exact, Buffer.from([0])]), 'over.png');
    expect(over.status).toBe(400);
    expect(over.body.error).toMatchObject({ code: 'UPLOAD_TOO_LARGE', fields: [expect.objectContaining({ field: 'file', message_zh: expect.stringMatching(/MiB/), message_en: expect.stringMatching(/exceeds 10 MiB/) })] });
    expect((await api(app.url, maker.token, 'GET', `/api/applications/${caseId}`)).body.materials.length).toBe(materialsBefore);
    expect(filesUnder(blobDir).length).toBe(blobsBefore);
  });

  test('A2: a 512 MiB upload is read to its end without being held in memory, refused, and leaves no temporary file', async () => {
    // A web server of its own, in a fresh process: what is measured is that server's peak resident memory alone
    // (VmHWM, reset just before the upload), not this test process, whose earlier files leave a heap of 1-2 GB that
    // the collector takes seconds to mark under load (a 1 GiB upload once showed 530 MiB of growth here).
    const [port] = await freePorts(1);
    const web = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, '../../web/server.ts')], { env: { ...process.env, WEB_PORT: String(port) }, stdio: ['ignore', 'ignore', 'inherit'], detached: true });
    const url = `http://127.0.0.1:${port}`;
    const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${web.pid}/status`, 'utf8'))![1]);
    try {
      await eventually('the web server', () => fetch(`${url}/healthz`).then((r) => r.ok, () => false), Boolean, 60_000);
      // A first upload makes the server's own staging folder (TMPDIR/eseal-uploads/<host>-<pid>-…).
      expect((await upload(url, maker.token, caseId, 'on_site_image', PNG_BYTES, 'first.png')).status).toBe(201);
      const stagingRoot = path.dirname(defaultStagingDir());
      const [staging] = readdirSync(stagingRoot).filter((n) => n.startsWith(`${hostname()}-${web.pid}-`)).map((n) => path.join(stagingRoot, n));
      // Its staged file is removed once the answer is sent, not before.
      await eventually('the first upload\'s staged file to be removed', async () => readdirSync(staging!), (left) => left.length === 0, 5000);
      const seen = new Set<string>();
      const watcher = watch(staging!, (_event, name) => void (name?.endsWith('.upload') && seen.add(name)));
      const blobsBefore = filesUnder(blobDir).length;

      writeFileSync(`/proc/${web.pid}/clear_refs`, '5'); // the peak starts again from what the server holds now
      const rssBefore = kib('VmRSS');
      const size = 512 * 1024 * 1024;
      const started = Date.now();
      const res = await streamUpload(url, maker.token, caseId, PNG_BYTES, size);
      const seconds = (Date.now() - started) / 1000;
      const growthMiB = (kib('VmHWM') - rssBefore) / 1024;
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('UPLOAD_TOO_LARGE');
      console.log(`blobs: 512 MiB upload refused in ${seconds.toFixed(2)} s; the server's peak RSS grew by ${growthMiB.toFixed(1)} MiB`);
      // Held whole, the server would grow by the upload's 512 MiB at least; streamed, by its buffers and the garbage
      // not yet collected (32 MiB here when quiet). Half the upload tells the two apart.
      expect(growthMiB).toBeLessThan(256);
      expect(filesUnder(blobDir).length).toBe(blobsBefore);
      watcher.close();
      expect(seen.size).toBe(1);
      await eventually('the staged file to be removed', async () => readdirSync(staging!), (left) => left.length === 0, 5000);
    } finally {
      process.kill(-web.pid!, 'SIGKILL');
    }
  });
});

describe('LocalBlobStore', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'eseal-blobs-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('a put is streamed, written atomically under its hash, and a corrupted copy is healed by the next put of the same bytes', async () => {
    const corrupted: string[] = [];
    const store = new LocalBlobStore(dir, { onCorrupted: (e) => void corrupted.push(e.sha256) });
    const bytes = Buffer.concat([PDF_BYTES, randomBytes(3 * 1024 * 1024)]);
    const put = await store.put(Readable.from([bytes.subarray(0, 1000), bytes.subarray(1000)]));
    expect(put).toEqual({ sha256: sha256(bytes), size: bytes.length });
    expect(filesUnder(path.join(dir, '.incoming'))).toEqual([]);
    expect((await store.get(put.sha256)).equals(bytes)).toBe(true);

    flipByte(store.pathOf(put.sha256), 4096);
    await expect(store.get(put.sha256)).rejects.toBeInstanceOf(BlobCorruptedError);
    await expect(store.open(put.sha256)).rejects.toBeInstanceOf(BlobCorruptedError);
    expect(corrupted).toEqual([put.sha256, put.sha256]);

    expect(await store.put(bytes)).toEqual(put);
    const { stream, size } = await store.open(put.sha256);
    const chunks: Buffer[] = [];
    for await (const c of stream) chunks.push(c as Buffer);
    expect(size).toBe(bytes.length);
    expect(Buffer.concat(chunks).equals(bytes)).toBe(true);
  });

  test('over maxBytes nothing is stored; a missing blob is named as missing', async () => {
    const store = new LocalBlobStore(dir);
    const before = filesUnder(dir).length;
    await expect(store.put(streamedBody(PNG_BYTES, 5 * 1024 * 1024), { maxBytes: 1024 * 1024 })).rejects.toBeInstanceOf(BlobTooLargeError);
    expect(filesUnder(dir).length).toBe(before);
    await expect(store.get('0'.repeat(64))).rejects.toBeInstanceOf(BlobMissingError);
    await expect(store.get('../etc/passwd')).rejects.toThrow('not a SHA-256');
  });

  test('a put that fails after its bytes are spooled (the old copy unreadable, its folder unusable) fails and leaves no temporary file', async () => {
    const store = new LocalBlobStore(path.join(dir, 'failing'));
    const incoming = path.join(store.dir, '.incoming');
    // The address taken by a folder: reading the "existing copy" fails with EISDIR, not ENOENT.
    const bytes = Buffer.concat([PNG_BYTES, randomBytes(1024)]);
    const target = store.pathOf(sha256(bytes));
    mkdirSync(target, { recursive: true });
    await expect(store.put(bytes)).rejects.toMatchObject({ code: 'EISDIR' });
    expect(filesUnder(incoming)).toEqual([]);
    rmSync(path.dirname(target), { recursive: true });

    // The address's folder a dangling link: no copy to read, but the folder cannot be made nor renamed into.
    const other = Buffer.concat([PDF_BYTES, randomBytes(1024)]);
    const otherFolder = path.dirname(store.pathOf(sha256(other)));
    symlinkSync(path.join(dir, 'nowhere', 'x'), otherFolder);
    await expect(store.put(other)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(filesUnder(incoming)).toEqual([]);
    rmSync(otherFolder);

    // Repaired, the same puts store the bytes.
    for (const b of [bytes, other]) {
      expect(await store.put(b)).toEqual({ sha256: sha256(b), size: b.length });
      expect((await store.get(sha256(b))).equals(b)).toBe(true);
    }
    expect(filesUnder(incoming)).toEqual([]);
  });

  test('each process stages in a folder of its own; the first to start sweeps the folders of dead processes of this host, never a live one\'s or another host\'s', async () => {
    const root = path.join(dir, 'staging-root');
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!; // a pid that has just exited
    const folders = {
      dead: `${hostname()}-${dead}-AbC123`,
      // Dead as seen from here, but touched within the hour: perhaps a process in another PID namespace.
      deadRecent: `${hostname()}-${dead}-RcN456`,
      live: `${hostname()}-${process.ppid}-XyZ789`,
      otherHost: `other-host.example-${dead}-QwE456`,
      unrelated: 'notes',
    };
    for (const f of Object.values(folders)) mkdirSync(path.join(root, f, 'x'), { recursive: true });
    writeFileSync(path.join(root, folders.dead, 'x', 'left.upload'), 'left behind');
    const old = new Date(Date.now() - LEFTOVER_AGE_MS - 60_000);
    for (const f of [folders.dead, folders.live, folders.otherHost]) utimesSync(path.join(root, f), old, old);
    const mine = processTempDir(root);
    expect(path.dirname(mine)).toBe(root);
    expect(path.basename(mine)).toMatch(new RegExp(`^${hostname()}-${process.pid}-[A-Za-z0-9]{6}$`));
    expect(processTempDir(root)).toBe(mine);
    expect(readdirSync(root).sort()).toEqual([folders.deadRecent, folders.live, folders.otherHost, folders.unrelated, path.basename(mine)].sort());
    rmSync(root, { recursive: true, force: true });
  });

  test('a staged upload is hashed, sniffed and, past its limit, read to the end with nothing kept', async () => {
    const staged = await stageUpload(streamedBody(PNG_BYTES, 3 * 1024 * 1024), { field: 'file', filename: 'a.png', maxBytes: 4 * 1024 * 1024, dir });
    expect(staged).toMatchObject({ size: 3 * 1024 * 1024, truncated: false, contentType: 'image/png' });
    await staged.discard();
    const source = streamedBody(PDF_BYTES, 9 * 1024 * 1024);
    const over = await stageUpload(source, { field: 'file', filename: 'b.pdf', maxBytes: 4 * 1024 * 1024, dir });
    expect(over).toMatchObject({ truncated: true, contentType: null });
    expect(source.readableEnded).toBe(true);
    expect(filesUnder(dir).filter((f) => f.endsWith('.upload'))).toEqual([]);
  });
});

describe('S3BlobStore on a real S3-compatible server (Versity S3 Gateway)', () => {
  let server: S3TestServer;
  let store: S3BlobStore;
  const corrupted: string[] = [];
  const bucket = 'eseal-blobs';
  const prefix = 'materials/';
  let s3Env: Record<string, string>;

  beforeAll(async () => {
    server = await startS3TestServer();
    // Selected by configuration alone, as a deployment would.
    s3Env = s3StoreEnv(server, bucket, prefix);
    const config = loadConfig({ ...process.env, ...s3Env });
    const selected = blobStoreFromConfig(config, { onCorrupted: (e) => void corrupted.push(e.sha256) });
    expect(selected).toBeInstanceOf(S3BlobStore);
    store = selected as S3BlobStore;
    await store.client.send(new CreateBucketCommand({ Bucket: bucket }));
  }, 600_000); // the first run builds the server from the Go module proxy
  afterAll(async () => {
    store?.destroy();
    await server?.stop();
  });

  test('round trip: a streamed put is stored under its hash, read back verified as bytes and as a stream; a second put is idempotent', async () => {
    const bytes = Buffer.concat([PDF_BYTES, randomBytes(6 * 1024 * 1024)]);
    const put = await store.put(Readable.from([bytes.subarray(0, 12345), bytes.subarray(12345)]));
    expect(put).toEqual({ sha256: sha256(bytes), size: bytes.length });
    expect(await store.has(put.sha256)).toBe(true);
    // The object is where its address says, in the server's own folder.
    expect(readFileSync(path.join(server.root, bucket, store.keyOf(put.sha256))).equals(bytes)).toBe(true);
    expect((await store.get(put.sha256)).equals(bytes)).toBe(true);
    const { stream, size } = await store.open(put.sha256);
    const chunks: Buffer[] = [];
    for await (const c of stream) chunks.push(c as Buffer);
    expect(size).toBe(bytes.length);
    expect(Buffer.concat(chunks).equals(bytes)).toBe(true);
    expect(await store.put(bytes)).toEqual(put);
  });

  test('a corrupted blob detected on read (S3): a byte flipped in the server\'s file, or the object replaced through the API, is never served', async () => {
    const bytes = Buffer.concat([PNG_BYTES, randomBytes(4096)]);
    const { sha256: a } = await store.put(bytes);
    flipByte(path.join(server.root, bucket, store.keyOf(a)), 100);
    await expect(store.get(a)).rejects.toBeInstanceOf(BlobCorruptedError);
    await expect(store.open(a)).rejects.toMatchObject({ code: 'BLOB_CORRUPTED', sha256: a, store: 's3' });

    const { sha256: b } = await store.put(Buffer.concat([PDF_BYTES, randomBytes(512)]));
    await store.client.send(new PutObjectCommand({ Bucket: bucket, Key: store.keyOf(b), Body: Buffer.from('%PDF-1.4 something else entirely') }));
    await expect(store.get(b)).rejects.toBeInstanceOf(BlobCorruptedError);
    expect(corrupted).toEqual([a, a, b]);
  });

  test('a damaged object is replaced by the next put of the same bytes, as on local disk; a sound one is kept, not sent again', async () => {
    const bytes = Buffer.concat([PDF_BYTES, randomBytes(2 * 1024 * 1024)]);
    const { sha256: sha } = await store.put(bytes);
    const object = path.join(server.root, bucket, store.keyOf(sha));
    // A byte flipped in the server's file (same size), then a copy cut short (the wrong size).
    for (const damage of [() => flipByte(object, 4096), () => writeFileSync(object, bytes.subarray(0, 1000))]) {
      damage();
      await expect(store.get(sha)).rejects.toBeInstanceOf(BlobCorruptedError);
      expect(await store.put(Readable.from([bytes]))).toEqual({ sha256: sha, size: bytes.length });
      expect(readFileSync(object).equals(bytes)).toBe(true);
      expect((await store.get(sha)).equals(bytes)).toBe(true);
    }
    // Sound: the put finds it so and leaves the server's file as it was.
    const before = statSync(object);
    expect(await store.put(bytes)).toEqual({ sha256: sha, size: bytes.length });
    expect(statSync(object)).toMatchObject({ ino: before.ino, mtimeMs: before.mtimeMs });
  });

  test('over maxBytes nothing reaches the bucket; missing and deleted blobs are named as missing', async () => {
    const objectsBefore = filesUnder(path.join(server.root, bucket)).length;
    await expect(store.put(streamedBody(PNG_BYTES, 3 * 1024 * 1024), { maxBytes: 1024 * 1024 })).rejects.toBeInstanceOf(BlobTooLargeError);
    expect(filesUnder(path.join(server.root, bucket)).length).toBe(objectsBefore);
    await expect(store.get('f'.repeat(64))).rejects.toBeInstanceOf(BlobMissingError);
    const { sha256: c } = await store.put(JPEG_BYTES);
    await store.delete(c);
    expect(await store.has(c)).toBe(false);
    await expect(store.open(c)).rejects.toBeInstanceOf(BlobMissingError);
  });

  test('a put is atomic and idempotent under retry: an upload cut midway or damaged on the way never becomes a blob; the retried put stores it once, and concurrent puts of the same bytes agree', async () => {
    const bytes = Buffer.concat([PDF_BYTES, randomBytes(4 * 1024 * 1024)]);
    const sha = sha256(bytes);
    const objects = () => filesUnder(path.join(server.root, bucket)).sort();
    const before = objects();
    // Every attempt cut after 1 MiB of the request (the body is 4 MiB), or one byte of the body flipped.
    for (const fault of [{ cutAfter: 1024 * 1024 }, { flipAt: 2 * 1024 * 1024 }]) {
      const relay = await faultyRelay(server.endpoint, fault);
      const viaRelay = new S3BlobStore({ ...store.config, endpoint: relay.endpoint });
      try {
        const refused = await viaRelay.put(bytes).then(() => null, (e: Error & { $metadata?: { httpStatusCode?: number } }) => e);
        expect(refused).toBeInstanceOf(Error);
        console.log(`blobs: S3 put with ${JSON.stringify(fault)} on every connection failed: ${refused!.name} ${refused!.$metadata?.httpStatusCode ?? ''} ${refused!.message.slice(0, 120)}`);
      } finally {
        viaRelay.destroy();
        await relay.close();
      }
      // Nothing visible, through the API or in the server's folder (its temporary files are outside the bucket).
      expect(await store.has(sha)).toBe(false);
      await expect(store.get(sha)).rejects.toBeInstanceOf(BlobMissingError);
      expect(objects()).toEqual(before);
    }
    // The first connection cut midway: the store sends the spooled bytes again, and the blob is whole.
    const relay = await faultyRelay(server.endpoint, { cutAfter: 1024 * 1024, connections: 1 });
    const viaRelay = new S3BlobStore({ ...store.config, endpoint: relay.endpoint });
    try {
      expect(await viaRelay.put(Readable.from([bytes]))).toEqual({ sha256: sha, size: bytes.length });
    } finally {
      viaRelay.destroy();
      await relay.close();
    }
    expect(readFileSync(path.join(server.root, bucket, store.keyOf(sha))).equals(bytes)).toBe(true);
    // Put again (an activity or request retried), and concurrently: stored once, under its address, whole.
    const [a, b, c] = await Promise.all([store.put(bytes), store.put(Readable.from([bytes])), store.put(bytes)]);
    expect([a, b, c]).toEqual([{ sha256: sha, size: bytes.length }, { sha256: sha, size: bytes.length }, { sha256: sha, size: bytes.length }]);
    expect(objects()).toEqual([...before, path.join(server.root, bucket, store.keyOf(sha))].sort());
    expect(readFileSync(path.join(server.root, bucket, store.keyOf(sha))).equals(bytes)).toBe(true);
    expect(await store.put(bytes)).toEqual(a);
    expect((await store.get(sha)).equals(bytes)).toBe(true);
  });

  test('M8: with the S3 store configured a premises video segment uploaded through the API goes into the bucket, not to local disk, and is viewed back verified; nothing stays staged', async () => {
    const saved = { ...process.env };
    Object.assign(process.env, s3Env);
    let app: RunningApp | undefined;
    try {
      app = await startApp();
      const maker = await createUser(app.db, 'maker', { maker_id: await createMaker(app.db) }); // premises in Chaoyang
      const officer = await createUser(app.db, 'officer', { district_code: '110105' });
      const video = Buffer.concat([Buffer.from([0, 0, 0, 0x18]), Buffer.from('ftypisom', 'latin1'), Buffer.from([0, 0, 2, 0]), Buffer.from('isomiso2', 'latin1'), randomBytes(256 * 1024)]);
      const end = new Date(Date.now() - 3600_000);
      const form = new FormData();
      for (const [k, v] of Object.entries({ camera_id: 'gate-s3', recorded_start: new Date(end.getTime() - 3600_000).toISOString(), recorded_end: end.toISOString(), sha256: sha256(video) })) form.set(k, v);
      form.set('file', new Blob([video]), 'gate.mp4');
      const res = await fetch(`${app.url}/api/video-segments`, { method: 'POST', headers: { authorization: `Bearer ${maker.token}` }, body: form });
      expect(res.status).toBe(201);
      const seg = (await res.json()) as { id: string; sha256: string };
      expect(seg.sha256).toBe(sha256(video));
      // Encrypted at rest (P1): the bucket holds the ciphertext under its own hash.
      const { blob_sha256: blobSha } = await app.db('video_segments').where({ id: seg.id }).first('blob_sha256');
      expect(readFileSync(path.join(server.root, bucket, store.keyOf(blobSha))).includes(video.subarray(0, 64))).toBe(false);
      expect(existsSync(path.join(app.config.runtime.dataDir, 'blobs', blobSha.slice(0, 2), blobSha))).toBe(false);
      const viewed = await fetch(`${app.url}/api/video-segments/${seg.id}?reason=${encodeURIComponent('例行检查')}`, { headers: { authorization: `Bearer ${officer.token}` } });
      expect(viewed.status).toBe(200);
      expect(viewed.headers.get('x-content-sha256')).toBe(seg.sha256);
      expect(Buffer.from(await viewed.arrayBuffer()).equals(video)).toBe(true);
      const staging = processTempDir(path.join(app.config.runtime.dataDir, 'staging', 'video'));
      await eventually('staged segment removed', async () => readdirSync(staging), (left) => left.length === 0, 5000);
    } finally {
      await app?.stop();
      for (const k of Object.keys(s3Env)) if (saved[k] === undefined) delete process.env[k];
      Object.assign(process.env, saved);
    }
  });

  test('a corrupted blob detected on read through the API with the S3 store: the web process uses the configured bucket, and refuses and audits a flipped byte', async () => {
    const saved = { ...process.env };
    Object.assign(process.env, s3Env);
    let app: RunningApp | undefined;
    try {
      app = await startApp();
      const { maker, caseId } = await openCase(app);
      const stored = await upload(app.url, maker.token, caseId, 'on_site_image', PNG_BYTES, 'onsite.png');
      expect(stored.status).toBe(201);
      const object = path.join(server.root, bucket, store.keyOf(stored.body.sha256));
      expect(existsSync(object)).toBe(true);
      expect(existsSync(path.join(app.config.runtime.dataDir, 'blobs', stored.body.sha256.slice(0, 2), stored.body.sha256))).toBe(false);
      const read = await fetch(`${app.url}/api/materials/${stored.body.id}`, { headers: { authorization: `Bearer ${maker.token}` } });
      expect(read.status).toBe(200);
      expect(Buffer.from(await read.arrayBuffer()).equals(PNG_BYTES)).toBe(true);

      flipByte(object, 30);
      const again = await api(app.url, maker.token, 'GET', `/api/materials/${stored.body.id}`);
      expect(again.status).toBe(500);
      expect(again.body.error).toMatchObject({ code: 'BLOB_CORRUPTED', message_zh: expect.stringMatching(/完整性校验/), message_en: expect.stringMatching(/failed its integrity check/) });
      const entry = await app.db('audit_entries').where({ action: 'blob.corrupted', target_id: stored.body.sha256 }).first();
      expect(entry.details).toMatchObject({ store: 's3' });
    } finally {
      await app?.stop();
      for (const k of Object.keys(s3Env)) if (saved[k] === undefined) delete process.env[k];
      Object.assign(process.env, saved);
    }
  });
});
