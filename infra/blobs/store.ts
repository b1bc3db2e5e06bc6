// The content-addressed store: files are kept under their SHA-256, written once, and checked against it on
// every read, wherever they live (local disk, or an S3-compatible object store for scale). Encryption of
// materials, where wanted, is a layer above this one.
import type { Readable } from 'node:stream';
import type { BlobCorruptedError } from './errors';
import type { BlobSource } from './spool';
import { logger } from '../observability/logger';

export interface PutResult {
  sha256: string;
  size: number;
}

export interface BlobStore {
  /** 'local' or 's3', for logs and audit entries. */
  readonly kind: string;
  /** Streams the bytes in (never whole in memory for a stream); over maxBytes it fails with BlobTooLargeError and keeps nothing. Idempotent. */
  put(source: BlobSource, opts?: { maxBytes?: number }): Promise<PutResult>;
  /** The bytes, verified against their hash (BlobCorruptedError / BlobMissingError otherwise). For small files. */
  get(sha256: string): Promise<Buffer>;
  /** A stream of the bytes, verified whole before its first byte is given out. */
  open(sha256: string): Promise<{ stream: Readable; size: number }>;
  has(sha256: string): Promise<boolean>;
  /** Removes the bytes (idempotent); callers decide that nothing still needs them. */
  delete(sha256: string): Promise<void>;
}

export interface BlobStoreHooks {
  /** Called once per corrupted read, before the error is thrown (the web process records it in the audit trail). */
  onCorrupted?: (e: BlobCorruptedError) => void | Promise<void>;
}

/** Logs, reports (a failing report never hides the corruption) and returns the error to throw. */
export async function reportCorruption(hooks: BlobStoreHooks, e: BlobCorruptedError): Promise<BlobCorruptedError> {
  logger.error({ store: e.store, sha256: e.sha256 }, `blobs: ${e.message}`);
  try {
    await hooks.onCorrupted?.(e);
  } catch (reportError) {
    logger.error({ err: reportError }, 'blobs: could not report the corruption');
  }
  return e;
}
