/**
 * WebP through imgpipe's libwebp module (`wasm/libwebp/`): libwebp 1.5 with its SSE2 code paths on
 * WASM SIMD, called through a small C interface (no Emscripten glue). Its files are byte-identical to
 * sharp's at the same settings, and it encodes ~1.2x faster than the packaged @jsquash build, which
 * uses libwebp's plain C paths.
 *
 * One instance serves every call (OwnedInstance: dropped after a trap; above RECYCLE_BYTES, let go
 * of once idle or before a much smaller job).
 */
import { ImgpipeError } from '../errors.js';
import { asImage, createImage, hasAlpha, type RGBAImage } from '../image.js';
import type { ImageHeader } from '../header.js';
import { OwnedInstance, copyIn, outOfMemory, type OutputBufferExports } from '../wasm/instance.js';
import { instantiateThreaded, isThreadedBuild, withHelper } from './webp-threads.js';
import { loadKernel, resizeRows, resultBuffer, streamsRows, type RowSource } from '../kernels/lanczos.js';
import type { SrgbConversion } from '../color/icc.js';
import type { JpegShrink } from './jpeg-frame.js';

/** What wasm/libwebp/webp.c exports. */
interface WebpExports extends OutputBufferExports {
  imgpipe_webp_encode(rgba: number, width: number, height: number, quality: number, method: number, lossless: number): number;
  imgpipe_webp_band_begin(width: number, height: number, rows: number): number;
  imgpipe_webp_band_rows(y0: number, rows: number): number;
  imgpipe_webp_band_encode(quality: number, method: number): number;
  imgpipe_webp_decode(data: number, size: number, scaledWidth: number, scaledHeight: number): number;
}

/** libwebp's instances: the one-thread build, or in Node the threaded one (webp-threads.ts) with its shared memory. */
class LibwebpInstance extends OwnedInstance<WebpExports> {
  protected create(module: WebAssembly.Module): WebpExports {
    return isThreadedBuild(module) ? instantiateThreaded<WebpExports>(module) : super.create(module);
  }
}

const libwebp = new LibwebpInstance('webp');

/** libwebp's VP8StatusCode values (decode), as users would want them explained. */
const DECODE_STATUS: Readonly<Record<number, string>> = Object.freeze({
  1: 'out of memory',
  2: 'invalid parameter',
  3: 'damaged bitstream',
  4: 'unsupported feature',
  5: 'suspended',
  6: 'user abort',
  7: 'truncated data',
});

/** libwebp's WebPEncodingError values (encode). */
const ENCODE_ERROR: Readonly<Record<number, string>> = Object.freeze({
  1: 'out of memory',
  2: 'out of memory for the bitstream',
  3: 'null parameter',
  4: 'invalid configuration',
  5: 'bad dimension',
  6: 'partition 0 overflow',
  7: 'partition overflow',
  8: 'bad write',
  9: 'file too big',
  10: 'user abort',
});

/** The last call's output copied out of the instance into `into` (its whole length); libwebp's buffer is freed. */
function takeOutput<T extends Uint8Array | Uint8ClampedArray>(w: WebpExports, into: T): T {
  into.set(new Uint8Array(w.memory.buffer, w.imgpipe_output(), into.byteLength));
  w.imgpipe_release();
  return into;
}

/**
 * Run libwebp's decoder on `file` inside `w`, at `scaled` (libwebp's rescaler) or full size: the
 * non-premultiplied RGBA result is left in the instance's memory (imgpipe_output), `width` x `height`.
 * A lossy file `sourceWidth` wide may be decoded on two threads (webp-threads.ts).
 */
