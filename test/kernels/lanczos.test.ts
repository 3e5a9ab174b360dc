import { describe, expect, it, beforeAll, vi } from 'vitest';
import '../../entries/node.js';
import { resizeRGBA, kernelStats, recycleResized, setKernelRecycleBytes, KERNEL_RECYCLE_BYTES } from '../../src/kernels/lanczos.js';
import { IDLE_RELEASE_MS } from '../../src/wasm/instance.js';
import { createImage, type RGBAImage } from '../../src/image.js';
import { isImgpipeError } from '../../src/errors.js';
import { meanDelta } from '../helpers/compare.js';
import { ssim, maxAbsDiff } from './compare.js';
import { decodeFixture, sharpResize, synthetic } from './fixtures.js';
import { referenceResize, srgbToLinear } from './reference.js';

const PHOTO = '2569067123_aca715a2ee_o.jpg';

async function rejects(p: Promise<unknown>, code: string, message: string): Promise<void> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(isImgpipeError(err, code as never), `expected ImgpipeError ${code}, got ${String(err)}`).toBe(true);
  expect((err as Error).message).toBe(message);
}

describe('Lanczos3 kernel against sharp on real photos', () => {
  let photo: RGBAImage;
  beforeAll(async () => {
    photo = await decodeFixture(PHOTO);
  });

  // The upload recipe's widths. Bounds: SSIM (8x8 luma windows) >= 0.998 and mean channel
  // distance <= 0.6 of 255; measured 0.9989..0.9996 and 0.12..0.29.
  for (const width of [1200, 600, 150]) {
    it(`2725x2225 photo -> ${width} wide matches sharp`, async () => {
      const height = Math.round((photo.height * width) / photo.width);
      const ours = await resizeRGBA(photo, width, height);
      const ref = await sharpResize(photo, width, height);
      expect([ours.width, ours.height, ours.data.length]).toEqual([width, height, width * height * 4]);
      expect(ssim(ref, ours)).toBeGreaterThanOrEqual(0.998);
      expect(meanDelta(ours, ref)).toBeLessThanOrEqual(0.6);
    });
  }

  it('keeps alpha like sharp on a transparent PNG (blackbug.png)', async () => {
    const bug = await decodeFixture('blackbug.png');
    expect(bug.data.some((v, i) => i % 4 === 3 && v !== 255)).toBe(true);
    for (const width of [600, 150]) {
      const height = Math.round((bug.height * width) / bug.width);
      const ours = await resizeRGBA(bug, width, height);
      const ref = await sharpResize(bug, width, height);
      expect(ssim(ref, ours)).toBeGreaterThanOrEqual(0.999);
      expect(meanDelta(ours, ref)).toBeLessThanOrEqual(0.1);
    }
  });

  it('gamma mode reproduces sharp on gamma_dalai_lama_gray.jpg; linear mode keeps its brightness', async () => {
    const lama = await decodeFixture('gamma_dalai_lama_gray.jpg');
    const w = 129, h = 111; // a 2x reduction of 258x222
    const gamma = await resizeRGBA(lama, w, h);
    expect(ssim(await sharpResize(lama, w, h), gamma)).toBeGreaterThanOrEqual(0.995);

    // The image is built so that averaging gamma-encoded values changes its overall light; in linear
    // light a downscale preserves the mean intensity (to within the 8-bit rounding of the output).
    const meanLight = (img: RGBAImage): number => {
      let s = 0;
      for (let i = 0; i < img.data.length; i += 4) s += srgbToLinear(img.data[i + 1] / 255);
      return s / (img.data.length / 4);
    };
    const linear = await resizeRGBA(lama, w, h, { linear: true });
    const source = meanLight(lama);
    expect(Math.abs(meanLight(linear) - source) / source).toBeLessThan(0.02);
    expect(Math.abs(meanLight(gamma) - source) / source).toBeGreaterThan(0.1);
  });
});

