// Dequantisation and inverse DCT, integer for integer the same as libjpeg-turbo's C code (without
// SIMD, as its WebAssembly builds run): jpeg_idct_islow (jidctint.c) for full size and
// jpeg_idct_4x4 / _2x2 / _1x1 (jidctred.c) for decoding straight to 1/2, 1/4 and 1/8. All arithmetic
// is i32, like JLONG in a 32-bit build, so even overflowing coefficients wrap the same way.
//
// `q` points at 64 i32 quantisation values in natural order, `block` at 64 i16 coefficients,
// `out` at the top-left output sample and `stride` is the output row pitch.

const CONST_BITS = 13;
const PASS1_BITS = 2;

const workspace: usize = memory.data(64 * 4, 16);

/**
 * libjpeg's post-IDCT range limit: the value is taken modulo 1024 (RANGE_MASK) as a signed 10-bit
 * number, then clamped to 0..255 after adding the 128 level shift.
 */
// @ts-ignore: decorator
@inline function limit(x: i32): u8 {
  let v = (((x & 1023) ^ 512) - 512) + 128;
  v = v < 0 ? 0 : v;
  return <u8>(v > 255 ? 255 : v);
}

// @ts-ignore: decorator
@inline function descale(x: i32, n: i32): i32 {
  return (x + (1 << (n - 1))) >> n;
}

// @ts-ignore: decorator
@inline function deq(block: usize, q: usize, i: i32): i32 {
  return <i32>load<i16>(block + (<usize>i << 1)) * load<i32>(q + (<usize>i << 2));
}

// @ts-ignore: decorator
@inline function ws(i: i32): i32 {
  return load<i32>(workspace + (<usize>i << 2));
}

// @ts-ignore: decorator
@inline function setWs(i: i32, v: i32): void {
  store<i32>(workspace + (<usize>i << 2), v);
}

// The 1-D 8-point islow transform, shared by both passes: the even part from inputs 0, 2, 4, 6 and
// the odd part from 1, 3, 5, 7, leaving the eight sums and differences' halves in these globals.
let e10 = 0, e11 = 0, e12 = 0, e13 = 0, o0 = 0, o1 = 0, o2 = 0, o3 = 0;

// @ts-ignore: decorator
@inline function islow1d(i0: i32, i1: i32, i2: i32, i3: i32, i4: i32, i5: i32, i6: i32, i7: i32): void {
  let z1 = (i2 + i6) * 4433;
  const tmp2 = z1 + i6 * -15137;
  const tmp3 = z1 + i2 * 6270;
  const tmp0 = (i0 + i4) << CONST_BITS;
  const tmp1 = (i0 - i4) << CONST_BITS;
  e10 = tmp0 + tmp3;
  e13 = tmp0 - tmp3;
  e11 = tmp1 + tmp2;
  e12 = tmp1 - tmp2;

  z1 = i7 + i1;
  let z2 = i5 + i3;
  let z3 = i7 + i3;
  let z4 = i5 + i1;
  const z5 = (z3 + z4) * 9633;
  z1 = z1 * -7373;
  z2 = z2 * -20995;
  z3 = z3 * -16069 + z5;
  z4 = z4 * -3196 + z5;
  o0 = i7 * 2446 + z1 + z3;
  o1 = i5 * 16819 + z2 + z4;
  o2 = i3 * 25172 + z2 + z3;
  o3 = i1 * 12299 + z1 + z4;
}

// @ts-ignore: decorator
@inline function k(c: i32): v128 {
  return i32x4.splat(c);
}

/** DESCALE on four lanes: i32 adds wrap like the scalar code's. */
// @ts-ignore: decorator
@inline function descale4(x: v128, n: i32): v128 {
  return i32x4.shr_s(i32x4.add(x, k(1 << (n - 1))), n);
}

/**
 * islow1d on four columns (pass 1) or four rows (pass 2) at once, the same i32 arithmetic lane by
 * lane. The eight outputs, descaled by `n`, go to `dst` + j * `pitch` for output j.
 */
