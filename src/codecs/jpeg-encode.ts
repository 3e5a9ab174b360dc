/** JPEG encoding through MozJPEG (WASM). */
import mozjpegEnc from '@jsquash/jpeg/codec/enc/mozjpeg_enc.js';
import { ImgpipeError } from '../errors.js';
import type { RGBAImage } from '../image.js';
import { EmscriptenCodec, codecMessage, ownBytes } from './instance.js';

interface EncModule { encode(data: Uint8ClampedArray, width: number, height: number, options: object): Uint8Array }

const encoder = new EmscriptenCodec<EncModule>('mozjpeg_enc', mozjpegEnc as never);

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
