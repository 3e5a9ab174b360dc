/**
 * Lossless JPEG (SOF3): public files' samples against dcmtk's decode (recorded by
 * test/fixtures/lossless/make.mjs), their RGBA against sharp's live where sharp decodes them, the
 * cases the public files lack written by test/helpers/lossless-jpeg.ts, every path an upload takes,
 * each refusal's code and message, and damage under each failOn level.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decode, inspect, isImgpipeError, processUpload, transform } from '../../entries/node.js';
import { decodeLosslessSamples } from '../../src/codecs/jpeg-lossless.js';
import { FAIL_ON_LEVELS } from '../../src/fail-on.js';
import { sharpRaw } from '../helpers/compare.js';
import { rejection } from '../helpers/errors.js';
import { FIXTURES, fixture } from '../helpers/fixtures.js';
import { encodeLosslessJpeg, type LosslessOptions } from '../helpers/lossless-jpeg.js';

interface Reference { precision: number; width: number; height: number; components: number; dcmtkSamples: string; sharp: string }
const REFERENCE: Record<string, Reference> = JSON.parse(readFileSync(`${FIXTURES}lossless/reference.json`, 'utf8'));
const NAMES = Object.keys(REFERENCE);
const lossless = (name: string) => fixture(`lossless/${name}`);
const sha = (b: Uint8Array | Uint8ClampedArray | Uint16Array) => createHash('sha256').update(new Uint8Array(b.buffer, b.byteOffset, b.byteLength)).digest('hex');

/** Samples pixel by pixel (interleaved), as dcmtk writes them. */
function interleaved(planes: readonly Uint16Array[]): Uint16Array {
  const n = planes[0].length, out = new Uint16Array(n * planes.length);
  for (let i = 0; i < n; i++) for (let c = 0; c < planes.length; c++) out[i * planes.length + c] = planes[c][i];
  return out;
}

/** A deterministic test pattern of `precision`-bit samples, with its low `pt` bits clear. */
function pattern(width: number, height: number, components: number, precision: number, pt = 0): Uint16Array[] {
  return Array.from({ length: components }, (_, c) => Uint16Array.from({ length: width * height }, (_, i) => {
    const x = i % width, y = Math.floor(i / width);
    const smooth = ((x * 3 + y * 5 + c * 40) * (1 << precision)) / (width * 3 + height * 5 + 120);
    const noise = ((i * 7919 + c * 31) ^ (i >> 3)) % 7;
    return ((Math.floor(smooth + noise) % (1 << precision)) >> pt) << pt;
  }));
}

function craft(o: Partial<LosslessOptions> & { components?: number } = {}): { bytes: Uint8Array; planes: Uint16Array[] } {
  const width = o.width ?? 37, height = o.height ?? 23, precision = o.precision ?? 8;
  const planes = o.planes ? [...o.planes] : pattern(width, height, o.components ?? 3, precision, o.pt);
  return { bytes: encodeLosslessJpeg({ width, height, precision, planes, predictor: o.predictor ?? 1, ...o }), planes };
}

/** Offset of the first byte after marker `m`'s FF xx. */
function markerAt(b: Uint8Array, m: number): number {
  for (let i = 2; i + 1 < b.length; i++) if (b[i] === 0xff && b[i + 1] === m) return i + 2;
  throw new Error(`no marker ${m.toString(16)}`);
}

function patched(b: Uint8Array, at: number, ...values: number[]): Uint8Array {
  const out = b.slice();
  out.set(values, at);
  return out;
}

