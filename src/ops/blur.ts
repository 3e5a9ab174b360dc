/**
 * Gaussian blur: a separable kernel of the given radius and standard deviation, applied in
 * premultiplied alpha (so transparent pixels don't darken their neighbours) with edge pixels repeated.
 * The passes run on the kernels module's SIMD code (src/kernels/gaussian.ts).
 */
import { ImgpipeError, describeValue } from '../errors.js';
import type { RGBAImage } from '../image.js';
import { gaussianRGBA } from '../kernels/gaussian.js';
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

/**
 * OSS's blur: either parameter alone is enough, the other follows the usual 3-sigma rule. The options
 * are checked before anything runs (a bad value throws rather than rejects).
 */
export function blur(image: RGBAImage, options: BlurOptions): Promise<RGBAImage> {
  if (typeof options !== 'object' || options === null) {
    throw new ImgpipeError('INVALID_ARGUMENT', `Expected blur options { radius, sigma } but received ${describeValue(options)}`);
  }
  const r = options.radius === undefined ? undefined : checkOption('blur', 'r', BLUR_PARAMS.r, options.radius);
  const s = options.sigma === undefined ? undefined : checkOption('blur', 's', BLUR_PARAMS.s, options.sigma);
  if (r === undefined && s === undefined) throw new ImgpipeError('MISSING_ARGUMENT', missingMessage('blur', ['r', 's']), { details: { param: 'r,s' } });
  const kernel = blurKernel(r, s);
  return gaussianRGBA(image, kernel.radius, kernel.sigma);
}

/** The Gaussian OSS's blur asks for (one of `r`, `s` given): either alone follows the usual 3-sigma rule. */
export function blurKernel(r: number | undefined, s: number | undefined): { radius: number; sigma: number } {
  return { radius: r ?? Math.min(50, Math.ceil(3 * s!)), sigma: s ?? Math.max(0.5, r! / 2) };
}

/**
 * The cost budget's price of a blur per pixel, in passes (see process/actions.ts `StepCost`): the
 * copy, premultiply and un-premultiply, plus 2r + 1 taps in each direction at KERNEL_TAPS_PER_PASS
 * taps of the SIMD kernel to one pass (measured with bench/blur.ts).
 */
export function blurPasses(radius: number): number {
  return BLUR_FIXED_PASSES + (2 * (2 * radius + 1)) / KERNEL_TAPS_PER_PASS;
}
const BLUR_FIXED_PASSES = 4;
const KERNEL_TAPS_PER_PASS = 7;
