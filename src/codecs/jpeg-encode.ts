/**
 * JPEG encoding. Baseline files come from imgpipe's own encoder (`wasm/jpegenc/`): libjpeg's
 * baseline pipeline as sharp runs it (jccolor.c colour conversion, h2v2 4:2:0 without smoothing,
 * islow DCT, Annex K tables, two-pass optimised Huffman), so its files are byte-identical to
 * sharp's defaults and about ten times faster than MozJPEG's `encode()`, which keeps trellis
 * quantisation on whatever the options say. Progressive files (OSS `interlace,1`) still come from
 * MozJPEG.
 *
 * One instance of the encoder module serves every call (OwnedInstance: dropped after a trap; above
 * RECYCLE_BYTES, let go of once idle or before a much smaller job, the rule every WASM instance follows).
 */
import { QUALITY } from '../spec.js';
import { ImgpipeError, describeValue } from '../errors.js';
import { flatten, hasAlpha, type RGBAImage } from '../image.js';
import { EmscriptenCodec, OwnedInstance, codecMessage, outOfMemory, ownBytes } from '../wasm/instance.js';

interface EncModule { encode(data: Uint8ClampedArray, width: number, height: number, options: object): Uint8Array }

// Imported on first use (progressive output only): a cold start doesn't load what it doesn't run.
const mozjpeg = new EmscriptenCodec<EncModule>('mozjpeg_enc', async (options) => (await import('@jsquash/jpeg/codec/enc/mozjpeg_enc.js')).default(options as never) as Promise<EncModule>);

export interface JpegEncodeOptions {
  /** 1..100, scaling the Annex K tables as libjpeg's jpeg_set_quality (clamped to baseline). */
  readonly quality: number;
  /** Progressive scans (MozJPEG); otherwise baseline (imgpipe's encoder). */
  readonly progressive: boolean;
  /** Chroma subsampling; default '4:2:0' like sharp (which keeps it even at quality 90 and up). */
  readonly subsampling?: '4:2:0' | '4:4:4';
  /** One luminance component only (libjpeg's RGB to greyscale, the same Y as for colour). */
  readonly grayscale?: boolean;
  /**
   * When given, an image with any transparency is first flattened onto this colour (JPEG has no
   * alpha); without it alpha is ignored.
   */
  readonly background?: readonly [number, number, number];
}

/** JPEG stores each side in 16 bits. */
export const JPEG_MAX_SIDE = 65535;

/** Refuse before starting when a call would need more linear memory than this. */
const ENCODER_MAX_BYTES = 2 * 1024 * 1024 * 1024;

/** What the encoder module exports (wasm/jpegenc/assembly/index.ts). */
interface EncoderExports {
  readonly memory: WebAssembly.Memory;
  readonly FLAG_444: WebAssembly.Global;
  readonly FLAG_GRAY: WebAssembly.Global;
  alloc(bytes: number): number;
  reset(): void;
  opaque(src: number, pixels: number): number;
  flatten(src: number, pixels: number, background: number): void;
  begin(src: number, width: number, height: number, quality: number, flags: number): void;
  source(rgba: number, firstRow: number): void;
  step(mcuRows: number): number;
  result(): number;
  encodedBytes(): number;
}

/**
 * MCU rows per encoder call (16 or 8 pixel rows each): short calls let V8's optimised code take
 * over within a cold instance's first image (see wasm/jpegenc/assembly/index.ts).
 */
const MCU_ROWS_PER_STEP = 4;

const encoder = new OwnedInstance<EncoderExports>('jpegenc');

/** Diagnostics for warm-instance memory: the live encoder instance's memory and how many were created. */
export function jpegEncoderStats(): Readonly<{ memoryBytes: number; instancesCreated: number }> {
  return encoder.stats();
}

/**
 * Upper bound of one call's linear memory: one band of `bandRows` source rows, three 16-row
 * strips, 144 bytes per coefficient block, and an output buffer sized for the worst case (every
 * coefficient coded at 27 bits, every byte stuffed).
 */
function bytesNeeded(width: number, bandRows: number, blocks: number): number {
  const paddedWidth = Math.ceil(width / 16) * 16;
  return width * bandRows * 4 + paddedWidth * 16 * 5 + blocks * (144 + 432) + 65536;
}

function checkOptions(image: RGBAImage, o: JpegEncodeOptions): void {
  if (QUALITY.check(o.quality) === undefined) {
    throw new ImgpipeError('INVALID_ARGUMENT', `Expected ${QUALITY.expected} for jpeg.quality but received ${describeValue(o.quality)}`);
  }
  for (const [name, v] of [['image.width', image.width], ['image.height', image.height]] as const) {
    if (!Number.isInteger(v) || v < 1) {
      throw new ImgpipeError('INVALID_ARGUMENT', `Expected an integer between 1 and ${JPEG_MAX_SIDE} for ${name} but received ${describeValue(v)}`);
    }
    if (v > JPEG_MAX_SIDE) {
      throw new ImgpipeError('IMAGE_TOO_LARGE', `Expected at most ${JPEG_MAX_SIDE} pixels for ${name} of a JPEG but received ${v}`);
    }
  }
  // Each channel is packed into a byte for the encoder's flatten.
  const bg = o.background;
  if (bg !== undefined && !(Array.isArray(bg) && bg.length === 3 && bg.every((c) => Number.isInteger(c) && c >= 0 && c <= 255))) {
    throw new ImgpipeError('INVALID_ARGUMENT', `Expected three integers between 0 and 255 ([r, g, b]) for jpeg.background but received ${describeValue(bg)}`);
  }
  const bytes = image.width * image.height * 4;
  if (image.data.length !== bytes) {
    throw new ImgpipeError('INVALID_ARGUMENT', `Expected ${bytes} bytes of RGBA for a ${image.width}x${image.height} image but received ${image.data.length}`);
  }
}

