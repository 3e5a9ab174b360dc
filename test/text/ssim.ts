/**
 * Structural similarity (Wang et al. 2004) of two equally sized greyscale images, the mean of SSIM
 * over 8×8 windows with stride 4, constants for 8-bit data (K1 = 0.01, K2 = 0.03).
 */
export function ssim(a: Uint8Array, b: Uint8Array, width: number, height: number): number {
  const C1 = (0.01 * 255) ** 2, C2 = (0.03 * 255) ** 2, W = 8, STEP = 4;
  let total = 0, windows = 0;
  for (let y = 0; y + W <= height; y += STEP) {
    for (let x = 0; x + W <= width; x += STEP) {
      let sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0;
      for (let j = 0; j < W; j++) {
        for (let i = 0; i < W; i++) {
          const p = a[(y + j) * width + x + i], q = b[(y + j) * width + x + i];
          sa += p; sb += q; saa += p * p; sbb += q * q; sab += p * q;
        }
      }
      const n = W * W, ma = sa / n, mb = sb / n;
      const va = saa / n - ma * ma, vb = sbb / n - mb * mb, cov = sab / n - ma * mb;
      total += ((2 * ma * mb + C1) * (2 * cov + C2)) / ((ma * ma + mb * mb + C1) * (va + vb + C2));
      windows++;
    }
  }
  return total / windows;
}

/** Crop a coverage bitmap to its ink (values above `threshold`) and place it top-left on a w×h canvas. */
export function inkCrop(data: Uint8Array, width: number, height: number, w: number, h: number, threshold = 0): Uint8Array {
  let x0 = width, y0 = height, x1 = -1, y1 = -1;
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) {
    if (data[y * width + x] > threshold) { x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y); }
  }
  const out = new Uint8Array(w * h);
  for (let y = y0; y <= y1 && y - y0 < h; y++) for (let x = x0; x <= x1 && x - x0 < w; x++) out[(y - y0) * w + x - x0] = data[y * width + x];
  return out;
}

/** Width and height of the ink (values above `threshold`). */
export function inkSize(data: Uint8Array, width: number, height: number, threshold = 0): { width: number; height: number } {
  let x0 = width, y0 = height, x1 = -1, y1 = -1;
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) {
    if (data[y * width + x] > threshold) { x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y); }
  }
  return { width: x1 - x0 + 1, height: y1 - y0 + 1 };
}

/**
 * Best SSIM over whole-pixel shifts of `b` by up to `radius` in each direction. A hinting renderer
 * snaps the baseline and stem heights to whole pixels, which can move its ink box by one pixel
 * relative to an unhinted one; the structure is what is compared, not that offset.
 */
export function alignedSsim(a: Uint8Array, b: Uint8Array, width: number, height: number, radius = 1): number {
  let best = -1;
  for (let dy = -radius; dy <= radius; dy++) for (let dx = -radius; dx <= radius; dx++) {
    const shifted = new Uint8Array(width * height);
    for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) {
      const sx = x - dx, sy = y - dy;
      if (sx >= 0 && sy >= 0 && sx < width && sy < height) shifted[y * width + x] = b[sy * width + sx];
    }
    best = Math.max(best, ssim(a, shifted, width, height));
  }
  return best;
}
