// Reads a PDF's cross-reference data from the file on disk without loading the document: the tail
// (startxref), then each section back along /Prev — classic `xref` tables and cross-reference streams
// (ISO 32000-1 §7.5.8, FlateDecode with or without the PNG predictor). This is the first half of the
// streaming PAdES path for large PDFs (./pdf-lazy.ts, ./pades-stream.ts).
import { open, type FileHandle } from 'node:fs/promises';
import { inflateSync } from 'node:zlib';
import { DomainError } from '../../domain/errors';

/** Where an object lives: at a byte offset, or as the index-th object of an object stream. */
export type XrefEntry =
  | { kind: 'offset'; offset: number; gen: number }
  | { kind: 'compressed'; stream: number; index: number };

export interface XrefInfo {
  /** The offset the file's last `startxref` names (the new section's /Prev). */
  startxref: number;
  /** The newest entry of each in-use object; free objects are absent. */
  entries: Map<number, XrefEntry>;
  size: number;
  root: { num: number; gen: number };
  info?: { num: number; gen: number };
  /** The trailer's /ID, hex, if any (an update keeps it: ISO 32000-1 §14.4). */
  id0?: string;
  id1?: string;
  /** Whether the newest section is a cross-reference stream (an update after it may still use a table: PDF 1.5 readers follow /Prev across both). */
  usesXrefStream: boolean;
}

export function malformedPdf(why: string): DomainError {
  return new DomainError({
    code: 'PDF_MALFORMED',
    field: 'document',
    messageZh: `PDF 文件结构无法读取：${why}`,
    messageEn: `The PDF's structure cannot be read: ${why}`,
  });
}

async function readAt(fh: FileHandle, pos: number, len: number): Promise<Buffer> {
  const buf = Buffer.alloc(len);
  const { bytesRead } = await fh.read(buf, 0, len, pos);
  return buf.subarray(0, bytesRead);
}

/** The offset named by the last `startxref` in the final 2 KB of the file. */
export function parseStartxref(tail: Buffer): number {
  const text = tail.toString('latin1');
  const at = text.lastIndexOf('startxref');
  if (at < 0) throw malformedPdf('no startxref at the end of the file');
  const m = /^startxref\s+(\d+)/.exec(text.slice(at));
  if (!m) throw malformedPdf('startxref without an offset');
  return Number(m[1]);
}

