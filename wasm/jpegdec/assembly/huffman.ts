// Baseline Huffman decoding, following libjpeg-turbo's jdhuff.c so coefficients (and therefore
// pixels) match it exactly: the same table derivation and validity checks, the same zig-zag order
// with 16 guard entries (a run past coefficient 63 lands on 63 rather than outside the block), and
// coefficients truncated to 16 bits as JCOEF stores them.
import { BAD_HUFFMAN_CODE, BAD_HUFFMAN_TABLE, OK } from './status';

/** Zig-zag position → natural (row-major) index, plus 16 guard entries (jpeg_natural_order). */
export const NATURAL: usize = memory.data<u8>([
  0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5,
  12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28,
  35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51,
  58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
  63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63,
]);

// ---- Raw tables as DHT defines them: 4 DC + 4 AC slots, each 16 counts and up to 256 symbols. ----
const RAW_STRIDE: usize = 16 + 256;
const raw: usize = memory.data(8 * <i32>RAW_STRIDE);
const rawDefined: usize = memory.data(8);

/** Slot of a table: class 0 (DC) or 1 (AC), id 0..3. */
// @ts-ignore: decorator
@inline export function slot(cls: i32, id: i32): i32 {
  return (cls << 2) | id;
}

export function clearTables(): void {
  memory.fill(rawDefined, 0, 8);
}

export function defineTable(s: i32, counts: usize, symbols: usize, n: i32): void {
  const t = raw + <usize>s * RAW_STRIDE;
  memory.copy(t, counts, 16);
  memory.copy(t + 16, symbols, <usize>n);
  store<u8>(rawDefined + <usize>s, 1);
}

export function tableDefined(s: i32): bool {
  return load<u8>(rawDefined + <usize>s) != 0;
}

// ---- Derived tables (jpeg_make_d_derived_tbl), built for the tables a scan uses. ----
// Layout per derived table: 512 u16 lookahead entries (symbol << 5 | the code's length plus the
// value bits that follow it, symbol & 15; 0 = longer than 9 bits),
// maxcode[18] i32, valoffset[18] i32, 256 symbols.
const LOOKAHEAD: i32 = 9;
const D_LOOK: usize = 0;
const D_MAXCODE: usize = 1024;
const D_VALOFF: usize = D_MAXCODE + 18 * 4;
const D_VALS: usize = D_VALOFF + 18 * 4;
const D_STRIDE: usize = D_VALS + 256;
const derived: usize = memory.data(8 * <i32>D_STRIDE, 16);
const sizes: usize = memory.data(257);
const codes: usize = memory.data(257 * 4, 4);

export function derivedTable(s: i32): usize {
  return derived + <usize>s * D_STRIDE;
}

