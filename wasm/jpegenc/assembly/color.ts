// RGB(A) -> YCbCr exactly as libjpeg's jccolor.c: 16-bit fixed point (SCALEBITS 16), Y rounded
// with ONE_HALF, Cb/Cr offset by CBCR_OFFSET and rounded with ONE_HALF - 1. libjpeg-turbo's SIMD
// versions produce the same bytes, so this is what sharp's encoder sees too.

const R_Y: i32 = 19595; // FIX(0.29900)
const G_Y: i32 = 38470; // FIX(0.58700)
const B_Y: i32 = 7471; // FIX(0.11400)
const R_CB: i32 = -11059; // -FIX(0.16874)
const G_CB: i32 = -21709; // -FIX(0.33126)
const HALF: i32 = 32768; // FIX(0.5): B's Cb and R's Cr coefficient
const G_CR: i32 = -27439; // -FIX(0.41869)
const B_CR: i32 = -5329; // -FIX(0.08131)
const Y_ROUND: i32 = 1 << 15; // ONE_HALF
const C_ROUND: i32 = (128 << 16) + (1 << 15) - 1; // CBCR_OFFSET + ONE_HALF - 1

// @ts-ignore: decorator
@inline function luma(r: v128, g: v128, b: v128): v128 {
  const s = i32x4.add(i32x4.add(i32x4.mul(r, i32x4.splat(R_Y)), i32x4.mul(g, i32x4.splat(G_Y))), i32x4.mul(b, i32x4.splat(B_Y)));
  return i32x4.shr_s(i32x4.add(s, i32x4.splat(Y_ROUND)), 16);
}

// @ts-ignore: decorator
@inline function chroma(a: v128, ca: i32, b: v128, cb: i32, c: v128, cc: i32): v128 {
  const s = i32x4.add(i32x4.add(i32x4.mul(a, i32x4.splat(ca)), i32x4.mul(b, i32x4.splat(cb))), i32x4.mul(c, i32x4.splat(cc)));
  return i32x4.shr_s(i32x4.add(s, i32x4.splat(C_ROUND)), 16);
}

/** Pack four i32x4 of 0..255 into one vector of 16 bytes. */
// @ts-ignore: decorator
@inline function pack(a: v128, b: v128, c: v128, d: v128): v128 {
  return i8x16.narrow_i16x8_u(i16x8.narrow_i32x4_u(a, b), i16x8.narrow_i32x4_u(c, d));
}

/** Replicate the last sample of a row up to `padded` (libjpeg's expand_right_edge). */
// @ts-ignore: decorator
@inline export function expandRight(row: usize, width: i32, padded: i32): void {
  if (padded > width) memory.fill(row + <usize>width, load<u8>(row + <usize>width - 1), <usize>(padded - width));
}

/**
 * Convert one row of `width` RGBA pixels into Y, Cb and Cr rows, 16 pixels per step. The last step
 * may read up to 15 pixels past the row (the next row, or the allocator's slack after the image)
 * and write up to 15 samples past `width`, which the caller's padding overwrites.
 */
export function rowToYCbCr(src: usize, width: i32, y: usize, cb: usize, cr: usize): void {
  const mask = i32x4.splat(0xff);
  for (let x = 0; x < width; x += 16) {
    const p = src + (<usize>x << 2);
    const p0 = v128.load(p), p1 = v128.load(p, 16), p2 = v128.load(p, 32), p3 = v128.load(p, 48);
    const r0 = v128.and(p0, mask), g0 = v128.and(i32x4.shr_u(p0, 8), mask), b0 = v128.and(i32x4.shr_u(p0, 16), mask);
    const r1 = v128.and(p1, mask), g1 = v128.and(i32x4.shr_u(p1, 8), mask), b1 = v128.and(i32x4.shr_u(p1, 16), mask);
    const r2 = v128.and(p2, mask), g2 = v128.and(i32x4.shr_u(p2, 8), mask), b2 = v128.and(i32x4.shr_u(p2, 16), mask);
    const r3 = v128.and(p3, mask), g3 = v128.and(i32x4.shr_u(p3, 8), mask), b3 = v128.and(i32x4.shr_u(p3, 16), mask);
    v128.store(y + <usize>x, pack(luma(r0, g0, b0), luma(r1, g1, b1), luma(r2, g2, b2), luma(r3, g3, b3)));
    v128.store(cb + <usize>x, pack(
      chroma(r0, R_CB, g0, G_CB, b0, HALF), chroma(r1, R_CB, g1, G_CB, b1, HALF),
      chroma(r2, R_CB, g2, G_CB, b2, HALF), chroma(r3, R_CB, g3, G_CB, b3, HALF),
    ));
    v128.store(cr + <usize>x, pack(
      chroma(r0, HALF, g0, G_CR, b0, B_CR), chroma(r1, HALF, g1, G_CR, b1, B_CR),
      chroma(r2, HALF, g2, G_CR, b2, B_CR), chroma(r3, HALF, g3, G_CR, b3, B_CR),
    ));
  }
}

/** Luminance only (libjpeg's rgb_gray_convert: the same Y as above). */
export function rowToGray(src: usize, width: i32, y: usize): void {
  const mask = i32x4.splat(0xff);
  for (let x = 0; x < width; x += 16) {
    const p = src + (<usize>x << 2);
    const p0 = v128.load(p), p1 = v128.load(p, 16), p2 = v128.load(p, 32), p3 = v128.load(p, 48);
    v128.store(y + <usize>x, pack(
      luma(v128.and(p0, mask), v128.and(i32x4.shr_u(p0, 8), mask), v128.and(i32x4.shr_u(p0, 16), mask)),
      luma(v128.and(p1, mask), v128.and(i32x4.shr_u(p1, 8), mask), v128.and(i32x4.shr_u(p1, 16), mask)),
      luma(v128.and(p2, mask), v128.and(i32x4.shr_u(p2, 8), mask), v128.and(i32x4.shr_u(p2, 16), mask)),
      luma(v128.and(p3, mask), v128.and(i32x4.shr_u(p3, 8), mask), v128.and(i32x4.shr_u(p3, 16), mask)),
    ));
  }
}
