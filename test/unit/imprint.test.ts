import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { inflateSync } from 'node:zlib';
import { Resvg } from '@resvg/resvg-js';
import { DOMParser, type Document, type Element } from '@xmldom/xmldom';
import { SEAL_KINDS } from '../../domain';
import { catchDomainError } from '../helpers/domain-errors';
import {
  defaultFontFiles,
  escapeXml,
  HOLDER_NAME_MAX_CHARS,
  imprintDigest,
  type ImprintInput,
  personalColumns,
  personalSealText,
  renderImprint,
  renderImprintAsync,
  renderImprintPng,
  renderImprintSvg,
  SANS_FAMILY,
  SEAL_RED,
  SERIF_FAMILY,
} from '../../infra/imprint';

const ARTIFACTS = path.join(__dirname, '..', '..', 'test-artifacts', 'imprint');

const LEGAL: ImprintInput = { holderName: '北京示范科技有限公司', sealKind: 'legal_name', sealCode: '1101050000123' };
const CONTRACT_2: ImprintInput = {
  holderName: '北京示范科技有限公司',
  sealKind: 'business_contract',
  sealNumber: 2,
  sealCode: '1101050000124',
};
const LONG_NAME = '北京市海淀区中关村科技园区国际先进智能制造与数字化转型协同创新研究院有限责任公司';
const PERSONAL: ImprintInput = {
  holderName: '北京示范科技有限公司',
  sealKind: 'personal_name',
  personName: '张三',
  sealCode: '1101050000125',
};

/**
 * Parses strictly: any warning, error or fatal error of xmldom fails the test, and so does resvg's own
 * (stricter: it also refuses a bare `&`, which xmldom lets through) XML parser.
 */
function parseXml(svg: string): Document {
  expect(() => new Resvg(svg, { font: { loadSystemFonts: false } })).not.toThrow();
  expect(svg).not.toMatch(/&(?!(?:amp|lt|gt|quot|apos);)/);
  const problems: string[] = [];
  const doc = new DOMParser({ onError: (level, msg) => problems.push(`${level}: ${msg}`) }).parseFromString(
    svg,
    'image/svg+xml',
  );
  expect(problems).toEqual([]);
  return doc;
}

/** The text of every <text> element, in document order (one character each). */
function drawnTexts(svg: string): string[] {
  return Array.from(parseXml(svg).getElementsByTagName('text')).map((t) => t.textContent ?? '');
}

/** A minimal PNG decoder (8-bit RGBA, non-interlaced, as resvg writes; CRCs not checked). */
function decodePng(png: Buffer): { width: number; height: number; rgba: Buffer } {
  expect(png.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))).toBe(true);
  let pos = 8;
  let width = 0;
  let height = 0;
  const idat: Buffer[] = [];
  let ended = false;
  while (pos < png.length) {
    const len = png.readUInt32BE(pos);
    const type = png.toString('latin1', pos + 4, pos + 8);
    const data = png.subarray(pos + 8, pos + 8 + len);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      expect([data[8], data[9], data[12]]).toEqual([8, 6, 0]); // 8-bit, RGBA, not interlaced
    } else if (type === 'IDAT') idat.push(data);
    else if (type === 'IEND') ended = true;
    pos += 12 + len;
  }
  expect(ended).toBe(true);
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * 4;
  const rgba = Buffer.alloc(stride * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!;
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let x = 0; x < stride; x++) {
      const a = x >= 4 ? rgba[y * stride + x - 4]! : 0;
      const b = y > 0 ? rgba[(y - 1) * stride + x]! : 0;
      const c = x >= 4 && y > 0 ? rgba[(y - 1) * stride + x - 4]! : 0;
      let pred = 0;
      if (filter === 1) pred = a;
      else if (filter === 2) pred = b;
      else if (filter === 3) pred = (a + b) >> 1;
      else if (filter === 4) {
        const p = a + b - c;
        const pa = Math.abs(p - a);
        const pb = Math.abs(p - b);
        const pc = Math.abs(p - c);
        pred = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      } else expect(filter).toBe(0);
      rgba[y * stride + x] = (line[x]! + pred) & 0xff;
    }
  }
  return { width, height, rgba };
}

function countRedPixels(rgba: Buffer): number {
  let n = 0;
  for (let i = 0; i < rgba.length; i += 4) {
    if (rgba[i + 3]! > 200 && rgba[i]! > 200 && rgba[i + 1]! < 60 && rgba[i + 2]! < 60) n++;
  }
  return n;
}


