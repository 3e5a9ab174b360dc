/**
 * The AVIF plug-in (imgpipe/avif): AVIFs of every kind decode as libheif decodes them (sharp's
 * prebuilt libvips reads AVIF through libheif + dav1d, which applies clap/irot/imir), AVIF is a
 * recipe output, an x-oss-process format and the negotiated format when Accept allows, and damaged or
 * hostile files are refused with typed errors while the plug-in keeps working.
 */
import { describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { ssim } from 'ssim.js';
import { decode, encode, init, inspect, processUpload, resize, transform, type RGBAImage } from '../../entries/node.js';
import { avif, createAvifPlugin } from '../../entries/avif/node.js';
import { createFetchHandler } from '../../adapters/http/handler.js';
import { fetchSource } from '../../adapters/http/source.js';
import { listen, originListener } from '../adapters/http/servers.js';
import { avifQuality } from '../../src/codecs/avif.js';
import { rejection } from '../helpers/errors.js';
import { boxAt, setU16, setU32 } from '../helpers/bytes.js';
import { fixture, image } from '../helpers/fixtures.js';
import { meanDelta, sharpRaw } from '../helpers/compare.js';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const file = (name: string) => fixture(`avif/${name}`);
const photo = file('photo-444.avif');


const mssim = (a: RGBAImage, b: RGBAImage) => ssim(a as never, b as never).mssim;

describe('AVIF plug-in: decode', () => {
  // Made with sharp 0.35 and Debian's avifenc 0.11.1 (test/fixtures/README.md).
  const KINDS: [string, string, Record<string, unknown>][] = [
    ['photo-444.avif', '8-bit 4:4:4 (sharp)', { width: 240, height: 180, bitDepth: 8, alpha: false }],
    ['photo-420.avif', '8-bit 4:2:0 (sharp)', { width: 240, height: 180 }],
    ['alpha.avif', 'with an alpha image (sharp)', { width: 120, height: 90, alpha: true }],
    ['p3-icc.avif', 'with an ICC profile (sharp)', { width: 8, height: 8 }],
    ['sharp-10bit.avif', '10-bit (sharp)', { width: 32, height: 32, bitDepth: 10 }],
    ['10bit-alpha.avif', '10-bit with alpha (avifenc)', { width: 96, height: 64, bitDepth: 10, alpha: true }],
    ['grid-2x2.avif', 'a 2x2 grid (avifenc)', { width: 256, height: 192 }],
    ['irot1-imir1.avif', 'irot 90 and imir left-right (avifenc)', { width: 120, height: 160 }],
    ['irot3-imir0.avif', 'irot 270 and imir top-bottom (avifenc)', { width: 120, height: 160 }],
    ['clap.avif', 'a clean aperture crop (avifenc)', { width: 100, height: 80 }],
  ];
  for (const [name, what, header] of KINDS) {
    it(`${what}: inspect reads it, and it decodes as libheif does (mean difference <= 1 level)`, async () => {
      const bytes = file(name);
      expect(inspect(bytes)).toMatchObject({ format: 'avif', orientation: 1, ...header });
      const img = await decode(bytes);
      // sharp keeps the file's colour space; imgpipe converts an ICC profile to sRGB, so compare raw pixels only without one.
      const want = await sharpRaw(bytes);
      expect([img.width, img.height]).toEqual([want.width, want.height]);
      if (!inspect(bytes).iccBytes) expect(meanDelta(img, want)).toBeLessThanOrEqual(1);
    });
  }

  it('applies irot before imir: 90 degrees then left-right is 270 degrees then top-bottom, the same picture', async () => {
    const a = await decode(file('irot1-imir1.avif')), b = await decode(file('irot3-imir0.avif'));
    expect([a.width, a.height]).toEqual([120, 160]);
    expect(Buffer.from(a.data.buffer, a.data.byteOffset, a.data.byteLength).equals(Buffer.from(b.data.buffer, b.data.byteOffset, b.data.byteLength))).toBe(true);
  });
});

describe('AVIF plug-in: nclx colour', () => {
  it('Display P3 given as nclx code points (12/13/6, no ICC) is converted to sRGB, like a P3 profile', async () => {
    const bytes = file('nclx-p3.avif');
    expect(inspect(bytes)).toMatchObject({ iccBytes: 0, heif: { nclx: [12, 13, 6, 1] } });
    // The sRGB photo it was made from (sharp converted it to P3 before avifenc coded it at quantizer 0).
    const srgb = await sharpRaw(sharp(image('Landscape_1.jpg')).resize(160, 120, { fit: 'fill' }));
    const converted = meanDelta(await decode(bytes), srgb), asDecoded = meanDelta(await sharpRaw(bytes), srgb);
    expect(converted).toBeLessThan(0.5);
    expect(asDecoded).toBeGreaterThan(2 * converted);
  });
});

describe('AVIF plug-in: encode', () => {
  it('encodes what sharp decodes back, with alpha kept', async () => {
    const src = await decode(image('with-alpha.png'));
    const out = await encode(src, 'avif', { quality: 80 });
    expect(inspect(out)).toMatchObject({ format: 'avif', width: src.width, height: src.height, alpha: true });
    const back = await sharpRaw(out);
    expect(mssim(back, src)).toBeGreaterThan(0.97);
    expect(meanDelta(back, src)).toBeLessThan(3);
  });

  it('quality is sharp\'s scale: bytes rise with quality, and at quality 50 the size is within 25% of sharp\'s default', async () => {
    const src = await resize(await decode(image('2569067123_aca715a2ee_o.jpg')), { width: 600 });
    const sizes = [];
    for (const quality of [30, 50, 70, 90]) sizes.push((await encode(src, 'avif', { quality })).byteLength);
    expect(sizes).toEqual([...sizes].sort((x, y) => x - y));
    const theirs = (await sharp(Buffer.from(src.data.buffer, src.data.byteOffset, src.data.byteLength), { raw: { width: src.width, height: src.height, channels: 4 } }).avif({ quality: 50 }).toBuffer()).byteLength;
    expect(Math.abs(sizes[1] / theirs - 1)).toBeLessThan(0.25);
    expect([avifQuality(1), avifQuality(50), avifQuality(70), avifQuality(90), avifQuality(100)]).toEqual([1, 53, 75, 92, 100]);
  });

  it('lossless keeps every pixel', async () => {
    const src = await decode(image('with-alpha.png'));
    const small = await resize(src, { width: 64 });
    const out = await encode(small, 'avif', { lossless: true });
    const back = await decode(out);
    expect(meanDelta(back, small)).toBe(0);
  });

  it('is a recipe output, an x-oss-process format (format,avif) and the negotiated format when Accept allows', async () => {
    const variants = await processUpload(image('320x240.jpg'), {
      key: 'u/a.jpg',
      recipe: {
        sizes: [{ name: 'small', width: 160, watermark: false }],
        outputs: [{ format: 'avif', quality: 50, key: 'avif/{size}/{name}.avif' }, { format: 'webp', quality: 80, key: 'webp/{size}/{name}.webp' }],
      },
    });
    expect(variants.map((v) => `${v.key} ${v.contentType} ${v.width}x${v.height}`)).toEqual(['avif/small/u/a.avif image/avif 160x120', 'webp/small/u/a.webp image/webp 160x120']);
    expect((await sharp(variants[0].bytes).metadata()).format).toBe('heif');

    const out = await transform(image('320x240.jpg'), 'image/resize,w_100/format,avif');
    expect([out.format, out.contentType, out.width, out.height]).toEqual(['avif', 'image/avif', 100, 75]);
    // An AVIF source keeps its format when none is asked for, like any writable format.
    expect((await transform(photo, 'image/resize,w_100')).format).toBe('avif');

    const { server, url } = await listen(originListener(new URL('../fixtures/images/', import.meta.url), []));
    try {
      const handler = createFetchHandler({ source: fetchSource(url), negotiate: true });
      const get = (accept: string) => handler(new Request('http://h/320x240.jpg?x-oss-process=image/resize,w_100', { headers: { accept } }));
      expect((await get('image/avif,image/webp,*/*')).headers.get('content-type')).toBe('image/avif');
      expect((await get('image/webp,*/*')).headers.get('content-type')).toBe('image/webp');
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it('init({ plugins }) enables a plug-in made from the modules\' bytes', async () => {
    const req = createRequire(import.meta.url);
    const own = createAvifPlugin({
      decoder: readFileSync(req.resolve('@jsquash/avif/codec/dec/avif_dec.wasm')),
      encoder: readFileSync(req.resolve('@jsquash/avif/codec/enc/avif_enc.wasm')),
    });
    await init({ plugins: [own] });
    expect((await decode(photo)).width).toBe(240);
    await init({ plugins: [avif] });
  });
});

describe('AVIF bad input: typed errors, and the plug-in still works afterwards', () => {
  const cases: [string, () => Uint8Array, string, RegExp][] = [
    ['truncated in its image data', () => photo.slice(0, photo.length - 3000), 'CORRUPT_IMAGE', /^Expected a valid HEIF header but it is truncated: its mdat box at offset \d+ declares \d+ bytes but \d+ remain$/],
    ['truncated in its meta box', () => photo.slice(0, 200), 'CORRUPT_IMAGE', /^Expected a valid HEIF header but it is truncated: its meta box at offset \d+ declares \d+ bytes but \d+ remain$/],
    ['image data cut short inside a whole box', () => {
      const b = photo.slice(0, photo.length - 3000);
      const mdat = boxAt(b, 'mdat') - 4;
      setU32(b, mdat, b.length - mdat);
      return b;
    }, 'CORRUPT_IMAGE', /^Expected a decodable AVIF but libavif could not decode its 240x180 image/],
    ['missing primary item', () => { const b = photo.slice(); setU16(b, boxAt(b, 'pitm') + 8, 999); return b; }, 'CORRUPT_IMAGE', /^Expected a valid HEIF header but its primary item 999 is not in its item list$/],
    ['declared size over maxSide (checked from ispe before decoding)', () => { const b = photo.slice(); const o = boxAt(b, 'ispe'); setU32(b, o + 8, 40_000); setU32(b, o + 12, 40_000); return b; }, 'IMAGE_TOO_LARGE', /^Expected each side to be at most 30000 px \(limits.maxSide\) but the image header declares 40000x40000$/],
    ['a size that is not the AV1 image\'s', () => { const b = photo.slice(); const o = boxAt(b, 'ispe'); setU32(b, o + 8, 200); return b; }, 'CORRUPT_IMAGE', /^Expected a decodable AVIF but libavif could not decode its 200x180 image|^Expected the AVIF's image to be the 200x180 pixels its ispe declares but it decodes to 240x180$/],
    ['another codec in the container', () => { const b = photo.slice(); const o = boxAt(b, 'infe'); b.set([0x6a, 0x70, 0x65, 0x67], o + 12); return b; }, 'UNSUPPORTED_FORMAT', /^Expected an AVIF whose primary image is AV1-coded \(av01\) but received one coded as "jpeg"$/],
    ['no meta box', () => photo.slice(0, 32), 'CORRUPT_IMAGE', /^Expected a valid HEIF header but /],
  ];
  for (const [name, make, code, message] of cases) {
    it(name, async () => {
      const e = await rejection(decode(make()));
      expect(e.code).toBe(code);
      expect(e.message).toMatch(message);
      expect((await decode(photo)).width).toBe(240);
    });
  }

  it('damaged AV1 data: a typed error or a picture, never a crash', async () => {
    const mdat = boxAt(photo, 'mdat');
    for (let seed = 1; seed <= 6; seed++) {
      const b = photo.slice();
      for (let i = 0; i < 40; i++) b[mdat + 16 + ((seed * 7919 + i * 104729) % (b.length - mdat - 16))] ^= 0x5a;
      await decode(b).then((img) => expect(img.width).toBe(240), (e) => expect(['CORRUPT_IMAGE', 'UNSUPPORTED_FORMAT']).toContain((e as { code: string }).code));
    }
    expect((await decode(photo)).width).toBe(240);
  });

  it('limits: an AVIF over maxPixels is refused from its header', async () => {
    expect(await rejection(decode(photo, { limits: { maxPixels: 40_000 } }))).toEqual({
      code: 'IMAGE_TOO_LARGE',
      message: 'Expected at most 40000 pixels (limits.maxPixels) but the image header declares 240x180 = 43200 pixels',
    });
  });
});
