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

/** Objects a file may have (ISO 32000-1 Annex C.2: 8,388,607 indirect objects); more is refused. */
const MAX_ENTRIES = 8_388_607;
/** Largest cross-reference stream, compressed or not (a million objects take about 5 MB). */
const MAX_XREF_STREAM_BYTES = 64 * 1024 * 1024;
/** What all of a file's cross-reference streams may inflate to together: a hostile file's many small streams
 * inflating to 64 MiB each would otherwise cost minutes of CPU (the PNG predictor runs byte by byte). */
const MAX_XREF_INFLATED_TOTAL = 128 * 1024 * 1024;
/** Cross-reference sections a file may have (one per incremental update: a signed contract has a handful). */
const MAX_SECTIONS = 512;
const FREE = 0;
const OFFSET = 1;
const COMPRESSED = 2;

/** One section's entries in typed arrays (17 bytes an entry, not an object each), sorted by object number. */
class SectionEntries {
  nums = new Uint32Array(64);
  kinds = new Uint8Array(64);
  a = new Float64Array(64); // offset, or the object stream's number
  b = new Uint32Array(64); // generation, or the index in the object stream
  n = 0;

  add(num: number, kind: number, a: number, b: number): void {
    // Checked here, not after the section: a Uint32Array would wrap a larger number onto another object's.
    if (!Number.isSafeInteger(num) || num < 0 || num > MAX_ENTRIES) throw malformedPdf(`object number ${num} is out of range`);
    if (this.n >= MAX_ENTRIES) throw malformedPdf(`more than ${MAX_ENTRIES} cross-reference entries`);
    if (this.n === this.nums.length) {
      const grow = <T extends Uint32Array | Uint8Array | Float64Array>(arr: T): T => {
        const next = new (arr.constructor as new (n: number) => T)(arr.length * 2);
        next.set(arr);
        return next;
      };
      [this.nums, this.kinds, this.a, this.b] = [grow(this.nums), grow(this.kinds), grow(this.a), grow(this.b)];
    }
    this.nums[this.n] = num;
    this.kinds[this.n] = kind;
    this.a[this.n] = a;
    this.b[this.n] = b;
    this.n++;
  }

  /** Sorts by object number (sections list them in order, so usually nothing moves) and drops the spare room. */
  finish(): void {
    let sorted = true;
    for (let i = 1; i < this.n && sorted; i++) sorted = this.nums[i - 1]! <= this.nums[i]!;
    const order = sorted ? null : Array.from({ length: this.n }, (_, i) => i).sort((x, y) => this.nums[x]! - this.nums[y]!);
    const pick = <T extends Uint32Array | Uint8Array | Float64Array>(arr: T): T => {
      if (!order) return arr.slice(0, this.n) as T;
      const out = new (arr.constructor as new (n: number) => T)(this.n);
      order.forEach((from, to) => (out[to] = arr[from]!));
      return out;
    };
    [this.nums, this.kinds, this.a, this.b] = [pick(this.nums), pick(this.kinds), pick(this.a), pick(this.b)];
    // An object listed twice in one section is ambiguous (which entry a reader takes decides what it shows).
    for (let i = 1; i < this.n; i++) if (this.nums[i - 1] === this.nums[i]) throw malformedPdf(`object ${this.nums[i]} is listed twice in one cross-reference section`);
  }

  /** The highest object number listed (the section is sorted once finished). */
  get highest(): number {
    return this.n ? this.nums[this.n - 1]! : 0;
  }

  indexOf(num: number): number {
    let lo = 0;
    let hi = this.n - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const v = this.nums[mid]!;
      if (v === num) return mid;
      if (v < num) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }
}

/**
 * The entries of every section, newest first: an object's entry is the one of the newest section that
 * lists it (a free entry there hides older ones). Read like a Map of the in-use objects.
 */
export class XrefEntries implements Iterable<[number, XrefEntry]> {
  private readonly sections: SectionEntries[] = [];
  private total = 0;
  private counted: number | undefined;

  /** A section read after (older than) those before it. */
  newSection(): SectionEntries {
    const s = new SectionEntries();
    this.sections.push(s);
    return s;
  }

  /** The highest object number any section lists: new objects are numbered after it, whatever /Size says. */
  highest(): number {
    return this.sections.reduce((m, s) => Math.max(m, s.highest), 0);
  }

  /** Counts a section's entries against the file's limit. */
  account(n: number): void {
    this.total += n;
    if (this.total > MAX_ENTRIES) throw malformedPdf(`more than ${MAX_ENTRIES} cross-reference entries`);
  }

  private find(num: number): { s: SectionEntries; i: number } | null {
    for (const s of this.sections) {
      const i = s.indexOf(num);
      if (i >= 0) return { s, i };
    }
    return null;
  }