describe('S3: imprint SVG', () => {
  it('S3: is deterministic: the same input twice gives byte-identical SVG and PNG and the same hashes', () => {
    const a = renderImprint(CONTRACT_2);
    const b = renderImprint({ ...CONTRACT_2 });
    expect(b.svg).toBe(a.svg);
    expect(b.png.equals(a.png)).toBe(true);
    expect(b.svgSha256).toBe(a.svgSha256);
    expect(b.pngSha256).toBe(a.pngSha256);
    expect(a.svgSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(a.svgSha256).toBe(imprintDigest(a.svg));
    expect(a.pngSha256).toBe(imprintDigest(a.png));
  });

  it('S3: a different number or seal code gives a different imprint and hash', () => {
    const base = renderImprint(CONTRACT_2);
    const otherNumber = renderImprint({ ...CONTRACT_2, sealNumber: 3 });
    const otherCode = renderImprint({ ...CONTRACT_2, sealCode: '1101050000125' });
    for (const other of [otherNumber, otherCode]) {
      expect(other.svgSha256).not.toBe(base.svgSha256);
      expect(other.pngSha256).not.toBe(base.pngSha256);
    }
    expect(drawnTexts(otherNumber.svg).join('')).toContain('合同专用章(3)');
    expect(drawnTexts(otherCode.svg).join('')).toContain('1101050000125');
  });

  it('S3: a personal name seal of another seal code has another SVG hash (code bound in <desc>)', () => {
    expect(renderImprintSvg({ ...PERSONAL, sealCode: '1101050000999' })).not.toBe(renderImprintSvg(PERSONAL));
  });

  it('S3: draws every character of the holder name, one <text> each, then the seal code (legal-name seal: nothing else)', () => {
    const svg = renderImprintSvg(LEGAL);
    expect(drawnTexts(svg)).toEqual([...Array.from('北京示范科技有限公司'), ...Array.from('1101050000123')]);
    const doc = parseXml(svg);
    expect(doc.documentElement!.getAttribute('viewBox')).toBe('0 0 200 200');
    expect(doc.getElementsByTagName('circle')).toHaveLength(1);
    expect(doc.getElementsByTagName('polygon')).toHaveLength(1); // the star
    expect(svg).toContain(SEAL_RED);
    expect(svg).toContain('Noto Serif CJK SC');
  });

  it('S3: a business-purpose seal shows its kind and Arabic number below the star: 合同专用章(2)', () => {
    const texts = drawnTexts(renderImprintSvg(CONTRACT_2));
    expect(texts.join('')).toBe('北京示范科技有限公司合同专用章(2)1101050000124');
  });

  it('S3: an internal-department seal shows the department name below the star, and needs it', () => {
    const input: ImprintInput = { ...LEGAL, sealKind: 'internal_department', departmentName: '人力资源部' };
    expect(drawnTexts(renderImprintSvg(input)).join('')).toBe('北京示范科技有限公司人力资源部1101050000123');
    expect(catchDomainError(() => renderImprintSvg({ ...input, departmentName: undefined })).field).toBe('departmentName');
    expect(catchDomainError(() => renderImprintSvg({ ...LEGAL, departmentName: '人力资源部' })).code).toBe('SEAL_TEXT_NOT_ALLOWED');
  });

  it('S3: a long name (40 characters) is drawn in full', () => {
    const svg = renderImprintSvg({ holderName: LONG_NAME, sealKind: 'business_finance', sealNumber: 1, sealCode: '1101080000001' });
    expect(Array.from(LONG_NAME)).toHaveLength(HOLDER_NAME_MAX_CHARS);
    expect(drawnTexts(svg).join('')).toBe(`${LONG_NAME}财务专用章(1)1101080000001`);
  });

  it('S3: personal name seals are square, the name with the customary suffix, read right column first', () => {
    const svg = renderImprintSvg(PERSONAL);
    const doc = parseXml(svg);
    expect(doc.getElementsByTagName('rect')).toHaveLength(1);
    expect(doc.getElementsByTagName('circle')).toHaveLength(0);
    expect(drawnTexts(svg)).toEqual(['张', '三', '之', '印']);
    expect(personalSealText(Array.from('王小明')).join('')).toBe('王小明印');
    expect(personalSealText(Array.from('欧阳娜娜')).join('')).toBe('欧阳娜娜');
    expect(personalSealText(Array.from('买买提·艾力')).join('')).toBe('买买提·艾力印');
    expect(personalColumns(4)).toEqual([2, 2]);
    expect(personalColumns(3)).toEqual([1, 2]);
    expect(personalColumns(7)).toEqual([3, 2, 2]);
    // The right column comes first: 张 is drawn right of 之.
    const x = (el: Element) => Number(/translate\(([\d.]+)/.exec(el.getAttribute('transform') ?? '')![1]);
    const [zhang, , zhi] = Array.from(doc.getElementsByTagName('text'));
    expect(x(zhang!)).toBeGreaterThan(x(zhi!));
  });

  it('S3: renders every seal kind', () => {
    for (const sealKind of SEAL_KINDS) {
      const input: ImprintInput = {
        holderName: '北京示范科技有限公司',
        sealKind,
        sealCode: '1101050000123',
        ...(sealKind.startsWith('business_') ? { sealNumber: 1 } : {}),
        ...(sealKind === 'internal_department' ? { departmentName: '财务部' } : {}),
        ...(sealKind === 'personal_name' ? { personName: '李四' } : {}),
      };
      expect(() => parseXml(renderImprintSvg(input))).not.toThrow();
    }
  });
});

describe('S3: imprint input is untrusted', () => {
  const HOSTILE = '<script>alert(1)</script>&"\'';

  it('S3: a hostile name or an emoji is refused by the rule for names (domain/seal-text.ts), naming the character', () => {
    const e = catchDomainError(() => renderImprint({ ...CONTRACT_2, holderName: HOSTILE }));
    expect([e.code, e.field, e.details]).toEqual(['NAME_CHARACTER_NOT_ALLOWED', 'holderName', { character: '<', codePoint: 'U+003C', position: 1 }]);
    const emoji = catchDomainError(() => renderImprint({ ...PERSONAL, personName: '张😀' }));
    expect([emoji.field, emoji.details?.codePoint]).toEqual(['personName', 'U+1F600']);
    const dept = catchDomainError(() => renderImprint({ ...LEGAL, sealKind: 'internal_department', departmentName: '财务部{{7*7}}' }));
    expect(dept.field).toBe('departmentName');
    // Whatever is drawn is still escaped as XML.
    expect(escapeXml(HOSTILE)).toBe('&lt;script&gt;alert(1)&lt;/script&gt;&amp;&quot;&apos;');
  });

  it('S3: control characters, bidi overrides and zero-width characters are stripped', () => {
    const svg = renderImprintSvg({ ...LEGAL, holderName: ' \u202E北京\u0000示范\u200B科技\u2066有限\u0007公司\uFEFF\uD800 ' });
    expect(drawnTexts(svg).join('')).toBe('北京示范科技有限公司1101050000123');
    expect(renderImprintSvg({ ...LEGAL, holderName: '北京\u202E示范科技有限公司' })).toBe(renderImprintSvg(LEGAL));
    // eslint-disable-next-line no-control-regex
    expect(svg).not.toMatch(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\u200B-\u200F\u202A-\u202E\u2066-\u2069\uFEFF]/);
  });

  it.each([
    ['empty', ''],
    ['blank', '   '],
    ['made of format and control characters only', '\u202E\u200B\u0000'],
  ])('S3: refuses a holder name that is %s', (_label, holderName) => {
    const e = catchDomainError(() => renderImprintSvg({ ...LEGAL, holderName }));
    expect(e.field).toBe('holderName');
    expect(e.code).toBe('REQUIRED_FIELD');
  });

  it('S3: refuses a name longer than the limit', () => {
    const e = catchDomainError(() => renderImprintSvg({ ...LEGAL, holderName: `${LONG_NAME}有` }));
    expect(e.code).toBe('SEAL_TEXT_TOO_LONG');
    expect(e.messageZh).toContain('最多40个');
    const p = catchDomainError(() => renderImprintSvg({ ...PERSONAL, personName: '张'.repeat(17) }));
    expect(p.field).toBe('personName');
  });

  it('S3: refuses inconsistent input: missing or superfluous number, person name, bad seal code', () => {
    expect(catchDomainError(() => renderImprintSvg({ ...CONTRACT_2, sealNumber: undefined })).field).toBe('sealNumber');
    expect(catchDomainError(() => renderImprintSvg({ ...CONTRACT_2, sealNumber: 0 })).code).toBe('SEAL_NUMBER_INVALID');
    expect(catchDomainError(() => renderImprintSvg({ ...LEGAL, sealNumber: 1 })).code).toBe('SEAL_NUMBER_NOT_ALLOWED');
    expect(catchDomainError(() => renderImprintSvg({ ...PERSONAL, personName: undefined })).field).toBe('personName');
    expect(catchDomainError(() => renderImprintSvg({ ...LEGAL, personName: '张三' })).code).toBe('SEAL_TEXT_NOT_ALLOWED');
    expect(catchDomainError(() => renderImprintSvg({ ...LEGAL, sealCode: '110105"/><script>' })).code).toBe('SEAL_CODE_INVALID');
    expect(catchDomainError(() => renderImprintSvg({ ...LEGAL, sealCode: '' })).field).toBe('sealCode');
    expect(catchDomainError(() => renderImprintSvg({ ...LEGAL, sealKind: 'seal' as never })).code).toBe('UNKNOWN_SEAL_KIND');
  });
});

describe('S3: imprint PNG', () => {
  it('S3: is a real PNG of the requested size with red ink on a transparent background', () => {
    const { png } = renderImprint(LEGAL);
    const { width, height, rgba } = decodePng(png);
    expect([width, height]).toEqual([512, 512]);
    expect(countRedPixels(rgba)).toBeGreaterThan(512 * 512 * 0.05);
    expect(rgba[3]).toBe(0); // top-left corner, outside the round seal: transparent
    const centre = (256 * 512 + 256) * 4; // the star's middle
    expect([rgba[centre]! > 200, rgba[centre + 1]! < 60, rgba[centre + 3]! > 200]).toEqual([true, true, true]);

    const small = decodePng(renderImprintPng(renderImprintSvg(PERSONAL), { size: 128 }));
    expect([small.width, small.height]).toEqual([128, 128]);
    expect(countRedPixels(small.rgba)).toBeGreaterThan(128 * 128 * 0.1);
  });

  it('S3: writes sample imprints to test-artifacts/imprint for visual review', () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    const samples: Record<string, ImprintInput> = {
      'legal-name': LEGAL,
      'contract-2': CONTRACT_2,
      'long-name-finance-1': { holderName: LONG_NAME, sealKind: 'business_finance', sealNumber: 1, sealCode: '1101080000001' },
      'branch': { holderName: '北京示范科技有限公司海淀分公司', sealKind: 'branch', sealCode: '1101080000127' },
      'internal-department': { ...LEGAL, sealKind: 'internal_department', departmentName: '人力资源部' },
      'inspection-12-short-name': { holderName: '北京市公安局', sealKind: 'business_inspection', sealNumber: 12, sealCode: '1101020000001' },
      'personal-zhang-san': PERSONAL,
      'personal-wang-xiaoming': { ...PERSONAL, personName: '王小明' },
      'personal-maimaiti-aili': { ...PERSONAL, personName: '买买提·艾力' },
      'internal-department-24-two-lines': { holderName: '北京市公安局朝阳分局', sealKind: 'internal_department', departmentName: '人口管理和出入境管理支队综合办公室信息化建设科室', sealCode: '1101050000003' },
      'branch-40': { holderName: LONG_NAME, sealKind: 'branch', sealCode: '1101080000128' },
    };
    for (const [name, input] of Object.entries(samples)) {
      const r = renderImprint(input);
      writeFileSync(path.join(ARTIFACTS, `${name}.svg`), r.svg);
      writeFileSync(path.join(ARTIFACTS, `${name}.png`), r.png);
      expect(decodePng(r.png).width).toBe(512);
    }
  });
});

