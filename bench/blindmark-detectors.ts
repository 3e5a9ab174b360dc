/**
 * The blind watermark's detector at the true geometry, in variants: for each case of a --cases file
 * (`photo width attack`), embed and attack as bench/blindmark.ts does, fold the residual at the scale the
 * attack applied, take the strongest sync peak, despread and list-decode (32 paths, CRC) as extraction does,
 * with the residual made by each variant. Separates what the detector reads from what the search finds.
 * Attacked images are cached in /tmp/bmcache.
 *
 *   npx tsx bench/blindmark-detectors.ts CASES 'base,wide,js:exponent=1.5,js:exponent=2;floor=1'   (VERBOSE=1: per case)
 *
 * Variants: base and wide are the kernel's whitenings (whiteningRadii(scale), WIDE_WHITENING); js:... is the
 * same whitening in TypeScript with options: mean, level (box radii), floor (added to the level), clip,
 * exponent (the level's power), median=1 (3x3 median instead of the mean), mask=R (weighted by the embedding's
 * mask recomputed over (2R+1)^2 windows, over the level), sum=1 (fold sums: tile pixels weighted by their
 * count), pilot=1 (despread with the chip profile measured on the sync chips), prof=1 (the 3x3-whitened flat
 * chip's profile).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import '../entries/node.js';
import { encode } from '../src/encode.js';
import { embedBlindWatermark, blindWatermarkInternals } from '../src/ops/blind-watermark.js';
import { openReader, readImage, whiten, whiteningRadii, syncSearch, readerBytes, WIDE_WHITENING, type SyncPeak } from '../src/ops/blindmark/signal.js';
import { listViterbi, crc24 } from '../src/ops/blindmark/coding.js';
import { TILE, CHIP, type Tile } from '../src/ops/blindmark/pattern.js';
import { kernel } from '../src/kernels/module.js';
import { ATTACKS } from './blindmark-attacks.js';
import { contentFor, photo } from './blindmark-photos.js';
import type { RGBAImage } from '../src/image.js';

const KEY = 'benchmark key';
mkdirSync('/tmp/bmcache', { recursive: true });
const file = process.argv[2];
const variants = (process.argv[3] ?? 'base').split(',');
const cases = readFileSync(file, 'utf8').split('\n').map((l) => l.replace(/#.*/, '').trim()).filter(Boolean)
  .map((l) => { const [n, w, ...a] = l.split(/\s+/); return { n: Number(n), width: Number(w), attack: a.join(' ') }; });

async function attacked(c: { n: number; width: number; attack: string }): Promise<{ img: RGBAImage; scale: number }> {
  const p = `/tmp/bmcache/${c.n}-${c.width}-${c.attack.replace(/[^a-z0-9.]/gi, '_')}.bin`;
  if (existsSync(p)) {
    const b = readFileSync(p); const w = b.readUInt32LE(0), h = b.readUInt32LE(4), s = b.readDoubleLE(8);
    return { img: { width: w, height: h, data: new Uint8ClampedArray(b.buffer.slice(b.byteOffset + 16, b.byteOffset + 16 + w * h * 4)) }, scale: s };
  }
  const { image } = await photo(c.n, c.width);
  const marked = await embedBlindWatermark(image, { content: contentFor(c.n), key: KEY });
  const delivered = await encode(marked, 'jpeg', { quality: 85 });
  const a = ATTACKS.find((x) => x.name === c.attack)!;
  const img = await a.apply(delivered, 1000 * c.n + c.width);
  const scale = c.attack.startsWith('resize') || c.attack.startsWith('screenshot') ? img.width / image.width : 1;
  const head = Buffer.alloc(16); head.writeUInt32LE(img.width, 0); head.writeUInt32LE(img.height, 4); head.writeDoubleLE(scale, 8);
  writeFileSync(p, Buffer.concat([head, Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength)]));
  return { img, scale };
}

const PAYLOAD_BITS = 88, CODED = 188;
function decodeSoft(soft: Float64Array, tile: Tile): boolean {
  const paths = listViterbi(soft, PAYLOAD_BITS, 32);
  return paths.some((path) => {
    const p = path.slice();
    for (let i = 0; i < PAYLOAD_BITS; i++) p[i] ^= tile.scramble[i];
    let crc = 0; for (let i = 0; i < 24; i++) crc = (crc << 1) | p[64 + i];
    return crc24(p.subarray(0, 64)) === crc;
  });
}

