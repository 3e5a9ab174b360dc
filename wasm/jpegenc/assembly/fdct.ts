// Forward DCT and quantisation of one 8x8 block, bit-exact with libjpeg's jpeg_fdct_islow
// (jfdctint.c: CONST_BITS 13, PASS1_BITS 2, DESCALE rounding) and jcdctmgr.c's quantiser.
//
// SIMD layout: a block is 16 i32x4 vectors, row r's columns 0-3 at +r*32 and 4-7 at +r*32+16.
// A 1-D pass works "vertically" on 8 vectors at once, i.e. on four independent lines per vector,
// so the row pass runs on the block transposed while it is loaded and the column pass on the
// re-transposed result.
// Every intermediate is the C code's exact integer, so the output equals the scalar reference.
import { NATURAL_ORDER } from './tables';
import { allocPermanent } from '../../common/memory';

const F_0_298: i32 = 2446;
const F_0_390: i32 = 3196;
const F_0_541: i32 = 4433;
const F_0_765: i32 = 6270;
const F_0_899: i32 = 7373;
const F_1_175: i32 = 9633;
const F_1_501: i32 = 12299;
const F_1_847: i32 = 15137;
const F_1_961: i32 = 16069;
const F_2_053: i32 = 16819;
const F_2_562: i32 = 20995;
const F_3_072: i32 = 25172;

// @ts-ignore: decorator
@inline function mulc(v: v128, c: i32): v128 {
  return i32x4.mul(v, i32x4.splat(c));
}

// @ts-ignore: decorator
@inline function descale(v: v128, n: i32): v128 {
  return i32x4.shr_s(i32x4.add(v, i32x4.splat(1 << (n - 1))), n);
}

/**
 * One 1-D islow pass over the 8 vectors at p, p + 32, ..., p + 224 (four lines at a time).
 * `first`: the row pass (even outputs scaled up by PASS1_BITS, odd descaled by CONST_BITS -
 * PASS1_BITS); otherwise the column pass (descale by PASS1_BITS and CONST_BITS + PASS1_BITS).
 */
// @ts-ignore: decorator
@inline function pass(p: usize, first: bool): void {
  const d0 = v128.load(p), d1 = v128.load(p, 32), d2 = v128.load(p, 64), d3 = v128.load(p, 96);
  const d4 = v128.load(p, 128), d5 = v128.load(p, 160), d6 = v128.load(p, 192), d7 = v128.load(p, 224);
  const tmp0 = i32x4.add(d0, d7), tmp7 = i32x4.sub(d0, d7);
  const tmp1 = i32x4.add(d1, d6), tmp6 = i32x4.sub(d1, d6);
  const tmp2 = i32x4.add(d2, d5), tmp5 = i32x4.sub(d2, d5);
  const tmp3 = i32x4.add(d3, d4), tmp4 = i32x4.sub(d3, d4);

  const tmp10 = i32x4.add(tmp0, tmp3), tmp13 = i32x4.sub(tmp0, tmp3);
  const tmp11 = i32x4.add(tmp1, tmp2), tmp12 = i32x4.sub(tmp1, tmp2);
  const odd = first ? 13 - 2 : 13 + 2;

  if (first) {
    v128.store(p, i32x4.shl(i32x4.add(tmp10, tmp11), 2));
    v128.store(p, i32x4.shl(i32x4.sub(tmp10, tmp11), 2), 128);
  } else {
    v128.store(p, descale(i32x4.add(tmp10, tmp11), 2));
    v128.store(p, descale(i32x4.sub(tmp10, tmp11), 2), 128);
  }
  const e = mulc(i32x4.add(tmp12, tmp13), F_0_541);
  v128.store(p, descale(i32x4.add(e, mulc(tmp13, F_0_765)), odd), 64);
  v128.store(p, descale(i32x4.sub(e, mulc(tmp12, F_1_847)), odd), 192);

  let z1 = i32x4.add(tmp4, tmp7);
  let z2 = i32x4.add(tmp5, tmp6);
  let z3 = i32x4.add(tmp4, tmp6);
  let z4 = i32x4.add(tmp5, tmp7);
  const z5 = mulc(i32x4.add(z3, z4), F_1_175);
  const t4 = mulc(tmp4, F_0_298);
  const t5 = mulc(tmp5, F_2_053);
  const t6 = mulc(tmp6, F_3_072);
  const t7 = mulc(tmp7, F_1_501);
  z1 = mulc(z1, -F_0_899);
  z2 = mulc(z2, -F_2_562);
  z3 = i32x4.add(mulc(z3, -F_1_961), z5);
  z4 = i32x4.add(mulc(z4, -F_0_390), z5);
  v128.store(p, descale(i32x4.add(i32x4.add(t4, z1), z3), odd), 224);
  v128.store(p, descale(i32x4.add(i32x4.add(t5, z2), z4), odd), 160);
  v128.store(p, descale(i32x4.add(i32x4.add(t6, z2), z3), odd), 96);
  v128.store(p, descale(i32x4.add(i32x4.add(t7, z1), z4), odd), 32);
}