test('S3: rendering off the event loop gives the same PNG bytes as rendering on it', async () => {
  const input = { holderName: '北京示范科技有限公司', sealKind: 'business_contract' as const, sealNumber: 2, sealCode: '1101050000123' };
  const [sync, async] = [renderImprint(input), await renderImprintAsync(input)];
  expect(async.pngSha256).toBe(sync.pngSha256);
  expect(async.svgSha256).toBe(sync.svgSha256);
});

test('S3: the PNG drawn from cached glyph outlines is the picture resvg draws from the text itself', () => {
  for (const input of [CONTRACT_2, PERSONAL, { ...LEGAL, holderName: LONG_NAME }]) {
    const svg = renderImprintSvg(input);
    const fromText = decodePng(
      new Resvg(svg, {
        fitTo: { mode: 'width', value: 512 },
        font: { loadSystemFonts: false, fontFiles: defaultFontFiles(), defaultFontFamily: SERIF_FAMILY, serifFamily: SERIF_FAMILY, sansSerifFamily: SANS_FAMILY },
        shapeRendering: 2,
        textRendering: 2,
        imageRendering: 0,
        dpi: 96,
      }).render().asPng(),
    ).rgba;
    const first = renderImprintPng(svg);
    const cached = renderImprintPng(svg);
    expect(cached.equals(first)).toBe(true);
    const drawn = decodePng(first).rgba;
    let differing = 0;
    for (let i = 0; i < drawn.length; i++) if (Math.abs(drawn[i]! - fromText[i]!) > 32) differing++;
    expect(differing).toBeLessThan(10); // anti-aliasing of a few edge pixels at most
  }
});
