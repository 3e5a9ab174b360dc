/**
 * Blind (invisible) watermark: a short text, or an ID for a longer one, hidden in an image's luma so that it
 * survives recompression, rescaling, crops, quarter turns, mirrors, small rotations and colour changes, and
 * read back without the original.
 *
 * How: a keyed 128 px tile of 4 px chips (see blindmark/pattern.ts) carrying the payload (8 bytes + CRC-24,
 * convolutionally coded) and a sync carrier is repeated over the whole image, added to luma with a gain that
 * follows local texture. Extraction whitens the luma, folds the image onto one tile (first as it is, then
 * at the scale and rotation measured from the tile lattice's autocorrelation peaks), finds the cyclic offset
 * and orientation by correlating with the sync carrier, then despreads and list-Viterbi-decodes the bits. The
 * CRC, checked under the key, is what makes `found: true` trustworthy: no mark, a different key, or too
 * little left gives `found: false`, never a wrong content.
 */
import { ImgpipeError, describeValue } from '../errors.js';
import type { RGBAImage } from '../image.js';
import { codedLength, convEncode, crc24, listViterbi } from './blindmark/coding.js';
import { keyedTile, renderTile, syncTemplate, TILE, type Tile } from './blindmark/pattern.js';
import { embedPattern, SSIM_C2 } from './blindmark/embed.js';
import { sha256 } from './blindmark/sha256.js';
import {
  despread, estimateLattice, fold, openReader, readerBytes, readImage, syncSearch, whiten, whitenHalf, whiteningRadii, WIDE_WHITENING, type Geometry, type Radii, type Reader,
} from './blindmark/signal.js';
import { outOfMemory } from '../wasm/instance.js';
import { b64url, checkOption, int, oneOf, type OpParams } from '../spec.js';
import { kernel, type KernelExports } from '../kernels/module.js';

export type BlindWatermarkStrength = 'low' | 'medium' | 'high';

const STRENGTH = oneOf<BlindWatermarkStrength>('low', 'medium', 'high');

/**
 * The `blindwatermark` action's parameters (x-oss-process), shared with the typed options: `s` is
 * `strength` (the grammar's default is OSS's 'low'; the typed API's and the recipe's is 'medium').
 */
export const BLIND_WATERMARK_PARAMS = {
  content: { spec: b64url(256), doc: 'text to hide' },
  s: { spec: STRENGTH, doc: 'strength: higher resists attacks better and changes the image more', default: 'low', option: 'strength' },
  q: { spec: int(70, 100), doc: 'JPEG quality of the written result (JPEG output only)', default: 90 },
} as const satisfies OpParams;

/** The `deblindwatermark` action's parameters: OSS's, accepted; extraction needs neither. */
export const DEBLIND_WATERMARK_PARAMS = {
  s: { spec: STRENGTH, doc: 'strength the mark was embedded with (accepted; extraction does not need it)', default: 'low' },
  t: { spec: oneOf('text'), doc: 'watermark type', default: 'text' },
} as const satisfies OpParams;

/** The key used when none is given: fine for OSS-style use, but anyone can read (or strip) marks made with it. */
export const DEFAULT_BLIND_WATERMARK_KEY = 'imgpipe default blind watermark key';

/** Bytes of UTF-8 content carried in the pixels themselves. */
export const BLIND_WATERMARK_CAPACITY = 8;

/** Images smaller than this on a side are refused (IMM's rule). */
const BLIND_WATERMARK_MIN_SIDE = 80;

export interface BlindWatermarkOptions {
  /** The text to hide. Up to 8 bytes of UTF-8 go in the pixels; longer text needs `longContent: 'id'`. */
  readonly content: string;
  /** Secret key: only holders of the same key can read the mark. Default: DEFAULT_BLIND_WATERMARK_KEY. */
  readonly key?: string;
  /** Trade-off between invisibility and robustness. Default 'medium' (about 40 dB PSNR of luma). */
  readonly strength?: BlindWatermarkStrength;
  /**
   * What to do with content over 8 bytes: 'refuse' (default) throws INVALID_ARGUMENT; 'id' embeds a 56-bit
   * ID of the content (`blindWatermarkId(content)`) that the caller must record, so `extract`'s `resolve`
   * can turn it back into the text.
   */
  readonly longContent?: 'refuse' | 'id';
}

