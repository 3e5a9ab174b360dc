/**
 * The blur and sharpen kernel (f32x4 SIMD, in place with a ring of filtered rows) against the same
 * passes in double precision: single float sums may round a blurred value the other way, never by
 * more than one level, and rarely (a sharpen scales that level by its amount).
 */
import { describe, expect, it } from 'vitest';
import '../../entries/node.js';
import { blur } from '../../src/ops/blur.js';
import { sharpen } from '../../src/ops/sharpen.js';
import { createImage, type RGBAImage } from '../../src/image.js';
import { maxAbsDiff } from './compare.js';
import { decodeFixture, synthetic } from './fixtures.js';
import { referenceGaussian } from './reference.js';

/** Share of channel values that differ at all. */
function differing(a: RGBAImage, b: RGBAImage): number {
  let n = 0;
  for (let i = 0; i < a.data.length; i++) if (a.data[i] !== b.data[i]) n++;
  return n / a.data.length;
}

/** `levels`: one for a blur; for a sharpen, a blurred value one level off is scaled by the amount. */
function expectClose(ours: RGBAImage, ref: RGBAImage, levels = 1): void {
  expect([ours.width, ours.height, ours.data.length]).toEqual([ref.width, ref.height, ref.data.length]);
  expect(maxAbsDiff(ours, ref)).toBeLessThanOrEqual(levels);
  expect(differing(ours, ref)).toBeLessThan(0.001);
}

describe('Gaussian blur and sharpen kernel', () => {
  it('blurs a photo as the double-precision passes do, for small and the largest radii', async () => {
    const photo = await decodeFixture('320x240.jpg');
    // r alone takes sigma r / 2 (0.5 at least), s alone radius 3s.
    const cases: [{ radius?: number; sigma?: number }, number, number][] = [[{ radius: 1 }, 1, 0.5], [{ sigma: 1 }, 3, 1], [{ radius: 10, sigma: 2 }, 10, 2], [{ radius: 50, sigma: 50 }, 50, 50]];
    for (const [options, radius, sigma] of cases) expectClose(await blur(photo, options), referenceGaussian(photo, radius, sigma));
  });

  it('blurs in premultiplied alpha: transparent pixels neither darken nor tint their neighbours', async () => {
    const img = synthetic(61, 37, true, 9);
    expectClose(await blur(img, { radius: 6 }), referenceGaussian(img, 6, 3));
    // Opaque red beside fully transparent black: the red stays pure red where it is visible.
    const half = createImage(20, 4, 0xff0000ff);
    for (let y = 0; y < 4; y++) for (let x = 10; x < 20; x++) half.data.set([0, 0, 0, 0], (y * 20 + x) * 4);
    const out = await blur(half, { radius: 4 });
    for (let i = 0; i < out.data.length; i += 4) {
      if (out.data[i + 3] > 8) expect([...out.data.subarray(i, i + 3)]).toEqual([255, 0, 0]);
      if (out.data[i + 3] === 0) expect([...out.data.subarray(i, i + 4)]).toEqual([0, 0, 0, 0]);
    }
    expect(out.data[(19 * 4) + 3]).toBe(0);
    expect(out.data[(10 * 4) + 3]).toBeGreaterThan(0);
  });

  it('repeats the edges on images narrower or shorter than the kernel, down to one pixel', async () => {
    for (const [w, h] of [[1, 1], [1, 9], [9, 1], [3, 120], [130, 2], [7, 5]]) {
      const img = synthetic(w, h, true);
      expectClose(await blur(img, { radius: 50, sigma: 20 }), referenceGaussian(img, 50, 20));
    }
    // A flat image stays flat however wide the kernel.
    const flat = createImage(5, 3, 0x336699ff);
    expect(await blur(flat, { radius: 50 })).toEqual(flat);
  });

  it('sharpens as the double-precision unsharp mask does, alpha kept', async () => {
    const photo = await decodeFixture('320x240.jpg');
    for (const value of [50, 100, 399]) expectClose(await sharpen(photo, value), referenceGaussian(photo, 2, 1, value / 100), Math.ceil(value / 100));
    const img = synthetic(33, 21, true, 4);
    const out = await sharpen(img, 250);
    expectClose(out, referenceGaussian(img, 2, 1, 2.5), 3);
    for (let i = 3; i < img.data.length; i += 4) expect(out.data[i]).toBe(img.data[i]);
  });

  it('leaves its input untouched', async () => {
    const img = synthetic(40, 30, false);
    const copy = new Uint8ClampedArray(img.data);
    await blur(img, { radius: 5 });
    await sharpen(img, 200);
    expect(img.data).toEqual(copy);
  });
});