// JS fold with counts (same mapping as blindFold)
function foldJS(res: Float32Array, w: number, h: number, scale: number, angle: number, weight?: Float32Array): { sum: Float64Array; cnt: Float64Array } {
  const sum = new Float64Array(TILE * TILE), cnt = new Float64Array(TILE * TILE);
  const c = Math.cos(angle) / scale, s = Math.sin(angle) / scale, cx = w / 2, cy = h / 2, big = TILE * 1024, m = TILE - 1;
  for (let y = 0; y < h; y++) {
    const dy = y - cy, dx = 0 - cx;
    let u = c * dx + s * dy + big + 0.5, v = -s * dx + c * dy + big + 0.5;
    for (let x = 0; x < w; x++) {
      const bin = (((v | 0) & m) << 7) + ((u | 0) & m);
      const wt = weight ? weight[y * w + x] : 1;
      sum[bin] += res[y * w + x] * wt; cnt[bin] += wt;
      u += c; v -= s;
    }
  }
  return { sum, cnt };
}

// despread with a per-(chip position) profile, in tile frame
function despreadW(folded: Float64Array, peak: SyncPeak, tile: Tile, prof: Float64Array, pixw?: Float64Array): Float64Array {
  const soft = new Float64Array(CODED); const d = peak.orientation, m = TILE - 1;
  for (let y = 0; y < TILE; y++) for (let x = 0; x < TILE; x++) {
    const i = y * TILE + x, c = tile.chipOf[i], b = tile.bitOf[c];
    if (b < 0) continue;
    let sx = d & 4 ? y : x, sy = d & 4 ? x : y;
    if (d & 1) sx = m - sx; if (d & 2) sy = m - sy;
    const fi = ((sy + peak.dy) % TILE) * TILE + (sx + peak.dx) % TILE;
    soft[b] += folded[fi] * tile.sign[c] * prof[(y % CHIP) * CHIP + (x % CHIP)] * (pixw ? pixw[fi] : 1);
  }
  return soft;
}
// pilot: profile from sync chips
function pilotProfile(folded: Float64Array, peak: SyncPeak, tile: Tile): Float64Array {
  const prof = new Float64Array(CHIP * CHIP); const d = peak.orientation, m = TILE - 1;
  for (let y = 0; y < TILE; y++) for (let x = 0; x < TILE; x++) {
    const i = y * TILE + x, c = tile.chipOf[i];
    if (tile.bitOf[c] >= 0) continue;
    let sx = d & 4 ? y : x, sy = d & 4 ? x : y;
    if (d & 1) sx = m - sx; if (d & 2) sy = m - sy;
    const fi = ((sy + peak.dy) % TILE) * TILE + (sx + peak.dx) % TILE;
    prof[(y % CHIP) * CHIP + (x % CHIP)] += folded[fi] * tile.sign[c];
  }
  return prof;
}

function lumaOf(img: RGBAImage): Float32Array {
  const n = img.width * img.height, l = new Float32Array(n);
  for (let i = 0; i < n; i++) l[i] = 0.299 * img.data[4 * i] + 0.587 * img.data[4 * i + 1] + 0.114 * img.data[4 * i + 2];
  return l;
}
function box(src: Float32Array, w: number, h: number, r: number): Float32Array {
  const tmp = new Float32Array(w * h), out = new Float32Array(w * h), k = 1 / (2 * r + 1);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) { let s = 0; for (let d = -r; d <= r; d++) s += src[y * w + Math.min(w - 1, Math.max(0, x + d))]; tmp[y * w + x] = s * k; }
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) { let s = 0; for (let d = -r; d <= r; d++) s += tmp[Math.min(h - 1, Math.max(0, y + d)) * w + x]; out[y * w + x] = s * k; }
  return out;
}
function maskOf(l: Float32Array, w: number, h: number, r: number): Float32Array {
  const sq = new Float32Array(l.length); for (let i = 0; i < l.length; i++) sq[i] = l[i] * l[i];
  const m = box(l, w, h, r), q = box(sq, w, h, r), out = new Float32Array(l.length);
  const k = 0.014 / (1 - 0.014), C2 = (0.03 * 255) ** 2;
  for (let i = 0; i < l.length; i++) { const v = Math.max(0, q[i] - m[i] * m[i]); out[i] = Math.sqrt(Math.min(36, k * (2 * v + C2))); }
  return out;
}
function whitenJS(l: Float32Array, w: number, h: number, opt: { mean: number; level: number; floor: number; clip: number; exponent?: number; median?: boolean; mask?: number; mclip?: number }): Float32Array {
  let m: Float32Array;
  if (opt.median) {
    m = new Float32Array(w * h); const v: number[] = [];
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
      v.length = 0;
      for (let dy = -opt.mean; dy <= opt.mean; dy++) for (let dx = -opt.mean; dx <= opt.mean; dx++) v.push(l[Math.min(h - 1, Math.max(0, y + dy)) * w + Math.min(w - 1, Math.max(0, x + dx))]);
      v.sort((a, b) => a - b); m[y * w + x] = v[v.length >> 1];
    }
  } else m = box(l, w, h, opt.mean);
  const r = new Float32Array(w * h), a = new Float32Array(w * h);
  for (let i = 0; i < r.length; i++) { r[i] = l[i] - m[i]; a[i] = Math.abs(r[i]); }
  const lev = box(a, w, h, opt.level);
  for (let i = 0; i < r.length; i++) { const q = r[i] / Math.pow(lev[i] + opt.floor, opt.exponent ?? 1); r[i] = Math.max(-opt.clip, Math.min(opt.clip, q)); }
  if (opt.mask) {
    const a = maskOf(l, w, h, opt.mask);
    for (let i = 0; i < r.length; i++) r[i] *= Math.min(opt.mclip ?? 4, a[i] / (lev[i] + opt.floor));
  }
  return r;
}

