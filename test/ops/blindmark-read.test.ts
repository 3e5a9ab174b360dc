import { describe, expect, it } from 'vitest';
import '../../entries/node.js';
import { kernel } from '../../src/kernels/module.js';
import { TILE } from '../../src/ops/blindmark/pattern.js';
import { readFileSync } from 'node:fs';
import { decode } from '../../src/decode.js';
import type { RGBAImage } from '../../src/image.js';
import { estimateLattice, fold, openReader, readerBytes, readImage, whiten, whitenHalf, whiteningRadii, WIDE_WHITENING, type Radii } from '../../src/ops/blindmark/signal.js';
import { rejection } from '../helpers/errors.js';

// The whitening as it was written in TypeScript before it moved to the kernel: the reference the kernel
// must equal bit for bit (same f64 arithmetic, same summation order), so extraction results never change.
function refLuma(image: RGBAImage): Float32Array {
  const d = image.data, n = image.width * image.height, y = new Float32Array(n);
  for (let i = 0, p = 0; i < n; i++, p += 4) y[i] = 0.299 * d[p] + 0.587 * d[p + 1] + 0.114 * d[p + 2];
  return y;
}
function refBoxMean(src: Float32Array, w: number, h: number, r: number): Float32Array {
  const tmp = new Float32Array(w * h), out = new Float32Array(w * h), k = 1 / (2 * r + 1);
  const line = new Float64Array(w + 2 * r + 1);
  for (let y = 0; y < h; y++) {
    const base = y * w, first = src[base], last = src[base + w - 1];
    for (let i = 0; i < r; i++) { line[i] = first; line[w + r + i] = last; }
    for (let i = 0; i < w; i++) line[r + i] = src[base + i];
    let sum = 0;
    for (let i = 0; i < 2 * r; i++) sum += line[i];
    for (let i = 0; i < w; i++) { sum += line[i + 2 * r]; tmp[base + i] = sum * k; sum -= line[i]; }
  }
  const acc = new Float64Array(w);
  const row = (y: number): number => Math.min(h - 1, Math.max(0, y)) * w;
  for (let y = -r; y <= r; y++) { const b = row(y); for (let x = 0; x < w; x++) acc[x] += tmp[b + x]; }
  for (let y = 0; y < h; y++) {
    const o = y * w, add = row(y + r + 1), sub = row(y - r);
    for (let x = 0; x < w; x++) { out[o + x] = acc[x] * k; acc[x] += tmp[add + x] - tmp[sub + x]; }
  }
  return out;
}
function refWhiten(y: Float32Array, w: number, h: number, { mean: rm, level: rl, exponent }: Radii): Float32Array {
  const mean = refBoxMean(y, w, h, rm), r = new Float32Array(y.length), a = new Float32Array(y.length);
  for (let i = 0; i < y.length; i++) { r[i] = y[i] - mean[i]; a[i] = Math.abs(r[i]); }
  const level = refBoxMean(a, w, h, rl);
  for (let i = 0; i < y.length; i++) {
    const l = level[i] + 0.5;
    r[i] = Math.max(-3, Math.min(3, r[i] / (exponent === 1.5 ? l * Math.sqrt(l) : l)));
  }
  return r;
}
function refHalve(r: Float32Array, w: number, h: number): Float32Array {
  const hw = w >> 1, hh = h >> 1, out = new Float32Array(hw * hh);
  for (let y = 0; y < hh; y++) {
    const a = 2 * y * w, b = a + w;
    for (let x = 0; x < hw; x++) out[y * hw + x] = 0.25 * (r[a + 2 * x] + r[a + 2 * x + 1] + r[b + 2 * x] + r[b + 2 * x + 1]);
  }
  return out;
}
/** Indices where two arrays differ bit for bit (NaN never occurs here). */
const differences = (a: Float32Array, b: Float32Array): number => a.reduce((n, v, i) => n + (Object.is(v, b[i]) ? 0 : 1), 0);

/** A seeded sequence in [-1, 1). */
const noise = (n: number, seed: number): Float64Array => {
  let s = seed >>> 0;
  return Float64Array.from({ length: n }, () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return s / 2 ** 31 - 1; });
};

describe('blind watermark extraction kernel', () => {
  it('whitens the luma, at full and half resolution and every radius extraction uses, bit for bit as the TypeScript reference', async () => {
    const photo = await decode(readFileSync(new URL('../fixtures/images/2569067123_aca715a2ee_o.jpg', import.meta.url)));
    const random = (w: number, h: number, seed: number): RGBAImage => {
      const v = noise(w * h * 4, seed);
      return { width: w, height: h, data: Uint8ClampedArray.from(v, (x, i) => (i % 4 === 3 ? 255 : Math.floor((x + 1) * 128))) };
    };
    const flat: RGBAImage = { width: 40, height: 33, data: new Uint8ClampedArray(40 * 33 * 4).fill(90) };
    for (const image of [photo, random(301, 177, 7), random(64, 33, 8), flat]) {
      const { width: w, height: h } = image, y = refLuma(image);
      await kernel.use((k) => {
        k.reset();
        const rd = openReader(k, w, h);
        readImage(rd, image);
        for (const radii of [whiteningRadii(1), WIDE_WHITENING, whiteningRadii(2), whiteningRadii(2.4), { ...whiteningRadii(1), exponent: 1 as const }]) {
          whiten(rd, radii);
          const want = refWhiten(y, w, h, radii);
          expect(differences(rd.residual, want)).toBe(0);
          expect(want.some((v) => v !== 0) || image === flat).toBe(true);
        }
        expect(differences(whitenHalf(rd), refWhiten(refHalve(y, w, h), w >> 1, h >> 1, whiteningRadii(1)))).toBe(0);
        k.reset();
      }, readerBytes(w, h));
    }
  });

  it('blindFft is the 2-D DFT, spectrum transposed, and its inverse brings the array back n times over', async () => {
    const w = 16, h = 8, re = noise(w * h, 1), im = noise(w * h, 2);
    await kernel.use((k) => {
      k.reset();
      const rd = openReader(k, TILE, TILE);
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
      const rd = openReader(k, w, h);
      rd.residual.set(r);
      const out = fold(rd, g, rect);
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
  it('estimateLattice reads its residual in the kernel\'s memory, and refuses one outside it', async () => {
    const w = 256, h = 256, r = Float32Array.from(noise(w * h, 5));
    const run = (outside: boolean) => kernel.use((k) => {
      k.reset();
      const rd = openReader(k, w, h);
      rd.residual.set(r);
      try {
        return estimateLattice(rd, outside ? r : rd.residual).length;
      } finally {
        k.reset();
      }
    }, readerBytes(w, h));
    await expect(run(false)).resolves.toBeTypeOf('number');
    expect(await rejection(run(true))).toEqual({ code: 'INTERNAL', message: 'Expected the lattice estimate\'s residual in the kernel\'s memory but it was a separate array' });
  });
});
