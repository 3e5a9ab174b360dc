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

export function idctIslow(block: usize, q: usize, out: usize, stride: usize): void {
  for (let c = 0; c < 8; c++) {
    if (
      load<i16>(block + <usize>((8 + c) << 1)) == 0 && load<i16>(block + <usize>((16 + c) << 1)) == 0 &&
      load<i16>(block + <usize>((24 + c) << 1)) == 0 && load<i16>(block + <usize>((32 + c) << 1)) == 0 &&
      load<i16>(block + <usize>((40 + c) << 1)) == 0 && load<i16>(block + <usize>((48 + c) << 1)) == 0 &&
      load<i16>(block + <usize>((56 + c) << 1)) == 0
    ) {
      // AC terms all zero: the column is constant (the same result the full computation gives).
      const dc = deq(block, q, c) << PASS1_BITS;
      for (let r = 0; r < 8; r++) setWs(r * 8 + c, dc);
      continue;
    }
    islow1d(
      deq(block, q, c), deq(block, q, 8 + c), deq(block, q, 16 + c), deq(block, q, 24 + c),
      deq(block, q, 32 + c), deq(block, q, 40 + c), deq(block, q, 48 + c), deq(block, q, 56 + c),
    );
    const n = CONST_BITS - PASS1_BITS;
    setWs(c, descale(e10 + o3, n));
    setWs(56 + c, descale(e10 - o3, n));
    setWs(8 + c, descale(e11 + o2, n));
    setWs(48 + c, descale(e11 - o2, n));
    setWs(16 + c, descale(e12 + o1, n));
    setWs(40 + c, descale(e12 - o1, n));
    setWs(24 + c, descale(e13 + o0, n));
    setWs(32 + c, descale(e13 - o0, n));
  }

  const n = CONST_BITS + PASS1_BITS + 3;
  for (let r = 0; r < 8; r++) {
    const w = r * 8;
    const o = out + <usize>r * stride;
    islow1d(ws(w), ws(w + 1), ws(w + 2), ws(w + 3), ws(w + 4), ws(w + 5), ws(w + 6), ws(w + 7));
    store<u8>(o, limit(descale(e10 + o3, n)));
    store<u8>(o + 7, limit(descale(e10 - o3, n)));
    store<u8>(o + 1, limit(descale(e11 + o2, n)));
    store<u8>(o + 6, limit(descale(e11 - o2, n)));
    store<u8>(o + 2, limit(descale(e12 + o1, n)));
    store<u8>(o + 5, limit(descale(e12 - o1, n)));
    store<u8>(o + 3, limit(descale(e13 + o0, n)));
    store<u8>(o + 4, limit(descale(e13 - o0, n)));
  }
}

/** jpeg_idct_4x4: rows/columns 4 of the coefficients are not used by this reduced transform. */
export function idct4x4(block: usize, q: usize, out: usize, stride: usize): void {
  for (let c = 0; c < 8; c++) {
    if (c == 4) continue;
    let tmp0 = deq(block, q, c) << (CONST_BITS + 1);
    let z2 = deq(block, q, 16 + c);
    let z3 = deq(block, q, 48 + c);
    let tmp2 = z2 * 15137 + z3 * -6270;
    const tmp10 = tmp0 + tmp2;
    const tmp12 = tmp0 - tmp2;
    const z1 = deq(block, q, 56 + c);
    z2 = deq(block, q, 40 + c);
    z3 = deq(block, q, 24 + c);
    const z4 = deq(block, q, 8 + c);
    tmp0 = z1 * -1730 + z2 * 11893 + z3 * -17799 + z4 * 8697;
    tmp2 = z1 * -4176 + z2 * -4926 + z3 * 7373 + z4 * 20995;
    const n = CONST_BITS - PASS1_BITS + 1;
    setWs(c, descale(tmp10 + tmp2, n));
    setWs(24 + c, descale(tmp10 - tmp2, n));
    setWs(8 + c, descale(tmp12 + tmp0, n));
    setWs(16 + c, descale(tmp12 - tmp0, n));
  }
  const n = CONST_BITS + PASS1_BITS + 3 + 1;
  for (let r = 0; r < 4; r++) {
    const w = r * 8;
    const o = out + <usize>r * stride;
    let tmp0 = ws(w) << (CONST_BITS + 1);
    let tmp2 = ws(w + 2) * 15137 + ws(w + 6) * -6270;
    const tmp10 = tmp0 + tmp2;
    const tmp12 = tmp0 - tmp2;
    const z1 = ws(w + 7);
    const z2 = ws(w + 5);
    const z3 = ws(w + 3);
    const z4 = ws(w + 1);
    tmp0 = z1 * -1730 + z2 * 11893 + z3 * -17799 + z4 * 8697;
    tmp2 = z1 * -4176 + z2 * -4926 + z3 * 7373 + z4 * 20995;
    store<u8>(o, limit(descale(tmp10 + tmp2, n)));
    store<u8>(o + 3, limit(descale(tmp10 - tmp2, n)));
    store<u8>(o + 1, limit(descale(tmp12 + tmp0, n)));
    store<u8>(o + 2, limit(descale(tmp12 - tmp0, n)));
  }
}

/** jpeg_idct_2x2: only the DC and odd coefficients 1, 3, 5, 7 of each row and column count. */
export function idct2x2(block: usize, q: usize, out: usize, stride: usize): void {
  for (let c = 0; c < 8; c++) {
    if (c == 2 || c == 4 || c == 6) continue;
    const tmp10 = deq(block, q, c) << (CONST_BITS + 2);
    const tmp0 = deq(block, q, 56 + c) * -5906 + deq(block, q, 40 + c) * 6967 +
      deq(block, q, 24 + c) * -10426 + deq(block, q, 8 + c) * 29692;
    const n = CONST_BITS - PASS1_BITS + 2;
    setWs(c, descale(tmp10 + tmp0, n));
    setWs(8 + c, descale(tmp10 - tmp0, n));
  }
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
