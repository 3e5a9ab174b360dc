/**
 * The HEIC plug-in (imgpipe/heic): what iPhones write decodes as libheif's own heif-convert decodes
 * it (references in test/fixtures/heic-reference/, made with Debian's heif-convert 1.15.1), and
 * damaged or hostile files are refused with typed errors while the plug-in keeps working.
 */
import { describe, expect, it } from 'vitest';
import { decode, init, inspect, processUpload, transform, type RGBAImage } from '../../entries/node.js';
import { heic, createHeicPlugin } from '../../entries/heic/node.js';
import { rejection } from '../helpers/errors.js';
import { boxAt, setU16, setU32 } from '../helpers/bytes.js';
import { fixture, image } from '../helpers/fixtures.js';
import { meanDelta } from '../helpers/compare.js';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const iphone = image('IMG_5195.HEIC');
const sample = image('samplefilehub.heif');
const reference = (name: string) => fixture(`heic-reference/${name}`);

function crop(img: RGBAImage, left: number, top: number, width: number, height: number): RGBAImage {
  const data = new Uint8ClampedArray(width * height * 4);
  for (let y = 0; y < height; y++) data.set(img.data.subarray(((top + y) * img.width + left) * 4, ((top + y) * img.width + left + width) * 4), y * width * 4);
  return { width, height, data };
}