export interface BlindWatermarkedImage extends RGBAImage {
  /** What the pixels carry: the text itself, or the ID of a longer text. */
  readonly carried: 'text' | 'id';
  /** The ID embedded when `carried` is 'id'. */
  readonly id?: string;
  /** Set when the mark may not be extractable (a nearly uniform, black or white image leaves it no room). */
  readonly warning?: string;
}

export interface ExtractBlindWatermarkOptions {
  readonly key?: string;
  /** Turns an embedded ID into its text (the caller's registry, e.g. the upload manifest). */
  readonly resolve?: (id: string) => string | undefined | Promise<string | undefined>;
}

export interface BlindWatermarkResult {
  readonly found: boolean;
  /** The text; absent when not found, or when an ID was found that `resolve` did not know. */
  readonly content?: string;
  /** The embedded ID, when the mark carries one. */
  readonly id?: string;
  /** 0..1: how clearly the decoded bits agree with what was read (1 = every coded bit agrees). */
  readonly confidence: number;
}

const PAYLOAD_BITS = BLIND_WATERMARK_CAPACITY * 8 + 24;
const CODED_BITS = codedLength(PAYLOAD_BITS);
/**
 * Per strength: the SSIM a window may lose to the mark, and the most RMS one pixel may carry (see
 * blindmark/embed.ts), and the mean square error the whole image may take (PSNR 44, 39 and 37 dB: only the busiest photos reach
 * it, as their SSIM budget is far larger; the mean over photos stays above 40 dB at medium).
 */
const MASK: Record<BlindWatermarkStrength, { budget: number; cap: number }> = {
  low: { budget: 0.007, cap: 4 }, medium: { budget: 0.014, cap: 6 }, high: { budget: 0.028, cap: 8 },
};
const MAX_MSE: Record<BlindWatermarkStrength, number> = { low: 2.6, medium: 8.2, high: 13 };
/**
 * Per strength: the mean square luma error an image may measure once the mark is rounded to whole levels
 * (PSNR 43.2, 38.2 and 36.2 dB), a fifth over MAX_MSE: the busiest photos, whose allowances crowd at the
 * cap, reach it, and the floor at medium is 38 dB.
 */
const MAX_LUMA_MSE: Record<BlindWatermarkStrength, number> = { low: 3.12, medium: 9.84, high: 15.6 };
/** Leading payload byte of an ID: 0xFF never occurs in UTF-8, so it can't be confused with text. */
const ID_MARKER = 0xff;

/** The ID that stands for a content too long for the pixels: the first 7 bytes of its SHA-256, in hex. */
export function blindWatermarkId(content: string): string {
  return hex(sha256(new TextEncoder().encode(content)).subarray(0, 7));
}

const hex = (b: Uint8Array): string => Array.from(b, (v) => v.toString(16).padStart(2, '0')).join('');

function checkImage(image: RGBAImage): void {
  const { width: w, height: h } = image;
  const short = Math.min(w, h), long = Math.max(w, h);
  if (short < BLIND_WATERMARK_MIN_SIDE) {
    throw new ImgpipeError('INVALID_ARGUMENT',
      `Expected an image at least ${BLIND_WATERMARK_MIN_SIDE} px on each side for blindwatermark but received ${w}x${h}`,
      { details: { parameter: 'image', min: BLIND_WATERMARK_MIN_SIDE, width: w, height: h } });
  }
  if (short * 2 < long) {
    throw new ImgpipeError('INVALID_ARGUMENT',
      `Expected an image whose short side is at least half its long side for blindwatermark but received ${w}x${h}`,
      { details: { parameter: 'image', width: w, height: h } });
  }
}

