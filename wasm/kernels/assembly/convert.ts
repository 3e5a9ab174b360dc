// Conversions into and out of the Q6 working format for images that need more than 8 bits while
// being filtered: premultiplied alpha (so transparent pixels' colour can't bleed into their
// neighbours) and linear light (so averaging happens on light intensities, not on gamma-encoded
// values).
import { allocPermanent } from '../../common/memory';
import { Q } from './horizontal';
import { Q6_MAX } from './vertical';
import { roundToI32 } from './round';

/** sRGB 8-bit -> linear Q6 (256 i16). */
let toLinear: usize = 0;
/** Linear Q6 -> sRGB 8-bit (Q6_MAX + 1 bytes). */
let fromLinear: usize = 0;

function srgbToLinear(s: f64): f64 {
  return s <= 0.04045 ? s / 12.92 : Math.pow((s + 0.055) / 1.055, 2.4);
}

/**
 * Build the two sRGB tables once per instance, in memory that survives reset(). Must run before
 * anything else is allocated in a call.
 */
export function ensureLinearTables(): void {
  if (toLinear != 0) return;
  toLinear = allocPermanent(256 * 2);
  fromLinear = allocPermanent(Q6_MAX + 1);
  for (let v = 0; v < 256; v++) {
    store<i16>(toLinear + (<usize>v << 1), <i16>Math.round(srgbToLinear(<f64>v / 255.0) * <f64>Q6_MAX));
  }
  // The inverse needs no pow per entry: linear values between the images of v - 0.5 and v + 0.5
  // round to v, so fill the table run by run from 255 thresholds.
  let x = 0;
  for (let v = 0; v < 256; v++) {
    const end = v == 255 ? Q6_MAX + 1 : <i32>Math.ceil(srgbToLinear((<f64>v + 0.5) / 255.0) * <f64>Q6_MAX);
    for (; x < end; x++) store<u8>(fromLinear + <usize>x, <u8>v);
  }
}

/** One pixel [r g b a] as i32 lanes -> premultiplied Q6 [r*a g*a b*a a*255] * 64 / 255, rounded. */
// @ts-ignore: decorator
@inline export function premultiplyQ6(p: v128): v128 {
  const m = i32x4.shuffle(p, i32x4.splat(255), 3, 3, 3, 4);
  const scaled = f32x4.mul(f32x4.convert_i32x4_s(i32x4.mul(p, m)), f32x4.splat(<f32>(1 << Q) / 255.0));
  // At most 255 * 64: roundToI32's range.
  return roundToI32(scaled);
}

/**
 * 8-bit RGBA -> Q6, premultiplying colour by alpha and/or mapping colour to linear light.
 * Alpha itself is never linearised.
 */
export function expand(src: usize, pixels: i32, dst: usize, premultiply: bool, linear: bool): void {
  if (!linear) {
    // c * a * 64 / 255 for colour, a * 255 * 64 / 255 = a * 64 for alpha; four pixels per step
    // (the last step may run up to three pixels past the end, into the allocator's slack).
    for (let i = 0; i < pixels; i += 4) {
      const v = v128.load(src + (<usize>i << 2));
      const l = i16x8.extend_low_i8x16_u(v);
      const h = i16x8.extend_high_i8x16_u(v);
      const o = dst + (<usize>i << 3);
      v128.store(o, i16x8.narrow_i32x4_s(premultiplyQ6(i32x4.extend_low_i16x8_u(l)), premultiplyQ6(i32x4.extend_high_i16x8_u(l))));
      v128.store(o, i16x8.narrow_i32x4_s(premultiplyQ6(i32x4.extend_low_i16x8_u(h)), premultiplyQ6(i32x4.extend_high_i16x8_u(h))), 16);
    }
    return;
  }
  for (let i = 0; i < pixels; i++) {
    const p = src + (<usize>i << 2);
    const o = dst + (<usize>i << 3);
    const a = <i32>load<u8>(p, 3);
    const r = <i32>load<i16>(toLinear + (<usize>load<u8>(p) << 1));
    const g = <i32>load<i16>(toLinear + (<usize>load<u8>(p, 1) << 1));
    const b = <i32>load<i16>(toLinear + (<usize>load<u8>(p, 2) << 1));
    if (premultiply) {
      store<i16>(o, <i16>((r * a + 127) / 255));
      store<i16>(o, <i16>((g * a + 127) / 255), 2);
      store<i16>(o, <i16>((b * a + 127) / 255), 4);
    } else {
      store<i16>(o, <i16>r);
      store<i16>(o, <i16>g, 2);
      store<i16>(o, <i16>b, 4);
    }
    store<i16>(o, <i16>(a << Q), 6);
  }
}

