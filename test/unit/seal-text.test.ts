// The names a seal is made from (issue 18, issue 16 point 4): one rule for the application form, the
// imprint and the certificate; characters the imprint font cannot draw, emoji and markup are refused at
// intake, naming the character.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseApplicationForm } from '../../domain/application-intake';
import { ValidationErrors, type DomainError } from '../../domain/errors';
import { isAllowedNameChar, SEAL_TEXT_LIMITS, sealCertificateNames, X509_NAME_MAX_CHARS } from '../../domain/seal-text';
import { BUSINESS_SEAL_KINDS, sealKindLabel } from '../../domain/seals';
import { DEFAULT_FONT_DIR, renderImprint, renderImprintSvg } from '../../infra/imprint';
import { makeResidentId, makeUscc } from '../helpers/fixtures';

const TODAY = new Date('2026-12-04T00:00:00Z');

function form(over: { holder?: Record<string, unknown>; seal?: Record<string, unknown>; handler?: Record<string, unknown> } = {}) {
  return {
    holder: { uscc: makeUscc('110105'), name: '北京示范科技有限公司', kind: 'enterprise', address: '北京市朝阳区光华路1号', district: '110105', legal_representative: '王五', ...over.holder },
    seal: { kind: 'legal_name', ...over.seal },
    handler: { name: '郑十一', id_number: makeResidentId(), phone: '13800138000', ...over.handler },
  };
}

/** The field errors of a refused form, by field path. */
function refusal(body: unknown): Record<string, DomainError> {
  try {
    parseApplicationForm(body, TODAY);
  } catch (e) {
    if (e instanceof ValidationErrors) return Object.fromEntries(e.errors.map((x) => [x.field!, x]));
    throw e;
  }
  throw new Error('expected the form to be refused');
}

// --- the font's own character map (OpenType cmap, formats 4 and 12), read from the TTC the imprint loads ---

interface Face {
  file: Buffer;
  /** Where the face's table directory starts (table offsets in a collection count from the file's start). */
  start: number;
}
function fontFaces(path: string): Face[] {
  const file = readFileSync(path);
  if (file.toString('latin1', 0, 4) !== 'ttcf') return [{ file, start: 0 }];
  return Array.from({ length: file.readUInt32BE(8) }, (_, i) => ({ file, start: file.readUInt32BE(12 + 4 * i) }));
}
function table(face: Face, tag: string): Buffer | null {
  const { file, start } = face;
  for (let i = 0; i < file.readUInt16BE(start + 4); i++) {
    const rec = start + 12 + 16 * i;
    if (file.toString('latin1', rec, rec + 4) === tag) return file.subarray(file.readUInt32BE(rec + 8), file.readUInt32BE(rec + 8) + file.readUInt32BE(rec + 12));
  }
  return null;
}
function familyNames(face: Face): string[] {
  const t = table(face, 'name')!;
  const count = t.readUInt16BE(2);
  const strings = t.readUInt16BE(4);
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const r = 6 + 12 * i;
    if (t.readUInt16BE(r) !== 3 || t.readUInt16BE(r + 6) !== 1) continue; // Windows, family name
    const len = t.readUInt16BE(r + 8);
    const off = strings + t.readUInt16BE(r + 10);
    out.push(Buffer.from(t.subarray(off, off + len)).swap16().toString('utf16le'));
  }
  return out;
}
function codePoints(face: Face): Set<number> {
  const t = table(face, 'cmap')!;
  const cps = new Set<number>();
  const n = t.readUInt16BE(2);
  for (let i = 0; i < n; i++) {
    const sub = t.subarray(t.readUInt32BE(4 + 8 * i + 4));
    const format = sub.readUInt16BE(0);
    if (format === 12) {
      const groups = sub.readUInt32BE(12);
      for (let g = 0; g < groups; g++) {
        const [lo, hi] = [sub.readUInt32BE(16 + 12 * g), sub.readUInt32BE(20 + 12 * g)];
        for (let c = lo; c <= hi; c++) cps.add(c);
      }
    } else if (format === 4) {
      const segs = sub.readUInt16BE(6) / 2;
      for (let s = 0; s < segs; s++) {
        const end = sub.readUInt16BE(14 + 2 * s);
        const start = sub.readUInt16BE(16 + 2 * segs + 2 * s);
        const idRangeOffsetAt = 16 + 6 * segs + 2 * s;
        const idRangeOffset = sub.readUInt16BE(idRangeOffsetAt);
        const idDelta = sub.readInt16BE(16 + 4 * segs + 2 * s);
        for (let c = start; c <= end && c !== 0xffff; c++) {
          const glyph = idRangeOffset === 0 ? (c + idDelta) & 0xffff : sub.readUInt16BE(idRangeOffsetAt + idRangeOffset + 2 * (c - start));
          if (glyph !== 0) cps.add(c);
        }
      }
    }
  }
  return cps;
}