  private entryAt(s: SectionEntries, i: number): XrefEntry | undefined {
    const kind = s.kinds[i];
    if (kind === OFFSET) return { kind: 'offset', offset: s.a[i]!, gen: s.b[i]! };
    if (kind === COMPRESSED) return { kind: 'compressed', stream: s.a[i]!, index: s.b[i]! };
    return undefined;
  }

  get(num: number): XrefEntry | undefined {
    const f = this.find(num);
    return f ? this.entryAt(f.s, f.i) : undefined;
  }

  has(num: number): boolean {
    return this.get(num) !== undefined;
  }

  get size(): number {
    if (this.counted === undefined) {
      let n = 0;
      for (const _ of this) n++;
      this.counted = n;
    }
    return this.counted;
  }

  *[Symbol.iterator](): IterableIterator<[number, XrefEntry]> {
    for (const s of this.sections) {
      for (let i = 0; i < s.n; i++) {
        const num = s.nums[i]!;
        const f = this.find(num);
        if (f?.s !== s || f.i !== i) continue; // listed by a newer section
        const e = this.entryAt(s, i);
        if (e) yield [num, e];
      }
    }
  }

  *values(): IterableIterator<XrefEntry> {
    for (const [, e] of this) yield e;
  }

  /** Every object offset any section names, sorted (where each object's bytes end: the next one's start). */
  sortedOffsets(extra: number[]): Float64Array {
    let n = extra.length;
    for (const s of this.sections) for (let i = 0; i < s.n; i++) if (s.kinds[i] === OFFSET) n++;
    const out = new Float64Array(n);
    let k = 0;
    for (const s of this.sections) for (let i = 0; i < s.n; i++) if (s.kinds[i] === OFFSET) out[k++] = s.a[i]!;
    for (const x of extra) out[k++] = x;
    return out.sort();
  }
}

export interface XrefInfo {
  /** The offset the file's last `startxref` names (the new section's /Prev). */
  startxref: number;
  /** The newest entry of each in-use object; free objects are absent. */
  entries: XrefEntries;
  size: number;
  root: { num: number; gen: number };
  info?: { num: number; gen: number };
  /** The trailer's /ID, hex, if any (an update keeps it: ISO 32000-1 §14.4). */
  id0?: string;
  id1?: string;
  /** Where each section read begins (objects end where a section starts, too). */
  sectionOffsets: number[];
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
    // Not a reference ("/Size 12 0 R"): neither more digits nor "<gen> R" follow. Linear on long runs of spaces.
    const m = new RegExp(`/${k}\\s+(\\d+)(?!\\d)(?!\\s+\\d+\\s+R\\b)`).exec(dict);
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

async function readSection(fh: FileHandle, offset: number, entries: XrefEntries, budget: { inflated: number }): Promise<Keys & { stream: boolean }> {
  const head = await readAt(fh, offset, 64);
  const headText = head.toString('latin1');
  const into = entries.newSection();
  let keys: Keys & { stream: boolean };
  if (headText.startsWith('xref')) keys = { ...(await readTable(fh, offset, into)), stream: false };
  else if (/^\s*\d+\s+\d+\s+obj/.test(headText)) keys = { ...(await readStream(fh, offset, into, budget)), stream: true };
  else throw malformedPdf(`no cross-reference section at offset ${offset}`);
  into.finish();
  entries.account(into.n);
  return keys;
}

/** A classic table, read in 1 MiB chunks up to its `trailer` (20 bytes an entry: never held whole). */
async function readTable(fh: FileHandle, offset: number, into: SectionEntries): Promise<Keys> {
  const CHUNK = 1024 * 1024;
  let pos = offset + 4; // after "xref"
  let carry = '';
  let obj = 0;
  const line = (raw: string) => {
    const l = raw.trim();
    if (!l) return;
    const sub = /^(\d+)\s+(\d+)$/.exec(l);
    if (sub) { obj = Number(sub[1]); return; }
    const e = /^(\d{10})\s+(\d{5})\s+([nf])$/.exec(l);
    if (!e) throw malformedPdf(`bad cross-reference line "${l.slice(0, 30)}"`);
    into.add(obj, e[3] === 'n' ? OFFSET : FREE, Number(e[1]), Number(e[2]));
    if (into.n > MAX_ENTRIES) throw malformedPdf(`more than ${MAX_ENTRIES} cross-reference entries`);
    obj++;
  };
  for (;;) {
    const chunk = await readAt(fh, pos, CHUNK);
    if (chunk.length === 0) throw malformedPdf('cross-reference table without a trailer');
    const textStart = pos - carry.length;
    pos += chunk.length;
    const text = carry + chunk.toString('latin1');
    const t = text.indexOf('trailer');
    if (t >= 0) {
      text.slice(0, t).split(/\r\n|\r|\n/).forEach(line);
      const tail = (await readAt(fh, textStart + t, 64 * 1024)).toString('latin1');
      let d: { body: string };
      try { d = dictAt(tail, 0); } catch { throw malformedPdf('cross-reference table without a trailer'); }
      return parseTrailerKeys(d.body);
    }
    const lines = text.split(/\r\n|\r|\n/);
    carry = lines.pop()!; // maybe cut by the chunk's end
    if (carry.length > 1024) throw malformedPdf('cross-reference table without a trailer');
    lines.forEach(line);
  }
}

async function readStream(fh: FileHandle, offset: number, into: SectionEntries, budget: { inflated: number }): Promise<Keys> {
  const head = (await readAt(fh, offset, 4096)).toString('latin1');
  const d = dictAt(head, 0);
  const keys = parseTrailerKeys(d.body);
  if (keys.type !== 'XRef') throw malformedPdf(`object at ${offset} is not a cross-reference stream`);
  if (keys.length === undefined) throw malformedPdf('cross-reference stream /Length is not a direct number');
  if (keys.length > MAX_XREF_STREAM_BYTES) throw malformedPdf('cross-reference stream too large');
  const m = /stream(\r\n|\n)/.exec(head.slice(d.end));
  if (!m) throw malformedPdf('cross-reference stream without data');
  const dataAt = offset + d.end + m.index + m[0].length;
  let data = await readAt(fh, dataAt, keys.length);
  if (keys.filter === 'FlateDecode') {
    try {
      data = inflateSync(data, { maxOutputLength: Math.min(MAX_XREF_STREAM_BYTES, budget.inflated) });
    } catch (e) {
      throw malformedPdf(`cross-reference stream cannot be inflated (${(e as Error).message})`);
    }
    budget.inflated -= data.length;
  } else if (keys.filter !== undefined) throw malformedPdf(`cross-reference stream filter /${keys.filter} is not supported`);
  const w = keys.w;
  if (!w || w.length !== 3 || w.some((x) => x > 8)) throw malformedPdf('cross-reference stream /W');
  const rowLen = w[0]! + w[1]! + w[2]!;
  if (rowLen === 0) throw malformedPdf('cross-reference stream /W');
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
      into.add(obj, type === 1 ? OFFSET : type === 2 ? COMPRESSED : FREE, a, b);
    }
  }
  return keys;
}

