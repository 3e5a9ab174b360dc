/**
 * Fuzz harness for hostile uploads: mutates the shared fixtures (bit flips, truncation at every
 * JPEG segment / PNG chunk / RIFF chunk / HEIF box boundary, forged dimensions (HEIF: every ispe), duplicated and reordered
 * segments, huge EXIF blocks, 0- and 1-byte files, wrong extensions, spliced files) and runs each
 * case through `decode` (and every eighth through `processUpload`).
 *
 * Cases run in a worker thread, one after another in the same warm codec instances (so damage a
 * failed case leaves behind is caught by the cases after it). A case that does not answer within
 * the bound is a hang: the worker is terminated and a fresh one takes over. Outcomes: `ok`, an
 * ImgpipeError code, `escape` (anything else thrown, or an `ok` whose pixels don't match its
 * dimensions), `hang`, `crash` (the worker died). At the end the worker that survived decodes and
 * encodes the good images again and must produce exactly what it produced before the run.
 *
 *   npm run fuzz -- --cases 10000 --seed 1 [--timeout 2000] [--check-every 1000] [--case 1234] [--verbose] [--no-sweep]
 *   npm run fuzz -- --http --cases 300 --seed 1   (hostile HTTP requests: see fuzz-http.ts)
 *
 * Cases are derived from (seed, index) alone, so `--case N` replays one case of a run. Before them
 * runs the sweep (`sweepCases`, skipped with --no-sweep or --case): every fixture truncated at 33%,
 * 66% and 99% of its length and with 8 bytes flipped in the middle, the mutations that found real
 * decoder disagreements with sharp; sweep cases have negative indices.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createRequire } from 'node:module';
import { Worker, isMainThread, parentPort } from 'node:worker_threads';
import { createHash } from 'node:crypto';

const FIXTURES = fileURLToPath(new URL('../test/fixtures/', import.meta.url));

export type CaseMode = 'decode' | 'recipe';

export interface FuzzCase {
  readonly index: number;
  /** Fixture the case was derived from. */
  readonly source: string;
  /** What was done to it, e.g. `truncate@1234`. */
  readonly mutation: string;
  readonly mode: CaseMode;
  /** Object key given to `processUpload` (its extension may lie about the format). */
  readonly key: string;
  readonly bytes: Uint8Array;
}

export type Outcome = 'ok' | 'escape' | 'hang' | 'crash' | string;

export interface CaseResult {
  readonly index: number;
  readonly outcome: Outcome;
  readonly detail?: string;
}

export interface FuzzSummary {
  readonly seed: number;
  readonly cases: number;
  readonly outcomes: Readonly<Record<string, number>>;
  readonly escapes: readonly (CaseResult & { mutation: string; source: string })[];
  readonly hangs: readonly (CaseResult & { mutation: string; source: string })[];
  readonly crashes: readonly (CaseResult & { mutation: string; source: string })[];
  /** Whether the surviving worker still decodes and encodes the good images exactly as before. */
  readonly codecsIntact: boolean;
  readonly codecCheck: string;
  /** SHA-256 over every case's bytes: equal seeds give equal runs. */
  readonly digest: string;
}

// ---------------------------------------------------------------------------------------------
// Deterministic generation

/** mulberry32: small, fast, and identical on every platform. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Rand {
  int(n: number): number;
  pick<T>(xs: readonly T[]): T;
  chance(p: number): boolean;
}

function rand(seed: number): Rand {
  const r = rng(seed);
  return {
    int: (n) => Math.floor(r() * n),
    pick: (xs) => xs[Math.floor(r() * xs.length)],
    chance: (p) => r() < p,
  };
}

interface Corpus {
  readonly names: readonly string[];
  readonly files: ReadonlyMap<string, Uint8Array>;
}

let corpusCache: Corpus | undefined;
/**
 * Left out of the corpus: the iPhone HEIC's 42-tile decode takes ~0.6 s of CPU (seconds of wall time
 * on a loaded machine), past the per-case hang bound, so its mutations would report slowness as
 * hangs. The small HEIFs (one image, alpha, 10-bit) drive the same box reader, libheif and libde265;
 * test/codecs/heic.test.ts covers its grid (truncation, tiles that don't cover the canvas).
 */
const SLOW = new Set(['images/IMG_5195.HEIC']);
/**
 * Every good fixture (AVIFs of every kind too, and the JPEG decoder's inputs: every sampling,
 * progressive scan scripts, arithmetic coding for the libjpeg-turbo fallback, lossless JPEGs) plus the known-bad ones
 * (already hostile, good seeds for more damage).
 */