/** Picks the keys signing needs out of a trailer or xref-stream dictionary (no nested parsing needed). */
export function parseTrailerKeys(dict: string): {
  size?: number; prev?: number; root?: { num: number; gen: number }; info?: { num: number; gen: number };
  xrefStm?: number; id0?: string; id1?: string; w?: number[]; index?: number[]; length?: number; filter?: string;
  predictor?: number; columns?: number; type?: string; encrypt: boolean;
} {
  const num = (k: string): number | undefined => {
    const m = new RegExp(`/${k}\\s+(\\d+)(?![\\d\\s]*\\s+R)`).exec(dict);
    return m ? Number(m[1]) : undefined;
  };
  const ref = (k: string): { num: number; gen: number } | undefined => {
    const m = new RegExp(`/${k}\\s+(\\d+)\\s+(\\d+)\\s+R`).exec(dict);
    return m ? { num: Number(m[1]), gen: Number(m[2]) } : undefined;
  };
  const arr = (k: string): number[] | undefined => {
    const m = new RegExp(`/${k}\\s*\\[([\\d\\s]*)\\]`).exec(dict);
    return m ? m[1]!.trim().split(/\s+/).filter(Boolean).map(Number) : undefined;
  };
  const name = (k: string): string | undefined => {
    const m = new RegExp(`/${k}\\s*(?:\\[\\s*)?/([A-Za-z0-9]+)`).exec(dict);
    return m ? m[1] : undefined;
  };
  const id = /\/ID\s*\[\s*<([0-9A-Fa-f\s]*)>\s*(?:<([0-9A-Fa-f\s]*)>)?/.exec(dict);
  return {
    size: num('Size'), prev: num('Prev'), root: ref('Root'), info: ref('Info'), xrefStm: num('XRefStm'),
    id0: id ? id[1]!.replace(/\s/g, '') : undefined, id1: id?.[2]?.replace(/\s/g, ''), w: arr('W'), index: arr('Index'), length: num('Length'),
    filter: name('Filter'), predictor: num('Predictor'), columns: num('Columns'), type: name('Type'),
    encrypt: /\/Encrypt\b/.test(dict),
  };
}

/** The outermost `<< ... >>` starting at or after `from`, by counting nested brackets. */
export function dictAt(text: string, from: number): { body: string; end: number } {
  const start = text.indexOf('<<', from);
  if (start < 0) throw malformedPdf('dictionary expected');
  let depth = 0;
  for (let i = start; i < text.length - 1; i++) {
    if (text[i] === '<' && text[i + 1] === '<') { depth++; i++; } else if (text[i] === '>' && text[i + 1] === '>') {
      depth--; i++;
      if (depth === 0) return { body: text.slice(start, i + 1), end: i + 1 };
    }
  }
  throw malformedPdf('unterminated dictionary');
}

/** Undoes the PNG predictors (Predictor ≥ 10) row by row. */
export function unpredictPng(data: Buffer, columns: number): Buffer {
  const row = columns + 1;
  if (data.length % row !== 0) throw malformedPdf('cross-reference stream rows do not fit /Columns');
  const out = Buffer.alloc((data.length / row) * columns);
  let prev = Buffer.alloc(columns);
  for (let r = 0; r * row < data.length; r++) {
    const type = data[r * row]!;
    const cur = out.subarray(r * columns, (r + 1) * columns);
    for (let i = 0; i < columns; i++) {
      const x = data[r * row + 1 + i]!;
      const a = i > 0 ? cur[i - 1]! : 0;
      const b = prev[i]!;
      const c = i > 0 ? prev[i - 1]! : 0;
      let v: number;
      switch (type) {
        case 0: v = x; break;
        case 1: v = x + a; break;
        case 2: v = x + b; break;
        case 3: v = x + ((a + b) >> 1); break;
        case 4: {
          const p = a + b - c; const pa = Math.abs(p - a); const pb = Math.abs(p - b); const pc = Math.abs(p - c);
          v = x + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c); break;
        }
        default: throw malformedPdf(`unknown PNG predictor ${type}`);
      }
      cur[i] = v & 0xff;
    }
    prev = cur;
  }
  return out;
}

type Keys = ReturnType<typeof parseTrailerKeys>;

async function readSection(fh: FileHandle, offset: number, into: Map<number, XrefEntry>): Promise<Keys & { stream: boolean }> {
  const head = await readAt(fh, offset, 64);
  const headText = head.toString('latin1');
  if (headText.startsWith('xref')) return { ...(await readTable(fh, offset, into)), stream: false };
  if (/^\s*\d+\s+\d+\s+obj/.test(headText)) return { ...(await readStream(fh, offset, into)), stream: true };
  throw malformedPdf(`no cross-reference section at offset ${offset}`);
}

async function readTable(fh: FileHandle, offset: number, into: Map<number, XrefEntry>): Promise<Keys> {
  // Read in growing chunks until the trailer dictionary is complete; a table is 20 bytes an entry.
  let len = 64 * 1024;
  for (;;) {
    const buf = await readAt(fh, offset, len);
    const text = buf.toString('latin1');
    const t = text.indexOf('trailer');
    if (t >= 0) {
      let d: { body: string } | undefined;
      try { d = dictAt(text, t); } catch { d = undefined; }
      if (d) {
        const lines = text.slice(4, t).split(/\r\n|\r|\n/).map((l) => l.trim()).filter(Boolean);
        let obj = 0;
        for (const line of lines) {
          const sub = /^(\d+)\s+(\d+)$/.exec(line);
          if (sub) { obj = Number(sub[1]); continue; }
          const e = /^(\d{10})\s+(\d{5})\s+([nf])$/.exec(line);
          if (!e) throw malformedPdf(`bad cross-reference line "${line.slice(0, 30)}"`);
          if (!into.has(obj) && e[3] === 'n') into.set(obj, { kind: 'offset', offset: Number(e[1]), gen: Number(e[2]) });
          else if (!into.has(obj)) into.set(obj, { kind: 'offset', offset: -1, gen: Number(e[2]) });
          obj++;
        }
        return parseTrailerKeys(d.body);
      }
    }
    if (buf.length < len) throw malformedPdf('cross-reference table without a trailer');
    len *= 4;
  }
}

