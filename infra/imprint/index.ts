/**
 * S3: the electronic seal's imprint, rendered deterministically from the seal's text, kind, number and seal
 * code. `svgSha256` is the canonical binding (independent of fonts and rasteriser); `pngSha256` binds the
 * picture actually placed on documents.
 */
import { imprintDigest, type ImprintPngOptions, renderImprintPng, renderImprintPngAsync } from './png';
import { type ImprintInput, renderImprintSvg } from './svg';

export * from './svg';
export * from './png';

export interface RenderedImprint {
  readonly svg: string;
  readonly png: Buffer;
  readonly svgSha256: string;
  readonly pngSha256: string;
}

export function renderImprint(input: ImprintInput, options: ImprintPngOptions = {}): RenderedImprint {
  const svg = renderImprintSvg(input);
  const png = renderImprintPng(svg, options);
  return { svg, png, svgSha256: imprintDigest(svg), pngSha256: imprintDigest(png) };
}

/** {@link renderImprint} without blocking the event loop (for workers and the web). */
export async function renderImprintAsync(input: ImprintInput, options: ImprintPngOptions = {}): Promise<RenderedImprint> {
  const svg = renderImprintSvg(input);
  const png = await renderImprintPngAsync(svg, options);
  return { svg, png, svgSha256: imprintDigest(svg), pngSha256: imprintDigest(png) };
}
