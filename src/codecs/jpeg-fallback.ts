/**
 * The fallback JPEG decoders, for what imgpipe's own decoder (`jpeg.ts`) leaves: MozJPEG at
 * full size (arithmetic, 12-bit, multi-scan sequential, RGB-coded, and damage the own decoder refuses
 * to guess at below failOn 'warning'), jpeg-js for CMYK/YCCK, because MozJPEG's build exits on them.
 */
import { ImgpipeError } from '../errors.js';
import { asImage, type RGBAImage } from '../image.js';
import type { ImageHeader } from '../header.js';
import { EmscriptenCodec, codecMessage } from './instance.js';
import { DEFAULT_FAIL_ON, type FailOn } from '../fail-on.js';
import { unsupportedProcess } from './jpeg-frame.js';

interface DecModule { decode(data: Uint8Array, preserveOrientation: boolean): { data: Uint8ClampedArray; width: number; height: number } | null }

// The fallback decoders' JavaScript is imported on first use: most JPEGs never need them, and a cold
// start (a Function Compute instance's first upload) would pay for loading them otherwise.
const decoder = new EmscriptenCodec<DecModule>('mozjpeg_dec', async (options) => (await import('@jsquash/jpeg/codec/dec/mozjpeg_dec.js')).default(options as never) as Promise<DecModule>);

/**
 * libjpeg reports damage as warnings and decodes on (grey blocks where data is missing). Like sharp's
 * default (`failOn: 'warning'`), imgpipe refuses such a file rather than publish a broken variant;
 * lower levels accept the warnings, and `truncated` and `error` still refuse a file that ends early
 * (libjpeg's "Premature end of JPEG file"), as libvips does.
 */
const DAMAGE = /corrupt|premature|bogus|invalid|unsupported|wrong/i;
const TRUNCATION = /premature end of jpeg file/i;
/** Forget the MozJPEG instance (tests and memory-pressure hooks). */
export function resetFallbackDecoder(): void {
  decoder.reset();
}

/** Full-size decode through the packaged decoders (MozJPEG, or jpeg-js for CMYK/YCCK). */
export async function decodeJpeg(bytes: Uint8Array, header: ImageHeader, failOn: FailOn = DEFAULT_FAIL_ON): Promise<RGBAImage> {
  const unsupported = unsupportedProcess(header);
  if (unsupported) throw unsupported;
  if (header.components === 4) return await decodeCmyk(bytes, header, failOn);
  return decoder.use((m, messages) => {
    let result;
    try {
      // The second argument (jSquash's misleadingly named `preserveOrientation`) would rotate by EXIF:
      // false gives the stored pixels, and imgpipe's own orient step handles every format alike.
      result = m.decode(bytes, false);
    } catch (e) {
      throw new ImgpipeError('CORRUPT_IMAGE', `Expected a decodable JPEG but the decoder failed: ${codecMessage(e, messages)}`, { cause: e });
    }
    const damage = failOn === 'none' ? undefined : messages.find((msg) => (failOn === 'warning' ? DAMAGE : TRUNCATION).test(msg));
    if (!result || damage) {
      throw new ImgpipeError('CORRUPT_IMAGE', `Expected a decodable JPEG but the decoder reported: ${damage ?? codecMessage(undefined, messages)}`);
    }
    if (result.width !== header.width || result.height !== header.height) {
      throw new ImgpipeError('CORRUPT_IMAGE', `Expected ${header.width}x${header.height} pixels as the JPEG header declares but decoded ${result.width}x${result.height}`);
    }
    return asImage(result.width, result.height, result.data);
  }, bytes.byteLength + header.width * header.height * 8);
}

/**
 * 4-component JPEGs (Adobe CMYK/YCCK). jpeg-js converts YCCK→CMYK and inverts Adobe's inverted CMYK;
 * its `formatAsRGBA` then converts CMYK→RGB naively (no ICC profile: colours are close, not colour-managed).
 */
async function decodeCmyk(bytes: Uint8Array, header: ImageHeader, failOn: FailOn): Promise<RGBAImage> {
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
