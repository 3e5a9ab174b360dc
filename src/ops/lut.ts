/** Apply a per-channel curve to R, G and B through a 256-entry table (alpha untouched). */
import type { RGBAImage } from '../image.js';

export function applyLut(image: RGBAImage, curve: (v: number) => number): RGBAImage {
  const lut = new Uint8ClampedArray(256);
  for (let v = 0; v < 256; v++) lut[v] = Math.round(curve(v));
  const src = image.data;
  const out = new Uint8ClampedArray(src.length);
  for (let i = 0; i < src.length; i += 4) {
    out[i] = lut[src[i]]; out[i + 1] = lut[src[i + 1]]; out[i + 2] = lut[src[i + 2]]; out[i + 3] = src[i + 3];
  }
  return { width: image.width, height: image.height, data: out };
}
