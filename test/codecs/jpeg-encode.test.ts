import { describe, expect, it, beforeAll, vi } from 'vitest';
import sharp from 'sharp';
import '../../entries/node.js';
import { encodeJpeg, jpegEncoderStats, JPEG_MAX_SIDE, type JpegEncodeOptions } from '../../src/codecs/jpeg-encode.js';
import { IDLE_RELEASE_MS, RECYCLE_BYTES } from '../../src/wasm/instance.js';
import { encode } from '../../src/encode.js';
import { decode } from '../../src/decode.js';
import { createImage, flatten, type RGBAImage } from '../../src/image.js';
import { isImgpipeError } from '../../src/errors.js';
import { IMAGES } from '../helpers/fixtures.js';
import { meanDelta, sharpRaw } from '../helpers/compare.js';

sharp.cache(false);

const PHOTOS = ['concert.jpg', 'Landscape_5.jpg', 'flowers.jpeg', '320x240.jpg'];
/**
 * 1x1, odd sides, widths that are not a multiple of 8 or 16 (partial MCUs and dummy blocks), single
 * rows and columns, the recipe's large size.
 */
const SIZES: ReadonlyArray<readonly [number, number]> = [[1, 1], [7, 13], [37, 21], [100, 75], [333, 211], [1031, 1], [1, 777], [1200, 980]];
const QUALITIES = [1, 50, 80, 85, 95, 100];

interface Source { rgb: Buffer; image: RGBAImage }

/** A photo resized by sharp to exactly w x h: RGB for sharp's encoder, RGBA for ours. */
async function source(name: string, w: number, h: number): Promise<Source> {
  const rgb = await sharp(IMAGES + name).resize(w, h, { fit: 'fill' }).removeAlpha().raw().toBuffer();
  const image = createImage(w, h);
  for (let i = 0; i < w * h; i++) {
    image.data[i * 4] = rgb[i * 3];
    image.data[i * 4 + 1] = rgb[i * 3 + 1];
    image.data[i * 4 + 2] = rgb[i * 3 + 2];
    image.data[i * 4 + 3] = 255;
  }
  return { rgb, image };
}

/** sharp with its defaults (baseline, 4:2:0, optimised Huffman, no trellis, Annex K tables). */
function sharpJpeg(s: Source, quality: number, extra: { chromaSubsampling?: string } = {}): Promise<Buffer> {
  return sharp(s.rgb, { raw: { width: s.image.width, height: s.image.height, channels: 3 } }).jpeg({ quality, ...extra }).toBuffer();
}

/** Marker codes up to and including SOS. */
function markers(jpeg: Uint8Array): number[] {
  const out = [jpeg[1]];
  let p = 2;
  while (p + 4 <= jpeg.length) {
    expect(jpeg[p]).toBe(0xff);
    const m = jpeg[p + 1];
    out.push(m);
    if (m === 0xda) break;
    p += 2 + ((jpeg[p + 2] << 8) | jpeg[p + 3]);
  }
  return out;
}

async function rejects(p: Promise<unknown>, code: string, message: string): Promise<void> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(isImgpipeError(err, code as never), `expected ImgpipeError ${code}, got ${String(err)}`).toBe(true);
  expect((err as Error).message).toBe(message);
}

const baseline = (quality: number): JpegEncodeOptions => Object.freeze({ quality, progressive: false });

