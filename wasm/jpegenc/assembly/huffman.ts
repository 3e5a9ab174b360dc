// Optimised Huffman coding as libjpeg's jchuff.c does it with optimize_coding: a statistics pass
// over every block, jpeg_gen_optimal_table() per table (Annex K.2 with the reserved all-ones code
// point and the 16-bit length limit), then the entropy-coded pass with 0xFF byte stuffing.
//
// Blocks come from fdct.ts: 64 i16 in natural order and, at +128, a u64 mask of the non-zero ones in
// zigzag order, so both passes walk only the non-zero coefficients (a run of zeros is the gap
// between two bits) and look each one up through the zigzag table.

import { NATURAL_ORDER } from './tables';

/** Bytes per coefficient block: 64 i16, the u64 non-zero mask, padding to 16. */
export const BLOCK_BYTES: usize = 144;

/** Per table: freq (257 i32) | codes (256 i32: size << 16 | code) | bits (17 u8) | huffval (256 u8). */
const FREQ: usize = 0;
const CODES: usize = 257 * 4;
const BITS: usize = CODES + 256 * 4;
const VALS: usize = BITS + 32;
export const HUFF_TABLE_BYTES: usize = VALS + 256;
/** Scratch genOptimalTable() needs. */
export const GEN_WORK_BYTES: usize = 257 * 12 + 48;

// ---- statistics pass -------------------------------------------------------------------------

// @ts-ignore: decorator
@inline function bump(t: usize, sym: i32): void {
  const p = t + FREQ + (<usize>sym << 2);
  store<i32>(p, load<i32>(p) + 1);
}

// @ts-ignore: decorator
@inline function nbits(v: i32): i32 {
  return 32 - clz<i32>(v < 0 ? -v : v);
}

/**
 * jpeg_gen_optimal_table(): code lengths from the frequencies by Huffman's algorithm (ties to the
 * larger symbol, as libjpeg does, so the tables and therefore the bytes match), limited to 16
 * bits, with pseudo-symbol 256 keeping every real code from being all ones. `work` is
 * bytes of scratch (GEN_WORK_BYTES).
 */
export function genOptimalTable(t: usize, work: usize): void {
  const codesize = work;
  const others = work + 257 * 4;
  const bits = t + BITS;
  memory.fill(codesize, 0, 257 * 4);
  memory.fill(others, 0xff, 257 * 4);
  // 33 counters for lengths 0..32 (the table keeps only 0..16).
  const allBits = work + 257 * 8;
  memory.fill(allBits, 0, 48);
  // The algorithm merges counts in place: work on a copy so codedBits() can still read them.
  const freq = allBits + 48;
  memory.copy(freq, t + FREQ, 256 * 4);
  store<i32>(freq + 256 * 4, 1);

  for (;;) {
    let c1 = -1, c2 = -1;
    let v: i32 = 1000000000;
    for (let i = 0; i <= 256; i++) {
      const f = load<i32>(freq + (<usize>i << 2));
      if (f != 0 && f <= v) { v = f; c1 = i; }
    }
    v = 1000000000;
    for (let i = 0; i <= 256; i++) {
      const f = load<i32>(freq + (<usize>i << 2));
      if (f != 0 && f <= v && i != c1) { v = f; c2 = i; }
    }
    if (c2 < 0) break;
    store<i32>(freq + (<usize>c1 << 2), load<i32>(freq + (<usize>c1 << 2)) + load<i32>(freq + (<usize>c2 << 2)));
    store<i32>(freq + (<usize>c2 << 2), 0);
    store<i32>(codesize + (<usize>c1 << 2), load<i32>(codesize + (<usize>c1 << 2)) + 1);
    while (load<i32>(others + (<usize>c1 << 2)) >= 0) {
      c1 = load<i32>(others + (<usize>c1 << 2));
      store<i32>(codesize + (<usize>c1 << 2), load<i32>(codesize + (<usize>c1 << 2)) + 1);
    }
    store<i32>(others + (<usize>c1 << 2), c2);
    store<i32>(codesize + (<usize>c2 << 2), load<i32>(codesize + (<usize>c2 << 2)) + 1);
    while (load<i32>(others + (<usize>c2 << 2)) >= 0) {
      c2 = load<i32>(others + (<usize>c2 << 2));
      store<i32>(codesize + (<usize>c2 << 2), load<i32>(codesize + (<usize>c2 << 2)) + 1);
    }
  }

  for (let i = 0; i <= 256; i++) {
    const s = load<i32>(codesize + (<usize>i << 2));
    if (s != 0) {
      // Huffman on 257 symbols with 32-bit counts can't exceed 32 levels (libjpeg errors out).
      if (s > 32) unreachable();
      store<u8>(allBits + <usize>s, load<u8>(allBits + <usize>s) + 1);
    }
  }
  // Annex K.3: move pairs of over-long codes up until nothing is longer than 16 bits.
  let i = 32;
  for (; i > 16; i--) {
    while (load<u8>(allBits + <usize>i) > 0) {
      let j = i - 2;
      while (load<u8>(allBits + <usize>j) == 0) j--;
      store<u8>(allBits + <usize>i, load<u8>(allBits + <usize>i) - 2);
      store<u8>(allBits + <usize>(i - 1), load<u8>(allBits + <usize>(i - 1)) + 1);
      store<u8>(allBits + <usize>(j + 1), load<u8>(allBits + <usize>(j + 1)) + 2);
      store<u8>(allBits + <usize>j, load<u8>(allBits + <usize>j) - 1);
    }
  }
  // Drop the pseudo-symbol from the longest length still in use.
  while (load<u8>(allBits + <usize>i) == 0) i--;
  store<u8>(allBits + <usize>i, load<u8>(allBits + <usize>i) - 1);
  memory.copy(bits, allBits, 17);

  // Symbols sorted by (unlimited) code length, as libjpeg lists them.
  let p: usize = 0;
  for (let len = 1; len <= 32; len++) {
    for (let s = 0; s <= 255; s++) {
      if (load<i32>(codesize + (<usize>s << 2)) == len) {
        store<u8>(t + VALS + p, <u8>s);
        p++;
      }
    }
  }
  makeCodes(t);
}

