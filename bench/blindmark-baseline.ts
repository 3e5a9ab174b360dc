/**
 * The classical baseline for the blind watermark benchmark: a reimplementation of blind_watermark's
 * (github.com/guofei9987/blind_watermark, MIT) DWT-DCT-SVD method with its defaults, written from its
 * published description: the image in YUV (OpenCV's BGR2YUV), a one-level Haar DWT of each channel, the
 * approximation band cut into 4x4 blocks, each block's DCT shuffled by a keyed per-block permutation, and
 * one payload bit per block (bit i % n in block i) put in its two largest singular values by quantisation:
 * s0 = (floor(s0 / 36) + 1/4 + bit/2) * 36 and s1 likewise with step 20. Extraction reads
 * (s0 mod 36 > 18) * 3/4 + (s1 mod 20 > 10) * 1/4 per block, averages every block and channel carrying
 * the same bit, and splits the averages with a one-dimensional 2-means, as the library does. Like the
 * library, it is told the payload's length and is not told about crops or rescales.
 */
import type { RGBAImage } from '../src/image.js';
import { rng } from './fuzz.js';

const D1 = 36, D2 = 20;
const C = (() => {
  const c = new Float64Array(16);
  for (let k = 0; k < 4; k++) for (let n = 0; n < 4; n++) c[k * 4 + n] = (k === 0 ? 0.5 : Math.SQRT1_2) * Math.cos((Math.PI * (2 * n + 1) * k) / 8);
  return c;
})();

/** out = L * X * R^T style products for 4x4 matrices: forward DCT is C X C^T, inverse C^T X C. */
function dct4(x: Float64Array, inverse: boolean, t = new Float64Array(16), out = new Float64Array(16)): Float64Array {
  for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) {
    let s = 0;
    for (let k = 0; k < 4; k++) s += (inverse ? C[k * 4 + i] : C[i * 4 + k]) * x[k * 4 + j];
    t[i * 4 + j] = s;
  }
  for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) {
    let s = 0;
    for (let k = 0; k < 4; k++) s += t[i * 4 + k] * (inverse ? C[k * 4 + j] : C[j * 4 + k]);
    out[i * 4 + j] = s;
  }
  return out;
}

/** m = A^T A of a 4x4 matrix. */
function gram(a: Float64Array, m: Float64Array): void {
  for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) {
    let s = 0;
    for (let k = 0; k < 4; k++) s += a[k * 4 + i] * a[k * 4 + j];
    m[i * 4 + j] = s;
  }
}

/** Cyclic Jacobi on the symmetric 4x4 m, in place (its diagonal becomes the eigenvalues), rotating v too when given. */
function jacobi(m: Float64Array, v: Float64Array | null): void {
  for (let sweep = 0; sweep < 12; sweep++) {
    let off = 0;
    for (let p = 0; p < 3; p++) for (let q = p + 1; q < 4; q++) off += m[p * 4 + q] ** 2;
    if (off < 1e-18) break;
    for (let p = 0; p < 3; p++) for (let q = p + 1; q < 4; q++) {
      const apq = m[p * 4 + q];
      if (Math.abs(apq) < 1e-30) continue;
      const theta = (m[q * 4 + q] - m[p * 4 + p]) / (2 * apq);
      const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
      const c = 1 / Math.sqrt(t * t + 1), s = t * c;
      for (let k = 0; k < 4; k++) {
        const mkp = m[k * 4 + p], mkq = m[k * 4 + q];
        m[k * 4 + p] = c * mkp - s * mkq; m[k * 4 + q] = s * mkp + c * mkq;
      }
      for (let k = 0; k < 4; k++) {
        const mpk = m[p * 4 + k], mqk = m[q * 4 + k];
        m[p * 4 + k] = c * mpk - s * mqk; m[q * 4 + k] = s * mpk + c * mqk;
      }
      if (v) for (let k = 0; k < 4; k++) {
        const vkp = v[k * 4 + p], vkq = v[k * 4 + q];
        v[k * 4 + p] = c * vkp - s * vkq; v[k * 4 + q] = s * vkp + c * vkq;
      }
    }
  }
}

