/** JPEG decoding through MozJPEG (WASM); CMYK/YCCK through jpeg-js, because MozJPEG's build exits on them. */
import mozjpegDec from '@jsquash/jpeg/codec/dec/mozjpeg_dec.js';
import jpegJs from 'jpeg-js';
import { ImgpipeError } from '../errors.js';
import { asImage, type RGBAImage } from '../image.js';
import type { ImageHeader } from '../header.js';
import { EmscriptenCodec, codecMessage } from './instance.js';

interface DecModule { decode(data: Uint8Array, preserveOrientation: boolean): { data: Uint8ClampedArray; width: number; height: number } | null }

const decoder = new EmscriptenCodec<DecModule>('mozjpeg_dec', mozjpegDec as never);

/**
 * libjpeg reports damage as warnings and decodes on (grey blocks where data is missing). Like sharp's
 * default (`failOn: 'warning'`), imgpipe refuses such a file rather than publish a broken variant.
 */
const DAMAGE = /corrupt|premature|bogus|invalid|unsupported|wrong/i;

export async function decodeJpeg(bytes: Uint8Array, header: ImageHeader): Promise<RGBAImage> {
  if (header.components === 4) return decodeCmyk(bytes, header);
  return decoder.use((m, messages) => {
    let result;
    try {
      // The second argument (jSquash's misleadingly named `preserveOrientation`) would rotate by EXIF:
      // false gives the stored pixels, and imgpipe's own orient step handles every format alike.
      result = m.decode(bytes, false);
    } catch (e) {
      throw new ImgpipeError('CORRUPT_IMAGE', `Expected a decodable JPEG but the decoder failed: ${codecMessage(e, messages)}`, { cause: e });
    }
    const damage = messages.find((msg) => DAMAGE.test(msg));
    if (!result || damage) {
      throw new ImgpipeError('CORRUPT_IMAGE', `Expected a decodable JPEG but the decoder reported: ${damage ?? codecMessage(undefined, messages)}`);
    }
    if (result.width !== header.width || result.height !== header.height) {
      throw new ImgpipeError('CORRUPT_IMAGE', `Expected ${header.width}x${header.height} pixels as the JPEG header declares but decoded ${result.width}x${result.height}`);
    }
    return asImage(result.width, result.height, result.data);
  });
}

/**
 * 4-component JPEGs (Adobe CMYK/YCCK). jpeg-js converts YCCK→CMYK and inverts Adobe's inverted CMYK;
 * we then convert CMYK→RGB naively (no ICC profile: colours are close, not colour-managed).
 */
function decodeCmyk(bytes: Uint8Array, header: ImageHeader): RGBAImage {
  try {
    const out = jpegJs.decode(bytes, {
      useTArray: true,
      formatAsRGBA: true,
      tolerantDecoding: false,
      maxResolutionInMP: Math.ceil((header.width * header.height) / 1e6) + 1,
      maxMemoryUsageInMB: 2048,
    });
    return asImage(out.width, out.height, out.data);
  } catch (e) {
    throw new ImgpipeError('CORRUPT_IMAGE', `Expected a decodable CMYK JPEG but the decoder failed: ${codecMessage(e)}`, { cause: e });
  }
}
