// The blind watermark's extraction hot loops (src/ops/blindmark/signal.ts): the luma and its whitening,
// folding the whitened luma onto one tile under a scale and rotation, and the 2-D FFTs of the sync
// correlation and the lattice estimate, with f64x2 SIMD.
//
// The whitening is the same f64 arithmetic, in the same order, as the TypeScript it replaced (kept as the
// reference in test/ops/blindmark-read.test.ts): box sums in f64 stored to f32, per-pixel quotients in
// f64. SIMD is used only where lanes are independent pixels (the vertical running sums, the per-pixel
// steps), so every residual, and so every extraction, is bit for bit what it was.
//
// The 2-D transform is done as two column passes with a transpose between them. A column pass works on
// whole rows at a time (a butterfly between rows a and b is one contiguous loop over x, two columns per
// f64x2), so it never walks memory with a stride and every lane shares the twiddle. The spectrum comes
// out transposed (w x h becomes h x w); everything extraction does in the frequency domain is pointwise
// (products with spectra made by the same function, magnitudes) and the inverse, fed the transposed
// spectrum, transposes it back, so the layout never shows.
//
// Calling convention: reset(), then blindReadBegin(w, h, maxW, maxH) allocates the RGBA image (w x h,
// written by the caller at blindPixels()), the luma, the residual (w x h f32, at blindResidual()), the
// half-resolution residual (blindHalf()), the folded tile (128 x 128 f64) and the transform buffers for
// arrays of up to maxW x maxH; their addresses are given by blindFolded(), blindRe() and blindIm().
// blindLuma(y0, y1) over every row band makes the luma; blindWhitenBegin() then blindWhitenStep() until
// it returns 0 whitens it (in bands of rows, so V8's optimised tier takes over part way, see index.ts).
import { alloc } from '../../common/memory';

const TILE: i32 = 128;

let residual: usize = 0;
let rw: i32 = 0;
let rh: i32 = 0;
/** The folded tile (f64), written over the fold's sums and counts (see blindFold). */
let folded: usize = 0;
let re: usize = 0;
let im: usize = 0;
let tre: usize = 0;
let tim: usize = 0;
let cosT: usize = 0;
let sinT: usize = 0;
/** The size whose twiddles cosT and sinT hold (0: none yet). */
let twiddleN: i32 = 0;
/** The sync carrier's spectra in its eight orientations (re, im per orientation), the folded tile's spectrum, the correlation planes' sums. */
let spectra: usize = 0;
let fre: usize = 0;
let fim: usize = 0;
let sums: usize = 0;
/** The RGBA image; once the luma is made, the box filters' horizontal sums (f32). */
let pixels: usize = 0;
let luma: usize = 0;
/** The local mean, then the absolute residual, then the local level (f32). */
let local: usize = 0;
let half: usize = 0;
/** One row, or two interleaved, with edges repeated (f64), and the vertical running sums (f64). */
let line: usize = 0;
let acc: usize = 0;

/** Largest box radius the whitening takes. */
const MAX_RADIUS: i32 = 16;

export function blindReadBegin(w: i32, h: i32, maxW: i32, maxH: i32): void {
  rw = w; rh = h;
  const plane = <usize>w * h << 2;
  residual = alloc(plane);
  pixels = alloc(plane);
  luma = alloc(plane);
  local = alloc(plane);
  half = alloc(<usize>(w >> 1) * (h >> 1) << 2);
  line = alloc(<usize>(w + 2 * MAX_RADIUS + 1) << 4);
  acc = alloc(<usize>w << 3);
  folded = alloc(<usize>(TILE * TILE) << 4);
  const n = <usize>maxW * maxH << 3;
  re = alloc(n); im = alloc(n); tre = alloc(n); tim = alloc(n);
  spectra = alloc(<usize>(TILE * TILE) << 7);
  fre = alloc(<usize>(TILE * TILE) << 3); fim = alloc(<usize>(TILE * TILE) << 3);
  sums = alloc(32);
  const side = <usize>max(maxW, maxH);
  cosT = alloc(side << 3); sinT = alloc(side << 3);
  twiddleN = 0;
}

export function blindResidual(): usize { return residual; }
export function blindPixels(): usize { return pixels; }
export function blindHalf(): usize { return half; }

