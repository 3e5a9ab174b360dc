// imgpipe's baseline JPEG encoder: libjpeg(-turbo)'s pipeline as sharp runs it (islow DCT, Annex K
// tables, 4:2:0 without smoothing, two-pass optimised Huffman), in WebAssembly SIMD.
//
// Calling convention (see src/codecs/jpeg-encode.ts): reset(), alloc() room for the source's RGBA
// rows, copy the first rows into it, begin() the encode, call step() until it returns 0 (handing
// later rows over with source() before the steps that read them), then result() points at the JPEG
// file and encodedBytes() is its length, valid until the next reset(). The source is read only in
// step()'s first pass, one band of MCU rows per call, so the caller can copy it in band by band
// instead of holding a copy of the whole image here. Nothing is imported; the
// module owns and exports its memory. The work is done in bands of MCU rows, one call per band,
// for the reason given in wasm/kernels/assembly/index.ts: V8 can only switch a function to its
// optimised code between calls, so a cold instance's first image must not be one long call.
import { alloc, reset } from '../../common/memory';
import { QUANT, TABLE_BYTES, setQuality } from './tables';
import { rowToYCbCr, rowToGray, expandRight } from './color';
import { h2v2 } from './downsample';
import { fdctBlock } from './fdct';
import {
  BLOCK_BYTES, HUFF_TABLE_BYTES, GEN_WORK_BYTES, codeBlock, genOptimalTable, codedBits,
  startBits, finishBits,
} from './huffman';
import { writeSOI, writeDQT, writeSOF0, writeDHT, writeSOS, writeEOI } from './markers';

export { alloc, reset };

/** No chroma subsampling (4:4:4) instead of 4:2:0. */
export const FLAG_444: i32 = 1;
/** One component: luminance only. */
export const FLAG_GRAY: i32 = 2;

let length: i32 = 0;

/** Length in bytes of the file the last encode() returned. */
export function encodedBytes(): i32 {
  return length;
}

/**
 * 1 when all `pixels` RGBA pixels at `src` have alpha 255, else 0: the caller's test for whether the
 * image needs flattening before a JPEG encode, done on the copy already in this memory. Every pixel
 * of an opaque image must be read; ANDing the words 64 bytes at a time reads a 720 px photo in a
 * tenth of the time a 32-bit loop in JavaScript takes.
 */
export function opaque(src: usize, pixels: i32): i32 {
  const n = <usize>pixels << 2;
  let m = v128.splat<i32>(-1);
  let i: usize = 0;
  for (; i + 64 <= n; i += 64) {
    const p = src + i;
    m = v128.and(m, v128.and(v128.and(v128.load(p), v128.load(p, 16)), v128.and(v128.load(p, 32), v128.load(p, 48))));
  }
  for (; i + 16 <= n; i += 16) m = v128.and(m, v128.load(src + i));
  let w = i32x4.extract_lane(m, 0) & i32x4.extract_lane(m, 1) & i32x4.extract_lane(m, 2) & i32x4.extract_lane(m, 3);
  for (; i < n; i += 4) w &= load<i32>(src + i);
  return <i32>((<u32>w >>> 24) == 0xff);
}

/**
 * Composite `pixels` RGBA pixels at `src` onto the opaque background `bg` (0xAABBGGRR, alpha 255)
 * in place, exactly as flatten() in src/image.ts: each channel round((c * a + bg * (255 - a)) / 255)
 * as div255(c * a + bg * (255 - a) + 254), div255(x) = (x + 1 + (x >> 8)) >> 8, which is c itself
 * where a is 255 and the background's where a is 0, so every pixel takes the same arithmetic. Four
 * pixels per step in 16-bit lanes (the sum stays under 65536); a semi-transparent graphic's 720 px
 * output took ~15 ms in JavaScript's pixel-by-pixel loop.
 */