describe('the rule for names (S1, S3, A2, M2)', () => {
  it('S3: every character a name may contain is in the imprint font, read from the font files themselves', () => {
    const dir = process.env.IMPRINT_FONT_DIR ?? DEFAULT_FONT_DIR;
    for (const file of ['NotoSerifCJK-Bold.ttc', 'NotoSerifCJK-Regular.ttc']) {
      const face = fontFaces(path.join(dir, file)).find((f) => familyNames(f).includes('Noto Serif CJK SC'));
      expect(face).toBeDefined();
      const cmap = codePoints(face!);
      expect(cmap.has(0x4e2d)).toBe(true); // 中: the reader works
      const missing: string[] = [];
      let allowed = 0;
      for (let cp = 0x20; cp < 0x40000; cp++) {
        if (cp >= 0xd800 && cp <= 0xdfff) continue;
        const ch = String.fromCodePoint(cp);
        if (ch === ' ' || !(isAllowedNameChar(ch, 'registered') || isAllowedNameChar(ch, 'person'))) continue;
        allowed++;
        if (!cmap.has(cp)) missing.push(`U+${cp.toString(16)}`);
      }
      expect(missing).toEqual([]);
      expect(allowed).toBeGreaterThan(27_000); // all of URO and Extension A
      // And what the rule refuses is indeed beyond the font or beyond registered names.
      expect(cmap.has(0x1f600)).toBe(false); // 😀
      expect(cmap.has(0x20000)).toBe(false); // 𠀀 (Extension B)
    }
  });

  it('A2 S1 (issue 16.4): a holder name follows the rules for registered names; markup and emoji are refused, naming the character', () => {
    const script = refusal(form({ holder: { name: '<script>alert(1)</script>{{7*7}}' } }))['holder.name']!;
    expect(script.code).toBe('NAME_CHARACTER_NOT_ALLOWED');
    expect(script.httpStatus).toBe(400);
    expect(script.messageZh).toBe('单位名称：第1个字符“<”（U+003C）不能使用：登记名称只能使用汉字、字母、数字、括号及“·”“-”“、”');
    expect(script.messageEn).toBe('Holder name: character 1, "<" (U+003C), may not be used: registered names use only Chinese characters, letters, digits, brackets and "·", "-", "、"');
    const emoji = refusal(form({ holder: { name: '北京😀科技有限公司' } }))['holder.name']!;
    expect(emoji.messageZh).toContain('第3个字符“😀”（U+1F600）不能使用：表情符号不能刻制');
    expect(emoji.messageEn).toContain('"😀" (U+1F600), may not be used: an emoji cannot be carved on a seal');
    expect(emoji.details).toEqual({ character: '😀', codePoint: 'U+1F600', position: 3 });
    const rare = refusal(form({ holder: { name: '北京𠀀科技有限公司' } }))['holder.name']!;
    expect(rare.messageEn).toContain('(U+20000), may not be used: the imprint font cannot draw this character');
    const bidi = refusal(form({ holder: { name: '北京\u202e科技有限公司' } }))['holder.name']!;
    expect(bidi.messageZh).toContain('第3个字符U+202E不能使用');
    // What registered names do use is accepted as it is.
    for (const name of ['北京示范科技（集团）有限公司', 'ABC(北京)科技有限公司', '北京3D打印科技有限公司', '中国石油天然气股份有限公司北京销售分公司', '北京市朝阳区〇一二社区服务中心']) {
      expect(parseApplicationForm(form({ holder: { name } }), TODAY).holder.name).toBe(name);
    }
  });

  it('S1 (issue 16.4): a legal-name seal\'s text is the holder\'s registered name; another text is refused, not ignored', () => {
    const ok = parseApplicationForm(form(), TODAY);
    expect(ok.seal.text).toBe('北京示范科技有限公司');
    expect(parseApplicationForm(form({ seal: { kind: 'legal_name', text: '北京示范科技有限公司' } }), TODAY).seal.text).toBe('北京示范科技有限公司');
    const other = refusal(form({ seal: { kind: 'legal_name', text: '<script>alert(1)</script>' } }))['seal.text']!;
    expect(other.code).toBe('SEAL_TEXT_NOT_REGISTERED_NAME');
    expect(other.messageZh).toBe('印章文字：此类印章的文字是单位的登记名称，不能另填');
  });

  it('A2 M2: person names (handler, legal representative, personal name seal) are Chinese characters, letters and the middle dot', () => {
    const personal = { kind: 'personal_name', person: { name: '买买提·艾力', id_number: makeResidentId(), role: 'legal_representative' } };
    expect(parseApplicationForm(form({ seal: personal }), TODAY).seal.text).toBe('买买提·艾力');
    const errors = refusal(form({ handler: { name: '张三{{7*7}}' }, holder: { legal_representative: '王五🙂' }, seal: { ...personal, person: { ...personal.person, name: '李四<b>' } } }));
    expect(errors['handler.name']!.messageZh).toContain('第3个字符“{”（U+007B）');
    expect(errors['holder.legal_representative']!.messageEn).toContain('"🙂" (U+1F642)');
    expect(errors['seal.person.name']!.messageZh).toContain('第3个字符“<”（U+003C）');
  });
});