function runDecoder(w: WebpExports, file: Uint8Array, sourceWidth: number, scaled?: Readonly<{ width: number; height: number }>): { width: number; height: number } {
  const ptr = copyIn(w, file);
  let status: number;
  try {
    status = withHelper(w, sourceWidth, () => w.imgpipe_webp_decode(ptr, file.byteLength, scaled?.width ?? 0, scaled?.height ?? 0));
  } finally {
    w.imgpipe_free(ptr);
  }
  if (status === 1) throw new RangeError('out of memory');
  if (status !== 0) {
    throw new ImgpipeError('CORRUPT_IMAGE', `Expected a decodable WebP but the decoder reported: ${DECODE_STATUS[status] ?? `status ${status}`}`);
  }
  return { width: w.imgpipe_output_width(), height: w.imgpipe_output_height() };
}

/**
 * The width withHelper judges a decode by: 0 (one thread) for a lossless file (libwebp threads VP8
 * only) and for one with alpha (webp.c decodes those on one thread).
 */
function threadWidth(header: ImageHeader): number {
  return header.lossless || header.alpha ? 0 : header.width;
}

/**
 * Decode with libwebp: non-premultiplied RGBA, at `scaled` (libwebp's rescaler) or full size.
 * `asResult`: the pixels go into a buffer of the resize kernel's pool (`resultBuffer`), as a resize's
 * result does, so that a transform giving them back once encoded (`recycleResized`) has the next
 * decode of that size reuse it.
 */
function libwebpDecode(file: Uint8Array, needBytes: number, sourceWidth: number, scaled?: Readonly<{ width: number; height: number }>, asResult = false): Promise<RGBAImage> {
  return libwebp.use((w) => {
    const { width, height } = runDecoder(w, file, sourceWidth, scaled);
    const bytes = width * height * 4;
    return asImage(width, height, takeOutput(w, asResult ? resultBuffer(bytes) : new Uint8ClampedArray(bytes)));
  }, needBytes);
}

/**
 * The size a still WebP is decoded at on its way into a resize reduced by `shrink`: libwebp's
 * rescaler's (`shrink` applied as rows are decoded), except for a lossless (VP8L) file reduced by 2.
 * A lossless file is decoded whole at any reduction (its entropy coding and transforms cost the same
 * at any output size) and libwebp's rescaler, a per-pixel loop over every decoded pixel with alpha
 * premultiplied around it, then costs more than the decode itself in WebAssembly; by 2 it also puts
 * out a quarter of the pixels, which the Lanczos3 pass must still reduce. The resize kernel's
 * Lanczos3 straight from the full-size rows costs less there (the 3640x2048 graphic's recipe: 0.84x
 * the CPU time, for 30 MB more memory). By 4 and 8 the rescaler's small output makes it the cheaper
 * way, and a lossy (VP8) file always takes it: it rescales the YUV planes before colour conversion.
 */
function decodeScale(header: ImageHeader, shrink: JpegShrink): Readonly<{ width: number; height: number }> | undefined {
  if (shrink === 1 || (shrink === 2 && header.lossless)) return undefined;
  return { width: Math.ceil(header.width / shrink), height: Math.ceil(header.height / shrink) };
}

/**
 * Decode a still, upright WebP straight into a resize to `width` x `height`: libwebp decodes into
 * its own memory (at the size `decodeScale` picks) and the resize kernel takes its rows from there,
 * a band at a time, so the decoded image is never copied out (a 3640x2048 image's 30 MB allocation
 * and copy took as long as its lossless decode). With transparency the kernel premultiplies the rows
 * as they come: the same pixels as decoding and then resizing. Undefined where this does not apply
 * (an animation, an EXIF orientation, a resize the streamed kernel does not take, or a file that says
 * it has no alpha but decodes with some, which the two-step path makes opaque): the caller decodes
 * and resizes in two steps. `srgb` brings the rows to sRGB on the way.
 */