// @ts-ignore: decorator
@inline function islow4(
  i0: v128, i1: v128, i2: v128, i3: v128, i4: v128, i5: v128, i6: v128, i7: v128, n: i32, dst: usize, pitch: usize,
): void {
  let z1 = i32x4.mul(i32x4.add(i2, i6), k(4433));
  const tmp2 = i32x4.add(z1, i32x4.mul(i6, k(-15137)));
  const tmp3 = i32x4.add(z1, i32x4.mul(i2, k(6270)));
  const tmp0 = i32x4.shl(i32x4.add(i0, i4), CONST_BITS);
  const tmp1 = i32x4.shl(i32x4.sub(i0, i4), CONST_BITS);
  const e10 = i32x4.add(tmp0, tmp3);
  const e13 = i32x4.sub(tmp0, tmp3);
  const e11 = i32x4.add(tmp1, tmp2);
  const e12 = i32x4.sub(tmp1, tmp2);

  z1 = i32x4.add(i7, i1);
  let z2 = i32x4.add(i5, i3);
  let z3 = i32x4.add(i7, i3);
  let z4 = i32x4.add(i5, i1);
  const z5 = i32x4.mul(i32x4.add(z3, z4), k(9633));
  z1 = i32x4.mul(z1, k(-7373));
  z2 = i32x4.mul(z2, k(-20995));
  z3 = i32x4.add(i32x4.mul(z3, k(-16069)), z5);
  z4 = i32x4.add(i32x4.mul(z4, k(-3196)), z5);
  const a0 = i32x4.add(i32x4.add(i32x4.mul(i7, k(2446)), z1), z3);
  const a1 = i32x4.add(i32x4.add(i32x4.mul(i5, k(16819)), z2), z4);
  const a2 = i32x4.add(i32x4.add(i32x4.mul(i3, k(25172)), z2), z3);
  const a3 = i32x4.add(i32x4.add(i32x4.mul(i1, k(12299)), z1), z4);

  outputs8(e10, e11, e12, e13, a0, a1, a2, a3, n, dst, pitch);
}

/** islow's eight outputs from its even (e1x) and odd (ax) parts, descaled by `n`, to `dst` + j * `pitch`. */
// @ts-ignore: decorator
@inline function outputs8(
  e10: v128, e11: v128, e12: v128, e13: v128, a0: v128, a1: v128, a2: v128, a3: v128, n: i32, dst: usize, pitch: usize,
): void {
  v128.store(dst, descale4(i32x4.add(e10, a3), n));
  v128.store(dst + pitch, descale4(i32x4.add(e11, a2), n));
  v128.store(dst + 2 * pitch, descale4(i32x4.add(e12, a1), n));
  v128.store(dst + 3 * pitch, descale4(i32x4.add(e13, a0), n));
  v128.store(dst + 4 * pitch, descale4(i32x4.sub(e13, a0), n));
  v128.store(dst + 5 * pitch, descale4(i32x4.sub(e12, a1), n));
  v128.store(dst + 6 * pitch, descale4(i32x4.sub(e11, a2), n));
  v128.store(dst + 7 * pitch, descale4(i32x4.sub(e10, a3), n));
}

/**
 * islow4 for inputs 4-7 all zero (a block whose coefficients are all in rows 0-3, or a workspace
 * row whose columns 4-7 are): the terms they contribute dropped, the same i32 results.
 */
// @ts-ignore: decorator
@inline function islow4Low(i0: v128, i1: v128, i2: v128, i3: v128, n: i32, dst: usize, pitch: usize): void {
  const z1e = i32x4.mul(i2, k(4433));
  const tmp3 = i32x4.add(z1e, i32x4.mul(i2, k(6270)));
  const tmp0 = i32x4.shl(i0, CONST_BITS);
  const e10 = i32x4.add(tmp0, tmp3);
  const e13 = i32x4.sub(tmp0, tmp3);
  const e11 = i32x4.add(tmp0, z1e);
  const e12 = i32x4.sub(tmp0, z1e);

  const z5 = i32x4.mul(i32x4.add(i3, i1), k(9633));
  const z1 = i32x4.mul(i1, k(-7373));
  const z2 = i32x4.mul(i3, k(-20995));
  const z3 = i32x4.add(i32x4.mul(i3, k(-16069)), z5);
  const z4 = i32x4.add(i32x4.mul(i1, k(-3196)), z5);
  const a0 = i32x4.add(z1, z3);
  const a1 = i32x4.add(z2, z4);
  const a2 = i32x4.add(i32x4.add(i32x4.mul(i3, k(25172)), z2), z3);
  const a3 = i32x4.add(i32x4.add(i32x4.mul(i1, k(12299)), z1), z4);

  outputs8(e10, e11, e12, e13, a0, a1, a2, a3, n, dst, pitch);
}