function payloadBytes(options: BlindWatermarkOptions): { bytes: Uint8Array; carried: 'text' | 'id'; id?: string } {
  const { content } = options;
  if (typeof content !== 'string' || content.length === 0) {
    throw new ImgpipeError(content === undefined ? 'MISSING_ARGUMENT' : 'INVALID_ARGUMENT',
      `Expected a non-empty string for blindwatermark.content but received ${describeValue(content)}`);
  }
  const utf8 = new TextEncoder().encode(content);
  const bytes = new Uint8Array(BLIND_WATERMARK_CAPACITY);
  if (utf8.length <= BLIND_WATERMARK_CAPACITY && !utf8.includes(0)) {
    bytes.set(utf8);
    return { bytes, carried: 'text' };
  }
  if (options.longContent !== 'id') {
    throw new ImgpipeError('INVALID_ARGUMENT',
      `Expected at most ${BLIND_WATERMARK_CAPACITY} bytes of UTF-8 without NUL for blindwatermark.content (longer content needs longContent: 'id' and a registry) but received ${utf8.length} bytes ${describeValue(content)}`,
      { details: { parameter: 'content', capacity: BLIND_WATERMARK_CAPACITY, received: utf8.length } });
  }
  const id = blindWatermarkId(content);
  bytes[0] = ID_MARKER;
  bytes.set(sha256(utf8).subarray(0, 7), 1);
  return { bytes, carried: 'id', id };
}

function toBits(bytes: Uint8Array, tile: Tile): Uint8Array {
  const bits = new Uint8Array(PAYLOAD_BITS);
  for (let i = 0; i < bytes.length * 8; i++) bits[i] = (bytes[i >> 3] >> (7 - (i & 7))) & 1;
  const crc = crc24(bits.subarray(0, bytes.length * 8));
  for (let i = 0; i < 24; i++) bits[bytes.length * 8 + i] = (crc >> (23 - i)) & 1;
  for (let i = 0; i < PAYLOAD_BITS; i++) bits[i] ^= tile.scramble[i];
  return bits;
}

/** The coded bits a payload is embedded as (0/1, in the tile's bit order). */
const codedBits = (bytes: Uint8Array, tile: Tile): Uint8Array => convEncode(toBits(bytes, tile));

/**
 * For the benchmark's bit error rate at a known geometry (bench/blindmark-ber.ts): the key's tile, its sync
 * carrier and the coded bits `content` (text that fits) is embedded as.
 */
export function blindWatermarkInternals(content: string, key = DEFAULT_BLIND_WATERMARK_KEY): { tile: Tile; sync: Float64Array; coded: Uint8Array } {
  const tile = keyedTile(key, CODED_BITS, PAYLOAD_BITS);
  return { tile, sync: syncTemplate(tile), coded: codedBits(payloadBytes({ content }).bytes, tile) };
}

export async function embedBlindWatermark(image: RGBAImage, options: BlindWatermarkOptions): Promise<BlindWatermarkedImage> {
  checkImage(image);
  if (options === null || typeof options !== 'object') {
    throw new ImgpipeError('MISSING_ARGUMENT', `Expected an options object with content for blindwatermark but received ${describeValue(options)}`);
  }
  const strength = checkOption('blindwatermark', 's', BLIND_WATERMARK_PARAMS.s, options.strength ?? 'medium');
  const key = options.key ?? DEFAULT_BLIND_WATERMARK_KEY;
  if (typeof key !== 'string' || key.length === 0) {
    throw new ImgpipeError('INVALID_ARGUMENT', `Expected a non-empty string for blindwatermark.key but received ${describeValue(key)}`);
  }
  const payload = payloadBytes(options);
  const tile = keyedTile(key, CODED_BITS, PAYLOAD_BITS);
  const pattern = renderTile(tile, codedBits(payload.bytes, tile));

  const { width: w, height: h } = image;
  const { budget, cap } = MASK[strength];
  const { data, meanAllowed, clipped } = await embedPattern(image, pattern, { budget, cap, maxMse: MAX_MSE[strength], maxLumaMse: MAX_LUMA_MSE[strength] });
  // a nearly uniform image gets little more than the flat-area floor everywhere
  const flat = meanAllowed < 1.15 * Math.sqrt((budget / (1 - budget)) * SSIM_C2);
  const warning = flat || clipped > (w * h) / 3
    ? `The image is ${flat ? 'nearly uniform' : 'mostly black or white'}: the blind watermark may not be extractable`
    : undefined;
  return {
    width: w, height: h, data, carried: payload.carried,
    ...(payload.id === undefined ? {} : { id: payload.id }),
    ...(warning === undefined ? {} : { warning }),
  };
}