export async function decodeWebpResized(file: Uint8Array, header: ImageHeader, shrink: JpegShrink, width: number, height: number, srgb?: SrgbConversion, scaleOnLoad = false): Promise<RGBAImage | undefined> {
  if (header.frames > 1 || header.orientation !== 1) return undefined;
  if (scaleOnLoad && srgb === undefined && width <= header.width && height <= header.height && oneScale(header, width, height)) {
    const image = await decodeWebpAtSize(file, header, width, height);
    if (image) return image;
  }
  const scaled = decodeScale(header, shrink);
  const decoded = scaled ?? header;
  await loadKernel();
  if (!streamsRows(decoded.width, decoded.height, width, height)) return undefined;
  await libwebp.load();
  try {
    return libwebp.useLoaded((w) => {
      const size = runDecoder(w, file, threadWidth(header), scaled);
      try {
        if (size.width !== decoded.width || size.height !== decoded.height) {
          throw new ImgpipeError('CORRUPT_IMAGE', `Expected ${decoded.width}x${decoded.height} pixels from the WebP decode but decoded ${size.width}x${size.height}`);
        }
        return resizeRows(outputRows(w, size.width, size.height, header.alpha), width, height, { from: 0, to: height }, srgb);
      } finally {
        w.imgpipe_release();
      }
    }, file.byteLength + decoded.width * decoded.height * 8);
  } catch (e) {
    throw outOfMemory(e, `the WebP decode of ${header.width}x${header.height}`);
  }
}

/**
 * Whether `width` x `height` is the source scaled by one factor (each side the other's proportion,
 * rounded), the only targets libvips' webpload, whose scale is one number, reaches on its own.
 */
function oneScale(header: ImageHeader, width: number, height: number): boolean {
  return Math.round((header.height * width) / header.width) === height && Math.round((header.width * height) / header.height) === width;
}

/**
 * A still WebP decoded straight to `width` x `height` (a reduction by one scale) by libwebp's rescaler, with no
 * resize after it: what sharp does with a WebP it is asked to make smaller. libvips' webpload takes
 * the whole reduction as its scale, so sharp's Lanczos3 then has nothing left to do, and its output
 * is libwebp's area average at the target size byte for byte (checked on the bench's lossless
 * graphic and lossy photo at 3000 px down to 150 px, and on a lossy file with alpha; tested). That
 * is also the cheapest way: no resize pass and no decoded image larger than the target. Undefined
 * for a file that says it has no alpha but decodes with some (libwebp has then premultiplied by that
 * alpha, where libvips decodes such a file without it): the caller takes the streamed path.
 */
async function decodeWebpAtSize(file: Uint8Array, header: ImageHeader, width: number, height: number): Promise<RGBAImage | undefined> {
  let image: RGBAImage;
  try {
    // The target's pixels, and no resize after them: the transform hands them back once encoded, and a
    // server making this size from WebPs over and over writes into one buffer (a fresh 1.2 MB one per
    // 720 px request stayed as garbage until V8 collected it: RSS grew by its size each request).
    image = await libwebpDecode(file, file.byteLength + header.width * 64 + width * height * 8, threadWidth(header), { width, height }, true);
  } catch (e) {
    throw outOfMemory(e, `the WebP decode of ${header.width}x${header.height}`);
  }
  if (image.width !== width || image.height !== height) {
    throw new ImgpipeError('CORRUPT_IMAGE', `Expected the ${width}x${height} it was asked to scale the header's ${header.width}x${header.height} to but decoded ${image.width}x${image.height}`);
  }
  if (!header.alpha && hasAlpha(image)) return undefined;
  return image;
}

/** The decoder's output, still in its memory, as a RowSource. */
function outputRows(w: WebpExports, width: number, height: number, alpha: boolean): RowSource {
  const rowBytes = width * 4;
  let next = 0;
  return {
    width,
    height,
    alpha,
    skipTo(row) {
      next = row;
    },
    read(into, max) {
      const rows = Math.min(max, height - next);
      into.set(new Uint8Array(w.memory.buffer, w.imgpipe_output() + next * rowBytes, rows * rowBytes));
      next += rows;
      return rows;
    },
  };
}

