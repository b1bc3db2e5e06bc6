// Premises video (M8) lives in the configured content-addressed store (infra/blobs: local disk or an
// S3-compatible bucket, `blobStoreFromConfig`), the same one as the materials: a segment is staged and
// hashed as it streams in, put under its SHA-256 (written once, so never altered), checked against it on
// every read, and deleted only by the retention workflow's purge (or an approved M7 disposal).
import type { Config } from '../infra/config';
import { blobStoreFromConfig, type BlobStore } from '../infra/blobs';

/** The store the retention activities delete from: the configured one, as the web process reads and writes. */
export function retentionBlobStore(config: Pick<Config, 'blobs' | 'runtime'>): BlobStore {
  return blobStoreFromConfig(config);
}
