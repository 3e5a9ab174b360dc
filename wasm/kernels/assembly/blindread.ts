// The blind watermark's extraction hot loops (src/ops/blindmark/signal.ts): folding the whitened luma
// onto one tile under a scale and rotation, and the 2-D FFTs of the sync correlation and the lattice
// estimate, with f64x2 SIMD.
//
// The 2-D transform is done as two column passes with a transpose between them. A column pass works on
// whole rows at a time (a butterfly between rows a and b is one contiguous loop over x, two columns per
// f64x2), so it never walks memory with a stride and every lane shares the twiddle. The spectrum comes
// out transposed (w x h becomes h x w); everything extraction does in the frequency domain is pointwise
// (products with spectra made by the same function, magnitudes) and the inverse, fed the transposed
// spectrum, transposes it back, so the layout never shows.
//
// Calling convention: reset(), then blindReadBegin(w, h, maxW, maxH) allocates the residual (w x h f32,
// written by the caller), the folded tile (128 x 128 f64) and the transform buffers for arrays of up to
// maxW x maxH; their addresses are given by blindResidual(), blindFolded(), blindRe() and blindIm().
import { alloc } from '../../common/memory';

const TILE: i32 = 128;

let residual: usize = 0;
let rw: i32 = 0;
let rh: i32 = 0;
let folded: usize = 0;
let counts: usize = 0;
let re: usize = 0;
let im: usize = 0;
let tre: usize = 0;
let tim: usize = 0;
let cosT: usize = 0;
let sinT: usize = 0;

export function blindReadBegin(w: i32, h: i32, maxW: i32, maxH: i32): void {
  rw = w; rh = h;
  residual = alloc(<usize>w * h << 2);
  folded = alloc(<usize>(TILE * TILE) << 3);
  counts = alloc(<usize>(TILE * TILE) << 3);
  const n = <usize>maxW * maxH << 3;
  re = alloc(n); im = alloc(n); tre = alloc(n); tim = alloc(n);
  const side = <usize>max(maxW, maxH);
  cosT = alloc(side << 3); sinT = alloc(side << 3);
}

export function blindResidual(): usize { return residual; }
export function blindFolded(): usize { return folded; }
export function blindRe(): usize { return re; }
export function blindIm(): usize { return im; }

/**
 * Mean residual per tile pixel over the rectangle (x0, y0, w, h): each pixel's coordinate relative to the
 * image centre, rotated back by the angle and divided by the scale (c = cos / scale, s = sin / scale),
 * modulo TILE. Written to blindFolded().
 */
export function blindFold(c: f64, s: f64, x0: i32, y0: i32, w: i32, h: i32): void {
  memory.fill(folded, 0, <usize>(TILE * TILE) << 3);
  memory.fill(counts, 0, <usize>(TILE * TILE) << 3);
  const cx = <f64>rw / 2, cy = <f64>rh / 2, big = <f64>(TILE * 1024);
  const m = TILE - 1;
  for (let y = y0; y < y0 + h; y++) {
    const dy = <f64>y - cy, dx = <f64>x0 - cx;
    let u = c * dx + s * dy + big + 0.5, v = -s * dx + c * dy + big + 0.5;
    const row = residual + ((<usize>y * rw + x0) << 2);
    for (let x = 0; x < w; x++) {
      // u and v stay positive (the offset `big`), so masking is the modulo TILE
      const bin = <usize>(((<i32>v & m) << 7) + (<i32>u & m)) << 3;
      store<f64>(folded + bin, load<f64>(folded + bin) + <f64>load<f32>(row + (<usize>x << 2)));
      store<f64>(counts + bin, load<f64>(counts + bin) + 1);
      u += c; v -= s;
    }
  }
  for (let i: usize = 0; i < <usize>(TILE * TILE) << 3; i += 8) {
    const n = load<f64>(counts + i);
    if (n > 0) store<f64>(folded + i, load<f64>(folded + i) / n);
  }
}

/** Twiddles of an n-point transform: cos and sin of 2 pi i / n for i < n / 2. */
function twiddles(n: i32): void {
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
  for (let size = 2; size <= h; size <<= 1) {
    const half = size >> 1, step = h / size;
    for (let k = 0; k < half; k++) {
      const wr = f64x2.splat(load<f64>(cosT + (<usize>(k * step) << 3)));
      const wi = f64x2.splat(sign * load<f64>(sinT + (<usize>(k * step) << 3)));
      for (let a0 = k; a0 < h; a0 += size) {
        const a = <usize>a0 * rowBytes, b = <usize>(a0 + half) * rowBytes;
        for (let x: usize = 0; x < rowBytes; x += 16) {
          const br = v128.load(xr + b + x), bi = v128.load(xi + b + x);
          const tr = f64x2.sub(f64x2.mul(br, wr), f64x2.mul(bi, wi));
          const ti = f64x2.add(f64x2.mul(br, wi), f64x2.mul(bi, wr));
          const ar = v128.load(xr + a + x), ai = v128.load(xi + a + x);
          v128.store(xr + b + x, f64x2.sub(ar, tr)); v128.store(xi + b + x, f64x2.sub(ai, ti));
          v128.store(xr + a + x, f64x2.add(ar, tr)); v128.store(xi + a + x, f64x2.add(ai, ti));
        }
      }
    }
  }
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

/**
 * 2-D FFT (no 1/n scaling) of the w x h arrays at blindRe() and blindIm() (w and h powers of two, w at
 * least 2); the result, in the same place, is h x w (transposed). Forward when inverse is 0.
 */
export function blindFft(w: i32, h: i32, inverse: i32): void {
  columns(re, im, w, h, inverse != 0);
  transpose(re, im, tre, tim, w, h);
  columns(tre, tim, h, w, inverse != 0);
  memory.copy(re, tre, <usize>w * h << 3);
  memory.copy(im, tim, <usize>w * h << 3);
}
