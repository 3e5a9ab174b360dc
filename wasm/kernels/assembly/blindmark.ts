// The blind watermark's embedding (src/ops/blindmark/embed.ts) with f32x4 SIMD: luma, the SSIM-budget
// mask, and the keyed tile added to R, G and B.
//
// Per pixel, the mark may add noise of RMS a = sqrt(min(cap^2, k (2 s^2 + C2))), where s^2 is the
// luma variance over the pixel's 5x5 window (edges repeated): the noise a window with that contrast hides
// at a fixed SSIM loss (the budget k; see embed.ts). The pixel then gets a * gain * tile(x mod 128,
// y mod 128), rounded half to even and clamped to 0..255, as a Uint8ClampedArray store would.
//
// Calling convention: reset(), alloc() the RGBA image and copy it in, blindBegin() (which returns where
// to write the 128 x 128 f32 tile), then blindRowsLuma over every row, blindRowsMask over every row
// (blindTotal() then holds the sum of a), and blindRowsAdd over every row with
// the gain; the image is marked in place. A busy image may lower the cap in between: blindCappedEnergy()
// and blindCappedRounded() to find it, blindSetCap() and blindRowsMask over every row again. Each phase
// is called in bands of rows so that V8's optimised tier takes over within the first image (see index.ts).
import { alloc } from '../../common/memory';

const TILE: i32 = 128;

let image: usize = 0;
let width: i32 = 0;
let height: i32 = 0;
let budget: f32 = 0;
let c2: f32 = 0;
let cap2: f32 = 0;
/** Per pixel: horizontal 5-sums of luma and of luma squared, then the allowance a. */
let sums: usize = 0;
let squares: usize = 0;
let allowance: usize = 0;
/** One row of luma and one of its squares with 2 repeated edge pixels on each side. */
let padded: usize = 0;
let paddedSq: usize = 0;
let tile: usize = 0;
let total: f64 = 0;
let clipped: i32 = 0;

export function blindBegin(src: usize, w: i32, h: i32, k: f32, floor: f32, cap: f32): usize {
  image = src; width = w; height = h; budget = k; c2 = floor; cap2 = cap * cap;
  const plane = (<usize>w * h) << 2;
  sums = alloc(plane);
  squares = alloc(plane);
  allowance = alloc(plane);
  padded = alloc((<usize>w + 4) << 2);
  paddedSq = alloc((<usize>w + 4) << 2);
  tile = alloc(<usize>(TILE * TILE) << 2);
  total = 0; clipped = 0;
  return tile;
}

/** Luma of rows y0..y1 and its horizontal 5-sums (and those of its square). */
export function blindRowsLuma(y0: i32, y1: i32): void {
  for (let y = y0; y < y1; y++) {
    const row = image + ((<usize>y * width) << 2);
    for (let x = 0; x < width; x++) {
      const p = row + (<usize>x << 2);
      const v: f32 = 0.299 * <f32>load<u8>(p) + 0.587 * <f32>load<u8>(p, 1) + 0.114 * <f32>load<u8>(p, 2);
      store<f32>(padded + (<usize>(x + 2) << 2), v);
      store<f32>(paddedSq + (<usize>(x + 2) << 2), v * v);
    }
    const first = load<f32>(padded + 8), last = load<f32>(padded + (<usize>(width + 1) << 2));
    store<f32>(padded, first); store<f32>(padded, first, 4);
    store<f32>(padded + (<usize>(width + 2) << 2), last); store<f32>(padded + (<usize>(width + 3) << 2), last);
    const firstSq = first * first, lastSq = last * last;
    store<f32>(paddedSq, firstSq); store<f32>(paddedSq, firstSq, 4);
    store<f32>(paddedSq + (<usize>(width + 2) << 2), lastSq); store<f32>(paddedSq + (<usize>(width + 3) << 2), lastSq);
    const out = (<usize>y * width) << 2;
    let x = 0;
    for (; x + 4 <= width; x += 4) {
      const p = padded + (<usize>x << 2), q = paddedSq + (<usize>x << 2);
      const s = f32x4.add(f32x4.add(f32x4.add(v128.load(p), v128.load(p, 4)), f32x4.add(v128.load(p, 8), v128.load(p, 12))), v128.load(p, 16));
      const t = f32x4.add(f32x4.add(f32x4.add(v128.load(q), v128.load(q, 4)), f32x4.add(v128.load(q, 8), v128.load(q, 12))), v128.load(q, 16));
      v128.store(sums + out + (<usize>x << 2), s);
      v128.store(squares + out + (<usize>x << 2), t);
    }
    for (; x < width; x++) {
      const p = padded + (<usize>x << 2), q = paddedSq + (<usize>x << 2);
      store<f32>(sums + out + (<usize>x << 2), (((load<f32>(p) + load<f32>(p, 4)) + (load<f32>(p, 8) + load<f32>(p, 12))) + load<f32>(p, 16)));
      store<f32>(squares + out + (<usize>x << 2), (((load<f32>(q) + load<f32>(q, 4)) + (load<f32>(q, 8) + load<f32>(q, 12))) + load<f32>(q, 16)));
    }
  }
}