describe('Lanczos3 kernel against a floating-point reference', () => {
  // Upscales (sharp switches to a bicubic affine there) and reductions below 4x (no box
  // pre-shrink), opaque and with alpha, gamma and linear: the fixed-point SIMD result must stay
  // within rounding of the exact computation.
  const cases: [number, number, number, number][] = [
    [97, 61, 211, 150], // upscale ~2.2x
    [64, 48, 65, 49], // almost identity
    [200, 120, 71, 43], // reduce ~2.8x
    [150, 150, 100, 45], // different factors per axis
  ];
  for (const [sw, sh, dw, dh] of cases) {
    for (const alpha of [false, true]) {
      for (const linear of [false, true]) {
        it(`${sw}x${sh} -> ${dw}x${dh}${alpha ? ' alpha' : ''}${linear ? ' linear' : ''}`, async () => {
          const src = synthetic(sw, sh, alpha);
          const ours = await resizeRGBA(src, dw, dh, { linear });
          const ref = referenceResize(src, dw, dh, { linear });
          expect(meanDelta(ours, ref)).toBeLessThanOrEqual(0.35);
          // Colour of nearly transparent pixels is amplified by un-premultiplying, so only opaque
          // images get the tight bound on the single worst channel value.
          if (!alpha) expect(maxAbsDiff(ours, ref)).toBeLessThanOrEqual(linear ? 3 : 2);
        });
      }
    }
  }
});

describe('Lanczos3 kernel edge cases', () => {
  it('does not bleed the colour of fully transparent pixels into visible ones', async () => {
    // Left half: transparent, with a garbage colour (pure red) underneath. Right half: opaque blue.
    const w = 90, h = 30;
    const src = createImage(w, h);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const i = (y * w + x) * 4;
        if (x < w / 2) src.data.set([255, 0, 0, 0], i);
        else src.data.set([0, 0, 255, 255], i);
      }
    }
    for (const [dw, dh] of [[30, 10], [7, 3], [181, 61]]) {
      const out = await resizeRGBA(src, dw, dh);
      let visible = 0;
      for (let i = 0; i < out.data.length; i += 4) {
        if (out.data[i + 3] === 0) {
          expect(Array.from(out.data.subarray(i, i + 4))).toEqual([0, 0, 0, 0]);
        } else {
          visible++;
          expect(out.data[i], `red at pixel ${i / 4} of ${dw}x${dh}`).toBe(0);
          expect(out.data[i + 2]).toBeGreaterThanOrEqual(254);
        }
      }
      expect(visible).toBeGreaterThan(0);
    }
  });

  it('keeps a flat colour exactly flat at any size, including 1xN and Nx1', async () => {
    const sizes: [number, number, number, number][] = [
      [1, 1, 1, 7], [1, 1, 9, 1], [1, 50, 1, 7], [1, 7, 1, 50], [50, 1, 7, 1], [7, 1, 50, 1],
      [3, 3, 1, 1], [1000, 3, 10, 1], [5, 800, 2, 3], [13, 11, 640, 480], [640, 480, 13, 11],
    ];
    for (const [sw, sh, dw, dh] of sizes) {
      for (const colour of [0x336699ff, 0x80402010]) {
        const out = await resizeRGBA(createImage(sw, sh, colour), dw, dh);
        const expected = createImage(dw, dh, colour);
        expect([out.width, out.height], `${sw}x${sh} -> ${dw}x${dh}`).toEqual([dw, dh]);
        expect(maxAbsDiff(out, expected), `${sw}x${sh} -> ${dw}x${dh} #${colour.toString(16)}`).toBe(0);
      }
    }
  });

  it('resamples 1-pixel-wide and 1-pixel-high images along their one axis', async () => {
    const column = synthetic(1, 120, false);
    const row = synthetic(120, 1, false);
    const c = await resizeRGBA(column, 1, 37);
    const r = await resizeRGBA(row, 41, 1);
    expect(meanDelta(c, referenceResize(column, 1, 37))).toBeLessThanOrEqual(0.35);
    expect(meanDelta(r, referenceResize(row, 41, 1))).toBeLessThanOrEqual(0.35);
    // The vertical ramp in green goes from 0 to 255: the ends survive the resize.
    expect(c.data[1]).toBeLessThanOrEqual(4);
    expect(c.data[(37 - 1) * 4 + 1]).toBeGreaterThanOrEqual(251);
  });

  it('returns a copy, not the input, when the size does not change', async () => {
    const src = synthetic(20, 10, true);
    const out = await resizeRGBA(src, 20, 10);
    expect(out.data).not.toBe(src.data);
    expect(Array.from(out.data)).toEqual(Array.from(src.data));
  });

  it('refuses bad sizes and inconsistent images with ImgpipeError', async () => {
    const img = createImage(4, 4, 0xffffffff);
    await rejects(resizeRGBA(img, 0, 4), 'INVALID_ARGUMENT', 'Expected an integer between 1 and 65535 for resize width but received 0');
    await rejects(resizeRGBA(img, 4, 2.5), 'INVALID_ARGUMENT', 'Expected an integer between 1 and 65535 for resize height but received 2.5');
    await rejects(resizeRGBA(img, 70000, 4), 'INVALID_ARGUMENT', 'Expected an integer between 1 and 65535 for resize width but received 70000');
    await rejects(resizeRGBA({ width: 4, height: 4, data: new Uint8ClampedArray(60) }, 2, 2), 'INVALID_ARGUMENT', 'Expected 64 bytes of RGBA for a 4x4 image but received 60');
    await rejects(
      resizeRGBA(img, 60000, 60000),
      'IMAGE_TOO_LARGE',
      'Expected a resize needing at most 2147483648 bytes of working memory but 4x4 to 60000x60000 needs 43232705728',
    );
    await rejects(resizeRGBA(img, 4, 4, {}).then(() => setKernelRecycleBytes(0)), 'INVALID_ARGUMENT', 'Expected a positive integer number of bytes for the kernel recycle threshold but received 0');
  });
});