/** BT.601 luma of rows y0..y1, in f64 rounded to f32. */
export function blindLuma(y0: i32, y1: i32): void {
  for (let i = <usize>y0 * rw, end = <usize>y1 * rw; i < end; i++) {
    const p = pixels + (i << 2);
    // (the f64 constants spelled out: under an f32 cast a bare literal would be taken as f32)
    const v: f64 = <f64>0.299 * <f64>load<u8>(p) + <f64>0.587 * <f64>load<u8>(p, 1) + <f64>0.114 * <f64>load<u8>(p, 2);
    store<f32>(luma + (i << 2), <f32>v);
  }
}

const BAND: i32 = 32;
// the whitening's state: source, destination, size, radii, and the phase and row reached
let wSrc: usize = 0;
let wDst: usize = 0;
let ww: i32 = 0;
let wh: i32 = 0;
let rMean: i32 = 0;
let rLevel: i32 = 0;
let steep: bool = false;
let phase: i32 = 0;
let row: i32 = 0;

/**
 * Start whitening (see whiten in src/ops/blindmark/signal.ts) with box radii rm (mean) and rl (level):
 * the luma into the residual when `toHalf` is 0, else the 2x2 block means of the luma into blindHalf(),
 * whitened in place. The residual is divided by the floored level (exponent 1) or, when `exponent15` is
 * not 0, by its 1.5th power.
 */
export function blindWhitenBegin(toHalf: i32, rm: i32, rl: i32, exponent15: i32): void {
  rMean = min(rm, MAX_RADIUS); rLevel = min(rl, MAX_RADIUS); row = 0; steep = exponent15 != 0;
  if (toHalf != 0) { wSrc = half; wDst = half; ww = rw >> 1; wh = rh >> 1; phase = 0; }
  else { wSrc = luma; wDst = residual; ww = rw; wh = rh; phase = 1; }
}

/** One band of rows of one phase of the whitening; 0 when it is done. */
export function blindWhitenStep(): i32 {
  const y0 = row, y1 = min(wh, row + BAND);
  if (phase == 0) halveRows(y0, y1);
  else if (phase == 1) boxRows(wSrc, rMean, y0, y1);
  else if (phase == 2) boxColumns(rMean, y0, y1);
  else if (phase == 3) residualRows(y0, y1);
  else if (phase == 4) boxRows(local, rLevel, y0, y1);
  else if (phase == 5) boxColumns(rLevel, y0, y1);
  else if (phase == 6) scaleRows(y0, y1);
  else return 0;
  row = y1;
  if (row >= wh) { row = 0; phase++; }
  return phase <= 6 ? 1 : 0;
}

/** The mean of every 2x2 block of the luma (odd last row and column dropped), rows y0..y1 of it. */
function halveRows(y0: i32, y1: i32): void {
  for (let y = y0; y < y1; y++) {
    const a = luma + (<usize>(2 * y) * rw << 2), b = a + (<usize>rw << 2), o = half + (<usize>y * ww << 2);
    for (let x = 0; x < ww; x++) {
      const p = <usize>(2 * x) << 2;
      const v: f64 = <f64>0.25 * (<f64>load<f32>(a + p) + <f64>load<f32>(a + p, 4) + <f64>load<f32>(b + p) + <f64>load<f32>(b + p, 4));
      store<f32>(o + (<usize>x << 2), <f32>v);
    }
  }
}

/**
 * Horizontal box means of radius r of rows y0..y1 of src into `pixels`: a sliding f64 sum, edges repeated.
 * Two rows at a time, one per f64x2 lane (each lane the same sums in the same order as one row alone).
 */