/**
 * Reads every cross-reference section of the PDF at `path`, newest first, holding none of its content.
 * `end`: read the revision that ends there (the bytes a signature's ByteRange ends at), not the whole file.
 */
export async function readXref(path: string, end?: number): Promise<XrefInfo> {
  const fh = await open(path, 'r');
  try {
    const { size } = await fh.stat();
    const fileSize = end === undefined ? size : Math.min(end, size);
    const tailLen = Math.min(2048, fileSize);
    const startxref = parseStartxref(await readAt(fh, fileSize - tailLen, tailLen));
    const entries = new XrefEntries();
    const seen = new Set<number>();
    const budget = { inflated: MAX_XREF_INFLATED_TOTAL };
    const read = (at: number) => {
      if (seen.size >= MAX_SECTIONS) throw malformedPdf(`more than ${MAX_SECTIONS} cross-reference sections`);
      seen.add(at);
      return readSection(fh, at, entries, budget);
    };
    let next: number | undefined = startxref;
    let newest: (Keys & { stream: boolean }) | undefined;
    while (next !== undefined) {
      if (seen.has(next) || next >= fileSize) throw malformedPdf('cross-reference /Prev chain loops or points outside the file');
      const keys = await read(next);
      // A hybrid file's table names its stream in /XRefStm; those entries rank just below the table's.
      if (keys.xrefStm !== undefined && !seen.has(keys.xrefStm) && keys.xrefStm < fileSize) await read(keys.xrefStm);
      newest ??= keys;
      next = keys.prev;
    }
    if (!newest) throw malformedPdf('no cross-reference section');
    if (newest.encrypt) throw malformedPdf('encrypted PDFs cannot be signed');
    if (!newest.root || newest.size === undefined) throw malformedPdf('trailer without /Root or /Size');
    return {
      startxref, entries, size: newest.size, root: newest.root, sectionOffsets: [...seen],
      ...(newest.info ? { info: newest.info } : {}), ...(newest.id0 ? { id0: newest.id0, id1: newest.id1 ?? newest.id0 } : {}),
      usesXrefStream: newest.stream,
    };
  } finally {
    await fh.close();
  }
}
