import { describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { decode, inspect, encode, init, orient, isImgpipeError, WASM_MODULES, type RGBAImage } from '../../entries/node.js';
import { locateWasm } from '../../entries/node.js';
import { readFileSync } from 'node:fs';
import { fixture, image } from '../helpers/fixtures.js';
import { sharpRaw, similarity } from '../helpers/compare.js';
import { createImage, hasAlpha } from '../../src/image.js';

describe('bad inputs are refused with a typed error, and the codecs stay usable', () => {
  const cases: [string, string, RegExp][] = [
    ['bad/giant-image.jpg', 'IMAGE_TOO_LARGE', /^Expected at most 100000000 pixels \(limits\.maxPixels\) but the image header declares 20000x14000 = 280000000 pixels$/],
    ['bad/65536-uint32-limit.png', 'IMAGE_TOO_LARGE', /^Expected each side to be at most 30000 px \(limits\.maxSide\) but the image header declares 65536x65536$/],
    ['bad/truncated.jpg', 'CORRUPT_IMAGE', /^Expected a complete JPEG but the file is truncated: no end-of-image marker after the image data \(10000 bytes received\)$/],
    ['bad/truncated.png', 'CORRUPT_IMAGE', /^Expected a decodable PNG but its IDAT chunk at offset 33 runs past the end of the file \(32768 bytes declared, 9959 present\)$/],
    ['bad/corrupt-header.jpg', 'CORRUPT_IMAGE', /^Expected a valid JPEG header but segment 0xFFE1 at offset 2 runs past the end of the file$/],
  ];
  for (const [file, code, message] of cases) {
    it(`${file} → ${code}`, async () => {
      const err = await decode(fixture(file)).then(() => undefined, (e: unknown) => e);
      expect(isImgpipeError(err)).toBe(true);
      expect(err).toMatchObject({ code, name: 'ImgpipeError' });
      expect((err as Error).message).toMatch(message);
      // The next good image still decodes correctly.
      const good = await decode(image('320x240.jpg'));
      expect([good.width, good.height]).toEqual([320, 240]);
    });
  }

  it('refuses decompression bombs from the header alone, without allocating', () => {
    for (const file of ['bad/giant-image.jpg', 'bad/65536-uint32-limit.png']) {
      const bytes = fixture(file);
      const before = process.memoryUsage().arrayBuffers;
      expect(() => inspect(bytes)).toThrow(expect.objectContaining({ code: 'IMAGE_TOO_LARGE' }));
      expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(8 * 1024 * 1024);
    }
  });

  it('applies configurable limits', async () => {
    await expect(decode(image('320x240.jpg'), { limits: { maxPixels: 320 * 239 } })).rejects.toMatchObject({
      code: 'IMAGE_TOO_LARGE', message: 'Expected at most 76480 pixels (limits.maxPixels) but the image header declares 320x240 = 76800 pixels',
    });
    await expect(decode(image('320x240.jpg'), { limits: { maxBytes: 1000 } })).rejects.toMatchObject({
      code: 'IMAGE_TOO_LARGE', message: 'Expected at most 1000 bytes of input (limits.maxBytes) but received 81198 bytes',
    });
    await expect(decode(image('320x240.jpg'), { limits: { maxSide: 0 } })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT', message: 'Expected a positive integer for limits.maxSide but received 0',
    });
  });

  it.each([
    [new Uint8Array(0), 'Expected an image in one of JPEG, PNG, WebP, GIF, HEIC (with imgpipe/heic), AVIF (with imgpipe/avif) but received 0 bytes'],
    [new Uint8Array([0x49, 0x49, 0x2a, 0x00, 8, 0, 0, 0]), 'Expected an image in one of JPEG, PNG, WebP, GIF, HEIC (with imgpipe/heic), AVIF (with imgpipe/avif) but received a TIFF file'],
    [new TextEncoder().encode('<svg xmlns="http://www.w3.org/2000/svg"/>'), 'Expected an image in one of JPEG, PNG, WebP, GIF, HEIC (with imgpipe/heic), AVIF (with imgpipe/avif) but received an SVG file'],
    [new Uint8Array([0x42, 0x4d, ...new Array(20).fill(0)]), 'Expected an image in one of JPEG, PNG, WebP, GIF, HEIC (with imgpipe/heic), AVIF (with imgpipe/avif) but received a BMP file'],
    [new TextEncoder().encode('%PDF-1.7'), 'Expected an image in one of JPEG, PNG, WebP, GIF, HEIC (with imgpipe/heic), AVIF (with imgpipe/avif) but received a PDF file'],
    [new TextEncoder().encode('hello world'), 'Expected an image in one of JPEG, PNG, WebP, GIF, HEIC (with imgpipe/heic), AVIF (with imgpipe/avif) but received 11 bytes starting 68 65 6c 6c 6f 20 77 6f'],
  ])('names what it received when the format is not supported (%#)', async (bytes, message) => {
    await expect(decode(bytes)).rejects.toMatchObject({ code: 'UNSUPPORTED_FORMAT', message });
  });

  it('refuses a JPEG whose scan data is damaged instead of publishing grey blocks', async () => {
    const bytes = image('320x240.jpg').slice();
    // Overwrite a run of entropy-coded data in the middle of the scan with marker-like garbage.
    for (let i = bytes.length / 2; i < bytes.length / 2 + 64; i++) bytes[i | 0] = 0xff;
    const err = await decode(bytes).then(() => undefined, (e: unknown) => e);
    expect(err).toMatchObject({ code: 'CORRUPT_IMAGE' });
    expect((err as Error).message).toMatch(/^Expected a decodable JPEG but the decoder (reported|failed): ./);
    expect((await decode(image('flowers.jpeg'))).width).toBe(1920);
  });
});

