/**
 * PNG through libspng row by row: decodeResized hands a non-interlaced PNG's rows to the resize
 * kernel as they are decoded (premultiplied on the way when it has alpha, box-shrunk band by band
 * for large reductions), and must give exactly what decoding and then resizing gives,
 * with the same refusals. A file of its own: the memory figure needs a decoder instance no other
 * test has grown.
 */
import { describe, expect, it } from 'vitest';
import sharp from 'sharp';
import '../../entries/node.js';
import { decode, inspect } from '../../src/decode.js';
import { decodeResized } from '../../src/decode-resized.js';
import { resize } from '../../src/ops/resize.js';
import { decodePngResized, pngDecoderStats } from '../../src/codecs/png.js';
import { fixture } from '../helpers/fixtures.js';
import { expectDamagedAlike } from '../helpers/png.js';

const same = (a: { data: Uint8ClampedArray }, b: { data: Uint8ClampedArray }) => Buffer.compare(Buffer.from(a.data), Buffer.from(b.data)) === 0;

/** A 2400x1800 opaque photo-like PNG (smooth gradients and noise, every filter type in use). */
async function photoPng(): Promise<Uint8Array> {
  const w = 2400, h = 1800;
  const raw = Buffer.alloc(w * h * 3);
  let seed = 1;
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    const o = (y * w + x) * 3;
    raw[o] = (x * 255) / w; raw[o + 1] = (y * 255) / h; raw[o + 2] = (x + y + (seed >>> 28)) & 255;
  }
  return new Uint8Array(await sharp(raw, { raw: { width: w, height: h, channels: 3 } }).png({ adaptiveFiltering: true }).toBuffer());
}

async function bothWays(bytes: Uint8Array, target: { width: number; height: number }) {
  const header = inspect(bytes);
  const streamed = await decodePngResized(bytes, header, target.width, target.height);
  const viaRecipe = await decodeResized(bytes, header, target);
  const twoSteps = await resize(await decode(bytes), { ...target, fit: 'fill' });
  return { streamed, viaRecipe, twoSteps };
}