/** Build the decoding tables for slot `s`; returns OK or BAD_HUFFMAN_TABLE as libjpeg would. */
export function deriveTable(s: i32, isDC: bool): i32 {
  const t = raw + <usize>s * RAW_STRIDE;
  const d = derivedTable(s);
  let p = 0;
  for (let l = 1; l <= 16; l++) {
    const n = <i32>load<u8>(t + <usize>(l - 1));
    if (p + n > 256) return BAD_HUFFMAN_TABLE;
    for (let i = 0; i < n; i++, p++) store<u8>(sizes + <usize>p, <u8>l);
  }
  store<u8>(sizes + <usize>p, 0);
  const total = p;
  // Canonical codes; no code may be all ones (the code after the last of a length must still fit).
  let code = 0;
  let si = <i32>load<u8>(sizes);
  p = 0;
  while (load<u8>(sizes + <usize>p) != 0) {
    while (<i32>load<u8>(sizes + <usize>p) == si) {
      store<i32>(codes + (<usize>p << 2), code);
      p++;
      code++;
    }
    if (code >= 1 << si) return BAD_HUFFMAN_TABLE;
    code <<= 1;
    si++;
  }
  p = 0;
  for (let l = 1; l <= 16; l++) {
    const n = <i32>load<u8>(t + <usize>(l - 1));
    if (n != 0) {
      store<i32>(d + D_VALOFF + (<usize>l << 2), p - load<i32>(codes + (<usize>p << 2)));
      p += n;
      store<i32>(d + D_MAXCODE + (<usize>l << 2), load<i32>(codes + (<usize>(p - 1) << 2)));
    } else {
      store<i32>(d + D_MAXCODE + (<usize>l << 2), -1);
    }
  }
  store<i32>(d + D_MAXCODE + (17 << 2), 0x7fffffff);
  memory.copy(d + D_VALS, t + 16, <usize>total);
  memory.fill(d + D_LOOK, 0, 1024);
  p = 0;
  for (let l = 1; l <= LOOKAHEAD; l++) {
    const n = <i32>load<u8>(t + <usize>(l - 1));
    for (let i = 0; i < n; i++, p++) {
      let look = load<i32>(codes + (<usize>p << 2)) << (LOOKAHEAD - l);
      // The sequential hot loop takes the code and its value bits in one step (a DC symbol is the
      // value's size; an AC one has it in its low four bits).
      const sym = <i32>load<u8>(t + 16 + <usize>p);
      const entry = <u16>((sym << 5) | (l + (sym & 15)));
      for (let c = 1 << (LOOKAHEAD - l); c > 0; c--, look++) store<u16>(d + D_LOOK + (<usize>look << 1), entry);
    }
  }
  if (isDC) {
    // DC symbols are magnitudes of differences: above 15 they would shift out of range.
    for (let i = 0; i < total; i++) if (load<u8>(t + 16 + <usize>i) > 15) return BAD_HUFFMAN_TABLE;
  }
  return OK;
}

// ---- Bit reader over the entropy-coded segment. ----
// Bits enter `acc` from the bottom; `cnt` of them are unread. At a marker (or the end of the input)
// zero bits are fed instead and counted in `fake`: reading into them is only damage if a symbol
// actually needed them (cnt < fake after a block), exactly when libjpeg warns "premature end".
let pos: usize = 0;
let end: usize = 0;
let acc: u64 = 0;
let cnt: i32 = 0;
let fake: i32 = 0;
/** The marker that stopped the reader: 0 = none yet, 0x100 = end of input. */
let hitMarker: i32 = 0;
export const END_OF_INPUT: i32 = 0x100;
export let error: i32 = OK;

export function startBits(p: usize, e: usize): void {
  pos = p;
  end = e;
  acc = 0;
  cnt = 0;
  fake = 0;
  hitMarker = 0;
}

export function inputPosition(): usize {
  return pos;
}

export function markerSeen(): i32 {
  return hitMarker;
}

/** Whole unread bytes of real data in the buffer (left over after an MCU sequence ends). */
export function leftoverBytes(): i32 {
  return (cnt - fake) >> 3;
}

/** Bits were consumed past the end of the data. */
// @ts-ignore: decorator
@inline export function overrun(): bool {
  return cnt < fake;
}

function fill(): void {
  // Fast path: the next 8 bytes hold no 0xFF (no stuffing, no marker), so take as many whole bytes
  // as fit at once, big-endian, exactly what the byte loop below would have taken.
  if (hitMarker == 0 && pos + 8 <= end) {
    const x = load<u64>(pos);
    const y = ~x;
    if (((y - 0x0101010101010101) & ~y & 0x8080808080808080) == 0) {
      const n = (64 - cnt) >> 3;
      const be = bswap<u64>(x);
      acc = n == 8 ? be : (acc << <u64>(n << 3)) | (be >> <u64>(64 - (n << 3)));
      cnt += n << 3;
      pos += <usize>n;
      return;
    }
  }
  while (cnt <= 56) {
    if (hitMarker != 0) {
      acc <<= 8;
      cnt += 8;
      fake += 8;
      continue;
    }
    if (pos >= end) {
      hitMarker = END_OF_INPUT;
      continue;
    }
    let c = <u32>load<u8>(pos++);
    if (c == 0xff) {
      // 0xFF 0x00 is a stuffed data byte; 0xFF fill bytes may precede a marker.
      while (pos < end && load<u8>(pos) == 0xff) pos++;
      if (pos >= end) {
        hitMarker = END_OF_INPUT;
        continue;
      }
      const m = <i32>load<u8>(pos++);
      if (m != 0) {
        hitMarker = m;
        continue;
      }
    }
    acc = (acc << 8) | <u64>c;
    cnt += 8;
  }
}

