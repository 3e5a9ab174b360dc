/**
 * PNG decoded, or refused, as sharp decides: PngSuite (every file, against sharp's decode of it), and
 * files built here for the chunk problems real uploads carry. libpng and libspng decode a file whose
 * ancillary chunk is bad (ignoring that chunk) and refuse one whose critical chunk fails its CRC.
 */
import { describe, expect, it } from 'vitest';
import { readdirSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import sharp from 'sharp';
import { decode, inspect } from '../../entries/node.js';
import { FIXTURES, fixture, image } from '../helpers/fixtures.js';
import { sharpRaw } from '../helpers/compare.js';

const refusal = (p: Promise<unknown>) => p.then(() => undefined, (e: { code?: string; message?: string }) => ({ code: e.code, message: e.message }));
const SUITE = readdirSync(`${FIXTURES}pngsuite`).filter((f) => f.endsWith('.png')).sort();

describe('PngSuite (every file) against sharp', () => {
  it('holds the whole suite', () => expect(SUITE.length).toBe(175));

  it.each(SUITE)('%s: decoded to sharp\'s pixels, or refused where sharp refuses it', async (name) => {
    const b = fixture(`pngsuite/${name}`);
    const theirs = await sharpRaw(b).catch(() => undefined);
    const ours = await decode(b).catch((e: { code: string; message: string }) => e);
    if (!theirs) {
      // The x-files: damaged on purpose; refused with a message that names the problem (a damaged
      // signature is no PNG at all).
      const e = ours as { code: string; message: string };
      expect(`${e.code}: ${e.message}`).toMatch(/^(CORRUPT_IMAGE: Expected a (valid PNG header|decodable PNG) but |UNSUPPORTED_FORMAT: Expected an image in one of [^ ].* but received)/);
      return;
    }
    expect(ours).not.toBeInstanceOf(Error);
    const img = ours as Awaited<ReturnType<typeof decode>>;
    expect([img.width, img.height]).toEqual([theirs.width, theirs.height]);
    expect(Buffer.from(img.data).equals(Buffer.from(theirs.data))).toBe(true);
  });
});

/** A PNG chunk with its CRC (computed by Node's zlib, independently of imgpipe's). */
function chunk(type: string, data: number[] | Uint8Array = []): Uint8Array {
  const body = new Uint8Array([...type].map((c) => c.charCodeAt(0)).concat([...data]));
  const out = new Uint8Array(12 + data.length);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, data.length);
  out.set(body, 4);
  dv.setUint32(8 + data.length, crc32(body));
  return out;
}

/** Split a PNG into [signature, ...chunks]. */
function chunks(b: Uint8Array): Uint8Array[] {
  const out = [b.subarray(0, 8)];
  for (let o = 8; o + 12 <= b.length;) {
    const len = new DataView(b.buffer, b.byteOffset).getUint32(o);
    out.push(b.subarray(o, o + 12 + len));
    o += 12 + len;
  }
  return out;
}

const typeOf = (c: Uint8Array) => String.fromCharCode(...c.subarray(4, 8));
const join = (parts: Uint8Array[]) => new Uint8Array(parts.flatMap((p) => [...p]));

/** basn2c08 (RGB) or basn3p08 (palette) with `extra` chunks inserted before the first IDAT (or after, with `where`). */
function withChunks(extra: Uint8Array[], base = 'basn2c08.png', where: 'before' | 'after' = 'before'): Uint8Array {
  const parts = chunks(fixture(`pngsuite/${base}`));
  const at = where === 'before' ? parts.findIndex((c) => typeOf(c) === 'IDAT') : parts.findIndex((c) => typeOf(c) === 'IEND');
  return join([...parts.slice(0, at), ...extra, ...parts.slice(at)]);
}

