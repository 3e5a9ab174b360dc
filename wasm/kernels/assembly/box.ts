// Integer box pre-shrink. For large reductions libvips (and so sharp) first averages k x k blocks
// with k = floor(factor / 2), then runs Lanczos3 over the remaining factor of 2..4. Doing the same
// keeps our output close to sharp's and makes the Lanczos passes cheap (few taps) however large
// the reduction. The result is Q6, so the averages keep their fractional part.
import { alloc } from '../../common/memory';
import { Q } from './horizontal';
import { roundToI32 } from './round';
import { premultiplyQ6 } from './convert';

/** Column sums for one output row of a `sw`-pixel-wide source, cleared (boxEmit clears them again). */
export function boxScratch(sw: i32): usize {
  // Vector loops run up to 16 values past the row end; the spare sums are never read.
  const sums = alloc(((<usize>sw << 2) + 16) << 2);
  memory.fill(sums, 0, <usize>sw << 4);
  return sums;
}

/** Add one source row (`sw` pixels, 8-bit RGBA or Q6 when `srcQ6`) to the column sums. */
export function boxAdd(row: usize, sw: i32, srcQ6: bool, sums: usize): void {
  const values = <usize>sw << 2;
  if (srcQ6) {
    for (let i: usize = 0; i < values; i += 8) {
      const v = v128.load(row + (i << 1));
      const s = sums + (i << 2);
      v128.store(s, i32x4.add(v128.load(s), i32x4.extend_low_i16x8_s(v)));
      v128.store(s, i32x4.add(v128.load(s, 16), i32x4.extend_high_i16x8_s(v)), 16);
    }
  } else {
    for (let i: usize = 0; i < values; i += 16) {
      const v = v128.load(row + i);
      const l = i16x8.extend_low_i8x16_u(v);
      const h = i16x8.extend_high_i8x16_u(v);
      const s = sums + (i << 2);
      v128.store(s, i32x4.add(v128.load(s), i32x4.extend_low_i16x8_u(l)));
      v128.store(s, i32x4.add(v128.load(s, 16), i32x4.extend_high_i16x8_u(l)), 16);
      v128.store(s, i32x4.add(v128.load(s, 32), i32x4.extend_low_i16x8_u(h)), 32);
      v128.store(s, i32x4.add(v128.load(s, 48), i32x4.extend_high_i16x8_u(h)), 48);
    }
  }
}

/**
 * boxAdd() of one 8-bit RGBA row premultiplied into Q6 on the way (convert.ts's expand() then
 * boxAdd() on its Q6 row, without writing that row and reading it back): a streamed transparent
 * source's rows go straight into the sums. The premultiplied values are expand()'s before its
 * narrowing to i16, which they fit (at most 255 * 64), so the sums are the same.
 */
export function boxAddPremultiplied(row: usize, sw: i32, sums: usize): void {
  const values = <usize>sw << 2;
  for (let i: usize = 0; i < values; i += 16) {
    const v = v128.load(row + i);
    const l = i16x8.extend_low_i8x16_u(v);
    const h = i16x8.extend_high_i8x16_u(v);
    const s = sums + (i << 2);
    v128.store(s, i32x4.add(v128.load(s), premultiplyQ6(i32x4.extend_low_i16x8_u(l))));
    v128.store(s, i32x4.add(v128.load(s, 16), premultiplyQ6(i32x4.extend_high_i16x8_u(l))), 16);
    v128.store(s, i32x4.add(v128.load(s, 32), premultiplyQ6(i32x4.extend_low_i16x8_u(h))), 32);
    v128.store(s, i32x4.add(v128.load(s, 48), premultiplyQ6(i32x4.extend_high_i16x8_u(h))), 48);
  }
}

/**
 * One output row (Q6, `dw` pixels at `dst`) from the column sums of `blockRows` source rows: each
 * pixel averages `kx` columns (fewer at the right edge). The sums are cleared for the next block.
 */
export function boxEmit(sums: usize, sw: i32, srcQ6: bool, kx: i32, blockRows: i32, dst: usize, dw: i32): void {
  const scale: f32 = srcQ6 ? 1.0 : <f32>(1 << Q);
  // The factor depends only on the block's width: worked out once for full blocks and once for the
  // one the right edge cuts, not per pixel. A scalar divide (and its int-to-float conversion, which
  // V8 emits with a false dependency on a register the loop also writes) in the loop chained every
  // pixel to the one before: about 40 cycles a pixel on Intel Xeon, a quarter of a PNG graphic's
  // 720 px transform. Same values, so the same bytes.
  const full = f32x4.splat(scale / <f32>(kx * blockRows));
  const lastX0 = (dw - 1) * kx;
  const edge = f32x4.splat(scale / <f32>(((lastX0 + kx < sw ? lastX0 + kx : sw) - lastX0) * blockRows));
  let d = dst;
  for (let ox = 0; ox < dw; ox++) {
    const x0 = ox * kx;
    const x1 = x0 + kx < sw ? x0 + kx : sw;
    let acc = i32x4.splat(0);
    for (let x = x0; x < x1; x++) acc = i32x4.add(acc, v128.load(sums + (<usize>x << 4)));
    const q = roundToI32(f32x4.mul(f32x4.convert_i32x4_s(acc), x1 - x0 == kx ? full : edge));
    v128.store64_lane(d, i16x8.narrow_i32x4_s(q, q), 0);
    d += 8;
  }
  memory.fill(sums, 0, <usize>sw << 4);
}

/**
 * Average `kx` x `ky` blocks of `src` (8-bit RGBA, or Q6 when `srcQ6`) into output rows `oy0` until
 * `oy1` of `dst` (Q6, ceil(sw / kx) x ceil(sh / ky) pixels); blocks cut by the right or bottom edge
 * average what they hold. `sums` comes from boxScratch(sw), cleared.
 */
export function boxShrink(src: usize, sw: i32, sh: i32, srcQ6: bool, kx: i32, ky: i32, dst: usize, dw: i32, oy0: i32, oy1: i32, sums: usize): void {
  const srcStride = <usize>sw << (srcQ6 ? 3 : 2);
  for (let oy = oy0; oy < oy1; oy++) {
    const y0 = oy * ky;
    const y1 = y0 + ky < sh ? y0 + ky : sh;
    for (let y = y0; y < y1; y++) boxAdd(src + <usize>y * srcStride, sw, srcQ6, sums);
    boxEmit(sums, sw, srcQ6, kx, y1 - y0, dst + <usize>oy * dw * 8, dw);
  }
}