export function flatten(src: usize, pixels: i32, bg: u32): void {
  const n = <usize>pixels << 2;
  const b16 = i16x8.extend_low_i8x16_u(i32x4.splat(bg));
  const k254 = i16x8.splat(254);
  const k255 = i16x8.splat(255);
  const k1 = i16x8.splat(1);
  const alpha = i32x4.splat(0xff000000);
  let i: usize = 0;
  for (; i + 16 <= n; i += 16) {
    const v = v128.load(src + i);
    const lo = i16x8.extend_low_i8x16_u(v);
    const hi = i16x8.extend_high_i8x16_u(v);
    // Each pixel's alpha in its four lanes.
    const alo = i8x16.shuffle(lo, lo, 6, 7, 6, 7, 6, 7, 6, 7, 14, 15, 14, 15, 14, 15, 14, 15);
    const ahi = i8x16.shuffle(hi, hi, 6, 7, 6, 7, 6, 7, 6, 7, 14, 15, 14, 15, 14, 15, 14, 15);
    let xlo = i16x8.add(i16x8.add(i16x8.mul(lo, alo), i16x8.mul(b16, i16x8.sub(k255, alo))), k254);
    let xhi = i16x8.add(i16x8.add(i16x8.mul(hi, ahi), i16x8.mul(b16, i16x8.sub(k255, ahi))), k254);
    xlo = i16x8.shr_u(i16x8.add(i16x8.add(xlo, k1), i16x8.shr_u(xlo, 8)), 8);
    xhi = i16x8.shr_u(i16x8.add(i16x8.add(xhi, k1), i16x8.shr_u(xhi, 8)), 8);
    v128.store(src + i, v128.or(i8x16.narrow_i16x8_u(xlo, xhi), alpha));
  }
  for (; i < n; i += 4) {
    const p = src + i;
    const a = <u32>load<u8>(p, 3);
    const ia = 255 - a;
    for (let c: usize = 0; c < 3; c++) {
      const x = <u32>load<u8>(p + c) * a + ((bg >> (8 * <u32>c)) & 255) * ia + 254;
      store<u8>(p + c, <u8>((x + 1 + (x >> 8)) >> 8));
    }
    store<u8>(p, 255, 3);
  }
}

/** Dummy block (jccoefct.c): all AC zero, DC copied so its difference costs nothing. */
// @ts-ignore: decorator
@inline function dummyBlock(block: usize, dc: i16): void {
  memory.fill(block, 0, BLOCK_BYTES);
  store<i16>(block, dc);
}

// DC predictions per component, carried from one band of a scan to the next.
let lastY = 0;
let lastCb = 0;
let lastCr = 0;

/**
 * MCU rows `my0` until `my1` in MCU order (per MCU: the luma blocks row by row, then Cb, then Cr),
 * counting symbols (`emit` false) or writing them. Tables at `huff`: DC 0, AC 0, DC 1, AC 1.
 */
function scanRows(my0: i32, my1: i32, emit: bool): void {
  const dc0 = huff, ac0 = huff + HUFF_TABLE_BYTES, dc1 = huff + 2 * HUFF_TABLE_BYTES, ac1 = huff + 3 * HUFF_TABLE_BYTES;
  for (let my = my0; my < my1; my++) {
    for (let mx = 0; mx < mcusX; mx++) {
      for (let by = 0; by < hs; by++) {
        const row = yCoef + <usize>(my * hs + by) * yBW * BLOCK_BYTES;
        for (let bx = 0; bx < hs; bx++) lastY = codeBlock(row + <usize>(mx * hs + bx) * BLOCK_BYTES, lastY, dc0, ac0, emit);
      }
      if (!gray) {
        const c = <usize>(my * mcusX + mx) * BLOCK_BYTES;
        lastCb = codeBlock(cbCoef + c, lastCb, dc1, ac1, emit);
        lastCr = codeBlock(crCoef + c, lastCr, dc1, ac1, emit);
      }
    }
  }
}

// The encode in progress, set by begin().
/** Where source row `srcFirst` is (source() moves it; begin() sets row 0). */
let src: usize = 0;
let srcFirst: i32 = 0;
let width: i32 = 0;
let height: i32 = 0;
let gray = false;
let sub = false;
let hs: i32 = 1;
let mcuSide: i32 = 8;
let mcusX: i32 = 0;
let mcusY: i32 = 0;
let pw: i32 = 0;
let bw: i32 = 0;
let bh: i32 = 0;
let yBW: i32 = 0;
let cw: i32 = 0;
let yStrip: usize = 0;
let cbStrip: usize = 0;
let crStrip: usize = 0;
let cbDown: usize = 0;
let crDown: usize = 0;
let ws: usize = 0;
let yCoef: usize = 0;
let cbCoef: usize = 0;
let crCoef: usize = 0;
let huff: usize = 0;
let genWork: usize = 0;
let out: usize = 0;
let stage: i32 = 0;
let done: i32 = 0;

const STAGE_TRANSFORM = 0;
const STAGE_COUNT = 1;
const STAGE_WRITE = 2;
const STAGE_DONE = 3;