/**
 * Decode a WebP. A still image is decoded reduced by `shrink` (`chooseShrink`'s factor) when asked:
 * libwebp rescales each row as it is decoded (area averaging, alpha kept), so the full-size image is
 * never made, as libvips' webpload (and so sharp) decodes with shrink-on-load. The result then
 * measures ceil(width / shrink) x ceil(height / shrink), as a JPEG's does. An animation's first
 * frame is decoded at full size (`shrink` 1), to be placed on its canvas.
 */
export async function decodeWebpScaled(bytes: Uint8Array, header: ImageHeader, shrink: JpegShrink = 1): Promise<{ image: RGBAImage; shrink: JpegShrink }> {
  if (header.frames > 1) return { image: await decodeWebp(bytes, header), shrink: 1 };
  const scaled = decodeScale(header, shrink);
  return { image: await decodeWebp(bytes, header, scaled), shrink: scaled ? shrink : 1 };
}

async function decodeWebp(bytes: Uint8Array, header: ImageHeader, scaled?: Readonly<{ width: number; height: number }>): Promise<RGBAImage> {
  // libwebp's simple decoder refuses animations: decode the first frame on its own instead, once
  // every frame's framing has been checked as libwebp's demuxer (and so sharp) checks it.
  if (header.frames > 1) checkFrames(bytes, header);
  const frame = header.frames > 1 ? firstFrame(bytes) : undefined;
  const size = frame ? undefined : scaled;
  const { width, height } = size ?? header;
  let image: RGBAImage;
  try {
    image = await libwebpDecode(frame ? frame.file : bytes, bytes.byteLength + (size ? header.width * 64 : 0) + width * height * 8, frame ? 0 : threadWidth(header), size);
  } catch (e) {
    // The header's size was checked against the limits first: running out of memory here is the image's size.
    throw outOfMemory(e, `the WebP decode of ${header.width}x${header.height}`);
  }
  if (!frame) {
    if (image.width !== width || image.height !== height) {
      const what = size ? `the ${width}x${height} it was asked to scale the header's ${header.width}x${header.height} to` : `${width}x${height} pixels as the WebP header declares`;
      throw new ImgpipeError('CORRUPT_IMAGE', `Expected ${what} but decoded ${image.width}x${image.height}`);
    }
    // A lossless file that says it uses no alpha is opaque, whatever its alpha channel codes (as libvips reads it).
    if (!header.alpha) for (let i = 3; i < image.data.length; i += 4) image.data[i] = 255;
    return image;
  }
  // Place the frame on the animation's canvas (transparent), at its offset.
  const canvas = createImage(header.width, header.height);
  const w = Math.min(image.width, header.width - frame.x), h = Math.min(image.height, header.height - frame.y);
  for (let y = 0; y < h; y++) {
    const src = y * image.width * 4;
    canvas.data.set(image.data.subarray(src, src + w * 4), ((frame.y + y) * header.width + frame.x) * 4);
  }
  return canvas;
}

/**
 * What WebPDemux checks before handing out any frame of an animation: each ANMF chunk lies within
 * the file and holds a frame header, lies within the canvas, and carries a VP8 or VP8L bitstream
 * (after an optional ALPH) whose own header declares the frame's size. sharp refuses a file that
 * fails any of these, even when the first frame is intact; so does imgpipe, naming the frame.
 */