describe('baseline JPEG encoder against sharp', () => {
  const sources = new Map<string, Source>();
  beforeAll(async () => {
    for (const name of PHOTOS) for (const [w, h] of SIZES) sources.set(`${name} ${w}x${h}`, await source(name, w, h));
  });

  // The pipeline is libjpeg's, step for step, so the files are not merely close: they are the same
  // bytes, markers included (neither writes a JFIF APP0 segment; sharp's libvips 8.18 omits it for
  // an image without metadata). Identical bytes mean identical decoded pixels in any decoder.
  it.each(PHOTOS.flatMap((name) => SIZES.map(([w, h]) => ({ name, w, h }))))('$name at $wx$h: byte-identical to sharp at every quality', async ({ name, w, h }) => {
    const s = sources.get(`${name} ${w}x${h}`)!;
    for (const q of QUALITIES) {
      const ours = await encodeJpeg(s.image, baseline(q));
      const ref = await sharpJpeg(s, q);
      expect(Buffer.from(ours).equals(ref), `${name} ${w}x${h} q${q}: ${ours.length} bytes vs sharp's ${ref.length}`).toBe(true);
    }
  });

  it('4:4:4 matches sharp with chromaSubsampling 4:4:4', async () => {
    for (const key of ['concert.jpg 37x21', 'Landscape_5.jpg 333x211', 'flowers.jpeg 7x13']) {
      const s = sources.get(key)!;
      for (const q of [1, 85, 100]) {
        const ours = await encodeJpeg(s.image, { quality: q, progressive: false, subsampling: '4:4:4' });
        expect(Buffer.from(ours).equals(await sharpJpeg(s, q, { chromaSubsampling: '4:4:4' })), `${key} q${q}`).toBe(true);
      }
    }
  });

  it('greyscale matches sharp encoding a one-channel image as b-w', async () => {
    for (const key of ['concert.jpg 1x1', 'Landscape_5.jpg 333x211', 'flowers.jpeg 37x21']) {
      const s = sources.get(key)!;
      const { width, height } = s.image;
      // R = G = B = g, so libjpeg's RGB -> Y gives g back exactly (the coefficients sum to 65536).
      const g = Buffer.alloc(width * height);
      const grey = createImage(width, height);
      for (let i = 0; i < width * height; i++) {
        g[i] = s.rgb[i * 3 + 1];
        grey.data.fill(g[i], i * 4, i * 4 + 3);
        grey.data[i * 4 + 3] = 255;
      }
      for (const q of [1, 85, 100]) {
        const ours = await encodeJpeg(grey, { quality: q, progressive: false, grayscale: true });
        const ref = await sharp(g, { raw: { width, height, channels: 1 } }).toColourspace('b-w').jpeg({ quality: q }).toBuffer();
        expect(Buffer.from(ours).equals(ref), `${key} q${q}`).toBe(true);
      }
    }
  });

  // The encoder is asked whether a baseline image is opaque (SIMD, on its own copy: 64, 16 and 4
  // bytes at a time); one transparent pixel anywhere, last included, must make it flatten.
  it('flattens an image with any transparency onto the background, as flatten() then encode', async () => {
    for (const key of ['concert.jpg 1x1', 'concert.jpg 7x13', 'concert.jpg 37x21', '320x240.jpg 333x211']) {
      const s = sources.get(key)!;
      const n = s.image.width * s.image.height;
      for (const at of new Set([0, n >> 1, n - 1])) {
        const image = createImage(s.image.width, s.image.height);
        image.data.set(s.image.data);
        image.data[at * 4 + 3] = 100;
        for (const progressive of [false, true]) {
          const flat = await encodeJpeg(flatten(image, [0, 0, 255]), { quality: 85, progressive });
          const ours = await encodeJpeg(image, { quality: 85, progressive, background: [0, 0, 255] });
          expect(Buffer.from(ours).equals(flat), `${key} pixel ${at} progressive ${progressive}`).toBe(true);
        }
      }
      // Opaque: the background changes nothing; without one, alpha is ignored.
      const plain = await encodeJpeg(s.image, baseline(85));
      expect(Buffer.from(await encodeJpeg(s.image, { ...baseline(85), background: [0, 0, 255] })).equals(plain), key).toBe(true);
    }
  });

  // The encoder flattens a band in place, four pixels at a time and the band's last few one by one:
  // every channel value at every alpha (x and y of a 257x256 image: 257 pixels a row leave the
  // bands' ends unaligned), on three backgrounds, must come out as flatten() in JavaScript makes it.
  it('flattens every channel value at every alpha as flatten() does', async () => {
    const image = createImage(257, 256);
    for (let a = 0; a < 256; a++) {
      for (let x = 0; x < 257; x++) {
        const c = x & 255;
        image.data.set([c, 255 - c, (c * 7) & 255, a], (a * 257 + x) * 4);
      }
    }
    for (const background of [[0, 0, 255], [255, 255, 255], [17, 128, 200]] as const) {
      const flat = await encodeJpeg(flatten(image, background), baseline(100));
      const ours = await encodeJpeg(image, { ...baseline(100), background });
      expect(Buffer.from(ours).equals(flat), background.join()).toBe(true);
    }
  });

  it('writes valid baseline files (SOF0, 4:2:0) that sharp and imgpipe decode to the same picture', async () => {
    for (const key of ['concert.jpg 1x1', 'concert.jpg 7x13', 'Landscape_5.jpg 1200x980', '320x240.jpg 37x21']) {
      const s = sources.get(key)!;
      for (const q of [1, 85, 100]) {
        const jpeg = await encodeJpeg(s.image, baseline(q));
        expect(markers(jpeg)).toEqual([0xd8, 0xdb, 0xdb, 0xc0, 0xc4, 0xc4, 0xc4, 0xc4, 0xda]);
        expect([...jpeg.subarray(-2)]).toEqual([0xff, 0xd9]);
        const meta = await sharp(jpeg).metadata();
        expect(meta).toMatchObject({ format: 'jpeg', width: s.image.width, height: s.image.height, isProgressive: false, chromaSubsampling: '4:2:0' });
        const bySharp = await sharpRaw(jpeg);
        const ours = await decode(jpeg);
        expect([ours.width, ours.height]).toEqual([s.image.width, s.image.height]);
        // Decoders may upsample chroma differently (fancy vs. plain), so the two decodes agree
        // closely, not exactly; the encoded coefficients are what the byte comparison pins down.
        expect(meanDelta(ours, bySharp), key).toBeLessThan(1.5);
        // And the picture is the source's, at a distance the quality allows.
        expect(meanDelta(bySharp, s.image), key).toBeLessThan(q === 1 ? 40 : 6);
      }
    }
  });

  it('the public encode() takes this encoder for baseline JPEG: size within 1% of sharp (in fact equal)', async () => {
    const s = sources.get('Landscape_5.jpg 1200x980')!;
    const ours = await encode(s.image, 'jpeg', { quality: 85 });
    const ref = await sharpJpeg(s, 85);
    expect(Math.abs(ours.length - ref.length) / ref.length).toBeLessThanOrEqual(0.01);
    expect(Buffer.from(ours).equals(ref)).toBe(true);
  });

  it('progressive encodes stay on MozJPEG (SOF2)', async () => {
    const s = sources.get('concert.jpg 333x211')!;
    const jpeg = await encode(s.image, 'jpeg', { quality: 85, progressive: true });
    expect(markers(jpeg)).toContain(0xc2);
    expect(markers(jpeg)).not.toContain(0xc0);
    expect((await sharp(jpeg).metadata()).isProgressive).toBe(true);
  });

  it('progressive encodes honour 4:4:4 and greyscale too', async () => {
    const s = sources.get('concert.jpg 333x211')!;
    const full = await sharp(await encodeJpeg(s.image, { quality: 85, progressive: true, subsampling: '4:4:4' })).metadata();
    expect(full).toMatchObject({ isProgressive: true, chromaSubsampling: '4:4:4', channels: 3 });
    const grey = await sharp(await encodeJpeg(s.image, { quality: 85, progressive: true, grayscale: true })).metadata();
    expect(grey).toMatchObject({ isProgressive: true, channels: 1 });
  });
});

