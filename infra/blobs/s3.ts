// Content-addressed store in an S3-compatible object store (AWS S3, or any server that speaks its API:
// path-style addressing for those that need it). The address is known only after the last byte, so a put
// is spooled to a local temporary file while hashing, then sent with its SHA-256 for the server to check;
// reads are hashed again here, whatever the server says.
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { BlobCorruptedError, BlobMissingError } from './errors';
import { SHA256_HEX, spoolToFile, type BlobSource } from './spool';
import { reportCorruption, type BlobStore, type BlobStoreHooks, type PutResult } from './store';
import { processTempDir } from './tempdir';

export interface S3BlobConfig {
  /** Empty for AWS itself; the server's URL otherwise (https://s3.example.com). */
  endpoint: string;
  bucket: string;
  region: string;
  /** Empty: the SDK's default chain (AWS_ACCESS_KEY_ID…, instance roles). */
  accessKeyId: string;
  secretAccessKey: string;
  forcePathStyle: boolean;
  /** Key prefix inside the bucket ("eseal/" …). */
  prefix: string;
  /** Where puts and verified reads are spooled, in a folder per process (default: the system's temporary folder). */
  spoolDir: string;
}

const notFound = (e: unknown) => {
  const err = e as { name?: string; $metadata?: { httpStatusCode?: number } };
  return err.name === 'NoSuchKey' || err.name === 'NotFound' || err.$metadata?.httpStatusCode === 404;
};

const PUT_ATTEMPTS = 4;

/** A lost connection, a server error, or bytes damaged on the way: worth sending again. A refusal is not. */
const retryable = (e: unknown) => {
  const err = e as { name?: string; $metadata?: { httpStatusCode?: number } };
  const status = err.$metadata?.httpStatusCode;
  return status === undefined || status >= 500 || status === 408 || status === 429 || ['BadDigest', 'RequestTimeout', 'XAmzContentSHA256Mismatch'].includes(err.name ?? '');
};

export class S3BlobStore implements BlobStore {
  readonly kind = 's3';
  readonly client: S3Client;

  constructor(
    readonly config: S3BlobConfig,
    private readonly hooks: BlobStoreHooks = {},
  ) {
    const clientConfig: S3ClientConfig = {
      region: config.region,
      forcePathStyle: config.forcePathStyle,
      // Checksums only where the API requires them: the SDK's default (CRC32 trailers on every request)
      // is not understood by every S3-compatible server. Puts carry their SHA-256 explicitly instead.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    };
    if (config.endpoint) clientConfig.endpoint = config.endpoint;
    if (config.accessKeyId) clientConfig.credentials = { accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey };
    this.client = new S3Client(clientConfig);
  }

  keyOf(sha256: string): string {
    if (!SHA256_HEX.test(sha256)) throw new Error('not a SHA-256 hex digest');
    return `${this.config.prefix}${sha256.slice(0, 2)}/${sha256}`;
  }

  private async spoolFile(): Promise<string> {
    // A folder of this process's own under the configured root (as staged uploads are: infra/blobs/tempdir.ts).
    const dir = processTempDir(this.config.spoolDir || path.join(tmpdir(), 'eseal-blob-spool'));
    await mkdir(dir, { recursive: true, mode: 0o700 });
    return path.join(dir, `${randomUUID()}.part`);
  }

  /**
   * Whether a sound copy is stored: read back and hashed, as the local store hashes its file. A HEAD would
   * only echo the checksum recorded at upload, not what the server's disk holds now. Re-puts are rare
   * (retries, the same file uploaded twice), and a copy of the wrong size is judged before its first byte.
   */
  private async holdsSound(sha256: string, size: number): Promise<boolean> {
    let res;
    try {
      res = await this.client.send(new GetObjectCommand({ Bucket: this.config.bucket, Key: this.keyOf(sha256) }));
    } catch (e) {
      if (notFound(e)) return false;
      throw e;
    }
    const body = res.Body as Readable;
    if (res.ContentLength !== undefined && res.ContentLength !== size) {
      body.destroy();
      return false;
    }
    const hash = createHash('sha256');
    for await (const chunk of body) hash.update(chunk as Buffer);
    return hash.digest('hex') === sha256;
  }

  /**
   * Spooled and hashed, then sent unless a sound copy is already there (a damaged one is replaced, as on
   * local disk). A single PutObject is atomic: the object appears whole or not at all, and the server checks
   * the SHA-256, so a cut or damaged upload never becomes a blob. The SDK does not retry a streamed body;
   * the store retries from the spool file.
   */
  async put(source: BlobSource, opts: { maxBytes?: number } = {}): Promise<PutResult> {
    const tmp = await this.spoolFile();
    const { sha256, size } = await spoolToFile(source, tmp, { maxBytes: opts.maxBytes });
    try {
      for (let attempt = 1; !(await this.holdsSound(sha256, size)); attempt++) {
        try {
          await this.client.send(
            new PutObjectCommand({
              Bucket: this.config.bucket,
              Key: this.keyOf(sha256),
              Body: createReadStream(tmp),
              ContentLength: size,
              ContentType: 'application/octet-stream',
              ChecksumSHA256: Buffer.from(sha256, 'hex').toString('base64'), // the server refuses bytes damaged on the way
            }),
          );
          break;
        } catch (e) {
          if (attempt >= PUT_ATTEMPTS || !retryable(e)) throw e;
          await new Promise((r) => setTimeout(r, 200 * 2 ** (attempt - 1)));
        }
      }
      return { sha256, size };
    } finally {
      await unlink(tmp).catch(() => undefined);
    }
  }

  private async body(sha256: string): Promise<Readable> {
    try {
      const res = await this.client.send(new GetObjectCommand({ Bucket: this.config.bucket, Key: this.keyOf(sha256) }));
      return res.Body as Readable;
    } catch (e) {
      if (notFound(e)) throw new BlobMissingError(sha256, this.kind);
      throw e;
    }
  }

  async get(sha256: string): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const chunk of await this.body(sha256)) chunks.push(chunk as Buffer);
    const bytes = Buffer.concat(chunks);
    const actual = createHash('sha256').update(bytes).digest('hex');
    if (actual !== sha256) throw await reportCorruption(this.hooks, new BlobCorruptedError(sha256, actual, this.kind));
    return bytes;
  }

  async open(sha256: string): Promise<{ stream: Readable; size: number }> {
    // Spooled and checked whole before the first byte is given out; the spool file goes when the stream ends.
    const tmp = await this.spoolFile();
    const { sha256: actual, size } = await spoolToFile(await this.body(sha256), tmp);
    if (actual !== sha256) {
      await unlink(tmp).catch(() => undefined);
      throw await reportCorruption(this.hooks, new BlobCorruptedError(sha256, actual, this.kind));
    }
    const stream = createReadStream(tmp);
    stream.once('close', () => void unlink(tmp).catch(() => undefined));
    return { stream, size };
  }

  async has(sha256: string): Promise<boolean> {
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.config.bucket, Key: this.keyOf(sha256) }));
      return true;
    } catch (e) {
      if (notFound(e)) return false;
      throw e;
    }
  }

  async delete(sha256: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.config.bucket, Key: this.keyOf(sha256) }));
  }

  /** Closes the HTTP connections. */
  destroy(): void {
    this.client.destroy();
  }
}