function checkFrames(b: Uint8Array, header: ImageHeader): void {
  const tag = (o: number) => String.fromCharCode(b[o], b[o + 1], b[o + 2], b[o + 3]);
  const u32 = (o: number) => (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;
  const u24 = (o: number) => b[o] | (b[o + 1] << 8) | (b[o + 2] << 16);
  const bad = (n: number, what: string) =>
    new ImgpipeError('CORRUPT_IMAGE', `Expected every frame of the animated WebP to be well-formed but frame ${n} ${what}`);
  let n = 0;
  for (let o = 12; o + 8 <= b.length;) {
    const len = u32(o + 4);
    const end = o + 8 + len;
    if (tag(o) === 'ANMF') {
      n++;
      if (end > b.length) throw bad(n, `runs past the end of the file (${len} bytes declared at offset ${o})`);
      if (len < 16) throw bad(n, `has a ${len}-byte ANMF chunk (at least 16 needed)`);
      const x = u24(o + 8) * 2, y = u24(o + 11) * 2, w = u24(o + 14) + 1, h = u24(o + 17) + 1;
      if (x + w > header.width || y + h > header.height) {
        throw bad(n, `(${w}x${h} at ${x},${y}) does not lie within the ${header.width}x${header.height} canvas`);
      }
      let p = o + 24;
      if (p + 8 <= end && tag(p) === 'ALPH') p += 8 + u32(p + 4) + (u32(p + 4) & 1);
      if (p + 8 > end) throw bad(n, 'has no image data (VP8 or VP8L chunk)');
      const kind = tag(p), size = u32(p + 4), data = p + 8;
      if (data + size > end) throw bad(n, `has a ${kind} chunk that runs past its ANMF chunk`);
      let dims: [number, number];
      if (kind === 'VP8 ') {
        if (size < 10 || b[data + 3] !== 0x9d || b[data + 4] !== 0x01 || b[data + 5] !== 0x2a) throw bad(n, 'has a VP8 bitstream without its start code');
        dims = [(b[data + 6] | (b[data + 7] << 8)) & 0x3fff, (b[data + 8] | (b[data + 9] << 8)) & 0x3fff];
      } else if (kind === 'VP8L') {
        if (size < 5 || b[data] !== 0x2f) throw bad(n, 'has a VP8L bitstream without its signature');
        const bits = u32(data + 1);
        dims = [(bits & 0x3fff) + 1, ((bits >>> 14) & 0x3fff) + 1];
      } else {
        throw bad(n, `has a ${JSON.stringify(kind)} chunk where its VP8 or VP8L image data belongs`);
      }
      if (dims[0] !== w || dims[1] !== h) throw bad(n, `declares ${w}x${h} but its ${kind.trim()} bitstream is ${dims[0]}x${dims[1]}`);
    }
    o = end + (len & 1);
  }
}

/** The first ANMF frame of an animated WebP, rewrapped as a still WebP file. */
function firstFrame(b: Uint8Array): { file: Uint8Array; x: number; y: number } {
  const tag = (o: number) => String.fromCharCode(b[o], b[o + 1], b[o + 2], b[o + 3]);
  const u32 = (o: number) => (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;
  const u24 = (o: number) => b[o] | (b[o + 1] << 8) | (b[o + 2] << 16);
  for (let o = 12; o + 8 <= b.length;) {
    const len = u32(o + 4);
    if (tag(o) === 'ANMF') {
      const end = Math.min(b.length, o + 8 + len);
      if (o + 24 > end) break;
      const x = u24(o + 8) * 2, y = u24(o + 11) * 2, w = u24(o + 14) + 1, h = u24(o + 17) + 1;
      const chunks = b.subarray(o + 24, end); // ALPH? + VP8/VP8L
      const hasAlpha = chunks.length >= 4 && String.fromCharCode(...chunks.subarray(0, 4)) === 'ALPH';
      const vp8x = new Uint8Array(18);
      vp8x.set([0x56, 0x50, 0x38, 0x58, 10, 0, 0, 0, hasAlpha ? 0x10 : 0]);
      vp8x.set([(w - 1) & 255, ((w - 1) >> 8) & 255, ((w - 1) >> 16) & 255, (h - 1) & 255, ((h - 1) >> 8) & 255, ((h - 1) >> 16) & 255], 12);
      const size = 4 + vp8x.length + chunks.length;
      const file = new Uint8Array(8 + size);
      file.set([0x52, 0x49, 0x46, 0x46, size & 255, (size >> 8) & 255, (size >> 16) & 255, (size >>> 24) & 255, 0x57, 0x45, 0x42, 0x50]);
      file.set(vp8x, 12);
      file.set(chunks, 12 + vp8x.length);
      return { file, x, y };
    }
    o += 8 + len + (len & 1);
  }
  throw new ImgpipeError('CORRUPT_IMAGE', 'Expected an animation frame (ANMF chunk) in the animated WebP but found none');
}

/** Source rows per band of a lossy encode (even: libwebp converts rows to 4:2:0 two by two). */
const ENCODE_BAND_ROWS = 16;

/**
 * A lossy encode with the source copied into libwebp a band at a time (wasm/libwebp/webp.c), never
 * whole. Returns libwebp's error code (0 when encoded), or -1 when a band has transparency: the
 * caller encodes the whole image instead (same bytes either way).
 */
function encodeBands(w: WebpExports, pixels: Uint8Array, width: number, height: number, quality: number): number {
  const band = w.imgpipe_webp_band_begin(width, height, ENCODE_BAND_ROWS);
  if (band === 0) return 1; // out of memory
  const rowBytes = width * 4;
  for (let y = 0; y < height; y += ENCODE_BAND_ROWS) {
    const rows = Math.min(ENCODE_BAND_ROWS, height - y);
    // libwebp's allocations may grow the memory (a new buffer): a fresh view each band.
    new Uint8Array(w.memory.buffer, band, rows * rowBytes).set(pixels.subarray(y * rowBytes, (y + rows) * rowBytes));
    const error = w.imgpipe_webp_band_rows(y, rows);
    if (error !== 0) return error;
  }
  return w.imgpipe_webp_band_encode(quality, 4);
}

interface WebpEncodeOptions {
  quality: number;
  lossless: boolean;
}

/** The WebP bitstream stores each side in 14 bits. */
const WEBP_MAX_SIDE = 16383;

export async function encodeWebp(image: RGBAImage, o: WebpEncodeOptions): Promise<Uint8Array> {
  // libwebp refuses larger pictures without a message; say which limit was hit, and that it is the
  // image's size (not a bug) that stops it.
  if (image.width > WEBP_MAX_SIDE || image.height > WEBP_MAX_SIDE) {
    throw new ImgpipeError('IMAGE_TOO_LARGE', `Expected each side of a WebP output to be at most ${WEBP_MAX_SIDE} px but the image is ${image.width}x${image.height}`, {
      details: { limit: 'webpMaxSide', max: WEBP_MAX_SIDE, width: image.width, height: image.height },
    });
  }
  const { width, height } = image;
  const pixels = new Uint8Array(image.data.buffer, image.data.byteOffset, width * height * 4);
  try {
    return await libwebp.use((w) => {
      // method 4 is libwebp's (and sharp's) default effort.
      let error = o.lossless ? -1 : encodeBands(w, pixels, width, height, o.quality);
      if (error === -1) {
        // Lossless, or a band with transparency: the whole image in. The encode frees `ptr` itself,
        // as soon as the pixels are converted, so that its own buffers reuse their space.
        const ptr = copyIn(w, pixels);
        error = w.imgpipe_webp_encode(ptr, width, height, o.quality, 4, o.lossless ? 1 : 0);
      }
      if (error === 1 || error === 2) throw new RangeError(ENCODE_ERROR[error]);
      if (error !== 0) throw new ImgpipeError('INTERNAL', `WebP encoding failed: ${ENCODE_ERROR[error] ?? `error ${error}`}`);
      return takeOutput(w, new Uint8Array(w.imgpipe_output_size()));
    }, width * height * 12);
  } catch (e) {
    throw outOfMemory(e, `the WebP encode of ${width}x${height}`);
  }
}
