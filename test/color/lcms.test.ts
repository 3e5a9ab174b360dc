/**
 * The embedded ICC profiles src/color/icc.ts leaves to Little CMS (wasm/lcms2): a LUT-based RGB
 * profile and a CMYK profile, against sharp's (libvips with lcms) conversion of the same files to
 * sRGB, on the whole decode and on the decode into a resize; damaged profiles; and what happens
 * where the module is not deployed (test/color/lcms-missing.test.ts).
 */
import { describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { cmykProfile, inputProfile } from '../../src/color/icc.js';
import { applyProfile } from '../../src/color/lcms.js';
import { decodeResized } from '../../src/decode-resized.js';
import { decode, readHeader, resize } from '../../entries/node.js';
import { fixture, image } from '../helpers/fixtures.js';

const LUT = fixture('icc/lut-profile.jpg');
const CMYK = image('Channel_digital_image_CMYK_color.jpg');

/** Largest and mean difference of the colour channels (alpha left out). */
function diff(a: ArrayLike<number>, b: ArrayLike<number>): { max: number; mean: number } {
  expect(a.length).toBe(b.length);
  let max = 0, sum = 0;
  for (let i = 0; i < a.length; i++) {
    if (i % 4 === 3) continue;
    const d = Math.abs(a[i] - b[i]);
    max = Math.max(max, d);
    sum += d;
  }
  return { max, mean: sum / ((a.length / 4) * 3) };
}

/** sharp's decode of a file to sRGB RGBA (it converts embedded profiles by default), not rotated. */
const sharpRgba = async (bytes: Uint8Array) => new Uint8Array(await sharp(bytes).ensureAlpha().raw().toBuffer());

describe('profiles only Little CMS applies', () => {
  it('a LUT-based RGB profile: no matrix/TRC conversion, the profile for lcms', async () => {
    const header = readHeader(LUT);
    expect(header.iccBytes).toBeGreaterThan(100_000);
    const { srgb, lcms: profile } = await inputProfile(LUT, header);
    expect(srgb).toBeUndefined();
    expect(profile?.length).toBe(header.iccBytes);
    // Colour space RGB, PCS Lab: what makes it a table-driven profile here.
    expect(new TextDecoder().decode(profile!.subarray(16, 24))).toBe('RGB Lab ');
  });

  it('a CMYK JPEG\'s profile is for its CMYK decode, not for RGB pixels', async () => {
    const header = readHeader(CMYK);
    expect(await inputProfile(CMYK, header)).toEqual({});
    expect((await cmykProfile(CMYK, header))?.length).toBe(557_168);
    expect(await cmykProfile(image('Channel_digital_image_CMYK_color_no_profile.jpg'), readHeader(image('Channel_digital_image_CMYK_color_no_profile.jpg')))).toBeUndefined();
  });

  it('neither for a matrix/TRC profile nor for a file without one', async () => {
    for (const name of ['Landscape_2.jpg', 'p3.png', 'flowers.jpeg']) {
      expect((await inputProfile(image(name), readHeader(image(name)))).lcms).toBeUndefined();
    }
  });
});

describe('pixels against sharp', () => {
  it('the LUT-profile JPEG: within one level of sharp (6.8 levels mean, 21 at most, without lcms)', async () => {
    const ours = await decode(LUT, { autoOrient: false });
    const d = diff(ours.data, await sharpRgba(LUT));
    expect(d.max).toBeLessThanOrEqual(1);
    expect(d.mean).toBeLessThan(0.05);
  });

  it('the CMYK JPEG with a profile: within one level of sharp (12.7 levels mean without lcms)', async () => {
    const ours = await decode(CMYK, { autoOrient: false });
    expect([ours.width, ours.height, ours.header.components]).toEqual([500, 333, 4]);
    const d = diff(ours.data, await sharpRgba(CMYK));
    expect(d.max).toBeLessThanOrEqual(1);
    expect(d.mean).toBeLessThan(0.05);
  });

  it('the decode into a resize gives the pixels of decode then resize, converted', async () => {
    const header = readHeader(LUT);
    const target = { width: 300, height: Math.round((header.height * 300) / header.width) };
    const resized = await decodeResized(LUT, header, target);
    const twoStep = await resize(await decode(LUT, { autoOrient: false }), { ...target, fit: 'fill' });
    expect(Buffer.from(resized.data).equals(Buffer.from(twoStep.data))).toBe(true);
    // The conversion happened: the same file read as if it had no profile differs visibly.
    const unconverted = await decodeResized(LUT, { ...header, iccBytes: 0, iccRanges: undefined }, target);
    expect(diff(resized.data, unconverted.data).max).toBeGreaterThan(10);
  });

  it('a transform is reused for the same profile only: alternating files give each its own pixels', async () => {
    const lut = Buffer.from((await decode(LUT, { autoOrient: false })).data);
    const cmyk = Buffer.from((await decode(CMYK, { autoOrient: false })).data);
    expect(Buffer.from((await decode(LUT, { autoOrient: false })).data).equals(lut)).toBe(true);
    expect(Buffer.from((await decode(CMYK, { autoOrient: false })).data).equals(cmyk)).toBe(true);
    // The same profile given to RGB and then to CMYK pixels: the second is refused, not the first's transform.
    const profile = (await inputProfile(LUT, readHeader(LUT))).lcms!;
    const pixels = new Uint8Array(16).fill(200);
    expect(await applyProfile(pixels.slice(), profile, 'rgba')).toBe(true);
    expect(await applyProfile(pixels, profile, 'cmyk')).toBe(false);
    expect(pixels).toEqual(new Uint8Array(16).fill(200));
  });

  it('alpha is kept: an RGBA pixel row keeps its alpha bytes through the transform', async () => {
    const profile = (await inputProfile(LUT, readHeader(LUT))).lcms!;
    const pixels = new Uint8Array([255, 0, 0, 7, 0, 255, 0, 130, 0, 0, 255, 255, 128, 128, 128, 0]);
    expect(await applyProfile(pixels, profile, 'rgba')).toBe(true);
    expect([pixels[3], pixels[7], pixels[11], pixels[15]]).toEqual([7, 130, 255, 0]);
    // A neutral stays near neutral.
    expect(Math.max(pixels[12], pixels[13], pixels[14]) - Math.min(pixels[12], pixels[13], pixels[14])).toBeLessThanOrEqual(3);
  });
});

describe('profiles lcms cannot use leave the pixels alone', () => {
  it('truncated or altered LUT and CMYK profiles: no throw, the pixels converted or untouched', async () => {
    const rgb = (await inputProfile(LUT, readHeader(LUT))).lcms!;
    const cmyk = (await cmykProfile(CMYK, readHeader(CMYK)))!;
    const ramp = Uint8Array.from({ length: 256 * 4 }, (_, i) => (i % 4 === 3 ? 255 : (i >> 2) ^ (i & 3) * 85));
    const check = async (p: Uint8Array, layout: 'rgba' | 'cmyk') => {
      const pixels = ramp.slice();
      if (!(await applyProfile(pixels, p, layout))) expect(pixels).toEqual(ramp);
    };
    for (const [p, layout] of [[rgb, 'rgba'], [cmyk, 'cmyk']] as const) {
      // Each try builds a transform (~0.1 s for these large profiles): a dozen cuts, the header and tag table's bytes.
      for (let n = 0; n < p.length; n += Math.ceil(p.length / 12)) await check(p.subarray(0, n), layout);
      for (let i = 0; i < 240; i += 13) {
        const q = p.slice();
        q[i] ^= 0xa5;
        await check(q, layout);
      }
      // A profile of the other kind is refused, not applied.
      const pixels = ramp.slice();
      expect(await applyProfile(pixels, p, layout === 'rgba' ? 'cmyk' : 'rgba')).toBe(false);
      expect(pixels).toEqual(ramp);
    }
  });
});