export function loadCorpus(): Corpus {
  if (corpusCache) return corpusCache;
  const files = new Map<string, Uint8Array>();
  for (const dir of ['images', 'bad', 'avif', 'jpegdec', 'lossless']) {
    for (const name of readdirSync(FIXTURES + dir).filter((n) => !/\.(md|mjs|json)$/.test(n)).sort()) {
      if (!SLOW.has(`${dir}/${name}`)) files.set(`${dir}/${name}`, new Uint8Array(readFileSync(`${FIXTURES}${dir}/${name}`)));
    }
  }
  corpusCache = { names: [...files.keys()], files };
  return corpusCache;
}

/** A structural unit of a file: a JPEG marker segment, a PNG chunk, a RIFF chunk. */
interface Segment { start: number; end: number; kind: string }

const u16be = (b: Uint8Array, o: number) => (b[o] << 8) | b[o + 1];
const u32be = (b: Uint8Array, o: number) => ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
const u32le = (b: Uint8Array, o: number) => (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;
const ascii = (b: Uint8Array, o: number, n: number) => String.fromCharCode(...b.subarray(o, o + n));

function kindOf(b: Uint8Array): 'jpeg' | 'png' | 'webp' | 'gif' | 'heif' | 'other' {
  if (b[0] === 0xff && b[1] === 0xd8) return 'jpeg';
  if (b[0] === 0x89 && ascii(b, 1, 3) === 'PNG') return 'png';
  if (ascii(b, 0, 4) === 'RIFF' && ascii(b, 8, 4) === 'WEBP') return 'webp';
  if (ascii(b, 0, 3) === 'GIF') return 'gif';
  if (ascii(b, 4, 4) === 'ftyp') return 'heif';
  return 'other';
}

/** Follow length-prefixed chunks from `o` while they fit; whatever is left is one `tail` segment. */
function walkChunks(b: Uint8Array, o: number, out: Segment[], next: (o: number) => { end: number; kind: string }): void {
  while (o + 8 <= b.length) {
    const { end, kind } = next(o);
    if (end > b.length || end < o + 8) break;
    out.push({ start: o, end, kind });
    o = end;
  }
  if (o < b.length) out.push({ start: o, end: b.length, kind: 'tail' });
}

/** Split a file into its segments (best effort: stops at the first thing it can't follow). */
export function segments(b: Uint8Array): Segment[] {
  const out: Segment[] = [];
  const kind = kindOf(b);
  if (kind === 'jpeg') {
    out.push({ start: 0, end: 2, kind: 'SOI' });
    let o = 2;
    while (o + 4 <= b.length && b[o] === 0xff) {
      const m = b[o + 1];
      const end = o + 2 + u16be(b, o + 2);
      if (end > b.length) break;
      if (m === 0xda) {
        // The scan runs to the next non-RST marker; split it at restart markers too.
        let s = end, last = o;
        out.push({ start: o, end, kind: 'SOS' });
        for (; s + 1 < b.length; s++) {
          if (b[s] !== 0xff || b[s + 1] === 0 || (b[s + 1] >= 0xd0 && b[s + 1] <= 0xd7)) {
            if (b[s] === 0xff && b[s + 1] >= 0xd0 && b[s + 1] <= 0xd7) { out.push({ start: Math.max(last, end), end: s, kind: 'scan' }); last = s; }
            continue;
          }
          break;
        }
        out.push({ start: Math.max(last, end), end: s, kind: 'scan' });
        o = s;
        continue;
      }
      out.push({ start: o, end, kind: `FF${m.toString(16).toUpperCase()}` });
      o = end;
    }
    if (o < b.length) out.push({ start: o, end: b.length, kind: 'tail' });
  } else if (kind === 'png') {
    out.push({ start: 0, end: 8, kind: 'signature' });
    // Length (big-endian) before the type; the CRC adds 4 bytes after the data.
    walkChunks(b, 8, out, (o) => ({ end: o + 12 + u32be(b, o), kind: ascii(b, o + 4, 4) }));
  } else if (kind === 'webp') {
    out.push({ start: 0, end: 12, kind: 'RIFF' });
    // Type before the length (little-endian); odd lengths are padded to even.
    walkChunks(b, 12, out, (o) => { const len = u32le(b, o + 4); return { end: o + 8 + len + (len & 1), kind: ascii(b, o, 4) }; });
  } else if (kind === 'heif') {
    // ISOBMFF boxes (big-endian size, then type), and the meta box's children (HEIC's whole header:
    // pitm, iinf, iloc, iref, iprp) as segments of their own.
    walkChunks(b, 0, out, (o) => ({ end: o + u32be(b, o), kind: ascii(b, o + 4, 4) }));
    const meta = out.find((x) => x.kind === 'meta');
    if (meta) walkChunks(b.subarray(0, meta.end), meta.start + 12, out, (o) => ({ end: o + u32be(b, o), kind: `meta/${ascii(b, o + 4, 4)}` }));
  } else {
    out.push({ start: 0, end: b.length, kind: 'all' });
  }
  return out;
}

const concat = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
};

