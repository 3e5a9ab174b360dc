/**
 * Structural comparison for the kernel tests and the kernel benchmark (the shared helpers in
 * test/helpers/compare.ts give the mean colour distance): SSIM and the largest channel difference.
 */
import type { RGBAImage } from '../../src/image.js';

/** BT.601 luma of every pixel, composited over a grey background so alpha differences count. */
function luma(image: RGBAImage): Float64Array {
  const d = image.data;
  const out = new Float64Array(image.width * image.height);
  for (let i = 0, p = 0; i < out.length; i++, p += 4) {
    const a = d[p + 3] / 255;
    const y = 0.299 * d[p] + 0.587 * d[p + 1] + 0.114 * d[p + 2];
    out[i] = y * a + 128 * (1 - a);
  }
  return out;
}

function sameSize(a: RGBAImage, b: RGBAImage): void {
  if (a.width !== b.width || a.height !== b.height) {
    throw new Error(`Expected images of the same size but received ${a.width}x${a.height} and ${b.width}x${b.height}`);
  }
}

/**
 * Mean SSIM of the luma planes over 8x8 windows stepped by 4 pixels (Wang et al. 2004 constants
 * for 8-bit data). Images smaller than one window are compared as a single window.
 */
export function ssim(a: RGBAImage, b: RGBAImage): number {
  sameSize(a, b);
  const { width, height } = a;
  const la = luma(a);
  const lb = luma(b);
  const c1 = (0.01 * 255) ** 2;
  const c2 = (0.03 * 255) ** 2;
  const win = Math.min(8, width, height);
  let total = 0;
  let count = 0;
  for (let y0 = 0; y0 + win <= height; y0 += Math.max(1, win >> 1)) {
    for (let x0 = 0; x0 + win <= width; x0 += Math.max(1, win >> 1)) {
      let sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0;
      for (let y = y0; y < y0 + win; y++) {
        for (let x = x0; x < x0 + win; x++) {
          const va = la[y * width + x];
          const vb = lb[y * width + x];
          sa += va; sb += vb; saa += va * va; sbb += vb * vb; sab += va * vb;
        }
      }
      const n = win * win;
      const ma = sa / n, mb = sb / n;
      const va = saa / n - ma * ma, vb = sbb / n - mb * mb, cov = sab / n - ma * mb;
      total += ((2 * ma * mb + c1) * (2 * cov + c2)) / ((ma * ma + mb * mb + c1) * (va + vb + c2));
      count++;
    }
  }
  return total / count;
}

/** Largest absolute difference of any channel value. */
export function maxAbsDiff(a: RGBAImage, b: RGBAImage): number {
  sameSize(a, b);
  let max = 0;
  for (let i = 0; i < a.data.length; i++) max = Math.max(max, Math.abs(a.data[i] - b.data[i]));
  return max;
}
