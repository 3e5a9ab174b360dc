/** JPEG through MozJPEG (WASM); CMYK/YCCK through jpeg-js, because MozJPEG's build exits on them. */
import mozjpegDec from '@jsquash/jpeg/codec/dec/mozjpeg_dec.js';
import mozjpegEnc from '@jsquash/jpeg/codec/enc/mozjpeg_enc.js';
import jpegJs from 'jpeg-js';
import { ImgpipeError } from '../errors.js';
import { asImage, type RGBAImage } from '../image.js';
import type { ImageHeader } from '../header.js';
import { EmscriptenCodec, codecMessage, ownBytes } from './instance.js';

interface DecModule { decode(data: Uint8Array, preserveOrientation: boolean): { data: Uint8ClampedArray; width: number; height: number } | null }
interface EncModule { encode(data: Uint8ClampedArray, width: number, height: number, options: object): Uint8Array }

const decoder = new EmscriptenCodec<DecModule>('mozjpeg_dec', mozjpegDec as never);
const encoder = new EmscriptenCodec<EncModule>('mozjpeg_enc', mozjpegEnc as never);

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

export interface JpegEncodeOptions {
  quality: number;
  progressive: boolean;
}

export async function encodeJpeg(image: RGBAImage, o: JpegEncodeOptions): Promise<Uint8Array> {
  return encoder.use((m, messages) => {
    try {
      // sharp/libvips defaults: standard (Annex K) tables, 4:2:0, optimised Huffman, no trellis.
      const out = m.encode(image.data, image.width, image.height, {
        quality: o.quality,
        baseline: false,
        arithmetic: false,
        progressive: o.progressive,
        optimize_coding: true,
        smoothing: 0,
        color_space: 3,
        quant_table: 0,
        trellis_multipass: false,
        trellis_opt_zero: false,
        trellis_opt_table: false,
        trellis_loops: 1,
        auto_subsample: false,
        chroma_subsample: 2,
        separate_chroma_quality: false,
        chroma_quality: o.quality,
      });
      return ownBytes(out);
    } catch (e) {
      throw new ImgpipeError('INTERNAL', `JPEG encoding failed: ${codecMessage(e, messages)}`, { cause: e });
    }
  });
}
