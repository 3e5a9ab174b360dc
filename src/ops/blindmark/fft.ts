/** In-place radix-2 complex FFTs (1-D and 2-D, power-of-two sizes) for the blind watermark's correlations. */

interface Table { readonly cos: Float64Array; readonly sin: Float64Array; readonly rev: Uint32Array }
const tables = new Map<number, Table>();

function table(n: number): Table {
  let t = tables.get(n);
  if (!t) {
    // Twiddles are only used by extraction (they never decide embedded pixels), so Math.cos is fine here.
    const cos = new Float64Array(n / 2), sin = new Float64Array(n / 2), rev = new Uint32Array(n);
    for (let i = 0; i < n / 2; i++) { cos[i] = Math.cos((2 * Math.PI * i) / n); sin[i] = Math.sin((2 * Math.PI * i) / n); }
    const bits = Math.log2(n);
    for (let i = 0; i < n; i++) {
      let r = 0;
      for (let b = 0; b < bits; b++) r |= ((i >> b) & 1) << (bits - 1 - b);
      rev[i] = r;
    }
    t = { cos, sin, rev };
    tables.set(n, t);
  }
  return t;
}

/** One contiguous transform of `n` points starting at `off`; `inverse` flips the sign (no 1/n scaling). */
function fft1(re: Float64Array, im: Float64Array, off: number, n: number, inverse: boolean): void {
  const { cos, sin, rev } = table(n);
  for (let i = 0; i < n; i++) {
    const j = rev[i];
    if (j > i) {
      const a = off + i, b = off + j;
      let t = re[a]; re[a] = re[b]; re[b] = t;
      t = im[a]; im[a] = im[b]; im[b] = t;
    }
  }
  // the first two stages have trivial twiddles (1 and -i): done together as one radix-4 pass
  if (n >= 4) {
    const s = inverse ? -1 : 1;
    for (let a = off; a < off + n; a += 4) {
      const r0 = re[a], i0 = im[a], r1 = re[a + 1], i1 = im[a + 1], r2 = re[a + 2], i2 = im[a + 2], r3 = re[a + 3], i3 = im[a + 3];
      const ar = r0 + r1, ai = i0 + i1, br = r0 - r1, bi = i0 - i1;
      const cr = r2 + r3, ci = i2 + i3, dr = r2 - r3, di = i2 - i3;
      // d times -i (forward) or +i (inverse)
      const er = s * di, ei = -s * dr;
      re[a] = ar + cr; im[a] = ai + ci; re[a + 2] = ar - cr; im[a + 2] = ai - ci;
      re[a + 1] = br + er; im[a + 1] = bi + ei; re[a + 3] = br - er; im[a + 3] = bi - ei;
    }
  } else if (n === 2) {
    const r0 = re[off], i0 = im[off];
    re[off] = r0 + re[off + 1]; im[off] = i0 + im[off + 1];
    re[off + 1] = r0 - re[off + 1]; im[off + 1] = i0 - im[off + 1];
    return;
  }
  const sign = inverse ? 1 : -1;
  for (let size = 8; size <= n; size <<= 1) {
    const half = size >> 1, step = n / size;
    for (let k = 0; k < half; k++) {
      const wr = cos[k * step], wi = sign * sin[k * step];
      for (let a = off + k; a < off + n; a += size) {
        const b = a + half;
        const xr = re[b] * wr - im[b] * wi, xi = re[b] * wi + im[b] * wr;
        re[b] = re[a] - xr; im[b] = im[a] - xi;
        re[a] += xr; im[a] += xi;
      }
    }
  }
}

let scratch = { re: new Float64Array(0), im: new Float64Array(0) };

/**
 * 2-D transform of a `w` x `h` row-major array (both powers of two). The columns are copied to a
 * contiguous line and back: transforming them in place with a stride of a whole row misses the cache at
 * every butterfly once the array outgrows it (1024 x 1024 is 16 MB).
 */
export function fft2(re: Float64Array, im: Float64Array, w: number, h: number, inverse = false): void {
  for (let y = 0; y < h; y++) fft1(re, im, y * w, w, inverse);
  // columns in blocks of 8, so each row's cache line is read once per block
  const B = Math.min(8, w);
  if (scratch.re.length < h * B) scratch = { re: new Float64Array(h * B), im: new Float64Array(h * B) };
  const sr = scratch.re, si = scratch.im;
  for (let x0 = 0; x0 < w; x0 += B) {
    for (let y = 0; y < h; y++) {
      const row = y * w + x0;
      for (let c = 0; c < B; c++) { sr[c * h + y] = re[row + c]; si[c * h + y] = im[row + c]; }
    }
    for (let c = 0; c < B; c++) fft1(sr, si, c * h, h, inverse);
    for (let y = 0; y < h; y++) {
      const row = y * w + x0;
      for (let c = 0; c < B; c++) { re[row + c] = sr[c * h + y]; im[row + c] = si[c * h + y]; }
    }
  }
}
