/**
 * The blind watermark's embedding, on the kernels module (wasm/kernels/assembly/blindmark.ts): luma, the
 * perceptual mask and the tile added to R, G and B, with f32x4 SIMD, in bands of rows.
 *
 * The mask: SSIM of a window whose content has standard deviation s, after adding independent noise of
 * RMS a, is about (2s^2 + C2) / (2s^2 + C2 + a^2) (C2 = (0.03 * 255)^2), so the noise a window hides at a
 * loss of `budget` grows with its contrast: a^2 = budget / (1 - budget) * (2 s^2 + C2). That is Watson's
 * contrast masking in the form the quality goal measures, and its C2 term is the floor that lets flat and
 * dark areas carry a little (about 0.9 levels at medium) while texture carries up to `cap`. s is taken
 * over 5x5 windows (about the 11x11 Gaussian window of sigma 1.5 that SSIM uses), so the mark does not
 * bleed far from an edge into the flat area beside it. One busy photo is held to `maxMse` overall, by
 * lowering its cap (water-filling) rather than by scaling its whole mask down: see embedPattern.
 *
 * Everything that decides a pixel is WebAssembly f32 arithmetic (IEEE-exact +, *, sqrt, round half to
 * even), so Node, Chromium and workerd write the same bytes.
 */
import { outOfMemory } from '../../wasm/instance.js';
import type { RGBAImage } from '../../image.js';
import { kernel } from '../../kernels/module.js';
import { TILE } from './pattern.js';

/** SSIM's C2 for 8-bit images. */
export const SSIM_C2 = (0.03 * 255) ** 2;

export interface MaskParameters {
  /** SSIM a window may lose to the mark. */
  readonly budget: number;
  /** Most RMS (luma levels) one pixel may carry. */
  readonly cap: number;
  /** Mean square error the whole image may take. */
  readonly maxMse: number;
  /**
   * Mean square luma error the image may measure: the allowances rounded as the pixels will be (see
   * blindCappedEnergy in the kernel), which `maxMse` alone does not bound.
   */
  readonly maxLumaMse: number;
}

export interface Embedded {
  readonly data: Uint8ClampedArray;
  /** Mean allowed RMS over the image (a nearly uniform image has little more than the floor). */
  readonly meanAllowed: number;
  /** Pixels whose R, G or B had to be clamped. */
  readonly clipped: number;
}

/** Rows per kernel call: enough calls for V8's optimised tier to take over within the first image. */
const BAND = 32;

/** `image` with `pattern` (TILE x TILE, RMS 1/2) added to its luma under the perceptual mask. */
export async function embedPattern(image: RGBAImage, pattern: Float64Array, p: MaskParameters): Promise<Embedded> {
  const { width: w, height: h } = image;
  const n = w * h;
  try {
    return await kernel.use((k) => {
      k.reset();
      const src = k.alloc(n * 4);
      new Uint8Array(k.memory.buffer, src, n * 4).set(image.data);
      const tile = k.blindBegin(src, w, h, p.budget / (1 - p.budget), SSIM_C2, p.cap);
      new Float32Array(k.memory.buffer, tile, TILE * TILE).set(pattern);
      for (let y = 0; y < h; y += BAND) k.blindRowsLuma(y, Math.min(h, y + BAND));
      for (let y = 0; y < h; y += BAND) k.blindRowsMask(y, Math.min(h, y + BAND));
      // Water-filling: a busy image over its limits gets its cap lowered until it fits them, rather than its
      // whole mask scaled down as before. The reader divides the residual by a power of the local level
      // (signal.ts), so a pixel in strong texture carries little of the mark however much it takes, and
      // the error a busy image may take is better spent on its mid-texture pixels, which the lowered cap
      // leaves at their full SSIM allowance where scaling cut them too. On 640 cases none chosen by a result
      // (photos 40-199 at 600 px; halved, quarter- and half-area crops, WebP q60; bench/blindmark-gain.ts)
      // it reads 635 against 629, with luma PSNR mean 41.71 dB against 41.54 and minimum 38.38 against 38.20
      // (SSIM mean 0.9912 against 0.9915), as the rounded limit holds the busiest to 38.2 dB. The cap is the
      // largest of 2^-16 steps of its range that fits both limits (bisection: both sums grow with the cap),
      // found on the kernel's f32 sums, then the mask is computed again with it: the pixels are still
      // decided by IEEE-exact arithmetic alone, the same in every engine.
      const fits = (c: number): boolean => k.blindCappedEnergy(c) / n <= p.maxMse && k.blindCappedRounded() / n <= p.maxLumaMse;
      if (!fits(p.cap)) {
        let lo = 0, hi = p.cap;
        for (let i = 0; i < 16; i++) {
          const mid = (lo + hi) / 2;
          if (fits(mid)) lo = mid;
          else hi = mid;
        }
        k.blindSetCap(lo);
        for (let y = 0; y < h; y += BAND) k.blindRowsMask(y, Math.min(h, y + BAND));
      }
      // the tile's RMS is 1/2 (unit signs times the chip profile, whose mean square is 1/4), so a pixel's
      // allowance in RMS is twice its multiplier
      const gain = 2;
      for (let y = 0; y < h; y += BAND) k.blindRowsAdd(y, Math.min(h, y + BAND), gain);
      const data = new Uint8ClampedArray(n * 4);
      data.set(new Uint8Array(k.memory.buffer, src, n * 4));
      const result = { data, meanAllowed: k.blindTotal() / n, clipped: k.blindClipped() };
      k.reset();
      return result;
    }, n * 4 * 4 + TILE * TILE * 4 + 65536);
  } catch (e) {
    throw outOfMemory(e, `the blind watermark of a ${w}x${h} image`);
  }
}