describe('HEIC plug-in', () => {
  it('decodes an iPhone grid HEIC (42 tiles, Display P3) as heif-convert does, converted to sRGB', async () => {
    const img = await decode(iphone);
    expect([img.format, img.width, img.height, img.orientation]).toEqual(['heic', 2566, 3313, 1]);
    // heif-convert's PNG of the same region (tile edges at x 1024, 1536, y 1536), with its P3 profile.
    const ref = await decode(reference('IMG_5195-crop.png'));
    expect(meanDelta(crop(img, 1000, 1400, 560, 560), ref)).toBeLessThanOrEqual(1);
  });

  it('decodes a single-image HEIF, a 10-bit image with alpha and an 8-bit one with alpha as heif-convert does', async () => {
    for (const [file, ref] of [['samplefilehub.heif', 'samplefilehub.png'], ['heic-10bit-alpha.heic', 'heic-10bit-alpha.png'], ['heic-alpha.heic', 'heic-alpha.png']]) {
      const img = await decode(image(file));
      const want = await decode(reference(ref));
      expect([img.width, img.height]).toEqual([want.width, want.height]);
      expect(meanDelta(img, want), file).toBeLessThanOrEqual(1);
    }
    const alpha = await decode(image('heic-10bit-alpha.heic'));
    expect(inspect(image('heic-10bit-alpha.heic'))).toMatchObject({ alpha: true, bitDepth: 10 });
    const alphas = new Set(alpha.data.filter((_, i) => i % 4 === 3));
    expect(alphas.size).toBeGreaterThan(32); // a ramp, not an opaque image
  });

  it('runs the upload recipe and x-oss-process on a HEIC; with no format asked for, a HEIC becomes JPEG', async () => {
    const variants = await processUpload(iphone, { key: 'u/IMG_5195.HEIC' });
    expect(variants.map((v) => `${v.key} ${v.width}x${v.height}`)).toEqual([
      'resized/large/u/IMG_5195.jpg 1200x1549', 'webp/large/u/IMG_5195.webp 1200x1549',
      'resized/medium/u/IMG_5195.jpg 600x775', 'webp/medium/u/IMG_5195.webp 600x775',
      'resized/thumb/u/IMG_5195.jpg 150x194', 'webp/thumb/u/IMG_5195.webp 150x194',
    ]);
    const out = await transform(sample, 'image/resize,w_320');
    expect([out.format, out.contentType, out.width, out.height]).toEqual(['jpeg', 'image/jpeg', 320, 213]);
    expect((await transform(sample, 'image/resize,w_100/format,webp')).format).toBe('webp');
  });

  it('init({ plugins }) enables a plug-in made from the module bytes', async () => {
    const bytes = readFileSync(fileURLToPath(new URL('../../wasm/libheif/build/imgpipe_heif.wasm', import.meta.url)));
    const own = createHeicPlugin({ wasm: bytes });
    await init({ plugins: [own] });
    expect((await decode(sample)).width).toBe(640);
    await init({ plugins: [heic] });
    expect(await rejection(init({ plugins: [{} as never] }))).toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  describe('bad input: typed errors, and the plug-in still decodes afterwards', () => {
    const cases: [string, () => Uint8Array, string, RegExp][] = [
      ['truncated in its meta box', () => iphone.slice(0, 600), 'CORRUPT_IMAGE', /^Expected a valid HEIF header but it is truncated: its meta box at offset \d+ declares \d+ bytes but 5\d\d remain$/],
      ['truncated in its image data', () => iphone.slice(0, 400_000), 'CORRUPT_IMAGE', /^Expected a valid HEIF header but it is truncated: its mdat box at offset 3015 declares 830269 bytes but 396985 remain$/],
      ['image data cut short inside a whole box', () => {
        // The mdat box is shortened with its size field, so the file is consistent but the HEVC data isn't there.
        const b = sample.slice(0, sample.length - 5000);
        const mdat = boxAt(b, 'mdat') - 4;
        setU32(b, mdat, b.length - mdat);
        return b;
      }, 'CORRUPT_IMAGE', /^Expected a decodable HEIC but libheif reports /],
      ['missing primary item', () => { const b = sample.slice(); setU16(b, boxAt(b, 'pitm') + 8, 999); return b; }, 'CORRUPT_IMAGE', /^Expected a valid HEIF header but its primary item 999 is not in its item list$/],
      ['grid not covering its canvas', () => {
        const b = iphone.slice();
        let ispe = boxAt(b, 'ispe');
        // The grid's own ispe (2566x3313) among the tiles' (512x512).
        while (new DataView(b.buffer).getUint32(ispe + 8) !== 2566) ispe = boxAt(b, 'ispe', ispe + 4);
        setU32(b, ispe + 8, 3100);
        const idat = boxAt(b, 'idat');
        setU16(b, idat + 8, 3100); // ImageGrid: version, flags, rows-1, columns-1, width, height
        return b;
      }, 'CORRUPT_IMAGE', /^Expected a valid HEIF header but its grid's 6x7 tiles of 512x512 pixels do not cover its 3100x3313 canvas$/],
      ['declared size over maxSide', () => { const b = sample.slice(); const o = boxAt(b, 'ispe'); setU32(b, o + 8, 40_000); setU32(b, o + 12, 40_000); return b; }, 'IMAGE_TOO_LARGE', /^Expected each side to be at most 30000 px \(limits.maxSide\) but the image header declares 40000x40000$/],
      ['another codec in the container', () => { const b = sample.slice(); const o = boxAt(b, 'infe'); b.set([0x6a, 0x70, 0x65, 0x67], o + 12); return b; }, 'UNSUPPORTED_FORMAT', /^Expected a HEIF whose primary image is HEVC-coded \(hvc1\) but received one coded as "jpeg"$/],
      ['no meta box', () => sample.slice(0, 32), 'CORRUPT_IMAGE', /^Expected a valid HEIF header but /],
    ];
    for (const [name, make, code, message] of cases) {
      it(name, async () => {
        const e = await rejection(decode(make()));
        expect(e.code).toBe(code);
        expect(e.message).toMatch(message);
        expect((await decode(sample)).width).toBe(640);
      });
    }

    it('damaged HEVC data: a typed error or a picture, never a crash', async () => {
      const meta = boxAt(sample, 'mdat');
      for (let seed = 1; seed <= 6; seed++) {
        const b = sample.slice();
        for (let i = 0; i < 40; i++) b[meta + 16 + ((seed * 7919 + i * 104729) % (b.length - meta - 16))] ^= 0x5a;
        await decode(b).then((img) => expect(img.width).toBe(640), (e) => expect(['CORRUPT_IMAGE', 'UNSUPPORTED_FORMAT']).toContain((e as { code: string }).code));
      }
      expect((await decode(sample)).width).toBe(640);
    });

    it('limits: a HEIC over maxPixels is refused from its header', async () => {
      expect(await rejection(decode(iphone, { limits: { maxPixels: 8_000_000 } }))).toEqual({
        code: 'IMAGE_TOO_LARGE',
        message: 'Expected at most 8000000 pixels (limits.maxPixels) but the image header declares 2566x3313 = 8501158 pixels',
      });
    });
  });
});
