/**
 * Limits on what an x-oss-process chain may produce, checked by each step before it allocates.
 * Source limits (bytes, side, pixels) and the largest output side live in `src/limits.ts`.
 */
import { MAX_OUTPUT_SIDE, mergePositiveIntegers } from '../limits.js';
import { processError } from './oss-error.js';

export { MAX_OUTPUT_SIDE };

export interface OutputLimits {
  /** Longest side any step may produce. Default 16384, as OSS. */
  readonly maxSide: number;
  /**
   * Most pixels any step may produce. Default 16,777,216 (4096 x 4096), OSS's documented cap; the
   * current OSS value is not published, so this is the documented one. 64 MB of RGBA at most.
   */
  readonly maxPixels: number;
  /** Most actions in one process string: a long chain costs CPU for nothing. */
  readonly maxActions: number;
  /**
   * Most work one process string may cost, in pixel passes (pixels times the kernel work per pixel,
   * summed over decode, every step and encode; see budget.ts). Default 1,500,000,000: a 4096x4096
   * image can be resized, sharpened and blurred with r_10, not blurred with r_50 or sharpened nineteen
   * times. About 10 s of one core (the 3.5 billion passes of a 4096x4096 blur,r_50 took 22 s).
   */
  readonly maxCost: number;
}

export const DEFAULT_OUTPUT_LIMITS: OutputLimits = Object.freeze({
  maxSide: MAX_OUTPUT_SIDE,
  maxPixels: 16_777_216,
  maxActions: 20,
  maxCost: 1_500_000_000,
});

export function resolveOutputLimits(override?: Partial<OutputLimits>): OutputLimits {
  return mergePositiveIntegers(DEFAULT_OUTPUT_LIMITS, override, 'outputLimits');
}

/**
 * Refuse a step whose result would be too big, before its pixels are allocated (OSS EC
 * 0040-00000007, "target image too large").
 */
export function checkOutputSize(width: number, height: number, action: string, limits: OutputLimits): void {
  if (width > limits.maxSide || height > limits.maxSide) {
    throw processError(
      'IMAGE_TOO_LARGE', 'ImageTooLarge',
      `Expected ${action} to produce at most ${limits.maxSide} px per side but it would produce ${width}x${height}`,
      { action, ec: '0040-00000007' },
    );
  }
  if (width * height > limits.maxPixels) {
    throw processError(
      'IMAGE_TOO_LARGE', 'ImageTooLarge',
      `Expected ${action} to produce at most ${limits.maxPixels} pixels but it would produce ${width}x${height} = ${width * height} pixels`,
      { action, ec: '0040-00000007' },
    );
  }
}
