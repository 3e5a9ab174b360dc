// imgpipe's JPEG decoder with DCT-domain scaling ("shrink-on-load"): decodes sequential and progressive
// Huffman 8-bit JPEGs (SOF0/SOF1/SOF2, 1 or 3 components, integral sampling ratios, restart intervals)
// straight to 1/1, 1/2, 1/4 or 1/8 of their size, pixel for pixel as libjpeg-turbo does with
// scale_denom = 1, 2, 4, 8 and its default islow IDCT and fancy upsampling. Anything else is
// answered NOT_HANDLED so the caller uses another decoder; damage is answered with a status code
// (status.ts) instead of being decoded into grey blocks.
//
// Sequential files are decoded one MCU row at a time: Huffman decoding and IDCT into component
// planes that hold only three MCU rows (a ring: the fancy upsamplers need the sample rows above and
// below), then upsampling and colour conversion of the MCU row before it straight into the RGBA
// output. Progressive files first collect every scan into a coefficient buffer for the whole image,
// then run the same IDCT, upsampling and colour conversion MCU row by MCU row once the last scan is in.
//
// Calling convention (src/codecs/jpeg.ts): reset(), alloc() the input, copy the file in, begin(),
// then step() until it returns something other than IN_PROGRESS; on OK the RGBA pixels are at
// outPtr(), outWidth() x outHeight(), valid until the next reset().
//
// Or the output is a ring (begin()'s `ringMcuRows`): it holds only that many MCU rows of output,
// output row y in ring row y % outRows(). After each step() the caller takes the rows from where it
// left off up to rowsOut() (the resize kernel takes them as they come, see src/codecs/jpeg.ts), so a
// ring of one step's rows plus one is enough, and the full-size image is never held.
//
// Why steps: V8 runs a WebAssembly function's first calls in its baseline tier (Liftoff) and can
// only switch to optimised code at a later call; there is no on-stack replacement. One call decoding
// a whole image would run a cold instance's first image entirely on baseline code. Decoding in bands
// of MCU rows, one call per band, picks up the optimised code part way through the first image.
// Nothing is imported; the module owns and exports its memory. Every read of the input is bounds
// checked; every write goes to buffers sized from the frame header before decoding starts.
import { alloc, reset } from '../../common/memory';
import {
  OK, NOT_HANDLED, OUT_OF_MEMORY, BAD_HUFFMAN_CODE, PREMATURE_END, BAD_RESTART, EXTRANEOUS_DATA,
  BAD_SEGMENT, BAD_HUFFMAN_TABLE, BAD_STRUCTURE, MISSING_EOI, BAD_SCAN_PARAMETERS, BAD_PROGRESSION,
  INCOMPLETE_PROGRESSION, IN_PROGRESS,
} from './status';
import {
  clearTables, defineTable, tableDefined, deriveTable, derivedTable, slot, startBits, decodeBlock,
  error, resetError, overrun, leftoverBytes, nextMarker, inputPosition, END_OF_INPUT, NATURAL,
  resetEobrun, decodeDcFirst, decodeDcRefine, decodeAcFirstRun, decodeAcRefineRun,
} from './huffman';
import { idctIslow, idct4x4, idct2x2, idct1x1 } from './idct';
import { FULLSIZE, H2V1_FANCY, H1V2_FANCY, H2V2_FANCY, REPLICATE, upsampleRow, yccRow, greyRow } from './output';

export { alloc, reset };
export {
  OK, NOT_HANDLED, OUT_OF_MEMORY, BAD_HUFFMAN_CODE, PREMATURE_END, BAD_RESTART, EXTRANEOUS_DATA,
  BAD_SEGMENT, BAD_HUFFMAN_TABLE, BAD_STRUCTURE, MISSING_EOI, BAD_SCAN_PARAMETERS, BAD_PROGRESSION,
  INCOMPLETE_PROGRESSION, IN_PROGRESS,
};

// ---- Per-component fields, in a small static table (no managed objects in this module). ----
const F_ID = 0, F_H = 1, F_V = 2, F_TQ = 3, F_SSIZE = 4, F_STRIDE = 5, F_PLANE = 6, F_DW = 7, F_DH = 8;
const F_METHOD = 9, F_HEXP = 10, F_VEXP = 11, F_ROW = 12, F_DC = 13, F_AC = 14, F_LASTDC = 15, F_BW = 16, F_BH = 17;
/** Progressive only: the component's coefficient blocks (F_BW x F_BH of 64 i16, natural order). */
const F_COEF = 18;
/** Sample rows the component's plane holds: three MCU rows, used as a ring. */
const F_RING = 19;
const FIELDS = 20;
const comps: usize = memory.data(3 * FIELDS * 4, 4);
// @ts-ignore: decorator
@inline function get(c: i32, f: i32): i32 {
  return load<i32>(comps + (<usize>(c * FIELDS + f) << 2));
}
// @ts-ignore: decorator
@inline function set(c: i32, f: i32, v: i32): void {
  store<i32>(comps + (<usize>(c * FIELDS + f) << 2), v);
}

const quant: usize = memory.data(4 * 64 * 4, 16);
const quantDefined: usize = memory.data(4);
const block: usize = memory.data(128, 16);
/** Frame component index of each scan component, in scan order. */
const scanOrder: usize = memory.data(4);

