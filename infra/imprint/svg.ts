/**
 * S3: the electronic seal's imprint, drawn like the physical seal a Beijing public-security licensed maker
 * carves. Pure and deterministic: the same input gives a byte-identical SVG (no clock, no randomness, no
 * locale; every number is written with a fixed number of decimals), so its SHA-256 can be bound to the seal
 * and covered by a signature.
 *
 * What is drawn (decisions a Beijing seal office would take; the regulation itself is silent on the design):
 *
 * Public seals 公章 (every kind but the personal name seal) — round, official red, one outer ring:
 * - the holder's name 单位名称 along the upper arc, left to right, each character placed and rotated on its
 *   own so that its head points to the rim; the arc grows with the name (180° for short names up to 250°–280°)
 *   and long names (up to {@link HOLDER_NAME_MAX_CHARS} characters) get smaller, condensed characters, as
 *   carvers do;
 * - a solid five-pointed star in the centre;
 * - below the star, in one horizontal line:
 *     legal-name seal 法定名称章   nothing: the physical 法定名称章 carries only name and star, the
 *                                   name alone is its text;
 *     branch seal 分支机构章        nothing: its name (the branch's registered full name, e.g. …有限公司海淀分公司)
 *                                   is the holder name on the arc, exactly like a legal-name seal of the branch;
 *     internal-department seal     the department's name (人力资源部, …), given as `departmentName`; the words
 *       内设机构章                   “内设机构章” appear on no real seal, and without the department's name the
 *                                   imprint would look like the legal-name seal, so it is required;
 *     business-purpose seals       their name with the Arabic number (A1), from {@link sealDisplayLabel}:
 *       业务专用章                   合同专用章(2), 财务专用章(1), …;
 * - the seal code 印章编码 (13 characters: district code + sequence) in small digits along the lower arc
 *   inside the ring, read left to right with their heads toward the centre, as Beijing seals carry it.
 *
 * Personal name seals 个人名章 — square, red border, the person's name in relief (朱文), read in columns from
 * right to left, top to bottom. Customary suffixes: a one- or two-character name takes 之印 (张三之印, 2×2),
 * a three-character name takes 印 (王小明印, 2×2), a four-character name none (欧阳娜娜, 2×2), and a longer
 * name (minority or transliterated, e.g. 买买提·艾力) takes 印 in as many columns as needed. A physical name
 * seal bears neither the unit's name nor a code, so neither is drawn; the SVG's <desc> still names the seal
 * code, unit and kind, so two name seals of the same person (e.g. after a replacement, M11) have different
 * SVG hashes even though their pictures are the same.
 *
 * User text is untrusted: it is NFC-normalised; control characters, format characters (bidi overrides and
 * isolates, zero-width characters, BOM), private-use characters, lone surrogates and XML-forbidden code
 * points are removed; whitespace runs become one space; every character is XML-escaped and written as the
 * content of its own <text> element. The SVG contains nothing but shapes and text: no script, no style
 * sheet, no links, no <image>, <use> or <foreignObject>, no external reference of any kind.
 */
import {
  DEPARTMENT_LINE_MAX_CHARS,
  DomainError,
  FIELDS,
  fieldRef,
  invalidField,
  isBusinessSealKind,
  isSealKind,
  type NameKind,
  parseSealName,
  requiredField,
  SEAL_KIND_LABELS,
  SEAL_TEXT_LIMITS,
  type SealKind,
  sealDisplayLabel,
} from '../../domain';

export interface ImprintInput {
  /** 单位名称 (for a branch seal: the branch's full name). Drawn on public seals; named in <desc> on all. */
  readonly holderName: string;
  readonly sealKind: SealKind;
  /** Arabic number of a business-purpose seal (A1): required for those, refused for other kinds. */
  readonly sealNumber?: number | null;
  /** 印章编码, e.g. 1101050000123 (district code + sequence): 4–20 digits or capital letters. */
  readonly sealCode: string;
  /** The person's name: required for a personal name seal, refused for public seals. */
  readonly personName?: string | null;
  /** The department's name below the star: required for an internal-department seal, refused otherwise. */
  readonly departmentName?: string | null;
}

