/**
 * Without the opt-in plug-in (no `import 'imgpipe/heic'` in this file's process), a HEIC is
 * inspected from its header but refused with how to enable decoding.
 */
import { describe, expect, it } from 'vitest';
import { decode, inspect, processUpload } from '../../entries/node.js';
import { rejection } from '../helpers/errors.js';
import { image } from '../helpers/fixtures.js';

const iphone = image('IMG_5195.HEIC');

describe('HEIC without the plug-in', () => {
  it('inspect() reports a HEIC\'s size and profile from its meta box', () => {
    const h = inspect(iphone);
    expect([h.format, h.width, h.height, h.orientation, h.iccBytes, h.exifBytes, h.alpha]).toEqual(['heic', 2566, 3313, 1, 548, 2468, false]);
    expect(h.heif).toMatchObject({ itemType: 'grid', tileType: 'hvc1', grid: { rows: 7, columns: 6, tiles: 42, tileWidth: 512, tileHeight: 512 } });
  });

  it('decode and the recipe refuse it with UNSUPPORTED_FORMAT, naming the plug-in', async () => {
    const message = "Expected a format imgpipe decodes but received a HEIC file, which needs the opt-in HEIC plug-in: import 'imgpipe/heic' once (or pass it to init({ plugins }))";
    expect(await rejection(decode(iphone))).toEqual({ code: 'UNSUPPORTED_FORMAT', message });
    expect(await rejection(processUpload(iphone, { key: 'u/IMG_5195.HEIC' }))).toEqual({ code: 'UNSUPPORTED_FORMAT', message });
  });

  it('the limits are checked from the header before the plug-in is asked for', async () => {
    expect((await rejection(decode(iphone, { limits: { maxPixels: 8_000_000 } }))).code).toBe('IMAGE_TOO_LARGE');
  });
});
