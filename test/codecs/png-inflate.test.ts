/**
 * A photo's PNG image data inflated whole by libdeflate (wasm/libspng/png.c): a PNG whose data
 * inflates at most 4x has its IDAT stream inflated in one call; an 8-bit RGB or RGBA image's rows are
 * then unfiltered by png.c with libspng's own unfilter, any other is handed to libspng as stored
 * blocks. The pixels must be exactly sharp's decode's and zlib's path's, streamed or whole, and any
 * stream libdeflate declines must decode or be refused as zlib does. A file of its own: the memory
 * figure needs a decoder instance no other test has grown.
 */
import { crc32, deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import sharp, { type PngOptions } from 'sharp';
import '../../entries/node.js';
import { decode, inspect } from '../../src/decode.js';
import { decodeResized } from '../../src/decode-resized.js';
import { resize } from '../../src/ops/resize.js';
import { pngDecoderStats } from '../../src/codecs/png.js';
import { rejection } from '../helpers/errors.js';
import { DAMAGED_IDAT, expectDamagedAlike } from '../helpers/png.js';
import { concat, pngChunk, u32be } from '../helpers/bytes.js';

const same = (a: { data: Uint8ClampedArray }, b: Uint8Array) => Buffer.compare(Buffer.from(a.data), b) === 0;

/** Noise over a gradient: data that compresses about as little as a photo's (ratio well under 4). */
function noise(w: number, h: number, channels: 3 | 4): Buffer {
  const raw = Buffer.alloc(w * h * channels);
  let seed = 7;
  for (let i = 0; i < raw.length; i++) {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    raw[i] = (Math.floor(i / channels) % w) * 150 / w + ((seed >>> 24) & 63);
  }
  return raw;
}

async function photoPng(w: number, h: number, channels: 3 | 4, options: PngOptions = { adaptiveFiltering: true }): Promise<Uint8Array> {
  return new Uint8Array(await sharp(noise(w, h, channels), { raw: { width: w, height: h, channels } }).png(options).toBuffer());
}

/** sharp's decode of `png` as RGBA. */
async function sharpRgba(png: Uint8Array): Promise<Buffer> {
  return sharp(png).ensureAlpha().raw().toBuffer();
}

/** The offsets of `png`'s IDAT chunks. */
function idats(png: Uint8Array): number[] {
  const view = new DataView(png.buffer, png.byteOffset);
  const found: number[] = [];
  for (let o = 8; o + 12 <= png.length; o += 12 + view.getUint32(o)) {
    if (String.fromCharCode(...png.subarray(o + 4, o + 8)) === 'IDAT') found.push(o);
  }
  return found;
}

/** How many times `png`'s image data inflates (the filtered image over its IDATs' data). */
function ratio(png: Uint8Array): number {
  const view = new DataView(png.buffer, png.byteOffset);
  const channels = [1, 0, 3, 1, 2, 0, 4][png[25]!]!;
  const row = Math.ceil((view.getUint32(16) * channels * png[24]!) / 8) + 1;
  return (row * view.getUint32(20)) / idats(png).reduce((n, o) => n + view.getUint32(o), 0);
}

/**
 * `data` as a zlib stream of one fixed-Huffman block, as zlib never writes one: its first `zeros`
 * bytes (all zero) as 258-byte matches, the rest as literals (8 or 9 bits each, so noise takes ~6%
 * more than it inflates to).
 */
function fixedHuffmanZlib(data: Buffer, zeros: number): Buffer {
  const out: number[] = [0x78, 0x01];
  let acc = 0, n = 0;
  const bit = (b: number) => {
    acc |= b << n;
    if (++n === 8) {
      out.push(acc);
      acc = n = 0;
    }
  };
  // Huffman codes go most significant bit first.
  const code = (c: number, len: number) => {
    for (let i = len - 1; i >= 0; i--) bit((c >> i) & 1);
  };
  const literal = (v: number) => (v < 144 ? code(0x30 + v, 8) : code(0x190 + v - 144, 9));
  bit(1); // the final block
  bit(1); // fixed Huffman codes (BTYPE 01, least significant bit first)
  bit(0);
  literal(0);
  let at = 1;
  for (; at + 258 <= zeros; at += 258) {
    code(0xc5, 8); // length 258 (code 285)
    code(0, 5); // distance 1
  }
  for (; at < data.length; at++) literal(data[at]!);
  code(0, 7); // end of block
  if (n > 0) out.push(acc);
  let a = 1, b = 0;
  for (const v of data) {
    a = (a + v) % 65521;
    b = (b + a) % 65521;
  }
  const adler = Buffer.alloc(4);
  adler.writeUInt32BE(((b << 16) | a) >>> 0);
  return Buffer.concat([Buffer.from(out), adler]);
}

/** `png` with its IDATs joined and `edit` applied to the zlib stream, in one IDAT with a good CRC. */
function rewriteStream(png: Uint8Array, edit: (stream: Buffer) => Buffer): Uint8Array {
  const view = new DataView(png.buffer, png.byteOffset);
  const at = idats(png);
  const first = at[0]!, last = at.at(-1)!;
  const stream = edit(Buffer.concat(at.map((o) => png.subarray(o + 8, o + 8 + view.getUint32(o)))));
  const chunk = Buffer.alloc(12 + stream.length);
  chunk.writeUInt32BE(stream.length, 0);
  chunk.write('IDAT', 4, 'latin1');
  stream.copy(chunk, 8);
  chunk.writeUInt32BE(crc32(chunk.subarray(4, 8 + stream.length)), 8 + stream.length);
  return new Uint8Array(Buffer.concat([png.subarray(0, first), chunk, png.subarray(last + 12 + view.getUint32(last))]));
}

describe('PNG image data inflated whole (libdeflate)', () => {
  it('holds the filtered image once, not the decoded RGBA image, with sharp\'s pixels', async () => {
    expect(pngDecoderStats().instancesCreated).toBe(0);
    const w = 2400, h = 1800;
    const bytes = await photoPng(w, h, 3);
    expect(idats(bytes).length).toBeGreaterThan(1);
    const filtered = h * (w * 3 + 1);
    expect(ratio(bytes)).toBeLessThan(4);
    const header = inspect(bytes);
    const streamed = await decodeResized(bytes, header, { width: 1600, height: 1200 });
    expect(pngDecoderStats().inflatedWhole).toBe(1);
    // The filtered image (13 MB) no longer fits in the module's initial 16 MiB beside its 5 MiB of
    // stack and static data; it is inflated in the input's own buffer, so the input (8 MB) is not
    // held beside it, nor the decoded RGBA image (17 MB) on top.
    const memory = pngDecoderStats().memoryBytes;
    expect(memory).toBeGreaterThan(16 * 1024 * 1024);
    expect(memory).toBeLessThan(filtered + 6 * 1024 * 1024);
    expect(filtered + 6 * 1024 * 1024).toBeLessThan(bytes.length + filtered);
    const whole = await decode(bytes);
    expect(same(whole, await sharpRgba(bytes))).toBe(true);
    const twoSteps = await resize(whole, { width: 1600, height: 1200, fit: 'fill' });
    expect(Buffer.compare(Buffer.from(streamed.data), Buffer.from(twoSteps.data))).toBe(0);
  });

  it.each([
    ['RGBA', 4 as const, { adaptiveFiltering: true }],
    ['RGB without filtering', 3 as const, { adaptiveFiltering: false }],
    ['palette', 3 as const, { palette: true, dither: 1 }],
  ])('%s: sharp\'s pixels', async (_, channels, options) => {
    const bytes = await photoPng(640, 480, channels, options);
    expect(ratio(bytes)).toBeLessThan(4);
    expect(same(await decode(bytes), await sharpRgba(bytes))).toBe(true);
  });

  it('one IDAT holding the whole stream decodes the same', async () => {
    const bytes = await photoPng(640, 480, 3);
    const joined = rewriteStream(bytes, (s) => s);
    expect(idats(joined).length).toBe(1);
    expect(ratio(joined)).toBeLessThan(4);
    expect(same(await decode(joined), await sharpRgba(bytes))).toBe(true);
  });

  it('damaged data (CRCs recomputed, so only the inflate can tell) is refused, streamed or whole', async () => {
    const bytes = rewriteStream(await photoPng(1200, 900, 3), (s) => {
      for (let i = 0; i < 64; i++) s[(s.length >> 1) + i]! ^= 0x5a;
      return s;
    });
    expect(ratio(bytes)).toBeLessThan(4);
    await expectDamagedAlike(bytes, { width: 600, height: 450 });
  });

  it('a stream cut short is refused as zlib refuses it', async () => {
    const bytes = rewriteStream(await photoPng(1200, 900, 3), (s) => s.subarray(0, s.length >> 1));
    expect(ratio(bytes)).toBeLessThan(4);
    const refused = await rejection(decode(bytes));
    expect(refused.code).toBe('CORRUPT_IMAGE');
    expect(refused.message).toMatch(DAMAGED_IDAT);
  });

  it('bytes after the stream\'s end: zlib\'s verdict, the image\'s pixels', async () => {
    const clean = await photoPng(640, 480, 3);
    const bytes = rewriteStream(clean, (s) => Buffer.concat([s, Buffer.from('trailing bytes')]));
    expect(ratio(bytes)).toBeLessThan(4);
    expect(same(await decode(bytes), await sharpRgba(clean))).toBe(true);
  });

  it('a wrong Adler-32, which zlib is not asked to check: the image\'s pixels', async () => {
    const clean = await photoPng(640, 480, 3);
    const bytes = rewriteStream(clean, (s) => {
      s[s.length - 1]! ^= 0xff;
      return s;
    });
    // The clean file's checksum matches (libdeflate's path), the altered one's does not (zlib's).
    const before = pngDecoderStats().inflatedWhole;
    const whole = await decode(clean);
    expect(pngDecoderStats().inflatedWhole).toBe(before + 1);
    expect(same(await decode(bytes), await sharpRgba(clean))).toBe(true);
    expect(same(whole, await sharpRgba(clean))).toBe(true);
    expect(pngDecoderStats().inflatedWhole).toBe(before + 1);
  });

  it('a stream whose end inflates to less than it takes (inflated in place, the output overtakes the input): the image\'s pixels', async () => {
    // A flat top half inflates ~1000x; the noisy bottom half in fixed-Huffman blocks takes ~6% more
    // than it inflates to, far beyond the room png.c leaves between the output and the input's end.
    const w = 2000, h = 1500, row = w * 3 + 1;
    const filtered = Buffer.alloc(row * h);
    let seed = 11;
    for (let y = h / 2; y < h; y++) {
      for (let x = 1; x < row; x++) {
        seed ^= seed << 13;
        seed ^= seed >>> 17;
        seed ^= seed << 5;
        filtered[y * row + x] = seed >>> 24;
      }
    }
    const stream = fixedHuffmanZlib(filtered, (h / 2) * row);
    expect(stream.length - 6).toBeGreaterThan(filtered.length / 2 + 128 * 1024);
    const bytes = rewriteStream(await photoPng(w, h, 3), () => stream);
    expect(ratio(bytes)).toBeLessThan(4);
    const before = pngDecoderStats().inflatedWhole;
    const expected = Buffer.alloc(w * h * 4, 255);
    for (let i = 0; i < w * h; i++) {
      for (let c = 0; c < 3; c++) expected[i * 4 + c] = filtered[Math.floor(i / w) * row + 1 + (i % w) * 3 + c]!;
    }
    expect(same(await decode(bytes), expected)).toBe(true);
    // Decoded by zlib: libdeflate's output, having overtaken its input, failed the checks.
    expect(pngDecoderStats().inflatedWhole).toBe(before);
    const header = inspect(bytes);
    const streamed = await decodeResized(bytes, header, { width: 1000, height: 750 });
    expect(Buffer.compare(Buffer.from(streamed.data), Buffer.from((await resize(await decode(bytes), { width: 1000, height: 750, fit: 'fill' })).data))).toBe(0);
  });
});

/**
 * An 8-bit RGB (colour type 2) or RGBA (6) PNG whose rows' filter types are `filterOf(y)` and whose
 * filtered bytes are noise (any bytes are a valid filtered image), its stream in 64 KiB IDATs;
 * `extra` chunks go after IHDR.
 */
function craftedPng(w: number, h: number, colorType: 2 | 6, filterOf: (y: number) => number, extra: Uint8Array[] = []): Uint8Array {
  const row = w * (colorType === 6 ? 4 : 3) + 1;
  const filtered = Buffer.alloc(row * h);
  let seed = w * 31 + h * 7 + colorType;
  for (let i = 0; i < filtered.length; i++) {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    filtered[i] = i % row === 0 ? filterOf(i / row) : seed >>> 24;
  }
  const stream = deflateSync(filtered);
  const idat: Uint8Array[] = [];
  for (let at = 0; at < stream.length; at += 65536) idat.push(pngChunk('IDAT', stream.subarray(at, at + 65536)));
  const ihdr = concat(u32be(w), u32be(h), new Uint8Array([8, colorType, 0, 0, 0]));
  return concat(new Uint8Array([137, 80, 78, 71, 13, 10, 26, 10]), pngChunk('IHDR', ihdr), ...extra, ...idat, pngChunk('IEND', new Uint8Array()));
}

/** `png` with its zlib stream's Adler-32 altered: zlib decodes it unchecked, libdeflate's path declines it. */
const throughZlib = (png: Uint8Array) =>
  rewriteStream(png, (s) => {
    s[s.length - 1]! ^= 0xff;
    return s;
  });

describe('8-bit RGB and RGBA photos unfiltered by png.c (no zlib)', () => {
  /** Decodes `png` whole and streamed, checking which path it took: the pixels. */
  async function decodedBy(png: Uint8Array, target: { width: number; height: number }, own: boolean) {
    const before = pngDecoderStats();
    const whole = await decode(png);
    const streamed = await decodeResized(png, inspect(png), target);
    const after = pngDecoderStats();
    expect(after.inflatedWhole - before.inflatedWhole).toBe(own ? 2 : 0);
    expect(after.unfilteredWhole - before.unfilteredWhole).toBe(own ? 2 : 0);
    return { whole: Buffer.from(whole.data), streamed: Buffer.from(streamed.data) };
  }

  it.each([
    ['RGB', 2 as const, 4],
    ['RGBA', 6 as const, 3],
  ])('%s, every filter type on every row position, first row included: the same pixels as zlib\'s path and sharp\'s', async (_, colorType, h) => {
    // Widths 1 and 2 take libspng's unfilters' tail code only, 333 and 1001 their main loops too.
    for (const w of [1, 2, 333, 1001]) {
      for (let first = 0; first < 5; first++) {
        const png = craftedPng(w, h * 20, colorType, (y) => (y + first) % 5);
        expect(ratio(png)).toBeLessThan(4);
        const target = { width: Math.max(1, w >> 1), height: h * 10 };
        const own = await decodedBy(png, target, true);
        const zlib = await decodedBy(throughZlib(png), target, false);
        expect(Buffer.compare(own.whole, zlib.whole)).toBe(0);
        expect(Buffer.compare(own.streamed, zlib.streamed)).toBe(0);
        expect(Buffer.compare(own.whole, await sharpRgba(png))).toBe(0);
      }
    }
  });

  it('a photo from sharp (adaptive filters), RGB and RGBA: the same pixels as zlib\'s path, streamed and whole', async () => {
    for (const channels of [3, 4] as const) {
      const png = await photoPng(1500, 1000, channels);
      const target = { width: 640, height: 427 };
      const own = await decodedBy(png, target, true);
      const zlib = await decodedBy(throughZlib(png), target, false);
      expect(Buffer.compare(own.whole, zlib.whole)).toBe(0);
      expect(Buffer.compare(own.streamed, zlib.streamed)).toBe(0);
    }
  });

  it.each([0, 1, 57, 99])('a filter type 5 on row %i is refused as libspng refuses it, streamed and whole', async (bad) => {
    const png = craftedPng(200, 100, 2, (y) => (y === bad ? 5 : y % 5));
    const before = pngDecoderStats().unfilteredWhole;
    await expectDamagedAlike(png, { width: 100, height: 50 });
    // Counted once begun: the streamed decode begins unless the first row's type is refused at the
    // start; the whole decode, which decodes every row in its begin, never does.
    expect(pngDecoderStats().unfilteredWhole).toBe(before + (bad === 0 ? 0 : 1));
    const zlib = throughZlib(png);
    await expectDamagedAlike(zlib, { width: 100, height: 50 });
    expect(await rejection(decode(png))).toEqual(await rejection(decode(zlib)));
  });

  it('RGB with tRNS and a 16-bit photo stay with libspng (stored blocks): sharp\'s pixels', async () => {
    const trns = pngChunk('tRNS', new Uint8Array([0, 10, 0, 20, 0, 30]));
    const keyed = craftedPng(300, 200, 2, (y) => y % 5, [trns]);
    const deep = new Uint8Array(await sharp(noise(300, 200, 3), { raw: { width: 300, height: 200, channels: 3 } }).toColourspace('rgb16').png().toBuffer());
    expect(deep[24]).toBe(16);
    for (const png of [keyed, deep]) {
      expect(ratio(png)).toBeLessThan(4);
      const before = pngDecoderStats();
      const whole = await decode(png);
      expect(pngDecoderStats().inflatedWhole).toBe(before.inflatedWhole + 1);
      expect(pngDecoderStats().unfilteredWhole).toBe(before.unfilteredWhole);
      expect(Buffer.compare(Buffer.from(whole.data), await sharpRgba(png))).toBe(0);
      expect(Buffer.compare(Buffer.from(whole.data), Buffer.from((await decode(throughZlib(png))).data))).toBe(0);
    }
  });
});
