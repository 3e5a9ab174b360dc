/**
 * Lossless JPEG (ITU T.81 Annex H, process 14: SOF3, Huffman-coded), decoded in TypeScript: the
 * files are rare (medical and scientific imaging), have no DCT to share with `wasm/jpegdec`, and a
 * sample costs one Huffman code, its extra bits and one prediction, which V8 runs fast enough
 * (bench/lossless-jpeg.ts). Debian's libjpeg-turbo 2.1.5 (the fallback) has no lossless decoding;
 * libjpeg-turbo 3 (sharp) has, and this decoder follows it: predictors 1-7, the point transform,
 * restart intervals, the same colour-space guess (no JFIF or Adobe marker means RGB, T.81 H.1.1
 * leaves lossless colour untransformed), YCbCr converted with libjpeg's tables.
 * Samples of 2-16 bits are brought to 8 by rounding v * 255 / (2^P - 1) (identity at 8 bits), so a
 * 12- or 16-bit file shows its full range; sharp refuses every precision but 8.
 * Not decoded, refused by name: subsampled components (every component sampled 1x1, or one
 * component), 2 or 4 components, the arithmetic-coded SOF11 (`jpeg-frame.ts`).
 */
import { ImgpipeError } from '../errors.js';
import { asImage, type RGBAImage } from '../image.js';
import type { ImageHeader } from '../header.js';
import { refuses, type FailOn } from '../fail-on.js';

/**
 * A DHT table ready for decoding. `fast` is looked up with the next FAST_BITS bits: when a code and
 * its extra bits fit in them, the entry is (difference << 5) | bits used, done in one step (most
 * samples of a photo or scan); 0 sends the decoder to libjpeg's maxcode/valoffset search.
 */
interface HuffTable {
  readonly fast: Int32Array;
  /** (code length << 8) | category for each FAST_BITS prefix starting with a code that short; 0 otherwise. */
  readonly codes: Int32Array;
  /** Largest code of each length 1-16, -1 when none; [17] is a sentinel. */
  readonly maxcode: Int32Array;
  /** Index in `values` of the first code of each length, minus that code. */
  readonly valoffset: Int32Array;
  readonly values: Uint8Array;
}

const FAST_BITS = 11;

/** A difference (T.81 H.1.2.2) from its category `s` and its `s` extra bits `v`; 16 is 32768. */
function extend(s: number, v: number): number {
  if (s === 16) return 32768;
  return s === 0 ? 0 : v < 1 << (s - 1) ? v - (1 << s) + 1 : v;
}

interface Component { readonly id: number; readonly h: number; readonly v: number }

/** Damage a decoder goes on through (libjpeg's warnings), worded as libjpeg words them. */
const WARNINGS = {
  badCode: 'Corrupt JPEG data: bad Huffman code',
  premature: 'Corrupt JPEG data: premature end of data segment',
  restart: 'Corrupt JPEG data: restart marker missing or out of sequence',
  extraneous: 'Corrupt JPEG data: extraneous bytes where a marker belongs',
} as const;

function corrupt(what: string): ImgpipeError {
  return new ImgpipeError('CORRUPT_IMAGE', `Expected a valid lossless JPEG but ${what}`);
}

function unsupported(what: string): ImgpipeError {
  return new ImgpipeError('UNSUPPORTED_FORMAT', `Expected a lossless JPEG imgpipe can decode but ${what}`, { details: { received: what } });
}