/** Canonical codes from bits/huffval (jpeg_make_c_derived_tbl). */
function makeCodes(t: usize): void {
  memory.fill(t + CODES, 0, 256 * 4);
  let code: u32 = 0;
  let p: usize = 0;
  for (let len: u32 = 1; len <= 16; len++) {
    const n = <i32>load<u8>(t + BITS + len);
    for (let i = 0; i < n; i++) {
      const sym = <usize>load<u8>(t + VALS + p);
      store<u32>(t + CODES + (sym << 2), (len << 16) | code);
      code++;
      p++;
    }
    code <<= 1;
  }
}

/** Number of symbols in the table (the DHT segment's value count). */
export function symbolCount(t: usize): i32 {
  let n = 0;
  for (let len: usize = 1; len <= 16; len++) n += <i32>load<u8>(t + BITS + len);
  return n;
}

/** The table's BITS[1..16] and HUFFVAL as a DHT segment body, written at `out`; returns the end. */
export function writeTableBody(t: usize, out: usize): usize {
  memory.copy(out, t + BITS + 1, 16);
  const n = <usize>symbolCount(t);
  memory.copy(out + 16, t + VALS, n);
  return out + 16 + n;
}

/** Total entropy-coded bits the table will produce for the counted symbols, extra bits included. */
export function codedBits(t: usize): u64 {
  let total: u64 = 0;
  for (let s: usize = 0; s < 256; s++) {
    const f = <u64>load<i32>(t + FREQ + (s << 2));
    if (f != 0) total += f * <u64>((load<u32>(t + CODES + (s << 2)) >> 16) + (<u32>s & 15));
  }
  return total;
}

// ---- output pass -----------------------------------------------------------------------------

let acc: u64 = 0;
let accBits: i32 = 0;
let outPtr: usize = 0;

export function startBits(out: usize): void {
  acc = 0;
  accBits = 0;
  outPtr = out;
}

/** Move whole bytes out of the accumulator, stuffing a zero after every 0xFF. */
function drain(): void {
  while (accBits >= 8) {
    accBits -= 8;
    const b = <u8>(acc >> <u64>accBits);
    store<u8>(outPtr, b);
    outPtr++;
    if (b == 0xff) {
      store<u8>(outPtr, 0);
      outPtr++;
    }
  }
}

/** Append `size` bits (at most 32). */
// @ts-ignore: decorator
@inline function put(bits: u32, size: i32): void {
  acc = (acc << <u64>size) | <u64>bits;
  accBits += size;
  if (accBits >= 32) {
    // Four bytes at once unless one of them is 0xFF (then it needs a stuffed zero after it):
    // ~w has a zero byte exactly where w has 0xFF.
    const w = <u32>(acc >> <u64>(accBits - 32));
    const x = ~w;
    if (((x - 0x01010101) & ~x & 0x80808080) == 0) {
      store<u32>(outPtr, bswap<u32>(w));
      outPtr += 4;
      accBits -= 32;
    } else {
      drain();
    }
  }
}

/** Append the code for `sym` followed by the low `extra` bits of `value`. */
// @ts-ignore: decorator
@inline function putSymbol(t: usize, sym: i32, value: i32, extra: i32): void {
  const c = load<u32>(t + CODES + (<usize>sym << 2));
  const size = <i32>(c >> 16);
  put(((c & 0xffff) << <u32>extra) | (<u32>value & ((<u32>1 << <u32>extra) - 1)), size + extra);
}

/**
 * One block's symbols in coding order: counted into the tables' frequencies (`emit` false, the
 * statistics pass) or written (`emit` true). Returns the block's DC for the next prediction.
 */
// @ts-ignore: decorator
@inline export function codeBlock(block: usize, lastDC: i32, dc: usize, ac: usize, emit: bool): i32 {
  const d = <i32>load<i16>(block);
  const diff = d - lastDC;
  let n = nbits(diff);
  // Negative values are sent as their ones' complement in n bits (F.1.2.1).
  if (emit) putSymbol(dc, n, diff < 0 ? diff - 1 : diff, n);
  else bump(dc, n);
  let mask = load<u64>(block + 128) & ~(<u64>1);
  let k: i32 = 0;
  while (mask != 0) {
    const z = <i32>ctz<u64>(mask);
    mask &= mask - 1;
    let r = z - k - 1;
    while (r > 15) {
      if (emit) putSymbol(ac, 0xf0, 0, 0);
      else bump(ac, 0xf0);
      r -= 16;
    }
    const v = <i32>load<i16>(block + (<usize>load<u8>(NATURAL_ORDER + <usize>z) << 1));
    n = nbits(v);
    if (emit) putSymbol(ac, (r << 4) + n, v < 0 ? v - 1 : v, n);
    else bump(ac, (r << 4) + n);
    k = z;
  }
  if (k != 63) {
    if (emit) putSymbol(ac, 0, 0, 0);
    else bump(ac, 0);
  }
  return d;
}

/** Pad the last byte with one bits (as libjpeg's flush_bits) and return the end of the data. */
export function finishBits(): usize {
  const pad = (8 - (accBits & 7)) & 7;
  if (pad != 0) {
    acc = (acc << <u64>pad) | <u64>((1 << pad) - 1);
    accBits += pad;
  }
  drain();
  return outPtr;
}
