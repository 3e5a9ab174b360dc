/**
 * The engines' first size: decode and resize in one step for the recipe's largest size and the
 * x-oss-process chain's leading resize. Here, not in decode.ts, live the two optimisations that are
 * engine plumbing rather than decoding: pixels lent from the JPEG decoder's memory (`decodeLent`,
 * copied straight into the resize) and the share of rows an idle worker-pool thread makes
 * (`RowHelper`, passed as `processUpload`'s `decodeHelper`).
 */
import { failOnLevel, DEFAULT_FAIL_ON } from './fail-on.js';
import type { ImageHeader } from './header.js';
import type { RGBAImage } from './image.js';
import { resize } from './ops/resize.js';
import { inputProfile } from './color/icc.js';
import { decodeJpegResized } from './codecs/jpeg.js';
import { scaledSize, type JpegShrink } from './codecs/jpeg-frame.js';
import { checkTarget, chooseShrink, decodeImage, type DecodedImage, type DecodeOptions } from './decode.js';

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

/** A band of `decodeResized`'s output rows, for another thread to make (a worker pool's, pool/serve.ts). */
export interface RowTask {
  readonly bytes: Uint8Array;
  readonly header: ImageHeader;
  readonly shrink: JpegShrink;
  readonly width: number;
  readonly height: number;
  readonly from: number;
  readonly to: number;
}

/** Another thread that can make a band of rows: a worker pool's (`createWorkerPool().decodeHelper`). */
export interface RowHelper {
  /** Whether it could start at once: waiting behind other work would make sharing slower, not faster. */
  idle(): boolean;
  /** The band's RGBA rows; undefined when its decoder can't take the file. */
  run(task: RowTask): Promise<Uint8ClampedArray | undefined>;
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
 * size. A JPEG that imgpipe's own decoder handles, upright or stored sideways (EXIF orientation 5-8,
 * which the kernel applies as it resizes), goes through in one pass: the decoder hands its rows to the resize kernel as it puts them out, so the full-size image
 * is never held (24 MB for a 2725x2225 photo; a cold process pays for such memory in page faults).
 * With an idle `helper` (a worker pool), a large sequential JPEG's rows are shared with it.
 * A PNG that is not interlaced streams its rows the same way (alpha premultiplied as they come), and a still upright WebP its decoded rows from libwebp's memory. Anything else is decoded (lent) and then resized. `header` is what `inspect` returned.
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
  const sideways = header.orientation >= 5;
  const upright = sideways ? { width: decoded.height, height: decoded.width } : decoded;
  // A LUT-based profile is applied by Little CMS to the decoded image (in this thread), not row by
  // row in the resize kernel: such files take the two-step path below.
  const profile = await inputProfile(bytes, header);
  const streams = profile.lcms === undefined;
  if (streams && header.format === 'jpeg' && (header.orientation === 1 || sideways) && options.linear !== true && !(upright.width === target.width && upright.height === target.height)) {
    const { helper } = options;
    // A helper decodes at the default level: below it, damage takes the fallback path below anyway.
    const shared = helper !== undefined && !sideways && failOn === DEFAULT_FAIL_ON && header.progressive !== true && decoded.width * decoded.height >= SHARE_MIN_PIXELS && target.height >= 2 && helper.idle();
    // Undefined for the files the own decoder leaves to the fallback: those take the path below.
    const image = shared
      ? await decodeShared(helper, { bytes, header, shrink, ...target, from: Math.round(target.height * SHARE_HERE), to: target.height })
      : await decodeJpegResized(bytes, header, shrink, target.width, target.height, undefined, failOn);
    if (image) return image;
  }
  if (streams && header.format === 'png' && header.orientation === 1 && options.linear !== true && !(header.width === target.width && header.height === target.height)) {
    // The same for a PNG libspng can hand over row by row (not interlaced, see decodePngResized).
    const { decodePngResized } = await import('./codecs/png.js');
    const image = await decodePngResized(bytes, header, target.width, target.height, profile.srgb);
    if (image) return image;
  }
  if (streams && header.format === 'webp' && options.linear !== true && !(upright.width === target.width && upright.height === target.height)) {
    // A still WebP: decoded straight to a smaller target by libwebp when shrink-on-load is allowed (as
    // sharp does), else libwebp's output goes to the resize kernel without being copied out (decodeWebpResized).
    const { decodeWebpResized } = await import('./codecs/webp.js');
    const image = await decodeWebpResized(bytes, header, shrink, target.width, target.height, profile.srgb, options.shrinkTo !== undefined);
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