export async function encodeJpeg(image: RGBAImage, o: JpegEncodeOptions): Promise<Uint8Array> {
  checkOptions(image, o);
  if (!o.progressive) return encodeBaseline(image, o);
  return encodeMozjpeg(o.background !== undefined && hasAlpha(image) ? flatten(image, o.background) : image, o);
}

async function encodeBaseline(image: RGBAImage, o: JpegEncodeOptions): Promise<Uint8Array> {
  const { width, height } = image;
  const sub = o.grayscale !== true && o.subsampling !== '4:4:4';
  const mcu = sub ? 16 : 8;
  const mcus = Math.ceil(width / mcu) * Math.ceil(height / mcu);
  const blocks = o.grayscale === true ? mcus : sub ? mcus * 6 : mcus * 3;
  // The source goes in band by band, one step's MCU rows at a time (the encoder reads it only then):
  // a 1200x980 photo's 4.7 MB are never copied in whole, which keeps them out of the encoder's
  // memory, warm (peak RSS) and cold (a fresh process's pages are first touched at a cost).
  const bandRows = Math.min(height, mcu * MCU_ROWS_PER_STEP);
  const needed = bytesNeeded(width, bandRows, blocks);
  if (needed > ENCODER_MAX_BYTES) {
    throw new ImgpipeError(
      'IMAGE_TOO_LARGE',
      `Expected a JPEG encode needing at most ${ENCODER_MAX_BYTES} bytes of working memory but ${width}x${height} needs ${needed}`,
    );
  }

  try {
    return await encoder.use((k) => {
      k.reset();
      const rowBytes = width * 4;
      const band = k.alloc(bandRows * rowBytes);
      const pixels = new Uint8Array(image.data.buffer, image.data.byteOffset, height * rowBytes);
      /**
       * Copy rows `first` until `first + bandRows` (or the last) into the band. Whether to flatten is
       * asked of the band's copy in the encoder's memory (SIMD), not of the image in JavaScript; a
       * band with transparent pixels (a PNG or WebP source) is flattened there in place, with
       * flatten()'s arithmetic (pixel by pixel, so band by band is the same).
       */
      const copyBand = (first: number): void => {
        const end = Math.min(height, first + bandRows);
        const into = new Uint8Array(k.memory.buffer, band, (end - first) * rowBytes);
        const rows = pixels.subarray(first * rowBytes, end * rowBytes);
        into.set(rows);
        if (o.background !== undefined && k.opaque(band, (end - first) * width) === 0) {
          const [r, g, b] = o.background;
          k.flatten(band, (end - first) * width, (0xff000000 | (b << 16) | (g << 8) | r) >>> 0);
        }
      };
      copyBand(0);
      const flags = o.grayscale === true ? (k.FLAG_GRAY.value as number) : sub ? 0 : (k.FLAG_444.value as number);
      k.begin(band, width, height, o.quality, flags);
      // Each step of the first pass takes the next band's MCU rows; the later passes read no pixels.
      for (let first = 0; k.step(MCU_ROWS_PER_STEP) !== 0;) {
        first += bandRows;
        if (first < height) {
          copyBand(first);
          k.source(band, first);
        }
      }
      const ptr = k.result();
      const out = new Uint8Array(k.memory.buffer.slice(ptr, ptr + k.encodedBytes()));
      k.reset();
      return out;
    }, needed);
  } catch (e) {
    // The arguments were checked above (the instance has been discarded).
    throw outOfMemory(e, `the JPEG encode of ${width}x${height}`);
  }
}

function encodeMozjpeg(image: RGBAImage, o: JpegEncodeOptions): Promise<Uint8Array> {
  return mozjpeg.use((m, messages) => {
    try {
      // sharp/libvips defaults: standard (Annex K) tables, optimised Huffman, no trellis.
      const out = m.encode(image.data, image.width, image.height, {
        quality: o.quality,
        baseline: false,
        arithmetic: false,
        progressive: o.progressive,
        optimize_coding: true,
        smoothing: 0,
        color_space: o.grayscale === true ? 1 : 3,
        quant_table: 0,
        trellis_multipass: false,
        trellis_opt_zero: false,
        trellis_opt_table: false,
        trellis_loops: 1,
        auto_subsample: false,
        chroma_subsample: o.subsampling === '4:4:4' ? 1 : 2,
        separate_chroma_quality: false,
        chroma_quality: o.quality,
      });
      return ownBytes(out);
    } catch (e) {
      throw new ImgpipeError('INTERNAL', `JPEG encoding failed: ${codecMessage(e, messages)}`, { cause: e });
    }
  }, image.width * image.height * 8);
}
