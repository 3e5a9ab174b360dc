/**
 * The keyed tile. A TILE x TILE pixel tile (at the scale it was embedded) is a grid of CHIPS x CHIPS chips of
 * CHIP px; each chip is a flat block (low enough in frequency that JPEG, WebP and rescaling keep it) with a
 * keyed sign. A keyed quarter of the chips carry a known sign (the sync
 * carrier, which finds the crop offset, the mirror and the quarter turn); every other chip carries one coded
 * payload bit, each bit spread over chips scattered across the tile. The tile repeats over the whole image, so
 * any part of it holds every bit, and the repetition is what lets extraction measure scale and rotation.
 */
import { keyedRandom } from './sha256.js';

export const CHIP = 4;
export const CHIPS = 32;
export const TILE = CHIP * CHIPS;
export const SYNC_CHIPS = 256;

export interface Tile {
  /** Per chip: its keyed sign (+1/-1). */
  readonly sign: Float64Array;
  /** Per chip: -1 for a sync chip, else the coded bit it carries. */
  readonly bitOf: Int32Array;
  /** TILE x TILE: the chip profile's value at every pixel (see CHIP_PROFILE). */
  readonly shape: Float64Array;
  /** TILE x TILE: chip index of every pixel. */
  readonly chipOf: Int32Array;
  /** Payload scrambling bits (so an all-zero content is not a constant pattern). */
  readonly scramble: Uint8Array;
}

/**
 * The chip's profile along each axis: flat, sqrt(1/2), so the tile's RMS is 1/2 as it was with the raised
 * cosine (0.38, 0.92, 0.92, 0.38) the chips had before, and the same gain writes the same luma error before
 * rounding. Flat chips because they read more: on 640 cases none chosen by a result (photos 40-199 at 600 px,
 * each halved, cropped to a quarter and to half of its area, and WebP q60; bench/results/blindmark-flatchips.md)
 * they recovered 610 against the raised cosine's 589: quarter-area crops 151 against 135 of 160, half-area
 * crops 159 against 152, halvings 143 against 144 and WebP q60 157 against 158 (within noise); profiles in
 * between read no better. A literal, so everything that decides embedded pixels is table lookups and
 * IEEE-exact arithmetic (+, *, sqrt) and Node, Chromium and workerd write the same bytes.
 */
const CHIP_PROFILE = [0.7071067811865476, 0.7071067811865476, 0.7071067811865476, 0.7071067811865476] as const;

const cache = new Map<string, Tile>();

export function keyedTile(key: string, codedBits: number, payloadBits: number): Tile {
  const id = `${codedBits}/${payloadBits}/${key}`;
  const hit = cache.get(id);
  if (hit) return hit;
  const rnd = keyedRandom(key, 'imgpipe blind watermark tile v1');
  const n = CHIPS * CHIPS;
  const sign = new Float64Array(n);
  for (let i = 0; i < n; i++) sign[i] = rnd() & 1 ? 1 : -1;
  // A keyed permutation of the chips: the first SYNC_CHIPS are sync, the rest carry coded bits round-robin,
  // so each coded bit lands on chips scattered over the whole tile (a local loss hits many bits a little).
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = rnd() % (i + 1);
    const t = order[i]; order[i] = order[j]; order[j] = t;
  }
  const bitOf = new Int32Array(n);
  for (let i = 0; i < n; i++) bitOf[order[i]] = i < SYNC_CHIPS ? -1 : (i - SYNC_CHIPS) % codedBits;
  const shape = new Float64Array(TILE * TILE), chipOf = new Int32Array(TILE * TILE);
  for (let y = 0; y < TILE; y++) {
    for (let x = 0; x < TILE; x++) {
      shape[y * TILE + x] = CHIP_PROFILE[y % CHIP] * CHIP_PROFILE[x % CHIP];
      chipOf[y * TILE + x] = ((y / CHIP) | 0) * CHIPS + ((x / CHIP) | 0);
    }
  }
  const scramble = new Uint8Array(payloadBits);
  for (let i = 0; i < payloadBits; i++) scramble[i] = rnd() & 1;
  const tile = { sign, bitOf, shape, chipOf, scramble };
  if (cache.size > 16) cache.clear();
  cache.set(id, tile);
  return tile;
}

/** The tile's pixels for the given coded bits (0/1): the value added to luma, before gain and mask. */
export function renderTile(tile: Tile, coded: Uint8Array): Float64Array {
  const out = new Float64Array(TILE * TILE);
  for (let i = 0; i < out.length; i++) {
    const c = tile.chipOf[i], b = tile.bitOf[c];
    const v = b < 0 ? tile.sign[c] : tile.sign[c] * (coded[b] ? 1 : -1);
    out[i] = v * tile.shape[i];
  }
  return out;
}

const syncs = new WeakMap<Tile, Float64Array>();

/**
 * The sync carrier alone (data chips zero), for the offset search; one array per tile (read only), so the
 * search's cache of its spectra (keyed by it) holds from one extraction to the next.
 */
export function syncTemplate(tile: Tile): Float64Array {
  let out = syncs.get(tile);
  if (out) return out;
  out = new Float64Array(TILE * TILE);
  for (let i = 0; i < out.length; i++) {
    const c = tile.chipOf[i];
    if (tile.bitOf[c] < 0) out[i] = tile.sign[c] * tile.shape[i];
  }
  syncs.set(tile, out);
  return out;
}
