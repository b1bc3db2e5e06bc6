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

/** Renders an imprint SVG to a PNG Buffer of `size`×`size` pixels. */
export function renderImprintPng(svg: string, options: ImprintPngOptions = {}): Buffer {
  return new Resvg(svg, renderOptions(options)).render().asPng();
}

/**
 * The same, off the event loop: loading the CJK fonts and rasterising take a few hundred milliseconds of CPU,
 * which a worker or web process must not spend blocking everything else.
 */
export async function renderImprintPngAsync(svg: string, options: ImprintPngOptions = {}): Promise<Buffer> {
  return (await renderAsync(svg, renderOptions(options))).asPng();
}

/** SHA-256 (lower-case hex) of an SVG (its UTF-8 bytes) or of PNG bytes. */
export function imprintDigest(svgOrPng: string | Uint8Array): string {
  const h = createHash('sha256');
  if (typeof svgOrPng === 'string') h.update(svgOrPng, 'utf8');
  else h.update(svgOrPng);
  return h.digest('hex');
}