describe('formats', () => {
  it('decodes CMYK JPEGs (with and without profile) to RGB instead of refusing them', async () => {
    for (const name of ['Channel_digital_image_CMYK_color.jpg', 'Channel_digital_image_CMYK_color_no_profile.jpg']) {
      const ours = await decode(image(name));
      expect([ours.width, ours.height, ours.header.components]).toEqual([500, 333, 4]);
      const sim = await similarity(ours, await sharpRaw(image(name)));
      expect(sim.hash).toBeLessThanOrEqual(2);
      // With its profile, Little CMS as sharp (test/color/lcms.test.ts); without, not colour-managed: see the README.
      expect(sim.delta).toBeLessThan(13);
    }
    // MozJPEG would have exited its runtime on these; the next JPEG still decodes.
    expect((await decode(image('320x240.jpg'))).width).toBe(320);
  });

  it.each(['grey-1-component.jpg', '16-bit-grey-alpha.png', 'Flag_of_the_Netherlands-16bit.png', 'grey-8bit-alpha.png', '50020484-00001.png', 'full-transparent.png', '4.webp', '5_webp_a.webp', 'bggn4a16.png'])(
    '%s decodes like sharp', async (name) => {
      const sim = await similarity(await decode(image(name)), await sharpRaw(image(name)));
      expect(sim.hash).toBeLessThanOrEqual(1);
      expect(sim.delta).toBeLessThan(2.5);
    });

  it('auto-orients all 8 EXIF orientations to look like Landscape_1', async () => {
    const upright = await decode(image('Landscape_1.jpg'));
    for (let o = 2; o <= 8; o++) {
      const d = await decode(image(`Landscape_${o}.jpg`));
      expect(d.orientation).toBe(o);
      expect([d.width, d.height]).toEqual([600, 450]);
      const sim = await similarity(d, upright);
      expect(sim.hash, `orientation ${o}`).toBeLessThanOrEqual(2);
      // Each file was re-encoded from the same photo with a colour profile: tone differs, layout must not.
      expect(sim.delta, `orientation ${o}`).toBeLessThan(12);
      const raw = await decode(image(`Landscape_${o}.jpg`), { autoOrient: false });
      expect(o >= 5 ? [raw.width, raw.height] : [raw.height, raw.width]).toEqual([450, 600]);
    }
  });

  it('orient maps pixels exactly for each orientation', () => {
    // 2x3 image with distinct pixels 0..5 (value in the red channel).
    const img: RGBAImage = { width: 2, height: 3, data: new Uint8ClampedArray([0, 1, 2, 3, 4, 5].flatMap((v) => [v, 0, 0, 255])) };
    const reds = (i: RGBAImage) => [...i.data].filter((_, k) => k % 4 === 0);
    expect(reds(orient(img, 2))).toEqual([1, 0, 3, 2, 5, 4]);
    expect(reds(orient(img, 3))).toEqual([5, 4, 3, 2, 1, 0]);
    expect(reds(orient(img, 4))).toEqual([4, 5, 2, 3, 0, 1]);
    expect(reds(orient(img, 5))).toEqual([0, 2, 4, 1, 3, 5]);
    expect(reds(orient(img, 6))).toEqual([4, 2, 0, 5, 3, 1]);
    expect(reds(orient(img, 7))).toEqual([5, 3, 1, 4, 2, 0]);
    expect(reds(orient(img, 8))).toEqual([1, 3, 5, 0, 2, 4]);
    expect(() => orient(img, 9)).toThrow('Expected an EXIF orientation between 1 and 8 for orient but received 9');
  });
});

