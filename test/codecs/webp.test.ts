/**
 * imgpipe's libwebp module (wasm/libwebp, built by scripts/build-libwebp.mjs): libwebp's SSE2 paths
 * on WASM SIMD behind a small C interface. It must write the same files as sharp's native libwebp at
 * the same settings, refuse damaged files with libwebp's own diagnosis, and stay usable afterwards.
 */
import { describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decode, encode, inspect, resize, WASM_MODULES, type RGBAImage } from '../../entries/node.js';
import { decodeResized } from '../../src/decode-resized.js';
import { chooseShrink } from '../../src/decode.js';
import { decodeWebpResized } from '../../src/codecs/webp.js';
import { recycleResized } from '../../src/kernels/lanczos.js';
import { image } from '../helpers/fixtures.js';
import { meanDelta } from '../helpers/compare.js';

sharp.cache(false);

const sharpWebp = (img: RGBAImage, quality: number): Promise<Buffer> =>
  sharp(Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength), { raw: { width: img.width, height: img.height, channels: 4 } })
    .webp({ quality })
    .toBuffer();

describe('libwebp module', () => {
  it('encodes lossy WebP byte for byte as sharp does (its libwebp, default preset, effort 4)', async () => {
    const photo = await decode(image('2569067123_aca715a2ee_o.jpg'), { shrinkTo: { width: 1200, height: 980 } });
    for (const width of [1200, 600, 150]) {
      const img = await resize(photo, { width });
      for (const quality of [50, 80, 95]) {
        const ours = await encode(img, 'webp', { quality });
        expect(Buffer.compare(Buffer.from(ours), await sharpWebp(img, quality)), `${width} px at q${quality}`).toBe(0);
      }
    }
  });

  it('encodes transparency as sharp does', async () => {
    const img = await decode(image('with-alpha.png'));
    const ours = await encode(img, 'webp', { quality: 80 });
    expect(Buffer.compare(Buffer.from(ours), await sharpWebp(img, 80))).toBe(0);
    // The alpha channel survives the round trip (alpha_quality 100 is lossless).
    const back = await decode(ours);
    for (let i = 3; i < img.data.length; i += 4097 * 4) expect(back.data[i]).toBe(img.data[i]);
  });

  // A lossy encode takes its source in bands of 16 rows while they are opaque (wasm/libwebp/webp.c);
  // transparency first seen in a late band, or in the first, sends it back to the whole image.
  it('encodes as sharp does when transparency starts in a late band, the first, or never (odd sides)', async () => {
    const photo = await decode(image('2569067123_aca715a2ee_o.jpg'), { shrinkTo: { width: 301, height: 247 } });
    const resized = await resize(photo, { width: 301 });
    // An odd number of rows too: the last band's last row has no pair.
    const height = resized.height - (1 - (resized.height % 2));
    const img = { width: resized.width, height, data: resized.data.slice(0, resized.width * height * 4) };
    for (const transparentFrom of [img.height - 3, 0, img.height]) {
      const data = new Uint8ClampedArray(img.data);
      for (let i = transparentFrom * img.width * 4 + 3; i < data.length; i += 8) data[i] = 90;
      const case_ = { ...img, data };
      const ours = await encode(case_, 'webp', { quality: 80 });
      expect(Buffer.compare(Buffer.from(ours), await sharpWebp(case_, 80)), `transparent from row ${transparentFrom}`).toBe(0);
    }
  });

  it('refuses damaged files with libwebp\'s diagnosis and decodes the next file', async () => {
    const good = image('4.webp');
    const damaged = [good.slice(0, good.length >> 1), good.slice()];
    // Flipping bytes in the first partition's size makes it run past the end of the data.
    for (let i = 40; i < 60; i++) damaged[1][i] ^= 0xff;
    for (const bytes of damaged) {
      await expect(decode(bytes)).rejects.toMatchObject({ code: 'CORRUPT_IMAGE', message: 'Expected a decodable WebP but the decoder reported: truncated data' });
      expect((await decode(good)).width).toBe(1024);
    }
  });

  // libwebp reports damage only where the bitstream runs out or a header field is impossible (a VP8
  // bool decoder can't tell flipped bytes from data): whatever it reports, imgpipe reports, and what
  // it decodes is sharp's decode, pixel for pixel (the fuzz sweep's "8 bytes flipped" mutation).
  it.each(['4.webp', '5_webp_a.webp'])('%s with 8 bytes flipped at each tenth: refused where sharp refuses, sharp\'s pixels where it decodes', async (name) => {
    const good = image(name);
    const outcomes = { refused: 0, decoded: 0 };
    for (let k = 1; k < 10; k++) {
      const at = Math.floor((good.length * k) / 10);
      const bytes = good.slice();
      for (let i = at; i < at + 8; i++) bytes[i] ^= 0xff;
      const ref = await sharp(bytes).ensureAlpha().raw().toBuffer().catch(() => undefined);
      const ours = await decode(bytes).catch((e: { code: string; message: string }) => e);
      if (!ref) {
        expect(ours, `flipped at ${at}`).toMatchObject({ code: 'CORRUPT_IMAGE', message: expect.stringMatching(/^Expected (a decodable WebP but the decoder reported: .+|.+WebP.+)$/) });
        outcomes.refused++;
      } else {
        expect('data' in ours && Buffer.compare(Buffer.from(ours.data), ref), `flipped at ${at}`).toBe(0);
        outcomes.decoded++;
      }
    }
    // Both kinds occur in the lossless file; the lossy photo's flips all decode, in sharp too.
    if (name === '5_webp_a.webp') expect(outcomes.refused).toBeGreaterThan(0);
    expect(outcomes.decoded).toBeGreaterThan(0);
  });

  // wasm/libwebp/webp.c replaces three of libwebp's loops (the select predictor, premultiplication,
  // the rescaler's horizontal pass by a whole factor) with its own: the lossless decode must still be
  // sharp's pixel for pixel, and the decode reduced by 4 libwebp's rescaler's arithmetic.
  it('a lossless photo with alpha: sharp\'s pixels at full size, libwebp\'s rescaler\'s reduced by 4', async () => {
    const bytes = new Uint8Array(await sharp(image('2569067123_aca715a2ee_o.jpg')).resize(400, 300, { fit: 'fill' })
      .joinChannel(await sharp(image('with-alpha.png')).resize(400, 300, { fit: 'fill' }).extractChannel(3).toBuffer())
      .webp({ lossless: true }).toBuffer());
    expect(inspect(bytes)).toMatchObject({ lossless: true, alpha: true });
    const full = await decode(bytes);
    const ref = await sharp(bytes).raw().toBuffer();
    expect(Buffer.compare(Buffer.from(full.data), ref)).toBe(0);

    const reduced = await decode(bytes, { shrinkTo: { width: 80, height: 60 } }); // 5x smaller: decoded reduced by 4
    expect([reduced.width, reduced.height, reduced.shrink]).toEqual([100, 75, 4]);
    // libwebp: premultiply ((c * a + 128) * 0x0101 >> 16), sum each 4x4 box, scale the sum times the
    // output width by floor(75 * 2^32 / (400 * 300)) in 32-bit fixed point, then unpremultiply
    // (c * floor(255 * 2^24 / a) + 2^23) >> 24 in 32-bit arithmetic.
    const fxy = Math.floor((75 * 2 ** 32) / (400 * 300));
    const expected = new Uint8Array(100 * 75 * 4);
    for (let y = 0; y < 75; y++) {
      for (let x = 0; x < 100; x++) {
        const sums = [0, 0, 0, 0];
        for (let dy = 0; dy < 4; dy++) {
          for (let dx = 0; dx < 4; dx++) {
            const i = ((y * 4 + dy) * 400 + x * 4 + dx) * 4, a = ref[i + 3];
            for (let c = 0; c < 4; c++) sums[c] += ((c === 3 ? a * 255 : ref[i + c] * a) + 128) * 0x101 >> 16;
          }
        }
        const v = sums.map((s) => Math.min(255, Number((BigInt(s * 100) * BigInt(fxy) + 2n ** 31n) >> 32n)));
        const o = (y * 100 + x) * 4, a = v[3];
        if (a === 0) continue;
        const scale = Math.floor((255 * 2 ** 24) / a);
        for (let c = 0; c < 3; c++) expected[o + c] = a === 255 ? v[c] : Math.floor(((v[c] * scale + 2 ** 23) % 2 ** 32) / 2 ** 24);
        expected[o + 3] = a;
      }
    }
    expect(Buffer.compare(Buffer.from(reduced.data), Buffer.from(expected))).toBe(0);

    // Resized with shrink-on-load allowed (the recipe, a transform), it is decoded straight to the
    // size as sharp does, and is sharp's resize; the kernel's Lanczos3 from the 1/4 decode is not.
    const target = { width: 120, height: 90 };
    const sharpResized = await sharp(bytes).resize(target.width, target.height).raw().toBuffer();
    expect(Buffer.compare(Buffer.from((await decodeResized(bytes, inspect(bytes), target, { shrinkTo: target })).data), sharpResized)).toBe(0);
    expect(Buffer.compare(Buffer.from((await resize(reduced, { ...target, fit: 'fill' })).data), sharpResized)).not.toBe(0);
  });

  // Each effort and near-lossless setting makes libwebp's encoder choose other transforms and
  // predictors, so these decodes run every VP8L loop of ours (wasm/libwebp/webp.c: the select
  // predictor, the colour transform, add-green) on odd widths, with and without alpha.
  it('decodes lossless files of every effort as sharp\'s libwebp does', async () => {
    const photo = image('2569067123_aca715a2ee_o.jpg');
    const sources = [
      await sharp(photo).resize(403, 301, { fit: 'fill' })
        .joinChannel(await sharp(image('with-alpha.png')).resize(403, 301, { fit: 'fill' }).extractChannel(3).toBuffer()).png().toBuffer(),
      await sharp(photo).resize(257, 199, { fit: 'fill' }).png().toBuffer(),
    ];
    for (const [n, source] of sources.entries()) {
      for (let effort = 0; effort <= 6; effort++) {
        for (const nearLossless of [false, true]) {
          const bytes = await sharp(source).webp({ lossless: !nearLossless, nearLossless, quality: nearLossless ? 60 : 80, effort }).toBuffer();
          const ours = await decode(new Uint8Array(bytes));
          const ref = await sharp(bytes).ensureAlpha().raw().toBuffer();
          expect(Buffer.compare(Buffer.from(ours.data.buffer, ours.data.byteOffset, ours.data.byteLength), ref), `source ${n} effort ${effort} near-lossless ${nearLossless}`).toBe(0);
        }
      }
    }
  });

  it('is a plain module: no JavaScript glue, one import (the memory-growth notice), nothing it must be told', () => {
    // The build every runtime but Node loads (Node's threaded twin: webp-threads.test.ts).
    const module = new WebAssembly.Module(readFileSync(join(__dirname, '../..', WASM_MODULES.webp.from)));
    expect(WebAssembly.Module.imports(module)).toEqual([{ module: 'env', name: 'emscripten_notify_memory_growth', kind: 'function' }]);
    expect(WebAssembly.Module.exports(module).map((e) => e.name)).toEqual(expect.arrayContaining(['memory', '_initialize', 'imgpipe_webp_encode', 'imgpipe_webp_decode']));
  });
});