/** After the last MCU of a segment: the marker that ends it (reading fill bytes if needed). */
export function nextMarker(): i32 {
  if (hitMarker != 0) return hitMarker;
  if (pos >= end) return END_OF_INPUT;
  if (load<u8>(pos) != 0xff) return 0;
  while (pos < end && load<u8>(pos) == 0xff) pos++;
  if (pos >= end) return END_OF_INPUT;
  const m = <i32>load<u8>(pos++);
  return m == 0 ? 0 : m;
}

// @ts-ignore: decorator
@inline function getBits(n: i32): i32 {
  if (cnt < 16) fill();
  cnt -= n;
  return <i32>(acc >> <u64>cnt) & ((1 << n) - 1);
}

/** HUFF_EXTEND: a `n`-bit magnitude category value to its signed value. */
// @ts-ignore: decorator
@inline function extend(v: i32, n: i32): i32 {
  return v < 1 << (n - 1) ? v - (1 << n) + 1 : v;
}

/** One Huffman symbol: codes of up to LOOKAHEAD bits from the table, inlined into every caller. */
// @ts-ignore: decorator
@inline function decodeSymbol(d: usize): i32 {
  if (cnt < 16) fill();
  const look = <i32>(acc >> <u64>(cnt - LOOKAHEAD)) & ((1 << LOOKAHEAD) - 1);
  const e = <i32>load<u16>(d + D_LOOK + (<usize>look << 1));
  if (e != 0) {
    const sym = e >> 5;
    cnt -= (e & 31) - (sym & 15);
    return sym;
  }
  return decodeLongSymbol(d);
}

/** Codes longer than the lookahead (rare): libjpeg's jpeg_huff_decode, bit length by bit length. */
function decodeLongSymbol(d: usize): i32 {
  const code16 = <i32>(acc >> <u64>(cnt - 16)) & 0xffff;
  for (let l = LOOKAHEAD + 1; l <= 16; l++) {
    const code = code16 >> (16 - l);
    if (code <= load<i32>(d + D_MAXCODE + (<usize>l << 2))) {
      cnt -= l;
      return <i32>load<u8>(d + D_VALS + <usize>(code + load<i32>(d + D_VALOFF + (<usize>l << 2))));
    }
  }
  error = BAD_HUFFMAN_CODE;
  cnt -= 16;
  return 0;
}

/** Whether the 8 bytes at `p` hold no 0xFF (no stuffing, no marker): they can be taken at once. */
// @ts-ignore: decorator
@inline function noFF(x: u64): bool {
  const y = ~x;
  return ((y - 0x0101010101010101) & ~y & 0x8080808080808080) == 0;
}

/**
 * Decode one block's coefficients into `block` (64 i16, zeroed by the caller) and return the new
 * DC predictor. The sequential scans' hot loop: the reader's state lives in locals for the whole
 * block (globals are memory accesses to V8, and a call to fill() forces them out of registers),
 * and the buffer is topped up once per coefficient to at least 32 bits, enough for the longest
 * code (16 bits) and its value (up to 15), with the 8-byte refill inlined. The bits read are the
 * same as decodeSymbol's and getBits'; only where the refills happen differs.
 */