/** Singular values (descending) and vectors of a 4x4 matrix: Jacobi on A^T A for V, then U = A V / s. */
function svd4(a: Float64Array): { s: number[]; u: Float64Array[]; v: Float64Array[] } {
  const m = new Float64Array(16), v = new Float64Array(16);
  gram(a, m);
  for (let i = 0; i < 4; i++) v[i * 4 + i] = 1;
  jacobi(m, v);
  const order = [0, 1, 2, 3].sort((i, j) => m[j * 4 + j] - m[i * 4 + i]);
  const s: number[] = [], us: Float64Array[] = [], vs: Float64Array[] = [];
  for (const idx of order) {
    const vec = new Float64Array(4);
    for (let k = 0; k < 4; k++) vec[k] = v[k * 4 + idx];
    const sv = Math.sqrt(Math.max(0, m[idx * 4 + idx]));
    const u = new Float64Array(4);
    for (let r = 0; r < 4; r++) { let acc = 0; for (let k = 0; k < 4; k++) acc += a[r * 4 + k] * vec[k]; u[r] = sv > 1e-9 ? acc / sv : 0; }
    if (sv <= 1e-9) {
      // a zero singular value: any unit vector orthogonal to the previous left vectors
      for (let e = 0; e < 4; e++) {
        u.fill(0); u[e] = 1;
        for (const w of us) { const d = w[0] * u[0] + w[1] * u[1] + w[2] * u[2] + w[3] * u[3]; for (let k = 0; k < 4; k++) u[k] -= d * w[k]; }
        const n = Math.hypot(u[0], u[1], u[2], u[3]);
        if (n > 1e-6) { for (let k = 0; k < 4; k++) u[k] /= n; break; }
      }
    }
    s.push(sv); us.push(u); vs.push(vec);
  }
  return { s, u: us, v: vs };
}

/** OpenCV's BGR2YUV for floats (no offset) and back. */
function toYuv(img: RGBAImage): Float64Array[] {
  const n = img.width * img.height, y = new Float64Array(n), u = new Float64Array(n), v = new Float64Array(n), d = img.data;
  for (let i = 0; i < n; i++) {
    const r = d[i * 4], g = d[i * 4 + 1], b = d[i * 4 + 2];
    y[i] = 0.299 * r + 0.587 * g + 0.114 * b; u[i] = 0.492 * (b - y[i]); v[i] = 0.877 * (r - y[i]);
  }
  return [y, u, v];
}

/** Per-block permutations of the 16 DCT coefficients, keyed (the library's password_img). */
function shufflers(blocks: number, seed: number): Uint8Array[] {
  const r = rng(seed), out: Uint8Array[] = [];
  for (let b = 0; b < blocks; b++) {
    const p = Uint8Array.from({ length: 16 }, (_, i) => i);
    for (let i = 15; i > 0; i--) { const j = Math.floor(r() * (i + 1)); const t = p[i]; p[i] = p[j]; p[j] = t; }
    out.push(p);
  }
  return out;
}

interface Layout { bw: number; bh: number; shuffle: Uint8Array[] }
/** Layouts by size and seed: most attacks keep the size, so one photo's reads share one. */
const layouts = new Map<string, Layout>();
function layout(w: number, h: number, seed: number): Layout {
  const id = `${w}x${h}/${seed}`;
  let l = layouts.get(id);
  if (!l) {
    const bw = Math.floor(Math.floor(w / 2) / 4), bh = Math.floor(Math.floor(h / 2) / 4);
    l = { bw, bh, shuffle: shufflers(bw * bh, seed) };
    if (layouts.size > 32) layouts.clear();
    layouts.set(id, l);
  }
  return l;
}

/** The Haar approximation band's 4x4 block (bx, by), from the 8x8 pixels it covers (cA = sum of 2x2 / 2). */
function readBlock(ch: Float64Array, w: number, bx: number, by: number, blk = new Float64Array(16)): Float64Array {
  for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) {
    const x = (bx * 4 + j) * 2, y = (by * 4 + i) * 2;
    blk[i * 4 + j] = (ch[y * w + x] + ch[y * w + x + 1] + ch[(y + 1) * w + x] + ch[(y + 1) * w + x + 1]) / 2;
  }
  return blk;
}