/**
 * A lossless WebP (VP8L) built bit by bit: `width` x 2, a colour-indexing transform whose palette
 * holds one colour, row 0 of index 0 and row 1 of index 1, past the palette. Every Huffman code but
 * the main image's green one has a single symbol, so only green costs bits (1 per packed byte).
 */
function pastPaletteWebp(width: number, [r, g, b, a]: readonly [number, number, number, number], alphaUsed = true): Uint8Array {
  const bits: number[] = [];
  const put = (v: number, n: number) => { for (let i = 0; i < n; i++) bits.push((v >> i) & 1); };
  const single = (symbol: number) => { put(1, 1); put(0, 1); put(1, 1); put(symbol, 8); };
  put(width - 1, 14); put(2 - 1, 14); put(alphaUsed ? 1 : 0, 1); put(0, 3); // size, alpha used, version 0
  put(1, 1); put(3, 2); put(1 - 1, 8); // a colour-indexing transform of 1 colour
  put(0, 1); single(g); single(r); single(b); single(a); single(0); // its palette: no colour cache, ARGB
  put(0, 1); // no other transform
  put(0, 1); put(0, 1); // the packed image: no colour cache, no meta codes
  put(1, 1); put(1, 1); put(1, 1); put(0x00, 8); put(0xff, 8); // green: 0x00 (code 0) or 0xFF (code 1)
  single(0); single(0); single(255); single(0);
  const packed = Math.ceil(width / 8);
  for (let i = 0; i < packed; i++) put(0, 1); // row 0: eight index-0 pixels per byte
  for (let i = 0; i < packed; i++) put(1, 1); // row 1: index 1
  const data = [0x2f];
  for (let i = 0; i < bits.length; i += 8) data.push(bits.slice(i, i + 8).reduce((v, bit, k) => v | (bit << k), 0));
  if (data.length & 1) data.push(0);
  const le32 = (n: number) => [n & 255, (n >> 8) & 255, (n >> 16) & 255, n >>> 24];
  const ascii = (t: string) => [...t].map((c) => c.charCodeAt(0));
  return new Uint8Array([...ascii('RIFF'), ...le32(12 + data.length), ...ascii('WEBPVP8L'), ...le32(data.length), ...data]);
}

