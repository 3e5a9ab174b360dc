// 4:2:0 chroma as libjpeg's jcsample.c h2v2_downsample: each output sample is the plain average of
// a 2x2 square (no smoothing), with the rounding bias alternating 1, 2, 1, 2 along the row so the
// truncation errors don't all lean the same way.

/**
 * Downsample rows `top` and `bottom` (each 2 * `outWidth` samples, a multiple of 16) into `out`.
 */
export function h2v2(top: usize, bottom: usize, out: usize, outWidth: i32): void {
  const bias = i16x8(1, 2, 1, 2, 1, 2, 1, 2);
  for (let x = 0; x < outWidth; x += 16) {
    const i = <usize>x << 1;
    const s0 = i16x8.add(i16x8.extadd_pairwise_i8x16_u(v128.load(top + i)), i16x8.extadd_pairwise_i8x16_u(v128.load(bottom + i)));
    const s1 = i16x8.add(i16x8.extadd_pairwise_i8x16_u(v128.load(top + i, 16)), i16x8.extadd_pairwise_i8x16_u(v128.load(bottom + i, 16)));
    const a0 = i16x8.shr_u(i16x8.add(s0, bias), 2);
    const a1 = i16x8.shr_u(i16x8.add(s1, bias), 2);
    v128.store(out + <usize>x, i8x16.narrow_i16x8_u(a0, a1));
  }
}