describe('baseline JPEG encoder: errors and limits', () => {
  const img = createImage(4, 4);

  it('refuses invalid qualities', async () => {
    await rejects(encodeJpeg(img, baseline(0)), 'INVALID_ARGUMENT', 'Expected an integer between 1 and 100 for jpeg.quality but received 0');
    await rejects(encodeJpeg(img, baseline(101)), 'INVALID_ARGUMENT', 'Expected an integer between 1 and 100 for jpeg.quality but received 101');
    await rejects(encodeJpeg(img, baseline(85.5)), 'INVALID_ARGUMENT', 'Expected an integer between 1 and 100 for jpeg.quality but received 85.5');
    await rejects(encodeJpeg(img, baseline(Number.NaN)), 'INVALID_ARGUMENT', 'Expected an integer between 1 and 100 for jpeg.quality but received null');
  });

  it('refuses a background that is not three bytes', async () => {
    for (const [background, shown] of [[[0, 0, 256], '[0,0,256]'], [[0, 0], '[0,0]'], [[0.5, 0, 0], '[0.5,0,0]'], [[-1, 0, 0], '[-1,0,0]']] as const) {
      await rejects(encodeJpeg(img, { ...baseline(85), background: background as unknown as [number, number, number] }), 'INVALID_ARGUMENT',
        `Expected three integers between 0 and 255 ([r, g, b]) for jpeg.background but received ${shown}`);
    }
  });

  it('refuses zero-size, oversized and inconsistent images', async () => {
    await rejects(encodeJpeg({ width: 0, height: 4, data: new Uint8ClampedArray(0) }, baseline(85)), 'INVALID_ARGUMENT',
      `Expected an integer between 1 and ${JPEG_MAX_SIDE} for image.width but received 0`);
    await rejects(encodeJpeg({ width: 4, height: 0, data: new Uint8ClampedArray(0) }, baseline(85)), 'INVALID_ARGUMENT',
      `Expected an integer between 1 and ${JPEG_MAX_SIDE} for image.height but received 0`);
    await rejects(encodeJpeg({ width: 70000, height: 1, data: new Uint8ClampedArray(280000) }, baseline(85)), 'IMAGE_TOO_LARGE',
      'Expected at most 65535 pixels for image.width of a JPEG but received 70000');
    await rejects(encodeJpeg({ width: 4, height: 4, data: new Uint8ClampedArray(60) }, baseline(85)), 'INVALID_ARGUMENT',
      'Expected 64 bytes of RGBA for a 4x4 image but received 60');
  });

  it('an instance whose memory grew past the recycle threshold is kept while busy, replaced for a small job, released when idle', async () => {
    await encodeJpeg(img, baseline(85));
    const before = jpegEncoderStats();
    expect(before.memoryBytes).toBeGreaterThan(0);
    expect(before.memoryBytes).toBeLessThanOrEqual(RECYCLE_BYTES);
    // 4600x4600: 72 MB of coefficients take the memory past 64 MiB (the source goes in band by
    // band, so it adds only one band).
    const big = createImage(4600, 4600);
    big.data.fill(128);
    const jpeg = await encodeJpeg(big, baseline(85));
    expect((await sharp(jpeg).metadata()).width).toBe(4600);
    const grown = jpegEncoderStats();
    expect(grown.memoryBytes).toBeGreaterThan(RECYCLE_BYTES);
    expect(grown.instancesCreated).toBe(before.instancesCreated);
    // Another large job reuses the grown instance: no second large memory waiting for collection.
    await encodeJpeg(big, baseline(80));
    expect(jpegEncoderStats()).toEqual(grown);
    // A small job gets a fresh, small instance.
    await encodeJpeg(img, baseline(85));
    expect(jpegEncoderStats().instancesCreated).toBe(before.instancesCreated + 1);
    expect(jpegEncoderStats().memoryBytes).toBeLessThanOrEqual(RECYCLE_BYTES);
    // Grown again, then idle: let go of after IDLE_RELEASE_MS.
    vi.useFakeTimers();
    try {
      await encodeJpeg(big, baseline(85));
      expect(jpegEncoderStats().memoryBytes).toBeGreaterThan(RECYCLE_BYTES);
      vi.advanceTimersByTime(IDLE_RELEASE_MS - 1);
      expect(jpegEncoderStats().memoryBytes).toBeGreaterThan(RECYCLE_BYTES);
      vi.advanceTimersByTime(1);
      expect(jpegEncoderStats().memoryBytes).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });
});