const FORGED_16 = [0, 1, 0x7fff, 0xffff, 30_001, 20_000];
const FORGED_32 = [0, 1, 0x7fffffff, 0xffffffff, 65_536, 30_001, 100_000, 20_000];
const FORGED_24 = [0, 0xffffff, 30_000, 16_383];

/** The mutations. Each returns the new bytes and a short description. */
const MUTATORS: Record<string, (b: Uint8Array, r: Rand) => [Uint8Array, string]> = {
  bitflip(b, r) {
    const out = b.slice();
    const n = 1 + r.int(8);
    // Most damage near the start, where the headers are: that is where parsers are least defended.
    const span = r.chance(0.6) ? Math.min(out.length, 2048) : out.length;
    const at: number[] = [];
    for (let i = 0; i < n && span > 0; i++) { const p = r.int(span); out[p] ^= 1 << r.int(8); at.push(p); }
    return [out, `bitflip@${at.join(',')}`];
  },
  bytes(b, r) {
    const out = b.slice();
    const p = r.int(Math.max(1, out.length));
    const v = r.pick([0x00, 0xff, 0x7f, 0x80]);
    const n = Math.min(out.length - p, 1 + r.int(64));
    out.fill(v, p, p + n);
    return [out, `fill@${p}+${n}=${v}`];
  },
  truncate(b, r) {
    const segs = segments(b);
    const cuts = segs.flatMap((s) => [s.start, s.start + 1, s.start + 4, s.end - 1]).filter((c) => c > 0 && c < b.length);
    const cut = cuts.length ? r.pick(cuts) : r.int(b.length);
    return [b.subarray(0, cut).slice(), `truncate@${cut}`];
  },
  forge(b, r) {
    const out = b.slice();
    const kind = kindOf(b);
    const dv = new DataView(out.buffer);
    if (kind === 'jpeg') {
      const sof = segments(b).filter((s) => /^FFC[0-35-79A-BD-F]$/.test(s.kind));
      if (!sof.length) return MUTATORS.bitflip(b, r);
      const s = r.pick(sof);
      const h = r.pick(FORGED_16), w = r.pick(FORGED_16);
      dv.setUint16(s.start + 5, h);
      dv.setUint16(s.start + 7, w);
      if (r.chance(0.2)) out[s.start + 9] = r.pick([0, 2, 4, 5, 255]);
      return [out, `forge-sof ${w}x${h}`];
    }
    if (kind === 'png' && out.length >= 24) {
      const w = r.pick(FORGED_32), h = r.pick(FORGED_32);
      dv.setUint32(16, w);
      dv.setUint32(20, h);
      if (r.chance(0.3)) { out[24] = r.pick([1, 2, 4, 8, 16, 3, 0, 255]); out[25] = r.pick([0, 2, 3, 4, 6, 1, 7]); }
      return [out, `forge-ihdr ${w}x${h} depth ${out[24]} type ${out[25]}`];
    }
    if (kind === 'webp' && out.length >= 30) {
      const first = ascii(out, 12, 4);
      if (first === 'VP8X') {
        const w = r.pick(FORGED_24), h = r.pick(FORGED_24);
        out.set([w & 255, (w >> 8) & 255, (w >> 16) & 255, h & 255, (h >> 8) & 255, (h >> 16) & 255], 24);
        if (r.chance(0.3)) out[20] ^= r.pick([0x02, 0x10, 0x08, 0x20]);
        return [out, `forge-vp8x ${w + 1}x${h + 1} flags ${out[20]}`];
      }
      const w = r.int(0x4000), h = r.int(0x4000);
      if (first === 'VP8 ') { dv.setUint16(26, w, true); dv.setUint16(28, h, true); return [out, `forge-vp8 ${w}x${h}`]; }
      dv.setUint32(21, (w & 0x3fff) | ((h & 0x3fff) << 14) | (dv.getUint32(21, true) & 0xf0000000), true);
      return [out, `forge-vp8l ${w + 1}x${h + 1}`];
    }
    if (kind === 'heif') {
      // Every ispe (the primary image's, a grid's tiles', thumbnails') is a size the limits must catch.
      const at: number[] = [];
      for (let i = 4; i + 16 <= out.length; i++) if (out[i] === 0x69 && ascii(out, i, 4) === 'ispe') at.push(i);
      if (!at.length) return MUTATORS.bitflip(b, r);
      const i = r.pick(at), w = r.pick(FORGED_32), h = r.pick(FORGED_32);
      dv.setUint32(i + 8, w);
      dv.setUint32(i + 12, h);
      return [out, `forge-ispe@${i} ${w}x${h}`];
    }
    if (kind === 'gif' && out.length >= 10) {
      const w = r.pick(FORGED_16), h = r.pick(FORGED_16);
      dv.setUint16(6, w, true);
      dv.setUint16(8, h, true);
      return [out, `forge-gif ${w}x${h}`];
    }
    return MUTATORS.bitflip(b, r);
  },
  chunkLength(b, r) {
    const segs = segments(b).filter((s) => s.kind !== 'SOI' && s.kind !== 'signature' && s.kind !== 'RIFF' && s.kind !== 'scan' && s.kind !== 'tail' && s.kind !== 'all');
    if (!segs.length) return MUTATORS.bitflip(b, r);
    const s = r.pick(segs);
    const out = b.slice();
    const dv = new DataView(out.buffer);
    const kind = kindOf(b);
    const v = r.pick([0, 1, 2, 0xffff, 0x7fffffff, 0xffffffff, 12345]);
    if (kind === 'jpeg') dv.setUint16(s.start + 2, v & 0xffff);
    else if (kind === 'png') dv.setUint32(s.start, v >>> 0);
    else dv.setUint32(s.start + 4, v >>> 0, true);
    return [out, `length ${s.kind}@${s.start}=${v}`];
  },
  duplicate(b, r) {
    const segs = segments(b).filter((s) => s.start > 0);
    if (!segs.length) return MUTATORS.bitflip(b, r);
    const s = r.pick(segs);
    const times = r.pick([1, 1, 2, 50]);
    const copies = Array.from({ length: times }, () => b.subarray(s.start, s.end));
    return [concat(b.subarray(0, s.end), ...copies, b.subarray(s.end)), `duplicate ${s.kind}@${s.start} x${times}`];
  },
  reorder(b, r) {
    const segs = segments(b);
    if (segs.length < 3) return MUTATORS.bitflip(b, r);
    const i = 1 + r.int(segs.length - 1), j = 1 + r.int(segs.length - 1);
    const parts = segs.map((s) => b.subarray(s.start, s.end));
    [parts[i], parts[j]] = [parts[j], parts[i]];
    return [concat(b.subarray(0, segs[0].start), ...parts), `swap ${segs[i].kind}<->${segs[j].kind}`];
  },
  drop(b, r) {
    const segs = segments(b).filter((s) => s.start > 0);
    if (!segs.length) return MUTATORS.truncate(b, r);
    const s = r.pick(segs);
    return [concat(b.subarray(0, s.start), b.subarray(s.end)), `drop ${s.kind}@${s.start}`];
  },
  hugeExif(b, r) {
    const kind = kindOf(b);
    // A TIFF block whose IFD claims 65535 entries and points past its end, padded to the size asked.
    const size = r.pick([65_000, 1 << 20, 8 << 20]);
    const tiff = new Uint8Array(Math.min(size, 65_000));
    tiff.set([0x4d, 0x4d, 0, 42, 0, 0, 0, 8, 0xff, 0xff]);
    for (let i = 10; i < tiff.length; i++) tiff[i] = (i * 31) & 255;
    if (kind === 'jpeg') {
      const seg = concat(new Uint8Array([0xff, 0xe1, 0xff, 0xff]), new Uint8Array([0x45, 0x78, 0x69, 0x66, 0, 0]), tiff.subarray(0, 0xffff - 8));
      const n = Math.max(1, Math.floor(size / seg.length));
      return [concat(b.subarray(0, 2), ...Array.from({ length: n }, () => seg), b.subarray(2)), `exif-app1 x${n}`];
    }
    const body = size > tiff.length ? concat(tiff, new Uint8Array(size - tiff.length)) : tiff;
    if (kind === 'png') {
      const head = new Uint8Array(8);
      new DataView(head.buffer).setUint32(0, body.length);
      head.set([0x65, 0x58, 0x49, 0x66], 4);
      return [concat(b.subarray(0, 33), head, body, new Uint8Array(4), b.subarray(33)), `exif-png ${body.length}`];
    }
    if (kind === 'webp') {
      const head = new Uint8Array(8);
      head.set([0x45, 0x58, 0x49, 0x46]);
      // Sometimes declare more than is there: readers must not trust the length.
      new DataView(head.buffer).setUint32(4, r.chance(0.3) ? 0xfffffff0 : body.length, true);
      return [concat(b, head, body), `exif-webp ${body.length}`];
    }
    return MUTATORS.bitflip(b, r);
  },
  splice(b, r) {
    const { names, files } = loadCorpus();
    const other = files.get(r.pick(names))!;
    const cut = r.int(Math.min(b.length, 4096) + 1), from = r.int(other.length + 1);
    return [concat(b.subarray(0, cut), other.subarray(from)), `splice@${cut}+other@${from}`];
  },
  tiny(_b, r) {
    const options = [new Uint8Array(0), new Uint8Array([0xff]), new Uint8Array([0x89]), new Uint8Array([0xff, 0xd8]),
      new Uint8Array([0xff, 0xd8, 0xff, 0xd9]), new TextEncoder().encode('RIFF\0\0\0\0WEBP'), new TextEncoder().encode('GIF89a'),
      new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), new TextEncoder().encode('<html><body>not an image</body></html>')];
    const i = r.int(options.length);
    return [options[i], `tiny#${i} (${options[i].length} bytes)`];
  },
};