function clampQ6(v: i32): i32 {
  return v < 0 ? 0 : v > Q6_MAX ? Q6_MAX : v;
}

/** Q6 colour sample (already clamped to [0, Q6_MAX]) -> 8 bits. */
// @ts-ignore: decorator
@inline function toByte(c: i32, linear: bool): u8 {
  return linear ? load<u8>(fromLinear + <usize>c) : <u8>((c + (1 << (Q - 1))) >> Q);
}

/** Q6 -> 8-bit RGBA: undo premultiplication (a fully transparent pixel becomes 0,0,0,0) and linear light. */
export function finish(src: usize, pixels: i32, dst: usize, premultiplied: bool, linear: bool): void {
  if (premultiplied && !linear) {
    finishPremultiplied(src, pixels, dst);
    return;
  }
  for (let i = 0; i < pixels; i++) {
    const s = src + (<usize>i << 3);
    const o = dst + (<usize>i << 2);
    let r = <i32>load<i16>(s);
    let g = <i32>load<i16>(s, 2);
    let b = <i32>load<i16>(s, 4);
    const a = <i32>load<i16>(s, 6);
    const a8 = (a + (1 << (Q - 1))) >> Q;
    if (premultiplied) {
      if (a8 == 0) {
        store<u32>(o, 0);
        continue;
      }
      // Colour relative to alpha, back in Q6; ringing can push it slightly past alpha, hence the clamp.
      const f = <f32>Q6_MAX / <f32>a;
      r = clampQ6(<i32>Mathf.round(<f32>r * f));
      g = clampQ6(<i32>Mathf.round(<f32>g * f));
      b = clampQ6(<i32>Mathf.round(<f32>b * f));
    }
    store<u8>(o, toByte(r, linear));
    store<u8>(o, toByte(g, linear), 1);
    store<u8>(o, toByte(b, linear), 2);
    store<u8>(o, <u8>a8, 3);
  }
}

/**
 * finish() for premultiplied gamma-space pixels (a transparent PNG's resize), one pixel per vector:
 * the same f32 operations as the scalar loop lane by lane (Mathf.round is ceil, then one less when
 * ceil - 0.5 > x), so the same bytes. The scalar loop's conversions and rounding, chained from
 * pixel to pixel by the false register dependency of V8's int-to-float conversion, took 35-40 ns a
 * pixel on Intel Xeon. `src` holds vertical()'s Q6 output, clamped to [0, Q6_MAX].
 */
function finishPremultiplied(src: usize, pixels: i32, dst: usize): void {
  const half = f32x4.splat(0.5);
  const one = f32x4.splat(1.0);
  const top = f32x4.splat(<f32>Q6_MAX);
  const bias = i32x4.splat(1 << (Q - 1));
  for (let i = 0; i < pixels; i++) {
    const s = src + (<usize>i << 3);
    const o = dst + (<usize>i << 2);
    const a = <i32>load<i16>(s, 6);
    if ((a + (1 << (Q - 1))) >> Q == 0) {
      store<u32>(o, 0);
      continue;
    }
    const v = i32x4.extend_low_i16x8_s(v128.load64_zero(s));
    const x = f32x4.mul(f32x4.convert_i32x4_s(v), f32x4.splat(<f32>Q6_MAX / <f32>a));
    const up = f32x4.ceil(x);
    const rounded = v128.bitselect(up, f32x4.sub(up, one), f32x4.le(f32x4.sub(up, half), x));
    // Clamped while still a float: x reaches 16320 * 510 where colour rings over a faint alpha,
    // past roundToI32's range; clamped, the integer-valued float converts exactly. Never below 0
    // (vertical() clamps its output).
    const c = roundToI32(f32x4.min(rounded, top));
    // Colour from c, alpha from the Q6 alpha itself; both 8-bit by (v + 32) >> 6.
    const q = i32x4.shr_s(i32x4.add(i32x4.shuffle(c, v, 0, 1, 2, 7), bias), Q);
    const n = i16x8.narrow_i32x4_s(q, q);
    v128.store32_lane(o, i8x16.narrow_i16x8_u(n, n), 0);
  }
}