let imgW = 0;
let imgH = 0;
let nf = 0;
let outW = 0;
let outH = 0;
let out: usize = 0;
/** Output rows `out` holds (outH unless it is a ring) and rows emitted so far. */
let outRing = 0;
let emitted = 0;
/** MCU rows of output the ring holds (0: the whole image), as begin() was asked. */
let ringMcuRows = 0;
/** The first output row wanted (skipFrom()): MCU rows above it are entropy-decoded only. */
let firstOutRow = 0;
let restartInterval = 0;
let jfif = false;
let adobeTransform = -1;
let ns = 0;
let maxH = 1;
let maxV = 1;
let mcusX = 0;
let mcusY = 0;

// ---- Progressive state (jdphuff.c / jdinput.c). ----
let progressive = false;
let scans = 0;
/** Spectral selection and successive approximation of the current scan. */
let ss = 0, se = 0, ah = 0, al = 0;
/** Per component and coefficient, the Al of the last scan that coded it; -1 before any (coef_bits). */
const coefBits: usize = memory.data(3 * 64);
/** Quantisation tables as they were at each component's first scan (latch_quant_tables). */
const latchedQuant: usize = memory.data(3 * 64 * 4, 16);
const latched: usize = memory.data(4);
/** For BAD_PROGRESSION: which component and coefficient, and the Ah the earlier scans call for. */
let problemComponent = 0, problemCoefficient = 0, problemExpected = 0;

export function scanSs(): i32 { return ss; }
export function scanSe(): i32 { return se; }
export function scanAh(): i32 { return ah; }
export function scanAl(): i32 { return al; }
export function progressionComponent(): i32 { return problemComponent; }
export function progressionCoefficient(): i32 { return problemCoefficient; }
export function progressionExpectedAh(): i32 { return problemExpected; }

export function imageWidth(): i32 { return imgW; }
export function imageHeight(): i32 { return imgH; }
export function outWidth(): i32 { return outW; }
export function outHeight(): i32 { return outH; }
export function outPtr(): usize { return out; }
export function outRows(): i32 { return outRing; }
export function rowsOut(): i32 { return emitted; }

/**
 * Put out rows from `row` on only (call after begin(), before the first step()): the MCU rows above
 * it are still entropy-decoded, since a sequential scan can only be read in order, but not
 * transformed or put out. That is most of the work for the top of an image whose bottom another
 * thread decodes.
 */
export function skipFrom(row: i32): void {
  firstOutRow = row > 0 ? row : 0;
}

/** The MCU row holding the first output row wanted. */
// @ts-ignore: decorator
@inline function firstMcuRow(): i32 {
  return firstOutRow / mcuOutRows;
}

// @ts-ignore: decorator
@inline function be16(p: usize): i32 {
  return (<i32>load<u8>(p) << 8) | <i32>load<u8>(p + 1);
}

// ---- Where the decode stands between step() calls. ----
const PHASE_MARKERS = 0;
const PHASE_SEQUENTIAL = 1;
const PHASE_SCAN = 2;
const PHASE_OUTPUT = 3;
const PHASE_DONE = 4;
let phase = PHASE_DONE;
/** Next marker segment, the end of the input, and a marker already read by the bit reader. */
let at: usize = 0;
let inputEnd: usize = 0;
let pending = 0;
let scale = 1;
/** Next MCU row (sequential scan, output) or row of units (progressive scan). */
let nextRow = 0;
/** Output rows per MCU row. */
let mcuOutRows = 0;

/**
 * Start decoding the `len` bytes at `src`, scaled down by `denom` (1, 2, 4 or 8), into an output
 * ring of `ring` MCU rows (0: the whole image). Returns IN_PROGRESS, or a status code when the file
 * is refused before any work.
 */
export function begin(src: usize, len: usize, denom: i32, ring: i32): i32 {
  resetError();
  clearTables();
  memory.fill(quantDefined, 0, 4);
  imgW = imgH = nf = outW = outH = 0;
  out = 0;
  outRing = emitted = 0;
  ringMcuRows = ring > 0 ? ring : 0;
  firstOutRow = 0;
  restartInterval = 0;
  jfif = false;
  adobeTransform = -1;
  progressive = false;
  scans = 0;
  ss = se = ah = al = 0;
  memory.fill(coefBits, 0xff, 3 * 64);
  memory.fill(latched, 0, 4);
  phase = PHASE_DONE;
  if (denom != 1 && denom != 2 && denom != 4 && denom != 8) return NOT_HANDLED;
  if (len < 4 || load<u8>(src) != 0xff || load<u8>(src + 1) != 0xd8) return BAD_STRUCTURE;
  at = src + 2;
  inputEnd = src + len;
  pending = 0;
  scale = denom;
  phase = PHASE_MARKERS;
  return IN_PROGRESS;
}

/**
 * Decode about `rows` MCU rows (rows of blocks in a progressive scan) and return IN_PROGRESS, or the
 * final status: OK once the whole image is in the output.
 */
export function step(rows: i32): i32 {
  const st = advance(rows);
  if (st != IN_PROGRESS) phase = PHASE_DONE;
  return st;
}

