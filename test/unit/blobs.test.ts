// The blob store's pure parts: which store the configuration selects, refusals of bad settings naming
// the key, and type sniffing by the first bytes.
import path from 'node:path';
import { blobStoreFromConfig, LocalBlobStore, S3BlobStore, sniffContentType } from '../../infra/blobs';
import { ConfigError, loadConfig } from '../../infra/config';

const base = { DATA_DIR: 'data-unit' } as NodeJS.ProcessEnv;
const s3 = { ESEAL_BLOBS_BACKEND: 's3', ESEAL_BLOBS_S3_BUCKET: 'eseal-materials', ESEAL_BLOBS_S3_ENDPOINT: 'https://s3.example.test', ESEAL_BLOBS_S3_FORCE_PATH_STYLE: 'true' };

describe('blob store configuration', () => {
  test('local disk under DATA_DIR/blobs by default; blobs.local.dir moves it', () => {
    const c = loadConfig(base);
    const store = blobStoreFromConfig(c);
    expect(store).toBeInstanceOf(LocalBlobStore);
    expect((store as LocalBlobStore).dir).toBe(path.join(c.runtime.dataDir, 'blobs'));
    expect((blobStoreFromConfig(loadConfig({ ...base, ESEAL_BLOBS_LOCAL_DIR: '/srv/eseal-blobs' })) as LocalBlobStore).dir).toBe('/srv/eseal-blobs');
  });

  test('an S3-compatible bucket by configuration alone (endpoint, bucket, region, path-style, prefix)', () => {
    const store = blobStoreFromConfig(loadConfig({ ...base, ...s3, ESEAL_BLOBS_S3_PREFIX: 'eseal/' }));
    expect(store).toBeInstanceOf(S3BlobStore);
    const s = store as S3BlobStore;
    expect(s.config).toMatchObject({ bucket: 'eseal-materials', endpoint: 'https://s3.example.test', region: 'us-east-1', forcePathStyle: true, prefix: 'eseal/' });
    expect(s.keyOf('ab'.repeat(32))).toBe(`eseal/ab/${'ab'.repeat(32)}`);
    s.destroy();
  });

  test.each([
    ['blobs.backend', { ESEAL_BLOBS_BACKEND: 'ftp' }],
    ['blobs.s3.bucket', { ESEAL_BLOBS_BACKEND: 's3' }],
    ['blobs.s3.endpoint', { ...s3, ESEAL_BLOBS_S3_ENDPOINT: 'not a url' }],
    ['blobs.s3.secretAccessKey', { ...s3, ESEAL_BLOBS_S3_ACCESS_KEY_ID: 'AKIA' }],
    ['blobs.s3.prefix', { ...s3, ESEAL_BLOBS_S3_PREFIX: '../x' }],
  ])('a bad setting stops start-up naming the key %s', (key, env) => {
    expect(() => loadConfig({ ...base, ...env })).toThrow(ConfigError);
    expect(() => loadConfig({ ...base, ...env })).toThrow(key);
  });
});

describe('type sniffing', () => {
  test('PDF, PNG and JPEG by their first bytes; anything else, or too short, is none of them', () => {
    expect(sniffContentType(Buffer.from('%PDF-1.7\n'))).toBe('application/pdf');
    expect(sniffContentType(Buffer.from('89504e470d0a1a0a0000', 'hex'))).toBe('image/png');
    expect(sniffContentType(Buffer.from('ffd8ffe000104a464946', 'hex'))).toBe('image/jpeg');
    expect(sniffContentType(Buffer.from('GIF89a'))).toBeNull();
    expect(sniffContentType(Buffer.from('<html>%PDF-'))).toBeNull();
    expect(sniffContentType(Buffer.from('%PD'))).toBeNull();
    expect(sniffContentType(Buffer.alloc(0))).toBeNull();
  });
});