function boxRows(src: usize, r: i32, y0: i32, y1: i32): void {
  const k = 1.0 / <f64>(2 * r + 1), w = ww, kk = f64x2.splat(k);
  let y = y0;
  for (; y + 2 <= y1; y += 2) {
    const a = src + (<usize>y * w << 2), b = a + (<usize>w << 2);
    const oa = pixels + (<usize>y * w << 2), ob = oa + (<usize>w << 2);
    const last = <usize>(w - 1) << 2;
    const first2 = f64x2(<f64>load<f32>(a), <f64>load<f32>(b)), last2 = f64x2(<f64>load<f32>(a + last), <f64>load<f32>(b + last));
    for (let i = 0; i < r; i++) { v128.store(line + (<usize>i << 4), first2); v128.store(line + (<usize>(w + r + i) << 4), last2); }
    for (let i = 0; i < w; i++) {
      const p = <usize>i << 2;
      v128.store(line + (<usize>(r + i) << 4), f64x2(<f64>load<f32>(a + p), <f64>load<f32>(b + p)));
    }
    let sum = f64x2.splat(0);
    for (let i = 0; i < 2 * r; i++) sum = f64x2.add(sum, v128.load(line + (<usize>i << 4)));
    for (let i = 0; i < w; i++) {
      sum = f64x2.add(sum, v128.load(line + (<usize>(i + 2 * r) << 4)));
      const m = f32x4.demote_f64x2_zero(f64x2.mul(sum, kk)), p = <usize>i << 2;
      v128.store32_lane(oa + p, m, 0);
      v128.store32_lane(ob + p, m, 1);
      sum = f64x2.sub(sum, v128.load(line + (<usize>i << 4)));
    }
  }
  for (; y < y1; y++) {
    const base = src + (<usize>y * w << 2), out = pixels + (<usize>y * w << 2);
    const first = <f64>load<f32>(base), last = <f64>load<f32>(base + (<usize>(w - 1) << 2));
    for (let i = 0; i < r; i++) { store<f64>(line + (<usize>i << 3), first); store<f64>(line + (<usize>(w + r + i) << 3), last); }
    for (let i = 0; i < w; i++) store<f64>(line + (<usize>(r + i) << 3), <f64>load<f32>(base + (<usize>i << 2)));
    let sum: f64 = 0;
    for (let i = 0; i < 2 * r; i++) sum += load<f64>(line + (<usize>i << 3));
    for (let i = 0; i < w; i++) {
      sum += load<f64>(line + (<usize>(i + 2 * r) << 3));
      store<f32>(out + (<usize>i << 2), <f32>(sum * k));
      sum -= load<f64>(line + (<usize>i << 3));
    }
  }
}

/** Vertical box means of radius r of the horizontal sums into `local`, rows y0..y1: a running f64 sum per column. */
function boxColumns(r: i32, y0: i32, y1: i32): void {
  const w = ww, h = wh, k = f64x2.splat(1.0 / <f64>(2 * r + 1));
  if (y0 == 0) {
    memory.fill(acc, 0, <usize>w << 3);
    for (let y = -r; y <= r; y++) {
      const b = pixels + (<usize>min(h - 1, max(0, y)) * w << 2);
      for (let x = 0; x < w; x++) store<f64>(acc + (<usize>x << 3), load<f64>(acc + (<usize>x << 3)) + <f64>load<f32>(b + (<usize>x << 2)));
    }
  }
  for (let y = y0; y < y1; y++) {
    const o = local + (<usize>y * w << 2);
    const add = pixels + (<usize>min(h - 1, y + r + 1) * w << 2), sub = pixels + (<usize>max(0, y - r) * w << 2);
    let x = 0;
    for (; x + 2 <= w; x += 2) {
      const q = acc + (<usize>x << 3), p = <usize>x << 2;
      const s = v128.load(q);
      v128.store64_lane(o + p, f32x4.demote_f64x2_zero(f64x2.mul(s, k)), 0);
      const d = f64x2.sub(f64x2.promote_low_f32x4(v128.load64_zero(add + p)), f64x2.promote_low_f32x4(v128.load64_zero(sub + p)));
      v128.store(q, f64x2.add(s, d));
    }
    for (; x < w; x++) {
      const q = acc + (<usize>x << 3), p = <usize>x << 2;
      const s = load<f64>(q);
      store<f32>(o + p, <f32>(s * f64x2.extract_lane(k, 0)));
      store<f64>(q, s + (<f64>load<f32>(add + p) - <f64>load<f32>(sub + p)));
    }
  }
}

/** Rows y0..y1: the residual (source minus its local mean) into the destination, its magnitude into `local`. */
function residualRows(y0: i32, y1: i32): void {
  for (let i = <usize>y0 * ww, end = <usize>y1 * ww; i < end; i++) {
    const p = i << 2;
    const v = <f32>(<f64>load<f32>(wSrc + p) - <f64>load<f32>(local + p));
    store<f32>(wDst + p, v);
    store<f32>(local + p, abs<f32>(v));
  }
}

