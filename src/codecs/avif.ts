/**
 * The AVIF plug-in (`imgpipe/avif`): @jsquash/avif's WebAssembly builds of libavif 1.0 with libaom
 * 3.7 (Apache-2.0 / BSD-2-Clause), one module to decode (1.2 MB) and one to encode (3.5 MB). Chosen
 * over building libavif/dav1d/libaom from Debian's sources like wasm/libheif because it loads as it
 * is in Node, Chromium and workerd (it takes our compiled module and never fetches), measures within
 * reach of the goal (README: AVIF), and CI needn't rebuild three C libraries. Only its single-thread
 * encoder is used: Function Compute and workerd give one thread, and a browser's pool needs
 * cross-origin isolation.
 *
 * libavif decodes the coded image: its clean-aperture crop (`clap`), rotation (`irot`) and mirror
 * (`imir`) are left to the caller, and are applied here from the header, as Chromium and libheif do.
 * Nothing here runs until an AVIF arrives or is asked for.
 */
import { ImgpipeError } from '../errors.js';
import type { ImageHeader } from '../header.js';
import type { RGBAImage } from '../image.js';
import type { DecoderPlugin, PluginEncodeOptions } from '../plugins.js';
import { orient } from '../ops/orient.js';
import { lazyWasm, type PluginWasmSource } from '../wasm/modules.js';
import { requireCoding } from './heif-header.js';
import { EmscriptenCodec, codecMessage, ownBytes } from '../wasm/instance.js';

interface DecModule { readonly HEAPU8?: Uint8Array; decode(data: Uint8Array, bitDepth: 8): { data: Uint8ClampedArray; width: number; height: number } | null }
interface EncModule { encode(data: Uint8Array, width: number, height: number, options: object): Uint8Array | null }

/**
 * Encoder speed (libaom's cpu-used via libavif, 0 slowest .. 10 fastest): 9, the fastest this build
 * has (10 makes the same bytes). On a 1200 px photo it encodes several times faster than 6-8 for
 * about the same bytes and SSIM (README: AVIF, `npx tsx bench/avif.ts`).
 */
export const AVIF_SPEED = 9;

/**
 * `quality` on sharp's scale -> libavif's quality: at these pairs sharp (libheif's aom encoder at its
 * default effort 4, 4:4:4) and this encoder (speed 9, 4:2:0) make files of equal bytes, measured on
 * the benchmark photo at 1200 px (bench/avif.ts); between them, linear.
 */
export const QUALITY_MAP: readonly (readonly [sharp: number, libavif: number])[] = [[1, 1], [50, 53], [70, 75], [90, 92], [100, 100]];

/** libavif's quality for `quality` on sharp's scale. */
export function avifQuality(quality: number): number {
  for (let i = 1; i < QUALITY_MAP.length; i++) {
    const [x0, y0] = QUALITY_MAP[i - 1], [x1, y1] = QUALITY_MAP[i];
    if (quality <= x1) return Math.round(y0 + ((quality - x0) * (y1 - y0)) / (x1 - x0));
  }
  return 100;
}

/** AV1 codes each side in 16 bits; libavif refuses larger. */
const AVIF_MAX_SIDE = 65536;

/** Where each module comes from: a compiled module, its bytes, a URL, or a function returning one. */
export interface AvifPluginOptions {
  readonly decoder: PluginWasmSource;
  readonly encoder: PluginWasmSource;
  /** Encoder speed 0..10 (default AVIF_SPEED): lower is slower for slightly smaller files. */
  readonly speed?: number;
}

/** libavif's encoder options as @jsquash/avif's module takes them, for libavif quality `quality` (1..100). */
export function encoderOptions(quality: number, lossless: boolean, speed = AVIF_SPEED): object {
  return {
    quality: lossless ? 100 : quality, qualityAlpha: -1, denoiseLevel: 0, tileRowsLog2: 0, tileColsLog2: 0, speed,
    // 4:2:0, as image CDNs serve AVIF; lossless is 4:4:4 (identity matrix), which libavif needs for it.
    subsample: lossless ? 3 : 1,
    chromaDeltaQ: false, sharpness: 0, tune: 0, enableSharpYUV: false, bitDepth: 8,
  };
}

