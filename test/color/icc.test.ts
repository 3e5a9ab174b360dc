/**
 * Embedded ICC profiles: which ones are read, the conversion they give, and the pixels against
 * sharp's (libvips with lcms) conversion of the same files to sRGB, on every decode path: a whole
 * decode, the streamed decode into the resize, and bands shared with a pool worker (in
 * test/pool/shared-rows.test.ts). Profiles that can't be used leave the pixels as decoded.
 */
import { deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { MAX_INFLATED_PROFILE_BYTES, conversionFor, inputProfile, type SrgbConversion } from '../../src/color/icc.js';
import { decodeResized } from '../../src/decode-resized.js';
import { decode, readHeader, resize } from '../../entries/node.js';
import { image } from '../helpers/fixtures.js';
import { ascii, concat, jpegSegment, jpegWith, pngChunk, pngWith } from '../helpers/bytes.js';

const conversionOf = async (bytes: Uint8Array) => (await inputProfile(bytes, readHeader(bytes))).srgb;

/** Largest difference of any colour channel (alpha left out). */
function maxChannelDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) if (i % 4 !== 3) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}

/** sharp's decode of a file to sRGB RGBA (it converts embedded profiles by default), not rotated. */
const sharpRgba = async (bytes: Uint8Array) => new Uint8Array(await sharp(bytes).ensureAlpha().raw().toBuffer());

/** The photo, smaller (so the suite stays quick), re-encoded by sharp with a Display P3 profile. */
const p3Photo = async (format: 'jpeg' | 'webp', width = 1400) => {
  const s = sharp(image('2569067123_aca715a2ee_o.jpg')).resize(width).withIccProfile('p3');
  return new Uint8Array(await (format === 'jpeg' ? s.jpeg({ quality: 90 }) : s.webp({ lossless: true })).toBuffer());
};

/** The ICC profile sharp reads from a file. */
const profileOf = async (bytes: Uint8Array) => new Uint8Array((await sharp(bytes).metadata()).icc!);

describe('which profiles are applied', () => {
  it('none without a profile, none for sRGB itself', async () => {
    expect(await conversionOf(image('2569067123_aca715a2ee_o.jpg'))).toBeUndefined();
    // HP's sRGB IEC61966-2.1, tabulated: it moves no value by more than rounding.
    expect(readHeader(image('320x240.jpg')).iccBytes).toBe(3_144);
    expect(await conversionOf(image('320x240.jpg'))).toBeUndefined();
  });

  it('Display P3 (PNG iCCP, compressed): the P3-to-sRGB matrix and sRGB curves', async () => {
    const c = (await conversionOf(image('p3.png')))!;
    // P3 D65 to sRGB D65 in linear light (the primaries' matrices; both profiles adapted to D50 alike).
    const expected = [1.2249, -0.2247, 0, -0.042, 1.0419, 0, -0.0197, -0.0786, 1.0979];
    Array.from(c.matrix).forEach((v, i) => expect(v).toBeCloseTo(expected[i], 3));
    expect(c.linear[1][128]).toBeCloseTo(((128 / 255 + 0.055) / 1.055) ** 2.4, 3);
  });

  it('Apple Generic RGB (JPEG APP2): gamma 1.8 curves', async () => {
    const c = (await conversionOf(image('Landscape_2.jpg')))!;
    for (const table of c.linear) expect(table[128]).toBeCloseTo((128 / 255) ** 1.8, 3);
  });

  it('grey gamma 2.2: the same curve in every channel, no mixing', async () => {
    const c = (await conversionOf(image('concert.jpg')))!;
    expect(Array.from(c.matrix)).toEqual([1, 0, 0, 0, 1, 0, 0, 0, 1]);
    for (const table of c.linear) expect(table[64]).toBeCloseTo((64 / 255) ** 2.2, 3);
  });

  it('reads and probes a profile once: the same bytes give the same conversion', async () => {
    const profile = await profileOf(image('Landscape_2.jpg'));
    const first = await conversionFor(profile);
    expect(first).toBeDefined();
    expect(await conversionFor(profile.slice())).toBe(first);
    expect(await conversionOf(image('Landscape_3.jpg'))).toBe(first);
  });

  it('reads a file\'s profile once for the header inspect gave it, again for other bytes', async () => {
    const bytes = image('p3.png');
    const header = readHeader(bytes);
    const once = inputProfile(bytes, header);
    expect(inputProfile(bytes, header)).toBe(once);
    expect((await once).srgb).toBeDefined();
    const other = inputProfile(bytes.slice(), header);
    expect(other).not.toBe(once);
    expect((await other).srgb).toBe((await once).srgb);
  });

  it('none for a CMYK profile (a LUT-based one this module does not apply)', async () => {
    expect(readHeader(image('Channel_digital_image_CMYK_color.jpg')).iccBytes).toBe(557_168);
    expect(await conversionOf(image('Channel_digital_image_CMYK_color.jpg'))).toBeUndefined();
  });
});

