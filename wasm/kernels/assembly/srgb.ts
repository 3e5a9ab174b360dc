// Conversion to sRGB of pixels whose embedded ICC profile names another RGB space (src/color/icc.ts
// reads the profile and src/kernels/srgb.ts fills the tables below before each use): each channel
// through its own table to linear light, a 3x3 matrix to linear sRGB, clipped to sRGB's gamut, then
// sRGB's encoding by a table fine enough that dark values land on the right byte. In JavaScript the
// same loop ran at ~13 ns a pixel (80 ms for a 6-megapixel photo); here four lanes do the matrix.

/** Steps of the encoding table: entry i is linear light i / SRGB_ENCODE_STEPS, encoded. */
export const SRGB_ENCODE_STEPS: i32 = 16384;

// Static data, outside the allocator's reach: three 256-entry f32 tables to linear light (R, G, B),
// the matrix's three columns as f32 lanes (R, G, B, 0), and the encoding table.
const linear: usize = memory.data(3 * 256 * 4, 16);
const columns: usize = memory.data(3 * 16, 16);
const encode: usize = memory.data(SRGB_ENCODE_STEPS + 16, 16);

/** Where the caller writes the three tables to linear light (768 f32: R, then G, then B). */
export function srgbLinear(): usize {
  return linear;
}

/** Where the caller writes the matrix's columns (12 f32: R's, G's and B's contribution, each padded to four). */
export function srgbColumns(): usize {
  return columns;
}

/** Where the caller writes the encoding table (SRGB_ENCODE_STEPS + 1 bytes). */
export function srgbEncode(): usize {
  return encode;
}

/** Bring `pixels` RGBA pixels at `ptr` to sRGB in place; alpha is left as it is. */
export function toSrgb(ptr: usize, pixels: i32): void {
  const cr = v128.load(columns);
  const cg = v128.load(columns, 16);
  const cb = v128.load(columns, 32);
  const zero = f32x4.splat(0);
  const one = f32x4.splat(1);
  const steps = f32x4.splat(<f32>SRGB_ENCODE_STEPS);
  const half = f32x4.splat(0.5);
  for (let i = 0; i < pixels; i++) {
    const p = ptr + (<usize>i << 2);
    const r = load<f32>(linear + (<usize>load<u8>(p) << 2));
    const g = load<f32>(linear + 1024 + (<usize>load<u8>(p, 1) << 2));
    const b = load<f32>(linear + 2048 + (<usize>load<u8>(p, 2) << 2));
    const v = f32x4.add(f32x4.add(f32x4.mul(cr, f32x4.splat(r)), f32x4.mul(cg, f32x4.splat(g))), f32x4.mul(cb, f32x4.splat(b)));
    // Out of gamut (a saturated Display P3 red) is clipped, as relative colorimetric does.
    const q = i32x4.trunc_sat_f32x4_s(f32x4.add(f32x4.mul(f32x4.min(f32x4.max(v, zero), one), steps), half));
    store<u8>(p, load<u8>(encode + <usize>i32x4.extract_lane(q, 0)));
    store<u8>(p, load<u8>(encode + <usize>i32x4.extract_lane(q, 1)), 1);
    store<u8>(p, load<u8>(encode + <usize>i32x4.extract_lane(q, 2)), 2);
  }
}