describe('lossless JPEG: public files', () => {
  it.each(NAMES)('%s: samples equal dcmtk\'s', (name) => {
    const ref = REFERENCE[name];
    const { frame, samples } = decodeLosslessSamples(lossless(name), ref, 'warning');
    expect({ precision: frame.precision, width: frame.width, height: frame.height, components: samples.length })
      .toEqual({ precision: ref.precision, width: ref.width, height: ref.height, components: ref.components });
    expect(sha(interleaved(samples))).toBe(ref.dcmtkSamples);
  });

  it('the seven 16-bit files use predictors 1 to 7 and decode to the same image', async () => {
    const digests = new Set<string>();
    for (let p = 1; p <= 7; p++) {
      const bytes = lossless(`sel${p}-16bit.jpg`);
      const sos = markerAt(bytes, 0xda);
      expect(bytes[sos + 2 + 1 + 2]).toBe(p); // Ss after the length, Ns and one component's selector
      digests.add(sha((await decode(bytes)).data));
    }
    expect(digests.size).toBe(1);
  });

  it.each(NAMES.filter((n) => REFERENCE[n].precision === 8))('%s: RGBA equals sharp\'s', async (name) => {
    const bytes = lossless(name);
    const ours = await decode(bytes);
    const theirs = await sharpRaw(bytes);
    expect([ours.width, ours.height]).toEqual([theirs.width, theirs.height]);
    expect(sha(ours.data)).toBe(sha(theirs.data));
  });

  it('16-bit samples become v * 255 / 65535 rounded, grey in R, G and B (sharp refuses the file)', async () => {
    const bytes = lossless('sel1-16bit.jpg');
    expect(REFERENCE['sel1-16bit.jpg'].sharp).toMatch(/^refuses: .*precision 16/);
    const { samples } = decodeLosslessSamples(bytes, REFERENCE['sel1-16bit.jpg'], 'warning');
    const img = await decode(bytes);
    const expected = new Uint8ClampedArray(img.data.length);
    samples[0].forEach((v, i) => expected.set([Math.round((v * 255) / 65535), Math.round((v * 255) / 65535), Math.round((v * 255) / 65535), 255], i * 4));
    expect(sha(img.data)).toBe(sha(expected));
  });

  it('inspect reports the lossless frame and its precision', () => {
    expect(inspect(lossless('sel3-16bit.jpg'))).toMatchObject({ format: 'jpeg', width: 256, height: 256, sof: 0xc3, precision: 16, components: 1 });
    expect(inspect(lossless('gdcm-rgb-8bit.jpg'))).toMatchObject({ width: 100, height: 100, sof: 0xc3, precision: 8, components: 3 });
  });
});

describe('lossless JPEG: written cases', () => {
  const cases: [string, Partial<LosslessOptions> & { components?: number }][] = [];
  for (const precision of [2, 5, 8, 12, 16]) for (let predictor = 1; predictor <= 7; predictor++) cases.push([`${precision}-bit RGB, predictor ${predictor}`, { precision, predictor }]);
  cases.push(
    ['restart every 2 rows', { restartRows: 2, predictor: 4 }],
    ['restart every row, 12-bit grey', { restartRows: 1, predictor: 7, precision: 12, components: 1 }],
    ['point transform 3', { pt: 3, predictor: 5 }],
    ['point transform 15 at 16 bits', { pt: 15, precision: 16, predictor: 6 }],
    ['one scan per component', { separateScans: true, predictor: 2 }],
  );
  it.each(cases)('%s: every sample round-trips', (_, o) => {
    const { bytes, planes } = craft(o);
    const { samples } = decodeLosslessSamples(bytes, { width: 37, height: 23 }, 'warning');
    expect(samples.map(sha)).toEqual(planes.map(sha));
  });

  it.each([
    ['no marker (RGB, as libjpeg-turbo 3 assumes)', undefined],
    ['Adobe transform 0 (RGB)', 'adobe-rgb'],
  ] as const)('8-bit, %s: RGBA equals sharp\'s', async (_, marker) => {
    const { bytes } = craft({ predictor: 4, restartRows: 3, pt: 1, marker });
    expect(sha((await decode(bytes)).data)).toBe(sha((await sharpRaw(bytes)).data));
  });

  it('JFIF or Adobe transform 1 means YCbCr: converted with libjpeg\'s tables (sharp refuses the conversion)', async () => {
    const w = 3, h = 1;
    // Y, Cb, Cr of white, a red and grey: jdcolor.c's ycc_rgb_convert gives these RGB values.
    const planes = [Uint16Array.of(255, 76, 128), Uint16Array.of(128, 85, 128), Uint16Array.of(128, 255, 128)];
    for (const marker of ['jfif', 'adobe-ycc'] as const) {
      const img = await decode(encodeLosslessJpeg({ width: w, height: h, precision: 8, planes, predictor: 1, marker }));
      expect([...img.data]).toEqual([255, 255, 255, 255, 254, 0, 0, 255, 128, 128, 128, 255]);
    }
  });

  it('takes the same paths as other JPEGs: EXIF orientation, resize, the upload recipe, limits', async () => {
    const { bytes } = craft({ width: 300, height: 200, predictor: 1 });
    const plain = await decode(bytes);
    // An APP1 Exif segment with Orientation 6 (rotate 90 degrees clockwise) after SOI.
    const tiff = [0x4d, 0x4d, 0, 42, 0, 0, 0, 8, 0, 1, 1, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0, 0, 0, 0, 0];
    const exif = [0xff, 0xe1, 0, 2 + 6 + tiff.length, 0x45, 0x78, 0x69, 0x66, 0, 0, ...tiff];
    const rotated = Uint8Array.from([0xff, 0xd8, ...exif, ...bytes.subarray(2)]);
    expect(inspect(rotated).orientation).toBe(6);
    const upright = await decode(rotated);
    expect([upright.width, upright.height]).toEqual([200, 300]);
    // Upright (x, y) is stored (y, 199 - x): column y of row 199 - x.
    for (const [x, y] of [[0, 0], [199, 0], [57, 211], [199, 299]]) {
      const s = ((199 - x) * 300 + y) * 4, u = (y * 200 + x) * 4;
      expect([...upright.data.subarray(u, u + 4)]).toEqual([...plain.data.subarray(s, s + 4)]);
    }
    const small = await transform(rotated, 'image/resize,w_100/format,png');
    expect([small.width, small.height]).toEqual([100, 150]);
    const variants = await processUpload(bytes, { key: 'scan.jpg' });
    expect(variants.length).toBeGreaterThan(0);
    for (const v of variants) expect(v.width).toBeLessThanOrEqual(300);
    expect(await rejection(decode(bytes, { limits: { maxPixels: 59_999 } }))).toMatchObject({ code: 'IMAGE_TOO_LARGE' });
  });
});

