// The content-addressed file store and uploads on their way into it. `blobStoreFromConfig` picks the
// backend named by the configuration (temporal.yaml `blobs`, ESEAL_BLOBS_* variables).
import path from 'node:path';
import type { Config } from '../config';
import { LocalBlobStore } from './local';
import { S3BlobStore } from './s3';
import type { BlobStore as BlobStoreInterface, BlobStoreHooks } from './store';

export { BlobCorruptedError, BlobMissingError, BlobTooLargeError } from './errors';
export { bufferedFile, defaultStagingDir, stageUpload, type IncomingFile, type StagedFile } from './incoming';
export { LocalBlobStore } from './local';
export { S3BlobStore, type S3BlobConfig } from './s3';
export { sniffContentType, SNIFF_BYTES, type SniffedType } from './sniff';
export type { BlobSource } from './spool';
export type { BlobStoreHooks, PutResult } from './store';

/** Any store (the interface). */
export type BlobStore = BlobStoreInterface;
/** Local disk is the default store: `new BlobStore(dir)` is a LocalBlobStore. */
export const BlobStore = LocalBlobStore;

/** The store the configuration names: local disk under DATA_DIR/blobs (default), or an S3-compatible bucket. */
export function blobStoreFromConfig(config: Pick<Config, 'blobs' | 'runtime'>, hooks: BlobStoreHooks = {}): BlobStoreInterface {
  const b = config.blobs;
  if (b.backend === 's3') return new S3BlobStore(b.s3, hooks);
  return new LocalBlobStore(b.local.dir ? path.resolve(b.local.dir) : path.join(config.runtime.dataDir, 'blobs'), hooks);
}
