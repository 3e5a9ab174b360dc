// Separable Gaussian blur on 8-bit RGBA with f32x4 SIMD: OSS's blur, and the soft copy inside
// sharpen's unsharp mask. One vector holds one pixel's four channels, so a tap is one multiply and
// one add whatever the channel order, and four neighbouring pixels are filtered together to keep
// four independent sums in flight.
//
// Filtering is in premultiplied alpha (transparent pixels don't darken their neighbours) with edge
// pixels repeated, as src/ops/blur.ts documents. The image is blurred in place: each source row is
// premultiplied into a padded row and filtered horizontally into a ring of 2r + GROUP float rows, and
// output rows are filtered vertically from the ring as soon as their window is there. By then their
// own source rows have been read, so the result overwrites them; the kernel holds the image once plus
// the ring (a 4096 px wide blur,r_50 rings 6.8 MB) instead of two float copies of the whole image.
//
// The vertical pass makes GROUP output rows at once: each ring row it loads feeds all of them, so
// the ring (larger than the caches at large radii) is streamed through once per GROUP rows, not per row.
//
// Calling convention (see src/kernels/gaussian.ts): reset(), alloc() the image and the weights
// (2r + 1 f32), copy them in, gaussianBegin(), then gaussianStep() until it returns 0. Like the
// resize, the work is done in steps of rows so V8's optimised code takes over within the first image.
import { alloc } from '../../common/memory';

/** Output rows the vertical pass makes together (four rows of one pixel: 4 sums in flight). */
const GROUP: i32 = 4;

let image: usize = 0;
let width: i32 = 0;
let height: i32 = 0;
let radius: i32 = 0;
let weights: usize = 0;
/** The weights with GROUP - 1 zeros on each side, so output row j of a group reads padWeights[t - j + GROUP - 1]. */
let padWeights: usize = 0;
/** 0 for a blur; otherwise the unsharp mask's amount (out = s + (s - blurred) * amount). */
let amount: f32 = 0;
/** Premultiplied source row with `radius` repeated edge pixels on each side. */
let padded: usize = 0;
/** Ring of `ring` horizontally filtered rows (f32 RGBA); row r lives in slot r % ring. */
let rows: usize = 0;
let ring: i32 = 0;
/** The ring slots an output row reads, one per tap. */
let taps: usize = 0;
/** Horizontally filtered rows so far; output rows so far. */
let filtered: i32 = 0;
let done: i32 = 0;

/**
 * Plan the blur of the `w` x `h` RGBA image at `src` with the `2r + 1` normalised f32 weights at
 * `kernel`; with `mask` > 0 the result is the unsharp mask of the image by that amount instead.
 */
export function gaussianBegin(src: usize, w: i32, h: i32, kernel: usize, r: i32, mask: f32): void {
  image = src;
  width = w;
  height = h;
  radius = r;
  weights = kernel;
  amount = mask;
  padded = alloc(<usize>(w + 2 * r) << 4);
  ring = min(2 * r + GROUP, h);
  rows = alloc(<usize>ring * w << 4);
  taps = alloc(<usize>(2 * r + GROUP) << 2);
  const n = 2 * r + 1;
  padWeights = alloc(<usize>(n + 2 * (GROUP - 1)) << 2);
  memory.fill(padWeights, 0, <usize>(n + 2 * (GROUP - 1)) << 2);
  memory.copy(padWeights + (<usize>(GROUP - 1) << 2), kernel, <usize>n << 2);
  filtered = 0;
  done = 0;
}

/** Do up to `count` output rows; returns 0 once the whole image is done. */
export function gaussianStep(count: i32): i32 {
  const end = min(done + count, height);
  let y = done;
  while (y < end) {
    const group = y + GROUP <= end;
    const last = min(y + (group ? GROUP - 1 : 0) + radius, height - 1);
    while (filtered <= last) filterRow(filtered++);
    if (group) {
      outputRows(y);
      y += GROUP;
    } else {
      outputRow(y);
      y++;
    }
  }
  done = end;
  return done < height ? 1 : 0;
}

/** The four 8-bit channels at `p` as f32 lanes. */
// @ts-ignore: decorator
@inline function pixel(p: usize): v128 {
  return f32x4.convert_i32x4_u(i32x4.extend_low_i16x8_u(i16x8.extend_low_i8x16_u(v128.load32_zero(p))));
}

/** Round half to even, clamp to 0..255 and store the four lanes as bytes at `p` (Uint8ClampedArray's rule). */
// @ts-ignore: decorator
@inline function storePixel(p: usize, v: v128): void {
  const q = i32x4.trunc_sat_f32x4_s(f32x4.nearest(v));
  const b = i16x8.narrow_i32x4_s(q, q);
  v128.store32_lane(p, i8x16.narrow_i16x8_u(b, b), 0);
}

