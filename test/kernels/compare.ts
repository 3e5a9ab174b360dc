/**
 * Comparisons for the kernel tests and the kernel benchmark. SSIM is the benchmark's standard one
 * (bench/ssim.ts, Gaussian 11x11 on luma); the mean colour distance is the shared test helper's.
 */
import type { RGBAImage } from '../../src/image.js';
import { ssim as ssimPixels } from '../../bench/ssim.js';

/** Mean SSIM of the luma of two RGBA images of the same size (`reference` first). */
export const ssim = (reference: RGBAImage, candidate: RGBAImage): number =>
  ssimPixels({ ...reference, channels: 4 }, { ...candidate, channels: 4 });

/** Largest absolute difference of any channel value. */
export function maxAbsDiff(a: RGBAImage, b: RGBAImage): number {
  if (a.width !== b.width || a.height !== b.height) {
    throw new Error(`Expected images of the same size but received ${a.width}x${a.height} and ${b.width}x${b.height}`);
  }
  let max = 0;
  for (let i = 0; i < a.data.length; i++) max = Math.max(max, Math.abs(a.data[i] - b.data[i]));
  return max;
}