const MUTATION_WEIGHTS: readonly [string, number][] = [
  ['bitflip', 24], ['bytes', 8], ['truncate', 16], ['forge', 12], ['chunkLength', 8], ['duplicate', 8], ['reorder', 6],
  ['drop', 6], ['hugeExif', 4], ['splice', 4], ['tiny', 4],
];
const WEIGHT_TOTAL = MUTATION_WEIGHTS.reduce((n, [, w]) => n + w, 0);
const EXTENSIONS = ['jpg', 'png', 'webp', 'gif', 'heic', 'txt', ''];

/** Case `index` of the run with `seed`: depends on nothing else. */
export function makeCase(seed: number, index: number): FuzzCase {
  const r = rand((seed * 0x9e3779b1 + index * 0x85ebca77) >>> 0);
  const { names, files } = loadCorpus();
  const source = r.pick(names);
  let roll = r.int(WEIGHT_TOTAL), op = MUTATION_WEIGHTS[0][0];
  for (const [name, w] of MUTATION_WEIGHTS) { if (roll < w) { op = name; break; } roll -= w; }
  let [bytes, mutation] = MUTATORS[op](files.get(source)!, r);
  // Now and then a second mutation on top of the first.
  if (op !== 'tiny' && r.chance(0.15)) {
    const second = r.pick(['bitflip', 'truncate', 'duplicate', 'chunkLength']);
    const [b2, m2] = MUTATORS[second](bytes, r);
    bytes = b2;
    mutation += ` + ${m2}`;
  }
  const mode: CaseMode = r.int(8) === 0 ? 'recipe' : 'decode';
  // The key's extension is chosen independently of the content: imgpipe must sniff, never trust it.
  const ext = r.pick(EXTENSIONS);
  return { index, source, mutation, mode, key: `fuzz/${index}${ext ? `.${ext}` : ''}`, bytes };
}