/** Transpose the 4x4 quarter at `s` (rows 32 bytes apart) into the quarter at `d`. */
// @ts-ignore: decorator
@inline function transpose4(s: usize, d: usize): void {
  const a = v128.load(s), b = v128.load(s, 32), c = v128.load(s, 64), e = v128.load(s, 96);
  const t0 = i32x4.shuffle(a, b, 0, 4, 1, 5), t1 = i32x4.shuffle(a, b, 2, 6, 3, 7);
  const t2 = i32x4.shuffle(c, e, 0, 4, 1, 5), t3 = i32x4.shuffle(c, e, 2, 6, 3, 7);
  v128.store(d, i32x4.shuffle(t0, t2, 0, 1, 4, 5));
  v128.store(d, i32x4.shuffle(t0, t2, 2, 3, 6, 7), 32);
  v128.store(d, i32x4.shuffle(t1, t3, 0, 1, 4, 5), 64);
  v128.store(d, i32x4.shuffle(t1, t3, 2, 3, 6, 7), 96);
}

// @ts-ignore: decorator
@inline function transpose(s: usize, d: usize): void {
  transpose4(s, d);
  transpose4(s + 16, d + 128);
  transpose4(s + 128, d + 16);
  transpose4(s + 144, d + 144);
}

/**
 * jcdctmgr.c's quantiser on four coefficients: the sign is set aside, the magnitude divided through
 * the reciprocal (round half up), the sign restored.
 */
// @ts-ignore: decorator
@inline function quantize(v: v128, q: usize): v128 {
  const sign = i32x4.shr_s(v, 31);
  const prod = i32x4.shr_u(i32x4.mul(i32x4.add(i32x4.abs(v), v128.load(q, 256)), v128.load(q)), 16);
  const m = i32x4.shr_u(i32x4.mul(prod, v128.load(q, 512)), 16);
  return i32x4.sub(v128.xor(m, sign), sign);
}

/**
 * Four rows' worth of the transposed block from rows interleaved in pairs (`lo01`/`hi01`: rows
 * r and r + 1, columns 0-3 / 4-7; likewise `lo23`/`hi23`): column c's four values go to
 * d + c * 32 as i32.
 */
// @ts-ignore: decorator
@inline function columns(d: usize, lo01: v128, hi01: v128, lo23: v128, hi23: v128): void {
  const c01 = i32x4.shuffle(lo01, lo23, 0, 4, 1, 5);
  const c23 = i32x4.shuffle(lo01, lo23, 2, 6, 3, 7);
  const c45 = i32x4.shuffle(hi01, hi23, 0, 4, 1, 5);
  const c67 = i32x4.shuffle(hi01, hi23, 2, 6, 3, 7);
  v128.store(d, i32x4.extend_low_i16x8_s(c01));
  v128.store(d, i32x4.extend_high_i16x8_s(c01), 32);
  v128.store(d, i32x4.extend_low_i16x8_s(c23), 64);
  v128.store(d, i32x4.extend_high_i16x8_s(c23), 96);
  v128.store(d, i32x4.extend_low_i16x8_s(c45), 128);
  v128.store(d, i32x4.extend_high_i16x8_s(c45), 160);
  v128.store(d, i32x4.extend_low_i16x8_s(c67), 192);
  v128.store(d, i32x4.extend_high_i16x8_s(c67), 224);
}

/**
 * DCT and quantise the 8x8 samples at `src` (row stride `stride`) into 64 i16 coefficients in
 * natural order at `out`, using the table at `table` (see tables.ts) and two 256-byte scratch
 * blocks at `ws`; the zigzag-order mask of the non-zero ones goes to out + 128.
 */