function advance(rows: i32): i32 {
  let budget = rows;
  while (phase != PHASE_DONE) {
    if (phase == PHASE_MARKERS) {
      const st = markers();
      if (st != OK) return st;
    } else if (phase == PHASE_SEQUENTIAL) {
      // An MCU row is transformed when it is put out or is the one above (the upsamplers read it).
      const first = firstMcuRow();
      for (; budget > 0 && nextRow < mcusY; budget--, nextRow++) {
        const st = sequentialRow(nextRow, nextRow + 1 >= first);
        if (st != OK) return st;
        if (nextRow > first) emit(nextRow - 1);
      }
      if (nextRow < mcusY) return IN_PROGRESS;
      emit(mcusY - 1);
      return endOfImageData();
    } else if (phase == PHASE_SCAN) {
      for (; budget > 0 && nextRow < unitsY; budget--, nextRow++) {
        const st = progressiveRow(nextRow);
        if (st != OK) return st;
      }
      if (nextRow < unitsY) return IN_PROGRESS;
      const st = endOfScan();
      if (st != OK) return st;
      phase = PHASE_MARKERS;
    } else if (phase == PHASE_OUTPUT) {
      const first = firstMcuRow();
      for (; budget > 0 && nextRow < mcusY; budget--, nextRow++) {
        if (nextRow + 1 >= first) coefficientRow(nextRow);
        if (nextRow > first) emit(nextRow - 1);
      }
      if (nextRow < mcusY) return IN_PROGRESS;
      emit(mcusY - 1);
      return OK;
    }
  }
  return BAD_STRUCTURE; // step() without begin(), or after the end
}

/**
 * Read marker segments up to the next entropy-coded data (switching to a scan phase) or the end of a
 * progressive image (switching to the output phase). Returns OK after a switch, else a status.
 */
function markers(): i32 {
  const end = inputEnd;
  let p = at;
  for (;;) {
    let m = pending;
    pending = 0;
    if (m == 0) {
      if (p >= end) return PREMATURE_END;
      if (load<u8>(p) != 0xff) return EXTRANEOUS_DATA;
      while (p < end && load<u8>(p) == 0xff) p++;
      if (p >= end) return PREMATURE_END;
      m = <i32>load<u8>(p++);
    }
    if (m == 0xd9 && progressive && scans > 0) return finishProgressive();
    if (m == 0xd8 || m == 0xd9) return BAD_STRUCTURE;
    if ((m >= 0xd0 && m <= 0xd7) || m == 0x01) return NOT_HANDLED;
    if (p + 2 > end) return PREMATURE_END;
    const length = be16(p);
    if (length < 2) return BAD_SEGMENT;
    if (p + <usize>length > end) return PREMATURE_END;
    const seg = p + 2;
    const segEnd = p + <usize>length;
    p = segEnd;
    let st = OK;
    if (m == 0xc0 || m == 0xc1) st = readFrame(seg, segEnd);
    else if (m == 0xc2) {
      st = readFrame(seg, segEnd);
      progressive = true;
    }
    else if (m == 0xc4) st = readHuffmanTables(seg, segEnd);
    else if (m == 0xdb) st = readQuantTables(seg, segEnd);
    else if (m == 0xdd) st = length == 4 ? ((restartInterval = be16(seg)), OK) : BAD_SEGMENT;
    else if (m == 0xe0) {
      // examine_app0: a JFIF marker needs at least 14 bytes of data.
      if (length - 2 >= 14 && load<u32>(seg) == 0x4649464a && load<u8>(seg + 4) == 0) jfif = true;
    } else if (m == 0xee) {
      // examine_app14: "Adobe" with at least 12 bytes of data; byte 11 is the colour transform.
      if (length - 2 >= 12 && load<u32>(seg) == 0x626f6441 && load<u8>(seg + 4) == 0x65) adobeTransform = <i32>load<u8>(seg + 11);
    } else if (m >= 0xc2 && m <= 0xcf) st = NOT_HANDLED; // progressive, lossless, arithmetic, hierarchical
    else if (m == 0xdc) st = NOT_HANDLED; // DNL: height defined after the scan
    else if (m == 0xda) return progressive ? progressiveScan(seg, segEnd, end, scale) : scan(seg, segEnd, end, scale);
    if (st != OK) return st;
  }
  return BAD_STRUCTURE;
}

function readFrame(p: usize, e: usize): i32 {
  if (nf != 0) return BAD_STRUCTURE;
  if (e - p < 6) return BAD_SEGMENT;
  if (load<u8>(p) != 8) return NOT_HANDLED; // 12-bit samples
  imgH = be16(p + 1);
  imgW = be16(p + 3);
  const n = <i32>load<u8>(p + 5);
  if (imgH == 0) return NOT_HANDLED; // height from a DNL marker
  if (imgW == 0 || n == 0) return BAD_SEGMENT;
  if (e - p != <usize>(6 + 3 * n)) return BAD_SEGMENT;
  if (n != 1 && n != 3) return NOT_HANDLED; // CMYK/YCCK, two-component
  for (let c = 0; c < n; c++) {
    const q = p + 6 + <usize>(3 * c);
    const hv = <i32>load<u8>(q + 1);
    const tq = <i32>load<u8>(q + 2);
    if (hv >> 4 < 1 || hv >> 4 > 4 || (hv & 15) < 1 || (hv & 15) > 4 || tq > 3) return BAD_SEGMENT;
    set(c, F_ID, <i32>load<u8>(q));
    // A single-component scan is non-interleaved: one block per MCU whatever the factors say.
    set(c, F_H, n == 1 ? 1 : hv >> 4);
    set(c, F_V, n == 1 ? 1 : hv & 15);
    set(c, F_TQ, tq);
  }
  nf = n;
  return OK;
}

function readHuffmanTables(p: usize, e: usize): i32 {
  while (p < e) {
    if (e - p < 17) return BAD_SEGMENT;
    const index = <i32>load<u8>(p);
    let count = 0;
    for (let i = 1; i <= 16; i++) count += <i32>load<u8>(p + <usize>i);
    if (count > 256 || e - p - 17 < <usize>count) return BAD_HUFFMAN_TABLE;
    const cls = index >> 4;
    const id = index & 15;
    if (cls > 1 || id > 3) return BAD_SEGMENT;
    defineTable(slot(cls, id), p + 1, p + 17, count);
    p += 17 + <usize>count;
  }
  return OK;
}

