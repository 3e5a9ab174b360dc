/**
 * imgpipe's libwebp module (wasm/libwebp, built by scripts/build-libwebp.mjs): libwebp's SSE2 paths
 * on WASM SIMD behind a small C interface. It must write the same files as sharp's native libwebp at
 * the same settings, refuse damaged files with libwebp's own diagnosis, and stay usable afterwards.
 */
import { describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { readFileSync } from 'node:fs';
import { decode, encode, resize, locateWasm, type RGBAImage } from '../../entries/node.js';
import { image } from '../helpers/fixtures.js';

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

  it('is a plain module: no JavaScript glue, one import (the memory-growth notice), nothing it must be told', () => {
    const module = new WebAssembly.Module(readFileSync(locateWasm('webp')));
    expect(WebAssembly.Module.imports(module)).toEqual([{ module: 'env', name: 'emscripten_notify_memory_growth', kind: 'function' }]);
    expect(WebAssembly.Module.exports(module).map((e) => e.name)).toEqual(expect.arrayContaining(['memory', '_initialize', 'imgpipe_webp_encode', 'imgpipe_webp_decode']));
  });
});