export function decodeBlock(block: usize, dc: usize, ac: usize, lastDc: i32): i32 {
  let a = acc;
  let c = cnt;
  let p = pos;
  const e8 = end;
  // k = 0 is the DC coefficient, from the DC table; then the AC ones.
  let table = dc;
  let dcv = 0;
  for (let k = 0; k < 64; k++) {
    if (c < 32) {
      if (hitMarker == 0 && p + 8 <= e8 && noFF(load<u64>(p))) {
        const n = (64 - c) >> 3;
        const be = bswap<u64>(load<u64>(p));
        a = n == 8 ? be : (a << <u64>(n << 3)) | (be >> <u64>(64 - (n << 3)));
        c += n << 3;
        p += <usize>n;
      } else {
        acc = a; cnt = c; pos = p;
        fill();
        a = acc; c = cnt; p = pos;
      }
    }
    // The code and the value bits after it are taken at once (c is then at the value's end).
    const e = <i32>load<u16>(table + D_LOOK + (<usize>(<i32>(a >> <u64>(c - LOOKAHEAD)) & ((1 << LOOKAHEAD) - 1)) << 1));
    let rs: i32;
    if (e != 0) {
      c -= e & 31;
      rs = e >> 5;
    } else {
      acc = a; cnt = c;
      rs = decodeLongSymbol(table);
      c = cnt - (rs & 15);
    }
    if (k == 0) {
      // A DC symbol is the difference's size alone (at most 15, checked when the table was derived).
      if (rs != 0) rs = extend(<i32>(a >> <u64>c) & ((1 << rs) - 1), rs);
      dcv = rs + lastDc;
      store<i16>(block, <i16>dcv);
      table = ac;
      continue;
    }
    const r = rs >> 4;
    const s = rs & 15;
    if (s != 0) {
      k += r;
      const v = extend(<i32>(a >> <u64>c) & ((1 << s) - 1), s);
      store<i16>(block + (<usize>load<u8>(NATURAL + <usize>k) << 1), <i16>v);
    } else {
      if (r != 15) break;
      k += 15;
    }
  }
  acc = a;
  cnt = c;
  pos = p;
  return dcv;
}

export function resetError(): void {
  error = OK;
}

// ---- Progressive scans (jdphuff.c): one routine per scan type, working on whole-image coefficient
// blocks that persist between scans. Those blocks are kept in zig-zag order (the order scans code
// them; the IDCT reorders each block once at the end), so a scan's band is contiguous and the
// refinement pass can find the nonzero coefficients of a block with a few SIMD compares instead of
// testing all 63. Where libjpeg's natural-order guard entries catch a run past coefficient 63, the
// position is clamped to 63, the same coefficient. The end-of-band run carries over from block to
// block within a scan and is cleared at restarts, as libjpeg's saved.EOBRUN is.
let eobrun: i32 = 0;

export function resetEobrun(): void {
  eobrun = 0;
}

// @ts-ignore: decorator
@inline function zz(block: usize, k: i32): usize {
  return block + (<usize>(k > 63 ? 63 : k) << 1);
}

/** Bit k set for every nonzero coefficient k of a zig-zag ordered block. */
// @ts-ignore: decorator
@inline function nonzeroMask(block: usize): u64 {
  const zero = i16x8.splat(0);
  let m: u64 = 0;
  for (let i = 0; i < 8; i++) {
    m |= <u64>i16x8.bitmask(i16x8.ne(v128.load(block + (<usize>i << 4)), zero)) << (<u64>i << 3);
  }
  return m;
}

/** Bits from..to (inclusive); from may be 64 (empty). */
// @ts-ignore: decorator
@inline function bitsFrom(from: i32, to: i32): u64 {
  const lo: u64 = from > 63 ? 0 : <u64>-1 << <u64>from;
  const hi: u64 = to >= 63 ? <u64>-1 : (<u64>1 << <u64>(to + 1)) - 1;
  return lo & hi;
}

/** First DC scan: the difference from the predictor, scaled by 2^al. Returns the new predictor. */
export function decodeDcFirst(block: usize, dc: usize, lastDc: i32, al: i32): i32 {
  let s = decodeSymbol(dc);
  if (s != 0) s = extend(getBits(s), s);
  const v = lastDc + s;
  store<i16>(block, <i16>(v << al));
  return v;
}

/** DC refinement: one more bit of every DC coefficient. */
export function decodeDcRefine(block: usize, al: i32): void {
  if (getBits(1) != 0) store<i16>(block, <i16>(<i32>load<i16>(block) | (1 << al)));
}

