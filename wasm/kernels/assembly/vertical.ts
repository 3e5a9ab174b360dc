// Vertical pass over Q6 rows: each output row is a weighted sum of `taps` input rows. SIMD runs
// along the row, eight i16 values (two pixels) at a time; rows are taken in pairs and interleaved
// so i32x4.dot_i16x8_s applies two taps per instruction. A step covers 32 bytes, so rows are
// read and written up to 16 bytes past their end (the allocator's slack; the next row overwrites).
import { alloc } from '../../common/memory';
import { weightsOffset, WEIGHT_BITS } from './weights';
import { Q } from './horizontal';

/** Largest Q6 value of an in-range 8-bit sample. */
export const Q6_MAX: i32 = 255 << Q;

/** Scratch for one output row's source row pointers (`taps` of them), allocated by the caller. */
export function verticalScratch(taps: i32): usize {
  return alloc(<usize>taps << 2);
}

/**
 * Output rows `y0` until `y1` (of `dh`). With `dst8` (not 0), rounded, clamped 8-bit samples (the
 * final result on the opaque path); with `dst16`, Q6 samples clamped to [0, 255] in Q6, for the
 * conversion pass that follows; both from the same sums when both are given (a streamed source
 * that may still turn out to have transparency). `src` is a ring of `ring` rows: input row r is
 * in slot r % ring. Output row y goes to row `y - dstY0` of `dst8` and `dst16`.
 */
export function vertical(src: usize, values: i32, sh: i32, dst8: usize, dst16: usize, dh: i32, y0: i32, y1: i32, table: usize, taps: i32, rows: usize, ring: i32, dstY0: i32 = 0): void {
  const weights = table + weightsOffset(dh);
  const rowBytes = <usize>values << 1;
  const shift8 = WEIGHT_BITS + Q;
  const round8 = i32x4.splat(1 << (shift8 - 1));
  const shift = WEIGHT_BITS;
  const round = i32x4.splat(1 << (shift - 1));
  const lowest = i16x8.splat(0);
  const highest = i16x8.splat(<i16>Q6_MAX);
  for (let y = y0; y < y1; y++) {
    const start = load<i32>(table + (<usize>y << 2));
    // Padding taps (zero weight) may point past the last row: repeat it instead of reading beyond.
    for (let k = 0; k < taps; k++) {
      const r = start + k < sh ? start + k : sh - 1;
      store<usize>(rows + (<usize>k << 2), src + <usize>(r % ring) * rowBytes);
    }
    const w = weights + (<usize>y * taps << 1);
    const out8 = dst8 + <usize>(y - dstY0) * values;
    const out16 = dst16 + <usize>(y - dstY0) * rowBytes;
    // Two 16-byte chunks per step share each tap's row pointers and weight splat.
    for (let off: usize = 0; off < rowBytes; off += 32) {
      let lo = i32x4.splat(0);
      let hi = i32x4.splat(0);
      let lo2 = i32x4.splat(0);
      let hi2 = i32x4.splat(0);
      for (let k = 0; k < taps; k += 2) {
        const ra = load<usize>(rows + (<usize>k << 2)) + off;
        const rb = load<usize>(rows + (<usize>k << 2), 4) + off;
        const pair = v128.load32_splat(w + (<usize>k << 1));
        const a = v128.load(ra);
        const b = v128.load(rb);
        const a2 = v128.load(ra, 16);
        const b2 = v128.load(rb, 16);
        lo = i32x4.add(lo, i32x4.dot_i16x8_s(i16x8.shuffle(a, b, 0, 8, 1, 9, 2, 10, 3, 11), pair));
        hi = i32x4.add(hi, i32x4.dot_i16x8_s(i16x8.shuffle(a, b, 4, 12, 5, 13, 6, 14, 7, 15), pair));
        lo2 = i32x4.add(lo2, i32x4.dot_i16x8_s(i16x8.shuffle(a2, b2, 0, 8, 1, 9, 2, 10, 3, 11), pair));
        hi2 = i32x4.add(hi2, i32x4.dot_i16x8_s(i16x8.shuffle(a2, b2, 4, 12, 5, 13, 6, 14, 7, 15), pair));
      }
      if (dst8 != 0) {
        const n1 = i16x8.narrow_i32x4_s(i32x4.shr_s(i32x4.add(lo, round8), shift8), i32x4.shr_s(i32x4.add(hi, round8), shift8));
        const n2 = i16x8.narrow_i32x4_s(i32x4.shr_s(i32x4.add(lo2, round8), shift8), i32x4.shr_s(i32x4.add(hi2, round8), shift8));
        // The saturating unsigned narrow is the clamp to [0, 255].
        v128.store(out8 + (off >> 1), i8x16.narrow_i16x8_u(n1, n2));
      }
      if (dst16 != 0) {
        const n1 = i16x8.narrow_i32x4_s(i32x4.shr_s(i32x4.add(lo, round), shift), i32x4.shr_s(i32x4.add(hi, round), shift));
        const n2 = i16x8.narrow_i32x4_s(i32x4.shr_s(i32x4.add(lo2, round), shift), i32x4.shr_s(i32x4.add(hi2, round), shift));
        v128.store(out16 + off, i16x8.min_s(i16x8.max_s(n1, lowest), highest));
        v128.store(out16 + off, i16x8.min_s(i16x8.max_s(n2, lowest), highest), 16);
      }
    }
  }
}