/** Pass 2's eight outputs for four rows, one vector per output column. */
const rowsOut: usize = memory.data(8 * 16, 16);

/** limit() on four lanes, before the saturating narrows that clamp to 0..255. */
// @ts-ignore: decorator
@inline function wrap4(x: v128): v128 {
  return i32x4.sub(v128.xor(v128.and(x, k(1023)), k(512)), k(384));
}

/** Four coefficients of the row at byte offset `off`, columns 0-3 (half 0) or 4-7, as i32. */
// @ts-ignore: decorator
@inline function coefs(block: usize, off: usize, half: usize): v128 {
  const v = v128.load(block + off);
  return half == 0 ? i32x4.extend_low_i16x8_s(v) : i32x4.extend_high_i16x8_s(v);
}

/**
 * Pass 1 on four columns (half 0: columns 0-3, half 1: 4-7) into the workspace, whose rows are 32
 * bytes. A column whose AC terms are all zero takes libjpeg's shortcut value, DC << PASS1_BITS,
 * which the full computation only matches when nothing overflows.
 */
// @ts-ignore: decorator
@inline function pass1(block: usize, q: usize, half: usize, constant: v128): void {
  const o = half << 4;
  const c0 = i32x4.mul(coefs(block, 0, half), v128.load(q + o));
  const c1 = i32x4.mul(coefs(block, 16, half), v128.load(q + o, 32));
  const c2 = i32x4.mul(coefs(block, 32, half), v128.load(q + o, 64));
  const c3 = i32x4.mul(coefs(block, 48, half), v128.load(q + o, 96));
  const c4 = i32x4.mul(coefs(block, 64, half), v128.load(q + o, 128));
  const c5 = i32x4.mul(coefs(block, 80, half), v128.load(q + o, 160));
  const c6 = i32x4.mul(coefs(block, 96, half), v128.load(q + o, 192));
  const c7 = i32x4.mul(coefs(block, 112, half), v128.load(q + o, 224));
  const ws0 = workspace + o;
  islow4(c0, c1, c2, c3, c4, c5, c6, c7, CONST_BITS - PASS1_BITS, ws0, 32);
  shortcut(ws0, c0, constant);
}

/** libjpeg's shortcut value, DC << PASS1_BITS, in the `constant` lanes of pass 1's eight rows at `ws0`. */
// @ts-ignore: decorator
@inline function shortcut(ws0: usize, c0: v128, constant: v128): void {
  if (v128.any_true(constant)) {
    const dc = i32x4.shl(c0, PASS1_BITS);
    for (let r: usize = 0; r < 8; r++) {
      const at = ws0 + (r << 5);
      v128.store(at, v128.bitselect(dc, v128.load(at), constant));
    }
  }
}

/** Pass 1 on columns 0-3 of a block whose coefficients are all in rows 0-3 and columns 0-3. */
// @ts-ignore: decorator
@inline function pass1Low(block: usize, q: usize, constant: v128): void {
  const c0 = i32x4.mul(coefs(block, 0, 0), v128.load(q));
  const c1 = i32x4.mul(coefs(block, 16, 0), v128.load(q, 32));
  const c2 = i32x4.mul(coefs(block, 32, 0), v128.load(q, 64));
  const c3 = i32x4.mul(coefs(block, 48, 0), v128.load(q, 96));
  islow4Low(c0, c1, c2, c3, CONST_BITS - PASS1_BITS, workspace, 32);
  shortcut(workspace, c0, constant);
}

/** Four rows of the workspace as eight vectors, one per column: four 4x4 transposes. */
const columns: usize = memory.data(8 * 16, 16);