/** Build a decoding table from a DHT's 16 counts and its symbols (libjpeg's jpeg_make_d_derived_tbl). */
function buildTable(counts: Uint8Array, values: Uint8Array, id: number): HuffTable {
  for (let i = 0; i < values.length; i++) {
    if (values[i] > 16) throw corrupt(`Huffman table ${id} has the difference category ${values[i]} (allowed 0-16 in a lossless scan)`);
  }
  const fast = new Int32Array(1 << FAST_BITS);
  const codes = new Int32Array(1 << FAST_BITS);
  const maxcode = new Int32Array(18).fill(-1);
  const valoffset = new Int32Array(18);
  let code = 0, k = 0;
  for (let len = 1; len <= 16; len++) {
    const n = counts[len - 1];
    valoffset[len] = k - code;
    for (let i = 0; i < n; i++, k++, code++) {
      const sym = values[k];
      const extra = sym === 16 ? 0 : sym;
      if (len <= FAST_BITS) codes.fill((len << 8) | sym, code << (FAST_BITS - len), (code + 1) << (FAST_BITS - len));
      if (len + extra > FAST_BITS) continue;
      // Every completion of code + extra bits to FAST_BITS bits decodes to the same difference.
      const free = FAST_BITS - len - extra;
      for (let v = 0; v < 1 << extra; v++) {
        const entry = (extend(sym, v) << 5) | (len + extra);
        const first = ((code << extra) | v) << free;
        fast.fill(entry, first, first + (1 << free));
      }
    }
    if (n) maxcode[len] = code - 1;
    // A code space overfull at this length (libjpeg's "Bogus Huffman table definition").
    if (code > 1 << len) throw corrupt(`Huffman table ${id} defines more codes of ${len} bits than fit (${code} > ${1 << len})`);
    code <<= 1;
  }
  maxcode[17] = 0x7fffffff;
  return { fast, codes, maxcode, valoffset, values };
}

/**
 * A scan's entropy-coded data, unstuffed (FF 00 is FF, fill bytes dropped), cut at its restart
 * markers: interval k is data[starts[k], starts[k + 1]), followed by the RSTn in rst[k] (-1 for
 * none). Reading it needs no marker checks; eight zero bytes after the last interval stand for
 * the zero bits libjpeg reads past a marker. `end` is where the scan ends in the file (its next
 * marker, or the file's end).
 */
interface ScanData {
  readonly data: Uint8Array;
  readonly starts: number[];
  readonly rst: number[];
  readonly end: number;
}

function unstuff(b: Uint8Array, pos: number): ScanData {
  const data = new Uint8Array(b.length - pos + 8);
  const starts = [0], rst: number[] = [];
  let n = 0, p = pos;
  while (p < b.length) {
    // The bytes up to the next FF are data as they are: copied in one go.
    let ff = b.indexOf(0xff, p);
    if (ff < 0) ff = b.length;
    data.set(b.subarray(p, ff), n);
    n += ff - p;
    p = ff;
    if (p >= b.length) break;
    let q = p + 1;
    while (q < b.length && b[q] === 0xff) q++;
    if (q >= b.length) { p = b.length; break; }
    const m = b[q];
    if (m === 0x00) { data[n++] = 0xff; p = q + 1; continue; }
    if (m >= 0xd0 && m <= 0xd7) {
      rst.push(m - 0xd0);
      starts.push(n);
      p = q + 1;
      continue;
    }
    p = q - 1; // another marker: the scan ends on its FF
    break;
  }
  rst.push(-1);
  starts.push(n);
  return { data, starts, rst, end: p };
}

export interface Frame {
  readonly precision: number;
  readonly width: number;
  readonly height: number;
  readonly components: readonly Component[];
}

/** What the markers before and between scans said. */
interface State {
  frame?: Frame;
  readonly tables: (HuffTable | undefined)[];
  restartInterval: number;
  jfif: boolean;
  adobeTransform?: number;
  /** Each component's samples as decoded, before the point transform's shift. */
  planes?: Uint16Array[];
  /** Each decoded component's point transform (Pt, from its scan). */
  readonly pt: Map<number, number>;
}

function u16(b: Uint8Array, o: number): number {
  return (b[o] << 8) | b[o + 1];
}

function readFrame(seg: Uint8Array): Frame {
  const precision = seg[0];
  if (precision < 2 || precision > 16) throw corrupt(`its frame declares ${precision}-bit samples (allowed 2-16)`);
  const height = u16(seg, 1), width = u16(seg, 3), n = seg[5];
  if (width === 0 || height === 0) throw unsupported(`its frame declares ${width}x${height} pixels (a height set later by a DNL marker is not supported)`);
  if (n !== 1 && n !== 3) throw unsupported(`the frame has ${n} components (allowed: 1 grey, 3 RGB or YCbCr)`);
  if (seg.length < 6 + 3 * n) throw corrupt(`its frame header is ${seg.length + 2} bytes, too short for ${n} components`);
  const components: Component[] = [];
  for (let i = 0; i < n; i++) {
    const o = 6 + 3 * i;
    const h = seg[o + 1] >> 4, v = seg[o + 1] & 15;
    if (h < 1 || h > 4 || v < 1 || v > 4) throw corrupt(`component ${i + 1} has sampling factors ${h}x${v} (allowed 1-4 each)`);
    // One component is read whole whatever its factors; several must all be 1x1 (no subsampling).
    if (n > 1 && (h !== 1 || v !== 1)) throw unsupported(`component ${i + 1} is sampled ${h}x${v} (subsampled lossless JPEG is not supported: every component must be 1x1)`);
    components.push({ id: seg[o], h, v });
  }
  return { precision, width, height, components };
}