// @ts-ignore: decorator
@inline function clampRow(y: i32): usize {
  return <usize>(y < 0 ? 0 : y >= height ? height - 1 : y) * width << 2;
}

/** The allowance of rows y0..y1 (needs blindRowsLuma on rows y0 - 2 .. y1 + 2), summed into total. */
export function blindRowsMask(y0: i32, y1: i32): void {
  const inv = f32x4.splat(1.0 / 25.0), two = f32x4.splat(2), k = f32x4.splat(budget), floor = f32x4.splat(c2), cap = f32x4.splat(cap2);
  const zero = f32x4.splat(0);
  for (let y = y0; y < y1; y++) {
    const r0 = clampRow(y - 2), r1 = clampRow(y - 1), r2 = clampRow(y), r3 = clampRow(y + 1), r4 = clampRow(y + 2);
    const out = allowance + r2;
    let t = f32x4.splat(0);
    let x = 0;
    for (; x + 4 <= width; x += 4) {
      const o = <usize>x << 2;
      const s = f32x4.add(f32x4.add(f32x4.add(v128.load(sums + r0 + o), v128.load(sums + r1 + o)), f32x4.add(v128.load(sums + r3 + o), v128.load(sums + r4 + o))), v128.load(sums + r2 + o));
      const q = f32x4.add(f32x4.add(f32x4.add(v128.load(squares + r0 + o), v128.load(squares + r1 + o)), f32x4.add(v128.load(squares + r3 + o), v128.load(squares + r4 + o))), v128.load(squares + r2 + o));
      const mean = f32x4.mul(s, inv);
      const variance = f32x4.max(zero, f32x4.sub(f32x4.mul(q, inv), f32x4.mul(mean, mean)));
      const a = f32x4.sqrt(f32x4.min(cap, f32x4.mul(k, f32x4.add(f32x4.mul(two, variance), floor))));
      v128.store(out + o, a);
      t = f32x4.add(t, a);
    }
    let ts = <f64>f32x4.extract_lane(t, 0) + <f64>f32x4.extract_lane(t, 1) + <f64>f32x4.extract_lane(t, 2) + <f64>f32x4.extract_lane(t, 3);
    for (; x < width; x++) {
      const o = <usize>x << 2;
      const s: f32 = (((load<f32>(sums + r0 + o) + load<f32>(sums + r1 + o)) + (load<f32>(sums + r3 + o) + load<f32>(sums + r4 + o))) + load<f32>(sums + r2 + o));
      const q: f32 = (((load<f32>(squares + r0 + o) + load<f32>(squares + r1 + o)) + (load<f32>(squares + r3 + o) + load<f32>(squares + r4 + o))) + load<f32>(squares + r2 + o));
      const mean = s * (1.0 / 25.0);
      const variance = max<f32>(0, q * (1.0 / 25.0) - mean * mean);
      const a = sqrt<f32>(min<f32>(cap2, budget * (2 * variance + c2)));
      store<f32>(out + o, a);
      ts += <f64>a;
    }
    total += ts;
  }
}

let rounded: f64 = 0;

/**
 * For the allowances blindRowsMask stored, with the cap lowered to c: returns the sum over the image of
 * min(a, c)^2, and keeps the sum of nearest(min(a, c))^2 for blindCappedRounded(). At gain 2 a pixel moves
 * R, G and B each by a * 2 * (+-1/2) (the flat chips' tile values), rounded to a whole level, so the second
 * is the squared luma error the image will measure (less where R, G or B clamps): a busy image's allowances
 * crowd at the cap, and rounding them all the same way can add a quarter to the first.
 * embed.ts searches the cap that fits a busy image's limits with them.
 */