describe('issue 18: the lengths intake allows are the lengths the imprint draws and the certificate holds (S3)', () => {
  const longest = '北京市海淀区中关村科技园区国际先进智能制造与数字化转型协同创新研究院有限责任公司';
  const department = '人口管理和出入境管理支队综合办公室信息化建设科室';

  it('S3: a 40-character holder name is accepted, drawn and certified; a 41st character is refused at intake', () => {
    expect(Array.from(longest)).toHaveLength(SEAL_TEXT_LIMITS.holderName);
    expect(parseApplicationForm(form({ holder: { name: longest } }), TODAY).holder.name).toBe(longest);
    expect(() => renderImprintSvg({ holderName: longest, sealKind: 'legal_name', sealCode: '1101050000001' })).not.toThrow();
    // The longest label a certificate carries beside the name still fits RFC 5280's 64 characters.
    for (const kind of [...BUSINESS_SEAL_KINDS, 'legal_name', 'internal_department', 'branch'] as const) {
      const names = sealCertificateNames(longest, `${sealKindLabel(kind).zh}(999)`);
      expect(Array.from(names.commonName).length).toBeLessThanOrEqual(X509_NAME_MAX_CHARS);
    }
    const tooLong = refusal(form({ holder: { name: `${longest}甲` } }))['holder.name']!;
    expect(tooLong.code).toBe('NAME_TOO_LONG');
    expect(tooLong.messageZh).toBe('单位名称：不能超过40个字符（现为41个）');
  });

  it('S3: a branch name of 40 and a department name of 24 characters (two lines below the star) are accepted and drawn', () => {
    const branch = parseApplicationForm(form({ seal: { kind: 'branch', text: longest } }), TODAY);
    expect(() => renderImprintSvg({ holderName: branch.seal.text, sealKind: 'branch', sealCode: '1101050000002' })).not.toThrow();
    expect(Array.from(department)).toHaveLength(SEAL_TEXT_LIMITS.departmentName);
    const dept = parseApplicationForm(form({ seal: { kind: 'internal_department', text: department } }), TODAY);
    const imprint = renderImprint({ holderName: '北京市公安局朝阳分局', sealKind: 'internal_department', departmentName: dept.seal.text, sealCode: '1101050000003' });
    // Every character is drawn, in two lines below the star, both above the seal code on the lower arc.
    const texts = [...imprint.svg.matchAll(/<text transform="translate\(([\d.]+) ([\d.]+)\)[^>]*>([^<]*)<\/text>/g)];
    const below = texts.filter((t) => Array.from(department).includes(t[3]!) && Number(t[2]) > 110 && Number(t[2]) < 160);
    expect(below.map((t) => t[3]).join('')).toBe(department);
    expect(new Set(below.map((t) => t[2])).size).toBe(2);
    const tooLong = refusal(form({ seal: { kind: 'internal_department', text: `${department}科` } }))['seal.text']!;
    expect(tooLong.messageEn).toBe('Seal text: must be at most 24 characters (it has 25)');
  });
});