/**
 * Every fixture cut at 33%, 66% and 99% of its length, and with the 8 bytes from the middle on
 * inverted, each decoded. Deterministic: no seed.
 */
export function sweepCases(): FuzzCase[] {
  const { names, files } = loadCorpus();
  const out: FuzzCase[] = [];
  for (const source of names) {
    const b = files.get(source)!;
    const variants: [Uint8Array, string][] = [33, 66, 99].map((pct) => {
      const cut = Math.floor((b.length * pct) / 100);
      return [b.slice(0, cut), `truncate ${pct}%@${cut}`];
    });
    const mid = b.length >> 1, flipped = b.slice();
    for (let i = mid; i < Math.min(b.length, mid + 8); i++) flipped[i] ^= 0xff;
    variants.push([flipped, `flip 8 bytes@${mid}`]);
    for (const [bytes, mutation] of variants) {
      const index = -(out.length + 1);
      out.push({ index, source, mutation, mode: 'decode', key: `sweep/${-index}`, bytes });
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Worker side

interface CaseMessage { type: 'case'; index: number; mode: CaseMode; key: string; bytes: Uint8Array }
interface CheckMessage { type: 'check' }
type ToWorker = CaseMessage | CheckMessage;
type FromWorker =
  | { type: 'ready'; fingerprint: string }
  | { type: 'result'; index: number; outcome: Outcome; detail?: string }
  | { type: 'check'; fingerprint: string };

/** The good images the codecs must keep handling exactly the same, one per codec. */
const CHECK_IMAGES = ['images/320x240.jpg', 'images/with-alpha.png', 'images/5_webp_a.webp', 'images/animated-loop-3.gif', 'images/grey-1-component.jpg', 'avif/alpha.avif'];

async function workerMain(): Promise<void> {
  const port = parentPort!;
  const lib = await import('../entries/node.js');
  // HEIC fixtures are fuzzed through the opt-in plug-in (its libheif module, warm across cases like the core's).
  await import('../entries/heic/node.js');
  // AVIF fixtures likewise through imgpipe/avif (libavif's decoder; its encoder in the codec check).
  await import('../entries/avif/node.js');
  const { decode, encode, processUpload, isImgpipeError } = lib;
  const recipe = {
    sizes: [{ name: 'thumb', width: 64, watermark: false }],
    outputs: [{ format: 'jpeg', quality: 80, key: 't/{size}/{name}.jpg' }, { format: 'webp', quality: 75, key: 'w/{size}/{name}.webp' }],
  } as const;

  /** Decode and re-encode every check image; hash everything that came out. */
  const fingerprint = async (): Promise<string> => {
    const h = createHash('sha256');
    for (const name of CHECK_IMAGES) {
      const img = await decode(new Uint8Array(readFileSync(FIXTURES + name)));
      h.update(`${name} ${img.width}x${img.height}`).update(img.data);
      for (const format of ['jpeg', 'webp', 'png', 'avif'] as const) h.update(await encode(img, format, { quality: 80 }));
    }
    return h.digest('hex');
  };

  const run = async (m: CaseMessage): Promise<FromWorker> => {
    try {
      if (m.mode === 'decode') {
        const img = await decode(m.bytes);
        if (!(img.width >= 1 && img.height >= 1 && img.data.length === img.width * img.height * 4)) {
          return { type: 'result', index: m.index, outcome: 'escape', detail: `ok with ${img.width}x${img.height} and ${img.data.length} bytes of pixels` };
        }
      } else {
        const variants = await processUpload(m.bytes, { key: m.key, recipe });
        const bad = variants.find((v) => !(v.bytes.length > 0 && v.width >= 1 && v.height >= 1));
        if (bad) return { type: 'result', index: m.index, outcome: 'escape', detail: `variant ${bad.key} is empty` };
      }
      return { type: 'result', index: m.index, outcome: 'ok' };
    } catch (e) {
      if (isImgpipeError(e) && e.message.length > 0) return { type: 'result', index: m.index, outcome: e.code, detail: e.message.slice(0, 200) };
      const what = e instanceof Error ? `${e.name}: ${e.message}` : `non-Error thrown: ${typeof e} ${String(e)}`;
      return { type: 'result', index: m.index, outcome: 'escape', detail: what.slice(0, 300) };
    }
  };

  port.on('message', (m: ToWorker) => {
    const reply = m.type === 'check'
      ? fingerprint().then(
        (fp): FromWorker => ({ type: 'check', fingerprint: fp }),
        // A good image that no longer decodes is the finding itself: report it, don't die of it.
        (e: unknown): FromWorker => ({ type: 'check', fingerprint: `failed: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}` }))
      : run(m);
    void reply.then((r) => port.postMessage(r));
  });
  port.postMessage({ type: 'ready', fingerprint: await fingerprint() } satisfies FromWorker);
}

// ---------------------------------------------------------------------------------------------
// Main side

export interface FuzzOptions {
  readonly cases: number;
  readonly seed: number;
  /** First case index (for replaying one case or a slice). Default 0. */
  readonly from?: number;
  /** Per-case bound in ms. Default 2000. */
  readonly timeoutMs?: number;
  readonly onResult?: (c: FuzzCase, r: CaseResult) => void;
  /** Also check the codecs on the good images every this many cases (0 or undefined: only at the end). */
  readonly checkEvery?: number;
  /** Run `sweepCases()` before the seeded cases. Default false. */
  readonly sweep?: boolean;
}

class CaseWorker {
  private worker: Worker;
  private pending?: (m: FromWorker | { type: 'died'; detail: string }) => void;
  readonly ready: Promise<string>;

  constructor() {
    // The worker runs this same file through tsx's loader (registered inside the worker, because a
    // worker's entry is resolved before `--import` hooks apply), so the harness needs no build step.
    const tsx = new URL('dist/esm/api/index.mjs', pathToFileURL(createRequire(import.meta.url).resolve('tsx/package.json'))).href;
    const boot = `import(${JSON.stringify(tsx)}).then((t) => { t.register(); return import(${JSON.stringify(import.meta.url)}); })`;
    this.worker = new Worker(boot, { eval: true });
    this.ready = new Promise((resolve, reject) => {
      this.pending = (m) => (m.type === 'ready' ? resolve(m.fingerprint) : reject(new Error(`fuzz worker failed to start: ${JSON.stringify(m)}`)));
    });
    this.worker.on('message', (m: FromWorker) => this.settle(m));
    this.worker.on('error', (e: Error) => this.settle({ type: 'died', detail: `${e.name}: ${e.message}` }));
    this.worker.on('exit', (code) => this.settle({ type: 'died', detail: `worker exited with code ${code}` }));
  }

  private settle(m: FromWorker | { type: 'died'; detail: string }): void {
    const p = this.pending;
    this.pending = undefined;
    p?.(m);
  }

  /** Send one message; resolves with the answer, `died`, or `timeout` after `ms`. */
  ask(msg: ToWorker, ms: number): Promise<FromWorker | { type: 'died'; detail: string } | { type: 'timeout' }> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => { this.pending = undefined; resolve({ type: 'timeout' }); }, ms);
      this.pending = (m) => { clearTimeout(timer); resolve(m); };
      this.worker.postMessage(msg, msg.type === 'case' ? [msg.bytes.buffer as ArrayBuffer] : []);
    });
  }

  async stop(): Promise<void> {
    this.worker.removeAllListeners('exit');
    await this.worker.terminate();
  }
}

