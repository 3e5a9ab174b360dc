// Upsampling and colour conversion, as libjpeg-turbo's jdsample.c and jdcolor.c do them, from the
// decoded component planes to RGBA rows. Planes hold whole blocks (three MCU rows of them, used as a
// ring: see index.ts); only `dw` x `dh` samples of each (libjpeg's downsampled_width/height) are
// image data, and the fancy (triangle) filters replicate the edge sample rather than read the
// padding, like libjpeg's context rows do.

/** How a component's samples become output pixels (jinit_upsampler's choice). */
export const FULLSIZE: i32 = 0;
export const H2V1_FANCY: i32 = 1;
export const H1V2_FANCY: i32 = 2;
export const H2V2_FANCY: i32 = 3;
/** Box replication by integer factors (h2v1_upsample, h2v2_upsample, int_upsample). */
export const REPLICATE: i32 = 4;

// jdcolor.c's build_ycc_rgb_table with SCALEBITS = 16.
const crR: usize = memory.data(256 * 4, 4);
const cbB: usize = memory.data(256 * 4, 4);
const crG: usize = memory.data(256 * 4, 4);
const cbG: usize = memory.data(256 * 4, 4);
for (let i = 0; i < 256; i++) {
  const x = i - 128;
  store<i32>(crR + (<usize>i << 2), (91881 * x + 32768) >> 16);
  store<i32>(cbB + (<usize>i << 2), (116130 * x + 32768) >> 16);
  store<i32>(crG + (<usize>i << 2), -46802 * x);
  store<i32>(cbG + (<usize>i << 2), -22554 * x + 32768);
}

// @ts-ignore: decorator
@inline function clamp(v: i32): u32 {
  return <u32>(v < 0 ? 0 : v > 255 ? 255 : v);
}

/**
 * The samples of a component for output row `y`, `width` of them. Its plane holds `ring` sample rows:
 * sample row r is at row r % ring.
 */
export function upsampleRow(
  plane: usize, stride: i32, ring: i32, dw: i32, dh: i32, m: i32, hexp: i32, vexp: i32, out: usize, y: i32, width: i32,
): usize {
  if (m == FULLSIZE) return plane + <usize>(y % ring) * <usize>stride;
  if (m == H2V1_FANCY) {
    h2v1Fancy(plane + <usize>(y % ring) * <usize>stride, out, dw);
    return out;
  }
  if (m == H2V2_FANCY || m == H1V2_FANCY) {
    const r = y >> 1;
    const near = plane + <usize>(r % ring) * <usize>stride;
    // Even output rows lean on the row above, odd rows on the row below.
    const odd = (y & 1) != 0;
    let fr = odd ? r + 1 : r - 1;
    // Context rows outside the image repeat the edge row (jdmainct.c's top and bottom pointers).
    fr = fr < 0 ? 0 : fr >= dh ? dh - 1 : fr;
    const far = plane + <usize>(fr % ring) * <usize>stride;
    if (m == H1V2_FANCY) h1v2Fancy(near, far, out, dw, odd ? 2 : 1);
    else h2v2Fancy(near, far, out, dw);
    return out;
  }
  // REPLICATE: the box filter reads whole-block samples, padding included, as libjpeg's does.
  const inp = plane + <usize>((y / vexp) % ring) * <usize>stride;
  const h = hexp;
  for (let x = 0; x < width; x++) store<u8>(out + <usize>x, load<u8>(inp + <usize>(x / h)));
  return out;
}

// The fancy filters below replicate the edge sample at both ends of a row, which is what
// libjpeg's separate first and last column formulas amount to. The SIMD loops cover the samples
// whose neighbours are both inside the row; the few at the ends go through the scalar formula.

