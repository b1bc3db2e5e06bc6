// The cross-reference reader of the streaming PAdES path: it must find every object of files written
// with classic tables and with cross-reference streams + object streams, follow /Prev, and refuse what it
// cannot read with an error naming the document.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { PDFDocument, PDFName, PDFRef } from '@cantoo/pdf-lib';
import { DomainError } from '../../domain/errors';
import { parseStartxref, parseTrailerKeys, readXref, unpredictPng } from '../../infra/signing/pdf-xref';
import { openPdfLazily } from '../../infra/signing/pdf-lazy';

const dir = mkdtempSync(join(tmpdir(), 'pdf-xref-'));

async function makePdf(useObjectStreams: boolean, pages = 3): Promise<Buffer> {
  const doc = await PDFDocument.create();
  for (let i = 0; i < pages; i++) doc.addPage([200, 200]);
  return Buffer.from(await doc.save({ useObjectStreams }));
}

function objAt(pdf: Buffer, offset: number): string {
  return pdf.subarray(offset, offset + 20).toString('latin1');
}

describe('PDF cross-reference reader', () => {
  it('reads a classic xref table: every in-use object is at an "N G obj" offset', async () => {
    const pdf = await makePdf(false);
    const path = join(dir, 'classic.pdf');
    writeFileSync(path, pdf);
    const x = await readXref(path);
    expect(x.usesXrefStream).toBe(false);
    expect(x.entries.size).toBe(x.size - 1);
    for (const [num, e] of x.entries) {
      expect(e.kind).toBe('offset');
      if (e.kind === 'offset') expect(objAt(pdf, e.offset)).toMatch(new RegExp(`^${num} ${e.gen} obj`));
    }
    expect(x.entries.has(x.root.num)).toBe(true);
    expect(x.startxref).toBe(parseStartxref(pdf.subarray(pdf.length - 100)));
  });

  it('reads a cross-reference stream with objects in object streams', async () => {
    const pdf = await makePdf(true);
    const path = join(dir, 'xrefstm.pdf');
    writeFileSync(path, pdf);
    const x = await readXref(path);
    expect(x.usesXrefStream).toBe(true);
    let compressed = 0;
    for (const [num, e] of x.entries) {
      if (e.kind === 'offset') {
        expect(objAt(pdf, e.offset)).toMatch(new RegExp(`^${num} ${e.gen} obj`));
      } else {
        compressed++;
        const stm = x.entries.get(e.stream);
        expect(stm?.kind).toBe('offset');
        if (stm?.kind === 'offset') expect(pdf.subarray(stm.offset, stm.offset + 200).toString('latin1')).toContain('/ObjStm');
      }
    }
    expect(compressed).toBeGreaterThan(0);
    expect(x.entries.has(x.root.num)).toBe(true);
  });

  it('follows /Prev through an appended section; the newer entry wins', async () => {
    const base = await makePdf(false, 1);
    const x0 = await readXref(await write('base.pdf', base));
    const rootEntry = x0.entries.get(x0.root.num);
    if (rootEntry?.kind !== 'offset') throw new Error('root not at an offset');
    const rootText = base.subarray(rootEntry.offset).toString('latin1');
    const rootBody = rootText.slice(rootText.indexOf('<<'), rootText.indexOf('endobj'));
    const appendedAt = base.length + 1;
    const newRoot = `${x0.root.num} 0 obj\n${rootBody.trim().replace(/>>$/, '/Lang (zh-CN) >>')}\nendobj\n`;
    const xrefAt = appendedAt + newRoot.length;
    const section = `xref\n${x0.root.num} 1\n${String(appendedAt).padStart(10, '0')} 00000 n \n` +
      `trailer\n<< /Size ${x0.size} /Root ${x0.root.num} 0 R /Prev ${x0.startxref} >>\nstartxref\n${xrefAt}\n%%EOF\n`;
    const pdf = Buffer.concat([base, Buffer.from('\n' + newRoot + section, 'latin1')]);
    const path = await write('updated.pdf', pdf);
    const x = await readXref(path);
    expect(x.startxref).toBe(xrefAt);
    expect(x.entries.get(x.root.num)).toEqual({ kind: 'offset', offset: appendedAt, gen: 0 });
    expect(x.entries.size).toBe(x0.entries.size);
    // pdf-lib, an independent reader, opens the update and sees the new catalog entry.
    const doc = await PDFDocument.load(readFileSync(path));
    expect(doc.catalog.get(PDFName.of('Lang'))?.toString()).toBe('(zh-CN)');
  });

  it('reads a table longer than its 1 MiB read chunks (70,000 objects, CRLF line ends): an entry cut by a chunk boundary is read whole', async () => {
    const n = 70_000;
    const parts = ['%PDF-1.7\n'];
    let pos = parts[0]!.length;
    const offsets: number[] = [];
    const obj = (text: string) => {
      offsets.push(pos);
      parts.push(text);
      pos += text.length;
    };
    obj('1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n');
    obj('2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n');
    for (let i = 3; i <= n; i++) obj(`${i} 0 obj\n${i}\nendobj\n`);
    parts.push(`xref\r\n0 ${n + 1}\r\n0000000000 65535 f\r\n${offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n\r\n`).join('')}trailer\n<< /Size ${n + 1} /Root 1 0 R >>\nstartxref\n${pos}\n%%EOF\n`);
    const pdf = Buffer.from(parts.join(''), 'latin1');
    const x = await readXref(await write('long.pdf', pdf));
    expect(x.entries.size).toBe(n);
    for (const num of [1, 2, 3, 52_429, 52_430, n]) expect(objAt(pdf, (x.entries.get(num) as { offset: number }).offset)).toMatch(new RegExp(`^${num} 0 obj`));
  });

  it('refuses a cross-reference stream that inflates past its limit (a compression bomb), naming the document', async () => {
    const bomb = deflateSync(Buffer.alloc(80 * 1024 * 1024));
    const head = `%PDF-1.7\n`;
    const xref = Buffer.concat([Buffer.from(`1 0 obj\n<< /Type /XRef /Size 2 /W [1 1 1] /Root 1 0 R /Filter /FlateDecode /Length ${bomb.length} >>\nstream\n`), bomb, Buffer.from('\nendstream\nendobj\n')]);
    const pdf = Buffer.concat([Buffer.from(head), xref, Buffer.from(`startxref\n${head.length}\n%%EOF\n`)]);
    await expect(readXref(await write('bomb.pdf', pdf))).rejects.toMatchObject({ code: 'PDF_MALFORMED', field: 'document' });
  });

  it('undoes the PNG Up predictor of a cross-reference stream', () => {
    const rows = Buffer.from([2, 1, 0, 10, 2, 0, 0, 5]);
    expect([...unpredictPng(rows, 3)]).toEqual([1, 0, 10, 1, 0, 15]);
  });

  it('refuses a file without startxref, naming the document', async () => {
    const path = await write('bad.pdf', Buffer.from('%PDF-1.7\n1 0 obj << >> endobj\n%%EOF\n'));
    await expect(readXref(path)).rejects.toMatchObject({ code: 'PDF_MALFORMED', field: 'document' });
    await expect(readXref(path)).rejects.toBeInstanceOf(DomainError);
  });
});

describe('hostile cross-references (a public verification reads any uploaded PDF)', () => {
  /** The PDF with one more classic section appended, listing `lines` (subsection headers and entries). */
  async function withSection(pdf: Buffer, lines: string): Promise<Buffer> {
    const path = await write('base-for-section.pdf', pdf);
    const { root, size } = await readXref(path);
    const section = `xref\n${lines}trailer\n<< /Size ${size} /Root ${root.num} ${root.gen} R /Prev ${parseStartxref(pdf.subarray(-100))} >>\nstartxref\n${pdf.length}\n%%EOF\n`;
    return Buffer.concat([pdf, Buffer.from(section, 'latin1')]);
  }

  it('reads trailer numbers in time linear in the spaces around them, and never takes a reference for a number', () => {
    expect(parseTrailerKeys(`<< /Size 1${' '.repeat(200_000)}/Root 1 0 R >>`).size).toBe(1);
    expect(parseTrailerKeys('<< /Size 12 0 R /Prev 34 >>')).toMatchObject({ size: undefined, prev: 34 });
  });

  it('refuses an object number past the format limit (it would wrap onto the entry of another object)', async () => {
    const pdf = await withSection(await makePdf(false), '4294967301 1\n0000000009 00000 n\r\n');
    await expect(readXref(await write('wrap.pdf', pdf))).rejects.toMatchObject({ code: 'PDF_MALFORMED', field: 'document' });
  });

  it('refuses an object listed twice in one section (readers could take either entry)', async () => {
    const pdf = await withSection(await makePdf(false), '5 1\n0000000009 00000 n\r\n5 1\n0000000015 00000 n\r\n');
    await expect(readXref(await write('twice.pdf', pdf))).rejects.toMatchObject({ code: 'PDF_MALFORMED', field: 'document' });
  });

  it('refuses an object stream whose /N claims more objects than it lists (it would loop for ever)', async () => {
    const pdf = await makePdf(true);
    const text = pdf.toString('latin1');
    const at = text.indexOf('/Type /ObjStm');
    const dict = text.slice(text.lastIndexOf('<<', at), text.indexOf('>>', at));
    const n = /\/N (\d)\b/.exec(dict);
    expect(n).not.toBeNull();
    const forged = Buffer.from(text.replace(dict, dict.replace(n![0], '/N 9')), 'latin1'); // same length: offsets hold
    const lazy = await openPdfLazily(await write('huge-n.pdf', forged));
    try {
      const [num] = [...lazy.xref.entries].find(([, e]) => e.kind === 'compressed')!; // an object inside that stream
      let refused: unknown;
      try {
        lazy.doc.context.lookup(PDFRef.of(num, 0));
      } catch (e) {
        refused = e;
      }
      expect(refused).toMatchObject({ code: 'PDF_MALFORMED', field: 'document' });
    } finally {
      lazy.close();
    }
  });
});

async function write(name: string, bytes: Buffer): Promise<string> {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return Promise.resolve(path);
}
