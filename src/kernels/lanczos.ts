/**
 * Lanczos3 resize on imgpipe's own WebAssembly SIMD kernel (`wasm/kernels/`): separable, 14-bit
 * fixed-point weights, premultiplied alpha for images with transparency, and the same integer box
 * pre-shrink libvips uses for large reductions, so results stay close to sharp's.
 *
 * Every call runs on the kernels module's one instance (`module.ts`).
 */
import { ImgpipeError, describeValue } from '../errors.js';
import type { RGBAImage } from '../image.js';
import { outOfMemory } from '../wasm/instance.js';
import { kernel, type KernelExports } from './module.js';
import { loadConversion } from './srgb.js';
import type { SrgbConversion } from '../color/icc.js';

export { KERNEL_RECYCLE_BYTES, kernelStats, loadKernel, setKernelRecycleBytes } from './module.js';

interface LanczosOptions {
  /**
   * Filter in linear light (sRGB decoded through a table, filtered, re-encoded) instead of on the
   * gamma-encoded values. Fixes darkening of fine high-contrast patterns; off by default because
   * sharp and OSS resize in gamma space.
   */
  readonly linear?: boolean;
}

/** Largest input or output side the kernel accepts (its tables index rows and columns with i32). */
const KERNEL_MAX_SIDE = 65535;

/** Refuse before starting when a call would need more linear memory than this. */
const KERNEL_MAX_BYTES = 2 * 1024 * 1024 * 1024;

/**
 * Rows per kernel call. Each pass runs as many short calls rather than one long one, so V8's
 * optimised code (ready after a few calls; a running call can't switch to it) takes over within a
 * cold instance's first image. 32 rows keep the calls' overhead far below a percent.
 */
const ROWS_PER_STEP = 32;

function checkSide(name: string, v: unknown): asserts v is number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > KERNEL_MAX_SIDE) {
    throw new ImgpipeError('INVALID_ARGUMENT', `Expected an integer between 1 and ${KERNEL_MAX_SIDE} for ${name} but received ${describeValue(v)}`);
  }
}

/**
 * Upper bound of the linear memory one call allocates (source, Q6 copies, intermediate, output):
 * what the whole path needs, which a streamed call stays far below.
 */
function bytesNeeded(sw: number, sh: number, dw: number, dh: number): number {
  return sw * sh * 12 + dw * sh * 8 + dw * dh * 12 + (dw + dh) * 64 * 4 + 65536;
}

/**
 * Rows of an image, handed over top to bottom (see `resizeRows`): the JPEG or PNG decoder's output
 * as it comes out, or an image's own rows.
 */
export interface RowSource {
  readonly width: number;
  readonly height: number;
  /**
   * The rows may have transparency: the kernel premultiplies them as they come (same result as the
   * whole image's resize). Without it a row with transparency ends the streamed resize.
   */
  readonly alpha?: boolean;
  /**
   * The EXIF orientation the rows are stored in (default 1). With 5-8 the rows are the upright
   * image's columns and the resize makes the upright image from them (see `streamsRows`).
   */
  readonly orientation?: number;
  /** Start at row `row` instead of the top (called before the first read). */
  skipTo(row: number): void;
  /**
   * Copy the next rows, at most `max`, to `into` (RGBA, width * 4 bytes a row) and say how many;
   * -1 when the source has failed (its owner knows why).
   */
  read(into: Uint8Array, max: number): number;
}

/** Output rows `from` until `to`: one thread's share of a resize (see `resizeRows`). */
export interface RowRange {
  readonly from: number;
  readonly to: number;
}

/** An image's own rows, as a RowSource. */
function imageRows(image: RGBAImage, alpha: boolean): RowSource {
  const rowBytes = image.width * 4;
  const pixels = new Uint8Array(image.data.buffer, image.data.byteOffset, rowBytes * image.height);
  let next = 0;
  return {
    width: image.width,
    height: image.height,
    alpha,
    skipTo(row) {
      next = row;
    },
    read(into, max) {
      const rows = Math.min(max, image.height - next);
      into.set(pixels.subarray(next * rowBytes, (next + rows) * rowBytes));
      next += rows;
      return rows;
    },
  };
}

/**
 * Hand the kernel the source a band of rows at a time: it never holds the whole source. False when
 * the source failed, or when a band turned out to have transparency and the source did not say it
 * might (`alpha`). 'drained' when the output rows went straight into `into` (rows `range.from` on)
 * as each band completed them, the kernel keeping only a few (its drain()); 'whole' when they are
 * in the kernel's result() (see takeResult).
 */
