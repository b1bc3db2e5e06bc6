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