/**
 * Plan the encode of `w` x `h` RGBA at `rgba` (alpha ignored) at `quality` 1..100; step() does the
 * work. Traps on out-of-range arguments (the caller validates first) or when memory can't grow.
 */
export function begin(rgba: usize, w: i32, h: i32, quality: i32, flags: i32): void {
  if (w < 1 || h < 1 || w > 65535 || h > 65535 || quality < 1 || quality > 100) unreachable();
  setQuality(quality);
  src = rgba;
  srcFirst = 0;
  width = w;
  height = h;
  gray = (flags & FLAG_GRAY) != 0;
  sub = !gray && (flags & FLAG_444) == 0;
  hs = sub ? 2 : 1; // luma blocks per MCU side
  mcuSide = 8 * hs;
  mcusX = (width + mcuSide - 1) / mcuSide;
  mcusY = (height + mcuSide - 1) / mcuSide;
  pw = mcusX * mcuSide; // padded full-resolution row
  bw = (width + 7) >> 3; // luma blocks holding image samples
  bh = (height + 7) >> 3;
  yBW = mcusX * hs; // luma block grid including dummy blocks
  cw = pw / hs; // chroma row after downsampling

  const stripBytes = <usize>pw * mcuSide;
  yStrip = alloc(stripBytes);
  cbStrip = gray ? 0 : alloc(stripBytes);
  crStrip = gray ? 0 : alloc(stripBytes);
  cbDown = sub ? alloc(<usize>cw * 8) : cbStrip;
  crDown = sub ? alloc(<usize>cw * 8) : crStrip;
  ws = alloc(512);
  yCoef = alloc(<usize>yBW * mcusY * hs * BLOCK_BYTES);
  const chromaBlocks = <usize>mcusX * mcusY;
  cbCoef = gray ? 0 : alloc(chromaBlocks * BLOCK_BYTES);
  crCoef = gray ? 0 : alloc(chromaBlocks * BLOCK_BYTES);
  huff = alloc(4 * HUFF_TABLE_BYTES);
  memory.fill(huff, 0, 4 * HUFF_TABLE_BYTES);
  genWork = alloc(GEN_WORK_BYTES);
  lastY = lastCb = lastCr = 0;
  stage = STAGE_TRANSFORM;
  done = 0;
}

/**
 * The source's rows from `first` on are now at `rgba` (width x 4 bytes each): the next step()
 * reads its MCU rows' pixel rows there. Rows before `first` are never read again.
 */
export function source(rgba: usize, first: i32): void {
  src = rgba;
  srcFirst = first;
}

/** Do up to `rows` MCU rows of the current pass; returns 0 once the file is complete. */
export function step(rows: i32): i32 {
  const end = min(done + rows, mcusY);
  if (stage == STAGE_TRANSFORM) {
    for (let my = done; my < end; my++) transformRow(my);
    done = end;
    if (done == mcusY) {
      stage = STAGE_COUNT;
      done = 0;
    }
  } else if (stage == STAGE_COUNT) {
    // Pass 1: symbol statistics.
    scanRows(done, end, false);
    done = end;
    if (done == mcusY) {
      writeHeaders();
      lastY = lastCb = lastCr = 0;
      stage = STAGE_WRITE;
      done = 0;
    }
  } else if (stage == STAGE_WRITE) {
    // Pass 2: the entropy-coded data.
    scanRows(done, end, true);
    done = end;
    if (done == mcusY) {
      length = <i32>(writeEOI(finishBits()) - out);
      stage = STAGE_DONE;
    }
  }
  return stage == STAGE_DONE ? 0 : 1;
}

/** The JPEG file, once step() has returned 0 (its length is encodedBytes()). */
export function result(): usize {
  return out;
}

