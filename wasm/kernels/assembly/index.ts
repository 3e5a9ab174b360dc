// imgpipe's resize kernels: separable Lanczos3 (a = 3) on 8-bit RGBA with WebAssembly SIMD. The
// module also exports the sRGB conversion (srgb.ts), the Gaussian blur and sharpen (gaussian.ts) and the
// blind watermark's embedding (blindmark.ts) and extraction (blindread.ts).
//
// Calling convention (see src/kernels/lanczos.ts), in one of two ways:
// - streamed, when canStream() allows: reset(), begin(0, ...), then for each band of at most
//   BAND_ROWS source rows, copy them to input() and feed() them. The source is never held whole,
//   nor is a whole-size copy made for the box pre-shrink or for premultiplied alpha (FLAG_ALPHA).
// - whole: reset(), alloc() the source, copy RGBA bytes into it, begin() the resize, call step()
//   until it returns 0.
// Either way result() then points at the destination RGBA bytes, valid until the next reset().
// Nothing is imported; the module owns and exports its memory.
//
// The horizontal pass writes into a ring of rows that the vertical pass consumes as soon as an
// output row's window is complete, so the intermediate is a few dozen rows, not a whole image:
// for a 2725x2225 photo to 1200 px the kernel touches ~5 MB instead of ~50 MB, which a cold
// process pays for in page faults and every call in cache misses.
//
// Why steps: V8 runs a WebAssembly function's first calls in its baseline tier (Liftoff) and can
// only switch to optimised code at a later call; there is no on-stack replacement. One call doing
// a whole pass would run a cold instance's first image entirely on baseline code, about four times
// slower. A pass done in bands of rows, one call per band, picks up the optimised code part way
// through the first image.
import { alloc, reset } from '../../common/memory';
import { makeTable, tableTaps, weightsOffset } from './weights';
import { horizontalU8, horizontalQ6 } from './horizontal';
import { vertical, verticalScratch } from './vertical';
import { boxAdd, boxAddPremultiplied, boxEmit, boxScratch, boxShrink } from './box';
import { ensureLinearTables, expand, finish } from './convert';
import { acrossRows, alongColumn, reverseQ6 } from './transposed';

export { alloc, reset };
export { SRGB_ENCODE_STEPS, srgbLinear, srgbColumns, srgbEncode, toSrgb } from './srgb';
export { gaussianBegin, gaussianStep } from './gaussian';
export { blindBegin, blindRowsLuma, blindRowsMask, blindRowsAdd, blindTotal, blindClipped, blindCappedEnergy, blindCappedRounded, blindSetCap } from './blindmark';
export { blindReadBegin, blindResidual, blindPixels, blindHalf, blindLuma, blindWhitenBegin, blindWhitenStep, blindFolded, blindRe, blindIm, blindFold, blindFft, blindSpectra, blindSums, blindSyncBegin, blindSyncPair, blindLattice } from './blindread';

/** Filter in linear light instead of on gamma-encoded values. */
export const FLAG_LINEAR: i32 = 1;
/**
 * Streamed mode: the source may have transparency. Bands with transparency are premultiplied as
 * they arrive; the result is what the whole path gives, which premultiplies only when some pixel
 * of the whole source is not opaque (see feed()).
 */
export const FLAG_ALPHA: i32 = 2;

/**
 * Largest box pre-shrink factor a streamed resize takes: the column sums of a block of premultiplied
 * Q6 values stay within i32 up to 362 x 362, and the whole path's 8-bit sums never wrap below that.
 */
const STREAM_MAX_BOX: i32 = 256;

/** Most source rows one feed() takes; the intermediate ring holds this many beyond the filter's taps. */
export const BAND_ROWS: i32 = 16;

// The tables are small (about 16 KB) and needed by any linear resize: build them at instantiation,
// before any per-call allocation, so they live below the reset point.
ensureLinearTables();