describe('Lanczos3 kernel memory', () => {
  it('reuses one instance and its memory across many calls', async () => {
    const src = synthetic(640, 480, true);
    await resizeRGBA(src, 300, 200);
    const first = kernelStats();
    for (let i = 0; i < 40; i++) {
      const out = await resizeRGBA(src, 300 - (i % 5), 200 + (i % 3));
      expect(out.width).toBe(300 - (i % 5));
    }
    const after = kernelStats();
    expect(after.instancesCreated).toBe(first.instancesCreated);
    expect(after.memoryBytes).toBe(first.memoryBytes);
  });

  it('reuses the filter tables of recent sizes with the same pixels, and never a table of another scale', async () => {
    const a = synthetic(21, 40, false);
    const b = synthetic(1001, 40, false);
    // Ten other tables: more than the kernel keeps, so the next resize builds its own.
    const evict = async () => {
      for (const w of [3, 5, 7, 9, 11]) await resizeRGBA(a, w, w);
    };
    await evict();
    const aBuilt = await resizeRGBA(a, 10, 20);
    await evict();
    const bBuilt = await resizeRGBA(b, 10, 20);
    await evict();
    await resizeRGBA(a, 10, 20);
    // 1001 -> 10 box-shrinks by 50 to 21 columns and filters them at scale 2.002: the same sizes and
    // taps as 21 -> 10's table just kept, at scale 2.1.
    const bAfterA = await resizeRGBA(b, 10, 20);
    const aKept = await resizeRGBA(a, 10, 20);
    expect(maxAbsDiff(bAfterA, bBuilt)).toBe(0);
    expect(maxAbsDiff(aKept, aBuilt)).toBe(0);
  });

  it('keeps a grown instance while big jobs come, replaces it for a small one, releases it when idle', async () => {
    // Streamed with alpha, the 1400x930 output and its Q6 rows need ~16 MB.
    const big = synthetic(1500, 1000, true);
    try {
      setKernelRecycleBytes(8 * 1024 * 1024);
      // The first call may still run on (and then replace) an instance grown by earlier tests.
      await resizeRGBA(synthetic(50, 50, false), 20, 20);
      await resizeRGBA(synthetic(50, 50, false), 20, 20);
      const before = kernelStats();
      expect(before.memoryBytes).toBeLessThan(8 * 1024 * 1024);
      await resizeRGBA(big, 1400, 930);
      const grown = kernelStats();
      expect(grown.memoryBytes).toBeGreaterThan(8 * 1024 * 1024);
      // The same job again runs on the grown instance: nothing new to allocate or collect.
      await resizeRGBA(big, 1400, 930);
      expect(kernelStats()).toEqual(grown);
      // A much smaller job gets a fresh, small instance.
      const out = await resizeRGBA(synthetic(50, 50, false), 20, 20);
      expect(out.width).toBe(20);
      const after = kernelStats();
      expect(after.instancesCreated).toBe(before.instancesCreated + 1);
      expect(after.memoryBytes).toBeLessThan(8 * 1024 * 1024);
      // Grown again and left idle: let go of after IDLE_RELEASE_MS.
      vi.useFakeTimers();
      try {
        await resizeRGBA(big, 1400, 930);
        expect(kernelStats().memoryBytes).toBeGreaterThan(8 * 1024 * 1024);
        vi.advanceTimersByTime(IDLE_RELEASE_MS);
        expect(kernelStats().memoryBytes).toBe(0);
      } finally {
        vi.useRealTimers();
      }
    } finally {
      setKernelRecycleBytes(KERNEL_RECYCLE_BYTES);
    }
  });
});

