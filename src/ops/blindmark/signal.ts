/**
 * The blind watermark's signal processing: luma, box filters, the perceptual mask, the whitening filter,
 * folding the image's tiles onto one tile (under a scale and rotation), the sync search over offsets and
 * the eight quarter-turn/mirror orientations, despreading, and the lattice estimate from autocorrelation.
 */
import type { RGBAImage } from '../../image.js';
import type { KernelExports } from '../../kernels/module.js';
import { TILE, type Tile } from './pattern.js';
import { ImgpipeError } from '../../errors.js';

/**
 * One extraction's state on the kernels module (wasm/kernels/assembly/blindread.ts): the image's luma and
 * whitened residual in its memory, and views of the residual, its folded tile and transform buffers. Every
 * buffer is allocated up front, so the memory never grows and the views stay valid for the whole extraction.
 */
export interface Reader {
  readonly k: KernelExports;
  readonly w: number;
  readonly h: number;
  readonly residual: Float32Array;
  readonly folded: Float64Array;
  readonly re: Float64Array;
  readonly im: Float64Array;
  /** The sync carrier's eight spectra in the kernel (see syncSearch), and the correlation planes' sums. */
  readonly spectra: Float64Array;
  readonly sums: Float64Array;
}

/** Which carrier's spectra each reader's kernel memory holds. */
const spectraLoaded = new WeakMap<Reader, Float64Array>();

/** The side of the lattice estimate's transform for an image side: the next power of two, at most 1024. */
const latticeSide = (n: number): number => Math.max(TILE, Math.min(1024, 2 ** Math.ceil(Math.log2(n))));

/** Bytes of kernel memory an extraction of a w x h image needs. */
export const readerBytes = (w: number, h: number): number => w * h * 17 + (w + 33) * 16 + latticeSide(w) * latticeSide(h) * 32 + TILE * TILE * 160 + 65536;

/** Open an extraction's buffers for a w x h image on the kernel (after reset()); the residual is zero. */
export function openReader(k: KernelExports, w: number, h: number): Reader {
  const W = latticeSide(w), H = latticeSide(h);
  k.blindReadBegin(w, h, W, H);
  return {
    k, w, h,
    residual: new Float32Array(k.memory.buffer, k.blindResidual(), w * h),
    folded: new Float64Array(k.memory.buffer, k.blindFolded(), TILE * TILE),
    re: new Float64Array(k.memory.buffer, k.blindRe(), W * H),
    im: new Float64Array(k.memory.buffer, k.blindIm(), W * H),
    spectra: new Float64Array(k.memory.buffer, k.blindSpectra(), 16 * TILE * TILE),
    sums: new Float64Array(k.memory.buffer, k.blindSums(), 4),
  };
}

/** Rows per kernel call: enough calls for V8's optimised tier to take over within the first image. */
const BAND = 32;

/** Copy the image into the kernel and make its BT.601 luma (the Y that JPEG and WebP encode) there. */
export function readImage(rd: Reader, image: RGBAImage): void {
  const { k, w, h } = rd;
  new Uint8Array(k.memory.buffer, k.blindPixels(), w * h * 4).set(image.data);
  for (let y = 0; y < h; y += BAND) k.blindLuma(y, Math.min(h, y + BAND));
}

/**
 * The extraction's whitening (on the kernel), into the reader's residual: luma minus its local mean (3x3 at
 * the embedded scale) removes most of the photo (whose energy is in low frequencies) and keeps the mark's
 * chips; dividing by the local residual level (5x5; to the power radii.exponent, see WHITENING_EXPONENT)
 * makes a strong edge count no more than a flat area, and
 * the clip to +-3 bounds what one pixel can say. The level is floored at half a level (against 1, the coded
 * bits' error rate on 600 px photos cropped to a quarter, halved, rotated 5 degrees or enlarged fell from
 * 4.5% to 4.1%). Box means are separable running sums with edges clamped. The box radii come from
 * whiteningRadii (the boxes grow with the mark's chips) or are WIDE_WHITENING.
 */