/** True when every pixel's alpha is 255 (then premultiplication would change nothing). */
function opaque(src: usize, pixels: i32): bool {
  const bytes = <usize>pixels << 2;
  let all = i8x16.splat(-1);
  let i: usize = 0;
  for (; i + 16 <= bytes; i += 16) all = v128.and(all, v128.load(src + i));
  for (; i < bytes; i += 4) if (load<u8>(src + i + 3) != 255) return false;
  // Alpha is every fourth byte: keep only those lanes and check they stayed all ones.
  return i32x4.all_true(i32x4.eq(v128.or(all, i32x4.splat(0x00ffffff)), i32x4.splat(-1)));
}

/** libvips' choice of integer pre-shrink for a reduction by `factor`: leave 2..4x to the filter. */
function preShrink(factor: f64): i32 {
  const k = <i32>Math.floor(factor / 2.0);
  return k > 1 ? k : 1;
}

// The plan of the resize in progress, set by begin().
let srcPtr: usize = 0;
let srcW: i32 = 0;
let srcH: i32 = 0;
let dstW: i32 = 0;
let dstH: i32 = 0;
let linear = false;
let premultiply = false;
let wide = false;
let kx: i32 = 1;
let ky: i32 = 1;
/** Q6 copy of the source (wide path only). */
let expanded: usize = 0;
/** Box pre-shrink output and its size. */
let boxed: usize = 0;
let boxW: i32 = 0;
let boxH: i32 = 0;
let sums: usize = 0;
/** What the horizontal pass reads, its size and format. */
let hSrc: usize = 0;
let hW: i32 = 0;
let hH: i32 = 0;
let hQ6 = false;
let hTable: usize = 0;
let hTaps: i32 = 0;
/** Ring of `ring` horizontal-pass rows (Q6, dstW pixels each); row r lives in slot r % ring. */
let mid: usize = 0;
let ring: i32 = 0;
/** Horizontal-pass rows produced so far. */
let hDone: i32 = 0;
/** The source arrives in bands through `band` (streamed mode) instead of lying at srcPtr. */
let streamed = false;
let band: usize = 0;
/** FLAG_ALPHA: bands may have transparency; whether every band so far was opaque. */
let alphaStream = false;
let allOpaque = true;
/** A band premultiplied into Q6 (FLAG_ALPHA without a box pre-shrink, which premultiplies into its sums). */
let bandQ6: usize = 0;
/** Streamed box pre-shrink: source rows taken so far, and the box row being made. */
let srcDone: i32 = 0;
let boxRow: usize = 0;
/**
 * Streamed sideways (beginSideways()): the source rows are the upright image's columns, reversed
 * along either axis per the EXIF orientation. The stored rows wait in a ring (`ring` of them, 8-bit)
 * until an output column's window is in; `column` holds that column's horizontal pass.
 */
let sideways = false;
let revX = false;
let revY = false;
let ringRows: usize = 0;
let column: usize = 0;
let rowsIn: i32 = 0;
let colsDone: i32 = 0;
/** The output rows to make: window()'s, or all dh. */
let dstStart: i32 = 0;
let dstEnd: i32 = 0;
let vTable: usize = 0;
let vTaps: i32 = 0;
let vRows: usize = 0;
/** Q6 vertical output before finish() (wide path only). */
let vOut: usize = 0;
let out: usize = 0;
/** Streamed, drained (drain()): output rows kept at once in a ring at `out`, else 0 (all of them). */
let outRing: i32 = 0;
/** Current stage and how far into it (rows, or pixels for the conversions). */
let stage: i32 = 0;
let done: i32 = 0;

const STAGE_EXPAND = 0;
const STAGE_BOX = 1;
const STAGE_RESAMPLE = 2;
const STAGE_FINISH = 3;
const STAGE_DONE = 4;

/**
 * Whether the resize can take its source in bands (see feed()): in gamma space (linear light is
 * converted whole), with a box pre-shrink of at most STREAM_MAX_BOX.
 */