function feedRows(
  k: KernelExports, source: RowSource, width: number, height: number, range: RowRange, into: Uint8ClampedArray, srgb?: SrgbConversion,
): 'drained' | 'whole' | false {
  k.reset();
  const sideways = (source.orientation ?? 1) >= 5;
  if (sideways) k.beginSideways(source.width, source.height, width, height, source.orientation!);
  else k.begin(0, source.width, source.height, width, height, source.alpha === true ? (k.FLAG_ALPHA.value as number) : 0);
  if (srgb) loadConversion(k, srgb);
  // The source rows the window's output rows need start here (row 0 for the whole height; a
  // sideways source is always resized whole).
  let y = sideways ? 0 : k.window(range.from, range.to);
  source.skipTo(y);
  const bandRows = k.BAND_ROWS.value as number;
  // The kernel's memory doesn't grow after begin(): one view of the band (and of the output ring)
  // serves every read.
  const band = new Uint8Array(k.memory.buffer, k.input(), bandRows * source.width * 4);
  const ring = k.drain();
  const rowBytes = width * 4;
  const slots = ring > 0 ? new Uint8Array(k.memory.buffer, k.result(), ring * rowBytes) : undefined;
  const dst = new Uint8Array(into.buffer, into.byteOffset, into.byteLength);
  for (let done = range.from; done < range.to;) {
    const rows = source.read(band, Math.min(bandRows, source.height - y));
    if (rows <= 0) return false;
    // Per pixel, so converting each band before the resize is converting the image before it.
    if (srgb) k.toSrgb(k.input(), rows * source.width);
    const now = k.feed(rows);
    if (now < 0) return false;
    // The rows this band completed, out of the ring (in two pieces where they wrap around it).
    for (let row = done; slots && row < now;) {
      const slot = (row - range.from) % ring;
      const n = Math.min(now - row, ring - slot);
      dst.set(slots.subarray(slot * rowBytes, (slot + n) * rowBytes), (row - range.from) * rowBytes);
      row += n;
    }
    done = now;
    y += rows;
  }
  return slots ? 'drained' : 'whole';
}

/**
 * The result buffers takeResult has handed out, and a few given back (`recycleResized`) for the next
 * results of the same sizes. A fresh 1.7 MB buffer for a 720 px image cost 2-6 ms a call in page
 * faults and GC (a fifth of a serving request's decode and resize); a server resizing the same size
 * over and over reuses one instead. The recipe gives back each of its sizes (three buffers: the
 * photo's 4.7, 1.2 and 0.07 MB, about 1,400 pages first touched again every warm recipe otherwise).
 */
const issued = new WeakSet<ArrayBuffer>();
const spares: ArrayBuffer[] = [];
/** Buffers kept for reuse at most (the oldest goes first). */
const MAX_SPARES = 3;

/**
 * A buffer for a result of `bytes`: a given-back one of that size, or a new one. Also for a decoder
 * whose output is already the target size (libwebp's rescaler), so that `recycleResized` takes it back.
 */
export function resultBuffer(bytes: number): Uint8ClampedArray {
  const at = spares.findIndex((b) => b.byteLength === bytes);
  const buffer = at >= 0 ? spares.splice(at, 1)[0] : new ArrayBuffer(bytes);
  issued.add(buffer);
  return new Uint8ClampedArray(buffer);
}

/**
 * The kernel's result (output rows `from` until `to`) in `pixels`: copied out of its memory unless
 * feedRows has already drained it there.
 */
function takeResult(k: KernelExports, width: number, from: number, to: number, pixels: Uint8ClampedArray, fed: 'drained' | 'whole'): Uint8ClampedArray {
  if (fed === 'whole') pixels.set(new Uint8Array(k.memory.buffer, k.result() + from * width * 4, (to - from) * width * 4));
  k.reset();
  return pixels;
}

/** Keep `buffer` for the next result of its size (the oldest kept goes first). */
function keepSpare(buffer: ArrayBuffer): void {
  spares.push(buffer);
  if (spares.length > MAX_SPARES) spares.shift();
}

/**
 * Give back a resize's result whose pixels nothing will read again (the caller has encoded them and
 * drops the image): the next result of the same size is written into its buffer. Ignored for any
 * other image (one this module did not make, or a view into part of a buffer), and for one already
 * given back.
 */
export function recycleResized(image: RGBAImage): void {
  const d = image.data;
  const buffer = d.buffer as ArrayBuffer;
  if (!issued.has(buffer) || d.byteOffset !== 0 || d.byteLength !== buffer.byteLength || spares.includes(buffer)) return;
  keepSpare(buffer);
}

/**
 * Whether `resizeRows` can take a `sw` x `sh` source to `dw` x `dh`: in gamma space, any enlargement
 * or reduction short of a box pre-shrink over 256x256 pixels. A source stored in EXIF `orientation`
 * 5-8 (sideways: `dw` x `dh` is upright, the source upright is `sh` x `sw`) streams when opaque and
 * reduced by less than 4x or enlarged; 2-4 do not stream. Call `loadKernel()` first.
 */