function readQuantTables(p: usize, e: usize): i32 {
  while (p < e) {
    const n = <i32>load<u8>(p++);
    const id = n & 15;
    const wide = n >> 4 != 0;
    if (id > 3) return BAD_SEGMENT;
    // libjpeg accepts a short last table (padding it); rare enough to leave to the fallback.
    const size: usize = wide ? 128 : 64;
    if (e - p < size) return NOT_HANDLED;
    const q = quant + (<usize>id << 8);
    for (let i = 0; i < 64; i++) {
      const v = wide ? be16(p + (<usize>i << 1)) : <i32>load<u8>(p + <usize>i);
      store<i32>(q + (<usize>load<u8>(NATURAL + <usize>i) << 2), v);
    }
    p += size;
    store<u8>(quantDefined + <usize>id, 1);
  }
  return OK;
}

function ceilDiv(a: i64, b: i64): i32 {
  return <i32>((a + b - 1) / b);
}

/** Read an SOS header: the scan's components (scanOrder, ns), their table slots, Ss/Se/Ah/Al. */
function readScanHeader(p: usize, e: usize): i32 {
  if (nf == 0) return BAD_STRUCTURE;
  ns = <i32>load<u8>(p);
  if (ns < 1 || ns > 4 || e - p != <usize>(4 + 2 * ns)) return BAD_SEGMENT;
  let seen = 0;
  for (let s = 0; s < ns; s++) {
    const cid = <i32>load<u8>(p + 1 + <usize>(2 * s));
    const t = <i32>load<u8>(p + 2 + <usize>(2 * s));
    let c = 0;
    while (c < nf && get(c, F_ID) != cid) c++;
    if (c == nf || (seen & (1 << c)) != 0) return BAD_SEGMENT;
    seen |= 1 << c;
    if (t >> 4 > 3 || (t & 15) > 3) return BAD_SEGMENT;
    store<u8>(scanOrder + <usize>s, <u8>c);
    set(c, F_DC, slot(0, t >> 4));
    set(c, F_AC, slot(1, t & 15));
  }
  ss = <i32>load<u8>(p + 1 + <usize>(2 * ns));
  se = <i32>load<u8>(p + 2 + <usize>(2 * ns));
  const ahal = <i32>load<u8>(p + 3 + <usize>(2 * ns));
  ah = ahal >> 4;
  al = ahal & 15;
  return OK;
}

/** default_decompress_parms: JFIF means YCbCr; Adobe transform 0 or R,G,B ids mean RGB (not handled). */
function rgbCoded(): bool {
  if (nf != 3) return false;
  const rgbIds = get(0, F_ID) == 82 && get(1, F_ID) == 71 && get(2, F_ID) == 66;
  return !jfif && (adobeTransform == 0 || (adobeTransform < 0 && rgbIds));
}

function scan(p: usize, e: usize, end: usize, denom: i32): i32 {
  const st = readScanHeader(p, e);
  if (st != OK) return st;
  // Interleaved scans with every component only; multi-scan sequential files go to the fallback.
  if (ns != nf) return NOT_HANDLED;
  if (ss != 0 || se != 63 || ah != 0 || al != 0) return NOT_HANDLED;
  if (rgbCoded()) return NOT_HANDLED;
  for (let c = 0; c < nf; c++) {
    // Files without tables (Motion-JPEG frames) rely on libjpeg's defaults: left to the fallback.
    if (!tableDefined(get(c, F_DC)) || !tableDefined(get(c, F_AC))) return NOT_HANDLED;
    if (load<u8>(quantDefined + <usize>get(c, F_TQ)) == 0) return BAD_STRUCTURE;
  }
  for (let c = 0; c < nf; c++) {
    if (deriveTable(get(c, F_DC), true) != OK || deriveTable(get(c, F_AC), false) != OK) return BAD_HUFFMAN_TABLE;
  }
  const g = setupFrame(denom);
  if (g != OK) return g;
  startBits(e, end);
  clearBlock();
  startRestarts();
  nextRow = 0;
  phase = PHASE_SEQUENTIAL;
  return OK;
}

/**
 * Geometry (jdmaster.c / jdinput.c / jdsample.c) and every buffer the image needs, reserved before
 * any entropy-coded data is read: component planes, upsampling rows, the RGBA output and, for
 * progressive files, the coefficient buffer.
 */