/** The official seal red. */
export const SEAL_RED = '#E60012';
/** Font families used in the SVG; {@link ./png} loads exactly these fonts' files. */
export const SERIF_FAMILY = 'Noto Serif CJK SC';
export const SANS_FAMILY = 'Noto Sans CJK SC';

/** The limits are the domain's (domain/seal-text.ts), the same the application form is checked against. */
export const HOLDER_NAME_MAX_CHARS = SEAL_TEXT_LIMITS.holderName;
export const PERSON_NAME_MAX_CHARS = SEAL_TEXT_LIMITS.personName;
export const DEPARTMENT_NAME_MAX_CHARS = SEAL_TEXT_LIMITS.departmentName;

/** Side of the SVG's viewBox; a 42 mm public seal, so 1 unit ≈ 0.21 mm. */
export const IMPRINT_VIEWBOX = 200;

const FIELD_HOLDER_NAME = fieldRef('holderName', '单位名称', 'Holder name');
const FIELD_PERSON_NAME = fieldRef('personName', '姓名', 'Person name');
const FIELD_DEPARTMENT_NAME = fieldRef('departmentName', '内设机构名称', 'Department name');
const FIELD_SEAL_CODE = fieldRef('sealCode', '印章编码', 'Seal code');

const SEAL_CODE_RE = /^[0-9A-Z]{4,20}$/;

// ---------------------------------------------------------------------------------------------------------
// Untrusted text

/* eslint-disable no-control-regex */
const LONE_SURROGATE_RE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
/** Controls (C0, DEL, C1), format characters (bidi controls, zero-width, BOM, …), private use, U+FFFE/FFFF. */
const STRIP_RE = /[\p{Cc}\p{Cf}\p{Co}\uFFFE\uFFFF]/gu;
const WHITESPACE_RE = /[\s\u0009-\u000D\u0085\u2028\u2029\u3000]+/gu;
/* eslint-enable no-control-regex */

/**
 * The characters of a name as they will be drawn: NFC, stripped of controls, format characters (bidi
 * overrides, zero-width, BOM), private-use and ill-formed code points, whitespace collapsed, trimmed.
 * Throws a DomainError (400) when nothing is left, the name is longer than `maxChars` characters, or (with
 * `kind`) a character breaks the domain's rule for names of that kind (one the font cannot draw, markup, …).
 */
export function sanitizeSealText(value: unknown, field: typeof FIELD_HOLDER_NAME, maxChars: number, kind?: NameKind): string[] {
  if (value === undefined || value === null) throw requiredField(field);
  if (typeof value !== 'string') {
    throw invalidField(field, '应为文本', 'must be text', { code: 'SEAL_TEXT_INVALID' });
  }
  const clean = value
    .replace(LONE_SURROGATE_RE, '')
    .normalize('NFC')
    .replace(WHITESPACE_RE, ' ')
    .replace(STRIP_RE, '')
    .replace(/ {2,}/g, ' ')
    .trim();
  const chars = Array.from(clean);
  if (chars.length === 0) throw requiredField(field);
  if (chars.length > maxChars) {
    throw invalidField(
      field,
      `过长（${chars.length}个字符，最多${maxChars}个）`,
      `is too long (${chars.length} characters, at most ${maxChars})`,
      { code: 'SEAL_TEXT_TOO_LONG', details: { length: chars.length, max: maxChars } },
    );
  }
  if (kind) parseSealName(clean, field, kind, maxChars);
  return chars;
}

/** XML-escapes one string for element content or a double- or single-quoted attribute. */
export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => {
    switch (c) {
      case '&':
        return '&amp;';
      case '<':
        return '&lt;';
      case '>':
        return '&gt;';
      case '"':
        return '&quot;';
      default:
        return '&apos;';
    }
  });
}

// ---------------------------------------------------------------------------------------------------------
// Geometry helpers (fixed decimals: deterministic output)