interface Decoded { bytes: Uint8Array; confidence: number }

/**
 * Paths the list Viterbi decoder offers the CRC per sync peak. An extraction checks at most about 27 peaks
 * (21, and 6 more when the scan runs; about 45 when an enlargement read halved decodes nothing and the
 * whole image is read again), so a clean image passes a CRC by chance with probability about
 * 45 x LIST x 2^-24 (9e-5 at 32), and a false match must also be valid UTF-8 or an ID to be reported.
 */
const LIST = 32;

function tryDecode(rd: Reader, folded: Float64Array, tile: Tile, sync: Float64Array, peaks = syncSearch(rd, folded, sync)): Decoded | undefined {
  for (const peak of peaks) {
    const soft = despread(folded, peak, tile, CODED_BITS);
    let norm = 0;
    for (let i = 0; i < soft.length; i++) norm += Math.abs(soft[i]);
    if (norm === 0) continue;
    const dataBits = BLIND_WATERMARK_CAPACITY * 8;
    const bits = listViterbi(soft, PAYLOAD_BITS, LIST).find((path) => {
      for (let i = 0; i < PAYLOAD_BITS; i++) path[i] ^= tile.scramble[i];
      let crc = 0;
      for (let i = 0; i < 24; i++) crc = (crc << 1) | path[dataBits + i];
      return crc24(path.subarray(0, dataBits)) === crc;
    });
    if (!bits) continue;
    // confidence: the share of soft evidence that agrees with the decoded codeword
    for (let i = 0; i < PAYLOAD_BITS; i++) bits[i] ^= tile.scramble[i];
    const coded = convEncode(bits);
    let agree = 0;
    for (let i = 0; i < soft.length; i++) agree += coded[i] ? soft[i] : -soft[i];
    for (let i = 0; i < PAYLOAD_BITS; i++) bits[i] ^= tile.scramble[i];
    const bytes = new Uint8Array(BLIND_WATERMARK_CAPACITY);
    for (let i = 0; i < dataBits; i++) bytes[i >> 3] |= bits[i] << (7 - (i & 7));
    return { bytes, confidence: Math.max(0, Math.min(1, (agree / norm + 1) / 2)) };
  }
  return undefined;
}

/**
 * Ranking and refining fold only the image's centre (at most WINDOW px a side): the sync peak's height is
 * already decisive there, and folding 0.6 megapixels instead of a whole 2400 px image is what keeps the
 * geometric search within its time. The decode itself folds every pixel.
 */
const WINDOW = 768;

type Rect = { x0: number; y0: number; w: number; h: number };
/** A geometry with the height of its sync peak and the orientation (quarter turn, mirror) it was found in. */
type Scored = { g: Geometry; z: number; orientation: number };
const centre = (w: number, h: number, side: number): Rect => {
  const cw = Math.min(w, side), ch = Math.min(h, side);
  return { x0: (w - cw) >> 1, y0: (h - ch) >> 1, w: cw, h: ch };
};

