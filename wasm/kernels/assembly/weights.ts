// Lanczos3 filter tables for one axis, in 14-bit fixed point.
//
// Each output sample reads a fixed-size window of `taps` consecutive input samples (padded with
// zero weights to the multiple the SIMD kernel consumes per step: pairs for i32x4.dot_i16x8_s,
// or four for the horizontal pass). A fixed window keeps the inner loops free of per-sample bounds.
//
// A table depends only on its sizes and scale, and a server resizes the same few sizes over and over
// (one camera's photos to the recipe's widths): the last CACHE_SLOTS tables are kept in memory that
// survives reset() and handed out again instead of being rebuilt (about 60,000 sines a 720 px resize).
import { alloc, allocPermanent, align16 } from '../../common/memory';

/** Weights are integers summing to 1 << WEIGHT_BITS. 14 bits keep every product and sum in i32. */
export const WEIGHT_BITS: i32 = 14;
const ONE: i32 = 1 << WEIGHT_BITS;

/** Taps in the most recent table built by makeTable(). */
export let tableTaps: i32 = 0;

/** Tables kept for reuse: the horizontal and vertical tables of a few recent sizes. */
const CACHE_SLOTS: i32 = 8;
/**
 * Bytes of one slot; a larger table is built per call as before. 64 KB holds a 720 px reduction's
 * (24 taps) and a 1200 px one's up to 12 taps; 512 KB in all, touched only as slots fill.
 */
const SLOT_BYTES: usize = 65536;
/** Per slot: i32 inSize, outSize, multiple, taps, last use; f64 scale at +24. A slot with taps 0 is empty. */
const META_BYTES: usize = 32;
const cacheMeta: usize = allocPermanent(<usize>CACHE_SLOTS * META_BYTES);
const cacheData: usize = allocPermanent(<usize>CACHE_SLOTS * SLOT_BYTES);
let useClock: i32 = 0;

function sinc(x: f64): f64 {
  if (x == 0.0) return 1.0;
  const px = Math.PI * x;
  return Math.sin(px) / px;
}

function lanczos3(x: f64): f64 {
  const ax = Math.abs(x);
  return ax < 3.0 ? sinc(ax) * sinc(ax / 3.0) : 0.0;
}

/** Byte offset of the weights inside a table built for `outSize` outputs. */
// @ts-ignore: decorator
@inline export function weightsOffset(outSize: i32): usize {
  return align16(<usize>outSize * 4);
}

/**
 * Build the table mapping `inSize` samples to `outSize`, where one output sample spans `scale`
 * input samples (scale > 1 shrinks), with a tap count that is a multiple of `multiple`. Layout: i32 window start per output, then `taps` i16 weights
 * per output. Samples beyond the edges repeat the edge sample (as libvips and sharp do), which is
 * folded into the edge weight so the window never leaves the image. The table may be a cached one
 * (read-only), valid until a later makeTable() call evicts it: a resize uses the tables of its own begin().
 */
export function makeTable(inSize: i32, outSize: i32, scale: f64, multiple: i32): usize {
  // When shrinking the kernel is stretched by the scale so it also acts as the anti-alias filter.
  const stretch = scale > 1.0 ? scale : 1.0;
  const support = 3.0 * stretch;
  let taps = <i32>Math.ceil(support * 2.0) + 1;
  if (taps > inSize) taps = inSize;
  // Round up to what the kernel consumes per step. Windows on images narrower than that read a few
  // samples past the row end; their weights are zero and the allocator leaves slack after buffers.
  taps = (taps + multiple - 1) / multiple * multiple;
  tableTaps = taps;

  const bytes = weightsOffset(outSize) + <usize>outSize * taps * 2;
  // The same 32 bytes of slack past the end that alloc() leaves (SIMD loads of the last weights).
  if (bytes + 32 > SLOT_BYTES) return buildTable(alloc(bytes), inSize, outSize, scale, stretch, support, taps);
  // A cached table of the same key, else the least recently used slot (an empty one first). A
  // resize's two tables are the two most recent uses, so building the second never evicts the first.
  useClock++;
  let victim = 0;
  let oldest = i32.MAX_VALUE;
  for (let i = 0; i < CACHE_SLOTS; i++) {
    const m = cacheMeta + <usize>i * META_BYTES;
    if (load<i32>(m, 12) == taps && load<i32>(m) == inSize && load<i32>(m, 4) == outSize && load<i32>(m, 8) == multiple && load<f64>(m, 24) == scale) {
      store<i32>(m, useClock, 16);
      return cacheData + <usize>i * SLOT_BYTES;
    }
    const used = load<i32>(m, 16);
    if (used < oldest) {
      oldest = used;
      victim = i;
    }
  }
  const m = cacheMeta + <usize>victim * META_BYTES;
  store<i32>(m, inSize);
  store<i32>(m, outSize, 4);
  store<i32>(m, multiple, 8);
  store<i32>(m, taps, 12);
  store<i32>(m, useClock, 16);
  store<f64>(m, scale, 24);
  return buildTable(cacheData + <usize>victim * SLOT_BYTES, inSize, outSize, scale, stretch, support, taps);
}

/** Fill `table` (weightsOffset(outSize) + outSize * taps * 2 bytes) as makeTable() describes. */
function buildTable(table: usize, inSize: i32, outSize: i32, scale: f64, stretch: f64, support: f64, taps: i32): usize {
  const acc = alloc(<usize>taps * 8);
  let w = table + weightsOffset(outSize);
  for (let i = 0; i < outSize; i++) {
    // Pixel centres are at +0.5: output i covers input [i*scale, (i+1)*scale).
    const centre = (<f64>i + 0.5) * scale - 0.5;
    const lo = <i32>Math.ceil(centre - support);
    const hi = <i32>Math.floor(centre + support);
    let start = lo > 0 ? lo : 0;
    if (start > inSize - taps) start = inSize - taps;
    if (start < 0) start = 0;
    store<i32>(table + (<usize>i << 2), start);

    for (let k = 0; k < taps; k++) store<f64>(acc + (<usize>k << 3), 0.0);
    let sum = 0.0;
    for (let j = lo; j <= hi; j++) {
      const v = lanczos3((<f64>j - centre) / stretch);
      const clamped = j < 0 ? 0 : j >= inSize ? inSize - 1 : j;
      const slot = acc + (<usize>(clamped - start) << 3);
      store<f64>(slot, load<f64>(slot) + v);
      sum += v;
    }

    // Quantise, then give the rounding remainder to the largest weight so that a flat input stays
    // exactly flat (the weights sum to ONE).
    let total = 0;
    let peak = 0;
    let peakValue = -ONE;
    for (let k = 0; k < taps; k++) {
      const q = <i32>Math.round(load<f64>(acc + (<usize>k << 3)) / sum * <f64>ONE);
      store<i16>(w + (<usize>k << 1), <i16>q);
      total += q;
      if (q > peakValue) {
        peakValue = q;
        peak = k;
      }
    }
    store<i16>(w + (<usize>peak << 1), <i16>(peakValue + ONE - total));
    w += <usize>taps << 1;
  }
  return table;
}