function setupFrame(denom: i32): i32 {
  maxH = 1;
  maxV = 1;
  let mcuBlocks = 0;
  for (let c = 0; c < nf; c++) {
    maxH = max(maxH, get(c, F_H));
    maxV = max(maxV, get(c, F_V));
    mcuBlocks += get(c, F_H) * get(c, F_V);
  }
  if (mcuBlocks > 10) return BAD_SEGMENT; // D_MAX_BLOCKS_IN_MCU
  for (let c = 0; c < nf; c++) {
    if (maxH % get(c, F_H) != 0 || maxV % get(c, F_V) != 0) return NOT_HANDLED;
  }
  const minS = 8 / denom;
  outW = ceilDiv(imgW, denom);
  outH = ceilDiv(imgH, denom);
  mcuOutRows = maxV * minS;
  mcusX = ceilDiv(imgW, 8 * maxH);
  mcusY = ceilDiv(imgH, 8 * maxV);
  outRing = ringMcuRows > 0 ? min(outH, ringMcuRows * mcuOutRows) : outH;
  let bytes: u64 = <u64>outW * <u64>outRing * 4 + 4096;
  for (let c = 0; c < nf; c++) {
    const h = get(c, F_H), v = get(c, F_V);
    // Scale chroma up in the IDCT rather than in the upsampler where the ratios allow it.
    let ssize = minS;
    while (ssize < 8 && (maxH * minS) % (h * ssize * 2) == 0 && (maxV * minS) % (v * ssize * 2) == 0) ssize *= 2;
    set(c, F_SSIZE, ssize);
    set(c, F_BW, mcusX * h);
    set(c, F_BH, mcusY * v);
    set(c, F_STRIDE, mcusX * h * ssize);
    set(c, F_RING, 3 * v * ssize);
    const dw = ceilDiv(<i64>imgW * h * ssize, maxH * 8);
    const dh = ceilDiv(<i64>imgH * v * ssize, maxV * 8);
    set(c, F_DW, dw);
    set(c, F_DH, dh);
    const hin = h * ssize / minS, vin = v * ssize / minS;
    const fancy = minS > 1;
    let method = REPLICATE;
    if (hin == maxH && vin == maxV) method = FULLSIZE;
    else if (hin * 2 == maxH && vin == maxV) method = fancy && dw > 2 ? H2V1_FANCY : REPLICATE;
    else if (hin == maxH && vin * 2 == maxV && fancy) method = H1V2_FANCY;
    else if (hin * 2 == maxH && vin * 2 == maxV) method = fancy && dw > 2 ? H2V2_FANCY : REPLICATE;
    else if (maxH % hin != 0 || maxV % vin != 0) return NOT_HANDLED;
    set(c, F_METHOD, method);
    set(c, F_HEXP, maxH / hin);
    set(c, F_VEXP, maxV / vin);
    bytes += <u64>(mcusX * h * ssize) * <u64>(3 * v * ssize) + <u64>(outW + 2 * dw) + 256;
    if (progressive) bytes += <u64>(mcusX * h) * <u64>(mcusY * v) * 128 + 16;
  }
  // Reserve everything up front: a failed grow is a status, never a trap halfway through.
  const at = alloc(0);
  const need = <u64>at + bytes + 65536;
  if (need > 0xffff0000) return OUT_OF_MEMORY;
  const have = <u64>memory.size() << 16;
  if (need > have && memory.grow(<i32>((need - have + 65535) >> 16)) < 0) return OUT_OF_MEMORY;
  for (let c = 0; c < nf; c++) {
    set(c, F_PLANE, <i32>alloc(<usize>get(c, F_STRIDE) * <usize>get(c, F_RING)));
    set(c, F_ROW, <i32>alloc(<usize>(outW + 2 * get(c, F_DW))));
    set(c, F_LASTDC, 0);
    if (progressive) {
      // Memory is reused between decodes: blocks no scan reaches must still read as zero.
      const n = <usize>(get(c, F_BW) * get(c, F_BH)) << 7;
      const coef = alloc(n);
      memory.fill(coef, 0, n);
      set(c, F_COEF, <i32>coef);
    }
  }
  out = alloc(<usize>outW * <usize>outRing * 4);
  return OK;
}

// ---- Progressive scans (jdphuff.c, jdinput.c). ----

/** Check a scan's parameters against libjpeg's rules and against the scans before it. */
function checkProgression(): i32 {
  // start_pass_phuff_decoder: DC scans are band 0 alone; AC bands are one component's 1..63.
  const dcBand = ss == 0;
  let bad = dcBand ? se != 0 : ss > se || se > 63 || ns != 1;
  if (ah != 0 && al != ah - 1) bad = true;
  if (al > 13) bad = true;
  if (bad) return BAD_SCAN_PARAMETERS;
  for (let s = 0; s < ns; s++) {
    const c = <i32>load<u8>(scanOrder + <usize>s);
    const bits = coefBits + <usize>(c * 64);
    problemComponent = get(c, F_ID);
    // An AC band before the component's DC scan, or an Ah other than the last Al for a coefficient:
    // libjpeg warns "inconsistent progression sequence" and decodes on; imgpipe refuses the file.
    if (!dcBand && load<i8>(bits) < 0) {
      problemCoefficient = 0;
      problemExpected = -1;
      return BAD_PROGRESSION;
    }
    for (let k = ss; k <= se; k++) {
      const was = <i32>load<i8>(bits + <usize>k);
      const expected = was < 0 ? 0 : was;
      if (ah != expected) {
        problemCoefficient = k;
        problemExpected = expected;
        return BAD_PROGRESSION;
      }
      store<i8>(bits + <usize>k, <i8>al);
    }
  }
  return OK;
}