function n2(v: number): string {
  const s = v.toFixed(2);
  return s === '-0.00' ? '0.00' : s;
}

const DEG = Math.PI / 180;

/**
 * Relative advance of a character in em, for layout (each character is then centred in its slot, so the
 * estimate only shapes spacing, never overlaps): ideographs and full-width forms 1, digits and Latin 0.6,
 * narrow punctuation 0.4.
 */
function slotEm(ch: string): number {
  const cp = ch.codePointAt(0)!;
  if (cp < 0x2e80) {
    if (/[()[\]{}.,:;'"·|!]/.test(ch) || ch === ' ') return 0.4;
    return 0.6;
  }
  return 1;
}

/**
 * Vertical offset from a glyph's baseline to the middle of its ink, in em: the CJK ideographic em box runs
 * from 0.88 above to 0.12 below the baseline; digits and capitals are 0.73 high.
 */
const CJK_MIDDLE_EM = 0.38;
const DIGIT_MIDDLE_EM = 0.365;

function charText(ch: string, transform: string, fontSize: number, middleEm: number): string {
  if (ch === ' ') return '';
  return `<text transform="${transform}" x="0" y="${n2(fontSize * middleEm)}" font-size="${n2(fontSize)}">${escapeXml(ch)}</text>`;
}

// ---------------------------------------------------------------------------------------------------------
// Public seals

const C = IMPRINT_VIEWBOX / 2;
const RING_RADIUS = 95.5;
const RING_WIDTH = 5;
const RING_INNER = RING_RADIUS - RING_WIDTH / 2; // 93

function star(cx: number, cy: number, outer: number): string {
  const inner = outer * 0.381966; // regular five-pointed star: sin 18° / sin 126°
  const pts: string[] = [];
  for (let k = 0; k < 10; k++) {
    const r = k % 2 === 0 ? outer : inner;
    const a = (-90 + 36 * k) * DEG;
    pts.push(`${n2(cx + r * Math.cos(a))},${n2(cy + r * Math.sin(a))}`);
  }
  return `<polygon points="${pts.join(' ')}"/>`;
}

const NAME_MAX_FONT_SIZE = 28;

/** Radius of the middle of the name's characters: their heads stay 5 units clear of the ring. */
function nameRadius(fontSize: number): number {
  return RING_INNER - 5 - fontSize * 0.45;
}

interface ArcLayout {
  fontSize: number;
  scaleX: number;
  radius: number;
  /** Centre angles in degrees, clockwise from the top. */
  angles: number[];
}

/**
 * The holder name on the upper arc. The arc (measured over the characters' slots) grows with the name from
 * 180° up to `maxSpanDeg`; when the slots get narrow the characters are condensed (down to 55 % width) and
 * then made smaller, as on long-name seals.
 */
function layoutUpperArc(chars: readonly string[], maxSpanDeg: number): ArcLayout {
  const slots = chars.map(slotEm);
  const totalSlots = slots.reduce((a, b) => a + b, 0);
  const spanDeg = Math.min(maxSpanDeg, Math.max(180, totalSlots * 24));
  const perSlotRad = (spanDeg / totalSlots) * DEG;
  let fontSize = NAME_MAX_FONT_SIZE;
  let radius = 0;
  let scaleX = 0;
  for (; ; fontSize -= 0.5) {
    radius = nameRadius(fontSize);
    scaleX = (perSlotRad * radius) / (fontSize * 1.08);
    if (scaleX >= 0.45 || fontSize <= 12) break;
  }
  scaleX = Math.min(scaleX, 0.85);
  const angles: number[] = [];
  let acc = -spanDeg / 2;
  for (const s of slots) {
    const w = (s / totalSlots) * spanDeg;
    angles.push(acc + w / 2);
    acc += w;
  }
  return { fontSize, scaleX, radius, angles };
}

/** Bold strokes clog once characters are condensed below 60 %: long names are cut in the regular weight. */
function upperArcText(l: ArcLayout, chars: readonly string[]): string {
  const weight = l.scaleX < 0.6 ? 400 : 700;
  const out: string[] = [];
  chars.forEach((ch, i) => {
    const a = l.angles[i]!;
    const x = C + l.radius * Math.sin(a * DEG);
    const y = C - l.radius * Math.cos(a * DEG);
    out.push(charText(ch, `translate(${n2(x)} ${n2(y)}) rotate(${n2(a)}) scale(${n2(l.scaleX)} 1)`, l.fontSize, CJK_MIDDLE_EM));
  });
  return `<g font-family="'${SERIF_FAMILY}', serif" font-weight="${weight}">${out.join('')}</g>`;
}

/** The seal code along the lower arc, left to right, heads toward the centre. */
function lowerArcCode(code: string): string {
  const fontSize = 9;
  const radius = RING_INNER - 2.5 - fontSize * 0.37;
  const chars = Array.from(code);
  const advance = fontSize * 0.62; // digits of Noto Sans are 0.55 em wide; a little letter-spacing
  const stepDeg = (advance / radius) / DEG;
  const out: string[] = [];
  chars.forEach((ch, i) => {
    // Clockwise from the top: the bottom is 180°, the left side lies above 180°.
    const a = 180 + ((chars.length - 1) / 2 - i) * stepDeg;
    const x = C + radius * Math.sin(a * DEG);
    const y = C - radius * Math.cos(a * DEG);
    out.push(charText(ch, `translate(${n2(x)} ${n2(y)}) rotate(${n2(a - 180)})`, fontSize, DIGIT_MIDDLE_EM));
  });
  return `<g font-family="'${SANS_FAMILY}', sans-serif" font-weight="400">${out.join('')}</g>`;
}

/** One horizontal line centred at (C, centreY), condensed to fit `maxWidth`. */
function horizontalLine(chars: readonly string[], centreY: number, maxFontSize: number, maxWidth: number): string {
  const slots = chars.map(slotEm);
  const totalEm = slots.reduce((a, b) => a + b, 0);
  let fontSize = maxFontSize;
  let scaleX = Math.min(0.85, maxWidth / (totalEm * fontSize));
  while (scaleX < 0.5 && fontSize > 12) {
    fontSize -= 0.5;
    scaleX = Math.min(0.85, maxWidth / (totalEm * fontSize));
  }
  const width = totalEm * fontSize * scaleX;
  const out: string[] = [];
  let x = C - width / 2;
  chars.forEach((ch, i) => {
    const w = slots[i]! * fontSize * scaleX;
    out.push(charText(ch, `translate(${n2(x + w / 2)} ${n2(centreY)}) scale(${n2(scaleX)} 1)`, fontSize, CJK_MIDDLE_EM));
    x += w;
  });
  return out.join('');
}

function publicSeal(name: readonly string[], belowStar: readonly string[] | null, sealCode: string): string {
  const parts: string[] = [];
  parts.push(`<circle cx="${n2(C)}" cy="${n2(C)}" r="${n2(RING_RADIUS)}" fill="none" stroke="${SEAL_RED}" stroke-width="${n2(RING_WIDTH)}"/>`);
  if (belowStar === null) {
    parts.push(star(C, C, 32));
    parts.push(upperArcText(layoutUpperArc(name, 280), name));
  } else if (belowStar.length > DEPARTMENT_LINE_MAX_CHARS) {
    // A long department name is cut in two lines below a smaller star, the first line the longer, as carvers
    // set it; the lines (centred 27 and 45 below the centre, at most 16 high) keep clear of the code below.
    const split = Math.ceil(belowStar.length / 2);
    const corner = Math.hypot(40, 45 + 8);
    let arc = layoutUpperArc(name, 280);
    if (arc.radius - arc.fontSize * 0.5 < corner + 3) arc = layoutUpperArc(name, 250);
    parts.push(star(C, C - 12, 24));
    parts.push(upperArcText(arc, name));
    parts.push(
      `<g font-family="'${SERIF_FAMILY}', serif" font-weight="700">${horizontalLine(belowStar.slice(0, split), C + 27, 16, 84)}${horizontalLine(belowStar.slice(split), C + 45, 16, 80)}</g>`,
    );
  } else {
    // The line below the star: centred 38 below the centre, at most 86 wide and 20 high. A name whose
    // characters would reach into that box when it runs down to 280° stops at 250° instead.
    const lineCentreY = 38;
    const lineHalfWidth = 43;
    const corner = Math.hypot(lineHalfWidth, lineCentreY + 10);
    let arc = layoutUpperArc(name, 280);
    if (arc.radius - arc.fontSize * 0.5 < corner + 3) arc = layoutUpperArc(name, 250);
    parts.push(star(C, C - 6, 28));
    parts.push(upperArcText(arc, name));
    parts.push(
      `<g font-family="'${SERIF_FAMILY}', serif" font-weight="700">${horizontalLine(belowStar, C + lineCentreY, 20, lineHalfWidth * 2)}</g>`,
    );
  }
  parts.push(lowerArcCode(sealCode));
  return parts.join('');
}

// ---------------------------------------------------------------------------------------------------------
// Personal name seals

/** 张三 → 张三之印, 王小明 → 王小明印, 欧阳娜娜 → 欧阳娜娜, longer → …印 (see the module comment). */
export function personalSealText(name: readonly string[]): string[] {
  if (name.length <= 2) return [...name, '之', '印'];
  if (name.length === 3) return [...name, '印'];
  if (name.length === 4) return [...name];
  return [...name, '印'];
}

/**
 * How many characters each column holds, right to left: 4 → 2+2; 3 (a one-character name) → 1+2 (the name
 * alone on the right, 之印 on the left); longer texts in ⌈√n⌉ columns as even as possible, the fuller
 * columns first (7 → 3+2+2).
 */
export function personalColumns(n: number): number[] {
  if (n <= 2) return [n];
  if (n === 3) return [1, 2];
  const cols = Math.ceil(Math.sqrt(n));
  const base = Math.floor(n / cols);
  const extra = n % cols;
  return Array.from({ length: cols }, (_, i) => base + (i < extra ? 1 : 0));
}

function personalSeal(chars: readonly string[]): string {
  const border = 9;
  const inset = 5;
  const pad = 5;
  const start = inset + border + pad;
  const area = IMPRINT_VIEWBOX - 2 * start;
  const sizes = personalColumns(chars.length);
  const cols = sizes.length;
  const colW = area / cols;
  const out: string[] = [];
  out.push(
    `<rect x="${n2(inset + border / 2)}" y="${n2(inset + border / 2)}" width="${n2(IMPRINT_VIEWBOX - 2 * inset - border)}" height="${n2(IMPRINT_VIEWBOX - 2 * inset - border)}" fill="none" stroke="${SEAL_RED}" stroke-width="${n2(border)}"/>`,
  );
  const texts: string[] = [];
  let next = 0;
  for (let col = 0; col < cols; col++) {
    const colChars = chars.slice(next, next + sizes[col]!);
    next += sizes[col]!;
    // Columns are read from right to left; a shorter column spreads over the full height.
    const cx = start + area - colW * (col + 0.5);
    const rowH = area / colChars.length;
    const fontSize = Math.min(colW, rowH) * 0.96;
    const sx = (colW * 0.96) / fontSize;
    const sy = (rowH * 0.96) / fontSize;
    colChars.forEach((ch, row) => {
      const cy = start + rowH * (row + 0.5);
      texts.push(charText(ch, `translate(${n2(cx)} ${n2(cy)}) scale(${n2(sx)} ${n2(sy)})`, fontSize, CJK_MIDDLE_EM));
    });
  }
  out.push(`<g font-family="'${SERIF_FAMILY}', serif" font-weight="700">${texts.join('')}</g>`);
  return out.join('');
}

// ---------------------------------------------------------------------------------------------------------

function parseSealCode(value: unknown): string {
  if (value === undefined || value === null || value === '') throw requiredField(FIELD_SEAL_CODE);
  if (typeof value !== 'string' || !SEAL_CODE_RE.test(value)) {
    throw invalidField(FIELD_SEAL_CODE, '应为4至20位数字或大写字母', 'must be 4 to 20 digits or capital letters', {
      code: 'SEAL_CODE_INVALID',
    });
  }
  return value;
}

function belowStarText(input: ImprintInput, kind: SealKind): string[] | null {
  const hasNumber = input.sealNumber !== undefined && input.sealNumber !== null;
  if (isBusinessSealKind(kind)) {
    if (!hasNumber) throw requiredField(FIELDS.sealNumber);
    if (!Number.isSafeInteger(input.sealNumber) || input.sealNumber! < 1 || input.sealNumber! > 999) {
      throw invalidField(FIELDS.sealNumber, '应为1至999的整数', 'must be a whole number from 1 to 999', {
        code: 'SEAL_NUMBER_INVALID',
      });
    }
    return Array.from(sealDisplayLabel(kind, input.sealNumber).zh);
  }
  if (hasNumber) {
    throw invalidField(FIELDS.sealNumber, `${SEAL_KIND_LABELS[kind].zh}不编号`, `a ${kind} seal is not numbered`, {
      code: 'SEAL_NUMBER_NOT_ALLOWED',
    });
  }
  if (kind === 'internal_department') {
    return sanitizeSealText(input.departmentName, FIELD_DEPARTMENT_NAME, DEPARTMENT_NAME_MAX_CHARS, 'registered');
  }
  return null;
}

function refuseField(field: typeof FIELD_HOLDER_NAME, kind: SealKind): DomainError {
  return invalidField(field, `${SEAL_KIND_LABELS[kind].zh}上不刻此项`, `is not part of a ${kind} seal`, {
    code: 'SEAL_TEXT_NOT_ALLOWED',
  });
}

/** S3: the imprint's SVG (a 200×200 viewBox, transparent background). Throws a DomainError on bad input. */
export function renderImprintSvg(input: ImprintInput): string {
  if (!isSealKind(input.sealKind)) throw invalidField(FIELDS.sealKind, '无效', 'is not a seal kind', { code: 'UNKNOWN_SEAL_KIND' });
  const kind = input.sealKind;
  const holder = sanitizeSealText(input.holderName, FIELD_HOLDER_NAME, HOLDER_NAME_MAX_CHARS, 'registered');
  const sealCode = parseSealCode(input.sealCode);
  const hasPerson = input.personName !== undefined && input.personName !== null;
  const hasDepartment = input.departmentName !== undefined && input.departmentName !== null;
  if (kind !== 'internal_department' && hasDepartment) throw refuseField(FIELD_DEPARTMENT_NAME, kind);

  let body: string;
  let label: string;
  if (kind === 'personal_name') {
    if (input.sealNumber !== undefined && input.sealNumber !== null) {
      throw invalidField(FIELDS.sealNumber, '个人名章不编号', 'a personal name seal is not numbered', { code: 'SEAL_NUMBER_NOT_ALLOWED' });
    }
    const person = sanitizeSealText(input.personName, FIELD_PERSON_NAME, PERSON_NAME_MAX_CHARS, 'person');
    const text = personalSealText(person);
    body = personalSeal(text);
    label = `${SEAL_KIND_LABELS[kind].zh} ${text.join('')}`;
  } else {
    if (hasPerson) throw refuseField(FIELD_PERSON_NAME, kind);
    const below = belowStarText(input, kind);
    body = publicSeal(holder, below, sealCode);
    label = below === null ? SEAL_KIND_LABELS[kind].zh : `${SEAL_KIND_LABELS[kind].zh} ${below.join('')}`;
  }

  const desc = `电子印章 ${label} 单位 ${holder.join('')} 印章编码 ${sealCode}`;
  const v = IMPRINT_VIEWBOX;
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n` +
    `<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="${v}" height="${v}" viewBox="0 0 ${v} ${v}">` +
    `<desc>${escapeXml(desc)}</desc>` +
    `<g fill="${SEAL_RED}" stroke="none" text-anchor="middle">${body}</g>` +
    `</svg>\n`
  );
}
