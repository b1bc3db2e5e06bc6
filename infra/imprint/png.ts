/**
 * S3: the imprint as a PNG (transparent background), rasterised with resvg from the SVG of {@link ./svg}.
 *
 * Determinism: no system fonts are loaded; only the Noto CJK font files named here, so the same SVG gives
 * the same PNG bytes with the same resvg build and the same font files. The PNG bytes (and so its hash) do
 * depend on those two; the SVG does not, which is why the SVG is the canonical imprint and its hash the one
 * to bind first.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { Resvg, renderAsync, type ResvgRenderOptions } from '@resvg/resvg-js';
import { SANS_FAMILY, SERIF_FAMILY } from './svg';

/** Debian's fonts-noto-cjk. Override with the IMPRINT_FONT_DIR environment variable or `fontFiles`. */
export const DEFAULT_FONT_DIR = '/usr/share/fonts/opentype/noto';
export const FONT_FILE_NAMES = ['NotoSerifCJK-Bold.ttc', 'NotoSerifCJK-Regular.ttc', 'NotoSansCJK-Regular.ttc'] as const;

export interface ImprintPngOptions {
  /** Width and height of the PNG in pixels (the imprint is square). Default 512. */
  readonly size?: number;
  /** Font files to load instead of the defaults; they must provide the Noto CJK SC families. */
  readonly fontFiles?: readonly string[];
}

export function defaultFontFiles(): string[] {
  const dir = process.env.IMPRINT_FONT_DIR ?? DEFAULT_FONT_DIR;
  return FONT_FILE_NAMES.map((f) => path.join(dir, f));
}

function renderOptions(options: ImprintPngOptions): ResvgRenderOptions {
  const size = options.size ?? 512;
  if (!Number.isSafeInteger(size) || size < 16 || size > 4096) {
    throw new RangeError(`imprint PNG size must be a whole number of pixels from 16 to 4096, got ${String(size)}`);
  }
  const fontFiles = [...(options.fontFiles ?? defaultFontFiles())];
  const missing = fontFiles.filter((f) => !existsSync(f));
  if (missing.length > 0) {
    throw new Error(
      `imprint fonts not found: ${missing.join(', ')} (install Debian's fonts-noto-cjk, or set IMPRINT_FONT_DIR)`,
    );
  }
  return {
    fitTo: { mode: 'width', value: size },
    font: {
      loadSystemFonts: false,
      fontFiles,
      defaultFontFamily: SERIF_FAMILY,
      serifFamily: SERIF_FAMILY,
      sansSerifFamily: SANS_FAMILY,
    },
    shapeRendering: 2, // geometricPrecision: anti-aliased edges
    textRendering: 2, // geometricPrecision
    imageRendering: 0,
    dpi: 96,
    logLevel: 'off',
  };
}

// --- glyph outlines -------------------------------------------------------------------------------------
//
// resvg loads the font files (three CJK collections, 20-27 MB each) again for every Resvg it makes, and shaping
// one <text> element is cheap beside that load; an imprint has 20-40 of them. Each character is therefore
// shaped once per process, at GLYPH_EM units, and later drawn as that path, placed by the <text>'s own
// transform, baseline and size (outlines scale linearly: no hinting with geometricPrecision). The characters
// still missing are shaped SHAPE_BATCH at a time in one Resvg, each in a group of its own id (usvg keeps the
// ids), so a first imprint loads the fonts a few times instead of once per character. The PNG depends only on
// the SVG, the font files and resvg, whether a glyph came from the cache or not.

const GLYPH_EM = 100;
const GLYPH_CACHE_LIMIT = 20_000; // ~2 KB each: every common hanzi in three fonts fits
/** Characters shaped per font load: a batch holds the event loop about as long as a load (a few hundred ms). */
const SHAPE_BATCH = 8;
const glyphCache = new Map<string, string | null>();

/** Our own SVG's text: one character per <text>, grouped by font (see charText and the groups in ./svg). */
const FONT_GROUP = /<g (font-family="[^"<>]*" font-weight="\d+")>((?:<text [^<>]*>[^<>]*<\/text>)+)<\/g>/g;
const CHAR_TEXT = /<text transform="([^"<>]*)" x="0" y="(-?[\d.]+)" font-size="([\d.]+)">([^<>]*)<\/text>/g;

const glyphKey = (fontAttrs: string, escapedChar: string, font: ResvgRenderOptions['font']) => `${font?.fontFiles?.join('|')}\u0000${fontAttrs}\u0000${escapedChar}`;

/**
 * Shapes characters (XML-escaped, as in the SVG) of one font group in one Resvg and caches each outline: a
 * plain path in the text's own coordinates, or null when resvg draws it otherwise (it then stays text).
 */