/**
 * Hill-climb the sync peak's height over scale and rotation from a measured geometry, halving the steps
 * when no neighbour is higher: the autocorrelation peak is good to a fraction of a pixel, but at 2x one
 * tenth of a percent of scale is a whole chip at the edge of the image.
 */
function refine(rd: Reader, sync: Float64Array, start: Scored, rect: Rect, step = 0.004): Scored {
  // the orientation is known: only its pair of orientations is searched
  const pair = start.orientation & ~1;
  const height = (g: Geometry): number => syncSearch(rd, fold(rd, g, rect), sync, 1, 2, pair)[0]?.z ?? 0;
  let best = { g: start.g, z: height(start.g), orientation: start.orientation };
  let ds = step, da = step;
  while (ds >= 0.0008) {
    let moved = false;
    for (const [ks, ka] of [[1, 0], [-1, 0], [0, 1], [0, -1]] as const) {
      const g: Geometry = { scale: best.g.scale * (1 + ks * ds), angle: best.g.angle + ka * da };
      const z = height(g);
      if (z > best.z) { best = { g, z, orientation: start.orientation }; moved = true; }
    }
    if (!moved) { ds /= 2; da /= 2; }
  }
  return best;
}

/**
 * Line searches around a geometry, for when refining it found nothing to decode: scale in 0.1% steps over
 * +-0.6% at its angle, then angle in 0.1 degree steps over +-0.3 degrees at the best scale. On a small image
 * (a 600 px photo halved to 300 px) the sync peak is narrow, half its height 0.5% of scale away, so
 * refine's first steps (0.4%) jump over it and the climb settles on a noise bump nearby (a scale 0.2% off
 * and a quarter of a degree of rotation that the image does not have). In 0.2% steps the scan still missed
 * one of the nine halvings it reads on the 160 measured; 0.1% reads all nine.
 */
function scan(rd: Reader, sync: Float64Array, start: Scored, rect: Rect): Scored {
  const pair = start.orientation & ~1;
  const height = (g: Geometry): number => syncSearch(rd, fold(rd, g, rect), sync, 1, 2, pair)[0]?.z ?? 0;
  let best = { g: start.g, z: height(start.g), orientation: start.orientation };
  const { scale, angle } = best.g;
  for (const k of [-6, -5, -4, -3, -2, -1, 1, 2, 3, 4, 5, 6]) {
    const g: Geometry = { scale: scale * (1 + k * 0.001), angle };
    const z = height(g);
    if (z > best.z) best = { g, z, orientation: start.orientation };
  }
  const at = best.g;
  for (const k of [-3, -2, -1, 1, 2, 3]) {
    const g: Geometry = { scale: at.scale, angle: at.angle + (k * 0.1 * Math.PI) / 180 };
    const z = height(g);
    if (z > best.z) best = { g, z, orientation: start.orientation };
  }
  return best;
}

/**
 * The scan runs only where the folded window is at most this many pixels (about 640x640): it was measured on
 * 300-600 px results, where folding is cheap, and on a 1200 px clean image (768x768 folds) it put the
 * 95th percentile of a clean extraction over a second (1030 against 753 ms on the first 40 photos' 300
 * clean crops).
 */
const SCAN_AREA = 640 * 640;

/** The same geometry for the search: within 1.5% of scale and about a degree. */
const near = (a: Geometry, b: Geometry): boolean => Math.abs(a.scale / b.scale - 1) < 0.015 && Math.abs(a.angle - b.angle) < 0.02;

const radiiKey = (r: Radii): string => `${r.mean}/${r.level}/${r.exponent}`;

/** A sync peak this many standard deviations above the correlation surface is taken as found. */
const CONFIRMED = 7;
/**
 * Below this a geometry is not refined: the best of 2 x 16384 offsets in pure noise is about 4.3, the best
 * of the fallback's 155 geometries about 5; a mark that survived shows 8 to 25.
 */