/** Premultiply source row `y` into `padded`, then filter it horizontally into its ring slot. */
function filterRow(y: i32): void {
  const src = image + (<usize>y * width << 2);
  const pad = padded + (<usize>radius << 4);
  const inv = f32x4.splat(1.0 / 255.0);
  for (let x = 0; x < width; x++) {
    const v = pixel(src + (<usize>x << 2));
    const a = f32x4.mul(i32x4.shuffle(v, v, 3, 3, 3, 3), inv);
    // Colour times alpha / 255; alpha itself stays 0..255.
    v128.store(pad + (<usize>x << 4), i32x4.shuffle(f32x4.mul(v, a), v, 0, 1, 2, 7));
  }
  const first = v128.load(pad);
  const lastPx = v128.load(pad + (<usize>(width - 1) << 4));
  for (let i = 1; i <= radius; i++) {
    v128.store(pad - (<usize>i << 4), first);
    v128.store(pad + (<usize>(width - 1 + i) << 4), lastPx);
  }
  const n = 2 * radius + 1;
  const dst = rows + (<usize>(y % ring) * width << 4);
  let x = 0;
  for (; x + 4 <= width; x += 4) {
    let p = padded + (<usize>x << 4);
    let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
    for (let k = 0; k < n; k++) {
      const w = v128.load32_splat(weights + (<usize>k << 2));
      a0 = f32x4.add(a0, f32x4.mul(v128.load(p), w));
      a1 = f32x4.add(a1, f32x4.mul(v128.load(p, 16), w));
      a2 = f32x4.add(a2, f32x4.mul(v128.load(p, 32), w));
      a3 = f32x4.add(a3, f32x4.mul(v128.load(p, 48), w));
      p += 16;
    }
    const d = dst + (<usize>x << 4);
    v128.store(d, a0);
    v128.store(d, a1, 16);
    v128.store(d, a2, 32);
    v128.store(d, a3, 48);
  }
  for (; x < width; x++) {
    let p = padded + (<usize>x << 4);
    let acc = f32x4.splat(0);
    for (let k = 0; k < n; k++) {
      acc = f32x4.add(acc, f32x4.mul(v128.load(p), v128.load32_splat(weights + (<usize>k << 2))));
      p += 16;
    }
    v128.store(dst + (<usize>x << 4), acc);
  }
}

/** Point `taps` at the ring slots of rows y - r .. y - r + count - 1 (rows past the edges repeat the edge row). */
function pointTaps(y: i32, count: i32): void {
  for (let k = 0; k < count; k++) {
    const r = min(max(y - radius + k, 0), height - 1);
    store<usize>(taps + (<usize>k << 2), rows + (<usize>(r % ring) * width << 4));
  }
}

/** Filter output rows `y` .. `y + GROUP - 1` vertically from the ring and write them over their source rows. */
function outputRows(y: i32): void {
  const n = 2 * radius + GROUP;
  pointTaps(y, n);
  const out = image + (<usize>y * width << 2);
  const rowBytes = <usize>width << 2;
  for (let x = 0; x < width; x++) {
    const off = <usize>x << 4;
    let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
    let w = padWeights + (<usize>(GROUP - 1) << 2);
    for (let t = 0; t < n; t++) {
      const v = v128.load(load<usize>(taps + (<usize>t << 2)) + off);
      // Output row j takes ring row t with weight t - j: zero outside its own window.
      a0 = f32x4.add(a0, f32x4.mul(v, v128.load32_splat(w)));
      a1 = f32x4.add(a1, f32x4.mul(v, v128.load32_splat(w - 4)));
      a2 = f32x4.add(a2, f32x4.mul(v, v128.load32_splat(w - 8)));
      a3 = f32x4.add(a3, f32x4.mul(v, v128.load32_splat(w - 12)));
      w += 4;
    }
    const o = out + (<usize>x << 2);
    finish(o, a0);
    finish(o + rowBytes, a1);
    finish(o + 2 * rowBytes, a2);
    finish(o + 3 * rowBytes, a3);
  }
}

/** Filter output row `y` vertically from the ring and write it over source row `y`. */
function outputRow(y: i32): void {
  const n = 2 * radius + 1;
  pointTaps(y, n);
  const out = image + (<usize>y * width << 2);
  let x = 0;
  for (; x + 4 <= width; x += 4) {
    const off = <usize>x << 4;
    let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
    for (let k = 0; k < n; k++) {
      const w = v128.load32_splat(weights + (<usize>k << 2));
      const p = load<usize>(taps + (<usize>k << 2)) + off;
      a0 = f32x4.add(a0, f32x4.mul(v128.load(p), w));
      a1 = f32x4.add(a1, f32x4.mul(v128.load(p, 16), w));
      a2 = f32x4.add(a2, f32x4.mul(v128.load(p, 32), w));
      a3 = f32x4.add(a3, f32x4.mul(v128.load(p, 48), w));
    }
    const o = out + (<usize>x << 2);
    finish(o, a0);
    finish(o + 4, a1);
    finish(o + 8, a2);
    finish(o + 12, a3);
  }
  for (; x < width; x++) {
    const off = <usize>x << 4;
    let acc = f32x4.splat(0);
    for (let k = 0; k < n; k++) {
      acc = f32x4.add(acc, f32x4.mul(v128.load(load<usize>(taps + (<usize>k << 2)) + off), v128.load32_splat(weights + (<usize>k << 2))));
    }
    finish(out + (<usize>x << 2), acc);
  }
}

/**
 * Un-premultiply the blurred pixel `v` (a fully transparent result is 0, 0, 0, 0) and store it at `p`,
 * or, for sharpen, store the original pixel at `p` plus `amount` times its difference from the
 * blurred one (rounded to bytes first, as the blurred image would be), alpha unchanged.
 */
// @ts-ignore: decorator
@inline function finish(p: usize, v: v128): void {
  const a = i32x4.shuffle(v, v, 3, 3, 3, 3);
  const visible = f32x4.gt(a, f32x4.splat(0));
  const colour = v128.and(i32x4.shuffle(f32x4.mul(v, f32x4.div(f32x4.splat(255), a)), v, 0, 1, 2, 7), visible);
  if (amount == 0) {
    storePixel(p, colour);
    return;
  }
  const soft = f32x4.min(f32x4.max(f32x4.nearest(colour), f32x4.splat(0)), f32x4.splat(255));
  const s = pixel(p);
  const sharp = f32x4.add(s, f32x4.mul(f32x4.sub(s, soft), f32x4.splat(amount)));
  storePixel(p, i32x4.shuffle(sharp, s, 0, 1, 2, 7));
}
