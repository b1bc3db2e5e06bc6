// Answers a signed document (usecases/seal-signing.ts SignedResult) as a stream: a large PDF signed from
// disk is the upload's staging file followed by the signature's update, never held whole in memory.
import { pipeline } from 'node:stream/promises';
import type { Response } from 'express';
import type { SignedResult } from '../usecases/seal-signing';

/** RFC 6266: an ASCII fallback and the UTF-8 name (Chinese file names). */
export const attachment = (name: string) => `attachment; filename="${name.replace(/[^\x20-\x7e]|["\\]/g, '_')}"; filename*=UTF-8''${encodeURIComponent(name)}`;

export async function sendSigned(res: Response, status: number, signed: SignedResult, headers: Record<string, string> = {}): Promise<void> {
  res
    .status(status)
    .set('content-type', signed.contentType)
    .set('content-length', String(signed.content.size))
    .set('content-disposition', attachment(signed.fileName))
    .set('cache-control', 'no-store')
    .set('x-seal-use-id', signed.registerId)
    .set(headers);
  await pipeline(signed.content.open(), res);
}
