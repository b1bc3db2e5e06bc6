// M10 and M13: the production and cancellation certificates, rendered from handlebars to HTML and from HTML
// to PDF in headless Chromium, then read back with poppler (pdftotext, pdffonts, pdftoppm), tools nobody
// here wrote. Inputs are hostile: the holder's name carries a script tag. Needs the Debian packages
// chromium, poppler-utils and fonts-noto-cjk; no other service.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Resvg } from '@resvg/resvg-js';
import { PdfRenderer } from '../../infra/documents/pdf-renderer';
import {
  renderDocumentHtml,
  type CancellationCertificateData,
  type ProductionCertificateData,
} from '../../infra/documents/render';

const ARTIFACTS = path.resolve(__dirname, '../../test-artifacts/documents');
const HOSTILE_NAME = '<script>alert(1)</script>北京示范科技有限公司';
const ESCAPED_NAME = '&lt;script&gt;alert(1)&lt;/script&gt;北京示范科技有限公司';
const SEAL_CODE = '1101050012345';
const SERIAL = '5F3A9C0D2E7B41A8C6D09E1F2A3B4C5D6E7F8091';
const FINGERPRINT = 'a3f1c29e8b7d6054e3c2b1a09f8e7d6c5b4a39281706f5e4d3c2b1a098f7e6d5';