describe('ancillary chunk problems are ignored, as libpng and libspng ignore them', () => {
  const gama = (v: number) => chunk('gAMA', [v >>> 24, (v >> 16) & 255, (v >> 8) & 255, v & 255]);
  const badCrc = (c: Uint8Array) => { const x = c.slice(); x[x.length - 1] ^= 0xff; return x; };
  const cases: [string, () => Uint8Array, string?][] = [
    ['a duplicated sRGB', () => withChunks([chunk('sRGB', [0]), chunk('sRGB', [0])])],
    ['a duplicated gAMA', () => withChunks([gama(45455), gama(100000)])],
    ['a duplicated pHYs', () => withChunks([chunk('pHYs', [0, 0, 11, 19, 0, 0, 11, 19, 1]), chunk('pHYs', [0, 0, 11, 19, 0, 0, 11, 19, 1])])],
    // The first one (a colour the image lacks) is kept; the second (white) would change pixels.
    ['a duplicated tRNS', () => withChunks([chunk('tRNS', [0, 1, 0, 2, 0, 3]), chunk('tRNS', [0, 255, 0, 255, 0, 255])])],
    ['a pHYs of the wrong length', () => withChunks([chunk('pHYs', [0, 0, 11, 19])])],
    ['a cHRM of the wrong length', () => withChunks([chunk('cHRM', [1, 2, 3])])],
    ['an sRGB with rendering intent 9', () => withChunks([chunk('sRGB', [9])])],
    ['a zero gAMA', () => withChunks([gama(0)])],
    ['an iCCP without a usable name', () => withChunks([chunk('iCCP', [0, 0, 1, 2, 3])])],
    ['a bad CRC on a private chunk', () => withChunks([badCrc(chunk('prVt', [1, 2, 3]))])],
    ['a bad CRC on a tEXt chunk', () => withChunks([badCrc(chunk('tEXt', [...'Title\0x'].map((c) => c.charCodeAt(0))))])],
    ['a gAMA after the image data (out of order)', () => withChunks([gama(100000)], 'basn2c08.png', 'after')],
    ['a trailing empty IDAT after another chunk', () => withChunks([chunk('tEXt', [65, 0, 66]), chunk('IDAT')], 'basn2c08.png', 'after')],
    ['a tRNS longer than the palette', () => withChunks([chunk('tRNS', new Array(300).fill(7))], 'basn3p08.png'), 'basn3p08.png'],
    ['no IEND', () => { const p = chunks(fixture('pngsuite/basn2c08.png')); return join(p.slice(0, -1)); }],
    ['a truncated IEND', () => { const b = fixture('pngsuite/basn2c08.png'); return b.subarray(0, b.length - 5); }],
  ];

  it.each(cases)('%s: decoded, to the pixels sharp decodes and those of the file without it', async (_, make, base = 'basn2c08.png') => {
    const b = make();
    const ours = await decode(b);
    const clean = await decode(fixture(`pngsuite/${base}`));
    expect(Buffer.from(ours.data).equals(Buffer.from(clean.data))).toBe(true);
    const theirs = await sharpRaw(sharp(b, { failOn: 'none' }));
    expect(Buffer.from(ours.data).equals(Buffer.from(theirs.data))).toBe(true);
  });
});

describe('a tRNS sample past the bit depth is masked to it, as libpng and sharp read it', () => {
  it.each([
    // 300 in an 8-bit grey image is 44 (0x12C & 0xFF); 16 in a 4-bit one is 0; (300, 255, 255) in RGB is (44, 255, 255).
    ['grey, 8 bits', 'basn0g08.png', [1, 44]],
    ['grey, 4 bits', 'basn0g04.png', [0, 16]],
    ['grey, 1 bit', 'basn0g01.png', [0, 2]],
    ['RGB, 8 bits', 'basn2c08.png', [1, 44, 0, 255, 0, 255]],
  ] as const)('%s: decoded to sharp\'s pixels, the masked value transparent', async (_, base, value) => {
    const b = withChunks([chunk('tRNS', [...value])], base);
    const ours = await decode(b);
    const theirs = await sharpRaw(b);
    expect(Buffer.from(ours.data).equals(Buffer.from(theirs.data))).toBe(true);
    const clear = ours.data.filter((v, i) => i % 4 === 3 && v === 0).length;
    if (base !== 'basn2c08.png') expect(clear).toBeGreaterThan(0);
    expect(Buffer.from(ours.data).equals(Buffer.from((await decode(fixture(`pngsuite/${base}`))).data))).toBe(clear === 0);
  });
});