export function fdctBlock(src: usize, stride: usize, table: usize, ws: usize, out: usize): void {
  const a = ws, b = ws + 256;
  // Load the rows centred on zero as i16 and transpose on the way to the i32 layout: pairs of rows
  // interleaved by i16, then pairs of those by i32, leave columns c and c + 1 (rows 0-3 or 4-7) in
  // the low and high halves of one vector, which the widening splits.
  const centre = i16x8.splat(128);
  const r0 = i16x8.sub(i16x8.extend_low_i8x16_u(v128.load64_zero(src)), centre);
  const r1 = i16x8.sub(i16x8.extend_low_i8x16_u(v128.load64_zero(src + stride)), centre);
  const r2 = i16x8.sub(i16x8.extend_low_i8x16_u(v128.load64_zero(src + 2 * stride)), centre);
  const r3 = i16x8.sub(i16x8.extend_low_i8x16_u(v128.load64_zero(src + 3 * stride)), centre);
  const r4 = i16x8.sub(i16x8.extend_low_i8x16_u(v128.load64_zero(src + 4 * stride)), centre);
  const r5 = i16x8.sub(i16x8.extend_low_i8x16_u(v128.load64_zero(src + 5 * stride)), centre);
  const r6 = i16x8.sub(i16x8.extend_low_i8x16_u(v128.load64_zero(src + 6 * stride)), centre);
  const r7 = i16x8.sub(i16x8.extend_low_i8x16_u(v128.load64_zero(src + 7 * stride)), centre);
  columns(b, i16x8.shuffle(r0, r1, 0, 8, 1, 9, 2, 10, 3, 11), i16x8.shuffle(r0, r1, 4, 12, 5, 13, 6, 14, 7, 15),
    i16x8.shuffle(r2, r3, 0, 8, 1, 9, 2, 10, 3, 11), i16x8.shuffle(r2, r3, 4, 12, 5, 13, 6, 14, 7, 15));
  columns(b + 16, i16x8.shuffle(r4, r5, 0, 8, 1, 9, 2, 10, 3, 11), i16x8.shuffle(r4, r5, 4, 12, 5, 13, 6, 14, 7, 15),
    i16x8.shuffle(r6, r7, 0, 8, 1, 9, 2, 10, 3, 11), i16x8.shuffle(r6, r7, 4, 12, 5, 13, 6, 14, 7, 15));
  pass(b, true);
  pass(b + 16, true);
  transpose(b, a);
  pass(a, false);
  pass(a + 16, false);
  // Quantise, and keep the coefficients in natural order.
  const q = table + 64;
  for (let r: usize = 0; r < 8; r++) {
    const lo = quantize(v128.load(a + (r << 5)), q + (r << 5));
    const hi = quantize(v128.load(a + (r << 5), 16), q + (r << 5) + 16);
    v128.store(out + (r << 4), i16x8.narrow_i32x4_s(lo, hi));
  }
  storeMask(out);
}

/**
 * i8x16.swizzle selectors that reorder 64 bytes from natural to zigzag order: for zigzag vector z
 * and natural vector n, at (z * 4 + n) * 16, the lanes of n that land in z (0x80, i.e. zero,
 * elsewhere). Built once per instance.
 */
const ZIGZAG_SWIZZLE: usize = allocPermanent(256);
for (let z: usize = 0; z < 4; z++) {
  for (let n: usize = 0; n < 4; n++) {
    for (let l: usize = 0; l < 16; l++) {
      const nat = <usize>load<u8>(NATURAL_ORDER + z * 16 + l);
      store<u8>(ZIGZAG_SWIZZLE + (z * 4 + n) * 16 + l, nat >> 4 == n ? <u8>(nat & 15) : 0x80);
    }
  }
}

/**
 * The non-zero coefficients of the block at `out` as a u64 in zigzag order (bit k: the k-th
 * coefficient in zigzag order), kept at out + 128. The entropy coder walks these bits, so runs of
 * zeros cost nothing and the block itself never needs reordering.
 */
// @ts-ignore: decorator
@inline function storeMask(out: usize): void {
  const z = i16x8.splat(0);
  // One byte per coefficient, 0xFF where non-zero, natural order.
  const n0 = i8x16.narrow_i16x8_s(i16x8.ne(v128.load(out), z), i16x8.ne(v128.load(out, 16), z));
  const n1 = i8x16.narrow_i16x8_s(i16x8.ne(v128.load(out, 32), z), i16x8.ne(v128.load(out, 48), z));
  const n2 = i8x16.narrow_i16x8_s(i16x8.ne(v128.load(out, 64), z), i16x8.ne(v128.load(out, 80), z));
  const n3 = i8x16.narrow_i16x8_s(i16x8.ne(v128.load(out, 96), z), i16x8.ne(v128.load(out, 112), z));
  let mask: u64 = 0;
  for (let k: usize = 0; k < 4; k++) {
    const t = ZIGZAG_SWIZZLE + (k << 6);
    const zz = v128.or(
      v128.or(i8x16.swizzle(n0, v128.load(t)), i8x16.swizzle(n1, v128.load(t, 16))),
      v128.or(i8x16.swizzle(n2, v128.load(t, 32)), i8x16.swizzle(n3, v128.load(t, 48))),
    );
    mask |= <u64>i8x16.bitmask(zz) << <u64>(k << 4);
  }
  store<u64>(out + 128, mask);
}
