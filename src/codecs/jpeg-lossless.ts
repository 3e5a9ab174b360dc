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

/** A DHT table ready for decoding: 9-bit lookup for short codes, libjpeg's maxcode/valptr for the rest. */
interface HuffTable {
  /** (code length << 8) | symbol for each 9-bit prefix whose code is at most 9 bits; 0 otherwise. */
  readonly fast: Uint16Array;
  /** Largest code of each length 1-16, -1 when none; [17] is a sentinel. */
  readonly maxcode: Int32Array;
  /** Index in `values` of the first code of each length, minus that code. */
  readonly valoffset: Int32Array;
  readonly values: Uint8Array;
}

const FAST_BITS = 9;

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
  const fast = new Uint16Array(1 << FAST_BITS);
  const maxcode = new Int32Array(18).fill(-1);
  const valoffset = new Int32Array(18);
  let code = 0, k = 0;
  for (let len = 1; len <= 16; len++) {
    const n = counts[len - 1];
    valoffset[len] = k - code;
    for (let i = 0; i < n; i++, k++, code++) {
      if (len <= FAST_BITS) {
        const shift = FAST_BITS - len;
        for (let f = code << shift, end = (code + 1) << shift; f < end; f++) fast[f] = (len << 8) | values[k];
      }
    }
    if (n) maxcode[len] = code - 1;
    // A code space overfull at this length (libjpeg's "Bogus Huffman table definition").
    if (code > 1 << len) throw corrupt(`Huffman table ${id} defines more codes of ${len} bits than fit (${code} > ${1 << len})`);
    code <<= 1;
  }
  maxcode[17] = 0x7fffffff;
  for (let i = 0; i < values.length; i++) {
    if (values[i] > 16) throw corrupt(`Huffman table ${id} has the difference category ${values[i]} (allowed 0-16 in a lossless scan)`);
  }
  return { fast, maxcode, valoffset, values };
}

/**
 * The entropy-coded bits of a scan: bytes after FF 00 unstuffing, up to the next marker; past it,
 * zero bits (as libjpeg inserts them, with its "premature end of data segment" warning once they
 * are used).
 */
class BitReader {
  pos: number;
  buf = 0;
  count = 0;
  /** Zero bits inserted past a marker or the end of the file, still in `buf`. */
  fake = 0;
  /** Whether any inserted zero bit has been used since the last reset. */
  overrun = false;
  constructor(readonly b: Uint8Array, pos: number) { this.pos = pos; }

  /** At least 25 bits in `buf`. */
  fill(): void {
    const b = this.b;
    while (this.count <= 24) {
      let byte = 0;
      if (this.fake === 0 && this.pos < b.length) {
        byte = b[this.pos];
        if (byte === 0xff) {
          let q = this.pos + 1;
          while (q < b.length && b[q] === 0xff) q++;
          if (q < b.length && b[q] === 0x00) this.pos = q + 1;
          else { this.pos = q - 1; this.fake += 8; byte = 0; } // a marker: stay on its FF
        } else this.pos++;
      } else this.fake += 8;
      this.buf = (this.buf << 8) | byte;
      this.count += 8;
    }
  }

  /** Drop the bits left in the byte being read (before a restart marker). */
  reset(): void {
    if (this.count < this.fake) this.overrun = true;
    this.buf = 0;
    this.count = 0;
    this.fake = 0;
  }
}

/**
 * One difference: its Huffman-coded category, then that many extra bits (T.81 H.1.2.2; category 16
 * is 32768 with no extra bits). `NaN` for a code past the table.
 */