describe('a palette index past the palette (libwebp\'s rule, and so sharp\'s)', () => {
  it('decodes as transparent black, the palette\'s own entries as given', async () => {
    const b = pastPaletteWebp(19, [200, 100, 50, 255]);
    const ours = await decode(b);
    expect([ours.width, ours.height]).toEqual([19, 2]);
    expect([...ours.data.subarray(0, 4)]).toEqual([200, 100, 50, 255]);
    expect([...ours.data.subarray(19 * 4, 19 * 4 + 4)]).toEqual([0, 0, 0, 0]);
    const theirs = await sharp(b).ensureAlpha().raw().toBuffer();
    expect(Buffer.compare(Buffer.from(ours.data), theirs)).toBe(0);
  });
});

describe('WebP shrink-on-load (libwebp rescaling rows as it decodes, as libvips webpload does)', () => {
  const twoSteps = async (bytes: Uint8Array, width: number, height: number) => resize(await decode(bytes), { width, height, fit: 'fill' });

  it.each([
    // 1024x772 lossy photo: 5.1x asks for 1/4, 4.0x for 1/2 (sharp's rule: halved at a whole ratio), 3.4x for 1/2.
    ['4.webp', { width: 200, height: 150 }, 4, [256, 193]],
    ['4.webp', { width: 256, height: 193 }, 2, [512, 386]],
    ['4.webp', { width: 300, height: 226 }, 2, [512, 386]],
    // 300x300 lossy with alpha (ALPH), 8.6x: 1/4; the alpha is scaled with the colour.
    ['5_webp_a.webp', { width: 35, height: 35 }, 4, [75, 75]],
  ] as const)('%s to %o: decoded reduced by %i to %o, close to the full decode resized', async (name, shrinkTo, shrink, size) => {
    const bytes = new Uint8Array(readFileSync(new URL(`../fixtures/images/${name}`, import.meta.url)));
    const scaled = await decode(bytes, { shrinkTo });
    expect(scaled.shrink).toBe(shrink);
    expect([scaled.width, scaled.height]).toEqual(size);
    const reference = await twoSteps(bytes, size[0], size[1]);
    let alphaDelta = 0;
    for (let i = 3; i < scaled.data.length; i += 4) alphaDelta += Math.abs(scaled.data[i] - reference.data[i]);
    // Area averaging against Lanczos3: a little softer on this detailed photo, never a different
    // picture (colour compared premultiplied: what is under a transparent pixel is never seen).
    expect(meanDelta(scaled, reference)).toBeLessThan(5);
    expect(alphaDelta / (scaled.data.length / 4)).toBeLessThan(5);
    if (name === '5_webp_a.webp') expect(scaled.data.some((v, i) => i % 4 === 3 && v === 0)).toBe(true);
  });

  it('decodes straight to a target of one scale into a buffer a transform gives back, and the next such decode reuses it', async () => {
    // 1024x772 to 256x193 is one scale (sharp's webpload does it in libwebp alone): no resize after it,
    // so the decoder's output is the result, and a server making this size over and over writes into one buffer.
    const bytes = image('4.webp');
    const header = inspect(bytes);
    const first = (await decodeWebpResized(bytes, header, 4, 256, 193, undefined, true))!;
    const expected = new Uint8ClampedArray(first.data);
    recycleResized(first);
    const second = (await decodeWebpResized(bytes, header, 4, 256, 193, undefined, true))!;
    expect(second.data.buffer).toBe(first.data.buffer);
    expect(Buffer.from(second.data).equals(Buffer.from(expected))).toBe(true);
    // Not given back: the next decode has a buffer of its own.
    const third = (await decodeWebpResized(bytes, header, 4, 256, 193, undefined, true))!;
    expect(third.data.buffer).not.toBe(second.data.buffer);
    expect(Buffer.from(third.data).equals(Buffer.from(expected))).toBe(true);
  });

  it('decodes an animation\'s first frame at full size (it is placed on its canvas)', async () => {
    const scaled = await decode(image('animated-loop-3.webp'), { shrinkTo: { width: 40, height: 30 } });
    expect([scaled.shrink, scaled.width, scaled.height]).toEqual([1, 370, 285]);
  });

  it('refuses a truncated file in a scaled decode as in a full one', async () => {
    const bytes = image('4.webp').subarray(0, Math.floor(image('4.webp').length * 0.66));
    const full = await decode(bytes).then(() => undefined, (e: { code: string; message: string }) => ({ code: e.code, message: e.message }));
    const scaled = await decode(bytes, { shrinkTo: { width: 200, height: 150 } }).then(() => undefined, (e: { code: string; message: string }) => ({ code: e.code, message: e.message }));
    expect(full).toMatchObject({ code: 'CORRUPT_IMAGE' });
    expect(scaled).toEqual(full);
  });
});