async function readStream(fh: FileHandle, offset: number, into: Map<number, XrefEntry>): Promise<Keys> {
  const head = (await readAt(fh, offset, 4096)).toString('latin1');
  const d = dictAt(head, 0);
  const keys = parseTrailerKeys(d.body);
  if (keys.type !== 'XRef') throw malformedPdf(`object at ${offset} is not a cross-reference stream`);
  if (keys.length === undefined) throw malformedPdf('cross-reference stream /Length is not a direct number');
  const m = /stream(\r\n|\n)/.exec(head.slice(d.end));
  if (!m) throw malformedPdf('cross-reference stream without data');
  const dataAt = offset + d.end + m.index + m[0].length;
  let data = await readAt(fh, dataAt, keys.length);
  if (keys.filter === 'FlateDecode') data = inflateSync(data);
  else if (keys.filter !== undefined) throw malformedPdf(`cross-reference stream filter /${keys.filter} is not supported`);
  const w = keys.w;
  if (!w || w.length !== 3) throw malformedPdf('cross-reference stream /W');
  const rowLen = w[0]! + w[1]! + w[2]!;
  if ((keys.predictor ?? 1) >= 10) data = unpredictPng(data, keys.columns ?? rowLen);
  else if ((keys.predictor ?? 1) !== 1) throw malformedPdf(`predictor ${keys.predictor} is not supported`);
  const index = keys.index ?? [0, keys.size ?? 0];
  const field = (pos: number, width: number, dflt: number): number => {
    if (width === 0) return dflt;
    let v = 0;
    for (let i = 0; i < width; i++) v = v * 256 + data[pos + i]!;
    return v;
  };
  let pos = 0;
  for (let s = 0; s < index.length; s += 2) {
    for (let k = 0; k < index[s + 1]!; k++, pos += rowLen) {
      if (pos + rowLen > data.length) throw malformedPdf('cross-reference stream shorter than /Index');
      const obj = index[s]! + k;
      const type = field(pos, w[0]!, 1);
      const a = field(pos + w[0]!, w[1]!, 0);
      const b = field(pos + w[0]! + w[1]!, w[2]!, 0);
      if (into.has(obj)) continue;
      if (type === 1) into.set(obj, { kind: 'offset', offset: a, gen: b });
      else if (type === 2) into.set(obj, { kind: 'compressed', stream: a, index: b });
      else into.set(obj, { kind: 'offset', offset: -1, gen: b });
    }
  }
  return keys;
}

/** Reads every cross-reference section of the PDF at `path`, newest first, holding none of its content. */
export async function readXref(path: string): Promise<XrefInfo> {
  const fh = await open(path, 'r');
  try {
    const { size: fileSize } = await fh.stat();
    const tailLen = Math.min(2048, fileSize);
    const startxref = parseStartxref(await readAt(fh, fileSize - tailLen, tailLen));
    const entries = new Map<number, XrefEntry>();
    const seen = new Set<number>();
    let next: number | undefined = startxref;
    let newest: (Keys & { stream: boolean }) | undefined;
    while (next !== undefined) {
      if (seen.has(next) || next >= fileSize) throw malformedPdf('cross-reference /Prev chain loops or points outside the file');
      seen.add(next);
      const keys = await readSection(fh, next, entries);
      // A hybrid file's table names its stream in /XRefStm; those entries rank just below the table's.
      if (keys.xrefStm !== undefined && !seen.has(keys.xrefStm)) { seen.add(keys.xrefStm); await readSection(fh, keys.xrefStm, entries); }
      newest ??= keys;
      next = keys.prev;
    }
    if (!newest) throw malformedPdf('no cross-reference section');
    if (newest.encrypt) throw malformedPdf('encrypted PDFs cannot be signed');
    if (!newest.root || newest.size === undefined) throw malformedPdf('trailer without /Root or /Size');
    for (const [k, v] of entries) if (v.kind === 'offset' && v.offset < 0) entries.delete(k);
    return {
      startxref, entries, size: newest.size, root: newest.root,
      ...(newest.info ? { info: newest.info } : {}), ...(newest.id0 ? { id0: newest.id0, id1: newest.id1 ?? newest.id0 } : {}),
      usesXrefStream: newest.stream,
    };
  } finally {
    await fh.close();
  }
}
