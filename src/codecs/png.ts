/**
 * PNG through imgpipe's libspng module (`wasm/libspng/`: libspng 0.7 with zlib, the PNG library sharp
 * uses, its SIMD unfilters on WebAssembly SIMD, called through a small C interface with no Emscripten
 * glue). A decode runs row by row: straight into the resize kernel when the recipe's largest size or
 * a transform's resize is made from a non-interlaced PNG (decodePngResized), else into one
 * whole-image buffer. A photo's image data (at most 4x compressed) is inflated whole by libdeflate
 * first, about 1.8x as fast as zlib's row-by-row inflate, at the cost of holding the filtered image
 * during the decode, and an 8-bit RGB/RGBA photo's rows are then unfiltered by png.c with libspng's
 * own code (wasm/libspng/png.c). One instance serves
 * every call (OwnedInstance: dropped after a trap; above RECYCLE_BYTES, let go of once idle or before
 * a much smaller job).
 */
import { ImgpipeError } from '../errors.js';
import { asImage, type RGBAImage } from '../image.js';
import type { ImageHeader } from '../header.js';
import { OwnedInstance, copyIn, outOfMemory, type OutputBufferExports } from '../wasm/instance.js';
import { loadKernel, resizeRows, streamsRows, type RowSource } from '../kernels/lanczos.js';
import type { SrgbConversion } from '../color/icc.js';
import { checkPngChunks } from './png-chunks.js';

/** What wasm/libspng/png.c exports. */
interface SpngExports extends OutputBufferExports {
  imgpipe_png_input(bytes: number): number;
  imgpipe_png_begin(data: number, size: number, ringRows: number, fast: number): number;
  imgpipe_png_step(rows: number): number;
  imgpipe_png_ring(): number;
  imgpipe_png_rows_out(): number;
  imgpipe_png_whole(): number;
  imgpipe_png_message(error: number): number;
  imgpipe_png_encode(rgba: number, width: number, height: number): number;
}

const libspng = new OwnedInstance<SpngExports>('png');

/** Decodes begun with their image data inflated whole by libdeflate (diagnostics, see pngDecoderStats). */
let inflatedWhole = 0;
/** Of those, the decodes whose rows png.c unfiltered itself, without zlib (8-bit RGB/RGBA photos). */
let unfilteredWhole = 0;

/** libspng's SPNG_EMEM: its memory could not grow. */
const SPNG_EMEM = 2;
/**
 * png.c's answer when it rearranged the input to inflate a photo's image data whole with libdeflate
 * and libdeflate declined the stream (damaged, or not ending with the image): begin again with zlib,
 * which decodes or refuses it as it always did.
 */
const RETRY_WITH_ZLIB = -1;

/**
 * Rows per decoder call when streaming: as for the JPEG decoder, many short calls rather than one long
 * one (V8 can't move a running call to optimised code), and few enough rows that the ring stays small.
 */
const ROWS_PER_STEP = 16;

/** libspng's message for `error` (a static C string in the module's memory). */
function spngMessage(p: SpngExports, error: number): string {
  const at = p.imgpipe_png_message(error);
  const mem = new Uint8Array(p.memory.buffer);
  let end = at;
  while (end < mem.length && mem[end] !== 0) end++;
  return new TextDecoder().decode(mem.subarray(at, end));
}

/** The refusal for libspng's `error` (with the chunks checked first, what is left to fail is the image data). */
function spngError(p: SpngExports, error: number): Error {
  if (error === SPNG_EMEM) return new RangeError('out of memory');
  return new ImgpipeError('CORRUPT_IMAGE', `Expected a decodable PNG but its image data (IDAT) is damaged or ends early: libspng reported "${spngMessage(p, error)}"`);
}

/**
 * Start a decode of `bytes` (already through checkPngChunks) on `p`, which holds its own copy of them
 * until `imgpipe_release()` (the buffer png.c's libdeflate path grows and inflates in place).
 * `ringRows` 0 decodes the whole image now.
 */
function begin(p: SpngExports, bytes: Uint8Array, header: ImageHeader, ringRows: number): void {
  const input = { memory: p.memory, imgpipe_alloc: (n: number) => p.imgpipe_png_input(n) };
  let error = p.imgpipe_png_begin(copyIn(input, bytes), bytes.byteLength, ringRows, 1);
  if (error === RETRY_WITH_ZLIB) error = p.imgpipe_png_begin(copyIn(input, bytes), bytes.byteLength, ringRows, 0);
  if (error !== 0) throw spngError(p, error);
  // png.c: 0 through zlib, 1 inflated whole and unfiltered by libspng, 2 unfiltered by png.c.
  const whole = p.imgpipe_png_whole();
  if (whole !== 0) inflatedWhole++;
  if (whole === 2) unfilteredWhole++;
  const width = p.imgpipe_output_width(), height = p.imgpipe_output_height();
  if (width !== header.width || height !== header.height) {
    p.imgpipe_release();
    throw new ImgpipeError('CORRUPT_IMAGE', `Expected ${header.width}x${header.height} pixels as the PNG header declares but the decoder read ${width}x${height}`);
  }
}