/**
 * Rows y0..y1: the residual over its local level (floored by half a level), or over the level's 1.5th
 * power, clipped to +-3.
 */
function scaleRows(y0: i32, y1: i32): void {
  for (let i = <usize>y0 * ww, end = <usize>y1 * ww; i < end; i++) {
    const p = i << 2;
    const l = <f64>load<f32>(local + p) + 0.5;
    const q = <f64>load<f32>(wDst + p) / (steep ? l * Math.sqrt(l) : l);
    store<f32>(wDst + p, <f32>max<f64>(-3, min<f64>(3, q)));
  }
}
export function blindFolded(): usize { return folded; }
export function blindSpectra(): usize { return spectra; }
export function blindSums(): usize { return sums; }
export function blindRe(): usize { return re; }
export function blindIm(): usize { return im; }

/**
 * Mean residual per tile pixel over the rectangle (x0, y0, w, h): each pixel's coordinate relative to the
 * image centre, rotated back by the angle and divided by the scale (c = cos / scale, s = sin / scale),
 * modulo TILE. Written to blindFolded().
 */
export function blindFold(c: f64, s: f64, x0: i32, y0: i32, w: i32, h: i32): void {
  // Each tile pixel's sum and count side by side (f64, f64): one 16-byte add per image pixel instead of
  // two 8-byte ones in arrays 128 KB apart. Lane for lane the same additions in the same order as
  // separate sums and counts, so the folded tile is bit for bit the same.
  memory.fill(folded, 0, <usize>(TILE * TILE) << 4);
  const cx = <f64>rw / 2, cy = <f64>rh / 2, big = <f64>(TILE * 1024);
  const m = TILE - 1;
  const one = f64x2(0, 1), sums = folded;
  if (s == 0) {
    // No rotation (most of the geometric search's scales): s * dy is a zero and v -= s leaves v as it is,
    // so every row's u runs through the same values and its v stays put. The column part of each pixel's
    // bin is worked out once (into `acc`, free outside the whitening) and each row adds its own: the same
    // bins, visited in the same order, as the general loop below.
    const dx = <f64>x0 - cx;
    let u = c * dx + s * (<f64>y0 - cy) + big + 0.5;
    for (let x = 0; x < w; x++) { store<i32>(acc + (<usize>x << 2), (<i32>u & m) << 4); u += c; }
    for (let y = y0; y < y0 + h; y++) {
      const v = -s * dx + c * (<f64>y - cy) + big + 0.5;
      const rowBins = sums + (<usize>(<i32>v & m) << 11);
      const row = residual + ((<usize>y * rw + x0) << 2);
      for (let x = 0; x < w; x++) {
        const bin = rowBins + <usize>load<i32>(acc + (<usize>x << 2));
        v128.store(bin, f64x2.add(v128.load(bin), f64x2.replace_lane(one, 0, <f64>load<f32>(row + (<usize>x << 2)))));
      }
    }
  } else for (let y = y0; y < y0 + h; y++) {
    const dy = <f64>y - cy, dx = <f64>x0 - cx;
    let u = c * dx + s * dy + big + 0.5, v = -s * dx + c * dy + big + 0.5;
    let p = residual + ((<usize>y * rw + x0) << 2);
    const end = p + (<usize>w << 2);
    for (; p < end; p += 4) {
      // u and v stay positive (the offset `big`), so masking is the modulo TILE
      const bin = sums + (<usize>(((<i32>v & m) << 7) + (<i32>u & m)) << 4);
      v128.store(bin, f64x2.add(v128.load(bin), f64x2.replace_lane(one, 0, <f64>load<f32>(p))));
      u += c; v -= s;
    }
  }
  // the means, in place: tile pixel i's mean (at 8 i) overwrites only pairs already read (at 16 i / 2)
  for (let i: usize = 0; i < <usize>(TILE * TILE); i++) {
    const sum = load<f64>(folded + (i << 4)), n = load<f64>(folded + (i << 4), 8);
    store<f64>(folded + (i << 3), n > 0 ? sum / n : sum);
  }
}