describe('pixels against sharp', () => {
  for (const name of ['p3.png', 'Landscape_2.jpg', 'concert.jpg']) {
    it(`${name}: within one level of sharp's conversion`, async () => {
      const ours = await decode(image(name), { autoOrient: false });
      expect(maxChannelDiff(ours.data, await sharpRgba(image(name)))).toBeLessThanOrEqual(1);
    });
  }

  it('a Display P3 JPEG and a lossless Display P3 WebP: within one level of sharp', async () => {
    for (const bytes of [await p3Photo('jpeg'), await p3Photo('webp')]) {
      expect(await conversionOf(bytes)).toBeDefined();
      expect(maxChannelDiff((await decode(bytes)).data, await sharpRgba(bytes))).toBeLessThanOrEqual(1);
    }
  });

  it('the streamed decode into the resize gives the pixels of decode then resize', async () => {
    const bytes = await p3Photo('jpeg');
    const header = readHeader(bytes);
    const target = { width: 600, height: Math.round((header.height * 600) / header.width) };
    const streamed = await decodeResized(bytes, header, target);
    const twoStep = await resize(await decode(bytes), { ...target, fit: 'fill' });
    expect(Buffer.from(streamed.data).equals(Buffer.from(twoStep.data))).toBe(true);
    // And the conversion happened: the same file read as if it had no profile differs visibly.
    const unconverted = await decodeResized(bytes, { ...header, iccBytes: 0, iccRanges: undefined }, target);
    expect(maxChannelDiff(streamed.data, unconverted.data)).toBeGreaterThan(10);
  });

  it('a profile split over JPEG APP2 chunks in any order is joined by sequence number', async () => {
    const withProfile = await p3Photo('jpeg', 320);
    const profile = await profileOf(withProfile);
    const bare = new Uint8Array(await sharp(withProfile).jpeg({ quality: 90 }).toBuffer());
    const chunk = (seq: number, part: Uint8Array) => jpegSegment(0xe2, concat(ascii('ICC_PROFILE\0'), new Uint8Array([seq, 2]), part));
    const half = profile.length >> 1;
    const split = jpegWith(bare, chunk(2, profile.subarray(half)), chunk(1, profile.subarray(0, half)));
    expect(readHeader(split).iccBytes).toBe(profile.length);
    const c = await conversionOf(split);
    expect(c).toEqual(await conversionFor(profile));
    expect(c).toBeDefined();
  });
});

describe('profiles that cannot be used leave the pixels alone', () => {
  it('every truncation and many single-byte changes of a real profile: no throw, a usable conversion or none', async () => {
    const profile = await profileOf(await p3Photo('jpeg', 64));
    const check = async (p: Uint8Array) => {
      const c: SrgbConversion | undefined = await conversionFor(p);
      if (c) {
        expect(Array.from(c.matrix).every(Number.isFinite)).toBe(true);
        for (const t of c.linear) expect(t.every((v) => v >= 0 && v <= 1)).toBe(true);
      }
    };
    for (let n = 0; n < profile.length; n += 7) await check(profile.subarray(0, n));
    for (let i = 0; i < profile.length; i += 3) {
      const p = profile.slice();
      p[i] ^= 0xa5;
      await check(p);
    }
  });

  it('a PNG whose iCCP holds no ICC profile decodes as if it had none', async () => {
    const png = image('with-alpha.png');
    const broken = pngWith(png, pngChunk('iCCP', concat(ascii('Display P3\0\0'), deflateSync(ascii('an ICC profile it is not')))));
    expect(readHeader(broken).iccBytes).toBeGreaterThan(0);
    expect(await conversionOf(broken)).toBeUndefined();
    expect(Buffer.from((await decode(broken)).data).equals(Buffer.from((await decode(png)).data))).toBe(true);
    // Data that doesn't even inflate: no conversion either (the PNG decoder itself refuses that file).
    expect(await conversionOf(pngWith(png, pngChunk('iCCP', concat(ascii('Display P3\0\0'), ascii('not a zlib stream')))))).toBeUndefined();
  });

  it('an iCCP that inflates past MAX_INFLATED_PROFILE_BYTES (a decompression bomb) is ignored, not inflated', async () => {
    // A real Display P3 profile followed by zeros: about 64 KB of deflate inflating to four times
    // the cap. Read whole, it would give the P3 conversion (its header's size field is all that counts).
    const p3 = await profileOf(image('p3.png'));
    const inflated = concat(p3, new Uint8Array(4 * MAX_INFLATED_PROFILE_BYTES));
    expect(await conversionFor(inflated)).toBeDefined();
    const bomb = deflateSync(inflated, { level: 9 });
    expect(bomb.length).toBeLessThan(100_000);
    const file = pngWith(image('with-alpha.png'), pngChunk('iCCP', concat(ascii('bomb\0\0'), bomb)));
    expect(await conversionOf(file)).toBeUndefined();
  });
});