/** An AVIF plug-in whose modules come from `options` (each runtime entry passes its own). */
export function createAvifPlugin(options: AvifPluginOptions): DecoderPlugin {
  const speed = options.speed ?? AVIF_SPEED;
  if (!(Number.isInteger(speed) && speed >= 0 && speed <= 10)) {
    throw new ImgpipeError('INVALID_ARGUMENT', `Expected an integer between 0 and 10 for createAvifPlugin.speed but received ${JSON.stringify(options.speed)}`);
  }
  // The glue is imported on first use; it is told to instantiate our compiled module (never to fetch).
  const decoder = new EmscriptenCodec<DecModule>(lazyWasm(options.decoder), async (o) => (await import('@jsquash/avif/codec/dec/avif_dec.js')).default(o as never) as unknown as Promise<DecModule>);
  const encoder = new EmscriptenCodec<EncModule>(lazyWasm(options.encoder), async (o) => (await import('@jsquash/avif/codec/enc/avif_enc.js')).default(o as never) as unknown as Promise<EncModule>);

  async function decode(bytes: Uint8Array, header: ImageHeader): Promise<RGBAImage> {
    const heif = header.heif;
    if (!heif) throw new ImgpipeError('INTERNAL', 'The AVIF plug-in was given a header without its HEIF description');
    requireCoding(heif, 'an AVIF', 'AV1', 'av01');
    const { codedWidth: w, codedHeight: h } = heif;
    const image = await decoder.use((m, messages) => {
      let out: ReturnType<DecModule['decode']>;
      try {
        out = m.decode(bytes, 8);
      } catch (e) {
        if (e instanceof RangeError || (e instanceof WebAssembly.RuntimeError && /memory|unreachable/.test(e.message))) {
          throw new ImgpipeError('IMAGE_TOO_LARGE', `Expected the ${w}x${h} AVIF to fit in WebAssembly memory but its decoder stopped: ${e.message}`, { cause: e });
        }
        throw new ImgpipeError('CORRUPT_IMAGE', `Expected a decodable AVIF but libavif stopped: ${codecMessage(e, messages)}`, { cause: e });
      }
      if (!out) throw new ImgpipeError('CORRUPT_IMAGE', `Expected a decodable AVIF but libavif could not decode its ${w}x${h} ${heif.grid ? 'grid ' : ''}image${messages.length ? `: ${messages.join('; ')}` : ''}`);
      // A view of the module's memory would change under the next call: keep our own copy.
      const data = out.data.buffer === m.HEAPU8?.buffer ? out.data.slice() : out.data;
      return { width: out.width, height: out.height, data: new Uint8ClampedArray(data.buffer, data.byteOffset, data.byteLength) };
    }, w * h * 8 + bytes.byteLength);
    // The coded image must be the one the header was checked for (a bitstream may declare another size).
    if (image.width !== w || image.height !== h) {
      throw new ImgpipeError('CORRUPT_IMAGE', `Expected the AVIF's image to be the ${w}x${h} pixels its ispe declares but it decodes to ${image.width}x${image.height}`);
    }
    return transform(image, heif);
  }

  async function encode(image: RGBAImage, o: PluginEncodeOptions): Promise<Uint8Array> {
    if (image.width > AVIF_MAX_SIDE || image.height > AVIF_MAX_SIDE) {
      throw new ImgpipeError('IMAGE_TOO_LARGE', `Expected an image of at most ${AVIF_MAX_SIDE} pixels a side for AVIF but received ${image.width}x${image.height}`);
    }
    const options = encoderOptions(avifQuality(o.quality), o.lossless, speed);
    const rgba = new Uint8Array(image.data.buffer, image.data.byteOffset, image.width * image.height * 4);
    return encoder.use((m, messages) => {
      let out: Uint8Array | null;
      try {
        out = m.encode(rgba, image.width, image.height, options);
      } catch (e) {
        if (e instanceof RangeError || e instanceof WebAssembly.RuntimeError) {
          throw new ImgpipeError('IMAGE_TOO_LARGE', `Expected the ${image.width}x${image.height} AVIF encode to fit in WebAssembly memory but it stopped: ${codecMessage(e, messages)}`, { cause: e });
        }
        throw new ImgpipeError('INTERNAL', `The AVIF encoder failed on a ${image.width}x${image.height} image: ${codecMessage(e, messages)}`, { cause: e });
      }
      if (!out) throw new ImgpipeError('INTERNAL', `The AVIF encoder failed on a ${image.width}x${image.height} image${messages.length ? `: ${messages.join('; ')}` : ''}`);
      return ownBytes(out);
    }, image.width * image.height * 12);
  }

  return Object.freeze({ name: 'avif', formats: Object.freeze(['avif'] as const), decode, encode });
}

/** The header's clean aperture, then rotation, then mirror, in that order (MIAF's). */
function transform(image: RGBAImage, heif: NonNullable<ImageHeader['heif']>): RGBAImage {
  let out = image;
  const crop = heif.crop;
  if (crop && (crop.width !== out.width || crop.height !== out.height)) {
    const data = new Uint8ClampedArray(crop.width * crop.height * 4);
    for (let y = 0; y < crop.height; y++) {
      const from = ((crop.top + y) * out.width + crop.left) * 4;
      data.set(out.data.subarray(from, from + crop.width * 4), y * crop.width * 4);
    }
    out = { width: crop.width, height: crop.height, data };
  }
  // irot: counter-clockwise quarter turns, as EXIF orientations 8 (90), 3 (180) and 6 (270).
  if (heif.rotation) out = orient(out, [1, 8, 3, 6][heif.rotation]);
  // imir: 0 exchanges top and bottom (EXIF 4), 1 left and right (EXIF 2).
  if (heif.mirror !== undefined) out = orient(out, heif.mirror === 0 ? 4 : 2);
  return out;
}