// @ts-ignore: decorator
@inline function transposeRows(w: usize): void {
  const a0 = v128.load(w), a1 = v128.load(w, 32), a2 = v128.load(w, 64), a3 = v128.load(w, 96);
  const b0 = v128.load(w, 16), b1 = v128.load(w, 48), b2 = v128.load(w, 80), b3 = v128.load(w, 112);
  const a01l = i32x4.shuffle(a0, a1, 0, 4, 1, 5), a01h = i32x4.shuffle(a0, a1, 2, 6, 3, 7);
  const a23l = i32x4.shuffle(a2, a3, 0, 4, 1, 5), a23h = i32x4.shuffle(a2, a3, 2, 6, 3, 7);
  const b01l = i32x4.shuffle(b0, b1, 0, 4, 1, 5), b01h = i32x4.shuffle(b0, b1, 2, 6, 3, 7);
  const b23l = i32x4.shuffle(b2, b3, 0, 4, 1, 5), b23h = i32x4.shuffle(b2, b3, 2, 6, 3, 7);
  const i0 = i64x2.shuffle(a01l, a23l, 0, 2), i1 = i64x2.shuffle(a01l, a23l, 1, 3);
  const i2 = i64x2.shuffle(a01h, a23h, 0, 2), i3 = i64x2.shuffle(a01h, a23h, 1, 3);
  const i4 = i64x2.shuffle(b01l, b23l, 0, 2), i5 = i64x2.shuffle(b01l, b23l, 1, 3);
  const i6 = i64x2.shuffle(b01h, b23h, 0, 2), i7 = i64x2.shuffle(b01h, b23h, 1, 3);
  v128.store(columns, i0);
  v128.store(columns, i1, 16);
  v128.store(columns, i2, 32);
  v128.store(columns, i3, 48);
  v128.store(columns, i4, 64);
  v128.store(columns, i5, 80);
  v128.store(columns, i6, 96);
  v128.store(columns, i7, 112);
}

/** transposeRows for columns 0-3 only (the others are zero): columns 0-3 of four rows as four vectors. */
// @ts-ignore: decorator
@inline function transpose4(w: usize): void {
  const a0 = v128.load(w), a1 = v128.load(w, 32), a2 = v128.load(w, 64), a3 = v128.load(w, 96);
  const a01l = i32x4.shuffle(a0, a1, 0, 4, 1, 5), a01h = i32x4.shuffle(a0, a1, 2, 6, 3, 7);
  const a23l = i32x4.shuffle(a2, a3, 0, 4, 1, 5), a23h = i32x4.shuffle(a2, a3, 2, 6, 3, 7);
  v128.store(columns, i64x2.shuffle(a01l, a23l, 0, 2));
  v128.store(columns, i64x2.shuffle(a01l, a23l, 1, 3), 16);
  v128.store(columns, i64x2.shuffle(a01h, a23h, 0, 2), 32);
  v128.store(columns, i64x2.shuffle(a01h, a23h, 1, 3), 48);
}

// @ts-ignore: decorator
@inline function column(k: usize): v128 {
  return v128.load(columns + (k << 4));
}

/** Pass 2 on rows 4g..4g+3 of the workspace, stored as bytes at `out`. */
// @ts-ignore: decorator
@inline function pass2(g: usize, out: usize, stride: usize): void {
  transposeRows(workspace + (g << 7));
  islow4(
    column(0), column(1), column(2), column(3), column(4), column(5), column(6), column(7),
    CONST_BITS + PASS1_BITS + 3, rowsOut, 16,
  );
  storeRows(out, stride);
}

/** Pass 2 on rows 4g..4g+3 of a workspace whose columns 4-7 are zero. */
// @ts-ignore: decorator
@inline function pass2Low(g: usize, out: usize, stride: usize): void {
  const w = workspace + (g << 7);
  transpose4(w);
  islow4Low(column(0), column(1), column(2), column(3), CONST_BITS + PASS1_BITS + 3, rowsOut, 16);
  storeRows(out, stride);
}

