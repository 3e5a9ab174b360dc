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

/**
 * The Gaussian blur (and sharpen's unsharp mask) in plain double precision, the passes imgpipe ran in
 * JavaScript before the f32 SIMD kernel: premultiplied alpha, edges repeated, horizontal then
 * vertical, results rounded as a Uint8ClampedArray rounds. `amount` > 0 gives the unsharp mask.
 */
export function referenceGaussian(image: RGBAImage, radius: number, sigma: number, amount = 0): RGBAImage {
  const { width: w, height: h } = image;
  const k: number[] = [];
  for (let i = -radius; i <= radius; i++) k.push(Math.exp(-(i * i) / (2 * sigma * sigma)));
  const total = k.reduce((a, b) => a + b, 0);
  const weights = k.map((v) => v / total);
  const pre = new Float64Array(w * h * 4);
  for (let i = 0; i < pre.length; i += 4) {
    const a = image.data[i + 3] / 255;
    for (let c = 0; c < 3; c++) pre[i + c] = image.data[i + c] * a;
    pre[i + 3] = image.data[i + 3];
  }
  const pass = (src: Float64Array, horizontal: boolean): Float64Array => {
    const out = new Float64Array(src.length);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        for (let t = -radius; t <= radius; t++) {
          const sx = horizontal ? Math.min(w - 1, Math.max(0, x + t)) : x;
          const sy = horizontal ? y : Math.min(h - 1, Math.max(0, y + t));
          for (let c = 0; c < 4; c++) out[(y * w + x) * 4 + c] += src[(sy * w + sx) * 4 + c] * weights[t + radius];
        }
      }
    }
    return out;
  };
  const blurred = pass(pass(pre, true), false);
  const soft = new Uint8ClampedArray(blurred.length);
  for (let i = 0; i < soft.length; i += 4) {
    const a = blurred[i + 3];
    if (a <= 0) continue;
    for (let c = 0; c < 3; c++) soft[i + c] = blurred[i + c] * (255 / a);
    soft[i + 3] = a;
  }
  if (amount === 0) return { width: w, height: h, data: soft };
  const out = new Uint8ClampedArray(soft.length);
  for (let i = 0; i < out.length; i += 4) {
    for (let c = 0; c < 3; c++) out[i + c] = image.data[i + c] + (image.data[i + c] - soft[i + c]) * amount;
    out[i + 3] = image.data[i + 3];
  }
  return { width: w, height: h, data: out };
}
