// Refusals of the content-addressed store. Bilingual (web/errors.ts passes them through with their status),
// so a corrupted or missing file is reported as such, never served and never a bare 500.

/** The stored bytes no longer hash to their address: they are not served. */
export class BlobCorruptedError extends Error {
  readonly httpStatus = 500;
  readonly code = 'BLOB_CORRUPTED';
  readonly messageZh: string;
  readonly messageEn: string;
  constructor(readonly sha256: string, readonly actual: string, readonly store: string) {
    super(`blob ${sha256} is corrupted in the ${store} store (content hashes to ${actual})`);
    this.name = 'BlobCorruptedError';
    this.messageZh = `存储的文件 ${sha256.slice(0, 12)}… 未通过完整性校验（内容已损坏），不予提供；已记录并通知运维`;
    this.messageEn = `Stored file ${sha256.slice(0, 12)}… failed its integrity check (content corrupted) and is not served; this has been logged for the operators`;
  }
}

export class BlobMissingError extends Error {
  readonly httpStatus = 500;
  readonly code = 'BLOB_MISSING';
  readonly messageZh: string;
  readonly messageEn: string;
  constructor(readonly sha256: string, readonly store: string) {
    super(`blob ${sha256} is missing from the ${store} store`);
    this.name = 'BlobMissingError';
    this.messageZh = `存储的文件 ${sha256.slice(0, 12)}… 已丢失`;
    this.messageEn = `Stored file ${sha256.slice(0, 12)}… is missing from the store`;
  }
}

/** More bytes than the caller allowed; nothing was stored. */
export class BlobTooLargeError extends Error {
  readonly httpStatus = 413;
  readonly code = 'UPLOAD_TOO_LARGE';
  readonly messageZh: string;
  readonly messageEn: string;
  constructor(readonly maxBytes: number) {
    super(`more than ${maxBytes} bytes`);
    this.name = 'BlobTooLargeError';
    this.messageZh = `文件超过 ${maxBytes} 字节，未保存`;
    this.messageEn = `The file exceeds ${maxBytes} bytes and was not stored`;
  }
}