/** Colour conversion, downsampling, DCT and quantisation of MCU row `my`. */
function transformRow(my: i32): void {
  const rowBytes = <usize>width << 2;
  const y0 = my * mcuSide;
  const valid = min(mcuSide, height - y0);
  // Colour conversion with the right edge replicated; rows past the bottom repeat the last one
  // (jcprepct.c's expand_bottom_edge).
  for (let yy = 0; yy < mcuSide; yy++) {
    const o = <usize>yy * pw;
    if (yy < valid) {
      const row = src + <usize>(y0 + yy - srcFirst) * rowBytes;
      if (gray) {
        rowToGray(row, width, yStrip + o);
      } else {
        rowToYCbCr(row, width, yStrip + o, cbStrip + o, crStrip + o);
        expandRight(cbStrip + o, width, pw);
        expandRight(crStrip + o, width, pw);
      }
      expandRight(yStrip + o, width, pw);
    } else {
      memory.copy(yStrip + o, yStrip + o - pw, pw);
      if (!gray) {
        memory.copy(cbStrip + o, cbStrip + o - pw, pw);
        memory.copy(crStrip + o, crStrip + o - pw, pw);
      }
    }
  }

  for (let br = 0; br < hs; br++) {
    const gy = my * hs + br;
    const rowBlocks = yCoef + <usize>gy * yBW * BLOCK_BYTES;
    if (gy < bh) {
      const s = yStrip + <usize>br * 8 * pw;
      for (let bx = 0; bx < bw; bx++) fdctBlock(s + (<usize>bx << 3), pw, QUANT, ws, rowBlocks + <usize>bx * BLOCK_BYTES);
      for (let bx = bw; bx < yBW; bx++) {
        dummyBlock(rowBlocks + <usize>bx * BLOCK_BYTES, load<i16>(rowBlocks + <usize>(bx - 1) * BLOCK_BYTES));
      }
    } else {
      // A dummy block row at the bottom: each MCU's copies the DC of the last block above it.
      for (let mx = 0; mx < mcusX; mx++) {
        const dc = load<i16>(rowBlocks - <usize>yBW * BLOCK_BYTES + <usize>(mx * hs + hs - 1) * BLOCK_BYTES);
        for (let bi = 0; bi < hs; bi++) dummyBlock(rowBlocks + <usize>(mx * hs + bi) * BLOCK_BYTES, dc);
      }
    }
  }

  if (!gray) {
    if (sub) {
      // Only rows holding image samples are averaged; the rest of the strip repeats the last one
      // (jcprepct.c pads the downsampled output, not the full-resolution input).
      const rows = (valid + 1) >> 1;
      for (let k = 0; k < 8; k++) {
        const o = <usize>k * cw;
        if (k < rows) {
          const i = <usize>(2 * k) * pw;
          h2v2(cbStrip + i, cbStrip + i + pw, cbDown + o, cw);
          h2v2(crStrip + i, crStrip + i + pw, crDown + o, cw);
        } else {
          memory.copy(cbDown + o, cbDown + o - cw, cw);
          memory.copy(crDown + o, crDown + o - cw, cw);
        }
      }
    }
    const cbRow = cbCoef + <usize>my * mcusX * BLOCK_BYTES;
    const crRow = crCoef + <usize>my * mcusX * BLOCK_BYTES;
    for (let bx = 0; bx < mcusX; bx++) {
      fdctBlock(cbDown + (<usize>bx << 3), cw, QUANT + TABLE_BYTES, ws, cbRow + <usize>bx * BLOCK_BYTES);
      fdctBlock(crDown + (<usize>bx << 3), cw, QUANT + TABLE_BYTES, ws, crRow + <usize>bx * BLOCK_BYTES);
    }
  }
}

/** Optimal Huffman tables from the counted symbols, then every marker up to the scan's data. */
function writeHeaders(): void {
  const dc0 = huff, ac0 = huff + HUFF_TABLE_BYTES, dc1 = huff + 2 * HUFF_TABLE_BYTES, ac1 = huff + 3 * HUFF_TABLE_BYTES;
  genOptimalTable(dc0, genWork);
  genOptimalTable(ac0, genWork);
  let bits = codedBits(dc0) + codedBits(ac0);
  if (!gray) {
    genOptimalTable(dc1, genWork);
    genOptimalTable(ac1, genWork);
    bits += codedBits(dc1) + codedBits(ac1);
  }

  // Headers take under 1.3 KB; the entropy-coded data at most doubles through byte stuffing.
  out = alloc(<usize>(2048 + ((bits + 7) >> 3) * 2));
  let p = writeSOI(out);
  p = writeDQT(p, 0);
  if (!gray) p = writeDQT(p, 1);
  p = writeSOF0(p, width, height, gray ? 1 : 3, sub ? 0x22 : 0x11);
  p = writeDHT(p, dc0, 0, 0);
  p = writeDHT(p, ac0, 1, 0);
  if (!gray) {
    p = writeDHT(p, dc1, 0, 1);
    p = writeDHT(p, ac1, 1, 1);
  }
  p = writeSOS(p, gray ? 1 : 3);
  startBits(p);
}