/** Bytes 0-7 of `a` and of `b` interleaved: a0 b0 a1 b1 ... a7 b7. */
// @ts-ignore: decorator
@inline function zip8(a: v128, b: v128): v128 {
  return i8x16.shuffle(a, b, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
}

// @ts-ignore: decorator
@inline function u8x8(p: usize): v128 {
  return i16x8.extend_low_i8x16_u(v128.load64_zero(p));
}

// @ts-ignore: decorator
@inline function at(p: usize, i: i32, n: i32): i32 {
  return <i32>load<u8>(p + <usize>(i < 0 ? 0 : i >= n ? n - 1 : i));
}

/** h2v1_fancy_upsample: out[2i] = (3 v[i] + v[i-1] + 1) / 4, out[2i+1] = (3 v[i] + v[i+1] + 2) / 4. */
function h2v1Fancy(inp: usize, out: usize, dw: i32): void {
  let i = 1;
  for (; i + 9 <= dw; i += 8) {
    const v3 = i16x8.mul(u8x8(inp + <usize>i), i16x8.splat(3));
    const even = i16x8.shr_u(i16x8.add(i16x8.add(v3, u8x8(inp + <usize>(i - 1))), i16x8.splat(1)), 2);
    const odd = i16x8.shr_u(i16x8.add(i16x8.add(v3, u8x8(inp + <usize>(i + 1))), i16x8.splat(2)), 2);
    const b = i8x16.narrow_i16x8_u(even, odd);
    v128.store(out + <usize>(2 * i), zip8(b, i8x16.shuffle(b, b, 8, 9, 10, 11, 12, 13, 14, 15, 0, 0, 0, 0, 0, 0, 0, 0)));
  }
  h2v1Scalar(inp, out, dw, 0);
  for (; i < dw; i++) h2v1Scalar(inp, out, dw, i);
}

// @ts-ignore: decorator
@inline function h2v1Scalar(inp: usize, out: usize, dw: i32, i: i32): void {
  const v = at(inp, i, dw) * 3;
  store<u8>(out + <usize>(2 * i), <u8>((v + at(inp, i - 1, dw) + 1) >> 2));
  store<u8>(out + <usize>(2 * i + 1), <u8>((v + at(inp, i + 1, dw) + 2) >> 2));
}

/** h1v2_fancy_upsample: (3 near + far + bias) / 4, bias 1 for the upper and 2 for the lower row. */
function h1v2Fancy(near: usize, far: usize, out: usize, dw: i32, bias: i32): void {
  let i = 0;
  for (; i + 8 <= dw; i += 8) {
    const s = i16x8.add(i16x8.add(i16x8.mul(u8x8(near + <usize>i), i16x8.splat(3)), u8x8(far + <usize>i)), i16x8.splat(<i16>bias));
    v128.store64_lane(out + <usize>i, i8x16.narrow_i16x8_u(i16x8.shr_u(s, 2), s), 0);
  }
  for (; i < dw; i++) {
    store<u8>(out + <usize>i, <u8>((<i32>load<u8>(near + <usize>i) * 3 + <i32>load<u8>(far + <usize>i) + bias) >> 2));
  }
}

/**
 * h2v2_fancy_upsample: column sums c = 3 near + far, then out[2i] = (3 c[i] + c[i-1] + 8) / 16 and
 * out[2i+1] = (3 c[i] + c[i+1] + 7) / 16.
 */
function h2v2Fancy(near: usize, far: usize, out: usize, dw: i32): void {
  const three = i16x8.splat(3);
  let i = 1;
  for (; i + 9 <= dw; i += 8) {
    const p = <usize>(i - 1);
    const cp = i16x8.add(i16x8.mul(u8x8(near + p), three), u8x8(far + p));
    const c = i16x8.add(i16x8.mul(u8x8(near + p + 1), three), u8x8(far + p + 1));
    const cn = i16x8.add(i16x8.mul(u8x8(near + p + 2), three), u8x8(far + p + 2));
    const c3 = i16x8.mul(c, three);
    const even = i16x8.shr_u(i16x8.add(i16x8.add(c3, cp), i16x8.splat(8)), 4);
    const odd = i16x8.shr_u(i16x8.add(i16x8.add(c3, cn), i16x8.splat(7)), 4);
    const b = i8x16.narrow_i16x8_u(even, odd);
    v128.store(out + <usize>(2 * i), zip8(b, i8x16.shuffle(b, b, 8, 9, 10, 11, 12, 13, 14, 15, 0, 0, 0, 0, 0, 0, 0, 0)));
  }
  h2v2Scalar(near, far, out, dw, 0);
  for (; i < dw; i++) h2v2Scalar(near, far, out, dw, i);
}

// @ts-ignore: decorator
@inline function h2v2Scalar(near: usize, far: usize, out: usize, dw: i32, i: i32): void {
  const c = (at(near, i, dw) * 3 + at(far, i, dw)) * 3;
  const cp = at(near, i - 1, dw) * 3 + at(far, i - 1, dw);
  const cn = at(near, i + 1, dw) * 3 + at(far, i + 1, dw);
  store<u8>(out + <usize>(2 * i), <u8>((c + cp + 8) >> 4));
  store<u8>(out + <usize>(2 * i + 1), <u8>((c + cn + 7) >> 4));
}

// ycc_rgb_convert's table entries as exact integer expressions, so eight pixels convert at once:
//   R = Y + (91881 x + 32768) >> 16              = Y + xr + ((26345 xr + 32768) >> 16)
//   G = Y + (-22554 xb - 46802 xr + 32768) >> 16 = Y - xr + ((-22554 xb + 18734 xr + 32768) >> 16)
//   B = Y + (116130 x + 32768) >> 16             = Y + 2 xb + ((-14942 xb + 32768) >> 16)
// (x = Cb or Cr - 128; whole multiples of 65536 leave the shift unchanged). Each product pair is an
// i16 dot product: [x, -1] . [c, -32768] = c x + 32768.
// @ts-ignore: decorator
@inline function ycc8(y: v128, xb: v128, xr: v128, o: usize): void {
  const m1 = i16x8.splat(-1);
  const cR = i32x4.splat(((-32768) << 16) | 26345);
  const cB = i32x4.splat(((-32768) << 16) | (-14942 & 0xffff));
  const cG = i32x4.splat((18734 << 16) | (-22554 & 0xffff));
  const half = i32x4.splat(32768);
  const rl = i32x4.shr_s(i32x4.dot_i16x8_s(i16x8.shuffle(xr, m1, 0, 8, 1, 9, 2, 10, 3, 11), cR), 16);
  const rh = i32x4.shr_s(i32x4.dot_i16x8_s(i16x8.shuffle(xr, m1, 4, 12, 5, 13, 6, 14, 7, 15), cR), 16);
  const bl = i32x4.shr_s(i32x4.dot_i16x8_s(i16x8.shuffle(xb, m1, 0, 8, 1, 9, 2, 10, 3, 11), cB), 16);
  const bh = i32x4.shr_s(i32x4.dot_i16x8_s(i16x8.shuffle(xb, m1, 4, 12, 5, 13, 6, 14, 7, 15), cB), 16);
  const gl = i32x4.shr_s(i32x4.add(i32x4.dot_i16x8_s(i16x8.shuffle(xb, xr, 0, 8, 1, 9, 2, 10, 3, 11), cG), half), 16);
  const gh = i32x4.shr_s(i32x4.add(i32x4.dot_i16x8_s(i16x8.shuffle(xb, xr, 4, 12, 5, 13, 6, 14, 7, 15), cG), half), 16);
  const r = i16x8.add(i16x8.add(y, xr), i16x8.narrow_i32x4_s(rl, rh));
  const g = i16x8.add(i16x8.sub(y, xr), i16x8.narrow_i32x4_s(gl, gh));
  const b = i16x8.add(i16x8.add(y, i16x8.add(xb, xb)), i16x8.narrow_i32x4_s(bl, bh));
  // Saturating narrows clamp to 0..255: bytes 0-7 R, 8-15 B in one vector, G and 255 in the other.
  const rb = i8x16.narrow_i16x8_u(r, b);
  const ga = i8x16.narrow_i16x8_u(g, i16x8.splat(255));
  v128.store(o, i8x16.shuffle(rb, ga, 0, 16, 8, 24, 1, 17, 9, 25, 2, 18, 10, 26, 3, 19, 11, 27));
  v128.store(o, i8x16.shuffle(rb, ga, 4, 20, 12, 28, 5, 21, 13, 29, 6, 22, 14, 30, 7, 23, 15, 31), 16);
}

/** One row of YCbCr samples to RGBA (ycc_rgb_convert with the EXT_RGBA layout). */
export function yccRow(y: usize, cb: usize, cr: usize, out: usize, width: i32): void {
  const c128 = i16x8.splat(128);
  let x = 0;
  for (; x + 8 <= width; x += 8) {
    const yv = u8x8(y + <usize>x);
    const xb = i16x8.sub(u8x8(cb + <usize>x), c128);
    const xr = i16x8.sub(u8x8(cr + <usize>x), c128);
    ycc8(yv, xb, xr, out + (<usize>x << 2));
  }
  for (; x < width; x++) {
    const Y = <i32>load<u8>(y + <usize>x);
    const b = <usize>load<u8>(cb + <usize>x) << 2;
    const r = <usize>load<u8>(cr + <usize>x) << 2;
    const R = clamp(Y + load<i32>(crR + r));
    const G = clamp(Y + ((load<i32>(cbG + b) + load<i32>(crG + r)) >> 16));
    const B = clamp(Y + load<i32>(cbB + b));
    store<u32>(out + (<usize>x << 2), R | (G << 8) | (B << 16) | 0xff000000);
  }
}

/** One row of grey samples to RGBA. */
export function greyRow(y: usize, out: usize, width: i32): void {
  for (let x = 0; x < width; x++) {
    const v = <u32>load<u8>(y + <usize>x);
    store<u32>(out + (<usize>x << 2), v | (v << 8) | (v << 16) | 0xff000000);
  }
}
