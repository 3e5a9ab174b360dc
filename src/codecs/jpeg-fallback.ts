/**
 * The fallback JPEG decoders, for what imgpipe's own decoder (`jpeg.ts`) leaves: libjpeg-turbo
 * (`wasm/libjpeg/`: libjpeg-turbo 2.1.5's decompressor with arithmetic decoding, from Debian's
 * source, called through a small C interface with no Emscripten glue) for 1- and 3-component files
 * (arithmetic coding, multi-scan sequential, RGB-coded, an incomplete progression, damage the own
 * decoder refuses to guess at below failOn 'warning'), scaled in the DCT domain like the own decoder;
 * for a CMYK/YCCK file with a CMYK profile (its CMYK then brought to sRGB by Little CMS, as sharp
 * does); jpeg-js for other CMYK/YCCK files. The libjpeg-turbo module is compiled on first use: most
 * uploads never need it.
 */
import { ImgpipeError } from '../errors.js';
import { asImage, type RGBAImage } from '../image.js';
import type { ImageHeader } from '../header.js';
import { OwnedInstance, codecMessage, copyIn, outOfMemory, type OutputBufferExports } from '../wasm/instance.js';
import { DEFAULT_FAIL_ON, refuses, type FailOn } from '../fail-on.js';
import { scaledSize, unsupportedProcess, type JpegShrink } from './jpeg-frame.js';
import { cmykProfile } from '../color/icc.js';
import { applyProfile, lcmsAvailable } from '../color/lcms.js';

/** What wasm/libjpeg/jpeg.c exports. */
interface LibjpegExports extends OutputBufferExports {
  imgpipe_jpeg_decode(data: number, size: number, denom: number): number;
  imgpipe_jpeg_messages(): number;
  imgpipe_jpeg_warnings(): number;
}

let libjpeg = new OwnedInstance<LibjpegExports>('libjpeg');

/** Forget the libjpeg-turbo instance (tests and memory-pressure hooks). */
export function resetFallbackDecoder(): void {
  libjpeg = new OwnedInstance<LibjpegExports>('libjpeg');
}

/**
 * libjpeg reports damage as warnings and decodes on (grey blocks where data is missing). Like sharp's
 * default (`failOn: 'warning'`), imgpipe refuses such a file rather than publish a broken variant;
 * lower levels accept the warnings, and `truncated` and `error` still refuse a file that ends early
 * (libjpeg's "Premature end of JPEG file"), as libvips does. Warnings about nothing damaged (an
 * unknown JFIF version) are not refused.
 */
const DAMAGE = /corrupt|premature|bogus|invalid|unsupported|wrong/i;
const TRUNCATION = /premature end of jpeg file/i;

/** libjpeg's fatal error for memory that could not grow (JERR_OUT_OF_MEMORY). */
const OUT_OF_MEMORY = /insufficient memory/i;

/** libjpeg's messages of the last call, one per line (a C string in the module's memory). */
function messagesOf(k: LibjpegExports): string[] {
  const mem = new Uint8Array(k.memory.buffer);
  const at = k.imgpipe_jpeg_messages();
  let end = at;
  while (end < mem.length && mem[end] !== 0) end++;
  return new TextDecoder().decode(mem.subarray(at, end)).split('\n').filter(Boolean);
}

/**
 * Decode a 1- or 3-component JPEG with libjpeg-turbo, reduced by `shrink` (libjpeg's scale_denom:
 * the result measures ceil(width / shrink) x ceil(height / shrink)), its warnings judged by `failOn`
 * (DAMAGE above). A fatal error is CORRUPT_IMAGE with libjpeg's message.
 */
export function decodeWithLibjpeg(bytes: Uint8Array, header: ImageHeader, shrink: JpegShrink, failOn: FailOn): Promise<RGBAImage> {
  return libjpegPixels(bytes, header, shrink, failOn, false);
}