/** Pass 2's outputs (rowsOut: a vector per output column, a lane per row) range-limited into four rows at `out`. */
// @ts-ignore: decorator
@inline function storeRows(out: usize, stride: usize): void {
  const p01 = i16x8.narrow_i32x4_s(wrap4(v128.load(rowsOut)), wrap4(v128.load(rowsOut, 16)));
  const p23 = i16x8.narrow_i32x4_s(wrap4(v128.load(rowsOut, 32)), wrap4(v128.load(rowsOut, 48)));
  const p45 = i16x8.narrow_i32x4_s(wrap4(v128.load(rowsOut, 64)), wrap4(v128.load(rowsOut, 80)));
  const p67 = i16x8.narrow_i32x4_s(wrap4(v128.load(rowsOut, 96)), wrap4(v128.load(rowsOut, 112)));
  // Byte 4j + r is output column j of row r.
  const lo = i8x16.narrow_i16x8_u(p01, p23);
  const hi = i8x16.narrow_i16x8_u(p45, p67);
  const r01 = i8x16.shuffle(lo, hi, 0, 4, 8, 12, 16, 20, 24, 28, 1, 5, 9, 13, 17, 21, 25, 29);
  const r23 = i8x16.shuffle(lo, hi, 2, 6, 10, 14, 18, 22, 26, 30, 3, 7, 11, 15, 19, 23, 27, 31);
  v128.store64_lane(out, r01, 0);
  v128.store64_lane(out + stride, r01, 1);
  v128.store64_lane(out + 2 * stride, r23, 0);
  v128.store64_lane(out + 3 * stride, r23, 1);
}

/**
 * jpeg_idct_islow with SIMD: pass 1 on four columns at a time, pass 2 on four rows at a time, each
 * lane computing exactly what the scalar transform computes (the range limit is a mask and two
 * saturating narrows). A block with only a DC coefficient is one constant, computed the same way.
 */
export function idctIslow(block: usize, q: usize, out: usize, stride: usize): void {
  const zero = i16x8.splat(0);
  const r0 = v128.load(block);
  let ac = v128.or(v128.load(block, 16), v128.load(block, 32));
  ac = v128.or(ac, v128.or(v128.load(block, 48), v128.load(block, 64)));
  ac = v128.or(ac, v128.or(v128.load(block, 80), v128.load(block, 96)));
  ac = v128.or(ac, v128.load(block, 112));
  // Lanes whose column has no AC term.
  const constant = i16x8.eq(ac, zero);
  if (i16x8.all_true(constant) && !v128.any_true(i16x8.shuffle(r0, zero, 1, 2, 3, 4, 5, 6, 7, 8))) {
    // Pass 1 gives DC << PASS1_BITS in column 0 and zeros; every row of pass 2 then yields the
    // same value from its first input alone.
    const w0 = deq(block, q, 0) << PASS1_BITS;
    const v = <u64>limit(descale(w0 << CONST_BITS, CONST_BITS + PASS1_BITS + 3)) * 0x0101010101010101;
    for (let r: usize = 0; r < 8; r++) store<u64>(out + r * stride, v);
    return;
  }
  const lowRows = !v128.any_true(v128.or(v128.or(v128.load(block, 64), v128.load(block, 80)), v128.or(v128.load(block, 96), v128.load(block, 112))));
  if (lowRows && i64x2.extract_lane(v128.or(ac, r0), 1) == 0) {
    // Coefficients only in rows 0-3 and columns 0-3 (most blocks of a photo at usual qualities):
    // both passes without the terms of inputs 4-7, which are zero.
    pass1Low(block, q, i32x4.extend_low_i16x8_s(constant));
    pass2Low(0, out, stride);
    pass2Low(1, out + 4 * stride, stride);
    return;
  }
  pass1(block, q, 0, i32x4.extend_low_i16x8_s(constant));
  if (i64x2.extract_lane(constant, 1) == -1 && i64x2.extract_lane(r0, 1) == 0) {
    // Columns 4-7 hold no coefficient at all (common in chroma): their shortcut values are zeros.
    const z = i32x4.splat(0);
    for (let r: usize = 0; r < 8; r++) v128.store(workspace + (r << 5), z, 16);
  } else {
    pass1(block, q, 1, i32x4.extend_high_i16x8_s(constant));
  }
  pass2(0, out, stride);
  pass2(1, out + 4 * stride, stride);
}

/**
 * jpeg_idct_4x4's 1-D transform on four lanes; input 4 is not used. Outputs 0-3, descaled by `n`,
 * go to `dst` + j * `pitch`.
 */
