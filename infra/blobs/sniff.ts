// Uploads are accepted by their content, never by their name or declared type.

export type SniffedType = 'application/pdf' | 'image/png' | 'image/jpeg';

/** How many leading bytes sniffContentType needs. */
export const SNIFF_BYTES = 8;

/** PDF, PNG or JPEG judged by the first bytes, or null. */
export function sniffContentType(head: Buffer): SniffedType | null {
  if (head.subarray(0, 5).toString('latin1') === '%PDF-') return 'application/pdf';
  if (head.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return 'image/png';
  if (head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return 'image/jpeg';
  return null;
}