async function fingerprintOf(worker: CaseWorker): Promise<string> {
  const check = await worker.ask({ type: 'check' }, 60_000);
  return check.type === 'check' ? check.fingerprint : `no answer (${check.type === 'died' ? check.detail : check.type})`;
}

export async function runFuzz(options: FuzzOptions): Promise<FuzzSummary> {
  const timeoutMs = options.timeoutMs ?? 2000;
  const from = options.from ?? 0;
  const outcomes: Record<string, number> = {};
  const escapes: FuzzSummary['escapes'][number][] = [], hangs: typeof escapes = [], crashes: typeof escapes = [];
  const digest = createHash('sha256');
  let worker = new CaseWorker();
  const baseline = await worker.ready;
  const brokenAfter: string[] = [];
  const sweep = options.sweep ? sweepCases() : [];
  for (let i = 0; i < sweep.length + options.cases; i++) {
    const index = i < sweep.length ? sweep[i].index : from + i - sweep.length;
    const c = i < sweep.length ? sweep[i] : makeCase(options.seed, index);
    digest.update(c.bytes);
    const answer = await worker.ask({ type: 'case', index, mode: c.mode, key: c.key, bytes: c.bytes.slice() }, timeoutMs);
    let result: CaseResult;
    if (answer.type === 'result') result = { index, outcome: answer.outcome, detail: answer.detail };
    else if (answer.type === 'timeout') result = { index, outcome: 'hang', detail: `no answer within ${timeoutMs} ms` };
    else result = { index, outcome: 'crash', detail: answer.type === 'died' ? answer.detail : JSON.stringify(answer) };
    if (answer.type !== 'result') {
      // A hung or dead worker can't be trusted with the next case: start a fresh one.
      await worker.stop();
      worker = new CaseWorker();
      await worker.ready;
    }
    outcomes[result.outcome] = (outcomes[result.outcome] ?? 0) + 1;
    const row = { ...result, mutation: c.mutation, source: c.source };
    if (result.outcome === 'escape') escapes.push(row);
    if (result.outcome === 'hang') hangs.push(row);
    if (result.outcome === 'crash') crashes.push(row);
    options.onResult?.(c, result);
    if (options.checkEvery && (i + 1) % options.checkEvery === 0 && i + 1 < sweep.length + options.cases) {
      // Periodic check: narrows down which cases left a codec broken, then continues on a fresh worker.
      const now = await fingerprintOf(worker);
      if (now !== baseline) {
        brokenAfter.push(`${now.slice(0, 200)} (checked after case ${index})`);
        await worker.stop();
        worker = new CaseWorker();
        await worker.ready;
      }
    }
  }
  const after = await fingerprintOf(worker);
  await worker.stop();
  return {
    seed: options.seed,
    cases: sweep.length + options.cases,
    outcomes,
    escapes,
    hangs,
    crashes,
    codecsIntact: after === baseline && brokenAfter.length === 0,
    codecCheck: [
      after === baseline ? `decode+encode fingerprint unchanged (${baseline.slice(0, 12)})` : `fingerprint changed: ${baseline.slice(0, 12)} -> ${after.slice(0, 200)}`,
      ...brokenAfter.map((b) => `earlier: ${b}`),
    ].join('; '),
    digest: digest.digest('hex'),
  };
}

