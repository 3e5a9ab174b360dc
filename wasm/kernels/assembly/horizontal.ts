// Horizontal pass: each output pixel is a weighted sum of `taps` consecutive input pixels of the
// same row (a multiple of four: four taps per loop step). SIMD runs across the four channels of a
// pixel, two taps per instruction: the two
// pixels are interleaved channel by channel into i16 lanes ([r0 r1 g0 g1 b0 b1 a0 a1]) so one
// i32x4.dot_i16x8_s against the weight pair [w0 w1] x4 yields the four channel sums at once.
//
// Output is Q6: i16 holding value * 64, unclamped, so the vertical pass sees the negative lobes'
// undershoot and overshoot instead of a value already rounded to 8 bits.
import { weightsOffset, WEIGHT_BITS } from './weights';

/** Fractional bits of the intermediate format (value * 64 fits i16 with room for overshoot). */
export const Q: i32 = 6;

/**
 * Source rows of 8-bit RGBA. Two rows at a time where there are two (a 2x reduction hands over two
 * rows per output row, mostly): the pixels' weights and the table's offsets are loaded once for
 * both. Each row's sums are the same i32 sums, so the output is the same.
 */
export function horizontalU8(src: usize, sw: i32, h: i32, dst: usize, dw: i32, table: usize, taps: i32): void {
  // Interleave pixels 0,1 and 2,3 of four RGBA8 pixels into zero-extended i16 lanes (indices >= 16
  // give zero), so each vector holds two taps channel by channel.
  const lo = i8x16(0, -1, 4, -1, 1, -1, 5, -1, 2, -1, 6, -1, 3, -1, 7, -1);
  const hi = i8x16(8, -1, 12, -1, 9, -1, 13, -1, 10, -1, 14, -1, 11, -1, 15, -1);
  const shift = WEIGHT_BITS - Q;
  const round = i32x4.splat(1 << (shift - 1));
  const weights = table + weightsOffset(dw);
  const srcStride = <usize>sw << 2;
  const dstStride = <usize>dw << 3;
  let d = dst;
  let y = 0;
  for (; y + 2 <= h; y += 2) {
    const row = src + <usize>y * srcStride;
    let w = weights;
    for (let x = 0; x < dw; x++) {
      let p = row + (<usize>load<i32>(table + (<usize>x << 2)) << 2);
      let a0 = i32x4.splat(0);
      let a1 = i32x4.splat(0);
      let b0 = i32x4.splat(0);
      let b1 = i32x4.splat(0);
      for (let k = 0; k < taps; k += 4) {
        const w0 = v128.load32_splat(w);
        const w1 = v128.load32_splat(w, 4);
        const pa = v128.load(p);
        const pb = v128.load(p + srcStride);
        a0 = i32x4.add(a0, i32x4.dot_i16x8_s(i8x16.swizzle(pa, lo), w0));
        a1 = i32x4.add(a1, i32x4.dot_i16x8_s(i8x16.swizzle(pa, hi), w1));
        b0 = i32x4.add(b0, i32x4.dot_i16x8_s(i8x16.swizzle(pb, lo), w0));
        b1 = i32x4.add(b1, i32x4.dot_i16x8_s(i8x16.swizzle(pb, hi), w1));
        p += 16;
        w += 8;
      }
      a0 = i32x4.shr_s(i32x4.add(i32x4.add(a0, a1), round), shift);
      b0 = i32x4.shr_s(i32x4.add(i32x4.add(b0, b1), round), shift);
      const both = i16x8.narrow_i32x4_s(a0, b0);
      v128.store64_lane(d, both, 0);
      v128.store64_lane(d + dstStride, both, 1);
      d += 8;
    }
    d += dstStride;
  }
  if (y < h) {
    const row = src + <usize>y * srcStride;
    let w = weights;
    for (let x = 0; x < dw; x++) {
      let p = row + (<usize>load<i32>(table + (<usize>x << 2)) << 2);
      let acc = i32x4.splat(0);
      let acc2 = i32x4.splat(0);
      for (let k = 0; k < taps; k += 4) {
        const px = v128.load(p);
        acc = i32x4.add(acc, i32x4.dot_i16x8_s(i8x16.swizzle(px, lo), v128.load32_splat(w)));
        acc2 = i32x4.add(acc2, i32x4.dot_i16x8_s(i8x16.swizzle(px, hi), v128.load32_splat(w, 4)));
        p += 16;
        w += 8;
      }
      acc = i32x4.shr_s(i32x4.add(i32x4.add(acc, acc2), round), shift);
      v128.store64_lane(d, i16x8.narrow_i32x4_s(acc, acc), 0);
      d += 8;
    }
  }
}

/**
 * The weighted sum, per channel and unrounded, of the `taps` Q6 pixels from `p` with the i16 weights
 * at `w` (four taps a step): one output pixel of a pass over Q6 samples.
 */
// @ts-ignore: decorator
@inline export function sumQ6Taps(p: usize, w: usize, taps: i32): v128 {
  // Two Q6 pixels are 16 bytes; regroup their i16 lanes channel by channel.
  const mask = i8x16(0, 1, 8, 9, 2, 3, 10, 11, 4, 5, 12, 13, 6, 7, 14, 15);
  let acc = i32x4.splat(0);
  let acc2 = i32x4.splat(0);
  for (let k = 0; k < taps; k += 4) {
    acc = i32x4.add(acc, i32x4.dot_i16x8_s(i8x16.swizzle(v128.load(p), mask), v128.load32_splat(w)));
    acc2 = i32x4.add(acc2, i32x4.dot_i16x8_s(i8x16.swizzle(v128.load(p, 16), mask), v128.load32_splat(w, 4)));
    p += 32;
    w += 8;
  }
  return i32x4.add(acc, acc2);
}

/** Source rows already in Q6 (after premultiplication, linearisation or a box pre-shrink). */
export function horizontalQ6(src: usize, sw: i32, h: i32, dst: usize, dw: i32, table: usize, taps: i32): void {
  const shift = WEIGHT_BITS;
  const round = i32x4.splat(1 << (shift - 1));
  const weights = table + weightsOffset(dw);
  const srcStride = <usize>sw << 3;
  let d = dst;
  for (let y = 0; y < h; y++) {
    const row = src + <usize>y * srcStride;
    let w = weights;
    for (let x = 0; x < dw; x++) {
      const p = row + (<usize>load<i32>(table + (<usize>x << 2)) << 3);
      const acc = i32x4.shr_s(i32x4.add(sumQ6Taps(p, w, taps), round), shift);
      w += <usize>taps << 1;
      v128.store64_lane(d, i16x8.narrow_i32x4_s(acc, acc), 0);
      d += 8;
    }
  }
}