describe('a file cut inside an IDAT after the first', () => {
  /** basn2c08 with its image data split over two IDATs at `at` bytes, cut `keep` bytes into the second's data. */
  const cutInSecondIdat = (at: number, keep: number) => {
    const parts = chunks(fixture('pngsuite/basn2c08.png'));
    const i = parts.findIndex((c) => typeOf(c) === 'IDAT');
    const data = parts[i].subarray(8, parts[i].length - 4);
    const second = chunk('IDAT', data.subarray(at));
    return join([...parts.slice(0, i), chunk('IDAT', data.subarray(0, at)), second.subarray(0, 8 + keep)]);
  };

  it('with all the image data before it: decoded, as libspng and sharp decode it', async () => {
    const parts = chunks(fixture('pngsuite/basn2c08.png'));
    const i = parts.findIndex((c) => typeOf(c) === 'IDAT');
    // The whole stream in the first IDAT, then a second one cut right after its header (Pillow's truncated_end_chunk.png).
    const b = join([...parts.slice(0, i + 1), chunk('IDAT', new Array(100).fill(0)).subarray(0, 8)]);
    const ours = await decode(b);
    expect(Buffer.from(ours.data).equals(Buffer.from((await decode(fixture('pngsuite/basn2c08.png'))).data))).toBe(true);
    expect(Buffer.from(ours.data).equals(Buffer.from((await sharpRaw(b)).data))).toBe(true);
  });

  it('with image data missing: refused, as sharp refuses it', async () => {
    const b = cutInSecondIdat(30, 20); // basn2c08's 72 bytes of image data: 30 + 20 of the other 42
    expect(await refusal(decode(b))).toMatchObject({ code: 'CORRUPT_IMAGE', message: expect.stringMatching(/^Expected a decodable PNG but its image data \(IDAT\) is damaged or ends early: libspng reported "[^"]+"$/) });
    await expect(sharp(b).raw().toBuffer()).rejects.toThrow();
  });

  it('inside the first IDAT: refused, naming the chunk', async () => {
    const b = cutInSecondIdat(30, 20).subarray(0, 49 + 8 + 10); // the first IDAT (after IHDR and gAMA) at offset 49
    expect(await refusal(decode(b))).toEqual({ code: 'CORRUPT_IMAGE', message: 'Expected a decodable PNG but its IDAT chunk at offset 49 runs past the end of the file (30 bytes declared, 10 present)' });
  });
});

describe('critical chunks must pass their CRC, as sharp requires', () => {
  it('8 bytes flipped in the image data: refused, naming the chunk', async () => {
    const parts = chunks(image('with-alpha.png'));
    const i = parts.findIndex((c) => typeOf(c) === 'IDAT');
    const idat = parts[i].slice();
    const mid = idat.length >> 1;
    for (let k = mid; k < mid + 8; k++) idat[k] ^= 0xff;
    const offset = parts.slice(0, i).reduce((n, p) => n + p.length, 0);
    const b = join([...parts.slice(0, i), idat, ...parts.slice(i + 1)]);
    const err = await refusal(decode(b));
    expect(err?.code).toBe('CORRUPT_IMAGE');
    expect(err?.message).toMatch(new RegExp(`^Expected a decodable PNG but its IDAT chunk at offset ${offset} fails its CRC check \\(stored 0x[0-9a-f]{8}, computed 0x[0-9a-f]{8}\\)$`));
    await expect(sharp(b).raw().toBuffer()).rejects.toThrow();
  });

  it('a damaged IHDR is refused before decoding (after the limits, which a forged size meets first)', async () => {
    const b = fixture('pngsuite/basn2c08.png').slice();
    b[29] ^= 1;
    expect(inspect(b).width).toBe(32);
    const err = await refusal(decode(b));
    expect(err?.message).toMatch(/^Expected a decodable PNG but its IHDR chunk at offset 8 fails its CRC check \(stored 0x[0-9a-f]{8}, computed 0x[0-9a-f]{8}\)$/);
  });
});

describe('inspect validates IHDR fully', () => {
  /** basn2c08 with IHDR fields replaced (and its CRC recomputed: the fields, not the CRC, are wrong). */
  const ihdr = (depth: number, type: number, rest: number[] = [0, 0, 0]) => {
    const parts = chunks(fixture('pngsuite/basn2c08.png'));
    const data = [...parts[1].subarray(8, 16), depth, type, ...rest];
    return join([parts[0], chunk('IHDR', data), ...parts.slice(2)]);
  };
  it.each([
    [ihdr(8, 1), 'its IHDR declares colour type 1 (0, 2, 3, 4 or 6 allowed)'],
    [ihdr(8, 9), 'its IHDR declares colour type 9 (0, 2, 3, 4 or 6 allowed)'],
    [ihdr(0, 0), 'its IHDR declares bit depth 0 for colour type 0 (1, 2, 4, 8, 16 allowed)'],
    [ihdr(3, 2), 'its IHDR declares bit depth 3 for colour type 2 (8, 16 allowed)'],
    [ihdr(99, 6), 'its IHDR declares bit depth 99 for colour type 6 (8, 16 allowed)'],
    [ihdr(8, 2, [1, 0, 0]), 'its IHDR declares compression method 1 (0 allowed)'],
    [ihdr(8, 2, [0, 0, 2]), 'its IHDR declares interlace method 2 (0 or 1 allowed)'],
    [join(chunks(fixture('pngsuite/basn2c08.png')).filter((c) => typeOf(c) !== 'IDAT')), 'it has no image data: no IDAT chunk before IEND'],
    [join(chunks(fixture('pngsuite/basn3p08.png')).filter((c) => typeOf(c) !== 'PLTE')), 'it declares a palette image (colour type 3) but has no PLTE chunk before its image data'],
  ])('%#: CORRUPT_IMAGE, naming the field', (b, what) => {
    let err: unknown;
    try { inspect(b); } catch (e) { err = e; }
    expect(err).toMatchObject({ code: 'CORRUPT_IMAGE', message: `Expected a valid PNG header but ${what}` });
  });
});

describe('chunk CRC-32', () => {
  it('the JavaScript CRC (browsers, workerd) and the one Node\'s entry installs agree with zlib at every length and offset', async () => {
    const { crc32: ours, crc32Js } = await import('../../src/codecs/png-chunks.js');
    const bytes = new Uint8Array(20000);
    let seed = 5;
    for (let i = 0; i < bytes.length; i++) bytes[i] = (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24;
    for (const [from, to] of [[0, 0], [0, 1], [3, 11], [1, 4096], [7, 4103], [5, 20000], [0, 20000]]) {
      const want = crc32(bytes.subarray(from, to));
      expect(crc32Js(bytes, from, to), `JavaScript ${from}-${to}`).toBe(want);
      expect(ours(bytes, from, to), `installed ${from}-${to}`).toBe(want);
    }
  });
});