const PLAUSIBLE = 5.5;
/**
 * The sync peak at the embedded size above which the wider whitening is tried: the best of the 8 x 16384
 * offsets in noise is about 4.6, and the weakest WebP q60 that only the wider whitening reads (photo 124
 * of the benchmark at 600 px) shows 5.3.
 */
const SHOWN = 5;

/**
 * The fallback: fold the centre (at most 512x512 times the scale up to 2, so it holds the same periods and
 * one period's error stays under a chip) at scales from
 * 0.45x to 2.2x in 1.2% steps with no rotation and rotations of up to 6 degrees in 0.5 degree steps with
 * no scaling, nearest the identity first, correlating in the two unmirrored orientations only; stops at the first clear peak.
 */
function coarseSearch(rd: Reader, sync: Float64Array): Scored[] {
  const { w, h } = rd;
  // nearest the identity first (in steps of the grid), so small rescales and small rotations, the common
  // ones, are found early and the search stops at the first clear peak
  const grid: { g: Geometry; steps: number }[] = [];
  for (let s = 0.45; s < 2.2; s *= 1.012) grid.push({ g: { scale: s, angle: 0 }, steps: Math.abs(Math.log(s) / Math.log(1.012)) });
  for (let a = 0.5; a <= 6; a += 0.5) for (const sign of [1, -1]) grid.push({ g: { scale: 1, angle: (sign * a * Math.PI) / 180 }, steps: a / 0.5 });
  // Halving, the commonest downscale, in 0.1% steps around 0.5: on a 600 px photo halved to 300 px the
  // sync peak can be 0.2% wide and no higher than 6.4 (photos 67 and 82 of the benchmark: 4.3 and 5.5 at
  // the grid's 0.501, and no lattice near it), which the 1.2% grid steps over.
  for (let k = -3; k <= 3; k++) grid.push({ g: { scale: 0.5 * (1 + k * 0.001), angle: 0 }, steps: Math.log(2) / Math.log(1.012) });
  grid.sort((p, q) => p.steps - q.steps);
  const scored: Scored[] = [];
  for (const { g } of grid) {
    // the centre holds the same number of periods at every scale (an enlargement's 512 px hold too few)
    const peak = syncSearch(rd, fold(rd, g, centre(w, h, 512 * Math.max(1, Math.min(2, g.scale)))), sync, 1, 2)[0];
    scored.push({ g, z: peak?.z ?? 0, orientation: peak?.orientation ?? 0 });
    if ((peak?.z ?? 0) >= CONFIRMED + 3) break;
  }
  return scored.sort((p, q) => q.z - p.z).slice(0, 2);
}

/**
 * One read of `image` on the kernel (which it resets): at the embedded size, then the geometric search. With
 * `hint`, only that geometry is refined and decoded (then scanned around); `halving` allows reading an
 * enlargement on the image halved.
 */