function shapeGlyphs(fontAttrs: string, escapedChars: readonly string[], font: ResvgRenderOptions['font']): void {
  const svg =
    '<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1" viewBox="0 0 1 1">' +
    escapedChars.map((ch, i) => `<g id="glyph${i}" text-anchor="middle" ${fontAttrs}><text x="0" y="0" font-size="${GLYPH_EM}">${ch}</text></g>`).join('') +
    '</svg>';
  const tree = new Resvg(svg, { font, logLevel: 'off' }).toString();
  // Each character's part of the tree: from its group's opening tag to the next character's.
  const parts = new Map<number, string>();
  const opens = [...tree.matchAll(/<g id="glyph(\d+)">/g)];
  opens.forEach((m, j) => parts.set(Number(m[1]), tree.slice(m.index, j + 1 < opens.length ? opens[j + 1].index : tree.length)));
  if (glyphCache.size + escapedChars.length > GLYPH_CACHE_LIMIT) glyphCache.clear();
  escapedChars.forEach((ch, i) => {
    const part = parts.get(i) ?? '';
    const paths = [...part.matchAll(/<path [^>]*\bd="([^"]*)"/g)].map((m) => m[1]);
    // Only plain paths in the text's own coordinates can be reused; anything else stays text.
    glyphCache.set(glyphKey(fontAttrs, ch, font), paths.length > 0 && !/transform=|<image|<use|clip-path|mask=/.test(part) ? paths.join(' ') : null);
  });
}

/** Characters of this SVG not yet shaped, in batches of one font group each (at most SHAPE_BATCH characters). */
function unshapedBatches(svg: string, font: ResvgRenderOptions['font']): Array<[string, string[]]> {
  const todo = new Map<string, Set<string>>();
  for (const [, fontAttrs, texts] of svg.matchAll(FONT_GROUP)) {
    for (const [, , , , ch] of texts.matchAll(CHAR_TEXT)) {
      if (!glyphCache.has(glyphKey(fontAttrs, ch, font))) todo.set(fontAttrs, (todo.get(fontAttrs) ?? new Set()).add(ch));
    }
  }
  const batches: Array<[string, string[]]> = [];
  for (const [fontAttrs, chars] of todo) {
    const all = [...chars];
    for (let i = 0; i < all.length; i += SHAPE_BATCH) batches.push([fontAttrs, all.slice(i, i + SHAPE_BATCH)]);
  }
  return batches;
}

/** The SVG with every character of our own text layout replaced by its cached outline (shaped first if need be). */
function outlineText(svg: string, font: ResvgRenderOptions['font']): string {
  for (const [fontAttrs, chars] of unshapedBatches(svg, font)) shapeGlyphs(fontAttrs, chars, font);
  return svg.replace(FONT_GROUP, (group, fontAttrs: string, texts: string) => {
    const paths = texts.replace(CHAR_TEXT, (text, transform: string, y: string, size: string, ch: string) => {
      let d = glyphCache.get(glyphKey(fontAttrs, ch, font));
      if (d === undefined) {
        shapeGlyphs(fontAttrs, [ch], font); // only if the cache was cleared meanwhile
        d = glyphCache.get(glyphKey(fontAttrs, ch, font)) ?? null;
      }
      if (d === null) return text;
      return d ? `<path transform="${transform} translate(0 ${y}) scale(${Number(size) / GLYPH_EM})" d="${d}"/>` : '';
    });
    return paths.includes('<text') ? group : `<g>${paths}</g>`;
  });
}

/** Render options for an outlined SVG: fonts only if some text is left. */
function withoutFontsIfNoText(svg: string, options: ResvgRenderOptions): ResvgRenderOptions {
  return /<text[\s>]/.test(svg) ? options : { ...options, font: { ...options.font, fontFiles: [] } };
}

/** Renders an imprint SVG to a PNG Buffer of `size`×`size` pixels. */
export function renderImprintPng(svg: string, options: ImprintPngOptions = {}): Buffer {
  const opts = renderOptions(options);
  const outlined = outlineText(svg, opts.font);
  return new Resvg(outlined, withoutFontsIfNoText(outlined, opts)).render().asPng();
}

/**
 * The same, without holding the event loop for long: rasterising runs off the main thread; characters not yet
 * in the glyph cache are shaped on it, a batch at a time with a turn of the event loop in between.
 */
export async function renderImprintPngAsync(svg: string, options: ImprintPngOptions = {}): Promise<Buffer> {
  const opts = renderOptions(options);
  for (const [fontAttrs, chars] of unshapedBatches(svg, opts.font)) {
    await new Promise<void>((resolve) => setImmediate(resolve));
    shapeGlyphs(fontAttrs, chars, opts.font);
  }
  const outlined = outlineText(svg, opts.font);
  return (await renderAsync(outlined, withoutFontsIfNoText(outlined, opts))).asPng();
}

/** SHA-256 (lower-case hex) of an SVG (its UTF-8 bytes) or of PNG bytes. */
export function imprintDigest(svgOrPng: string | Uint8Array): string {
  const h = createHash('sha256');
  if (typeof svgOrPng === 'string') h.update(svgOrPng, 'utf8');
  else h.update(svgOrPng);
  return h.digest('hex');
}