/**
 * The bit reader's refill for routines that keep it in locals (the progressive AC runs below): takes
 * `a` and `c` (the caller's acc and cnt), leaves at least 57 bits, and returns the new acc with the
 * new count in `cnt` (pos and the marker state stay global: they change only here). The fast path is
 * fill()'s, inlined, so that a refill costs no call and the caller's locals stay in registers.
 */
// @ts-ignore: decorator
@inline function topUp(a: u64, c: i32): u64 {
  const p = pos;
  if (hitMarker == 0 && p + 8 <= end) {
    const x = load<u64>(p);
    if (noFF(x)) {
      const n = (64 - c) >> 3;
      const be = bswap<u64>(x);
      cnt = c + (n << 3);
      pos = p + <usize>n;
      return n == 8 ? be : (a << <u64>(n << 3)) | (be >> <u64>(64 - (n << 3)));
    }
  }
  acc = a;
  cnt = c;
  fill();
  return acc;
}

/** The lookahead entry (decodeSymbol's) for the next bits of a reader held in locals `a` and `c`. */
// @ts-ignore: decorator
@inline function lookahead(d: usize, a: u64, c: i32): i32 {
  return <i32>load<u16>(d + D_LOOK + (<usize>(<i32>(a >> <u64>(c - LOOKAHEAD)) & ((1 << LOOKAHEAD) - 1)) << 1));
}

/**
 * First AC scans of the band ss..se for `n` consecutive blocks (a row of units, or the part of it
 * before the next restart): run/size symbols with end-of-band runs across blocks. The reader lives
 * in locals for the whole run, as in decodeBlock, and is topped up once per symbol to at least 32
 * bits: enough for a code (16 bits) and its value or end-of-band run bits (up to 15). Stops after the
 * first block that sets `error` or reads past the data, so the caller reports the same damage at the
 * same block as a block-by-block decode would.
 */
export function decodeAcFirstRun(blk: usize, n: i32, ac: usize, ss: i32, se: i32, al: i32): void {
  let a = acc;
  let c = cnt;
  let run = eobrun;
  for (let b = 0; b < n; b++, blk += 128) {
    if (run > 0) {
      run--;
      continue;
    }
    for (let k = ss; k <= se; k++) {
      if (c < 32) {
        a = topUp(a, c);
        c = cnt;
      }
      // The code and the value bits after it are taken at once (c is then at the value's end).
      const e = lookahead(ac, a, c);
      let rs: i32;
      if (e != 0) {
        c -= e & 31;
        rs = e >> 5;
      } else {
        acc = a;
        cnt = c;
        rs = decodeLongSymbol(ac);
        c = cnt - (rs & 15);
      }
      const r = rs >> 4;
      const s = rs & 15;
      if (s != 0) {
        k += r;
        const v = extend(<i32>(a >> <u64>c) & ((1 << s) - 1), s);
        store<i16>(zz(blk, k), <i16>(v << al));
      } else if (r == 15) {
        k += 15;
      } else {
        run = 1 << r;
        if (r != 0) {
          c -= r;
          run += <i32>(a >> <u64>c) & ((1 << r) - 1);
        }
        run--;
        break;
      }
    }
    if (error != OK || c < fake) break;
  }
  acc = a;
  cnt = c;
  eobrun = run;
}

/**
 * Apply `take` correction bits (from the top of `bits`) to the first `take` coefficients of `nz`
 * (ascending): each set bit adds 2^al away from zero unless that bit is already there. Returns the
 * coefficients of `nz` still to correct.
 */
// @ts-ignore: decorator
@inline function correct(blk: usize, nz: u64, bits: u32, take: i32, p1: i32, m1: i32): u64 {
  for (let j = 0; j < take; j++) {
    const at = blk + (<usize>ctz(nz) << 1);
    nz &= nz - 1;
    const v = <i32>load<i16>(at);
    // Branch-free: correction bits are close to random, so a branch on them mispredicts half the time.
    const apply = -(<i32>(bits >> 31) & <i32>((v & p1) == 0));
    bits <<= 1;
    store<i16>(at, <i16>(v + (select<i32>(p1, m1, v >= 0) & apply)));
  }
  return nz;
}

