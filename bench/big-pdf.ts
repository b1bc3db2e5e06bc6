// Helpers of the memory benchmarks (bench:verify-memory; the same code as in bench/sign.ts, which may use
// this module once its branch is merged): a real large PDF written as a stream, and RSS/heap/Buffers growth
// of this process sampled while an operation runs.
import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { now } from './lib';

/**
 * A real PDF of about `mb` MB written as a stream, never held whole: one A4 page showing one large grey image
 * (its samples written in 1 MiB chunks), with a classic cross-reference table, as scanners produce.
 */
export async function writeBigPdf(file: string, mb: number): Promise<void> {
  const out = createWriteStream(file);
  let pos = 0;
  const offsets: number[] = [];
  const write = async (w: WriteStream, b: Buffer | string) => {
    const buf = typeof b === 'string' ? Buffer.from(b, 'latin1') : b;
    pos += buf.length;
    if (!w.write(buf)) await once(w, 'drain');
  };
  const obj = async (body: string) => {
    offsets.push(pos);
    await write(out, `${offsets.length} 0 obj\n${body}\nendobj\n`);
  };
  const width = 4096;
  const rows = Math.ceil((mb * 1024 * 1024) / width);
  const content = 'q 500 0 0 700 47 70 cm /Scan Do Q';
  await write(out, '%PDF-1.7\n%\xe2\xe3\xcf\xd3\n');
  await obj('<< /Type /Catalog /Pages 2 0 R >>');
  await obj('<< /Type /Pages /Kids [3 0 R] /Count 1 >>');
  await obj('<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595.28 841.89] /Contents 4 0 R /Resources << /XObject << /Scan 5 0 R >> >> >>');
  await obj(`<< /Length ${content.length} >>\nstream\n${content}\nendstream`);
  offsets.push(pos);
  await write(out, `5 0 obj\n<< /Type /XObject /Subtype /Image /Width ${width} /Height ${rows} /ColorSpace /DeviceGray /BitsPerComponent 8 /Length ${width * rows} >>\nstream\n`);
  const chunkRows = 256;
  const chunk = Buffer.alloc(width * chunkRows);
  for (let r = 0; r < rows; r += chunkRows) {
    for (let i = 0; i < chunk.length; i++) chunk[i] = (i + r * 7) & 0xff;
    await write(out, rows - r >= chunkRows ? chunk : chunk.subarray(0, (rows - r) * width));
  }
  await write(out, '\nendstream\nendobj\n');
  const xref = pos;
  await write(out, `xref\n0 ${offsets.length + 1}\n0000000000 65535 f \n${offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('')}`);
  await write(out, `trailer\n<< /Size ${offsets.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`);
  out.end();
  await once(out, 'finish');
}

/** RSS, heap and Buffers of this process (the web and both workers) sampled every 20 ms while `op` runs, from a settled baseline. */
export async function memoryGrowth<T>(op: () => Promise<T>): Promise<{ result: T; seconds: number; rss: number; heap: number; buffers: number }> {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const base = process.memoryUsage();
  let peak = base;
  const sampler = setInterval(() => {
    const m = process.memoryUsage();
    peak = { ...m, rss: Math.max(peak.rss, m.rss), heapUsed: Math.max(peak.heapUsed, m.heapUsed), arrayBuffers: Math.max(peak.arrayBuffers, m.arrayBuffers) };
  }, 20);
  const t0 = now();
  try {
    const result = await op();
    const mb = (n: number) => n / 1024 / 1024;
    return { result, seconds: (now() - t0) / 1000, rss: mb(peak.rss - base.rss), heap: mb(peak.heapUsed - base.heapUsed), buffers: mb(peak.arrayBuffers - base.arrayBuffers) };
  } finally {
    clearInterval(sampler);
  }
}