export async function decodePng(file: Uint8Array, header: ImageHeader): Promise<RGBAImage> {
  // Critical chunks checked, bad ancillary chunks dropped (png-chunks.ts): what is left is what
  // libspng would decode.
  const { bytes } = checkPngChunks(file);
  const { width, height } = header;
  try {
    // Every bit depth, palette and grey(+alpha) comes out as 8-bit RGBA.
    return await libspng.use((p) => {
      begin(p, bytes, header, 0);
      const at = p.imgpipe_output();
      const data = new Uint8ClampedArray(p.memory.buffer.slice(at, at + width * height * 4));
      p.imgpipe_release();
      return asImage(width, height, data);
    }, bytes.byteLength + width * height * 8);
  } catch (e) {
    // The header's size was checked against the limits first: running out of memory here is the image's size.
    throw outOfMemory(e, `the PNG decode of ${width}x${height}`);
  }
}

/**
 * Decode straight into a resize to `width` x `height`: the decoder's rows go to the resize kernel a
 * few at a time, so neither the decoded image nor a copy of it is ever held whole; with an alpha
 * channel or tRNS the kernel premultiplies them as they come, and large reductions are box-shrunk
 * band by band, with the same pixels as the whole image's resize. Only for a PNG that is not
 * interlaced (Adam7 rows are complete only after the last pass) and a resize the streamed kernel
 * takes (`streamsRows`). Undefined otherwise: the caller decodes and resizes in two steps. `srgb`
 * brings the rows to sRGB on the way.
 */
export async function decodePngResized(file: Uint8Array, header: ImageHeader, width: number, height: number, srgb?: SrgbConversion): Promise<RGBAImage | undefined> {
  if (pngInterlaced(file)) return undefined;
  await loadKernel();
  if (!streamsRows(header.width, header.height, width, height)) return undefined;
  const { bytes } = checkPngChunks(file);
  await libspng.load();
  let failure: Error | undefined;
  try {
    return libspng.useLoaded((p) => {
      begin(p, bytes, header, ROWS_PER_STEP);
      try {
        const rows = decoderRows(p, header, (e) => (failure = e));
        const resized = resizeRows(rows, width, height, { from: 0, to: height }, srgb);
        if (failure) throw failure;
        return resized;
      } finally {
        p.imgpipe_release();
      }
    }, bytes.byteLength + header.width * ROWS_PER_STEP * 8);
  } catch (e) {
    throw outOfMemory(e, `the PNG decode of ${header.width}x${header.height}`);
  }
}

/**
 * The decoder's rows as a RowSource: each read takes the rows decoded since the last, stepping the
 * decoder when there are none. A failure is handed to `fail` and ends the source (-1).
 */
function decoderRows(p: SpngExports, header: ImageHeader, fail: (e: Error) => void): RowSource {
  const rowBytes = header.width * 4;
  let taken = 0;
  /** Make rows available; false when the decoder failed or has no more. */
  const ready = (): boolean => {
    if (taken < p.imgpipe_png_rows_out()) return true;
    const error = p.imgpipe_png_step(ROWS_PER_STEP);
    if (error !== 0) fail(spngError(p, error));
    return error === 0 && taken < p.imgpipe_png_rows_out();
  };
  return {
    width: header.width,
    height: header.height,
    alpha: header.alpha,
    skipTo(row) {
      // Rows above a window are decoded and dropped: PNG rows depend on the ones above.
      while (taken < row && ready()) taken = Math.min(row, p.imgpipe_png_rows_out());
    },
    read(into, max) {
      if (!ready()) return -1;
      const ring = p.imgpipe_png_ring();
      const slot = taken % ring;
      const n = Math.min(max, p.imgpipe_png_rows_out() - taken, ring - slot);
      into.set(new Uint8Array(p.memory.buffer, p.imgpipe_output() + slot * rowBytes, n * rowBytes));
      taken += n;
      return n;
    },
  };
}

/** Whether the PNG's IHDR declares Adam7 interlacing (the header reader has checked IHDR is there). */
function pngInterlaced(b: Uint8Array): boolean {
  return b[28] === 1;
}

export async function encodePng(image: RGBAImage): Promise<Uint8Array> {
  const { width, height } = image;
  try {
    return await libspng.use((p) => {
      const bytes = width * height * 4;
      const src = p.imgpipe_alloc(bytes);
      if (src === 0) throw new RangeError('malloc failed');
      new Uint8Array(p.memory.buffer, src, bytes).set(new Uint8Array(image.data.buffer, image.data.byteOffset, bytes));
      const error = p.imgpipe_png_encode(src, width, height);
      p.imgpipe_free(src);
      if (error === SPNG_EMEM) throw new RangeError('out of memory');
      if (error !== 0) throw new ImgpipeError('INTERNAL', `PNG encoding failed: libspng reported "${spngMessage(p, error)}"`);
      const at = p.imgpipe_output();
      const out = new Uint8Array(p.memory.buffer.slice(at, at + p.imgpipe_output_size()));
      p.imgpipe_release();
      return out;
    }, width * height * 10);
  } catch (e) {
    throw outOfMemory(e, `the PNG encode of ${width}x${height}`);
  }
}

/**
 * Diagnostics: the decoder's warm memory, how many instances it has created, how many decodes had
 * their image data inflated whole by libdeflate (the others went through zlib row by row), and how
 * many of those png.c unfiltered itself (8-bit RGB and RGBA without tRNS; libspng the others).
 */
export function pngDecoderStats(): Readonly<{ memoryBytes: number; instancesCreated: number; inflatedWhole: number; unfilteredWhole: number }> {
  return Object.freeze({ ...libspng.stats(), inflatedWhole, unfilteredWhole });
}
