/**
 * Resource limits, checked from the header before any pixel is decoded. This is the only place
 * these numbers live: the decoder, the recipe, the x-oss-process engine and the adapters all read
 * them from here (or from a caller's override), so a limit can never be checked twice with two values.
 */
import { ImgpipeError } from './errors.js';

export interface Limits {
  /** Largest accepted input, in bytes. Default 50 MB: bigger uploads are refused unread. */
  readonly maxBytes: number;
  /**
   * Largest accepted decoded size, width x height (x frames for animations we would decode whole).
   * Default 100 megapixels: ~400 MB of RGBA, the most a 1-2 GB Function Compute instance can hold
   * alongside its outputs. A 280-megapixel "bomb" that fits in 1 MB of JPEG is refused here.
   */
  readonly maxPixels: number;
  /** Longest accepted side, in pixels. Default 30000, as OSS. */
  readonly maxSide: number;
}

export const DEFAULT_LIMITS: Limits = Object.freeze({
  maxBytes: 50 * 1024 * 1024,
  maxPixels: 100_000_000,
  maxSide: 30_000,
});

/** Merge a partial override onto the defaults, refusing nonsense values. */
export function resolveLimits(override?: Partial<Limits>): Limits {
  return mergePositiveIntegers(DEFAULT_LIMITS, override, 'limits');
}

/**
 * Overlay `override` on `defaults` and check every field is a positive safe integer; the error names
 * the field as `<name>.<field>`. Shared by the source limits here and the output limits of the
 * x-oss-process engine.
 */
export function mergePositiveIntegers<T extends object>(defaults: T, override: Partial<T> | undefined, name: string): T {
  if (!override) return defaults;
  const merged = { ...defaults, ...override };
  for (const key of Object.keys(defaults) as (keyof T & string)[]) {
    const v = merged[key];
    if (!Number.isSafeInteger(v) || (v as number) < 1) {
      throw new ImgpipeError('INVALID_ARGUMENT', `Expected a positive integer for ${name}.${key} but received ${JSON.stringify(v)}`);
    }
  }
  return Object.freeze(merged);
}

export function checkByteLimit(size: number, limits: Limits): void {
  if (size > limits.maxBytes) {
    throw new ImgpipeError(
      'IMAGE_TOO_LARGE',
      `Expected at most ${limits.maxBytes} bytes of input (limits.maxBytes) but received ${size} bytes`,
      { details: { limit: 'maxBytes', max: limits.maxBytes, received: size } },
    );
  }
}

export function checkPixelLimit(width: number, height: number, frames: number, limits: Limits): void {
  if (width > limits.maxSide || height > limits.maxSide) {
    throw new ImgpipeError(
      'IMAGE_TOO_LARGE',
      `Expected each side to be at most ${limits.maxSide} px (limits.maxSide) but the image header declares ${width}x${height}`,
      { details: { limit: 'maxSide', max: limits.maxSide, width, height } },
    );
  }
  const pixels = width * height * frames;
  if (pixels > limits.maxPixels) {
    const declared = frames > 1 ? `${width}x${height}x${frames} frames` : `${width}x${height}`;
    throw new ImgpipeError(
      'IMAGE_TOO_LARGE',
      `Expected at most ${limits.maxPixels} pixels (limits.maxPixels) but the image header declares ${declared} = ${pixels} pixels`,
      { details: { limit: 'maxPixels', max: limits.maxPixels, width, height, frames, pixels } },
    );
  }
}