export function whiten(rd: Reader, radii: Radii = whiteningRadii(1)): void {
  rd.k.blindWhitenBegin(0, radii.mean, radii.level, radii.exponent === 1.5 ? 1 : 0);
  while (rd.k.blindWhitenStep());
}

/**
 * The same whitening of the luma at half resolution (the mean of every 2x2 block, odd last row and column
 * dropped): floor(w/2) x floor(h/2), a view of kernel memory valid until the next whitenHalf.
 */
export function whitenHalf(rd: Reader, radii: Radii = whiteningRadii(1)): Float32Array {
  rd.k.blindWhitenBegin(1, radii.mean, radii.level, radii.exponent === 1.5 ? 1 : 0);
  while (rd.k.blindWhitenStep());
  return new Float32Array(rd.k.memory.buffer, rd.k.blindHalf(), (rd.w >> 1) * (rd.h >> 1));
}

/**
 * The whitening's box radii for a mark seen at `scale`: 1 (mean) and 2 (level) at the embedded scale, doubled
 * from 1.5x (only two residuals to make, whatever the geometric search tries). Against 2 and 3, the coded bits' error rate at the true geometry on the benchmark's failing
 * 300 px crops and halvings of 600 px photos fell from 18.3% to 16.0%.
 */
export function whiteningRadii(scale: number): Radii {
  const mean = Math.max(1, Math.round(scale));
  return { mean, level: 2 * mean, exponent: WHITENING_EXPONENT };
}

/**
 * The power of the local level the residual is divided by. Dividing by the level itself makes every pixel
 * say about as much; the mark's share of a pixel's residual is larger where the host's residual is small
 * (the mask gives flat areas a floor, and texture far less than its own contrast), and the 1.5th power
 * weights those pixels up, nearer a matched filter's weight (mark / noise variance). On 640 cases none
 * chosen by a result (photos 40-199 at 600 px halved, cropped to a quarter and to half of the area, WebP
 * q60; bench/results/blindmark-s8-exponent-640.md) exact recoveries 626 against 619: quarter-area crops 157
 * against 151 of 160, halvings 153 against 152, the other two the same. At the true geometry (the decoder
 * fed the sync peak found there; bench/blindmark-detectors.ts, bench/results/blindmark-s8-detectors.txt) the
 * 2nd power read 602 and the 1.5th 606 against 600 for the 1st; a 3x3 median for the mean 590, weighting by
 * the embedding's mask recomputed 595, fold sums (tile pixels weighted by count) 602.
 */
const WHITENING_EXPONENT = 1.5;

export interface Radii {
  readonly mean: number;
  readonly level: number;
  /** The residual is divided by the floored local level to this power (1 or 1.5). */
  readonly exponent: 1 | 1.5;
}

/**
 * The wider whitening (5x5 mean, 7x7 level, divided by the level itself as it was measured) that the 3x3 one
 * replaced: it keeps more of the chips' energy where recompression or blur has softened them (JPEG q30 and
 * q50, WebP q60, blur, doodles), so an untransformed image that the 3x3 residual does not decode is tried
 * again on this one.
 */
export const WIDE_WHITENING: Radii = { mean: 2, level: 3, exponent: 1 };

export interface Geometry {
  /** Size of one tile period in the examined image, over TILE. */
  readonly scale: number;
  /** Rotation in radians of the tile's axes in the examined image. */
  readonly angle: number;
}

/**
 * Fold every pixel of the rectangle (x0, y0, w, h) (the whole image by default) onto the tile: the image
 * coordinate relative to the centre, rotated back and divided by the scale, modulo TILE (on the kernel).
 * Returns the mean residual per tile pixel.
 */
