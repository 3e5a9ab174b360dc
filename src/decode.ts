/** bytes → upright RGBA, with every limit checked from the header before any pixel is decoded. */
import { ImgpipeError, describeValue, isImgpipeError } from './errors.js';
import { FORMATS, readHeader, type DecodedPixels, type FormatId } from './formats.js';
import { uprightSize, type ImageHeader } from './header.js';
import type { RGBAImage } from './image.js';
import { checkByteLimit, checkHeaderLimits, resolveLimits, type Limits } from './limits.js';
import { orient, storedRect } from './ops/orient.js';
import { crop, type Rect } from './ops/crop.js';
import { decodeJpegRegion, decodeJpegResized, noRelease, scaledSize, type JpegShrink } from './codecs/jpeg.js';
import { resize } from './ops/resize.js';
import { srgbConversion } from './color/icc.js';
import { convertToSrgb } from './kernels/srgb.js';
import { DEFAULT_FAIL_ON, failOnLevel, type FailOn } from './fail-on.js';

export interface DecodeOptions {
  /** Override some of the default limits (see `DEFAULT_LIMITS`). */
  readonly limits?: Partial<Limits>;
  /** Apply the EXIF orientation (default true). */
  readonly autoOrient?: boolean;
  /**
   * The size the caller will resize to (after orientation). A JPEG may then be decoded already
   * reduced by 2, 4 or 8 in the DCT domain (much faster and smaller), and a still WebP by libwebp's
   * rescaler as its rows are decoded, by sharp's rule (see `chooseShrink`), which always leaves the
   * result larger than the target; `shrink` on the result says which factor was applied. Other
   * formats ignore it.
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

function checkTarget(shrinkTo: unknown): asserts shrinkTo is { width: number; height: number } {
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
 * `decode`, for a caller that copies the pixels somewhere at once (the recipe hands them to the
 * resize kernel): a JPEG's pixels may stay in the decoder's memory, saving the allocation and copy of
 * a full-size buffer (about 15 ms for a 2725x2225 photo). `image.data` is valid until `release()`,
 * which the caller must call (in a `finally`); until then no other JPEG decode runs. `header` is what
 * `inspect(bytes, limits)` returned for these bytes (the caller has checked the limits already).
 */
export function decodeLent(bytes: Uint8Array, header: ImageHeader, options: Pick<DecodeOptions, 'shrinkTo' | 'autoOrient' | 'failOn'> = {}): Promise<{ image: DecodedImage; release: () => void }> {
  if (options.shrinkTo !== undefined) checkTarget(options.shrinkTo);
  return decodeImage(bytes, header, options, true);
}

/** A band of `decodeResized`'s output rows, for another thread to make (`runRowTask`). */
export interface RowTask {
  readonly bytes: Uint8Array;
  readonly header: ImageHeader;
  readonly shrink: JpegShrink;
  readonly width: number;
  readonly height: number;
  readonly from: number;
  readonly to: number;
}

/** Another thread that can make a band of rows: a worker pool's (`createWorkerPool().encode.rows`). */
export interface RowHelper {
  /** Whether it could start at once: waiting behind other work would make sharing slower, not faster. */
  idle(): boolean;
  /** The band's RGBA rows; undefined when its decoder can't take the file. */
  run(task: RowTask): Promise<Uint8ClampedArray | undefined>;
}

/** Make a band of rows on this thread: what a RowHelper's thread runs. */
export async function runRowTask(t: RowTask): Promise<Uint8ClampedArray | undefined> {
  return (await decodeJpegResized(t.bytes, t.header, t.shrink, t.width, t.height, { from: t.from, to: t.to }))?.data;
}

/**
 * This thread's share of the rows when a helper takes the rest. The helper must first entropy-decode
 * everything above its rows (a sequential scan reads in order), ~16 of the ~60 ms the whole decode
 * and resize of the 2725x2225 photo take, so it gets the smaller share. Shared this way they take
 * 39 ms instead of 61 on two cores (0.52 and 0.64 measured a few ms slower).
 */
const SHARE_HERE = 0.58;
/** Below this many decoded pixels a band's message round trip costs more than sharing saves. */
const SHARE_MIN_PIXELS = 1 << 20;

/**
 * `decode` and `resize` to exactly `target` (upright pixels, `fit: 'fill'`), for the recipe's largest
 * size. A JPEG that needs no orientation and that imgpipe's own decoder handles goes through in one
 * pass: the decoder hands its rows to the resize kernel as it puts them out, so the full-size image
 * is never held (24 MB for a 2725x2225 photo; a cold process pays for such memory in page faults).
 * With an idle `helper` (a worker pool), a large sequential JPEG's rows are shared with it.
 * An opaque PNG streams its rows the same way. Anything else is decoded (lent) and then resized. `header` is what `inspect` returned.
 */
export async function decodeResized(
  bytes: Uint8Array,
  header: ImageHeader,
  target: Readonly<{ width: number; height: number }>,
  options: Pick<DecodeOptions, 'shrinkTo' | 'failOn'> & { readonly linear?: boolean; readonly helper?: RowHelper } = {},
): Promise<RGBAImage> {
  if (options.shrinkTo !== undefined) checkTarget(options.shrinkTo);
  const failOn = failOnLevel(options.failOn);
  const shrink = options.shrinkTo === undefined ? 1 : chooseShrink(header, options.shrinkTo);
  const decoded = scaledSize(header, shrink);
  if (header.format === 'jpeg' && header.orientation === 1 && options.linear !== true && !(decoded.width === target.width && decoded.height === target.height)) {
    const { helper } = options;
    // A helper decodes at the default level: below it, damage takes the fallback path below anyway.
    const shared = helper !== undefined && failOn === DEFAULT_FAIL_ON && header.progressive !== true && decoded.width * decoded.height >= SHARE_MIN_PIXELS && target.height >= 2 && helper.idle();
    // Undefined for the files the own decoder leaves to the fallback: those take the path below.
    const image = shared
      ? await decodeShared(helper, { bytes, header, shrink, ...target, from: Math.round(target.height * SHARE_HERE), to: target.height })
      : await decodeJpegResized(bytes, header, shrink, target.width, target.height, undefined, failOn);
    if (image) return image;
  }
  if (header.format === 'png' && header.orientation === 1 && options.linear !== true && !(header.width === target.width && header.height === target.height)) {
    // The same for a PNG libspng can hand over row by row (opaque, not interlaced, see decodePngResized).
    const { decodePngResized } = await import('./codecs/png.js');
    const image = await decodePngResized(bytes, header, target.width, target.height, await srgbConversion(bytes, header));
    if (image) return image;
  }
  const { image, release } = await decodeLent(bytes, header, { shrinkTo: options.shrinkTo, failOn });
  try {
    const resized = await resize(image, { ...target, fit: 'fill', enlarge: true, linear: options.linear });
    // An upload no larger than the size comes back as is: take the lent pixels as our own.
    return resized === image ? { width: image.width, height: image.height, data: new Uint8ClampedArray(image.data) } : resized;
  } finally {
    release();
  }
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
      const srgb = await srgbConversion(bytes, header);
      if (srgb) await convertToSrgb(region.data, srgb);
      return { image: orient(region, header.orientation), decodedPixels: regionDecodePixels(header, rect) };
    }
  }
  return { image: crop(await decode(bytes, { limits: options.limits, failOn }), rect), decodedPixels: header.width * header.height };
}

/**
 * The helper makes `bottom`'s rows while this thread makes the ones above; the first damage in the
 * file (the top's, if both fail) is what a caller sees, as from a decode on one thread.
 */
async function decodeShared(helper: RowHelper, bottom: RowTask): Promise<RGBAImage | undefined> {
  const { width, height, from } = bottom;
  const below = helper.run(bottom);
  // Settled below in every case; until then its failure must not count as unhandled.
  below.catch(() => undefined);
  let top: RGBAImage | undefined;
  try {
    top = await decodeJpegResized(bottom.bytes, bottom.header, bottom.shrink, width, height, { from: 0, to: from });
  } catch (e) {
    await below.catch(() => undefined);
    throw e;
  }
  const rows = await below;
  if (!top || !rows) return undefined;
  const data = new Uint8ClampedArray(width * height * 4);
  data.set(top.data);
  data.set(rows, from * width * 4);
  return { width, height, data };
}

async function decodeImage(bytes: Uint8Array, header: ImageHeader, options: DecodeOptions, lend: boolean): Promise<{ image: DecodedImage; release: () => void }> {
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
  const srgb = await srgbConversion(bytes, header);
  if (srgb) await convertToSrgb(image.data, srgb);
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
