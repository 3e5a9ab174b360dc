/** Lanczos3 resize, keeping the aspect ratio, never enlarging unless asked. */
import { ImgpipeError, describeValue } from '../errors.js';
import type { RGBAImage } from '../image.js';
import { resizeRGBA } from '../kernels/lanczos.js';
import { MAX_OUTPUT_SIDE } from '../limits.js';
import { checkOption, int, type OpParams } from '../spec.js';

/** A target side: 1..16384 px. */
export const SIDE = int(1, MAX_OUTPUT_SIDE);

/** The parameters `resize` shares with the x-oss-process action (which adds OSS's modes and l/s/p). */
export const RESIZE_PARAMS = {
  w: { spec: SIDE, doc: 'target width', option: 'width' },
  h: { spec: SIDE, doc: 'target height', option: 'height' },
} as const satisfies OpParams;

export interface ResizeOptions {
  /** Target width in px. */
  readonly width?: number;
  /** Target height in px. */
  readonly height?: number;
  /**
   * With both width and height: `inside` (default) fits within the box keeping the aspect ratio,
   * `outside` covers the box keeping the aspect ratio, `fill` stretches to exactly width x height.
   */
  readonly fit?: 'inside' | 'outside' | 'fill';
  /** Allow output larger than the input. Default false: the image is returned at its own size. */
  readonly enlarge?: boolean;
  /**
   * Resample in linear light instead of gamma-encoded sRGB. More correct for fine high-contrast
   * patterns (the "gamma trap"), but slower and different from sharp's and OSS's default, so off.
   */
  readonly linear?: boolean;
}


/** The output size `resize` would produce, without touching pixels (used to check limits first). */
export function resizeTarget(srcW: number, srcH: number, o: ResizeOptions): { width: number; height: number } {
  if (o.width !== undefined) checkOption('resize', 'w', RESIZE_PARAMS.w, o.width);
  if (o.height !== undefined) checkOption('resize', 'h', RESIZE_PARAMS.h, o.height);
  if (o.width === undefined && o.height === undefined) {
    throw new ImgpipeError('MISSING_ARGUMENT', 'Expected resize.width or resize.height but received neither');
  }
  const fit = o.fit ?? 'inside';
  if (fit !== 'inside' && fit !== 'outside' && fit !== 'fill') {
    throw new ImgpipeError('INVALID_ARGUMENT', `Expected one of inside, outside, fill for resize.fit but received ${describeValue(fit)}`);
  }
  let w: number, h: number;
  if (o.width !== undefined && o.height !== undefined && fit === 'fill') {
    [w, h] = [o.width, o.height];
  } else {
    const sx = o.width !== undefined ? o.width / srcW : undefined;
    const sy = o.height !== undefined ? o.height / srcH : undefined;
    const scale = sx === undefined ? sy! : sy === undefined ? sx : fit === 'inside' ? Math.min(sx, sy) : Math.max(sx, sy);
    w = Math.max(1, roundHalfEven(srcW * scale));
    h = Math.max(1, roundHalfEven(srcH * scale));
    if (sx !== undefined && (sy === undefined || scale === sx)) w = o.width!;
    if (sy !== undefined && (sx === undefined || scale === sy)) h = o.height!;
  }
  if (!o.enlarge && (w > srcW || h > srcH)) {
    if (fit === 'fill') return { width: Math.min(w, srcW), height: Math.min(h, srcH) };
    return { width: srcW, height: srcH };
  }
  if (w > MAX_OUTPUT_SIDE || h > MAX_OUTPUT_SIDE) {
    throw new ImgpipeError('IMAGE_TOO_LARGE', `Expected an output of at most ${MAX_OUTPUT_SIDE} px per side but resize would produce ${w}x${h}`);
  }
  return { width: w, height: h };
}

/**
 * Round half to even, as libvips (sharp) does when it derives the other side: 256x192 scaled to
 * 150 wide is 150x112, not 150x113. Matching it keeps imgpipe's sizes interchangeable with sharp's.
 */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

export async function resize(image: RGBAImage, options: ResizeOptions): Promise<RGBAImage> {
  const { width, height } = resizeTarget(image.width, image.height, options);
  if (width === image.width && height === image.height) return image;
  // imgpipe's WASM-SIMD kernel (premultiplied alpha, libvips-style pre-shrink): see src/kernels/.
  return resizeRGBA(image, width, height, { linear: options.linear === true });
}