/** Run one input through a fresh worker with the per-case bound (regression tests for hangs). */
export async function runIsolated(bytes: Uint8Array, options: { mode?: CaseMode; key?: string; timeoutMs?: number } = {}): Promise<CaseResult> {
  const worker = new CaseWorker();
  try {
    await worker.ready;
    const answer = await worker.ask({ type: 'case', index: 0, mode: options.mode ?? 'decode', key: options.key ?? 'isolated', bytes: bytes.slice() }, options.timeoutMs ?? 2000);
    if (answer.type === 'result') return { index: 0, outcome: answer.outcome, detail: answer.detail };
    return { index: 0, outcome: answer.type === 'timeout' ? 'hang' : 'crash' };
  } finally {
    await worker.stop();
  }
}

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = Number(process.argv[i + 1]);
  if (!Number.isSafeInteger(v) || v < 0) throw new Error(`Expected a non-negative integer for --${name} but received ${JSON.stringify(process.argv[i + 1])}`);
  return v;
}

async function cli(): Promise<void> {
  if (process.argv.includes('--http')) return (await import('./fuzz-http.js')).cli(arg);
  const seed = arg('seed', 1);
  const single = process.argv.includes('--case') ? arg('case', 0) : undefined;
  const cases = single === undefined ? arg('cases', 1000) : 1;
  const timeoutMs = arg('timeout', 2000);
  const checkEvery = arg('check-every', 1000);
  const verbose = process.argv.includes('--verbose') || single !== undefined;
  const started = performance.now();
  let done = 0;
  const summary = await runFuzz({
    cases, seed, timeoutMs, checkEvery, from: single ?? 0, sweep: single === undefined && !process.argv.includes('--no-sweep'),
    onResult: (c, r) => {
      done++;
      // INTERNAL means "a bug, never the caller's fault": as worth seeing as an escape.
      if (verbose || ['escape', 'hang', 'crash', 'INTERNAL'].includes(r.outcome)) {
        console.log(`#${c.index} ${c.source} [${c.mode} ${c.key}] ${c.mutation} (${c.bytes.length} B) -> ${r.outcome}${r.detail ? `: ${r.detail}` : ''}`);
      } else if (done % 500 === 0) {
        console.log(`${done}/${cases} cases, ${((performance.now() - started) / 1000).toFixed(0)} s`);
      }
    },
  });
  console.log(`\nfuzz seed ${seed}: ${summary.cases} cases in ${((performance.now() - started) / 1000).toFixed(1)} s (digest ${summary.digest.slice(0, 16)})`);
  for (const [k, v] of Object.entries(summary.outcomes).sort((a, b) => b[1] - a[1])) console.log(`  ${k.padEnd(18)} ${v}`);
  console.log(`  escapes ${summary.escapes.length}, hangs ${summary.hangs.length}, crashes ${summary.crashes.length}`);
  console.log(`  codecs after the run: ${summary.codecCheck}`);
  const failed = summary.escapes.length + summary.hangs.length + summary.crashes.length > 0 || !summary.codecsIntact;
  process.exitCode = failed ? 1 : 0;
}

if (!isMainThread) {
  void workerMain();
} else if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  void cli();
}