function progressiveScan(p: usize, e: usize, end: usize, denom: i32): i32 {
  let st = readScanHeader(p, e);
  if (st != OK) return st;
  if (scans == 0) {
    if (rgbCoded()) return NOT_HANDLED;
    st = setupFrame(denom);
    if (st != OK) return st;
  }
  scans++;
  st = checkProgression();
  if (st != OK) return st;
  const dcBand = ss == 0;
  for (let s = 0; s < ns; s++) {
    const c = <i32>load<u8>(scanOrder + <usize>s);
    if (load<u8>(latched + <usize>c) == 0) {
      const tq = <usize>get(c, F_TQ);
      if (load<u8>(quantDefined + tq) == 0) return BAD_STRUCTURE;
      memory.copy(latchedQuant + (<usize>c << 8), quant + (tq << 8), 256);
      store<u8>(latched + <usize>c, 1);
    }
    // DC refinement reads raw bits only; every other scan needs its table (defaults: fallback).
    if (dcBand && ah == 0) {
      if (!tableDefined(get(c, F_DC))) return NOT_HANDLED;
      if (deriveTable(get(c, F_DC), true) != OK) return BAD_HUFFMAN_TABLE;
    } else if (!dcBand) {
      if (!tableDefined(get(c, F_AC))) return NOT_HANDLED;
      if (deriveTable(get(c, F_AC), false) != OK) return BAD_HUFFMAN_TABLE;
    }
    set(c, F_LASTDC, 0);
  }

  // A scan of one component is non-interleaved: one block per MCU over the component's own blocks.
  scanC0 = <i32>load<u8>(scanOrder);
  unitsX = ns == 1 ? ceilDiv(<i64>imgW * get(scanC0, F_H), maxH * 8) : mcusX;
  unitsY = ns == 1 ? ceilDiv(<i64>imgH * get(scanC0, F_V), maxV * 8) : mcusY;
  scanKind = dcBand ? (ah == 0 ? 0 : 1) : (ah == 0 ? 2 : 3);
  startBits(e, end);
  resetEobrun();
  startRestarts();
  nextRow = 0;
  phase = PHASE_SCAN;
  return OK;
}

// The progressive scan in progress: its first component, units per row and column, and its type
// (0 DC first, 1 DC refinement, 2 AC first, 3 AC refinement).
let scanC0 = 0;
let unitsX = 0;
let unitsY = 0;
let scanKind = 0;

/** One row of units of the current progressive scan. */
function progressiveRow(my: i32): i32 {
  const c0 = scanC0, kind = scanKind;
  const ac = derivedTable(get(c0, F_AC));
  const end = inputEnd;
  if (kind >= 2) {
    // AC scans (one component): the blocks up to the next restart marker in one call, which keeps
    // the bit reader in registers across them and stops at the first damaged block.
    for (let mx = 0; mx < unitsX;) {
      const st = countRestart(end);
      if (st != OK) return st;
      let n = unitsX - mx;
      if (restartInterval != 0 && n > restartsLeft + 1) n = restartsLeft + 1;
      restartsLeft -= n - 1;
      const blk = <usize>get(c0, F_COEF) + (<usize>(my * get(c0, F_BW) + mx) << 7);
      if (kind == 2) decodeAcFirstRun(blk, n, ac, ss, se, al);
      else decodeAcRefineRun(blk, n, ac, ss, se, al);
      if (error != OK) return error;
      if (overrun()) return PREMATURE_END;
      mx += n;
    }
    return OK;
  }
  for (let mx = 0; mx < unitsX; mx++) {
    const st = countRestart(end);
    if (st != OK) return st;
    if (ns == 1) {
      const blk = <usize>get(c0, F_COEF) + (<usize>(my * get(c0, F_BW) + mx) << 7);
      if (kind == 0) set(c0, F_LASTDC, decodeDcFirst(blk, derivedTable(get(c0, F_DC)), get(c0, F_LASTDC), al));
      else decodeDcRefine(blk, al);
    } else {
      for (let s = 0; s < ns; s++) {
        const c = <i32>load<u8>(scanOrder + <usize>s);
        const h = get(c, F_H), v = get(c, F_V), bw = get(c, F_BW);
        const coef = <usize>get(c, F_COEF);
        const dc = derivedTable(get(c, F_DC));
        let lastDc = get(c, F_LASTDC);
        for (let by = 0; by < v; by++) {
          for (let bx = 0; bx < h; bx++) {
            const blk = coef + (<usize>((my * v + by) * bw + mx * h + bx) << 7);
            if (kind == 0) lastDc = decodeDcFirst(blk, dc, lastDc, al);
            else decodeDcRefine(blk, al);
          }
        }
        set(c, F_LASTDC, lastDc);
      }
    }
    // A bad code usually runs the reader off the end of the data too: report the first damage.
    if (error != OK) return error;
    if (overrun()) return PREMATURE_END;
  }
  return OK;
}

/** After a progressive scan's last unit: the marker that ends it is handled next. */
function endOfScan(): i32 {
  if (leftoverBytes() > 0) return EXTRANEOUS_DATA;
  const m = nextMarker();
  if (m == END_OF_INPUT) return MISSING_EOI;
  if (m == 0) return EXTRANEOUS_DATA;
  pending = m;
  at = inputPosition();
  return OK;
}

/**
 * At EOI: every coefficient of every component must have been coded to its last bit (libjpeg shows a
 * partial progression, smoothed, with no error; imgpipe refuses it), then IDCT and colour as baseline.
 */
function finishProgressive(): i32 {
  for (let i = 0; i < nf * 64; i++) if (load<i8>(coefBits + <usize>i) != 0) return INCOMPLETE_PROGRESSION;
  nextRow = 0;
  phase = PHASE_OUTPUT;
  return OK;
}

/**
 * A zig-zag ordered block (`src`) to natural order (`dst`) in eight v128 loads and stores rather than
 * 64 scalar moves: each natural row gathers its lanes from the 3-5 zig-zag vectors holding them (a
 * swizzle index of -1 gives a zero lane to OR in). The indices follow NATURAL (huffman.ts).
 */
