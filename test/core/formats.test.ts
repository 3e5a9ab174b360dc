/**
 * The format registry is the one place a format is defined: every row carries each piece the other
 * layers read (and `registerFormat` refuses a row without one), and detection, `encode`, the recipe,
 * `format,*`, `info` and the README all follow the rows, including a row registered at run time.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import '../../entries/node.js';
import {
  FORMATS, decode, encode, readHeader, registerFormat, sniffFormat, transform, validateRecipe, DEFAULT_RECIPE,
  type FormatInfo, type OutputFormat,
} from '../../src/index.js';
import { formatRows, outputFormat } from '../../src/formats.js';
import { parseProcess } from '../../src/process/parse.js';
import { FORMATS_END, FORMATS_START, README, renderFormats } from '../../scripts/gen-compat.js';
import { fixture } from '../helpers/fixtures.js';
import { toyFormat } from '../helpers/toy-format.js';

const SAMPLE: Record<string, string> = {
  jpeg: 'images/Landscape_1.jpg', png: 'images/with-alpha.png', webp: 'images/5_webp_a.webp', gif: 'images/animated-loop-3.gif',
  heic: 'images/IMG_5195.HEIC', avif: 'avif/photo-444.avif',
};
const image = (name: string) => fixture(name.includes('/') ? name : `images/${name}`);

describe('every built-in row is complete', () => {
  for (const row of formatRows()) {
    it(row.id, async () => {
      const bytes = image(SAMPLE[row.id]);
      expect(row.magic(bytes)).toBe(true);
      expect(sniffFormat(bytes)).toBe(row.id);
      expect(readHeader(bytes).format).toBe(row.id);
      expect(row.mime).toMatch(/^image\//);
      expect(row.extensions).toContain(row.extension);
      expect(row.oss.aliases).toContain(row.oss.name);
      if (row.plugin) {
        // Its decoder is an opt-in plug-in this file does not import: refused, saying how to enable it.
        await expect(decode(bytes)).rejects.toMatchObject({ code: 'UNSUPPORTED_FORMAT', message: expect.stringContaining(row.plugin) });
        // A plug-in format imgpipe writes (AVIF) refuses writing the same way.
        if (row.encode) await expect((await row.encode())(await decode(image('with-alpha.png')), { quality: 50, progressive: false, lossless: false, background: [255, 255, 255] })).rejects.toMatchObject({ code: 'UNSUPPORTED_FORMAT', message: expect.stringContaining(row.plugin) });
        return;
      }
      const decoded = await decode(bytes);
      expect(decoded.format).toBe(row.id);
      if (row.encode) {
        const out = await encode(decoded, row.id);
        expect(sniffFormat(out)).toBe(row.id);
        expect(outputFormat(row.extension)).toBe(row.id);
        for (const alias of row.oss.aliases) expect(parseProcess(`image/format,${alias}`)[0].params).toEqual({ value: alias });
      } else {
        await expect(encode(decoded, row.id)).rejects.toMatchObject({ code: 'UNSUPPORTED_FORMAT' });
      }
    });
  }
});

describe('registerFormat', () => {
  const base = FORMATS.png;
  const refused = (row: unknown, message: string) => expect(() => registerFormat(row as FormatInfo)).toThrow(message);

  it('refuses a row that lacks a piece another layer needs, naming it', () => {
    refused({ ...base, id: 'x1', readHeader: undefined }, 'Expected a function for format row "x1".readHeader but received nothing');
    refused({ ...base, id: 'x2', decode: 'yes' }, 'Expected a function for format row "x2".decode but received "yes"');
    refused({ ...base, id: 'x3', mime: 'text/plain' }, 'Expected an image/* content type for format row "x3".mime but received "text/plain"');
    refused({ ...base, id: 'x4', extensions: ['foo'] }, 'Expected a list including png for format row "x4".extensions but received');
    refused({ ...base, id: 'x5', oss: { name: 'x5', aliases: [] } }, 'Expected an OSS name and aliases that include it for format row "x5".oss');
    refused({ ...base, id: 'x6', magic: undefined }, 'Expected a function for format row "x6".magic but received nothing');
    refused({ ...base, id: 'x7', encode: 1 }, 'Expected a function or undefined for format row "x7".encode but received 1');
    refused({ ...base, id: 'x8', defaultQuality: 0 }, 'Expected an integer between 1 and 100 for format row "x8".defaultQuality but received 0');
    refused({ ...base, id: 'png' }, 'Expected an id not yet registered for format row "png".id but received "png"');
    expect(Object.keys(FORMATS)).toEqual(['jpeg', 'png', 'webp', 'gif', 'heic', 'avif']);
  });

  it('a row registered at run time is sniffed, decoded, written, selected by format,* and reported by info', async () => {
    const toy = toyFormat();
    expect(() => parseProcess('image/format,bmp')).toThrow('Expected an output format imgpipe can write (jpg, png, webp, avif) for format.value but received "bmp"');
    registerFormat(toy);
    const png = await decode(image('with-alpha.png'));
    const bytes = await encode(png, 'toy' as OutputFormat);
    expect(sniffFormat(bytes)).toBe('toy');
    expect((await decode(bytes)).data).toEqual(png.data);
    const viaProcess = await transform(image('with-alpha.png'), 'image/format,bmp');
    expect(viaProcess.contentType).toBe('image/x-toy');
    expect(JSON.parse(new TextDecoder().decode((await transform(bytes, 'image/info')).bytes)).Format).toEqual({ value: 'bmp' });
    expect(() => validateRecipe({ ...DEFAULT_RECIPE, outputs: [{ format: 'tiff' as OutputFormat, quality: 80, key: '{size}/{name}' }] }))
      .toThrow('Expected one of jpeg, png, webp, avif, toy for recipe.outputs[0].format but received "tiff"');
    expect(renderFormats()).toContain('| Toy | `image/x-toy` | toy | yes | yes |  | bmp |');
  });
});

it('the README format table is generated from the rows (run `npm run docs:compat`)', () => {
  const readme = readFileSync(README, 'utf8');
  const section = readme.slice(readme.indexOf(FORMATS_START) + FORMATS_START.length + 1, readme.indexOf(FORMATS_END) - 1);
  // Built-in rows only: this file registers a toy row in the test above.
  expect(section).toBe(renderFormats().split('\n').filter((l) => !l.includes('Toy')).join('\n'));
});