describe('lossless JPEG: refusals', () => {
  const { bytes } = craft({ predictor: 1 });
  const sos = markerAt(bytes, 0xda) + 2; // Ns
  const sof = markerAt(bytes, 0xc3) + 2; // P
  it.each([
    ['predictor 0', patched(bytes, sos + 7, 0), /predictor 0 \(Ss; allowed 1-7\)/],
    ['predictor 8', patched(bytes, sos + 7, 8), /predictor 8 \(Ss; allowed 1-7\)/],
    ['Se 5', patched(bytes, sos + 8, 5), /Se=5 Ah=0 \(both must be 0/],
    ['point transform 8 at 8 bits', patched(bytes, sos + 9, 8), /point transform 8 \(Al; allowed 0-7 for 8-bit samples\)/],
    ['precision 1', patched(bytes, sof, 1), /1-bit samples \(allowed 2-16\)/],
    ['precision 17', patched(bytes, sof, 17), /17-bit samples \(allowed 2-16\)/],
    ['an undefined Huffman table', patched(bytes, sos + 2, 0x10), /Huffman table 1, which no DHT segment defines/],
    ['a component the frame lacks', patched(bytes, sos + 1, 9), /component id 9, which the frame does not declare/],
  ])('%s: CORRUPT_IMAGE naming it', async (_, b, message) => {
    const r = await rejection(decode(b));
    expect(r.code).toBe('CORRUPT_IMAGE');
    expect(r.message).toMatch(/^Expected a valid lossless JPEG but /);
    expect(r.message).toMatch(message);
  });

  it('a subsampled component: UNSUPPORTED_FORMAT naming the component and its factors', async () => {
    expect(await rejection(decode(patched(bytes, sof + 6 + 3 + 1, 0x21)))).toEqual({
      code: 'UNSUPPORTED_FORMAT',
      message: 'Expected a lossless JPEG imgpipe can decode but component 2 is sampled 2x1 (subsampled lossless JPEG is not supported: every component must be 1x1)',
    });
  });

  it('four components (CMYK): UNSUPPORTED_FORMAT', async () => {
    const four = craft({ components: 4 }).bytes;
    expect(await rejection(decode(four))).toEqual({
      code: 'UNSUPPORTED_FORMAT',
      message: 'Expected a lossless JPEG imgpipe can decode but the frame has 4 components (allowed: 1 grey, 3 RGB or YCbCr)',
    });
  });

  it('arithmetic-coded lossless (SOF11): UNSUPPORTED_FORMAT naming the process', async () => {
    const sof11 = patched(bytes, markerAt(bytes, 0xc3) - 1, 0xcb);
    const r = await rejection(decode(sof11));
    expect(r.code).toBe('UNSUPPORTED_FORMAT');
    expect(r.message).toMatch(/but the file is arithmetic-coded lossless \(SOF11\)$/);
  });
});

describe('lossless JPEG: damage and failOn', () => {
  const { bytes } = craft({ width: 64, height: 48, predictor: 4, restartRows: 8 });
  it('a code past the Huffman table is refused by default and decoded through below warning', async () => {
    // 32 one bits (FF 00 is a stuffed FF byte): at most 15 go to the extra bits of a code begun
    // before them, and the rest start a code with 15 ones, the one code the table leaves unused.
    const at = markerAt(bytes, 0xda) + 12 + 40;
    const bad = patched(bytes, at, 0xff, 0x00, 0xff, 0x00, 0xff, 0x00, 0xff, 0x00);
    expect(await rejection(decode(bad))).toEqual({ code: 'CORRUPT_IMAGE', message: 'Expected a decodable JPEG but the decoder reported: Corrupt JPEG data: bad Huffman code' });
    expect((await decode(bad, { failOn: 'error' })).width).toBe(64);
  });

  it('a missing restart marker is refused by default and decoded through below warning', async () => {
    const rst = bytes.findIndex((v, i) => v === 0xff && bytes[i + 1] === 0xd2);
    const bad = patched(bytes, rst + 1, 0xd5);
    expect(await rejection(decode(bad))).toEqual({ code: 'CORRUPT_IMAGE', message: 'Expected a decodable JPEG but the decoder reported: Corrupt JPEG data: restart marker missing or out of sequence' });
    expect((await decode(bad, { failOn: 'error' })).height).toBe(48);
  });

  it('data that ends before the frame does (its end marker present) is refused by default, decoded through below warning', async () => {
    const plain = craft({ width: 64, height: 48, predictor: 4 }).bytes; // no restart intervals
    const taller = patched(plain, markerAt(plain, 0xc3) + 3, 0x0f, 0xa0); // 64x4000 declared, 64x48 coded
    expect(await rejection(decode(taller))).toEqual({ code: 'CORRUPT_IMAGE', message: 'Expected a decodable JPEG but the decoder reported: Corrupt JPEG data: premature end of data segment' });
    const img = await decode(taller, { failOn: 'error' });
    expect([img.width, img.height]).toEqual([64, 4000]);
  });

  it('a file cut short is refused from truncated up and decoded with failOn none', async () => {
    const cut = bytes.slice(0, Math.floor(bytes.length * 0.6));
    for (const failOn of ['truncated', 'error', 'warning'] as const) {
      expect((await rejection(decode(cut, { failOn }))).message).toMatch(/truncated: no end-of-image marker/);
    }
    const img = await decode(cut, { failOn: 'none' });
    expect([img.width, img.height]).toEqual([64, 48]);
  });

  it('truncations and flipped bytes of every fixture end as an image or an ImgpipeError, at every failOn level', async () => {
    const outcomes: Record<string, number> = {};
    for (const name of NAMES) {
      const b = lossless(name);
      const variants = [0.1, 0.33, 0.66, 0.99].map((f) => b.slice(0, Math.floor(b.length * f)));
      for (const at of [0.2, 0.5, 0.8]) {
        const flipped = b.slice(), mid = Math.floor(b.length * at);
        for (let i = mid; i < Math.min(b.length, mid + 8); i++) flipped[i] ^= 0xff;
        variants.push(flipped);
      }
      for (const v of variants) {
        for (const failOn of FAIL_ON_LEVELS) {
          const outcome = await decode(v, { failOn }).then(() => 'ok', (e: unknown) => {
            if (!isImgpipeError(e)) throw e;
            return e.code;
          });
          outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
        }
      }
    }
    expect(Object.keys(outcomes).every((k) => ['ok', 'CORRUPT_IMAGE', 'UNSUPPORTED_FORMAT'].includes(k))).toBe(true);
    expect(outcomes.ok).toBeGreaterThan(0);
    expect(outcomes.CORRUPT_IMAGE).toBeGreaterThan(0);
  });
});
