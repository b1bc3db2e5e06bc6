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

export type VideoContentType = 'video/mp4' | 'video/quicktime' | 'video/x-matroska' | 'video/mp2t' | 'video/x-msvideo';

/** Surveillance segments are accepted by their content, never by their name: MP4/MOV, Matroska/WebM, MPEG-TS, AVI. */
export function sniffVideoType(head: Buffer): VideoContentType | null {
  if (head.length >= 12 && head.subarray(4, 8).toString('latin1') === 'ftyp') {
    return head.subarray(8, 10).toString('latin1') === 'qt' ? 'video/quicktime' : 'video/mp4';
  }
  if (head.length >= 4 && head.readUInt32BE(0) === 0x1a45dfa3) return 'video/x-matroska';
  if (head.length >= 12 && head.subarray(0, 4).toString('latin1') === 'RIFF' && head.subarray(8, 12).toString('latin1') === 'AVI ') return 'video/x-msvideo';
  if (head.length >= 377 && head[0] === 0x47 && head[188] === 0x47 && head[376] === 0x47) return 'video/mp2t';
  return null;
}