function decodeDiff(r: BitReader, t: HuffTable): number {
  if (r.count < 25) r.fill();
  let count = r.count;
  const buf = r.buf;
  const peek = (buf >>> (count - FAST_BITS)) & ((1 << FAST_BITS) - 1);
  let entry = t.fast[peek];
  let s: number;
  if (entry !== 0) {
    count -= entry >> 8;
    s = entry & 0xff;
  } else {
    let len = FAST_BITS + 1;
    let code = (buf >>> (count - len)) & ((1 << len) - 1);
    while (len <= 16 && code > t.maxcode[len]) {
      len++;
      code = (buf >>> (count - len)) & ((1 << len) - 1);
    }
    if (len > 16) {
      // libjpeg's JWRN_HUFF_BAD_CODE: the difference is taken as 0.
      r.count = count - 16;
      return NaN;
    }
    count -= len;
    s = t.values[t.valoffset[len] + code];
  }
  if (s === 0) { r.count = count; return 0; }
  if (s === 16) { r.count = count; return 32768; }
  if (count < s) { r.count = count; r.fill(); count = r.count; }
  const v = (r.buf >>> (count - s)) & ((1 << s) - 1);
  r.count = count - s;
  return v < 1 << (s - 1) ? v - (1 << s) + 1 : v;
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
function decodeScan(b: Uint8Array, pos: number, seg: Uint8Array, s: State, failOn: FailOn, warn: (w: string) => void): number {
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
  const r = new BitReader(b, pos);
  const initial = 1 << (frame.precision - pt - 1);
  let restarts = 0;
  for (let y = 0; y < height; y++) {
    const first = rowsPerInterval === 0 ? y === 0 : y % rowsPerInterval === 0;
    if (first && y > 0) {
      // Expect RSTn (n = restarts mod 8), byte-aligned after the previous interval.
      r.reset();
      let q = r.pos;
      while (q < b.length && b[q] !== 0xff) q++;
      while (q + 1 < b.length && b[q + 1] === 0xff) q++;
      if (q !== r.pos) warn(WARNINGS.extraneous);
      // Another RSTn (one missing or out of order) is passed over with a warning, its data read on;
      // any other marker is left for the scan's end, the rest of the scan read as zero bits.
      const m = q + 1 < b.length ? b[q + 1] : -1;
      if (m !== 0xd0 + (restarts & 7)) warn(WARNINGS.restart);
      r.pos = m >= 0xd0 && m <= 0xd7 ? q + 2 : q;
      restarts++;
    }
    const row = y * width;
    const above = first ? -1 : row - width;
    if (ns === 1) decodeRow(r, tabs[0], planes[0], row, width, psv, above, initial, warn);
    else decodeInterleavedRow(r, tabs, planes, row, width, psv, above, initial, warn);
    if (r.count < r.fake) r.overrun = true;
    if (r.overrun) {
      warn(WARNINGS.premature);
      r.overrun = false;
    }
  }
  for (const c of comps) s.pt.set(c, pt);
  // The bits left belong to this scan; its data ends at the marker the reader stopped on.
  r.reset();
  if (r.overrun) warn(WARNINGS.premature);
  return r.pos;
}

/**
 * One row of a one-component scan: each sample is its prediction plus the decoded difference, modulo
 * 2^16 (T.81 H.1.2.1: the first row of an interval predicts from the left, starting at 2^(P-Pt-1);
 * the first column from above). `above` is the row above's offset, -1 on an interval's first row.
 */
function decodeRow(r: BitReader, t: HuffTable, plane: Uint16Array, row: number, width: number, psv: number, above: number, initial: number, warn: (w: string) => void): void {
  let ra = 0;
  for (let x = 0; x < width; x++) {
    let d = decodeDiff(r, t);
    if (d !== d) { warn(WARNINGS.badCode); d = 0; }
    const p = above < 0 ? (x === 0 ? initial : ra)
      : x === 0 ? plane[above] : predict(psv, ra, plane[above + x], plane[above + x - 1]);
    ra = (p + d) & 0xffff;
    plane[row + x] = ra;
  }
}

/** One row of an interleaved scan: each pixel has one sample of every scan component, in scan order. */
function decodeInterleavedRow(r: BitReader, tabs: HuffTable[], planes: Uint16Array[], row: number, width: number, psv: number, above: number, initial: number, warn: (w: string) => void): void {
  const n = planes.length;
  for (let x = 0; x < width; x++) {
    for (let c = 0; c < n; c++) {
      const plane = planes[c];
      let d = decodeDiff(r, tabs[c]);
      if (d !== d) { warn(WARNINGS.badCode); d = 0; }
      const p = above < 0 ? (x === 0 ? initial : plane[row + x - 1])
        : x === 0 ? plane[above] : predict(psv, plane[row + x - 1], plane[above + x], plane[above + x - 1]);
      plane[row + x] = (p + d) & 0xffff;
    }
  }
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
      o = decodeScan(b, o, seg, s, failOn, warn);
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
  const scale = precision === 8 ? undefined : Uint8Array.from({ length: 65536 }, (_, v) => Math.round((Math.min(v, max) * 255) / max));
  const [p0, p1, p2] = planes.map((p) => (scale ? p.map((v) => scale[v]) : p));
  if (planes.length === 1) {
    for (let i = 0, j = 0; i < n; i++, j += 4) {
      const v = p0[i];
      out[j] = v; out[j + 1] = v; out[j + 2] = v; out[j + 3] = 255;
    }
  } else if (!ycc) {
    for (let i = 0, j = 0; i < n; i++, j += 4) {
      out[j] = p0[i]; out[j + 1] = p1[i]; out[j + 2] = p2[i]; out[j + 3] = 255;
    }
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
      const y = p0[i], cb = p1[i], cr = p2[i];
      // Uint8ClampedArray clamps to 0-255 as libjpeg's range_limit does.
      out[j] = y + crR[cr]; out[j + 1] = y + ((cbG[cb] + crG[cr]) >> 16); out[j + 2] = y + cbB[cb]; out[j + 3] = 255;
    }
  }
  return asImage(width, height, out);
}