export function canStream(sw: i32, sh: i32, dw: i32, dh: i32, flags: i32): bool {
  return (flags & FLAG_LINEAR) == 0 && preShrink(<f64>sw / <f64>dw) <= STREAM_MAX_BOX && preShrink(<f64>sh / <f64>dh) <= STREAM_MAX_BOX;
}

/**
 * Plan and allocate the resize of `sw` x `sh` RGBA at `src` to `dw` x `dh`; step() does the work.
 * With `src` 0 (only when canStream() agrees) the source comes in bands through feed() instead,
 * and is taken to be opaque until a band shows otherwise, unless `flags` has FLAG_ALPHA.
 */
export function begin(src: usize, sw: i32, sh: i32, dw: i32, dh: i32, flags: i32): void {
  sideways = false;
  streamed = src == 0;
  if (streamed && !canStream(sw, sh, dw, dh, flags)) unreachable();
  srcPtr = src;
  srcW = sw;
  srcH = sh;
  dstW = dw;
  dstH = dh;
  linear = (flags & FLAG_LINEAR) != 0;
  alphaStream = streamed && (flags & FLAG_ALPHA) != 0;
  allOpaque = true;
  premultiply = streamed ? false : !opaque(src, sw * sh);
  wide = linear || premultiply;
  const fx = <f64>sw / <f64>dw;
  const fy = <f64>sh / <f64>dh;
  kx = preShrink(fx);
  ky = preShrink(fy);

  hSrc = src;
  hQ6 = false;
  hW = sw;
  hH = sh;
  if (wide) {
    expanded = alloc(<usize>sw * sh * 8);
    hSrc = expanded;
    hQ6 = true;
  }
  if (kx > 1 || ky > 1) {
    boxW = (sw + kx - 1) / kx;
    boxH = (sh + ky - 1) / ky;
    // Streamed, feed() makes the box rows one at a time: only the column sums and one row are kept.
    if (streamed) boxRow = alloc(<usize>boxW * 8);
    else boxed = alloc(<usize>boxW * boxH * 8);
    sums = boxScratch(sw);
    hSrc = boxed;
    hQ6 = true;
    hW = boxW;
    hH = boxH;
  }
  // Horizontal first, then vertical: the vertical pass reads whole rows and vectorises along them.
  hTable = makeTable(hW, dw, fx / <f64>kx, 4);
  hTaps = tableTaps;
  vTable = makeTable(hH, dh, fy / <f64>ky, 2);
  vTaps = tableTaps;
  // An output row's window is vTaps rows; a feed() adds up to BAND_ROWS before the rows it
  // completes are consumed (step() adds only what the next output row needs).
  ring = min(vTaps + BAND_ROWS, hH);
  mid = alloc(<usize>dw * ring * 8);
  hDone = 0;
  dstStart = 0;
  dstEnd = dh;
  if (streamed) {
    band = alloc(<usize>sw * BAND_ROWS * 4);
    srcDone = 0;
    // Boxed, the rows are premultiplied straight into the sums (feed()).
    bandQ6 = alphaStream && kx == 1 && ky == 1 ? alloc(<usize>sw * BAND_ROWS * 8) : 0;
  }
  vRows = verticalScratch(vTaps);
  out = alloc(<usize>dw * dh * 4);
  outRing = 0;
  // A streamed source with alpha keeps the Q6 rows too, until it is known whether they are needed.
  vOut = wide || alphaStream ? alloc(<usize>dw * dh * 8) : 0;
  stage = wide ? STAGE_EXPAND : kx > 1 || ky > 1 ? STAGE_BOX : STAGE_RESAMPLE;
  done = 0;
}

/**
 * Streamed mode, before the first feed(): make only output rows `y0` until `y1` (another thread makes
 * the rest). Returns the first source row they need, where the caller's bands must start; the rows
 * land in result() at their place in the whole output.
 */
export function window(y0: i32, y1: i32): i32 {
  done = y0;
  dstStart = y0;
  dstEnd = y1;
  hDone = load<i32>(vTable + (<usize>y0 << 2));
  srcDone = hDone * ky;
  return srcDone;
}

