// Answers a signed document (usecases/seal-signing.ts SignedResult) as a stream: a large PDF signed from
// disk is the upload's staging file followed by the signature's update, never held whole in memory.
import type { Response } from 'express';
import type { SignedResult } from '../usecases/seal-signing';

/** RFC 6266: an ASCII fallback and the UTF-8 name (Chinese file names). */
export const attachment = (name: string) => `attachment; filename="${name.replace(/[^\x20-\x7e]|["\\]/g, '_')}"; filename*=UTF-8''${encodeURIComponent(name)}`;

/** Resolves when the response takes more, or is closed (a client gone never drains it). */
const drained = (res: Response) =>
  new Promise<void>((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });

export async function sendSigned(res: Response, status: number, signed: SignedResult, headers: Record<string, string> = {}): Promise<void> {
  res
    .status(status)
    .set('content-type', signed.contentType)
    .set('content-length', String(signed.content.size))
    .set('content-disposition', attachment(signed.fileName))
    .set('cache-control', 'no-store')
    .set('x-seal-use-id', signed.registerId)
    .set(headers);
  // The last chunk goes with end(): the audit trail (infra/audit/http.ts) holds a response's last bytes
  // until its entry is written, so a client that has the whole file finds the attempt recorded.
  let held: Buffer | null = null;
  for await (const chunk of signed.content.open()) {
    if (held && !res.write(held)) await drained(res);
    if (res.destroyed) return; // the client left; leaving the loop closes the file
    held = chunk as Buffer;
  }
  res.end(held ?? undefined);
}