// @ts-ignore: decorator
@inline function reduced4(
  i0: v128, i1: v128, i2: v128, i3: v128, i5: v128, i6: v128, i7: v128, n: i32, dst: usize, pitch: usize,
): void {
  const t0 = i32x4.shl(i0, CONST_BITS + 1);
  const t2 = i32x4.add(i32x4.mul(i2, k(15137)), i32x4.mul(i6, k(-6270)));
  const tmp10 = i32x4.add(t0, t2);
  const tmp12 = i32x4.sub(t0, t2);
  const odd0 = i32x4.add(
    i32x4.add(i32x4.mul(i7, k(-1730)), i32x4.mul(i5, k(11893))),
    i32x4.add(i32x4.mul(i3, k(-17799)), i32x4.mul(i1, k(8697))),
  );
  const odd2 = i32x4.add(
    i32x4.add(i32x4.mul(i7, k(-4176)), i32x4.mul(i5, k(-4926))),
    i32x4.add(i32x4.mul(i3, k(7373)), i32x4.mul(i1, k(20995))),
  );
  v128.store(dst, descale4(i32x4.add(tmp10, odd2), n));
  v128.store(dst + pitch, descale4(i32x4.add(tmp12, odd0), n));
  v128.store(dst + 2 * pitch, descale4(i32x4.sub(tmp12, odd0), n));
  v128.store(dst + 3 * pitch, descale4(i32x4.sub(tmp10, odd2), n));
}

/** reduced4 for inputs 5-7 all zero: the terms they contribute dropped, the same i32 results. */
// @ts-ignore: decorator
@inline function reduced4Low(i0: v128, i1: v128, i2: v128, i3: v128, n: i32, dst: usize, pitch: usize): void {
  const t0 = i32x4.shl(i0, CONST_BITS + 1);
  const t2 = i32x4.mul(i2, k(15137));
  const tmp10 = i32x4.add(t0, t2);
  const tmp12 = i32x4.sub(t0, t2);
  const odd0 = i32x4.add(i32x4.mul(i3, k(-17799)), i32x4.mul(i1, k(8697)));
  const odd2 = i32x4.add(i32x4.mul(i3, k(7373)), i32x4.mul(i1, k(20995)));
  v128.store(dst, descale4(i32x4.add(tmp10, odd2), n));
  v128.store(dst + pitch, descale4(i32x4.add(tmp12, odd0), n));
  v128.store(dst + 2 * pitch, descale4(i32x4.sub(tmp12, odd0), n));
  v128.store(dst + 3 * pitch, descale4(i32x4.sub(tmp10, odd2), n));
}

/** jpeg_idct_4x4's first pass on four columns (column 4, computed in half 1, is never read). */
// @ts-ignore: decorator
@inline function reducedPass1(block: usize, q: usize, half: usize): void {
  const o = half << 4;
  reduced4(
    i32x4.mul(coefs(block, 0, half), v128.load(q + o)),
    i32x4.mul(coefs(block, 16, half), v128.load(q + o, 32)),
    i32x4.mul(coefs(block, 32, half), v128.load(q + o, 64)),
    i32x4.mul(coefs(block, 48, half), v128.load(q + o, 96)),
    i32x4.mul(coefs(block, 80, half), v128.load(q + o, 160)),
    i32x4.mul(coefs(block, 96, half), v128.load(q + o, 192)),
    i32x4.mul(coefs(block, 112, half), v128.load(q + o, 224)),
    CONST_BITS - PASS1_BITS + 1, workspace + o, 32,
  );
}

/**
 * jpeg_idct_4x4 (rows/columns 4 of the coefficients are not used by this reduced transform) with
 * SIMD like idctIslow: four columns, then the four rows, each lane the scalar arithmetic.
 */