describe('Lanczos3 result buffers', () => {
  it('writes the next result of the same size into a buffer given back, with the same pixels', async () => {
    const src = synthetic(300, 200, false);
    const first = await resizeRGBA(src, 120, 80);
    const expected = new Uint8ClampedArray(first.data);
    recycleResized(first);
    const second = await resizeRGBA(src, 120, 80);
    expect(second.data.buffer).toBe(first.data.buffer);
    expect(Buffer.from(second.data).equals(Buffer.from(expected))).toBe(true);
    // Not given back: the next result has a buffer of its own.
    const third = await resizeRGBA(src, 120, 80);
    expect(third.data.buffer).not.toBe(second.data.buffer);
  });

  it('keeps the last three buffers given back (the three sizes of a recipe), each handed out once', async () => {
    const src = synthetic(300, 200, false);
    const sizes = [[120, 80], [60, 40], [30, 20]] as const;
    const made: RGBAImage[] = [];
    for (const [w, h] of sizes) made.push(await resizeRGBA(src, w, h));
    const expected = made.map((m) => new Uint8ClampedArray(m.data));
    for (const m of made) recycleResized(m);
    // Given back twice: still handed out once.
    recycleResized(made[0]);
    const again: RGBAImage[] = [];
    for (const [w, h] of sizes) again.push(await resizeRGBA(src, w, h));
    again.forEach((a, i) => {
      expect(a.data.buffer).toBe(made[i].data.buffer);
      expect(Buffer.from(a.data).equals(Buffer.from(expected[i]))).toBe(true);
    });
    expect((await resizeRGBA(src, 120, 80)).data.buffer).not.toBe(made[0].data.buffer);
    // A fourth given back lets go of the oldest.
    const fourth = await resizeRGBA(src, 40, 30);
    for (const a of again) recycleResized(a);
    recycleResized(fourth);
    expect((await resizeRGBA(src, 120, 80)).data.buffer).not.toBe(made[0].data.buffer);
    expect((await resizeRGBA(src, 60, 40)).data.buffer).toBe(made[1].data.buffer);
    expect((await resizeRGBA(src, 40, 30)).data.buffer).toBe(fourth.data.buffer);
  });

  it('ignores images it did not make, views into part of a buffer, and a given-back buffer of another size', async () => {
    const src = synthetic(300, 200, false);
    // The caller's own image: never written into by a resize.
    recycleResized(src);
    expect((await resizeRGBA(src, 120, 80)).data.buffer).not.toBe(src.data.buffer);
    const made = await resizeRGBA(src, 120, 80);
    recycleResized({ width: 120, height: 40, data: made.data.subarray(0, 120 * 40 * 4) });
    expect((await resizeRGBA(src, 120, 80)).data.buffer).not.toBe(made.data.buffer);
    recycleResized(made);
    const other = await resizeRGBA(src, 60, 40);
    expect(other.data.buffer).not.toBe(made.data.buffer);
    expect(other.data.byteLength).toBe(60 * 40 * 4);
  });
});
