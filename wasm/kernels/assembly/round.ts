// Float-to-integer rounding for the kernels' conversions, without V8's lowering of
// i32x4.trunc_sat_f32x4_s (five instructions on x86: NaN and overflow checks these values never need).

/** 1.5 x 2^23: adding it to a float of magnitude below 2^22 leaves that float rounded to an integer in the low mantissa bits. */
const MAGIC: f32 = 12582912.0;

/**
 * `i32x4.trunc_sat_f32x4_s(f32x4.nearest(x))` for lanes with |x| < 2^22 (not NaN): the addition
 * rounds to the nearest integer, ties to even, as f32x4.nearest does, and the integer is then the
 * sum's bits less the constant's. Two instructions instead of seven.
 */
// @ts-ignore: decorator
@inline export function roundToI32(x: v128): v128 {
  return i32x4.sub(f32x4.add(x, f32x4.splat(MAGIC)), f32x4.splat(MAGIC));
}