/** `decodeWithLibjpeg`; with `cmyk`, of a 4-component file, whose pixels are then CMYK as stored. */
async function libjpegPixels(bytes: Uint8Array, header: ImageHeader, shrink: JpegShrink, failOn: FailOn, cmyk: boolean): Promise<RGBAImage> {
  const { width, height } = scaledSize(header, shrink);
  try {
    return await libjpeg.use((k) => {
      const src = copyIn(k, bytes);
      let status: number;
      try {
        status = k.imgpipe_jpeg_decode(src, bytes.byteLength, shrink);
      } catch (e) {
        // error_exit traps after recording libjpeg's message; the instance is dropped by `use`.
        const fatal = messagesOf(k).at(-1);
        if (!fatal || OUT_OF_MEMORY.test(fatal)) throw e;
        throw new ImgpipeError('CORRUPT_IMAGE', `Expected a decodable JPEG but libjpeg reported: ${fatal}`, { cause: e });
      }
      k.imgpipe_free(src);
      if (status !== (cmyk ? 1 : 0)) {
        throw new ImgpipeError('INTERNAL', `Expected a 1- or 3-component JPEG for libjpeg but the ${header.width}x${header.height} file has ${header.components ?? 'unknown'} components`);
      }
      const damage = k.imgpipe_jpeg_warnings() === 0 || failOn === 'none' ? undefined
        : messagesOf(k).find((w) => (refuses(failOn, 'warning') ? DAMAGE : TRUNCATION).test(w));
      if (damage !== undefined) {
        k.imgpipe_release();
        throw new ImgpipeError('CORRUPT_IMAGE', `Expected a decodable JPEG but the decoder reported: ${damage}`);
      }
      const w = k.imgpipe_output_width(), h = k.imgpipe_output_height();
      if (w !== width || h !== height) {
        k.imgpipe_release();
        throw new ImgpipeError('CORRUPT_IMAGE', `Expected ${width}x${height} pixels as the JPEG header declares but decoded ${w}x${h}`);
      }
      const at = k.imgpipe_output();
      const image = asImage(w, h, new Uint8ClampedArray(k.memory.buffer.slice(at, at + w * h * 4)));
      k.imgpipe_release();
      return image;
    }, bytes.byteLength + width * height * 8);
  } catch (e) {
    throw outOfMemory(e, `the JPEG decode of ${header.width}x${header.height}`);
  }
}

/** Full-size decode through the fallback decoders (libjpeg-turbo, or jpeg-js for CMYK/YCCK). */
export async function decodeJpeg(bytes: Uint8Array, header: ImageHeader, failOn: FailOn = DEFAULT_FAIL_ON): Promise<RGBAImage> {
  const unsupported = unsupportedProcess(header);
  if (unsupported) throw unsupported;
  if (header.components === 4) return await decodeCmyk(bytes, header, failOn);
  return decodeWithLibjpeg(bytes, header, 1, failOn);
}

/**
 * 4-component JPEGs (CMYK/YCCK). With a CMYK profile (and the lcms module deployed), libjpeg-turbo's
 * CMYK goes through the profile to sRGB, as sharp does; an Adobe file's CMYK is stored inverted,
 * as libvips reads it. Otherwise jpeg-js converts YCCK→CMYK and inverts Adobe's inverted CMYK; its
 * `formatAsRGBA` then converts CMYK→RGB naively (colours close, not colour-managed; sharp uses a
 * built-in CMYK profile there instead).
 */
async function decodeCmyk(bytes: Uint8Array, header: ImageHeader, failOn: FailOn): Promise<RGBAImage> {
  const profile = await cmykProfile(bytes, header);
  if (profile && (await lcmsAvailable())) {
    const image = await libjpegPixels(bytes, header, 1, failOn, true);
    if (await applyProfile(image.data, profile, header.adobeTransform === undefined ? 'cmyk' : 'inverted-cmyk')) return image;
  }
  const jpegJs = (await import('jpeg-js')).default;
  try {
    const out = jpegJs.decode(bytes, {
      useTArray: true,
      formatAsRGBA: true,
      // jpeg-js has one lenient mode: it decodes on where its strict mode throws.
      tolerantDecoding: failOn !== 'warning',
      maxResolutionInMP: Math.ceil((header.width * header.height) / 1e6) + 1,
      maxMemoryUsageInMB: 2048,
    });
    return asImage(out.width, out.height, out.data);
  } catch (e) {
    throw new ImgpipeError('CORRUPT_IMAGE', `Expected a decodable CMYK JPEG but the decoder failed: ${codecMessage(e)}`, { cause: e });
  }
}