export function fold(rd: Reader, g: Geometry, rect = { x0: 0, y0: 0, w: rd.w, h: rd.h }): Float64Array {
  rd.k.blindFold(Math.cos(g.angle) / g.scale, Math.sin(g.angle) / g.scale, rect.x0, rect.y0, rect.w, rect.h);
  return Float64Array.from(rd.folded);
}

/** The eight quarter-turn/mirror orientations of a TILE x TILE array. */
export function orientTile(src: Float64Array, d: number): Float64Array {
  const out = new Float64Array(TILE * TILE), m = TILE - 1;
  for (let y = 0; y < TILE; y++) {
    for (let x = 0; x < TILE; x++) {
      let sx = d & 4 ? y : x, sy = d & 4 ? x : y;
      if (d & 1) sx = m - sx;
      if (d & 2) sy = m - sy;
      out[y * TILE + x] = src[sy * TILE + sx];
    }
  }
  return out;
}

export interface SyncPeak {
  readonly orientation: number;
  readonly dx: number;
  readonly dy: number;
  /** The peak's height in standard deviations of the whole correlation surface. */
  readonly z: number;
}

/**
 * 2-D FFT of w x h arrays on the kernel; the spectrum comes back transposed (see blindread.ts), which no
 * pointwise use can tell. Copies in and out of the reader's buffers.
 */
function fft2(rd: Reader, re: Float64Array, im: Float64Array, w: number, h: number, inverse = false): void {
  rd.re.set(re); rd.im.set(im);
  rd.k.blindFft(w, h, inverse ? 1 : 0);
  re.set(rd.re.subarray(0, w * h)); im.set(rd.im.subarray(0, w * h));
}

/** Spectra of the sync carrier in each of the eight orientations, cached per carrier. */
const templateSpectra = new WeakMap<Float64Array, { re: Float64Array; im: Float64Array }[]>();

function spectra(rd: Reader, sync: Float64Array): { re: Float64Array; im: Float64Array }[] {
  let s = templateSpectra.get(sync);
  if (!s) {
    s = [];
    for (let d = 0; d < 8; d++) {
      const re = orientTile(sync, INVERSE[d]), im = new Float64Array(re.length);
      fft2(rd, re, im, TILE, TILE);
      s.push({ re, im });
    }
    templateSpectra.set(sync, s);
  }
  return s;
}

/** orientTile(orientTile(x, d), INVERSE[d]) = x: the transposing orientations with one flip undo each other swapped. */
const INVERSE = [0, 1, 2, 3, 4, 6, 5, 7];

/**
 * Correlate the folded tile with the sync carrier in each orientation at every cyclic offset; returns
 * the best peaks. Correlating the tile with the carrier turned back is the same as turning the tile, so the
 * tile is transformed once and the carrier's eight spectra are cached (and copied into the reader's kernel
 * memory once); two orientations share one inverse transform (their correlations are real, so one goes in the
 * real part and one in the imaginary part). The products, transforms and each plane's sums run on the kernel
 * (blindSyncPair), with no array allocated per call: the geometric search correlates about 200 folded tiles.
 * The offsets found are in the folded tile's own frame. `orientations` from `first` (even) are searched: a
 * refinement that knows the orientation searches only its pair, one inverse transform instead of four.
 */
