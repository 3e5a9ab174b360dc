/**
 * Structural similarity (Wang, Bovik, Sheikh & Simoncelli 2004) as the benchmark's quality figure:
 * an 11x11 Gaussian window (sigma 1.5), K1 = 0.01, K2 = 0.03, L = 255, computed on luma over the
 * "valid" region only (no padding), averaged into one mean SSIM. These are the paper's and MATLAB's
 * `ssim_index` settings, so figures are comparable with published ones and with ssim.js's "original"
 * mode (the test checks that). The window is separable, so five planes are filtered with two 1-D
 * passes each instead of one 2-D pass: ~10x less work on a 1200-px output.
 */

/** Pixels as the benchmark decodes them: interleaved 8-bit channels (1 = grey, 3 = RGB, 4 = RGBA). */
export interface PixelBuffer {
  readonly width: number;
  readonly height: number;
  readonly channels: 1 | 2 | 3 | 4;
  readonly data: Uint8Array | Uint8ClampedArray;
}

export interface SsimOptions {
  /** Window side, odd. Default 11. */
  readonly windowSize?: number;
  /** Gaussian sigma. Default 1.5. */
  readonly sigma?: number;
  readonly k1?: number;
  readonly k2?: number;
}

const DEFAULTS = Object.freeze({ windowSize: 11, sigma: 1.5, k1: 0.01, k2: 0.03 });

/**
 * Luma with Rec.601 weights (what MATLAB's rgb2gray uses), kept in float so no rounding is added on
 * top of the codecs' own. Alpha, if present, is ignored: every benchmark output is opaque.
 */
export function luma(image: PixelBuffer): Float32Array {
  const { width, height, channels, data } = image;
  if (data.length < width * height * channels) {
    throw new RangeError(`Expected ${width * height * channels} bytes for ${width}x${height}x${channels} but received ${data.length}`);
  }
  const out = new Float32Array(width * height);
  if (channels <= 2) {
    for (let i = 0, j = 0; i < out.length; i++, j += channels) out[i] = data[j];
    return out;
  }
  for (let i = 0, j = 0; i < out.length; i++, j += channels) {
    out[i] = 0.299 * data[j] + 0.587 * data[j + 1] + 0.114 * data[j + 2];
  }
  return out;
}

/** Normalised 1-D Gaussian taps. The 2-D window is their outer product, which also sums to 1. */
export function gaussianKernel(size: number, sigma: number): Float64Array {
  if (!Number.isInteger(size) || size < 1 || size % 2 === 0) {
    throw new RangeError(`Expected an odd positive window size but received ${size}`);
  }
  const k = new Float64Array(size);
  const r = (size - 1) / 2;
  let sum = 0;
  for (let i = 0; i < size; i++) {
    k[i] = Math.exp(-((i - r) ** 2) / (2 * sigma * sigma));
    sum += k[i];
  }
  for (let i = 0; i < size; i++) k[i] /= sum;
  return k;
}

/** Separable "valid" correlation: output is (w - n + 1) x (h - n + 1). */
function filterValid(src: Float64Array, w: number, h: number, k: Float64Array): Float64Array {
  const n = k.length;
  const ow = w - n + 1, oh = h - n + 1;
  const tmp = new Float64Array(ow * h);
  for (let y = 0; y < h; y++) {
    const row = y * w;
    for (let x = 0; x < ow; x++) {
      let s = 0;
      for (let i = 0; i < n; i++) s += k[i] * src[row + x + i];
      tmp[y * ow + x] = s;
    }
  }
  const out = new Float64Array(ow * oh);
  for (let y = 0; y < oh; y++) {
    for (let x = 0; x < ow; x++) {
      let s = 0;
      for (let i = 0; i < n; i++) s += k[i] * tmp[(y + i) * ow + x];
      out[y * ow + x] = s;
    }
  }
  return out;
}

/** Mean SSIM of two same-sized luma planes. 1 means identical; photographs at q80+ score ~0.95-0.99. */
export function ssimLuma(a: Float32Array, b: Float32Array, width: number, height: number, options: SsimOptions = {}): number {
  const { windowSize, sigma, k1, k2 } = { ...DEFAULTS, ...options };
  if (a.length !== width * height || b.length !== width * height) {
    throw new RangeError(`Expected two planes of ${width}x${height} but received ${a.length} and ${b.length} values`);
  }
  if (width < windowSize || height < windowSize) {
    throw new RangeError(`Expected an image of at least ${windowSize}x${windowSize} but received ${width}x${height}`);
  }
  const k = gaussianKernel(windowSize, sigma);
  const n = width * height;
  const fa = new Float64Array(n), fb = new Float64Array(n);
  const aa = new Float64Array(n), bb = new Float64Array(n), ab = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const x = a[i], y = b[i];
    fa[i] = x; fb[i] = y; aa[i] = x * x; bb[i] = y * y; ab[i] = x * y;
  }
  const mu1 = filterValid(fa, width, height, k);
  const mu2 = filterValid(fb, width, height, k);
  const s11 = filterValid(aa, width, height, k);
  const s22 = filterValid(bb, width, height, k);
  const s12 = filterValid(ab, width, height, k);
  const c1 = (k1 * 255) ** 2, c2 = (k2 * 255) ** 2;
  let total = 0;
  for (let i = 0; i < mu1.length; i++) {
    const m1 = mu1[i], m2 = mu2[i];
    const m11 = m1 * m1, m22 = m2 * m2, m12 = m1 * m2;
    const v1 = s11[i] - m11, v2 = s22[i] - m22, cov = s12[i] - m12;
    total += ((2 * m12 + c1) * (2 * cov + c2)) / ((m11 + m22 + c1) * (v1 + v2 + c2));
  }
  return total / mu1.length;
}

/** Mean SSIM on the luma of two decoded images of the same size. */
export function ssim(reference: PixelBuffer, candidate: PixelBuffer, options?: SsimOptions): number {
  if (reference.width !== candidate.width || reference.height !== candidate.height) {
    throw new RangeError(
      `Expected images of the same size but received ${reference.width}x${reference.height} and ${candidate.width}x${candidate.height}`,
    );
  }
  return ssimLuma(luma(reference), luma(candidate), reference.width, reference.height, options);
}

/**
 * Luma PSNR (Rec.601 weights, peak 255) between two RGBA images of the same size: the blind watermark
 * benchmarks' measure of what the mark costs.
 */
export function lumaPsnr(a: { readonly data: Uint8ClampedArray }, b: { readonly data: Uint8ClampedArray }): number {
  let se = 0;
  for (let p = 0; p < a.data.length; p += 4) {
    const d = 0.299 * (a.data[p] - b.data[p]) + 0.587 * (a.data[p + 1] - b.data[p + 1]) + 0.114 * (a.data[p + 2] - b.data[p + 2]);
    se += d * d;
  }
  return 10 * Math.log10((255 * 255) / (se / (a.data.length / 4)));
}
