import { describe, expect, it } from 'vitest';
import '../../entries/node.js';
import { kernel } from '../../src/kernels/module.js';
import { TILE } from '../../src/ops/blindmark/pattern.js';
import { fold, openReader, readerBytes } from '../../src/ops/blindmark/signal.js';

/** A seeded sequence in [-1, 1). */
const noise = (n: number, seed: number): Float64Array => {
  let s = seed >>> 0;
  return Float64Array.from({ length: n }, () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return s / 2 ** 31 - 1; });
};

describe('blind watermark extraction kernel', () => {
  it('blindFft is the 2-D DFT, spectrum transposed, and its inverse brings the array back n times over', async () => {
    const w = 16, h = 8, re = noise(w * h, 1), im = noise(w * h, 2);
    await kernel.use((k) => {
      k.reset();
      const rd = openReader(k, new Float32Array(TILE * TILE), TILE, TILE);
      rd.re.set(re); rd.im.set(im);
      k.blindFft(w, h, 0);
      // the spectrum is h wide and w high: frequency (u, v) is at row u, column v
      for (const [u, v] of [[0, 0], [1, 0], [0, 1], [5, 3], [15, 7], [8, 4]]) {
        let sr = 0, si = 0;
        for (let y = 0; y < h; y++) {
          for (let x = 0; x < w; x++) {
            const a = -2 * Math.PI * (u * x / w + v * y / h), c = Math.cos(a), s = Math.sin(a);
            sr += re[y * w + x] * c - im[y * w + x] * s; si += re[y * w + x] * s + im[y * w + x] * c;
          }
        }
        expect(rd.re[u * h + v]).toBeCloseTo(sr, 9);
        expect(rd.im[u * h + v]).toBeCloseTo(si, 9);
      }
      k.blindFft(h, w, 1);
      for (let i = 0; i < w * h; i++) {
        expect(rd.re[i] / (w * h)).toBeCloseTo(re[i], 12);
        expect(rd.im[i] / (w * h)).toBeCloseTo(im[i], 12);
      }
      k.reset();
    }, readerBytes(TILE, TILE));
  });

  it('blindFold averages every pixel of the rectangle onto its tile position under the scale and rotation', async () => {
    const w = 300, h = 200, r = Float32Array.from(noise(w * h, 3));
    const g = { scale: 0.8, angle: 0.05 }, rect = { x0: 20, y0: 10, w: 250, h: 170 };
    // the same mapping written plainly: centre-relative coordinates rotated back, over the scale, rounded down
    const sum = new Float64Array(TILE * TILE), count = new Float64Array(TILE * TILE);
    const c = Math.cos(g.angle) / g.scale, s = Math.sin(g.angle) / g.scale;
    for (let y = rect.y0; y < rect.y0 + rect.h; y++) {
      for (let x = rect.x0; x < rect.x0 + rect.w; x++) {
        const dx = x - w / 2, dy = y - h / 2;
        const u = Math.floor(c * dx + s * dy + 0.5), v = Math.floor(-s * dx + c * dy + 0.5);
        const bin = (((v % TILE) + TILE) % TILE) * TILE + (((u % TILE) + TILE) % TILE);
        sum[bin] += r[y * w + x]; count[bin]++;
      }
    }
    const folded = await kernel.use((k) => {
      k.reset();
      const out = fold(openReader(k, r, w, h), g, rect);
      k.reset();
      return out;
    }, readerBytes(w, h));
    let differing = 0;
    for (let i = 0; i < TILE * TILE; i++) {
      const want = count[i] ? sum[i] / count[i] : 0;
      if (Math.abs(folded[i] - want) > 1e-6) differing++;
    }
    // the kernel steps u and v incrementally along a row, so a pixel within rounding of a bin edge may land
    // on the neighbouring bin: allow a handful of bins out of 16384
    expect(differing).toBeLessThan(50);
    expect(folded.some((v) => v !== 0)).toBe(true);
  });
});
