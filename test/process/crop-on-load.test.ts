/**
 * Crop-on-load: a chain that starts with crop or indexcrop has the JPEG decoder produce only the
 * rectangle (rows down to its last one, its columns), with the same bytes as decoding everything and
 * cropping, for every EXIF orientation; and the cost budget and the decoder's memory pay for the
 * rows decoded, not the whole source.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import '../../entries/node.js';
import { transform } from '../../src/process/transform.js';
import { decode, decodeRegion, inspect, regionDecodePixels } from '../../src/decode.js';
import { crop } from '../../src/ops/crop.js';
import { jpegDecoderStats, resetJpegDecoder } from '../../src/codecs/jpeg.js';
import { image } from '../helpers/fixtures.js';
import { rejection } from '../helpers/errors.js';

const CHAINS = [
  'crop,w_1',
  'crop,x_10,y_20,w_100,h_50',
  'crop,g_se,w_33,h_17',
  'crop,g_center,w_201,h_77,x_3,y_5',
  'crop,x_7,y_9',
  'crop,g_south,h_1',
  'indexcrop,x_70,i_2',
  'indexcrop,y_90,i_1',
];

const ORIENTED = [1, 2, 3, 4, 5, 6, 7, 8].map((o) => `Landscape_${o}.jpg`);
/** Baseline with and without an ICC profile, greyscale, and a CMYK file (decoded whole, then cropped). */
const OTHERS = ['concert.jpg', 'flowers.jpeg', 'grey-1-component.jpg', 'Channel_digital_image_CMYK_color.jpg'];

describe('crop-on-load', () => {
  let progressive: Uint8Array;
  beforeAll(async () => {
    // A progressive JPEG with EXIF orientation 6 (the fixtures are all sequential).
    progressive = new Uint8Array(await sharp(image('Landscape_6.jpg')).keepMetadata().jpeg({ progressive: true, quality: 80 }).toBuffer());
    expect(inspect(progressive).progressive).toBe(true);
    expect(inspect(progressive).orientation).toBe(6);
  });

  it.each([...ORIENTED, ...OTHERS])('%s: a leading crop gives the bytes of decode-then-crop', async (name) => {
    const src = image(name);
    for (const chain of CHAINS) {
      // An explicit auto-orient,1 decodes the whole image, orients it and then crops.
      const whole = await transform(src, `image/auto-orient,1/${chain}/format,png`);
      const onLoad = await transform(src, `image/${chain}/format,png`);
      expect([onLoad.width, onLoad.height], `${name} ${chain}`).toEqual([whole.width, whole.height]);
      expect(Buffer.compare(onLoad.bytes, whole.bytes), `${name} ${chain}`).toBe(0);
    }
  });

  it('decodeRegion returns the pixels of decode then crop, in every orientation and progressive', async () => {
    for (const src of [...ORIENTED.map(image), progressive]) {
      const header = inspect(src);
      const full = await decode(src);
      for (const rect of [{ x: 0, y: 0, width: 1, height: 1 }, { x: 13, y: 21, width: 150, height: 40 }, { x: full.width - 9, y: full.height - 30, width: 9, height: 30 }]) {
        const { image: region } = await decodeRegion(src, header, rect);
        expect(region).toEqual(crop(full, rect));
      }
    }
  });

  it('keeps the steps after the crop and the refusals of a crop that misses', async () => {
    const src = image('Landscape_6.jpg');
    const a = await transform(src, 'image/crop,w_300,h_200/resize,w_100/format,png');
    const b = await transform(src, 'image/auto-orient,1/crop,w_300,h_200/resize,w_100/format,png');
    expect(Buffer.compare(a.bytes, b.bytes)).toBe(0);
    const { width, height } = inspect(src);
    // Oriented 6: the upright image is height x width.
    expect(await rejection(transform(src, `image/crop,x_${height},w_10`))).toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(await rejection(transform(src, `image/indexcrop,x_${height + 1}`))).toEqual({
      code: 'INVALID_ARGUMENT',
      message: `Expected an integer between 1 and ${height} for indexcrop.x but received "${height + 1}"`,
    });
    // An index past the last slice keeps the whole image.
    expect(await transform(src, `image/indexcrop,y_100,i_99`)).toMatchObject({ width: height, height: width });
  });

  describe('on a 100-megapixel JPEG', () => {
    let big: Uint8Array;
    beforeAll(async () => {
      big = new Uint8Array(await sharp({ create: { width: 10000, height: 10000, channels: 3, background: { r: 90, g: 140, b: 200 } } }).jpeg({ quality: 80 }).toBuffer());
    });

    it('charges the budget for the rows down to the crop, not the whole image', async () => {
      const header = inspect(big);
      expect(regionDecodePixels(header, { x: 0, y: 0, width: 1, height: 1 })).toBe(10000);
      expect(regionDecodePixels(header, { x: 0, y: 4999, width: 10, height: 1 })).toBe(10000 * 5000);
      // One row: 10,000 decoded, 10,000 cropped, 80,000 to encode; the whole decode alone is 1e8.
      const out = await transform(big, 'image/crop,h_1', { outputLimits: { maxCost: 1_000_000 } });
      expect([out.width, out.height]).toEqual([10000, 1]);
      const top = await transform(big, 'image/crop,w_1,h_1', { outputLimits: { maxCost: 20_000 } });
      expect([top.width, top.height]).toEqual([1, 1]);
      // The same crop after a full decode, and a crop at the bottom (every row read), are refused.
      expect(await rejection(transform(big, 'image/auto-orient,1/crop,w_1,h_1', { outputLimits: { maxCost: 20_000 } }))).toEqual({
        code: 'IMAGE_TOO_LARGE',
        message: 'Expected the process to cost at most 20000 pixel passes (outputLimits.maxCost) but decode on 10000x10000 brings it to 100000000',
      });
      expect(await rejection(transform(big, 'image/crop,g_se,w_1,h_1', { outputLimits: { maxCost: 20_000 } }))).toEqual({
        code: 'IMAGE_TOO_LARGE',
        message: 'Expected the process to cost at most 20000 pixel passes (outputLimits.maxCost) but decode on 10000x10000 brings it to 100000000',
      });
    });

    it('never holds the decoded image: the decoder instance stays small', async () => {
      // The whole image would be 400 MB of RGBA; a region read holds the file and a few MCU rows,
      // whether it stops early or (crop,w_1: one column of every row) reads to the end.
      for (const chain of ['crop,x_4000,y_6000,w_64,h_64', 'crop,w_1']) {
        resetJpegDecoder();
        const out = await transform(big, `image/${chain}`);
        expect(out.width * out.height).toBeLessThanOrEqual(10000);
        expect(jpegDecoderStats().memoryBytes, chain).toBeLessThan(16 * 1024 * 1024);
      }
      const { image: pixels } = await decodeRegion(big, inspect(big), { x: 4000, y: 6000, width: 64, height: 64 });
      expect([...pixels.data.subarray(0, 4)]).toEqual([...(await sharp(big).extract({ left: 4000, top: 6000, width: 1, height: 1 }).raw().ensureAlpha().toBuffer())]);
    });
  });
});