/**
 * AC refinement (successive approximation) of `n` consecutive blocks: a correction bit for every
 * coefficient already nonzero, new coefficients of magnitude 2^al placed after `r` still-zero ones.
 * A new coefficient whose size isn't 1 is libjpeg's "bad Huffman code" warning, and damage here.
 * Refining never makes a nonzero coefficient zero, so a block's nonzero mask only gains the bits of
 * new coefficients. The reader is in locals for the whole run (see decodeAcFirstRun), topped up to
 * 32 bits before each symbol (a code, its sign bit and up to 14 end-of-band run bits fit) and before
 * each group of up to 32 correction bits. Stops after the first damaged block, as decodeAcFirstRun.
 */
export function decodeAcRefineRun(blk: usize, n: i32, ac: usize, ss: i32, se: i32, al: i32): void {
  const p1 = 1 << al;
  const m1 = -1 << al;
  let a = acc;
  let c = cnt;
  let run = eobrun;
  for (let b = 0; b < n; b++, blk += 128) {
    let nonzero = nonzeroMask(blk);
    let k = ss;
    if (run == 0) {
      for (; k <= se; k++) {
        if (c < 32) {
          a = topUp(a, c);
          c = cnt;
        }
        const e = lookahead(ac, a, c);
        let rs: i32;
        if (e != 0) {
          // Only the code: a size other than 1 is damage, and libjpeg reads one bit whatever it says.
          rs = e >> 5;
          c -= (e & 31) - (rs & 15);
        } else {
          acc = a;
          cnt = c;
          rs = decodeLongSymbol(ac);
          c = cnt;
        }
        let r = rs >> 4;
        let s = rs & 15;
        if (s != 0) {
          if (s != 1) error = BAD_HUFFMAN_CODE;
          c--;
          s = (<i32>(a >> <u64>c) & 1) != 0 ? p1 : m1;
        } else if (r != 15) {
          run = 1 << r;
          if (r != 0) {
            c -= r;
            run += <i32>(a >> <u64>c) & ((1 << r) - 1);
          }
          break; // the rest of this block is handled as part of the end-of-band run
        }
        // libjpeg steps over nonzero coefficients (refining each) and r zero ones, stopping at the
        // next zero (ZRL: s = 0 places nothing there) or past the band: the same, by bit masks.
        const band = bitsFrom(k, se);
        let zeros = ~nonzero & band;
        // The first zero skipped by a select, the rest in a loop: most symbols skip none or one, and
        // a loop whose trip count changes from symbol to symbol mispredicts its exit.
        zeros = select<u64>(zeros & (zeros - 1), zeros, r > 0);
        for (r--; r > 0 && zeros != 0; r--) zeros &= zeros - 1;
        const stop = zeros != 0 ? <i32>ctz(zeros) : se + 1;
        let nz = nonzero & band & ~bitsFrom(stop, 63);
        // Two copies of this group loop (here and in the end-of-band run below) measured faster
        // than one loop serving both: 0.91-0.95x against 0.98x of the old decode's time.
        for (let left = <i32>popcnt(nz); left > 0;) {
          const take = left < 32 ? left : 32;
          if (c < take) {
            a = topUp(a, c);
            c = cnt;
          }
          c -= take;
          left -= take;
          nz = correct(blk, nz, <u32>(a >> <u64>c) << (32 - take), take, p1, m1);
        }
        k = stop;
        if (s != 0) {
          const at = k > 63 ? 63 : k;
          store<i16>(blk + (<usize>at << 1), <i16>s);
          nonzero |= <u64>1 << <u64>at;
        }
      }
    }
    if (run > 0) {
      let nz = nonzero & bitsFrom(k, se);
      for (let left = <i32>popcnt(nz); left > 0;) {
        const take = left < 32 ? left : 32;
        if (c < take) {
          a = topUp(a, c);
          c = cnt;
        }
        c -= take;
        left -= take;
        nz = correct(blk, nz, <u32>(a >> <u64>c) << (32 - take), take, p1, m1);
      }
      run--;
    }
    if (error != OK || c < fake) break;
  }
  acc = a;
  cnt = c;
  eobrun = run;
}