export function syncSearch(rd: Reader, folded: Float64Array, sync: Float64Array, keep = 3, orientations = 8, first = 0): SyncPeak[] {
  if (spectraLoaded.get(rd) !== sync) {
    const spec = spectra(rd, sync);
    for (let d = 0; d < 8; d++) { rd.spectra.set(spec[d].re, 2 * d * TILE * TILE); rd.spectra.set(spec[d].im, (2 * d + 1) * TILE * TILE); }
    spectraLoaded.set(rd, sync);
  }
  const n = TILE * TILE;
  if (folded !== rd.folded) rd.folded.set(folded);
  rd.k.blindSyncBegin();
  const peaks: SyncPeak[] = [];
  const { re, im, sums } = rd;
  for (let d = first; d < first + orientations; d += 2) {
    rd.k.blindSyncPair(d);
    for (const [plane, o, at] of [[re, d, 0], [im, d + 1, 2]] as const) {
      const mean = sums[at] / n;
      const sd = Math.sqrt(Math.max(1e-30, sums[at + 1] / n - mean * mean));
      // a compare first, a little below the bar, so only the few near or over it pay for the division
      const below = mean + 3.99 * sd;
      const order: number[] = [];
      for (let i = 0; i < n; i++) {
        if (plane[i] < below || (plane[i] - mean) / sd < 4) continue;
        order.push(i);
      }
      order.sort((x, y) => plane[y] - plane[x]);
      for (const i of order.slice(0, keep)) {
        peaks.push({ orientation: o, dx: i % TILE, dy: (i / TILE) | 0, z: (plane[i] - mean) / sd });
      }
    }
  }
  peaks.sort((p, q) => q.z - p.z);
  return peaks.slice(0, keep);
}

/**
 * Soft values of the coded bits: the folded tile, read through the peak's orientation and offset,
 * correlated with each bit's chips. The peak says the folded tile at o + D^-1(u) holds tile pixel u.
 */
export function despread(folded: Float64Array, peak: SyncPeak, tile: Tile, codedBits: number): Float64Array {
  const soft = new Float64Array(codedBits);
  const d = peak.orientation, m = TILE - 1;
  for (let y = 0; y < TILE; y++) {
    for (let x = 0; x < TILE; x++) {
      const i = y * TILE + x, c = tile.chipOf[i], b = tile.bitOf[c];
      if (b < 0) continue;
      // T_d(p) = T_e^-1(p), the folded tile's offset from the peak (e = INVERSE[d], the carrier's turn)
      let sx = d & 4 ? y : x, sy = d & 4 ? x : y;
      if (d & 1) sx = m - sx;
      if (d & 2) sy = m - sy;
      const fx = (sx + peak.dx) % TILE, fy = (sy + peak.dy) % TILE;
      soft[b] += folded[fy * TILE + fx] * tile.sign[c] * tile.shape[i];
    }
  }
  return soft;
}

/**
 * Scale and rotation from the autocorrelation of the residual: a repeated tile puts peaks on a square
 * lattice whose spacing is the tile's period and whose axes are its orientation. The power spectrum is
 * flattened (square root) before transforming back, which sharpens the peaks against the photo.
 * `r` is a w x h residual in the kernel's memory (the reader's residual, or whitenHalf's): the kernel
 * reads it there, by its offset.
 */