/** Twiddles of an n-point transform: cos and sin of 2 pi i / n for i < n / 2. */
function twiddles(n: i32): void {
  // the sync search's transforms are all 128 x 128: its table is made once (Math.cos and Math.sin are
  // software here, a few percent of a small transform)
  if (n == twiddleN) return;
  twiddleN = n;
  for (let i = 0; i < n / 2; i++) {
    const a = 2 * Math.PI * <f64>i / <f64>n;
    store<f64>(cosT + (<usize>i << 3), Math.cos(a));
    store<f64>(sinT + (<usize>i << 3), Math.sin(a));
  }
}

/** Transform every column of the w x h arrays (xr, xi) in place: h points, rows as the vector unit. */
function columns(xr: usize, xi: usize, w: i32, h: i32, inverse: bool): void {
  twiddles(h);
  const rowBytes = <usize>w << 3;
  let bits = 0;
  while ((1 << bits) < h) bits++;
  // bit-reversed order of the rows
  for (let i = 0; i < h; i++) {
    let j = 0;
    for (let b = 0; b < bits; b++) j |= ((i >> b) & 1) << (bits - 1 - b);
    if (j <= i) continue;
    const a = <usize>i * rowBytes, b = <usize>j * rowBytes;
    for (let x: usize = 0; x < rowBytes; x += 16) {
      const t = v128.load(xr + a + x); v128.store(xr + a + x, v128.load(xr + b + x)); v128.store(xr + b + x, t);
      const u = v128.load(xi + a + x); v128.store(xi + a + x, v128.load(xi + b + x)); v128.store(xi + b + x, u);
    }
  }
  const sign: f64 = inverse ? 1 : -1;
  // An odd number of stages starts with one alone; the rest go two at a time (radix 4 in one pass over
  // the rows): stage `size` and stage 2 `size` on the four rows a, a + size / 2, a + size, a + 3 size / 2,
  // which both stages pair only among themselves. Each butterfly is the same operations on the same
  // values as stage after stage, so the transform is bit for bit what it was, with half the passes over
  // memory (a 1024 x 1024 transform's 32 MB do not fit in any cache).
  let size = 2;
  if (bits & 1) {
    for (let a0 = 0; a0 < h; a0 += 2) {
      const a = <usize>a0 * rowBytes, b = a + rowBytes;
      const wr = f64x2.splat(load<f64>(cosT)), wi = f64x2.splat(sign * load<f64>(sinT));
      for (let x: usize = 0; x < rowBytes; x += 16) butterfly(xr + a + x, xi + a + x, xr + b + x, xi + b + x, wr, wi);
    }
    size = 4;
  }
  for (; size <= h; size <<= 2) {
    const half = size >> 1, step = h / size, step2 = step >> 1;
    for (let k = 0; k < half; k++) {
      const w1r = f64x2.splat(load<f64>(cosT + (<usize>(k * step) << 3)));
      const w1i = f64x2.splat(sign * load<f64>(sinT + (<usize>(k * step) << 3)));
      const w2r = f64x2.splat(load<f64>(cosT + (<usize>(k * step2) << 3)));
      const w2i = f64x2.splat(sign * load<f64>(sinT + (<usize>(k * step2) << 3)));
      const w3r = f64x2.splat(load<f64>(cosT + (<usize>((k + half) * step2) << 3)));
      const w3i = f64x2.splat(sign * load<f64>(sinT + (<usize>((k + half) * step2) << 3)));
      for (let a0 = k; a0 < h; a0 += 2 * size) {
        const p0 = <usize>a0 * rowBytes, p1 = <usize>(a0 + half) * rowBytes;
        const p2 = <usize>(a0 + size) * rowBytes, p3 = <usize>(a0 + size + half) * rowBytes;
        for (let x: usize = 0; x < rowBytes; x += 16) {
          // stage `size`: (0, 1) and (2, 3), both with w1
          let r1 = v128.load(xr + p1 + x), i1 = v128.load(xi + p1 + x);
          let tr = f64x2.sub(f64x2.mul(r1, w1r), f64x2.mul(i1, w1i));
          let ti = f64x2.add(f64x2.mul(r1, w1i), f64x2.mul(i1, w1r));
          let r0 = v128.load(xr + p0 + x), i0 = v128.load(xi + p0 + x);
          r1 = f64x2.sub(r0, tr); i1 = f64x2.sub(i0, ti); r0 = f64x2.add(r0, tr); i0 = f64x2.add(i0, ti);
          let r3 = v128.load(xr + p3 + x), i3 = v128.load(xi + p3 + x);
          tr = f64x2.sub(f64x2.mul(r3, w1r), f64x2.mul(i3, w1i));
          ti = f64x2.add(f64x2.mul(r3, w1i), f64x2.mul(i3, w1r));
          let r2 = v128.load(xr + p2 + x), i2 = v128.load(xi + p2 + x);
          r3 = f64x2.sub(r2, tr); i3 = f64x2.sub(i2, ti); r2 = f64x2.add(r2, tr); i2 = f64x2.add(i2, ti);
          // stage 2 `size`: (0, 2) with w2, (1, 3) with w3
          tr = f64x2.sub(f64x2.mul(r2, w2r), f64x2.mul(i2, w2i));
          ti = f64x2.add(f64x2.mul(r2, w2i), f64x2.mul(i2, w2r));
          v128.store(xr + p2 + x, f64x2.sub(r0, tr)); v128.store(xi + p2 + x, f64x2.sub(i0, ti));
          v128.store(xr + p0 + x, f64x2.add(r0, tr)); v128.store(xi + p0 + x, f64x2.add(i0, ti));
          tr = f64x2.sub(f64x2.mul(r3, w3r), f64x2.mul(i3, w3i));
          ti = f64x2.add(f64x2.mul(r3, w3i), f64x2.mul(i3, w3r));
          v128.store(xr + p3 + x, f64x2.sub(r1, tr)); v128.store(xi + p3 + x, f64x2.sub(i1, ti));
          v128.store(xr + p1 + x, f64x2.add(r1, tr)); v128.store(xi + p1 + x, f64x2.add(i1, ti));
        }
      }
    }
  }
}