const stats = new Map<string, { ok: number; n: number; ber: number; byAttack: Map<string, number> }>();
const t0 = Date.now();
for (const c of cases) {
  const { img, scale } = await attacked(c);
  const { tile, sync, coded } = blindWatermarkInternals(contentFor(c.n), KEY);
  const { width: w, height: h } = img;
  const luma = lumaOf(img);
  await kernel.use(async (k) => {
    k.reset();
    const rd = openReader(k, w, h);
    readImage(rd, img);
    const base = whiteningRadii(scale);
    for (const v of variants) {
      // variant spec: name:key=val;...
      const [name, ...kv] = v.split(':');
      const o: Record<string, number> = { mean: base.mean, level: base.level, floor: 0.5, clip: 3 };
      for (const p of kv.join(':').split(';').filter(Boolean)) { const [a, b] = p.split('='); o[a] = Number(b); }
      let res: Float32Array;
      if (name === 'base') { whiten(rd, base); res = rd.residual.slice(); }
      else if (name === 'wide') { whiten(rd, WIDE_WHITENING); res = rd.residual.slice(); }
      else res = whitenJS(luma, w, h, { mean: o.mean, level: o.level, floor: o.floor, clip: o.clip, exponent: o.exponent, median: !!o.median, mask: o.mask, mclip: o.mclip });
      const { sum, cnt } = foldJS(res, w, h, scale, 0);
      const folded = new Float64Array(TILE * TILE), foldedSum = new Float64Array(TILE * TILE);
      for (let i = 0; i < folded.length; i++) { folded[i] = cnt[i] ? sum[i] / cnt[i] : 0; foldedSum[i] = sum[i]; }
      const peak = syncSearch(rd, folded, sync, 1)[0];
      let okd = false, ber = 0.5;
      if (peak) {
        let prof: Float64Array = new Float64Array(16).fill(1);
        if (o.pilot) prof = pilotProfile(folded, peak, tile);
        if (o.prof === 1) { const rx = [2, 3, 3, 2]; for (let i = 0; i < 16; i++) prof[i] = 1 - rx[i >> 2] * rx[i & 3] / 9; }
        const src = o.sum ? foldedSum : folded;
        const soft = despreadW(src, peak, tile, prof);
        okd = decodeSoft(soft, tile);
        let wrong = 0; for (let i = 0; i < CODED; i++) if ((soft[i] > 0 ? 1 : 0) !== coded[i]) wrong++;
        ber = wrong / CODED;
      }
      const st = stats.get(v) ?? { ok: 0, n: 0, ber: 0, byAttack: new Map() };
      st.n++; st.ber += ber; if (okd) { st.ok++; st.byAttack.set(c.attack, (st.byAttack.get(c.attack) ?? 0) + 1); }
      stats.set(v, st);
      if (process.env.VERBOSE) console.log(`${c.n} ${c.width} ${c.attack} ${v}: ${okd ? 'OK' : '--'} ber ${(100 * ber).toFixed(1)}%`);
    }
    k.reset();
  }, readerBytes(w, h));
}
for (const [v, s] of stats) console.log(`${v}: decoded ${s.ok}/${s.n}, mean BER ${(100 * s.ber / s.n).toFixed(2)}%  ${[...s.byAttack].map(([a, k]) => `${a}=${k}`).join(' ')}`);
console.log(`${((Date.now() - t0) / 1000).toFixed(0)} s`);