/** A round seal like the imprint renderer's: red ring, star, name along the arc, seal kind, seal code. */
function imprintSvg(name: string, label: string, code: string): Buffer {
  const xml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
  return Buffer.from(
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 400 400" width="400" height="400">
  <defs><path id="arc" d="M 78 230 A 125 125 0 1 1 322 230"/></defs>
  <circle cx="200" cy="200" r="188" fill="none" stroke="#d42020" stroke-width="12"/>
  <text font-family="Noto Serif CJK SC" font-weight="bold" font-size="40" fill="#d42020" text-anchor="middle">
    <textPath href="#arc" startOffset="50%">${xml(name)}</textPath></text>
  <polygon fill="#d42020" points="200,128 217,180 272,180 228,212 244,264 200,232 156,264 172,212 128,180 183,180"/>
  <text x="200" y="312" font-family="Noto Serif CJK SC" font-weight="bold" font-size="32" fill="#d42020" text-anchor="middle">${xml(label)}</text>
  <text x="200" y="352" font-family="Noto Sans Mono CJK SC" font-size="18" fill="#d42020" text-anchor="middle">${xml(code)}</text>
  <script>alert('svg')</script>
</svg>`,
    'utf8',
  );
}

const svg = imprintSvg('北京示范科技有限公司', '合同专用章(2)', SEAL_CODE);
const png = Buffer.from(
  new Resvg(svg, { fitTo: { mode: 'width', value: 600 }, font: { loadSystemFonts: true } }).render().asPng(),
);

const maker = { name: '北京市朝阳区示范印章制作有限公司 "&\' <b>', licenceNumber: '京公印制许字第110105023号' };

const production: ProductionCertificateData = {
  documentNumber: '京章制证〔2025〕第000123号',
  holder: { name: HOSTILE_NAME, uscc: '91110105MA01ABCD2X' },
  seal: { kindLabel: { zh: '合同专用章', en: 'Contract seal' }, number: 2, code: SEAL_CODE },
  certificate: { serial: SERIAL, sha256Fingerprint: FINGERPRINT },
  imprint: { mediaType: 'image/png', bytes: png },
  maker,
  producedAt: new Date('2025-03-12T06:30:00Z'),
  filedAt: new Date('2025-03-12T09:05:00Z'),
  policeOffice: '北京市公安局朝阳分局',
  issuedAt: new Date('2025-03-14T02:00:00Z'),
};

const cancellation: CancellationCertificateData = {
  documentNumber: '京章登证〔2025〕第000045号',
  holder: { name: HOSTILE_NAME, uscc: '91110105MA01ABCD2X' },
  seal: { kindLabel: { zh: '合同专用章', en: 'Contract seal' }, number: 2, code: SEAL_CODE },
  certificate: { serial: SERIAL, sha256Fingerprint: FINGERPRINT },
  reason: 'unclaimed',
  reasonDetail: '制作完成后超过三个月未领取 <img src=x onerror=alert(2)>',
  cancelledAt: new Date('2025-06-13T01:00:00Z'),
  revokedAt: new Date('2025-06-13T01:00:07Z'),
  maker,
  imprint: { mediaType: 'image/svg+xml', bytes: svg },
};

function pdftotext(file: string): string {
  return execFileSync('pdftotext', ['-enc', 'UTF-8', file, '-'], { encoding: 'utf8' });
}
const squeeze = (s: string) => s.replace(/\s+/g, '');

/** RSS and PSS (kB) of every process descending from this one: the Chromium tree. */
function chromiumMemory(): { processes: number; rssKb: number; pssKb: number } {
  const parent = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      parent.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      /* gone */
    }
  }
  const isDescendant = (pid: number): boolean => {
    for (let p = parent.get(pid); p !== undefined && p > 1; p = parent.get(p)) if (p === process.pid) return true;
    return false;
  };
  let rssKb = 0;
  let pssKb = 0;
  let processes = 0;
  for (const pid of parent.keys()) {
    if (!isDescendant(pid)) continue;
    try {
      if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('chromium')) continue;
      const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
      rssKb += Number(/^Rss:\s+(\d+)/m.exec(rollup)?.[1] ?? 0);
      pssKb += Number(/^Pss:\s+(\d+)/m.exec(rollup)?.[1] ?? 0);
      processes++;
    } catch {
      /* gone */
    }
  }
  return { processes, rssKb, pssKb };
}

describe('M10 / M13 certificates as HTML', () => {
  test('M10: the production certificate escapes a hostile holder name and carries every field', () => {
    const html = renderDocumentHtml('production-certificate', production);
    expect(html).toContain(ESCAPED_NAME);
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toContain('<b>');
    expect(html).toContain('北京市朝阳区示范印章制作有限公司 &quot;&amp;&#x27; &lt;b&gt;');
    for (const s of ['电子印章制作证书', 'ELECTRONIC SEAL PRODUCTION CERTIFICATE', '合同专用章(2)', 'Contract seal (2)', SEAL_CODE, SERIAL,
      'A3:F1:C2:9E', '91110105MA01ABCD2X', '京公印制许字第110105023号', '京章制证〔2025〕第000123号', '京政办发〔2019〕8号',
      '2025年3月12日', '2025年3月14日', '北京市公安局朝阳分局']) {
      expect(html).toContain(s);
    }
    expect(html).toContain('src="data:image/png;base64,');
    // The imprint's alt text carries the holder name: escaped inside the attribute too.
    expect(html).toMatch(/alt="&lt;script&gt;alert\(1\)&lt;\/script&gt;北京示范科技有限公司 合同专用章\(2\) 印模"/);
  });

  test('M13: the cancellation certificate escapes hostile input and names reason, times and maker', () => {
    const html = renderDocumentHtml('cancellation-certificate', cancellation);
    expect(html).toContain(ESCAPED_NAME);
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/<img src=x/i);
    expect(html).toContain('&lt;img src&#x3D;x onerror&#x3D;alert(2)&gt;');
    for (const s of ['电子印章登出证书', 'ELECTRONIC SEAL CANCELLATION CERTIFICATE', '超过三个月未领取', '合同专用章(2)', SEAL_CODE, SERIAL,
      '2025年6月13日 09:00', '2025年6月13日 09:00', '2025-06-13 09:00 Beijing time (UTC+8)', '京章登证〔2025〕第000045号', '京政办发〔2019〕8号',
      '登记造册']) {
      expect(html).toContain(s);
    }
    // The SVG (with its own <script>) is only ever embedded base64-encoded inside an <img>.
    expect(html).toContain('src="data:image/svg+xml;base64,');
  });

  test('M13: other reasons, no fingerprint, no imprint; no filing state, which changes after issue', () => {
    const html = renderDocumentHtml('cancellation-certificate', {
      ...cancellation,
      reason: 'replacement',
      reasonDetail: '名称变更',
      certificate: { serial: SERIAL },
      imprint: null,
    });
    expect(html).toContain('更换（登出原印章并重新制作）');
    expect(html).toContain('（名称变更）');
    // The holder keeps this document: it names who files (the maker), never how far the filing is.
    expect(html).not.toContain('备案中');
    expect(html).not.toContain('Filing in progress');
    expect(html).toContain('由印章制作单位办理');
    expect(html).not.toContain('登记造册');
    expect(html).not.toContain('data:image');
    expect(html).not.toContain('SHA-256）');
  });

  test('M13: a seal cancelled before any certificate was issued says so', () => {
    const html = renderDocumentHtml('cancellation-certificate', { ...cancellation, certificate: { serial: null }, revokedAt: null });
    expect(html).toContain('未签发证书，无需吊销');
    expect(html).toContain('未签发<span class="en">None issued</span>');
    expect(() => renderDocumentHtml('cancellation-certificate', { ...cancellation, certificate: { serial: null } })).toThrow(/revokedAt/);
    expect(() => renderDocumentHtml('cancellation-certificate', { ...cancellation, certificate: { serial: '—' } })).toThrow(/certificate.serial/);
  });

  test('M10: the imprint is embedded only from a Buffer whose bytes match its media type', () => {
    const withImprint = (imprint: unknown) => () =>
      renderDocumentHtml('production-certificate', { ...production, imprint: imprint as ProductionCertificateData['imprint'] });
    expect(withImprint({ mediaType: 'image/svg+xml', bytes: '<svg onload="alert(1)"></svg>' })).toThrow(/must be a Buffer/);
    expect(withImprint({ mediaType: 'image/png', bytes: svg })).toThrow(/not a PNG/);
    expect(withImprint({ mediaType: 'image/svg+xml', bytes: png })).toThrow(/SVG/);
    expect(withImprint({ mediaType: 'text/html', bytes: Buffer.from('<svg></svg>') })).toThrow(/mediaType/);
    expect(withImprint({ mediaType: 'image/svg+xml', bytes: svg })).not.toThrow();
  });

  test('M10: malformed data is refused with the field named', () => {
    const render = (patch: Partial<ProductionCertificateData>) => () => renderDocumentHtml('production-certificate', { ...production, ...patch });
    expect(render({ certificate: { serial: SERIAL, sha256Fingerprint: 'abc' } })).toThrow(/certificate.sha256Fingerprint/);
    expect(render({ certificate: { serial: 'xyz', sha256Fingerprint: FINGERPRINT } })).toThrow(/certificate.serial/);
    expect(render({ issuedAt: new Date('nope') })).toThrow(/issuedAt/);
    expect(render({ holder: { name: '  ', uscc: '91110105MA01ABCD2X' } })).toThrow(/holder.name/);
    expect(render({ seal: { ...production.seal, number: 0 } })).toThrow(/seal.number/);
  });
});

describe('M10 / M13 certificates as PDF', () => {
  let renderer: PdfRenderer;
  const measured: Record<string, unknown> = {};

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    const t0 = performance.now();
    renderer = await PdfRenderer.launch();
    measured.launchMs = Math.round(performance.now() - t0);
    measured.chromiumAfterLaunch = chromiumMemory();
  });
  afterAll(async () => {
    await renderer?.close();
    if ('pdfMs' in measured) {
      writeFileSync(path.join(ARTIFACTS, 'measurements.json'), JSON.stringify(measured, null, 2) + '\n');
      console.log('documents: measurements', measured);
    }
  });

  const cases = [
    ['M10', 'production-certificate', () => renderDocumentHtml('production-certificate', production)],
    ['M13', 'cancellation-certificate', () => renderDocumentHtml('cancellation-certificate', cancellation)],
  ] as const;

  test.each(cases)('%s: the %s PDF holds the holder name, seal code and serial in an embedded CJK font', async (_id, name, html) => {
    const source = html();
    writeFileSync(path.join(ARTIFACTS, `${name}.html`), source);
    const pdf = await renderer.render(source);
    expect(pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    const file = path.join(ARTIFACTS, `${name}.pdf`);
    writeFileSync(file, pdf);

    const info = execFileSync('pdfinfo', [file], { encoding: 'utf8' });
    expect(info).toMatch(/^Pages:\s+1$/m);
    expect(info).toMatch(/^Page size:\s+59[56]\.\d+ x 84[12]\.\d+ pts \(A4\)/m);

    const text = squeeze(pdftotext(file));
    expect(text).toContain(HOSTILE_NAME); // the literal text, drawn as text, not run as script
    expect(text).toContain(SEAL_CODE);
    expect(text).toContain(SERIAL);
    expect(text).toContain(name === 'production-certificate' ? '电子印章制作证书' : '电子印章登出证书');

    // Every font is embedded (pdffonts' emb column), and the embedded fonts are Noto CJK SC. Chromium's PDF
    // backend (Skia) writes OpenType-CFF fonts such as Debian's Noto CJK as Type 3 fonts, which pdffonts
    // lists without a name; their FontDescriptor still names the font, so read the names from there too.
    const [header, , ...fonts] = execFileSync('pdffonts', [file], { encoding: 'utf8' }).split('\n').filter(Boolean);
    const emb = header.indexOf('emb');
    expect(fonts.length).toBeGreaterThan(0);
    for (const line of fonts) expect(line.slice(emb, emb + 3)).toBe('yes');
    const names = new Set([
      ...fonts.map((line) => line.slice(0, 36).trim()),
      ...[...pdf.toString('latin1').matchAll(/\/FontName\s*\/([A-Za-z0-9+-]+)/g)].map((m) => m[1]),
    ]);
    expect([...names].some((n) => /^[A-Z]{6}\+NotoSansCJKsc-/.test(n))).toBe(true); // the certificates' one typeface

    execFileSync('pdftoppm', ['-png', '-r', '60', '-f', '1', '-l', '1', '-singlefile', file, path.join(ARTIFACTS, name)]);
  });

  test('M13: an extremely long name and reason are printed in full, never clipped', async () => {
    const longName = '北京示范科技有限公司第' + '一二三四五六七八九十'.repeat(18) + '分公司';
    const pdf = await renderer.render(
      renderDocumentHtml('cancellation-certificate', {
        ...cancellation,
        holder: { ...cancellation.holder, name: longName },
        reason: 'replacement',
        reasonDetail: '名称变更、法定代表人变更'.repeat(15),
        seal: { kindLabel: { zh: '法定名称章', en: 'Legal-name seal' }, number: null, code: SEAL_CODE },
      }),
    );
    const file = path.join(ARTIFACTS, 'cancellation-long.pdf');
    writeFileSync(file, pdf);
    const text = squeeze(pdftotext(file));
    expect(text).toContain(longName);
    expect(text).toContain('名称变更、法定代表人变更'.repeat(15));
    expect(text).toContain('法定名称章');
    expect(text).not.toContain('法定名称章(');
  });

  test('M10 / M13: JavaScript never runs and nothing is fetched or read from disk while rendering hostile HTML', async () => {
    const hostile =
      '<!DOCTYPE html><html><body><p id="p">static</p><script>document.getElementById("p").textContent="SCRIPT RAN"</script>' +
      '<img src="http://127.0.0.1:9/x.png"><link rel="stylesheet" href="https://example.com/x.css">' +
      `<iframe src="file://${path.resolve(ARTIFACTS, 'secret.txt')}"></iframe><iframe src="http://127.0.0.1:9/"></iframe></body></html>`;
    writeFileSync(path.join(ARTIFACTS, 'secret.txt'), 'LOCAL-FILE-CONTENT');
    const file = path.join(ARTIFACTS, 'hostile.pdf');
    writeFileSync(file, await renderer.render(hostile));
    const text = pdftotext(file);
    expect(text).toContain('static');
    expect(text).not.toContain('SCRIPT RAN');
    expect(text).not.toContain('LOCAL-FILE-CONTENT');
  });

  test('M10 / M13: a reused page prints only its new document, nothing of the one before', async () => {
    const first = '<!DOCTYPE html><html><head><style>body::after { content: "STYLE-OF-FIRST" }</style></head><body><p>FIRST-DOCUMENT</p></body></html>';
    const second = '<!DOCTYPE html><html><body><p>SECOND-DOCUMENT</p></body></html>';
    const files = [];
    for (const [i, html] of [first, second, second, second].entries()) {
      const file = path.join(ARTIFACTS, `reuse-${i}.pdf`);
      writeFileSync(file, await renderer.render(html));
      files.push(file);
    }
    expect(pdftotext(files[0])).toContain('FIRST-DOCUMENT');
    for (const file of files.slice(1)) {
      const text = pdftotext(file);
      expect(text).toContain('SECOND-DOCUMENT');
      expect(text).not.toContain('FIRST-DOCUMENT');
      expect(text).not.toContain('STYLE-OF-FIRST');
    }
  });

  test('M10 / M13: timing and memory of the PDF renderer (warm)', async () => {
    const html = renderDocumentHtml('production-certificate', production);
    await renderer.render(html); // warm-up
    const runs = 10;
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      const pdf = await renderer.render(i % 2 ? renderDocumentHtml('cancellation-certificate', cancellation) : html);
      times.push(performance.now() - t0);
      expect(pdf.length).toBeGreaterThan(10_000);
    }
    times.sort((a, b) => a - b);
    const t0 = performance.now();
    for (let i = 0; i < 100; i++) renderDocumentHtml('production-certificate', production);
    measured.htmlRenderMs = Number(((performance.now() - t0) / 100).toFixed(2));
    measured.pdfMs = { runs, median: Math.round(times[runs >> 1]), min: Math.round(times[0]), max: Math.round(times[runs - 1]) };
    measured.pdfBytes = { production: readFileSync(path.join(ARTIFACTS, 'production-certificate.pdf')).length, cancellation: readFileSync(path.join(ARTIFACTS, 'cancellation-certificate.pdf')).length };
    measured.chromiumAfterRenders = chromiumMemory();
    // Concurrent documents wait their turn (two pages at a time by default) and all come out whole.
    const t1 = performance.now();
    const batch = await Promise.all(Array.from({ length: 6 }, () => renderer.render(html)));
    measured.sixConcurrentMs = Math.round(performance.now() - t1);
    for (const pdf of batch) expect(pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    expect(times[runs >> 1]).toBeLessThan(5_000);
  });

  test('M10: a renderer whose Chromium died starts a new one on the next document', async () => {
    const browser = (renderer as unknown as { browser: { close(): Promise<void> } }).browser;
    await browser.close();
    const pdf = await renderer.render(renderDocumentHtml('production-certificate', production));
    expect(pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');
  });
});
