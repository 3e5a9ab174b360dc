/**
 * Gaussian blur: a separable kernel of the given radius and standard deviation, applied in
 * premultiplied alpha (so transparent pixels don't darken their neighbours) with edge pixels repeated.
 */
import { ImgpipeError, describeValue } from '../errors.js';
import type { RGBAImage } from '../image.js';
import { checkOption, int, missingMessage, type OpParams } from '../spec.js';

export const BLUR_PARAMS = {
  r: { spec: int(1, 50), doc: 'radius', option: 'radius' },
  s: { spec: int(1, 50), doc: 'standard deviation', option: 'sigma' },
} as const satisfies OpParams;

export interface BlurOptions {
  /** Kernel radius in pixels, 1..50 (the kernel is 2r + 1 wide). Default 3 x sigma (at most 50). */
  readonly radius?: number;
  /** Standard deviation of the Gaussian in pixels, 1..50. Default radius / 2. */
  readonly sigma?: number;
}

/** OSS's blur: either parameter alone is enough, the other follows the usual 3-sigma rule. */
export function blur(image: RGBAImage, options: BlurOptions): RGBAImage {
  if (typeof options !== 'object' || options === null) {
    throw new ImgpipeError('INVALID_ARGUMENT', `Expected blur options { radius, sigma } but received ${describeValue(options)}`);
  }
  const r = options.radius === undefined ? undefined : checkOption('blur', 'r', BLUR_PARAMS.r, options.radius);
  const s = options.sigma === undefined ? undefined : checkOption('blur', 's', BLUR_PARAMS.s, options.sigma);
  if (r === undefined && s === undefined) throw new ImgpipeError('MISSING_ARGUMENT', missingMessage('blur', ['r', 's']), { details: { param: 'r,s' } });
  const kernel = blurKernel(r, s);
  return gaussianBlur(image, kernel.radius, kernel.sigma);
}

/** The Gaussian OSS's blur asks for (one of `r`, `s` given): either alone follows the usual 3-sigma rule. */
export function blurKernel(r: number | undefined, s: number | undefined): { radius: number; sigma: number } {
  return { radius: r ?? Math.min(50, Math.ceil(3 * s!)), sigma: s ?? Math.max(0.5, r! / 2) };
}

/** The blur itself, for a radius and sigma the caller has settled (sharpen's fixed kernel, `blur`). */
export function gaussianBlur(image: RGBAImage, radius: number, sigma: number): RGBAImage {
  const kernel = gaussianKernel(radius, sigma);
  const { width: w, height: h } = image;
  const pre = premultiply(image);
  const tmp = new Float32Array(pre.length);
  convolve(pre, tmp, w, h, kernel, 4, w * 4); // horizontal: step one pixel along a row
  convolve(tmp, pre, h, w, kernel, w * 4, 4); // vertical: step one row along a column
  return { width: w, height: h, data: unpremultiply(pre) };
}

export function gaussianKernel(radius: number, sigma: number): Float32Array {
  const k = new Float32Array(2 * radius + 1);
  let sum = 0;
  for (let i = -radius; i <= radius; i++) sum += k[i + radius] = Math.exp(-(i * i) / (2 * sigma * sigma));
  for (let i = 0; i < k.length; i++) k[i] /= sum;
  return k;
}

/**
 * 1-D convolution along lines. `along` is the byte stride between neighbours on a line, `across` the
 * stride between lines; `length` pixels per line, `lines` lines.
 */
function convolve(
  src: Float32Array, dst: Float32Array, length: number, lines: number, kernel: Float32Array,
  along: number, across: number,
): void {
  const r = (kernel.length - 1) / 2;
  for (let line = 0; line < lines; line++) {
    const base = line * across;
    for (let p = 0; p < length; p++) {
      let c0 = 0, c1 = 0, c2 = 0, c3 = 0;
      for (let k = -r; k <= r; k++) {
        const q = Math.min(length - 1, Math.max(0, p + k));
        const i = base + q * along, wgt = kernel[k + r];
        c0 += src[i] * wgt; c1 += src[i + 1] * wgt; c2 += src[i + 2] * wgt; c3 += src[i + 3] * wgt;
      }
      const o = base + p * along;
      dst[o] = c0; dst[o + 1] = c1; dst[o + 2] = c2; dst[o + 3] = c3;
    }
  }
}

export function premultiply(image: RGBAImage): Float32Array {
  const s = image.data;
  const out = new Float32Array(s.length);
  for (let i = 0; i < s.length; i += 4) {
    const a = s[i + 3] / 255;
    out[i] = s[i] * a; out[i + 1] = s[i + 1] * a; out[i + 2] = s[i + 2] * a; out[i + 3] = s[i + 3];
  }
  return out;
}

function unpremultiply(p: Float32Array): Uint8ClampedArray {
  const out = new Uint8ClampedArray(p.length);
  for (let i = 0; i < p.length; i += 4) {
    const a = p[i + 3];
    if (a <= 0) continue;
    const f = 255 / a;
    out[i] = p[i] * f; out[i + 1] = p[i + 1] * f; out[i + 2] = p[i + 2] * f; out[i + 3] = a;
  }
  return out;
}