/**
 * Streamed mode, after begin() and window(), before the first feed(): keep only the output rows the
 * caller has not yet taken, in a ring at result(), instead of the whole output. The caller copies
 * the rows each feed() completes out of the ring right after it: output row y is in slot
 * (y - the window's first row) % the returned count. A 1200 px result is then ~25 rows of this
 * module's memory instead of 4.7 MB, pages a fresh process would otherwise touch for the first time
 * (~20 us each on a Firecracker VM) only to copy them out again. Returns 0, leaving the whole output
 * in result(), for a source stored sideways or one that may have transparency (their rows are
 * finished only at the end).
 */
export function drain(): i32 {
  if (!streamed || sideways || alphaStream) return 0;
  // A feed() adds at most BAND_ROWS horizontal-pass rows (fewer after a box pre-shrink) and completes
  // the output rows whose windows end among them, or, at the last band, reach the edge: at most
  // (BAND_ROWS + vTaps) * dh / hH + 1. One slot more, so that a row's write past its end (see
  // vertical()) never reaches a row not yet taken; feed() traps should a band ever complete more.
  const most = <i32>Math.ceil(<f64>(BAND_ROWS + vTaps) * <f64>dstH / <f64>hH) + 2;
  outRing = min(dstEnd - dstStart, most + 1);
  return outRing;
}

/** Where the caller copies the next band of source rows (streamed mode). */
export function input(): usize {
  return band;
}

/**
 * Streamed mode: the next `rows` (at most BAND_ROWS) source rows are at input(). Runs the box
 * pre-shrink and the horizontal pass over them and the vertical pass for every output row they
 * complete. Returns the output rows done so far (dh, or the window's end, once the last band is in),
 * or -1 when the band has transparency and FLAG_ALPHA was not given: the plan assumed an opaque
 * source, so the caller starts over with the whole source.
 *
 * With FLAG_ALPHA the bytes are the whole path's: that path premultiplies every pixel when any pixel
 * is not opaque, and filters 8-bit values otherwise. A premultiplied opaque pixel is its 8-bit value
 * in Q6 exactly, and the horizontal pass and the box average give the same Q6 results from either,
 * so only the vertical pass's rounding differs: it writes both the 8-bit rows and the Q6 rows for
 * as long as every band has been opaque, and the Q6 rows are converted at the end if one was not.
 */
export function feed(rows: i32): i32 {
  if (sideways) return feedSideways(rows);
  const opaqueBand = opaque(band, rows * srcW);
  if (!opaqueBand) {
    if (!alphaStream) return -1;
    allOpaque = false;
  }
  const boxing = kx > 1 || ky > 1;
  let from = band;
  let q6 = false;
  // Box sums mix all their rows, so with alpha every row goes in premultiplied (an opaque row's Q6
  // values are its 8-bit values scaled, which the average's factor gives the same results for):
  // straight into the sums when boxing, through a Q6 copy of the band otherwise.
  if (alphaStream && !boxing && !opaqueBand) {
    expand(band, rows * srcW, bandQ6, true, false);
    from = bandQ6;
    q6 = true;
  }
  if (boxing) {
    const premultiplied = alphaStream;
    const stride = <usize>srcW << 2;
    for (let r = 0; r < rows; r++) {
      if (premultiplied) boxAddPremultiplied(band + <usize>r * stride, srcW, sums);
      else boxAdd(band + <usize>r * stride, srcW, false, sums);
      srcDone++;
      const blockStart = hDone * ky;
      if (srcDone - blockStart == ky || srcDone == srcH) {
        boxEmit(sums, srcW, premultiplied, kx, srcDone - blockStart, boxRow, boxW);
        horizontalQ6(boxRow, boxW, 1, mid + <usize>(hDone % ring) * dstW * 8, dstW, hTable, hTaps);
        hDone++;
      }
    }
  } else {
    produce(hDone + rows, from, q6, hDone);
  }
  const before = done;
  while (done < dstEnd && windowEnd(done) <= hDone) {
    if (outRing > 0) {
      vertical(mid, dstW * 4, hH, out + <usize>((done - dstStart) % outRing) * dstW * 4, 0, dstH, done, done + 1, vTable, vTaps, vRows, ring, done);
    } else {
      vertical(mid, dstW * 4, hH, allOpaque ? out : 0, alphaStream ? vOut : 0, dstH, done, done + 1, vTable, vTaps, vRows, ring);
    }
    done++;
  }
  // A ring of every output row never wraps around: only a smaller one has a bound to keep.
  if (outRing > 0 && outRing < dstEnd - dstStart && done - before >= outRing) unreachable();
  // Every source row has been read by the time the last output row is complete (its window ends at
  // the last row): now it is known which of the two results the whole path would have made.
  if (done == dstEnd && alphaStream && !allOpaque) {
    finish(vOut + <usize>dstStart * dstW * 8, (dstEnd - dstStart) * dstW, out + <usize>dstStart * dstW * 4, true, false);
  }
  return done;
}

