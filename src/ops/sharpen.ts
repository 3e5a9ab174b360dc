/**
 * OSS's sharpen, 50..399 (100 recommended): an unsharp mask. The image minus a sigma-1 Gaussian blur
 * of itself is added back, scaled by value / 100, so higher values sharpen more (and, as OSS warns,
 * eventually add halos). Alpha is left as it was. Blur and mask are one pass of the kernels module's
 * SIMD code (src/kernels/gaussian.ts).
 */
import type { RGBAImage } from '../image.js';
import { gaussianRGBA } from '../kernels/gaussian.js';
import { checkOption, int, type OpParams } from '../spec.js';

export const SHARPEN_PARAMS = {
  value: { spec: int(50, 399), doc: 'strength' },
} as const satisfies OpParams;

/** The mask's Gaussian: radius 2, sigma 1. */
const SHARPEN_RADIUS = 2;

/** The cost budget's price of a sharpen per pixel, in passes (measured with bench/blur.ts). */
export const SHARPEN_PASSES = 7;

/** The value is checked before anything runs (a bad value throws rather than rejects). */
export function sharpen(image: RGBAImage, value: number): Promise<RGBAImage> {
  const amount = checkOption('sharpen', 'value', SHARPEN_PARAMS.value, value) / 100;
  return gaussianRGBA(image, SHARPEN_RADIUS, 1, amount);
}