function readTables(seg: Uint8Array, tables: (HuffTable | undefined)[]): void {
  let o = 0;
  while (o < seg.length) {
    if (o + 17 > seg.length) throw corrupt(`a Huffman table definition ends after ${seg.length - o} bytes (17 needed before its symbols)`);
    const tc = seg[o] >> 4, th = seg[o] & 15;
    if (tc > 1 || th > 3) throw corrupt(`a Huffman table is class ${tc} number ${th} (allowed class 0-1, number 0-3)`);
    const counts = seg.subarray(o + 1, o + 17);
    let total = 0;
    for (let i = 0; i < 16; i++) total += counts[i];
    if (o + 17 + total > seg.length) throw corrupt(`Huffman table ${th} declares ${total} symbols but its segment holds ${seg.length - o - 17}`);
    // Lossless scans use the DC (class 0) tables; a class 1 table is read and kept apart.
    if (tc === 0) tables[th] = buildTable(counts, seg.slice(o + 17, o + 17 + total), th);
    o += 17 + total;
  }
}

/** Decode one scan starting at `pos` (just after its header); returns where its entropy-coded data ends. */
function decodeScan(b: Uint8Array, pos: number, seg: Uint8Array, s: State, warn: (w: string) => void): number {
  const frame = s.frame;
  if (!frame) throw corrupt('a scan starts before the frame header');
  const ns = seg[0];
  if (ns < 1 || ns > frame.components.length || seg.length < 1 + 2 * ns + 3) throw corrupt(`a scan has ${ns} components (allowed 1-${frame.components.length})`);
  const comps: number[] = [];
  const tabs: HuffTable[] = [];
  for (let i = 0; i < ns; i++) {
    const id = seg[1 + 2 * i];
    const ci = frame.components.findIndex((c) => c.id === id);
    if (ci < 0 || comps.includes(ci)) throw corrupt(`a scan names component id ${id}, which the frame does not declare (or the scan names twice)`);
    const th = seg[2 + 2 * i] >> 4;
    const table = th < 4 ? s.tables[th] : undefined;
    if (!table) throw corrupt(`a scan uses Huffman table ${th}, which no DHT segment defines`);
    comps.push(ci);
    tabs.push(table);
  }
  const psv = seg[1 + 2 * ns], se = seg[2 + 2 * ns], ah = seg[3 + 2 * ns] >> 4, pt = seg[3 + 2 * ns] & 15;
  if (psv < 1 || psv > 7) throw corrupt(`its scan selects predictor ${psv} (Ss; allowed 1-7)`);
  if (se !== 0 || ah !== 0) throw corrupt(`its scan has Se=${se} Ah=${ah} (both must be 0 in a lossless scan)`);
  if (pt >= frame.precision) throw corrupt(`its scan has point transform ${pt} (Al; allowed 0-${frame.precision - 1} for ${frame.precision}-bit samples)`);
  const { width, height } = frame;
  // Restart intervals count MCUs (one sample of each scan component); T.81 H.2 makes them whole rows.
  const ri = s.restartInterval;
  if (ri % width !== 0) throw unsupported(`its restart interval is ${ri} samples, not a whole number of ${width}-sample rows (T.81 H.2)`);
  const rowsPerInterval = ri / width;
  s.planes ??= frame.components.map(() => new Uint16Array(width * height));
  const planes = comps.map((c) => s.planes![c]);
  const scan = unstuff(b, pos);
  decodeSamples(scan, tabs, planes, width, height, rowsPerInterval, psv, 1 << (frame.precision - pt - 1), warn);
  for (const c of comps) s.pt.set(c, pt);
  return scan.end;
}

