/**
 * Resource limits, checked from the header before any pixel is decoded, and the largest side an
 * operation may produce. The decoder, the recipe, the ops' parameter specs and the x-oss-process
 * engine read them from here (or from a caller's override); the output limits of the x-oss-process
 * engine are in `process/limits.ts`.
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
  /**
   * Most animation frames a file may declare (GIF images, WebP ANMF chunks, APNG acTL). Default
   * 10000: over six minutes at 25 fps, far beyond any GIF or sticker people upload. Only the first
   * frame is decoded, but frame tables are built per frame (libwebp's demuxer, the header walk), so
   * a file of a million 1-pixel frames is refused before any of that work.
   */
  readonly maxFrames: number;
  /**
   * Most EXIF bytes a file may declare (all JPEG APP1 Exif segments together, PNG eXIf, WebP EXIF).
   * Default 1 MB: JPEG caps one EXIF block at 64 KB, so camera EXIF, maker notes and thumbnail
   * included, is always far smaller; PNG and WebP lengths are 32-bit, and some decoders allocate a
   * chunk's declared length before reading it.
   */
  readonly maxExifBytes: number;
  /**
   * Most ICC profile bytes a file may declare (all JPEG APP2 ICC_PROFILE chunks together, PNG iCCP,
   * WebP ICCP). Default 8 MB: display and camera profiles are a few KB, the largest printer
   * profiles with 16-bit lookup tables a few MB.
   */
  readonly maxIccBytes: number;
}

/** Largest side an operation produces (resize, the recipe's sizes), as OSS (16384 px). */
export const MAX_OUTPUT_SIDE = 16384;

export const DEFAULT_LIMITS: Limits = Object.freeze({
  maxBytes: 50 * 1024 * 1024,
  maxPixels: 100_000_000,
  maxSide: 30_000,
  maxFrames: 10_000,
  maxExifBytes: 1024 * 1024,
  maxIccBytes: 8 * 1024 * 1024,
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

/**
 * The one byte-limit rule: the refusal for `size` bytes over `maxBytes`, undefined within it. `source`
 * names the object when the caller reads it by key (an adapter, before or while downloading it).
 */
export function byteLimitError(size: number, maxBytes: number, source?: string): ImgpipeError | undefined {
  if (size <= maxBytes) return undefined;
  return new ImgpipeError(
    'IMAGE_TOO_LARGE',
    source === undefined
      ? `Expected at most ${maxBytes} bytes of input (limits.maxBytes) but received ${size} bytes`
      : `Expected a source of at most ${maxBytes} bytes (limits.maxBytes) but ${JSON.stringify(source)} has ${size} bytes`,
    { details: { limit: 'maxBytes', max: maxBytes, received: size } },
  );
}

export function checkByteLimit(size: number, limits: Limits): void {
  const refused = byteLimitError(size, limits.maxBytes);
  if (refused) throw refused;
}

function checkPixelLimit(width: number, height: number, frames: number, limits: Limits): void {
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

/** What the header-level checks read: the declared size and metadata of a file. */
interface DeclaredSize {
  readonly width: number;
  readonly height: number;
  readonly frames: number;
  readonly exifBytes: number;
  readonly iccBytes: number;
  /** HEIC: the size its decoder allocates before its clean-aperture crop (`ispe`), checked too. */
  readonly heif?: { readonly codedWidth: number; readonly codedHeight: number };
}

/**
 * Every limit a header can be checked against, before any pixel or metadata is allocated: sides and
 * pixels of the one frame that is decoded, then frame count, EXIF and ICC sizes as declared.
 */
export function checkHeaderLimits(header: DeclaredSize, limits: Limits): void {
  // Only the first frame of an animation is decoded, so it alone counts against the pixel budget.
  checkPixelLimit(header.width, header.height, 1, limits);
  if (header.heif) checkPixelLimit(header.heif.codedWidth, header.heif.codedHeight, 1, limits);
  const declared = [
    ['maxFrames', 'animation frames', header.frames],
    ['maxExifBytes', 'bytes of EXIF metadata', header.exifBytes],
    ['maxIccBytes', 'bytes of ICC profile', header.iccBytes],
  ] as const;
  for (const [limit, what, received] of declared) {
    if (received > limits[limit]) {
      throw new ImgpipeError(
        'IMAGE_TOO_LARGE',
        `Expected at most ${limits[limit]} ${what} (limits.${limit}) but the image header declares ${received}`,
        { details: { limit, max: limits[limit], received } },
      );
    }
  }
}
