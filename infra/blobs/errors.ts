// Refusals of the content-addressed store: DomainErrors (bilingual, with their HTTP status, answered as such by
// web/errors.ts), so a corrupted or missing file is reported as such, never served and never a bare 500. A
// corrupted or missing file is `retryable`: an activity reading it keeps retrying while an operator restores it.
import { DomainError } from '../../domain/errors';

/** The stored bytes no longer hash to their address: they are not served. */
export class BlobCorruptedError extends DomainError {
  constructor(readonly sha256: string, readonly actual: string, readonly store: string) {
    super({
      code: 'BLOB_CORRUPTED',
      httpStatus: 500,
      retryable: true,
      messageZh: `存储的文件 ${sha256.slice(0, 12)}… 未通过完整性校验（内容已损坏），不予提供；已记录并通知运维`,
      messageEn: `Stored file ${sha256.slice(0, 12)}… failed its integrity check (content corrupted) and is not served; this has been logged for the operators`,
    });
    this.name = 'BlobCorruptedError';
    this.message = `blob ${sha256} is corrupted in the ${store} store (content hashes to ${actual})`;
  }
}

export class BlobMissingError extends DomainError {
  constructor(readonly sha256: string, readonly store: string) {
    super({
      code: 'BLOB_MISSING',
      httpStatus: 500,
      retryable: true,
      messageZh: `存储的文件 ${sha256.slice(0, 12)}… 已丢失`,
      messageEn: `Stored file ${sha256.slice(0, 12)}… is missing from the store`,
    });
    this.name = 'BlobMissingError';
    this.message = `blob ${sha256} is missing from the ${store} store`;
  }
}

/** More bytes than the caller allowed; nothing was stored. The same bytes are as large on every attempt. */
export class BlobTooLargeError extends DomainError {
  constructor(readonly maxBytes: number) {
    super({
      code: 'UPLOAD_TOO_LARGE',
      httpStatus: 413,
      messageZh: `文件超过 ${maxBytes} 字节，未保存`,
      messageEn: `The file exceeds ${maxBytes} bytes and was not stored`,
    });
    this.name = 'BlobTooLargeError';
    this.message = `more than ${maxBytes} bytes`;
  }
}
