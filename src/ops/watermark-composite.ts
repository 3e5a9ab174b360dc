/**
 * Porter-Duff "source over" on unpremultiplied RGBA, clipped to the destination.
 *
 * Watermarks land on opaque photos most of the time, so that case takes a short path (plain
 * lerp, exact at both ends). On a transparent destination the colours are weighted by their alphas
 * (the premultiplied form of "over", converted back): mixing unpremultiplied colours directly would
 * pull the watermark's antialiased edges towards whatever colour the transparent pixels happen to
 * store (usually black) and leave dark fringes.
 */
import type { RGBAImage } from '../image.js';

/**
 * Draw `src` over `dst` with its top-left corner at (x, y), scaling `src`'s alpha by `opacity`
 * (0..1). `dst` is modified in place; pixels outside the overlap are untouched.
 */
export function compositeOver(dst: RGBAImage, src: RGBAImage, x: number, y: number, opacity: number): void {
  if (opacity <= 0) return;
  const x0 = Math.max(0, x), y0 = Math.max(0, y);
  const x1 = Math.min(dst.width, x + src.width), y1 = Math.min(dst.height, y + src.height);
  if (x0 >= x1 || y0 >= y1) return;
  const d = dst.data, s = src.data;
  // Opacity as a 0..256 multiplier keeps the opaque path in integers; 256 means exactly 1.
  const k = Math.round(opacity * 256);
  for (let row = y0; row < y1; row++) {
    let di = (row * dst.width + x0) * 4;
    let si = ((row - y) * src.width + (x0 - x)) * 4;
    for (let col = x0; col < x1; col++, di += 4, si += 4) {
      const sa = (s[si + 3] * k) >> 8; // 0..255
      if (sa === 0) continue;
      const da = d[di + 3];
      if (sa === 255) {
        d[di] = s[si];
        d[di + 1] = s[si + 1];
        d[di + 2] = s[si + 2];
        d[di + 3] = 255;
      } else if (da === 255) {
        // dst + (src − dst)·a, rounded: Uint8ClampedArray rounds half to even on store.
        const a = sa / 255;
        d[di] = d[di] + (s[si] - d[di]) * a;
        d[di + 1] = d[di + 1] + (s[si + 1] - d[di + 1]) * a;
        d[di + 2] = d[di + 2] + (s[si + 2] - d[di + 2]) * a;
      } else {
        const a = sa / 255, b = (da / 255) * (1 - a);
        const out = a + b;
        d[di] = (s[si] * a + d[di] * b) / out;
        d[di + 1] = (s[si + 1] * a + d[di + 1] * b) / out;
        d[di + 2] = (s[si + 2] * a + d[di + 2] * b) / out;
        d[di + 3] = out * 255;
      }
    }
  }
}