/**
 * Whether a `sw` x `sh` source stored sideways (EXIF orientation 5-8: upright it is `sh` x `sw`) can
 * stream into a `dw` x `dh` upright output: an opaque source (checked band by band) reduced less than
 * 4x (no box pre-shrink) or enlarged.
 */
export function canStreamSideways(sw: i32, sh: i32, dw: i32, dh: i32): bool {
  return preShrink(<f64>sh / <f64>dw) == 1 && preShrink(<f64>sw / <f64>dh) == 1;
}

/**
 * Plan a streamed resize of a source stored sideways: its `sw` x `sh` rows come through input() and
 * feed() as in the streamed mode, and the result is the upright `dw` x `dh` image, EXIF `orientation`
 * (5-8) applied, with the bytes of orienting the source and then resizing it. No window().
 */
export function beginSideways(sw: i32, sh: i32, dw: i32, dh: i32, orientation: i32): void {
  if (!canStreamSideways(sw, sh, dw, dh) || orientation < 5 || orientation > 8) unreachable();
  sideways = true;
  streamed = true;
  alphaStream = false;
  allOpaque = true;
  srcW = sw;
  srcH = sh;
  dstW = dw;
  dstH = dh;
  // Upright x runs along the stored rows (backwards for 6 and 7), upright y along the stored columns
  // (backwards for 7 and 8).
  revX = orientation == 6 || orientation == 7;
  revY = orientation == 7 || orientation == 8;
  // The upright image's tables: horizontal over its sh columns (taps in pairs, across rows), vertical
  // over its sw rows (taps in fours, along a column). Padding taps have zero weight, so the weights
  // per source position are the upright path's.
  hTable = makeTable(sh, dw, <f64>sh / <f64>dw, 2);
  hTaps = tableTaps;
  vTable = makeTable(sw, dh, <f64>sw / <f64>dh, 4);
  vTaps = tableTaps;
  // A column's window is hTaps rows; a feed() adds up to BAND_ROWS before the columns it completes are made.
  ring = hTaps + BAND_ROWS;
  ringRows = alloc(<usize>sw * 4 * ring);
  band = alloc(<usize>sw * BAND_ROWS * 4);
  vRows = verticalScratch(hTaps);
  column = alloc(<usize>sw * 8);
  out = alloc(<usize>dw * dh * 4);
  outRing = 0;
  rowsIn = 0;
  colsDone = 0;
  dstStart = 0;
  dstEnd = dh;
}