function readMark(k: KernelExports, image: RGBAImage, tile: Tile, sync: Float64Array, hint?: Scored, halving = true): Decoded | undefined {
  const { width: w, height: h } = image;
  k.reset();
  const rd = openReader(k, w, h);
  readImage(rd, image);
  const base = whiteningRadii(1);
  whiten(rd, base);
  // The residual in the kernel is `current`'s; the others made so far are kept by their radii.
  const residuals = new Map<string, Float32Array>();
  let current = radiiKey(base);
  const whitenWith = (radii: Radii): void => {
    const id = radiiKey(radii);
    if (id === current) return;
    if (!residuals.has(current)) residuals.set(current, rd.residual.slice());
    const res = residuals.get(id);
    if (res) rd.residual.set(res); else whiten(rd, radii);
    current = id;
  };
  let found: Decoded | undefined;
  if (!hint) {
    const folded = fold(rd, { scale: 1, angle: 0 });
    const peaks = syncSearch(rd, folded, sync);
    found = tryDecode(rd, folded, tile, sync, peaks);
    if (!found && (peaks[0]?.z ?? 0) >= SHOWN) {
      // Recompressed, blurred or scribbled on at the embedded size: the wider whitening keeps more of the
      // softened chips (the CRC keeps this second look from ever giving a wrong content). Only when the
      // sync carrier shows at the embedded size: a rescaled or rotated image (or one with no mark) skips
      // this second whole-image whitening, a fifth of a 2x enlargement's read.
      whitenWith(WIDE_WHITENING);
      found = tryDecode(rd, fold(rd, { scale: 1, angle: 0 }), tile, sync);
      if (!found) {
        // and the residual over the level itself, as it was before the 1.5th power: near the decoder's
        // limit either may be the one whose paths pass the CRC (photo 22 of the benchmark at 600 px blurred
        // with sigma 1 is read only by this one), so what the embedded size read before it still reads
        whitenWith({ ...base, exponent: 1 });
        found = tryDecode(rd, fold(rd, { scale: 1, angle: 0 }), tile, sync);
      }
      whitenWith(base);
    }
  }
  if (!found) {
    // Rescaled or rotated: check every lattice the autocorrelation suggests by folding the image at it
    // and correlating with the sync carrier; when none is confirmed (the autocorrelation of a small or busy
    // image is weak), search scales at no rotation and rotations at no scaling on the image's centre.
    // An enlargement's lattice is also looked for at half resolution, so its transform spans twice the
    // image (a 2x enlargement of a 1200 px image has only four periods in the 1024 px centre), and an
    // enlargement's sync peak is measured on a centre up to 1.4 times as wide. The geometry found is refined and decoded on the
    // residual whitened for its scale (whiteningRadii), made only then: the search uses the first one.
    const window = (g: Geometry): Rect => centre(w, h, WINDOW * Math.max(1, Math.min(1.4, g.scale)));
    const sharpness = (g: Geometry): Scored => {
      const peak = syncSearch(rd, fold(rd, g, window(g)), sync, 1)[0];
      return { g, z: peak?.z ?? 0, orientation: peak?.orientation ?? 0 };
    };
    let ranked: Scored[] = hint ? [hint] : [];
    if (!hint) {
      // best lattice first; a clear peak ends the list (each is a fold of up to 1075x1075 px on an enlargement)
      for (const g of estimateLattice(rd, rd.residual).slice(0, 8)) {
        ranked.push(sharpness(g));
        if (ranked[ranked.length - 1].z >= CONFIRMED + 3) break;
      }
      ranked.sort((p, q) => q.z - p.z);
    }
    if (!(ranked[0]?.z >= CONFIRMED) && Math.max(w, h) > 512) {
      const half = estimateLattice(rd, whitenHalf(rd), w >> 1, h >> 1)
        .filter((g) => g.scale > 0.6).slice(0, 8).map((g) => sharpness({ scale: 2 * g.scale, angle: g.angle }));
      ranked = [...ranked, ...half].sort((p, q) => q.z - p.z);
    }
    const top = ranked[0];
    if (halving && !hint && top?.z >= CONFIRMED && top.g.scale >= 1.5) {
      // An enlargement (1.5x or more) whose lattice is confirmed: refine and decode on the image halved,
      // where a 2x enlargement's tile is about its embedded size again, so every fold and the whitening
      // cost a quarter (2x enlargements of 1200 px photos: the slowest reads). If that reads nothing, the
      // whole image is read as before.
      const halvedGuess = readMark(k, halve(image), tile, sync, { g: { scale: top.g.scale / 2, angle: top.g.angle }, z: top.z, orientation: top.orientation });
      return halvedGuess ?? readMark(k, image, tile, sync, undefined, false);
    }
    const lattice = ranked;
    if (!(ranked[0]?.z >= CONFIRMED)) ranked = coarseSearch(rd, sync);
    // a lattice no better than chance (a clean image) is not worth refining
    for (const candidate of ranked.slice(0, 2).filter((c) => c.z >= PLAUSIBLE)) {
      whitenWith(whiteningRadii(candidate.g.scale));
      const rect = window(candidate.g);
      let best = refine(rd, sync, candidate, rect);
      found = tryDecode(rd, fold(rd, best.g), tile, sync);
      if (found) break;
      if (rect.w < w || rect.h < h) {
        // the centre's peak leaves a little scale error that the whole image's edges feel: refine on it all
        best = refine(rd, sync, best, { x0: 0, y0: 0, w, h }, 0.001);
        found = tryDecode(rd, fold(rd, best.g), tile, sync);
        if (found) break;
      }
    }
    if (!found) {
      // Nothing decoded: scan around the best two geometries the search and the lattice offered (the
      // coarse search replaces the lattice's candidates, and a small image's lattice estimate can be
      // nearer than the coarse grid's 1.2% steps), then climb in small steps. Only images that read
      // nothing so far come here, so nothing read before is read differently.
      const again = [...ranked, ...lattice].sort((p, q) => q.z - p.z)
        .filter((c, i, all) => c.z >= PLAUSIBLE && all.findIndex((d) => near(d.g, c.g)) === i).slice(0, 2);
      for (const candidate of again) {
        whitenWith(whiteningRadii(candidate.g.scale));
        const rect = window(candidate.g);
        if (rect.w * rect.h > SCAN_AREA) continue;
        const scanned = scan(rd, sync, candidate, rect);
        if (scanned.z < PLAUSIBLE) continue;
        const best = refine(rd, sync, scanned, rect, 0.001);
        found = tryDecode(rd, fold(rd, best.g), tile, sync);
        if (found) break;
      }
    }
  }
  return found;
}

