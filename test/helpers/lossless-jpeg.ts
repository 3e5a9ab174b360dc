/**
 * A small lossless JPEG (T.81 process 14) writer for tests and benchmarks: the cases public files
 * don't cover (restart intervals, point transforms, precisions from 2 to 16, RGB and YCbCr markers,
 * every predictor on colour) and a 12 MP file for the speed benchmark. One fixed Huffman table
 * (categories 0-16); components interleaved in one scan, or one scan each. The decoder's fidelity
 * rests on the public fixtures (test/fixtures/lossless); these files only widen the cases.
 */
export interface LosslessOptions {
  readonly width: number;
  readonly height: number;
  /** Sample precision, 2-16. */
  readonly precision: number;
  /** One plane per component, each width * height samples of `precision` bits. */
  readonly planes: readonly Uint16Array[];
  /** Predictor selection value 1-7. */
  readonly predictor: number;
  /** Point transform: the low bits dropped from every sample (they must be 0 to round-trip). */
  readonly pt?: number;
  /** Restart interval in rows (0: none). */
  readonly restartRows?: number;
  /** One scan per component instead of one interleaved scan. */
  readonly separateScans?: boolean;
  /** An APP0 JFIF or APP14 Adobe marker (transform 0 or 1) before the frame. */
  readonly marker?: 'jfif' | 'adobe-rgb' | 'adobe-ycc';
}

/** Code lengths for difference categories 0-16 (Kraft sum 1 - 2^-15: the all-ones code is unused). */
const LENGTHS = [3, 2, 2, 3, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15];
const SYMBOLS = [1, 2, 0, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]; // sorted by length

function codes(): { code: number[]; len: number[] } {
  const code: number[] = [], len: number[] = [];
  let c = 0, prevLen = LENGTHS[SYMBOLS[0]];
  for (const s of SYMBOLS) {
    const l = LENGTHS[s];
    c <<= l - prevLen;
    prevLen = l;
    code[s] = c++;
    len[s] = l;
  }
  return { code, len };
}

class BitWriter {
  readonly out: number[] = [];
  private acc = 0;
  private n = 0;
  put(value: number, bits: number): void {
    for (let i = bits - 1; i >= 0; i--) {
      this.acc = (this.acc << 1) | ((value >>> i) & 1);
      if (++this.n === 8) this.byte();
    }
  }
  private byte(): void {
    this.out.push(this.acc);
    if (this.acc === 0xff) this.out.push(0);
    this.acc = 0;
    this.n = 0;
  }
  /** Pad the last byte with 1 bits. */
  flush(): void {
    while (this.n !== 0) this.put(1, 1);
  }
}

/** T.81 table H.1, written here apart from the decoder's own: a shared mistake would cancel out in the round trip. */
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

const seg = (marker: number, body: number[]): number[] => [0xff, marker, (body.length + 2) >> 8, (body.length + 2) & 255, ...body];

export function encodeLosslessJpeg(o: LosslessOptions): Uint8Array {
  const { width, height, precision, planes, predictor } = o;
  const pt = o.pt ?? 0;
  const ri = o.restartRows ?? 0;
  const nc = planes.length;
  const { code, len } = codes();
  const bytes: number[] = [0xff, 0xd8];
  if (o.marker === 'jfif') bytes.push(...seg(0xe0, [0x4a, 0x46, 0x49, 0x46, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0]));
  if (o.marker?.startsWith('adobe')) bytes.push(...seg(0xee, [0x41, 0x64, 0x6f, 0x62, 0x65, 0, 100, 0, 0, 0, 0, o.marker === 'adobe-ycc' ? 1 : 0]));
  bytes.push(...seg(0xc3, [precision, height >> 8, height & 255, width >> 8, width & 255, nc, ...planes.flatMap((_, i) => [i + 1, 0x11, 0])]));
  const counts = new Array(16).fill(0);
  for (const s of SYMBOLS) counts[LENGTHS[s] - 1]++;
  bytes.push(...seg(0xc4, [0x00, ...counts, ...SYMBOLS]));
  if (ri) bytes.push(...seg(0xdd, [(ri * width) >> 8, (ri * width) & 255]));
  const scans = o.separateScans ? planes.map((_, i) => [i]) : [planes.map((_, i) => i)];
  for (const comps of scans) {
    bytes.push(...seg(0xda, [comps.length, ...comps.flatMap((c) => [c + 1, 0x00]), predictor, 0, pt]));
    let w = new BitWriter();
    let restarts = 0;
    for (let y = 0; y < height; y++) {
      const first = ri ? y % ri === 0 : y === 0;
      if (first && y > 0) {
        w.flush();
        for (const b of w.out) bytes.push(b);
        bytes.push(0xff, 0xd0 + (restarts++ & 7));
        w = new BitWriter();
      }
      for (let x = 0; x < width; x++) {
        for (const c of comps) {
          const p = planes[c];
          const at = (i: number) => p[i] >> pt;
          const i = y * width + x;
          const pred = first ? (x === 0 ? 1 << (precision - pt - 1) : at(i - 1))
            : x === 0 ? at(i - width) : predict(predictor, at(i - 1), at(i - width), at(i - width - 1));
          let d = (at(i) - pred) & 0xffff;
          if (d >= 0x8000) d -= 0x10000; // -32768 is coded as 32768
          const mag = Math.abs(d);
          const s = d === -32768 ? 16 : mag === 0 ? 0 : 32 - Math.clz32(mag);
          w.put(code[s], len[s]);
          if (s > 0 && s < 16) w.put(d < 0 ? d + (1 << s) - 1 : d, s);
        }
      }
    }
    w.flush();
    for (const b of w.out) bytes.push(b);
  }
  bytes.push(0xff, 0xd9);
  return Uint8Array.from(bytes);
}