// @ts-ignore: decorator
@inline function zigzagToNatural(src: usize, dst: usize): void {
  const z0 = v128.load(src, 0);
  const z1 = v128.load(src, 16);
  const z2 = v128.load(src, 32);
  const z3 = v128.load(src, 48);
  const z4 = v128.load(src, 64);
  const z5 = v128.load(src, 80);
  const z6 = v128.load(src, 96);
  const z7 = v128.load(src, 112);
  let r: v128;
  r = i8x16.swizzle(z0, i8x16(0, 1, 2, 3, 10, 11, 12, 13, -1, -1, -1, -1, -1, -1, -1, -1));
  r = v128.or(r, i8x16.swizzle(z1, i8x16(-1, -1, -1, -1, -1, -1, -1, -1, 12, 13, 14, 15, -1, -1, -1, -1)));
  r = v128.or(r, i8x16.swizzle(z3, i8x16(-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 6, 7, 8, 9)));
  v128.store(dst, r, 0);
  r = i8x16.swizzle(z0, i8x16(4, 5, 8, 9, 14, 15, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1));
  r = v128.or(r, i8x16.swizzle(z1, i8x16(-1, -1, -1, -1, -1, -1, 10, 11, -1, -1, -1, -1, -1, -1, -1, -1)));
  r = v128.or(r, i8x16.swizzle(z2, i8x16(-1, -1, -1, -1, -1, -1, -1, -1, 0, 1, -1, -1, -1, -1, -1, -1)));
  r = v128.or(r, i8x16.swizzle(z3, i8x16(-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 4, 5, 10, 11, -1, -1)));
  r = v128.or(r, i8x16.swizzle(z5, i8x16(-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 4, 5)));
  v128.store(dst, r, 16);
  r = i8x16.swizzle(z0, i8x16(6, 7, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1));
  r = v128.or(r, i8x16.swizzle(z1, i8x16(-1, -1, 0, 1, 8, 9, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1)));
  r = v128.or(r, i8x16.swizzle(z2, i8x16(-1, -1, -1, -1, -1, -1, 2, 3, -1, -1, -1, -1, -1, -1, -1, -1)));
  r = v128.or(r, i8x16.swizzle(z3, i8x16(-1, -1, -1, -1, -1, -1, -1, -1, 2, 3, 12, 13, -1, -1, -1, -1)));
  r = v128.or(r, i8x16.swizzle(z5, i8x16(-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 2, 3, 6, 7)));
  v128.store(dst, r, 32);
  r = i8x16.swizzle(z1, i8x16(2, 3, 6, 7, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1));
  r = v128.or(r, i8x16.swizzle(z2, i8x16(-1, -1, -1, -1, 4, 5, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1)));
  r = v128.or(r, i8x16.swizzle(z3, i8x16(-1, -1, -1, -1, -1, -1, 0, 1, 14, 15, -1, -1, -1, -1, -1, -1)));
  r = v128.or(r, i8x16.swizzle(z5, i8x16(-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 0, 1, 8, 9, -1, -1)));
  r = v128.or(r, i8x16.swizzle(z6, i8x16(-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 10, 11)));
  v128.store(dst, r, 48);
  r = i8x16.swizzle(z1, i8x16(4, 5, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1));
  r = v128.or(r, i8x16.swizzle(z2, i8x16(-1, -1, 6, 7, 14, 15, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1)));
  r = v128.or(r, i8x16.swizzle(z4, i8x16(-1, -1, -1, -1, -1, -1, 0, 1, 14, 15, -1, -1, -1, -1, -1, -1)));
  r = v128.or(r, i8x16.swizzle(z5, i8x16(-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 10, 11, -1, -1, -1, -1)));
  r = v128.or(r, i8x16.swizzle(z6, i8x16(-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 8, 9, 12, 13)));
  v128.store(dst, r, 64);
  r = i8x16.swizzle(z2, i8x16(8, 9, 12, 13, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1));
  r = v128.or(r, i8x16.swizzle(z4, i8x16(-1, -1, -1, -1, 2, 3, 12, 13, -1, -1, -1, -1, -1, -1, -1, -1)));
  r = v128.or(r, i8x16.swizzle(z5, i8x16(-1, -1, -1, -1, -1, -1, -1, -1, 12, 13, -1, -1, -1, -1, -1, -1)));
  r = v128.or(r, i8x16.swizzle(z6, i8x16(-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 6, 7, 14, 15, -1, -1)));
  r = v128.or(r, i8x16.swizzle(z7, i8x16(-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 8, 9)));
  v128.store(dst, r, 80);
  r = i8x16.swizzle(z2, i8x16(10, 11, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1));
  r = v128.or(r, i8x16.swizzle(z4, i8x16(-1, -1, 4, 5, 10, 11, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1)));
  r = v128.or(r, i8x16.swizzle(z5, i8x16(-1, -1, -1, -1, -1, -1, 14, 15, -1, -1, -1, -1, -1, -1, -1, -1)));
  r = v128.or(r, i8x16.swizzle(z6, i8x16(-1, -1, -1, -1, -1, -1, -1, -1, 4, 5, -1, -1, -1, -1, -1, -1)));
  r = v128.or(r, i8x16.swizzle(z7, i8x16(-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 0, 1, 6, 7, 10, 11)));
  v128.store(dst, r, 96);
  r = i8x16.swizzle(z4, i8x16(6, 7, 8, 9, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1));
  r = v128.or(r, i8x16.swizzle(z6, i8x16(-1, -1, -1, -1, 0, 1, 2, 3, -1, -1, -1, -1, -1, -1, -1, -1)));
  r = v128.or(r, i8x16.swizzle(z7, i8x16(-1, -1, -1, -1, -1, -1, -1, -1, 2, 3, 4, 5, 12, 13, 14, 15)));
  v128.store(dst, r, 112);
}