export function estimateLattice(rd: Reader, r: Float32Array, w = rd.w, h = rd.h): Geometry[] {
  // the whole image (its centre when over 1024 px), zero-padded to powers of two
  const W = latticeSide(w), H = latticeSide(h);
  const cw = Math.min(W, w), ch = Math.min(H, h), x0 = (w - cw) >> 1, y0 = (h - ch) >> 1;
  if (r.buffer !== rd.k.memory.buffer) throw new ImgpipeError('INTERNAL', 'Expected the lattice estimate\'s residual in the kernel\'s memory but it was a separate array');
  rd.k.blindLattice(r.byteOffset, w, x0, y0, cw, ch, W, H);
  const re = rd.re.subarray(0, W * H);
  // W and H are powers of two, so masking wraps negative lags too (two's complement)
  const mw = W - 1, mh = H - 1;
  const at = (dx: number, dy: number): number => re[(dy & mh) * W + (dx & mw)];
  // lags up to half the examined extent, periods from 0.45x to 2.2x the embedded one
  const hx = Math.floor(Math.min(cw / 2, W / 2 - 3)), hy = Math.floor(Math.min(ch / 2, H / 2 - 3));
  const rMin = TILE * 0.45, rMax = TILE * 2.2, rMin2 = rMin * rMin, rMax2 = rMax * rMax;
  type P = { x: number; y: number; v: number };
  const found: P[] = [];
  let sum = 0, sq = 0, n = 0;
  for (let dy = 0; dy <= hy; dy++) {
    for (let dx = -hx; dx <= hx; dx++) {
      const rr = dx * dx + dy * dy;
      if (rr < rMin2 / 9 || rr > rMax2) continue;
      const v = at(dx, dy);
      if (rr >= rMin2) { sum += v; sq += v * v; n++; }
      if (v <= at(dx + 1, dy) || v < at(dx - 1, dy) || v <= at(dx, dy + 1) || v < at(dx, dy - 1)) continue;
      if (v <= at(dx + 1, dy + 1) || v < at(dx - 1, dy - 1) || v <= at(dx - 1, dy + 1) || v < at(dx + 1, dy - 1)) continue;
      found.push({ x: dx, y: dy, v });
    }
  }
  if (n === 0) return [];
  const mean = sum / n, sd = Math.sqrt(Math.max(1e-30, sq / n - mean * mean));
  const sub = (x: number, y: number): { x: number; y: number } => {
    const c = at(x, y);
    return { x: x + parabola(at(x - 1, y), c, at(x + 1, y)), y: y + parabola(at(x, y - 1), c, at(x, y + 1)) };
  };
  const near = (px: number, py: number): P => {
    let best: P = { x: Math.round(px), y: Math.round(py), v: -Infinity };
    for (let ey = -2; ey <= 2; ey++) for (let ex = -2; ex <= 2; ex++) {
      const x = Math.round(px) + ex, y = Math.round(py) + ey, v = at(x, y);
      if (v > best.v) best = { x, y, v };
    }
    return best;
  };
  const strong = found.filter((p) => Math.hypot(p.x, p.y) >= rMin).sort((a, b) => b.v - a.v).slice(0, 6);
  const out: { g: Geometry; z: number }[] = [];
  for (const peak of strong) {
    // A peak may be the tile's period or a multiple (2v, the diagonal): try the peak and its halves and
    // thirds; extraction keeps whichever the sync carrier confirms.
    for (const div of [1, 2, 3]) {
      let a = peak.x / div, b = peak.y / div;
      if (Math.hypot(a, b) < rMin) continue;
      if (div > 1) { const p = near(a, b); a = p.x; b = p.y; }
      // least squares over the lattice points k*v + l*perp(v) that stand out, each found near its prediction
      let num1 = 0, num2 = 0, den = 0, zsum = 0, count = 0;
      for (let k = -4; k <= 4; k++) {
        for (let l = -4; l <= 4; l++) {
          if (k === 0 && l === 0) continue;
          const px = k * a - l * b, py = k * b + l * a;
          if (Math.abs(px) > hx || Math.abs(py) > hy) continue;
          const p = near(px, py);
          const z = (p.v - mean) / sd;
          zsum += z; count++;
          if (z < 3) continue;
          const s = sub(p.x, p.y);
          num1 += k * s.x + l * s.y; num2 += k * s.y - l * s.x; den += k * k + l * l;
        }
      }
      if (den > 0) { a = num1 / den; b = num2 / den; }
      let angle = Math.atan2(b, a);
      while (angle > Math.PI / 4) angle -= Math.PI / 2;
      while (angle <= -Math.PI / 4) angle += Math.PI / 2;
      const g = { scale: Math.hypot(a, b) / TILE, angle };
      if (count > 0 && !out.some((o) => Math.abs(o.g.scale / g.scale - 1) < 0.01 && Math.abs(o.g.angle - g.angle) < 0.01)) {
        out.push({ g, z: zsum / count });
      }
    }
  }
  return out.sort((p, q) => q.z - p.z).map((o) => o.g);
}

function parabola(l: number, c: number, r: number): number {
  const d = l - 2 * c + r;
  return d < 0 ? Math.max(-0.5, Math.min(0.5, (0.5 * (l - r)) / d)) : 0;
}