export function blindCappedEnergy(c: f32): f64 {
  const cv = f32x4.splat(c);
  let sum: f64 = 0, sumRounded: f64 = 0;
  for (let y = 0; y < height; y++) {
    const row = allowance + ((<usize>y * width) << 2);
    let e = f32x4.splat(0), r = f32x4.splat(0);
    let x = 0;
    for (; x + 4 <= width; x += 4) {
      const a = f32x4.min(v128.load(row + (<usize>x << 2)), cv), q = f32x4.nearest(a);
      e = f32x4.add(e, f32x4.mul(a, a));
      r = f32x4.add(r, f32x4.mul(q, q));
    }
    let es = <f64>f32x4.extract_lane(e, 0) + <f64>f32x4.extract_lane(e, 1) + <f64>f32x4.extract_lane(e, 2) + <f64>f32x4.extract_lane(e, 3);
    let rs = <f64>f32x4.extract_lane(r, 0) + <f64>f32x4.extract_lane(r, 1) + <f64>f32x4.extract_lane(r, 2) + <f64>f32x4.extract_lane(r, 3);
    for (; x < width; x++) {
      const a = min<f32>(load<f32>(row + (<usize>x << 2)), c), q = nearest<f32>(a);
      es += <f64>(a * a);
      rs += <f64>(q * q);
    }
    sum += es;
    sumRounded += rs;
  }
  rounded = sumRounded;
  return sum;
}

/** The rounded sum of the last blindCappedEnergy call. */
export function blindCappedRounded(): f64 { return rounded; }

/** A new cap for blindRowsMask to be run again with (over every row); clears the sums it adds to. */
export function blindSetCap(cap: f32): void {
  cap2 = cap * cap; total = 0;
}

export function blindTotal(): f64 { return total; }
export function blindClipped(): i32 { return clipped; }

/** Add allowance x gain x tile to R, G and B of rows y0..y1, in place; counts pixels that had to be clamped. */
export function blindRowsAdd(y0: i32, y1: i32, gain: f32): void {
  const rgb = f32x4(1, 1, 1, 0), lo = f32x4.splat(0), hi = f32x4.splat(255), g = f32x4.splat(gain);
  for (let y = y0; y < y1; y++) {
    const trow = tile + (<usize>((y & (TILE - 1)) * TILE) << 2);
    const arow = allowance + ((<usize>y * width) << 2);
    const prow = image + ((<usize>y * width) << 2);
    let x = 0;
    // 4 pixels at a time: x stays a multiple of 4, so the 4 tile values are contiguous in one tile row
    for (; x + 4 <= width; x += 4) {
      const d = f32x4.mul(f32x4.mul(v128.load(arow + (<usize>x << 2)), v128.load(trow + (<usize>(x & (TILE - 1)) << 2))), g);
      const px = v128.load(prow + (<usize>x << 2));
      const l16 = i16x8.extend_low_i8x16_u(px), h16 = i16x8.extend_high_i8x16_u(px);
      const p0 = f32x4.add(f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_u(l16)), f32x4.mul(rgb, f32x4.splat(f32x4.extract_lane(d, 0))));
      const p1 = f32x4.add(f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_u(l16)), f32x4.mul(rgb, f32x4.splat(f32x4.extract_lane(d, 1))));
      const p2 = f32x4.add(f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_u(h16)), f32x4.mul(rgb, f32x4.splat(f32x4.extract_lane(d, 2))));
      const p3 = f32x4.add(f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_u(h16)), f32x4.mul(rgb, f32x4.splat(f32x4.extract_lane(d, 3))));
      clipped += outside(p0, lo, hi) + outside(p1, lo, hi) + outside(p2, lo, hi) + outside(p3, lo, hi);
      const a = i16x8.narrow_i32x4_s(i32x4.trunc_sat_f32x4_s(f32x4.nearest(p0)), i32x4.trunc_sat_f32x4_s(f32x4.nearest(p1)));
      const b = i16x8.narrow_i32x4_s(i32x4.trunc_sat_f32x4_s(f32x4.nearest(p2)), i32x4.trunc_sat_f32x4_s(f32x4.nearest(p3)));
      v128.store(prow + (<usize>x << 2), i8x16.narrow_i16x8_u(a, b));
    }
    for (; x < width; x++) {
      const d = load<f32>(arow + (<usize>x << 2)) * load<f32>(trow + (<usize>(x & (TILE - 1)) << 2)) * gain;
      const p = prow + (<usize>x << 2);
      let out = false;
      for (let c = 0; c < 3; c++) {
        const v = <f32>load<u8>(p + c) + d;
        if (v < 0 || v > 255) out = true;
        store<u8>(p + c, <u8>(v < 0 ? 0 : v > 255 ? 255 : <i32>nearest<f32>(v)));
      }
      if (out) clipped++;
    }
  }
}

// @ts-ignore: decorator
@inline function outside(p: v128, lo: v128, hi: v128): i32 {
  return v128.any_true(v128.or(f32x4.lt(p, lo), f32x4.gt(p, hi))) ? 1 : 0;
}