/**
 * Every sample of a scan's components: each is its prediction plus the decoded difference, modulo
 * 2^16 (T.81 H.1.2.1: the first row of a restart interval predicts from the left, starting at
 * `initial` = 2^(P-Pt-1); the first column from above). Interleaved components take one sample each
 * per pixel, in scan order. The bit buffer lives in locals: this loop is the decoder's time.
 */
function decodeSamples(scan: ScanData, tabs: HuffTable[], planes: Uint16Array[], width: number, height: number, rowsPerInterval: number, psv: number, initial: number, warn: (w: string) => void): void {
  const { data, starts, rst } = scan;
  const end = data.length;
  const n = planes.length;
  let buf = 0, count = 0, p = 0, interval = 0, limit = starts[1], premature = false;
  for (let y = 0; y < height; y++) {
    const first = rowsPerInterval === 0 ? y === 0 : y % rowsPerInterval === 0;
    if (first && y > 0) {
      // Bits read past this interval's data were zeros libjpeg would have inserted at the marker.
      if (!premature && (p - limit) * 8 > count) warn(WARNINGS.premature);
      premature = false;
      if (rst[interval] !== (interval & 7)) warn(WARNINGS.restart);
      interval++;
      // Past the last interval (markers missing): zero bits from the end of the data.
      p = interval < starts.length - 1 ? starts[interval] : starts[starts.length - 1];
      limit = interval < starts.length - 1 ? starts[interval + 1] : p;
      buf = 0;
      count = 0;
    }
    const row = y * width, above = row - width;
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < n; c++) {
        // The next difference: one lookup for a short code and its extra bits, else the long search.
        if (count < 25) {
          do { buf = (buf << 8) | (p < end ? data[p++] : 0); count += 8; } while (count <= 24);
        }
        let d: number;
        const t = tabs[c];
        const e = t.fast[(buf >>> (count - FAST_BITS)) & ((1 << FAST_BITS) - 1)];
        if (e !== 0) {
          count -= e & 31;
          d = e >> 5;
        } else {
          // A short code with many extra bits (large differences: 12- and 16-bit files) in one
          // lookup; a long code by libjpeg's search.
          const short = t.codes[(buf >>> (count - FAST_BITS)) & ((1 << FAST_BITS) - 1)];
          let len = short === 0 ? FAST_BITS + 1 : short >> 8;
          let code = (buf >>> (count - len)) & ((1 << len) - 1);
          while (len < 16 && code > t.maxcode[len]) {
            len++;
            code = (buf >>> (count - len)) & ((1 << len) - 1);
          }
          if (code > t.maxcode[len]) {
            // libjpeg's JWRN_HUFF_BAD_CODE: the difference is taken as 0.
            warn(WARNINGS.badCode);
            count -= 16;
            d = 0;
          } else {
            count -= len;
            const sym = t.values[t.valoffset[len] + code];
            const extra = sym === 16 ? 0 : sym;
            if (count < extra) {
              do { buf = (buf << 8) | (p < end ? data[p++] : 0); count += 8; } while (count <= 24);
            }
            d = extend(sym, (buf >>> (count - extra)) & ((1 << extra) - 1));
            count -= extra;
          }
        }
        const plane = planes[c];
        const pred = first ? (x === 0 ? initial : plane[row + x - 1])
          : x === 0 ? plane[above] : predict(psv, plane[row + x - 1], plane[above + x], plane[above + x - 1]);
        plane[row + x] = (pred + d) & 0xffff;
      }
    }
    // Checked each row, not only at the interval's end: a file whose data stops early (or a tiny
    // file declaring a huge frame) is refused at failOn 'warning' without decoding the rest as zeros.
    if (!premature && (p - limit) * 8 > count) {
      premature = true;
      warn(WARNINGS.premature);
    }
  }
  if (!premature && (p - limit) * 8 > count) warn(WARNINGS.premature);
  // More RSTn markers than intervals mean the same damage as one missing.
  if (interval < starts.length - 2) warn(WARNINGS.restart);
}

/** T.81 table H.1, as libjpeg-turbo 3 computes it (arithmetic shifts, sums modulo 2^16 by the caller). */
function predict(psv: number, ra: number, rb: number, rc: number): number {
  switch (psv) {
    case 1: return ra;
    case 2: return rb;
    case 3: return rc;
    case 4: return ra + rb - rc;
    case 5: return ra + ((rb - rc) >> 1);
    case 6: return rb + ((ra - rc) >> 1);
    default: return (ra + rb) >> 1;
  }
}

