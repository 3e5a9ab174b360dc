/**
 * Where the Little CMS module is not deployed (a Function Compute function without its layer, see
 * scripts/build-fc.mjs): profiles only it applies are left as decoded, as before it existed, and
 * nothing is refused; init() does not ask for it.
 */
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { decode, init, locateWasm, readHeader } from '../../entries/node.js';
import { setWasmProvider } from '../../src/wasm/modules.js';
import { decodeImage } from '../../src/decode.js';
import { fixture, image } from '../helpers/fixtures.js';

// This file's module graph is its own (vitest isolates files): the provider below affects only it.
setWasmProvider(async (name) => {
  if (name === 'lcms2') throw new Error('imgpipe_lcms2.wasm is not deployed here');
  return readFile(locateWasm(name));
});

describe('without the lcms module', () => {
  it('init() compiles the other modules and succeeds', async () => {
    await expect(init()).resolves.toBeUndefined();
  });

  it('a LUT-profile JPEG decodes as if it had no profile', async () => {
    const bytes = fixture('icc/lut-profile.jpg');
    const header = readHeader(bytes);
    const ours = await decode(bytes, { autoOrient: false });
    const bare = await decodeImage(bytes, { ...header, iccBytes: 0, iccRanges: undefined }, { autoOrient: false }, false);
    expect(Buffer.from(ours.data).equals(Buffer.from(bare.image.data))).toBe(true);
  });

  it('a CMYK JPEG with a profile decodes with the naive CMYK conversion, close to sharp in tone', async () => {
    const bytes = image('Channel_digital_image_CMYK_color.jpg');
    const ours = await decode(bytes, { autoOrient: false });
    const theirs = new Uint8Array(await sharp(bytes).ensureAlpha().raw().toBuffer());
    let sum = 0;
    for (let i = 0; i < theirs.length; i++) if (i % 4 !== 3) sum += Math.abs(ours.data[i] - theirs[i]);
    const mean = sum / ((theirs.length / 4) * 3);
    // The profile not applied: visibly off sharp's colour-managed pixels, as before lcms.
    expect(mean).toBeGreaterThan(5);
    expect(mean).toBeLessThan(13);
  });
});