describe('WebP decoded straight into the resize (decodeResized: libwebp\'s output never copied out)', () => {
  const same = (a: { data: Uint8ClampedArray }, b: { data: Uint8ClampedArray }) => Buffer.compare(Buffer.from(a.data), Buffer.from(b.data)) === 0;

  /** with-alpha.png (256x192, transparent and opaque areas) as a lossless WebP. */
  const losslessWebp = async () => new Uint8Array(await sharp(image('with-alpha.png')).webp({ lossless: true }).toBuffer());

  it('the header says whether a still image is lossless (VP8L), alone or after a VP8X chunk', async () => {
    const tags = (b: Uint8Array) => String.fromCharCode(...b.subarray(12, 16));
    const lossless = await losslessWebp();
    // With EXIF kept, sharp writes VP8X, then the VP8L bitstream, then EXIF.
    const wrapped = new Uint8Array(await sharp(image('with-alpha.png')).webp({ lossless: true }).withMetadata({ orientation: 1 }).toBuffer());
    expect([tags(lossless), tags(wrapped), tags(image('4.webp')), tags(image('5_webp_a.webp'))]).toEqual(['VP8L', 'VP8X', 'VP8 ', 'VP8X']);
    expect([lossless, wrapped, image('4.webp'), image('5_webp_a.webp')].map((b) => inspect(b).lossless)).toEqual([true, true, false, false]);
  });

  it.each([
    // Lossy 1024x772: 1/2 and 1/4 through libwebp's rescaler, then the kernel; with alpha (ALPH) 300x300 by 4.
    // The last column: what decodeResized gives with shrink-on-load allowed. A target one scale makes
    // (each side the other's proportion, rounded) is decoded straight to by libwebp, as sharp does:
    // sharp's pixels. Any other goes through the kernel: the decode then the resize.
    ['4.webp', { width: 300, height: 226 }, 2, 'sharp'],
    ['4.webp', { width: 200, height: 150 }, 4, 'two steps'], // 772 * 200 / 1024 is 150.8
    ['5_webp_a.webp', { width: 35, height: 35 }, 4, 'sharp'],
    // Straight to sizes 5.7x and 6.8x smaller, and 6.25x with alpha: libwebp's rescaler shrinking each
    // plane (Y, U, V, alpha) by a fraction.
    ['4.webp', { width: 180, height: 136 }, 4, 'sharp'],
    ['4.webp', { width: 150, height: 113 }, 4, 'sharp'],
    ['5_webp_a.webp', { width: 48, height: 48 }, 4, 'sharp'],
    // Lossless with alpha: by 4 through the rescaler; by 2 decoded whole, the kernel alone reducing it.
    ['lossless', { width: 50, height: 37 }, 4, 'two steps'], // 192 * 50 / 256 is 37.5
    ['lossless', { width: 80, height: 60 }, 1, 'sharp'],
    ['lossless', { width: 200, height: 150 }, 1, 'sharp'], // less than half smaller: still libwebp's, as in sharp
  ] as const)('%s to %o: the pixels of the decode (reduced by %i) then the resize; with shrink-on-load, %s', async (name, target, decodedShrink, scaled) => {
    const bytes = name === 'lossless' ? await losslessWebp() : image(name);
    const header = inspect(bytes);
    const decoded = await decode(bytes, { shrinkTo: target });
    expect(decoded.shrink).toBe(decodedShrink);
    const twoSteps = await resize(decoded, { ...target, fit: 'fill' });
    const streamed = await decodeWebpResized(bytes, header, chooseShrink(header, target), target.width, target.height);
    expect(streamed).toBeDefined();
    expect(same(streamed!, twoSteps)).toBe(true);
    const ref = scaled === 'sharp' ? await sharp(bytes).resize(target.width, target.height, { fit: 'fill' }).ensureAlpha().raw().toBuffer() : Buffer.from(twoSteps.data);
    expect(Buffer.compare(Buffer.from((await decodeResized(bytes, header, target, { shrinkTo: target })).data), ref)).toBe(0);
  });

  it('a lossless file that says it uses no alpha but codes some: left to the two-step path, which makes it opaque', async () => {
    const bytes = pastPaletteWebp(40, [200, 100, 50, 255], false);
    const header = inspect(bytes);
    expect(header.alpha).toBe(false);
    expect(await decodeWebpResized(bytes, header, 1, 20, 1)).toBeUndefined();
    const viaRecipe = await decodeResized(bytes, header, { width: 20, height: 1 });
    expect(same(viaRecipe, await resize(await decode(bytes), { width: 20, height: 1, fit: 'fill' }))).toBe(true);
    for (let i = 3; i < viaRecipe.data.length; i += 4) expect(viaRecipe.data[i]).toBe(255);
  });

  it('an animation and a damaged file are left to the two-step path or refused as there', async () => {
    const animated = image('animated-loop-3.webp');
    expect(await decodeWebpResized(animated, inspect(animated), 1, 40, 30)).toBeUndefined();
    const truncated = image('4.webp').subarray(0, Math.floor(image('4.webp').length * 0.66));
    const header = inspect(truncated);
    const twoSteps = await decode(truncated, { shrinkTo: { width: 200, height: 150 } }).then(() => undefined, (e: { code: string; message: string }) => ({ code: e.code, message: e.message }));
    const streamed = await decodeResized(truncated, header, { width: 200, height: 150 }, { shrinkTo: { width: 200, height: 150 } }).then(() => undefined, (e: { code: string; message: string }) => ({ code: e.code, message: e.message }));
    expect(twoSteps).toMatchObject({ code: 'CORRUPT_IMAGE' });
    expect(streamed).toEqual(twoSteps);
  });
});