/**
 * Decode a lossless (SOF3) JPEG to RGBA. Damage libjpeg calls a warning (a bad Huffman code, data
 * that ends early, a restart marker missing) refuses the file at failOn 'warning' (the default) and
 * is decoded through below it (the difference taken as 0, missing data as zero bits), as libjpeg does.
 */
export async function decodeLosslessJpeg(bytes: Uint8Array, header: Pick<ImageHeader, 'width' | 'height'>, failOn: FailOn): Promise<RGBAImage> {
  const { frame, samples, ycc } = decodeLosslessSamples(bytes, header, failOn);
  return toRgba(frame, samples, ycc);
}

/** A lossless JPEG's samples at their own precision (each component's plane, point transform applied). */
export interface LosslessSamples {
  readonly frame: Frame;
  readonly samples: Uint16Array[];
  /** Whether the three components are YCbCr (converted to RGB on output). */
  readonly ycc: boolean;
}

/** The samples of a lossless JPEG, before any conversion to 8 bits or RGB (as libjpeg-turbo 3 outputs them). */
export function decodeLosslessSamples(bytes: Uint8Array, header: Pick<ImageHeader, 'width' | 'height'>, failOn: FailOn): LosslessSamples {
  const s: State = { tables: [], restartInterval: 0, jfif: false, pt: new Map() };
  const warnings = new Set<string>();
  const warnsFatal = refuses(failOn, 'warning');
  const warn = (w: string): void => {
    if (warnsFatal) throw new ImgpipeError('CORRUPT_IMAGE', `Expected a decodable JPEG but the decoder reported: ${w}`);
    warnings.add(w);
  };
  const b = bytes;
  let o = 2;
  let ended = false;
  while (o + 1 < b.length) {
    if (b[o] !== 0xff) {
      // Bytes where a marker belongs (header.ts already refused them at 'warning' before the first
      // scan). After the last scan they change no pixel, and sharp decodes the file.
      if (!s.frame || s.pt.size < s.frame.components.length) warn(WARNINGS.extraneous);
      while (o < b.length && b[o] !== 0xff) o++;
      continue;
    }
    const marker = b[o + 1];
    if (marker === 0xff) { o++; continue; }
    if (marker === 0xd9) { ended = true; break; }
    if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) { o += 2; continue; }
    if (o + 4 > b.length) break;
    const len = u16(b, o + 2);
    if (len < 2 || o + 2 + len > b.length) throw corrupt(`its segment 0xFF${marker.toString(16).toUpperCase()} at offset ${o} is ${len} bytes long, past the end of the ${b.length}-byte file`);
    const seg = b.subarray(o + 4, o + 2 + len);
    o += 2 + len;
    if (marker === 0xc3) {
      if (s.frame) throw corrupt('it has a second frame header');
      s.frame = readFrame(seg);
      if (s.frame.width !== header.width || s.frame.height !== header.height) throw corrupt(`its frame declares ${s.frame.width}x${s.frame.height} after the header declared ${header.width}x${header.height}`);
    } else if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      throw corrupt(`it has a second frame header (0xFF${marker.toString(16).toUpperCase()}) after its lossless one`);
    } else if (marker === 0xc4) {
      readTables(seg, s.tables);
    } else if (marker === 0xdd) {
      if (seg.length < 2) throw corrupt('its restart interval segment is too short');
      s.restartInterval = u16(seg, 0);
    } else if (marker === 0xe0 && seg.length >= 5 && seg[0] === 0x4a && seg[1] === 0x46 && seg[2] === 0x49 && seg[3] === 0x46 && seg[4] === 0) {
      s.jfif = true;
    } else if (marker === 0xee && seg.length >= 12 && seg[0] === 0x41 && seg[1] === 0x64 && seg[2] === 0x6f && seg[3] === 0x62 && seg[4] === 0x65) {
      s.adobeTransform = seg[11];
    } else if (marker === 0xda) {
      o = decodeScan(b, o, seg, s, warn);
    }
  }
  const frame = s.frame;
  if (!frame || !s.planes) throw corrupt('it has no lossless frame and scan');
  if (!ended && refuses(failOn, 'truncated')) {
    throw new ImgpipeError('CORRUPT_IMAGE', `Expected a complete JPEG but the file is truncated: no end-of-image marker after the image data (${b.length} bytes received)`);
  }
  const missing = frame.components.findIndex((_, i) => !s.pt.has(i));
  if (missing >= 0) {
    // libjpeg reports the missing scan only as a premature end; the component is left at zero.
    if (refuses(failOn, 'truncated')) throw corrupt(`component ${missing + 1} of ${frame.components.length} has no scan`);
  }
  const keep = frame.precision <= 8 ? 0xff : 0xffff;
  const samples = s.planes.map((p, c) => {
    const pt = s.pt.get(c) ?? 0;
    if (pt === 0 && keep === 0xffff) return p;
    for (let i = 0; i < p.length; i++) p[i] = (p[i] << pt) & keep;
    return p;
  });
  return { frame, samples, ycc: isYcc(frame, s) };
}