/** One radix-2 butterfly on two f64 columns: (a, b) becomes (a + w b, a - w b), in place. */
// @ts-ignore: decorator
@inline function butterfly(ar: usize, ai: usize, br: usize, bi: usize, wr: v128, wi: v128): void {
  const xr = v128.load(br), xi = v128.load(bi);
  const tr = f64x2.sub(f64x2.mul(xr, wr), f64x2.mul(xi, wi));
  const ti = f64x2.add(f64x2.mul(xr, wi), f64x2.mul(xi, wr));
  const yr = v128.load(ar), yi = v128.load(ai);
  v128.store(br, f64x2.sub(yr, tr)); v128.store(bi, f64x2.sub(yi, ti));
  v128.store(ar, f64x2.add(yr, tr)); v128.store(ai, f64x2.add(yi, ti));
}

/** (sr, si), w x h, transposed into (dr, di), h x w; in blocks of 16 so both sides stay in cache. */
function transpose(sr: usize, si: usize, dr: usize, di: usize, w: i32, h: i32): void {
  for (let y0 = 0; y0 < h; y0 += 16) {
    for (let x0 = 0; x0 < w; x0 += 16) {
      for (let y = y0; y < min(h, y0 + 16); y++) {
        for (let x = x0; x < min(w, x0 + 16); x++) {
          const s = (<usize>y * w + x) << 3, d = (<usize>x * h + y) << 3;
          store<f64>(dr + d, load<f64>(sr + s));
          store<f64>(di + d, load<f64>(si + s));
        }
      }
    }
  }
}

/** The n x n f64 array at a transposed in place, in blocks of 16. */
function transposeSquare(a: usize, n: i32): void {
  for (let y0 = 0; y0 < n; y0 += 16) {
    for (let x0 = y0; x0 < n; x0 += 16) {
      for (let y = y0; y < min(n, y0 + 16); y++) {
        for (let x = max(x0, y + 1); x < min(n, x0 + 16); x++) {
          const p = a + ((<usize>y * n + x) << 3), q = a + ((<usize>x * n + y) << 3);
          const t = load<f64>(p); store<f64>(p, load<f64>(q)); store<f64>(q, t);
        }
      }
    }
  }
}

/**
 * 2-D FFT (no 1/n scaling) of the w x h arrays at blindRe() and blindIm() (w and h powers of two, w at
 * least 2); the result, in the same place, is h x w (transposed). Forward when inverse is 0.
 */
