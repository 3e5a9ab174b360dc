// The two passes of a resize whose source rows are the upright image's columns: a JPEG stored
// sideways (EXIF orientations 5-8), resized as its rows come out of the decoder. The upright
// image's horizontal pass runs across the stored rows (each output column is a weighted sum of a
// window of them), and its vertical pass along the column that makes, so neither the stored nor the
// upright image is ever held. The integer arithmetic is the upright path's (horizontal.ts, then
// vertical.ts): the same weights, sums, rounding and saturation, so the bytes are the same as
// orienting the whole image and then resizing it.
import { WEIGHT_BITS, weightsOffset } from './weights';
import { Q, sumQ6Taps } from './horizontal';

/**
 * One intermediate column: for each of the `pixels` stored columns, the weighted sum of the `taps`
 * 8-bit RGBA rows whose addresses are at `rows`, with the weights at `w` (i16, in pairs), in Q6
 * rounded and saturated as horizontalU8 makes it. `dst` gets `pixels` Q6 pixels (8 bytes each); it
 * is written up to 16 bytes past its end, as the vertical pass writes its rows.
 */
export function acrossRows(rows: usize, taps: i32, w: usize, pixels: i32, dst: usize): void {
  const shift = WEIGHT_BITS - Q;
  const round = i32x4.splat(1 << (shift - 1));
  const bytes = <usize>pixels << 2;
  // Four pixels (16 bytes) per step: widened to two i16 vectors of two pixels each.
  for (let off: usize = 0; off < bytes; off += 16) {
    let p0 = i32x4.splat(0);
    let p1 = i32x4.splat(0);
    let p2 = i32x4.splat(0);
    let p3 = i32x4.splat(0);
    for (let k = 0; k < taps; k += 2) {
      const a = v128.load(load<usize>(rows + (<usize>k << 2)) + off);
      const b = v128.load(load<usize>(rows + (<usize>k << 2), 4) + off);
      const pair = v128.load32_splat(w + (<usize>k << 1));
      const al = i16x8.extend_low_i8x16_u(a);
      const bl = i16x8.extend_low_i8x16_u(b);
      const ah = i16x8.extend_high_i8x16_u(a);
      const bh = i16x8.extend_high_i8x16_u(b);
      p0 = i32x4.add(p0, i32x4.dot_i16x8_s(i16x8.shuffle(al, bl, 0, 8, 1, 9, 2, 10, 3, 11), pair));
      p1 = i32x4.add(p1, i32x4.dot_i16x8_s(i16x8.shuffle(al, bl, 4, 12, 5, 13, 6, 14, 7, 15), pair));
      p2 = i32x4.add(p2, i32x4.dot_i16x8_s(i16x8.shuffle(ah, bh, 0, 8, 1, 9, 2, 10, 3, 11), pair));
      p3 = i32x4.add(p3, i32x4.dot_i16x8_s(i16x8.shuffle(ah, bh, 4, 12, 5, 13, 6, 14, 7, 15), pair));
    }
    const o = dst + (off << 1);
    v128.store(o, i16x8.narrow_i32x4_s(i32x4.shr_s(i32x4.add(p0, round), shift), i32x4.shr_s(i32x4.add(p1, round), shift)));
    v128.store(o, i16x8.narrow_i32x4_s(i32x4.shr_s(i32x4.add(p2, round), shift), i32x4.shr_s(i32x4.add(p3, round), shift)), 16);
  }
}

/** Reverse the order of `pixels` Q6 pixels in place (an upright column that runs against the stored row). */
export function reverseQ6(src: usize, pixels: i32): void {
  let a = src;
  let b = src + (<usize>(pixels - 1) << 3);
  while (a < b) {
    const t = load<u64>(a);
    store<u64>(a, load<u64>(b));
    store<u64>(b, t);
    a += 8;
    b -= 8;
  }
}

/**
 * The vertical pass along one intermediate column (Q6, `src`) with the table for `dh` outputs (taps
 * a multiple of four), rounded and saturated to 8 bits as vertical() does: output pixel y lands at
 * `dst + y * stride`.
 */
export function alongColumn(src: usize, table: usize, taps: i32, dh: i32, dst: usize, stride: usize): void {
  const shift = WEIGHT_BITS + Q;
  const round = i32x4.splat(1 << (shift - 1));
  let w = table + weightsOffset(dh);
  let d = dst;
  for (let y = 0; y < dh; y++) {
    const p = src + (<usize>load<i32>(table + (<usize>y << 2)) << 3);
    const sum = sumQ6Taps(p, w, taps);
    w += <usize>taps << 1;
    const n = i16x8.narrow_i32x4_s(i32x4.shr_s(i32x4.add(sum, round), shift), i32x4.splat(0));
    store<u32>(d, i32x4.extract_lane(i8x16.narrow_i16x8_u(n, n), 0));
    d += stride;
  }
}
