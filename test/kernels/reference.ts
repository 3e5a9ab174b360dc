/**
 * A plain floating-point Lanczos3 resize, written for clarity rather than speed, that the SIMD
 * fixed-point kernel is checked against where sharp is not a like-for-like reference (upscaling,
 * where libvips switches to a bicubic affine; linear light). Same conventions as the kernel:
 * pixel centres at +0.5, edges repeated, alpha premultiplied, the filter stretched by the scale
 * when shrinking. No box pre-shrink, so compare only reductions below 4x.
 */
import type { RGBAImage } from '../../src/image.js';

const sinc = (x: number): number => (x === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x));
const lanczos3 = (x: number): number => (Math.abs(x) < 3 ? sinc(x) * sinc(x / 3) : 0);

export const srgbToLinear = (s: number): number => (s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4);
const linearToSrgb = (l: number): number => (l <= 0.0031308 ? l * 12.92 : 1.055 * l ** (1 / 2.4) - 0.055);

/** Resample one axis of a float RGBA plane (premultiplied or not, the filter doesn't care). */
function axis(src: Float64Array, sw: number, sh: number, dw: number, dh: number, horizontal: boolean): Float64Array {
  const inSize = horizontal ? sw : sh;
  const outSize = horizontal ? dw : dh;
  const scale = inSize / outSize;
  const stretch = Math.max(scale, 1);
  const out = new Float64Array(dw * dh * 4);
  for (let o = 0; o < outSize; o++) {
    const centre = (o + 0.5) * scale - 0.5;
    const taps: [number, number][] = [];
    let sum = 0;
    for (let j = Math.ceil(centre - 3 * stretch); j <= Math.floor(centre + 3 * stretch); j++) {
      const w = lanczos3((j - centre) / stretch);
      taps.push([Math.min(Math.max(j, 0), inSize - 1), w]);
      sum += w;
    }
    const lines = horizontal ? dh : dw;
    for (let l = 0; l < lines; l++) {
      for (let c = 0; c < 4; c++) {
        let acc = 0;
        for (const [j, w] of taps) acc += w * src[((horizontal ? l * sw + j : j * sw + l) * 4) + c];
        out[((horizontal ? l * dw + o : o * dw + l) * 4) + c] = acc / sum;
      }
    }
  }
  return out;
}

export function referenceResize(image: RGBAImage, width: number, height: number, opts: { linear?: boolean } = {}): RGBAImage {
  const { width: sw, height: sh, data } = image;
  const plane = new Float64Array(sw * sh * 4);
  for (let i = 0; i < sw * sh; i++) {
    const a = data[i * 4 + 3] / 255;
    for (let c = 0; c < 3; c++) {
      const v = data[i * 4 + c] / 255;
      plane[i * 4 + c] = (opts.linear ? srgbToLinear(v) : v) * a;
    }
    plane[i * 4 + 3] = a;
  }
  const mid = axis(plane, sw, sh, width, sh, true);
  const res = axis(mid, width, sh, width, height, false);
  const out = new Uint8ClampedArray(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    const a = Math.min(Math.max(res[i * 4 + 3], 0), 1);
    const a8 = Math.round(a * 255);
    if (a8 === 0) continue;
    for (let c = 0; c < 3; c++) {
      const v = Math.min(Math.max(res[i * 4 + c] / a, 0), 1);
      out[i * 4 + c] = Math.round((opts.linear ? linearToSrgb(v) : v) * 255);
    }
    out[i * 4 + 3] = a8;
  }
  return { width, height, data: out };
}
