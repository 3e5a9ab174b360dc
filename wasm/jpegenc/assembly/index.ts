// imgpipe's baseline JPEG encoder: libjpeg(-turbo)'s pipeline as sharp runs it (islow DCT, Annex K
// tables, 4:2:0 without smoothing, two-pass optimised Huffman), in WebAssembly SIMD.
//
// Calling convention (see src/codecs/jpeg-encode.ts): reset(), alloc() the source, copy RGBA bytes
// into it, then encode() returns a pointer to the JPEG file and encodedBytes() its length, valid
// until the next reset(). Nothing is imported; the module owns and exports its memory.
import { alloc, reset } from '../../kernels/assembly/memory';
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

/** Dummy block (jccoefct.c): all AC zero, DC copied so its difference costs nothing. */
// @ts-ignore: decorator
@inline function dummyBlock(block: usize, dc: i16): void {
  memory.fill(block, 0, BLOCK_BYTES);
  store<i16>(block, dc);
}

/**
 * Every block in MCU order (per MCU: the luma blocks row by row, then Cb, then Cr), with the DC
 * predictions carried per component: counting symbols (`emit` false) or writing them.
 * Tables at `huff`: DC 0, AC 0, DC 1, AC 1.
 */
// @ts-ignore: decorator
@inline function scan(yCoef: usize, cbCoef: usize, crCoef: usize, mcusX: i32, mcusY: i32, hs: i32, yBW: i32, gray: bool, huff: usize, emit: bool): void {
  const dc0 = huff, ac0 = huff + HUFF_TABLE_BYTES, dc1 = huff + 2 * HUFF_TABLE_BYTES, ac1 = huff + 3 * HUFF_TABLE_BYTES;
  let lastY = 0, lastCb = 0, lastCr = 0;
  for (let my = 0; my < mcusY; my++) {
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

/**
 * Encode `width` x `height` RGBA at `src` (alpha ignored) at `quality` 1..100. Returns a pointer to
 * the file. Traps on out-of-range arguments (the caller validates first) or when memory can't grow.
 */
export function encode(src: usize, width: i32, height: i32, quality: i32, flags: i32): usize {
  if (width < 1 || height < 1 || width > 65535 || height > 65535 || quality < 1 || quality > 100) unreachable();
  setQuality(quality);
  const gray = (flags & FLAG_GRAY) != 0;
  const sub = !gray && (flags & FLAG_444) == 0;
  const hs = sub ? 2 : 1; // luma blocks per MCU side
  const mcuSide = 8 * hs;
  const mcusX = (width + mcuSide - 1) / mcuSide;
  const mcusY = (height + mcuSide - 1) / mcuSide;
  const pw = mcusX * mcuSide; // padded full-resolution row
  const bw = (width + 7) >> 3; // luma blocks holding image samples
  const bh = (height + 7) >> 3;
  const yBW = mcusX * hs; // luma block grid including dummy blocks
  const cw = pw / hs; // chroma row after downsampling

  const stripBytes = <usize>pw * mcuSide;
  const yStrip = alloc(stripBytes);
  const cbStrip: usize = gray ? 0 : alloc(stripBytes);
  const crStrip: usize = gray ? 0 : alloc(stripBytes);
  const cbDown: usize = sub ? alloc(<usize>cw * 8) : cbStrip;
  const crDown: usize = sub ? alloc(<usize>cw * 8) : crStrip;
  const ws = alloc(512);
  const yCoef = alloc(<usize>yBW * mcusY * hs * BLOCK_BYTES);
  const chromaBlocks = <usize>mcusX * mcusY;
  const cbCoef: usize = gray ? 0 : alloc(chromaBlocks * BLOCK_BYTES);
  const crCoef: usize = gray ? 0 : alloc(chromaBlocks * BLOCK_BYTES);
  const huff = alloc(4 * HUFF_TABLE_BYTES);
  memory.fill(huff, 0, 4 * HUFF_TABLE_BYTES);
  const genWork = alloc(GEN_WORK_BYTES);
  const rowBytes = <usize>width << 2;

  for (let my = 0; my < mcusY; my++) {
    const y0 = my * mcuSide;
    const valid = min(mcuSide, height - y0);
    // Colour conversion with the right edge replicated; rows past the bottom repeat the last one
    // (jcprepct.c's expand_bottom_edge).
    for (let yy = 0; yy < mcuSide; yy++) {
      const o = <usize>yy * pw;
      if (yy < valid) {
        const row = src + <usize>(y0 + yy) * rowBytes;
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

  const dc0 = huff, ac0 = huff + HUFF_TABLE_BYTES, dc1 = huff + 2 * HUFF_TABLE_BYTES, ac1 = huff + 3 * HUFF_TABLE_BYTES;
  // Pass 1: symbol statistics.
  scan(yCoef, cbCoef, crCoef, mcusX, mcusY, hs, yBW, gray, huff, false);
  genOptimalTable(dc0, genWork);
  genOptimalTable(ac0, genWork);
  let bits = codedBits(dc0) + codedBits(ac0);
  if (!gray) {
    genOptimalTable(dc1, genWork);
    genOptimalTable(ac1, genWork);
    bits += codedBits(dc1) + codedBits(ac1);
  }

  // Headers take under 1.3 KB; the entropy-coded data at most doubles through byte stuffing.
  const out = alloc(<usize>(2048 + ((bits + 7) >> 3) * 2));
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

  // Pass 2: the entropy-coded data.
  startBits(p);
  scan(yCoef, cbCoef, crCoef, mcusX, mcusY, hs, yBW, gray, huff, true);
  p = writeEOI(finishBits());
  length = <i32>(p - out);
  return out;
}
