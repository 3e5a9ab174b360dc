/** bytes → upright RGBA, with every limit checked from the header before any pixel is decoded. */
import { ImgpipeError, describeValue, isImgpipeError } from './errors.js';
import { FORMATS, readHeader, type DecodedPixels, type FormatId } from './formats.js';
import { uprightSize, type ImageHeader } from './header.js';
import type { RGBAImage } from './image.js';
import { checkByteLimit, checkHeaderLimits, resolveLimits, type Limits } from './limits.js';
import { orient, storedRect } from './ops/orient.js';
import { crop, type Rect } from './ops/crop.js';
import { decodeJpegRegion } from './codecs/jpeg.js';
import { noRelease } from './codecs/jpeg-lend.js';
import type { JpegShrink } from './codecs/jpeg-frame.js';
import { convertDecoded } from './color/icc.js';
import { failOnLevel, type FailOn } from './fail-on.js';

export interface DecodeOptions {
  /** Override some of the default limits (see `DEFAULT_LIMITS`). */
  readonly limits?: Partial<Limits>;
  /** Apply the EXIF orientation (default true). */
  readonly autoOrient?: boolean;
  /**
   * The size the caller will resize to (after orientation). A JPEG may then be decoded already
   * reduced by 2, 4 or 8 in the DCT domain (much faster and smaller), and a still WebP by libwebp's
   * rescaler as its rows are decoded (a lossless one only by 4 or 8: see `decodeScale` in
   * codecs/webp.ts), by sharp's rule (see `chooseShrink`), which always leaves the result larger
   * than the target; `shrink` on the result says which factor was applied. Other formats ignore it.
   */
  readonly shrinkTo?: Readonly<{ width: number; height: number }>;
  /**
   * How much damage to tolerate, as sharp's option of the same name: `none`, `truncated`, `error` or
   * `warning` (the default, sharp's): see fail-on.ts and the README's "Damaged files".
   */
  readonly failOn?: FailOn;
}

export interface DecodedImage extends RGBAImage {
  /** The sniffed source format. */
  readonly format: FormatId;
  /** The EXIF orientation found in the source (1..8; 1 when absent). */
  readonly orientation: number;
  /** Estimated quality of a JPEG source (1..100), for relative-quality encoding. */
  readonly jpegQuality?: number;
  /** What the source header declared. */
  readonly header: ImageHeader;
  /** The factor the decoder reduced the image by (1 unless `shrinkTo` allowed more). */
  readonly shrink: JpegShrink;
}

/** Largest side a shrinkTo target may name (the largest side any decoder produces). */
const MAX_TARGET_SIDE = 65535;

export function checkTarget(shrinkTo: unknown): asserts shrinkTo is { width: number; height: number } {
  if (typeof shrinkTo !== 'object' || shrinkTo === null) {
    throw new ImgpipeError('INVALID_ARGUMENT', `Expected an object { width, height } for shrinkTo but received ${describeValue(shrinkTo)}`);
  }
  for (const side of ['width', 'height'] as const) {
    const v = (shrinkTo as Record<string, unknown>)[side];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > MAX_TARGET_SIDE) {
      throw new ImgpipeError('INVALID_ARGUMENT', `Expected an integer between 1 and ${MAX_TARGET_SIDE} for shrinkTo.${side} but received ${describeValue(v)}`);
    }
  }
}

/**
 * sharp's shrink-on-load rule (`fastShrinkOnLoad`, its default): with `ratio` the smaller of the
 * source/target ratios, the largest of 8, 4, 2 that is at most `ratio`, halved when it equals the
 * ratio's integer part (libjpeg's rounded-up reduced size would leave the final Lanczos3 step
 * almost nothing to do, and a DCT-scaled image alone is visibly blockier). So 2725 -> 1200 px
 * (2.27x) decodes at full size, 2725 -> 720 (3.78x) at 1/2, 2725 -> 150 (18x) at 1/8. The target
 * is in oriented coordinates: EXIF orientations 5-8 (which swap the sides) compare it against the
 * stored height and width.
 */
export function chooseShrink(header: ImageHeader, target: Readonly<{ width: number; height: number }>): JpegShrink {
  const { width: w, height: h } = uprightSize(header);
  const ratio = Math.min(w / target.width, h / target.height);
  for (const s of [8, 4, 2] as const) {
    if (ratio >= s) return Math.floor(ratio) === s ? ((s / 2) as JpegShrink) : s;
  }
  return 1;
}

/** Accept the byte containers callers actually have, without copying. */
export function toBytes(input: Uint8Array | ArrayBuffer | ArrayBufferView): Uint8Array {
  if (input instanceof Uint8Array) return input;
  if (input instanceof ArrayBuffer) return new Uint8Array(input);
  if (ArrayBuffer.isView(input)) return new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  throw new ImgpipeError('INVALID_ARGUMENT', `Expected image bytes (Uint8Array or ArrayBuffer) but received ${input === null ? 'null' : typeof input}`);
}