/** A progressive image's MCU row `my`: its coefficient blocks through the IDCT into the planes' ring. */
function coefficientRow(my: i32): void {
  for (let c = 0; c < nf; c++) {
    const ssize = get(c, F_SSIZE), stride = <usize>get(c, F_STRIDE), bw = get(c, F_BW), v = get(c, F_V);
    const q = latchedQuant + (<usize>c << 8);
    const plane = <usize>get(c, F_PLANE) + <usize>((my % 3) * v * ssize) * stride;
    let blk = <usize>get(c, F_COEF) + (<usize>(my * v * bw) << 7);
    for (let by = 0; by < v; by++) {
      for (let bx = 0; bx < bw; bx++, blk += 128) {
        // Coefficients are stored in zig-zag order (huffman.ts): back to natural order for the IDCT.
        zigzagToNatural(blk, block);
        const o = plane + <usize>(by * ssize) * stride + <usize>(bx * ssize);
        idct(ssize, block, q, o, stride);
      }
    }
  }
}

function clearBlock(): void {
  const z = v128.splat<i32>(0);
  for (let i: usize = 0; i < 128; i += 16) v128.store(block + i, z);
}

function restart(expected: i32, end: usize): i32 {
  if (leftoverBytes() > 0) return EXTRANEOUS_DATA;
  const m = nextMarker();
  if (m == END_OF_INPUT) return PREMATURE_END;
  if (m == 0) return EXTRANEOUS_DATA;
  if (m != 0xd0 + expected) return BAD_RESTART;
  startBits(inputPosition(), end);
  for (let c = 0; c < nf; c++) set(c, F_LASTDC, 0);
  resetEobrun();
  return OK;
}

let restartsLeft = 0;
let nextRst = 0;

function startRestarts(): void {
  restartsLeft = restartInterval;
  nextRst = 0;
}

/** Before each MCU: at the end of a restart interval, expect the next RSTn and reset the predictors. */
function countRestart(end: usize): i32 {
  if (restartInterval == 0) return OK;
  if (restartsLeft == 0) {
    const st = restart(nextRst, end);
    if (st != OK) return st;
    nextRst = (nextRst + 1) & 7;
    restartsLeft = restartInterval;
  }
  restartsLeft--;
  return OK;
}

/** The IDCT for a component's scaled block size (8: full, 4, 2, 1: libjpeg's reduced transforms). */
// @ts-ignore: decorator
@inline function idct(ssize: i32, blk: usize, q: usize, o: usize, stride: usize): void {
  if (ssize == 8) idctIslow(blk, q, o, stride);
  else if (ssize == 4) idct4x4(blk, q, o, stride);
  else if (ssize == 2) idct2x2(blk, q, o, stride);
  else idct1x1(blk, q, o);
}

/** MCU row `my` of a sequential scan: Huffman decoding and IDCT into the planes' ring. */
function sequentialRow(my: i32, transform: bool): i32 {
  const end = inputEnd;
  const slot = my % 3;
  for (let mx = 0; mx < mcusX; mx++) {
    const st = countRestart(end);
    if (st != OK) return st;
    for (let s = 0; s < ns; s++) {
      const c = <i32>load<u8>(scanOrder + <usize>s);
      const h = get(c, F_H), v = get(c, F_V), ssize = get(c, F_SSIZE), stride = <usize>get(c, F_STRIDE);
      const dc = derivedTable(get(c, F_DC)), ac = derivedTable(get(c, F_AC));
      const q = quant + (<usize>get(c, F_TQ) << 8);
      const plane = <usize>get(c, F_PLANE);
      let lastDc = get(c, F_LASTDC);
      for (let by = 0; by < v; by++) {
        for (let bx = 0; bx < h; bx++) {
          lastDc = decodeBlock(block, dc, ac, lastDc);
          if (transform) idct(ssize, block, q, plane + <usize>((slot * v + by) * ssize) * stride + <usize>((mx * h + bx) * ssize), stride);
          clearBlock();
        }
      }
      set(c, F_LASTDC, lastDc);
    }
    if (overrun()) return PREMATURE_END;
    if (error != OK) return error;
  }
  return OK;
}

/** After a sequential scan's last MCU: only EOI may follow. */
function endOfImageData(): i32 {
  if (leftoverBytes() > 0) return EXTRANEOUS_DATA;
  const m = nextMarker();
  if (m == 0xd9) return OK;
  if (m == END_OF_INPUT) return MISSING_EOI;
  if (m == 0) return EXTRANEOUS_DATA;
  return NOT_HANDLED; // more scans or markers after the image: let the fallback judge them
}

/** The output rows of MCU row `m` (the planes' ring holds the rows above and below it). */
function emit(m: i32): void {
  const y1 = min(outH, (m + 1) * mcuOutRows);
  for (let y = m * mcuOutRows; y < y1; y++) {
    const o = out + <usize>(y % outRing) * <usize>outW * 4;
    const r0 = row(0, y);
    if (nf == 1) greyRow(r0, o, outW);
    else yccRow(r0, row(1, y), row(2, y), o, outW);
  }
  emitted = y1;
}

function row(c: i32, y: i32): usize {
  return upsampleRow(
    <usize>get(c, F_PLANE), get(c, F_STRIDE), get(c, F_RING), get(c, F_DW), get(c, F_DH), get(c, F_METHOD),
    get(c, F_HEXP), get(c, F_VEXP), <usize>get(c, F_ROW), y, outW,
  );
}