export function streamsRows(sw: number, sh: number, dw: number, dh: number, orientation = 1): boolean {
  if (orientation !== 1 && orientation < 5) return false;
  return kernel.useLoaded(
    (k) => (orientation >= 5 ? k.canStreamSideways(sw, sh, dw, dh) : k.canStream(sw, sh, dw, dh, 0)) !== 0,
    bytesNeeded(sw, sh, dw, dh),
  );
}

/**
 * Resize rows as `source` produces them, synchronously (for a caller inside another module's call;
 * `loadKernel()` first, and only where `streamsRows` agrees). With `range`, only those output rows
 * are made (an image `to - from` rows high), from the source rows they need. Undefined when the
 * source failed, or had transparency it did not declare (`alpha`): the caller resizes the whole
 * image instead.
 */
export function resizeRows(source: RowSource, width: number, height: number, range: RowRange = { from: 0, to: height }, srgb?: SrgbConversion): RGBAImage | undefined {
  checkSide('resize width', width);
  checkSide('resize height', height);
  checkSide('source width', source.width);
  checkSide('source height', source.height);
  const needed = bytesNeeded(source.width, source.height, width, height);
  try {
    return kernel.useLoaded((k) => {
      const pixels = resultBuffer((range.to - range.from) * width * 4);
      const fed = feedRows(k, source, width, height, range, pixels, srgb);
      if (!fed) {
        // Nothing was made in it (a streamed source that failed or turned out to have transparency).
        keepSpare(pixels.buffer as ArrayBuffer);
        return undefined;
      }
      return { width, height: range.to - range.from, data: takeResult(k, width, range.from, range.to, pixels, fed) };
    }, needed);
  } catch (e) {
    throw outOfMemory(e, `the resize of ${source.width}x${source.height} to ${width}x${height}`);
  }
}

/** Copy the whole source into the kernel, then resize in steps. */
function resizeWhole(k: KernelExports, image: RGBAImage, width: number, height: number, flags: number): void {
  k.reset();
  const srcBytes = image.width * image.height * 4;
  const src = k.alloc(srcBytes);
  new Uint8Array(k.memory.buffer, src, srcBytes).set(new Uint8Array(image.data.buffer, image.data.byteOffset, srcBytes));
  k.begin(src, image.width, image.height, width, height, flags);
  while (k.step(ROWS_PER_STEP) !== 0);
}

/**
 * Resize `image` to exactly `width` x `height` with Lanczos3 (a = 3). Downscales average like
 * libvips (integer box pre-shrink leaving a 2-4x Lanczos3 reduction); upscales interpolate with
 * Lanczos3 on pixel centres. Alpha is premultiplied while filtering, so fully transparent pixels'
 * colour never bleeds into visible ones.
 */
export async function resizeRGBA(image: RGBAImage, width: number, height: number, opts: LanczosOptions = {}): Promise<RGBAImage> {
  checkSide('resize width', width);
  checkSide('resize height', height);
  checkSide('image.width', image.width);
  checkSide('image.height', image.height);
  const srcBytes = image.width * image.height * 4;
  if (image.data.length !== srcBytes) {
    throw new ImgpipeError(
      'INVALID_ARGUMENT',
      `Expected ${srcBytes} bytes of RGBA for a ${image.width}x${image.height} image but received ${image.data.length}`,
    );
  }
  const needed = bytesNeeded(image.width, image.height, width, height);
  if (needed > KERNEL_MAX_BYTES) {
    throw new ImgpipeError(
      'IMAGE_TOO_LARGE',
      `Expected a resize needing at most ${KERNEL_MAX_BYTES} bytes of working memory but ${image.width}x${image.height} to ${width}x${height} needs ${needed}`,
    );
  }
  if (width === image.width && height === image.height) {
    return { width, height, data: new Uint8ClampedArray(image.data) };
  }

  let out: Uint8ClampedArray;
  try {
    // Nothing awaits inside, so calls can't interleave on the shared memory.
    out = await kernel.use((k) => {
      const flags = opts.linear === true ? (k.FLAG_LINEAR.value as number) : 0;
      // Streamed, neither a premultiplied nor a box-shrunk copy of the whole source is made. Taken as
      // opaque first (the cheaper plan); a band with transparency starts it over premultiplying.
      const stream = k.canStream(image.width, image.height, width, height, flags) !== 0;
      const pixels = resultBuffer(width * height * 4);
      const all = { from: 0, to: height };
      let fed = stream ? feedRows(k, imageRows(image, false), width, height, all, pixels) || feedRows(k, imageRows(image, true), width, height, all, pixels) : false;
      if (!fed) {
        resizeWhole(k, image, width, height, flags);
        fed = 'whole';
      }
      return takeResult(k, width, 0, height, pixels, fed);
    }, needed);
  } catch (e) {
    // A trap has cost the instance (OwnedInstance drops it).
    throw outOfMemory(e, `the resize of ${image.width}x${image.height} to ${width}x${height}`);
  }
  return { width, height, data: out };
}
