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
// resvg reads the whole CJK font file (20-27 MB) again for every <text> element it shapes, about 15-40 ms
// each, and an imprint has 20-40 of them: most of an imprint's cost. Each character is therefore shaped
// once per process, at GLYPH_EM units, and later drawn as that path, placed by the <text>'s own transform,
// baseline and size (outlines scale linearly: no hinting with geometricPrecision). The PNG depends only on
// the SVG, the font files and resvg, whether a glyph came from the cache or not.

const GLYPH_EM = 100;
const GLYPH_CACHE_LIMIT = 20_000; // ~2 KB each: every common hanzi in three fonts fits
const glyphCache = new Map<string, string | null>();

/** Our own SVG's text: one character per <text>, grouped by font (see charText and the groups in ./svg). */
const FONT_GROUP = /<g (font-family="[^"<>]*" font-weight="\d+")>((?:<text [^<>]*>[^<>]*<\/text>)+)<\/g>/g;
const CHAR_TEXT = /<text transform="([^"<>]*)" x="0" y="(-?[\d.]+)" font-size="([\d.]+)">([^<>]*)<\/text>/g;

/** The outline of one character (XML-escaped, as in the SVG) in a font group; null when resvg draws it otherwise. */
function glyphPath(fontAttrs: string, escapedChar: string, font: ResvgRenderOptions['font']): string | null {
  const key = `${font?.fontFiles?.join('|')}\u0000${fontAttrs}\u0000${escapedChar}`;
  const cached = glyphCache.get(key);
  if (cached !== undefined) return cached;
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1" viewBox="0 0 1 1"><g text-anchor="middle" ${fontAttrs}>` +
    `<text x="0" y="0" font-size="${GLYPH_EM}">${escapedChar}</text></g></svg>`;
  const tree = new Resvg(svg, { font, logLevel: 'off' }).toString();
  // Only plain paths in the text's own coordinates can be reused; anything else stays text.
  const paths = [...tree.matchAll(/<path [^>]*\bd="([^"]*)"/g)].map((m) => m[1]);
  const d = paths.length > 0 && !/transform=|<image|<use|clip-path|mask=/.test(tree) ? paths.join(' ') : null;
  if (glyphCache.size >= GLYPH_CACHE_LIMIT) glyphCache.clear();
  glyphCache.set(key, d);
  return d;
}

/** Characters still to be shaped for this SVG (so the async renderer can do them a few at a time). */
function unshapedChars(svg: string, font: ResvgRenderOptions['font']): Array<[string, string]> {
  const todo: Array<[string, string]> = [];
  for (const [, fontAttrs, texts] of svg.matchAll(FONT_GROUP)) {
    for (const [, , , , ch] of texts.matchAll(CHAR_TEXT)) {
      if (!glyphCache.has(`${font?.fontFiles?.join('|')}\u0000${fontAttrs}\u0000${ch}`)) todo.push([fontAttrs, ch]);
    }
  }
  return todo;
}

/** The SVG with every character of our own text layout replaced by its cached outline. */
function outlineText(svg: string, font: ResvgRenderOptions['font']): string {
  return svg.replace(FONT_GROUP, (group, fontAttrs: string, texts: string) => {
    const paths = texts.replace(CHAR_TEXT, (text, transform: string, y: string, size: string, ch: string) => {
      const d = glyphPath(fontAttrs, ch, font);
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
 * The same, without holding the event loop: rasterising runs off the main thread; a character not yet in
 * the glyph cache is shaped on it (~15-40 ms), one at a time with a turn of the event loop in between.
 */
export async function renderImprintPngAsync(svg: string, options: ImprintPngOptions = {}): Promise<Buffer> {
  const opts = renderOptions(options);
  for (const [fontAttrs, ch] of unshapedChars(svg, opts.font)) {
    await new Promise<void>((resolve) => setImmediate(resolve));
    glyphPath(fontAttrs, ch, opts.font);
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