export function blindFft(w: i32, h: i32, inverse: i32): void {
  columns(re, im, w, h, inverse != 0);
  if (w == h) {
    // square (every sync search's): transposed in place, no copy through tre and tim
    transposeSquare(re, w); transposeSquare(im, w);
    columns(re, im, w, w, inverse != 0);
    return;
  }
  transpose(re, im, tre, tim, w, h);
  columns(tre, tim, h, w, inverse != 0);
  memory.copy(re, tre, <usize>w * h << 3);
  memory.copy(im, tim, <usize>w * h << 3);
}

/**
 * The sync search's transforms (see syncSearch in src/ops/blindmark/signal.ts), first step: the spectrum of
 * the folded tile (at blindFolded()), kept for blindSyncPair.
 */
export function blindSyncBegin(): void {
  const bytes = <usize>(TILE * TILE) << 3;
  memory.copy(re, folded, bytes);
  memory.fill(im, 0, bytes);
  blindFft(TILE, TILE, 0);
  memory.copy(fre, re, bytes);
  memory.copy(fim, im, bytes);
}

/**
 * The correlations of the folded tile with the sync carrier in orientations d and d + 1 (spectra at
 * blindSpectra(), written by the caller) at every cyclic offset: d's in blindRe(), d + 1's in blindIm()
 * (TILE x TILE). blindSums() gets each plane's sum and sum of squares (re's, then im's), in index order.
 * The same f64 operations in the same order as the TypeScript it replaced, so every plane is bit for bit
 * what it was.
 */
export function blindSyncPair(d: i32): void {
  const n = TILE * TILE, plane = <usize>n << 3;
  const s1r = spectra + <usize>(2 * d) * plane, s1i = s1r + plane, s2r = s1i + plane, s2i = s2r + plane;
  for (let i = 0; i < n; i++) {
    // C1 = F * conj(S1), C2 = F * conj(S2); transform back C1 + i C2
    const o = <usize>i << 3;
    const a = load<f64>(fre + o), b = load<f64>(fim + o);
    const p1r = load<f64>(s1r + o), p1i = load<f64>(s1i + o), p2r = load<f64>(s2r + o), p2i = load<f64>(s2i + o);
    const c1r = a * p1r + b * p1i, c1i = b * p1r - a * p1i;
    const c2r = a * p2r + b * p2i, c2i = b * p2r - a * p2i;
    store<f64>(re + o, c1r - c2i);
    store<f64>(im + o, c1i + c2r);
  }
  blindFft(TILE, TILE, 1);
  let sr: f64 = 0, qr: f64 = 0, si: f64 = 0, qi: f64 = 0;
  for (let i = 0; i < n; i++) {
    const o = <usize>i << 3, x = load<f64>(re + o), y = load<f64>(im + o);
    sr += x; qr += x * x; si += y; qi += y * y;
  }
  store<f64>(sums, sr); store<f64>(sums, qr, 8); store<f64>(sums, si, 16); store<f64>(sums, qi, 24);
}

/**
 * The lattice estimate's transforms (see estimateLattice in src/ops/blindmark/signal.ts): the cw x ch
 * rectangle at (x0, y0) of the w-wide f32 plane at src, zero-padded to W x H, transformed; its magnitude
 * (the power spectrum's square root) with the mean's bin zeroed, transformed back into blindRe() (W x H).
 */
export function blindLattice(src: usize, w: i32, x0: i32, y0: i32, cw: i32, ch: i32, W: i32, H: i32): void {
  const n = <usize>W * H;
  memory.fill(re, 0, n << 3);
  memory.fill(im, 0, n << 3);
  for (let y = 0; y < ch; y++) {
    const from = src + ((<usize>(y0 + y) * w + x0) << 2), to = re + (<usize>y * W << 3);
    for (let x = 0; x < cw; x++) store<f64>(to + (<usize>x << 3), <f64>load<f32>(from + (<usize>x << 2)));
  }
  blindFft(W, H, 0);
  for (let i: usize = 0; i < n; i++) {
    const o = i << 3, a = load<f64>(re + o), b = load<f64>(im + o);
    store<f64>(re + o, Math.sqrt(a * a + b * b));
    store<f64>(im + o, 0);
  }
  store<f64>(re, 0);
  // (the spectrum is transposed, H x W, but the magnitude is pointwise and the inverse turns it back)
  blindFft(H, W, 1);
}
