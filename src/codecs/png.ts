/** PNG through the Rust `png` crate (WASM, wasm-bindgen). */
import initPng, { decode as pngDecode, encode as pngEncode } from '@jsquash/png/codec/pkg/squoosh_png.js';
import { ImgpipeError } from '../errors.js';
import { asImage, type RGBAImage } from '../image.js';
import type { ImageHeader } from '../header.js';
import { getWasmModule } from '../wasm.js';
import { codecMessage, ownBytes } from './instance.js';

let ready: Promise<unknown> | undefined;
function load(): Promise<unknown> {
  ready ??= getWasmModule('png').then((m) => initPng(m));
  ready.catch(() => (ready = undefined));
  return ready;
}

export async function decodePng(bytes: Uint8Array, header: ImageHeader): Promise<RGBAImage> {
  await load();
  let out: { data: Uint8ClampedArray; width: number; height: number } | undefined;
  try {
    // Every bit depth, palette and grey(+alpha) comes out as 8-bit RGBA.
    out = pngDecode(bytes) as unknown as typeof out;
  } catch (e) {
    throw new ImgpipeError('CORRUPT_IMAGE', `Expected a decodable PNG but the decoder failed: ${codecMessage(e)}`, { cause: e });
  }
  if (!out || out.width !== header.width || out.height !== header.height) {
    throw new ImgpipeError('CORRUPT_IMAGE', `Expected ${header.width}x${header.height} pixels as the PNG header declares but the decoder returned ${out ? `${out.width}x${out.height}` : 'nothing'}`);
  }
  return asImage(out.width, out.height, out.data);
}

export async function encodePng(image: RGBAImage): Promise<Uint8Array> {
  await load();
  try {
    const data = new Uint8Array(image.data.buffer, image.data.byteOffset, image.data.byteLength);
    return ownBytes(pngEncode(data, image.width, image.height, 8));
  } catch (e) {
    throw new ImgpipeError('INTERNAL', `PNG encoding failed: ${codecMessage(e)}`, { cause: e });
  }
}