/** feed() for beginSideways(): returns 0 until every output column is made, then dh. */
function feedSideways(rows: i32): i32 {
  if (!opaque(band, rows * srcW)) return -1;
  const rowBytes = <usize>srcW << 2;
  for (let r = 0; r < rows; r++, rowsIn++) {
    memory.copy(ringRows + <usize>(rowsIn % ring) * rowBytes, band + <usize>r * rowBytes, rowBytes);
  }
  const weights = hTable + weightsOffset(dstW);
  while (colsDone < dstW) {
    const x = revX ? dstW - 1 - colsDone : colsDone;
    const start = load<i32>(hTable + (<usize>x << 2));
    // The stored row that arrives last among the window's (padding taps past the edge aside).
    const last = revX ? srcH - 1 - start : min(start + hTaps - 1, srcH - 1);
    if (last >= rowsIn) break;
    for (let k = 0; k < hTaps; k++) {
      let r = revX ? srcH - 1 - start - k : start + k;
      // Padding taps (zero weight) may point past an edge: any row in the ring serves.
      r = r < 0 ? 0 : r >= srcH ? srcH - 1 : r;
      store<usize>(vRows + (<usize>k << 2), ringRows + <usize>(r % ring) * rowBytes);
    }
    acrossRows(vRows, hTaps, weights + (<usize>x * hTaps << 1), srcW, column);
    if (revY) reverseQ6(column, srcW);
    alongColumn(column, vTable, vTaps, dstH, out + (<usize>x << 2), <usize>dstW << 2);
    colsDone++;
  }
  return colsDone == dstW ? dstEnd : 0;
}

/** One past the last horizontal-pass row output row `y` reads. */
function windowEnd(y: i32): i32 {
  return min(load<i32>(vTable + (<usize>y << 2)) + vTaps, hH);
}

/**
 * Run the horizontal pass up to row `end`, into the ring, from rows at `src` (Q6 when `q6`, else
 * 8-bit) holding row `first` onwards.
 */
function produce(end: i32, src: usize, q6: bool, first: i32): void {
  const stride: usize = q6 ? 8 : 4;
  while (hDone < end) {
    // As many rows as are contiguous in the ring.
    const slot = hDone % ring;
    const n = min(end - hDone, ring - slot);
    const from = src + <usize>(hDone - first) * hW * stride;
    const to = mid + <usize>slot * dstW * 8;
    if (q6) horizontalQ6(from, hW, n, to, dstW, hTable, hTaps);
    else horizontalU8(from, hW, n, to, dstW, hTable, hTaps);
    hDone += n;
  }
}

/** Do up to `rows` rows of the current stage; returns 0 once the whole resize is done. */
export function step(rows: i32): i32 {
  if (stage == STAGE_EXPAND) {
    const end = min(done + rows, srcH);
    expand(srcPtr + <usize>done * srcW * 4, (end - done) * srcW, expanded + <usize>done * srcW * 8, premultiply, linear);
    done = end;
    if (done == srcH) next(kx > 1 || ky > 1 ? STAGE_BOX : STAGE_RESAMPLE);
  } else if (stage == STAGE_BOX) {
    const end = min(done + rows, boxH);
    boxShrink(wide ? expanded : srcPtr, srcW, srcH, wide, kx, ky, boxed, boxW, done, end, sums);
    done = end;
    if (done == boxH) next(STAGE_RESAMPLE);
  } else if (stage == STAGE_RESAMPLE) {
    const end = min(done + rows, dstH);
    for (let y = done; y < end; y++) {
      produce(windowEnd(y), hSrc, hQ6, 0);
      vertical(mid, dstW * 4, hH, wide ? 0 : out, wide ? vOut : 0, dstH, y, y + 1, vTable, vTaps, vRows, ring);
    }
    done = end;
    if (done == dstH) next(wide ? STAGE_FINISH : STAGE_DONE);
  } else if (stage == STAGE_FINISH) {
    const end = min(done + rows, dstH);
    finish(vOut + <usize>done * dstW * 8, (end - done) * dstW, out + <usize>done * dstW * 4, premultiply, linear);
    done = end;
    if (done == dstH) next(STAGE_DONE);
  }
  return stage == STAGE_DONE ? 0 : 1;
}

function next(s: i32): void {
  stage = s;
  done = 0;
}

/** The destination RGBA bytes, once step() has returned 0. */
export function result(): usize {
  return out;
}