export function idct4x4(block: usize, q: usize, out: usize, stride: usize): void {
  const r0 = v128.load(block), r1 = v128.load(block, 16), r2 = v128.load(block, 32), r3 = v128.load(block, 48);
  const rows57 = v128.or(v128.or(v128.load(block, 80), v128.load(block, 96)), v128.load(block, 112));
  const low = v128.or(v128.or(r0, r1), v128.or(r2, r3));
  if (!v128.any_true(rows57) && (i64x2.extract_lane(low, 1) >>> 16) == 0) {
    // Coefficients only in rows 0-4 and columns 0-4 (most luma blocks of a photo at usual
    // qualities; row and column 4 are not used): both passes on four lanes without inputs 5-7.
    const o = CONST_BITS - PASS1_BITS + 1;
    reduced4Low(
      i32x4.mul(i32x4.extend_low_i16x8_s(r0), v128.load(q)), i32x4.mul(i32x4.extend_low_i16x8_s(r1), v128.load(q, 32)),
      i32x4.mul(i32x4.extend_low_i16x8_s(r2), v128.load(q, 64)), i32x4.mul(i32x4.extend_low_i16x8_s(r3), v128.load(q, 96)),
      o, workspace, 32,
    );
    transpose4(workspace);
    reduced4Low(column(0), column(1), column(2), column(3), CONST_BITS + PASS1_BITS + 3 + 1, rowsOut, 16);
  } else {
    reducedPass1(block, q, 0);
    reducedPass1(block, q, 1);
    transposeRows(workspace);
    reduced4(
      column(0), column(1), column(2), column(3), column(5), column(6), column(7),
      CONST_BITS + PASS1_BITS + 3 + 1, rowsOut, 16,
    );
  }
  const p01 = i16x8.narrow_i32x4_s(wrap4(v128.load(rowsOut)), wrap4(v128.load(rowsOut, 16)));
  const p23 = i16x8.narrow_i32x4_s(wrap4(v128.load(rowsOut, 32)), wrap4(v128.load(rowsOut, 48)));
  // Byte 4j + r is output column j of row r: regroup by rows.
  const b = i8x16.narrow_i16x8_u(p01, p23);
  const rows = i8x16.shuffle(b, b, 0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
  v128.store32_lane(out, rows, 0);
  v128.store32_lane(out + stride, rows, 1);
  v128.store32_lane(out + 2 * stride, rows, 2);
  v128.store32_lane(out + 3 * stride, rows, 3);
}

/**
 * jpeg_idct_2x2's first pass on four columns (half 0: 0-3, half 1: 4-7; columns 2, 4 and 6 are
 * computed and never read) into the workspace: output row 0 at its start, row 1 eight lanes on.
 */
// @ts-ignore: decorator
@inline function reduced2Pass1(block: usize, q: usize, half: usize): void {
  const o = half << 4;
  const tmp10 = i32x4.shl(i32x4.mul(coefs(block, 0, half), v128.load(q + o)), CONST_BITS + 2);
  const tmp0 = i32x4.add(
    i32x4.add(i32x4.mul(i32x4.mul(coefs(block, 112, half), v128.load(q + o, 224)), k(-5906)), i32x4.mul(i32x4.mul(coefs(block, 80, half), v128.load(q + o, 160)), k(6967))),
    i32x4.add(i32x4.mul(i32x4.mul(coefs(block, 48, half), v128.load(q + o, 96)), k(-10426)), i32x4.mul(i32x4.mul(coefs(block, 16, half), v128.load(q + o, 32)), k(29692))),
  );
  const n = CONST_BITS - PASS1_BITS + 2;
  v128.store(workspace + o, descale4(i32x4.add(tmp10, tmp0), n));
  v128.store(workspace + o, descale4(i32x4.sub(tmp10, tmp0), n), 32);
}

/**
 * jpeg_idct_2x2: only the DC and odd coefficients 1, 3, 5, 7 of each row and column count. The
 * first pass on four columns at a time (each lane the scalar arithmetic), the second on the two
 * rows from the workspace.
 */
export function idct2x2(block: usize, q: usize, out: usize, stride: usize): void {
  reduced2Pass1(block, q, 0);
  reduced2Pass1(block, q, 1);
  const n = CONST_BITS + PASS1_BITS + 3 + 2;
  for (let r = 0; r < 2; r++) {
    const w = r * 8;
    const o = out + <usize>r * stride;
    const tmp10 = ws(w) << (CONST_BITS + 2);
    const tmp0 = ws(w + 7) * -5906 + ws(w + 5) * 6967 + ws(w + 3) * -10426 + ws(w + 1) * 29692;
    store<u8>(o, limit(descale(tmp10 + tmp0, n)));
    store<u8>(o + 1, limit(descale(tmp10 - tmp0, n)));
  }
}

/** jpeg_idct_1x1: the block's average, from its DC coefficient alone. */
export function idct1x1(block: usize, q: usize, out: usize): void {
  store<u8>(out, limit(descale(deq(block, q, 0), 3)));
}