describe('PNG decoded row by row into the resize', () => {
  it('holds neither the decoded image nor a copy of it: the decoder keeps a few rows', async () => {
    expect(pngDecoderStats().instancesCreated).toBe(0);
    const bytes = await photoPng();
    const header = inspect(bytes);
    const streamed = await decodePngResized(bytes, header, 1600, 1200);
    expect(streamed).toBeDefined();
    // Decoded whole, the 2400x1800 image is 17 MB in the decoder: streamed, the input and 16 rows fit
    // in the module's initial 16 MiB.
    expect(pngDecoderStats().memoryBytes).toBe(16 * 1024 * 1024);
    const twoSteps = await resize(await decode(bytes), { width: 1600, height: 1200, fit: 'fill' });
    expect(pngDecoderStats().memoryBytes).toBeGreaterThan(header.width * header.height * 4);
    expect(same(streamed!, twoSteps)).toBe(true);
    expect(same(await decodeResized(bytes, header, { width: 1600, height: 1200 }), twoSteps)).toBe(true);
  });

  // Opaque PngSuite files: every bit depth, palette without tRNS, 16-bit, all five filter types.
  it.each(['basn0g01.png', 'basn0g02.png', 'basn0g04.png', 'basn0g08.png', 'basn0g16.png', 'basn2c08.png', 'basn2c16.png',
    'basn3p01.png', 'basn3p02.png', 'basn3p04.png', 'basn3p08.png', 'f00n2c08.png', 'f01n2c08.png', 'f02n2c08.png',
    'f03n2c08.png', 'f04n2c08.png', 'f99n0g04.png', 'z00n2c08.png', 'z09n2c08.png'])('%s: the same pixels both ways', async (name) => {
    const { streamed, viaRecipe, twoSteps } = await bothWays(fixture(`pngsuite/${name}`), { width: 20, height: 19 });
    expect(streamed).toBeDefined();
    expect(same(streamed!, twoSteps)).toBe(true);
    expect(same(viaRecipe, twoSteps)).toBe(true);
  });

  // Alpha (colour types 4 and 6, tRNS): premultiplied band by band, as the whole image's resize
  // premultiplies it (every pixel, because some are not opaque).
  it.each(['basn6a08.png', 'basn4a16.png', 'tbbn3p08.png', 'tp1n3p08.png', 'tbwn0g16.png', 'tm3n3p02.png'])('%s (alpha): the same pixels both ways', async (name) => {
    const { streamed, viaRecipe, twoSteps } = await bothWays(fixture(`pngsuite/${name}`), { width: 20, height: 19 });
    expect(streamed).toBeDefined();
    expect(same(streamed!, twoSteps)).toBe(true);
    expect(same(viaRecipe, twoSteps)).toBe(true);
  });

  it.each([
    ['an RGBA graphic reduced 9x (box pre-shrink, transparent and opaque areas)', true, 150],
    ['an RGBA image whose every pixel is opaque (the whole resize then skips premultiplying)', false, 600],
    ['an opaque photo reduced 9x (box pre-shrink)', undefined, 150],
  ])('%s: streamed, the same pixels both ways', async (_, transparent, width) => {
    const w = 1400, h = 1000;
    const channels = transparent === undefined ? 3 : 4;
    const raw = Buffer.alloc(w * h * channels);
    let seed = 3;
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      const o = (y * w + x) * channels;
      raw[o] = (x * 255) / w; raw[o + 1] = (y * 255) / h; raw[o + 2] = (x + y + (seed >>> 28)) & 255;
      if (channels === 4) raw[o + 3] = !transparent ? 255 : Math.hypot(x - 700, y - 500) < 300 ? 255 : (x * 3 + y) & 255;
    }
    const bytes = new Uint8Array(await sharp(raw, { raw: { width: w, height: h, channels } }).png().toBuffer());
    const height = Math.round((width * h) / w);
    const { streamed, viaRecipe, twoSteps } = await bothWays(bytes, { width, height });
    expect(streamed).toBeDefined();
    expect(same(streamed!, twoSteps)).toBe(true);
    expect(same(viaRecipe, twoSteps)).toBe(true);
  });

  // An Adam7 image's rows are complete only after its last pass: decoded whole, then resized.
  it.each(['basi0g08.png', 'basi2c16.png', 'basi3p02.png', 'basi6a08.png'])('%s (interlaced): decoded whole, then resized, to the same pixels', async (name) => {
    const { streamed, viaRecipe, twoSteps } = await bothWays(fixture(`pngsuite/${name}`), { width: 20, height: 19 });
    expect(streamed).toBeUndefined();
    expect(same(viaRecipe, twoSteps)).toBe(true);
  });

  it('refuses damaged image data (its CRC recomputed, so only the inflate can tell) as the whole decode does', async () => {
    const bytes = (await photoPng()).slice();
    // Find the first IDAT and damage its middle, then recompute its CRC.
    let o = 8;
    while (String.fromCharCode(...bytes.subarray(o + 4, o + 8)) !== 'IDAT') o += 12 + new DataView(bytes.buffer).getUint32(o);
    const len = new DataView(bytes.buffer).getUint32(o);
    for (let i = 0; i < 64; i++) bytes[o + 8 + Math.floor(len / 2) + i] ^= 0x5a;
    const { crc32 } = await import('node:zlib');
    new DataView(bytes.buffer).setUint32(o + 8 + len, crc32(bytes.subarray(o + 4, o + 8 + len)));
    await expectDamagedAlike(bytes, { width: 1600, height: 1200 });
  });
});

describe('PNG encode (libspng)', () => {
  it.each([['an RGBA image', 'pngsuite/basn6a08.png', 6], ['an opaque image, written as RGB as sharp writes it', 'pngsuite/basn2c16.png', 2]])(
    '%s: lossless, colour type %#',
    async (_, file, colourType) => {
      const { encode } = await import('../../entries/node.js');
      const decoded = await decode(fixture(file));
      const png = await encode(decoded, 'png');
      // IHDR's colour type, then the pixels back exactly.
      expect(png[25]).toBe(colourType);
      expect(png[24]).toBe(8);
      const back = await decode(png);
      expect([back.width, back.height]).toEqual([decoded.width, decoded.height]);
      expect(same(back, decoded)).toBe(true);
      // sharp (libpng) reads the same pixels from our file.
      const theirs = await sharp(png).ensureAlpha().raw().toBuffer();
      expect(Buffer.compare(theirs, Buffer.from(decoded.data))).toBe(0);
    },
  );
});