describe('encode', () => {
  it('finds a transparent pixel wherever it is, also in a view at an odd byte offset', () => {
    const opaque = createImage(37, 11, 0x336699ff);
    expect(hasAlpha(opaque)).toBe(false);
    for (const at of [0, 200, 37 * 11 - 1]) {
      const img = createImage(37, 11, 0x336699ff);
      img.data[at * 4 + 3] = 254;
      expect(hasAlpha(img), `pixel ${at}`).toBe(true);
    }
    const backing = new Uint8ClampedArray(1 + 37 * 11 * 4).fill(255);
    const view = { width: 37, height: 11, data: backing.subarray(1) };
    expect(hasAlpha(view)).toBe(false);
    view.data[37 * 11 * 4 - 1] = 0;
    expect(hasAlpha(view)).toBe(true);
  });

  it('writes baseline JPEG by default and progressive on request', async () => {
    const d = await decode(image('320x240.jpg'));
    expect((await sharp(await encode(d, 'jpeg')).metadata()).isProgressive).toBe(false);
    expect((await sharp(await encode(d, 'jpeg', { progressive: true })).metadata()).isProgressive).toBe(true);
  });

  it('writes lossless WebP that round-trips exactly, and PNG', async () => {
    const d = await decode(image('with-alpha.png'));
    for (const bytes of [await encode(d, 'webp', { lossless: true }), await encode(d, 'png')]) {
      const back = await decode(bytes);
      expect(back.data).toEqual(d.data);
    }
  });

  it('refuses bad options and unwritable formats', async () => {
    const d = await decode(image('320x240.jpg'));
    await expect(encode(d, 'jpeg', { quality: 0 })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT', message: 'Expected an integer between 1 and 100 for encode.quality but received 0',
    });
    await expect(encode(d, 'gif')).rejects.toMatchObject({
      code: 'UNSUPPORTED_FORMAT', message: 'Expected an output format of jpeg, png, webp, avif but received "gif"',
    });
  });
});

describe('WASM loading', () => {
  it('finds every module with no configuration', () => {
    for (const name of Object.keys(WASM_MODULES) as (keyof typeof WASM_MODULES)[]) {
      expect(readFileSync(locateWasm(name)).subarray(0, 4)).toEqual(Buffer.from([0, 0x61, 0x73, 0x6d]));
    }
  });

  it('init() accepts modules as bytes or compiled, and is idempotent', async () => {
    await init({ modules: { png: new Uint8Array(readFileSync(locateWasm('png'))), webp: await WebAssembly.compile(readFileSync(locateWasm('webp'))) } });
    await init();
    await init();
    expect((await decode(image('with-alpha.png'))).width).toBe(256);
  });
});