/** libjpeg-turbo 3's colour-space guess for three lossless components (jdapimin.c default_decompress_parms). */
function isYcc(frame: Frame, s: State): boolean {
  if (frame.components.length !== 3) return false;
  if (s.jfif) return true;
  if (s.adobeTransform !== undefined) return s.adobeTransform !== 0;
  return false;
}

/** jdcolor.c's build_ycc_rgb_table (SCALEBITS 16), built on first use. */
let yccTables: { crR: Int32Array; cbB: Int32Array; crG: Int32Array; cbG: Int32Array } | undefined;

/**
 * Samples to 8-bit RGBA: v * 255 / (2^P - 1) rounded, the identity at 8 bits (values past 2^P - 1,
 * which only damage makes, clamp), then grey replicated, RGB kept, YCbCr converted.
 */
function toRgba(frame: Frame, planes: Uint16Array[], ycc: boolean): RGBAImage {
  const { width, height, precision } = frame;
  const n = width * height;
  const out = new Uint8ClampedArray(n * 4);
  const max = (1 << precision) - 1;
  let scale: Uint8Array | undefined;
  if (precision !== 8) {
    scale = new Uint8Array(65536);
    for (let v = 0; v < 65536; v++) scale[v] = Math.round((Math.min(v, max) * 255) / max);
  }
  const [p0, p1, p2] = planes.map((p) => {
    if (!scale) return p;
    const q = new Uint8Array(n);
    for (let i = 0; i < n; i++) q[i] = scale[p[i]];
    return q;
  });
  // One 32-bit store per pixel: RGBA in memory order is A<<24 | B<<16 | G<<8 | R on a little-endian
  // machine (every WebAssembly host imgpipe runs on), opaque.
  const px = new Uint32Array(out.buffer, out.byteOffset, n);
  if (planes.length === 1) {
    for (let i = 0; i < n; i++) {
      const v = p0[i] & 0xff;
      px[i] = (0xff000000 | (v << 16) | (v << 8) | v) >>> 0;
    }
  } else if (!ycc) {
    for (let i = 0; i < n; i++) px[i] = (0xff000000 | ((p2[i] & 0xff) << 16) | ((p1[i] & 0xff) << 8) | (p0[i] & 0xff)) >>> 0;
  } else {
    if (!yccTables) {
      const t = { crR: new Int32Array(256), cbB: new Int32Array(256), crG: new Int32Array(256), cbG: new Int32Array(256) };
      for (let i = 0; i < 256; i++) {
        const x = i - 128;
        t.crR[i] = (91881 * x + 32768) >> 16;
        t.cbB[i] = (116130 * x + 32768) >> 16;
        t.crG[i] = -46802 * x;
        t.cbG[i] = -22554 * x + 32768;
      }
      yccTables = t;
    }
    const { crR, cbB, crG, cbG } = yccTables;
    for (let i = 0, j = 0; i < n; i++, j += 4) {
      const y = p0[i] & 0xff, cb = p1[i] & 0xff, cr = p2[i] & 0xff;
      // Uint8ClampedArray clamps to 0-255 as libjpeg's range_limit does.
      out[j] = y + crR[cr]; out[j + 1] = y + ((cbG[cb] + crG[cr]) >> 16); out[j + 2] = y + cbB[cb]; out[j + 3] = 255;
    }
  }
  return asImage(width, height, out);
}