/**
 * Read the header and check it against the limits, without decoding. `failOn` (default `warning`)
 * says whether recoverable damage the header shows (a JPEG without end marker) is refused here.
 */
export function inspect(input: Uint8Array | ArrayBuffer, limits?: Partial<Limits>, failOn?: FailOn): ImageHeader {
  const bytes = toBytes(input);
  const l = resolveLimits(limits);
  checkByteLimit(bytes.byteLength, l);
  const header = readHeader(bytes, failOnLevel(failOn));
  checkHeaderLimits(header, l);
  return header;
}

export async function decode(input: Uint8Array | ArrayBuffer, options: DecodeOptions = {}): Promise<DecodedImage> {
  const bytes = toBytes(input);
  if (options.shrinkTo !== undefined) checkTarget(options.shrinkTo);
  return (await decodeImage(bytes, inspect(bytes, options.limits, options.failOn), options, false)).image;
}

/**
 * The pixels a region decode (`decodeRegion`) of `rect` (upright) will go through, from the header:
 * for a JPEG the own decoder reads, every row down to the rectangle's last stored row (rows above it
 * are only entropy-decoded, but they are counted), or the whole image for a progressive file (its
 * scans are read whole); for anything else, the whole image.
 */
export function regionDecodePixels(header: ImageHeader, rect: Rect): number {
  if (header.format !== 'jpeg' || header.components === 4 || header.progressive === true) return header.width * header.height;
  const stored = storedRect(header.orientation, header.width, header.height, rect);
  return header.width * (stored.y + stored.height);
}

/**
 * The upright rectangle `rect` of the image, with the EXIF orientation applied: the same pixels as
 * `decode` then `crop`, decoding only what the rectangle needs where the decoder allows
 * (crop-on-load). A JPEG the own decoder reads stops after the rectangle's last stored row and keeps
 * only its columns, so `crop,w_1` on a 100 MP photo never holds the 400 MB image. Other formats (and
 * JPEGs left to the fallback decoders) are decoded whole and cropped. Damage below the rectangle is
 * not seen (the rest of the file is not read). `header` is what `inspect` returned. `decodedPixels`
 * is what the decode went through (as `regionDecodePixels` counts them).
 */
export async function decodeRegion(bytes: Uint8Array, header: ImageHeader, rect: Rect, options: Pick<DecodeOptions, 'limits' | 'failOn'> = {}): Promise<{ image: RGBAImage; decodedPixels: number }> {
  const failOn = failOnLevel(options.failOn);
  if (header.format === 'jpeg') {
    const stored = storedRect(header.orientation, header.width, header.height, rect);
    const region = await decodeJpegRegion(bytes, header, stored, failOn);
    if (region) {
      // Per pixel, so converting the region is converting the image.
      await convertDecoded(bytes, header, region.data);
      return { image: orient(region, header.orientation), decodedPixels: regionDecodePixels(header, rect) };
    }
  }
  return { image: crop(await decode(bytes, { limits: options.limits, failOn }), rect), decodedPixels: header.width * header.height };
}

/**
 * Decode with the format's decoder, to sRGB and (unless `autoOrient` is false) upright. With `lend`,
 * the decoder may lend its memory (`decodeLent` in decode-resized.ts): the caller must call `release()`.
 */
export async function decodeImage(bytes: Uint8Array, header: ImageHeader, options: DecodeOptions, lend: boolean): Promise<{ image: DecodedImage; release: () => void }> {
  const wanted = options.shrinkTo === undefined ? 1 : chooseShrink(header, options.shrinkTo);
  let decoded: DecodedPixels;
  try {
    const failOn = failOnLevel(options.failOn);
    const decoder = await FORMATS[header.format].decode();
    decoded = await decoder(bytes, header, { shrink: wanted, lend, failOn });
  } catch (e) {
    // By name, not class: a plug-in's standalone bundle carries its own copy of ImgpipeError.
    if (isImgpipeError(e)) throw e;
    throw new ImgpipeError('CORRUPT_IMAGE', `Expected a decodable ${header.format.toUpperCase()} but decoding failed: ${String((e as Error)?.message ?? e)}`, { cause: e });
  }
  let { image, release } = decoded;
  // In place, lent pixels included: they are this decode's until released.
  await convertDecoded(bytes, header, image.data);
  if (options.autoOrient !== false && header.orientation !== 1) {
    try {
      // Orienting copies the pixels, so a lease can end here.
      image = orient(image, header.orientation);
    } finally {
      release();
    }
    release = noRelease;
  }
  return {
    image: Object.freeze({
      width: image.width,
      height: image.height,
      data: image.data,
      format: header.format,
      orientation: header.orientation,
      jpegQuality: header.jpegQuality,
      header,
      shrink: decoded.shrink,
    }),
    release,
  };
}
