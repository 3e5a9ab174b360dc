/** WebP through libwebp (WASM). */
import webpDec from '@jsquash/webp/codec/dec/webp_dec.js';
import webpEnc from '@jsquash/webp/codec/enc/webp_enc_simd.js';
import { defaultOptions as webpDefaults } from '@jsquash/webp/meta.js';
import { ImgpipeError } from '../errors.js';
import { asImage, createImage, type RGBAImage } from '../image.js';
import type { ImageHeader } from '../header.js';
import { EmscriptenCodec, codecMessage, ownBytes } from './instance.js';

interface DecModule { decode(data: Uint8Array): { data: Uint8ClampedArray; width: number; height: number } | null }
interface EncModule { encode(data: Uint8ClampedArray, width: number, height: number, options: object): Uint8Array | null }

const decoder = new EmscriptenCodec<DecModule>('webp_dec', webpDec as never);
const encoder = new EmscriptenCodec<EncModule>('webp_enc', webpEnc as never);

export async function decodeWebp(bytes: Uint8Array, header: ImageHeader): Promise<RGBAImage> {
  // libwebp's simple decoder refuses animations: decode the first frame on its own instead.
  const frame = header.frames > 1 ? firstFrame(bytes) : undefined;
  const out = await decoder.use((m, messages) => {
    try {
      return m.decode(frame ? frame.file : bytes);
    } catch (e) {
      throw new ImgpipeError('CORRUPT_IMAGE', `Expected a decodable WebP but the decoder failed: ${codecMessage(e, messages)}`, { cause: e });
    }
  }, bytes.byteLength + header.width * header.height * 8);
  if (!out) throw new ImgpipeError('CORRUPT_IMAGE', 'Expected a decodable WebP but the decoder rejected the data');
  const image = asImage(out.width, out.height, out.data);
  if (!frame) {
    if (out.width !== header.width || out.height !== header.height) {
      throw new ImgpipeError('CORRUPT_IMAGE', `Expected ${header.width}x${header.height} pixels as the WebP header declares but decoded ${out.width}x${out.height}`);
    }
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

export interface WebpEncodeOptions {
  quality: number;
  lossless: boolean;
}

/** The WebP bitstream stores each side in 14 bits. */
export const WEBP_MAX_SIDE = 16383;

export async function encodeWebp(image: RGBAImage, o: WebpEncodeOptions): Promise<Uint8Array> {
  // libwebp refuses larger pictures without a message; say which limit was hit, and that it is the
  // image's size (not a bug) that stops it.
  if (image.width > WEBP_MAX_SIDE || image.height > WEBP_MAX_SIDE) {
    throw new ImgpipeError('IMAGE_TOO_LARGE', `Expected each side of a WebP output to be at most ${WEBP_MAX_SIDE} px but the image is ${image.width}x${image.height}`, {
      details: { limit: 'webpMaxSide', max: WEBP_MAX_SIDE, width: image.width, height: image.height },
    });
  }
  return encoder.use((m, messages) => {
    let out: Uint8Array | null;
    try {
      // method 4 is libwebp's (and sharp's) default effort.
      out = m.encode(image.data, image.width, image.height, { ...webpDefaults, quality: o.quality, lossless: o.lossless ? 1 : 0, method: 4 });
    } catch (e) {
      throw new ImgpipeError('INTERNAL', `WebP encoding failed: ${codecMessage(e, messages)}`, { cause: e });
    }
    if (!out) throw new ImgpipeError('INTERNAL', `WebP encoding failed: ${codecMessage(undefined, messages)}`);
    return ownBytes(out);
  }, image.width * image.height * 12);
}