export function embedBaseline(img: RGBAImage, bits: Uint8Array, seed = 1): RGBAImage {
  const { width: w, height: h } = img;
  const yuv = toYuv(img), L = layout(w, h, seed);
  for (const ch of yuv) {
    for (let by = 0; by < L.bh; by++) for (let bx = 0; bx < L.bw; bx++) {
      const idx = by * L.bw + bx, bit = bits[idx % bits.length], sh = L.shuffle[idx];
      const d = dct4(readBlock(ch, w, bx, by), false);
      const a = new Float64Array(16);
      for (let k = 0; k < 16; k++) a[k] = d[sh[k]];
      const { s, u, v } = svd4(a);
      const s0 = (Math.floor(s[0] / D1) + 0.25 + 0.5 * bit) * D1, s1 = (Math.floor(s[1] / D2) + 0.25 + 0.5 * bit) * D2;
      for (let r = 0; r < 4; r++) for (let c = 0; c < 4; c++) a[r * 4 + c] += (s0 - s[0]) * u[0][r] * v[0][c] + (s1 - s[1]) * u[1][r] * v[1][c];
      const back = new Float64Array(16);
      for (let k = 0; k < 16; k++) back[sh[k]] = a[k];
      const blk = dct4(back, true), old = readBlock(ch, w, bx, by);
      // only the approximation band changed: each of its 2x2 pixels moves by half the change
      for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) {
        const delta = (blk[i * 4 + j] - old[i * 4 + j]) / 2, x = (bx * 4 + j) * 2, y = (by * 4 + i) * 2;
        ch[y * w + x] += delta; ch[y * w + x + 1] += delta; ch[(y + 1) * w + x] += delta; ch[(y + 1) * w + x + 1] += delta;
      }
    }
  }
  const [Y, U, V] = yuv, out = new Uint8ClampedArray(img.data.length);
  for (let i = 0; i < w * h; i++) {
    const r = Y[i] + V[i] / 0.877, b = Y[i] + U[i] / 0.492, g = (Y[i] - 0.299 * r - 0.114 * b) / 0.587;
    out[i * 4] = Math.round(r); out[i * 4 + 1] = Math.round(g); out[i * 4 + 2] = Math.round(b); out[i * 4 + 3] = img.data[i * 4 + 3];
  }
  return { width: w, height: h, data: out };
}

export function extractBaseline(img: RGBAImage, n: number, seed = 1): Uint8Array {
  const { width: w, height: h } = img;
  const yuv = toYuv(img), L = layout(w, h, seed);
  const sum = new Float64Array(n), count = new Float64Array(n);
  // singular values only, in scratch arrays: the same rotations as svd4, so the same values, without
  // forming the vectors or allocating per block (the baseline's reads were most of the benchmark's time)
  const blk = new Float64Array(16), t = new Float64Array(16), d = new Float64Array(16), a = new Float64Array(16), m = new Float64Array(16);
  for (const ch of yuv) {
    for (let by = 0; by < L.bh; by++) for (let bx = 0; bx < L.bw; bx++) {
      const idx = by * L.bw + bx, sh = L.shuffle[idx];
      dct4(readBlock(ch, w, bx, by, blk), false, t, d);
      for (let k = 0; k < 16; k++) a[k] = d[sh[k]];
      gram(a, m);
      jacobi(m, null);
      // the two largest eigenvalues of A^T A, as svd4 orders them
      let e0 = -Infinity, e1 = -Infinity;
      for (let k = 0; k < 4; k++) {
        const e = m[k * 5];
        if (e > e0) { e1 = e0; e0 = e; } else if (e > e1) e1 = e;
      }
      const s0 = Math.sqrt(Math.max(0, e0)), s1 = Math.sqrt(Math.max(0, e1));
      const b0 = s0 % D1 > D1 / 2 ? 1 : 0, b1 = s1 % D2 > D2 / 2 ? 1 : 0;
      sum[idx % n] += (b0 * 3 + b1) / 4; count[idx % n]++;
    }
  }
  const avg = Array.from(sum, (v, i) => (count[i] ? v / count[i] : 0));
  // one-dimensional 2-means, as blind_watermark's one_dim_kmeans
  let threshold = 0.5;
  for (let it = 0; it < 300; it++) {
    const hi = avg.filter((v) => v > threshold), lo = avg.filter((v) => v <= threshold);
    if (!hi.length || !lo.length) break;
    const next = (hi.reduce((p, q) => p + q, 0) / hi.length + lo.reduce((p, q) => p + q, 0) / lo.length) / 2;
    if (Math.abs(next - threshold) < 1e-6) break;
    threshold = next;
  }
  return Uint8Array.from(avg, (v) => (v > threshold ? 1 : 0));
}
