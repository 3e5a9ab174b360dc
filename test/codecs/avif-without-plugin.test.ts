/**
 * Without the opt-in plug-in (no `import 'imgpipe/avif'` in this file's process), an AVIF is
 * inspected from its header but refused with how to enable decoding, writing AVIF is refused the
 * same way, and HTTP negotiation never offers AVIF.
 */
import { describe, expect, it } from 'vitest';
import { decode, encode, inspect, transform } from '../../entries/node.js';
import { negotiateFormat } from '../../adapters/http/negotiate.js';
import { rejection } from '../helpers/errors.js';
import { fixture, image } from '../helpers/fixtures.js';

const grid = fixture('avif/grid-2x2.avif');

describe('AVIF without the plug-in', () => {
  it('inspect() reads an AVIF\'s size and grid from its meta box (ispe, av1C items)', () => {
    const h = inspect(grid);
    expect([h.format, h.width, h.height, h.orientation, h.alpha]).toEqual(['avif', 256, 192, 1, false]);
    expect(h.heif).toMatchObject({ itemType: 'grid', tileType: 'av01', grid: { rows: 2, columns: 2, tiles: 4, tileWidth: 128, tileHeight: 96 } });
  });

  it('decode refuses it with UNSUPPORTED_FORMAT, naming the plug-in', async () => {
    expect(await rejection(decode(grid))).toEqual({
      code: 'UNSUPPORTED_FORMAT',
      message: "Expected a format imgpipe decodes but received an AVIF file, which needs the opt-in AVIF plug-in: import 'imgpipe/avif' once (or pass it to init({ plugins }))",
    });
  });

  it('writing AVIF (encode, format,avif) is refused the same way; negotiation offers WebP', async () => {
    const message = "Expected to write AVIF, which needs the opt-in AVIF plug-in: import 'imgpipe/avif' once (or pass it to init({ plugins }))";
    const img = await decode(image('320x240.jpg'));
    expect(await rejection(encode(img, 'avif'))).toEqual({ code: 'UNSUPPORTED_FORMAT', message });
    expect(await rejection(transform(image('320x240.jpg'), 'image/format,avif'))).toMatchObject({ code: 'UNSUPPORTED_FORMAT', message });
    expect(negotiateFormat('image/avif,image/webp,*/*')).toBe('webp');
  });
});