/** The image halved in each direction: the mean of every 2x2 block (an odd last row or column dropped). */
function halve(image: RGBAImage): RGBAImage {
  const w = image.width >> 1, h = image.height >> 1, src = image.data, W = image.width;
  const data = new Uint8ClampedArray(w * h * 4);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const a = (2 * y * W + 2 * x) * 4, b = a + W * 4, o = (y * w + x) * 4;
      for (let c = 0; c < 3; c++) data[o + c] = (src[a + c] + src[a + 4 + c] + src[b + c] + src[b + 4 + c]) / 4;
      data[o + 3] = 255;
    }
  }
  return { width: w, height: h, data };
}

export async function extractBlindWatermark(image: RGBAImage, options: ExtractBlindWatermarkOptions = {}): Promise<BlindWatermarkResult> {
  const key = options.key ?? DEFAULT_BLIND_WATERMARK_KEY;
  if (typeof key !== 'string' || key.length === 0) {
    throw new ImgpipeError('INVALID_ARGUMENT', `Expected a non-empty string for deblindwatermark.key but received ${describeValue(key)}`);
  }
  const { width: w, height: h } = image;
  if (w < 32 || h < 32) return { found: false, confidence: 0 };
  const tile = keyedTile(key, CODED_BITS, PAYLOAD_BITS);
  const sync = syncTemplate(tile);
  let decoded: Decoded | undefined;
  try {
    decoded = await kernel.use((k) => {
      const found = readMark(k, image, tile, sync);
      k.reset();
      return found;
    }, readerBytes(w, h));
  } catch (e) {
    throw outOfMemory(e, `reading the blind watermark of a ${w}x${h} image`);
  }
  if (!decoded) return { found: false, confidence: 0 };
  const { bytes, confidence } = decoded;
  if (bytes[0] === ID_MARKER) {
    const id = hex(bytes.subarray(1));
    const content = options.resolve ? await options.resolve(id) : undefined;
    return content === undefined ? { found: true, id, confidence } : { found: true, id, content, confidence };
  }
  let end = bytes.indexOf(0);
  if (end < 0) end = bytes.length;
  try {
    const content = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(0, end));
    return { found: true, content, confidence };
  } catch {
    return { found: false, confidence: 0 };
  }
}
