import { describe, expect, it, beforeAll } from 'vitest';
import sharp from 'sharp';
import '../../entries/node.js';
import { encode } from '../../src/encode.js';
import { createImage, type RGBAImage } from '../../src/image.js';
import {
  embedBlindWatermark, extractBlindWatermark, blindWatermarkId, BLIND_WATERMARK_CAPACITY,
} from '../../src/ops/blind-watermark.js';
import * as api from '../../src/index.js';
import { ATTACKS, pixels } from '../../bench/blindmark-attacks.js';
import { contentFor, photo as benchPhoto } from '../../bench/blindmark-photos.js';
import { ssim } from '../../bench/ssim.js';
import { embedPattern } from '../../src/ops/blindmark/embed.js';
import { keyedTile, renderTile, TILE } from '../../src/ops/blindmark/pattern.js';
import { image } from '../helpers/fixtures.js';
import { rejection } from '../helpers/errors.js';

/** A real photo, upright, resized to `width` with sharp. */
async function photo(name: string, width: number): Promise<RGBAImage> {
  return pixels(sharp(image(name)).rotate().resize({ width }));
}

/** Luma PSNR between two images of the same size. */
function psnr(a: RGBAImage, b: RGBAImage): number {
  let se = 0;
  for (let p = 0; p < a.data.length; p += 4) {
    const ya = 0.299 * a.data[p] + 0.587 * a.data[p + 1] + 0.114 * a.data[p + 2];
    const yb = 0.299 * b.data[p] + 0.587 * b.data[p + 1] + 0.114 * b.data[p + 2];
    se += (ya - yb) ** 2;
  }
  return 10 * Math.log10((255 * 255) / (se / (a.data.length / 4)));
}

/**
 * The embedding written plainly in doubles (what wasm/kernels/assembly/blindmark.ts does in f32 SIMD): luma,
 * the 5x5 variance with edges repeated, the SSIM-budget allowance, the cap lowered (water-filling) until the
 * image fits maxMse and maxLumaMse, the tile added to R, G and B. Returns the cap it used.
 */
function referenceEmbed(img: RGBAImage, pattern: Float64Array, budget: number, cap: number, maxMse: number, maxLumaMse: number): { data: Uint8ClampedArray; cap: number } {
  const { width: w, height: h, data } = img;
  const y = new Float64Array(w * h);
  for (let i = 0; i < y.length; i++) y[i] = 0.299 * data[4 * i] + 0.587 * data[4 * i + 1] + 0.114 * data[4 * i + 2];
  const k = budget / (1 - budget), c2 = (0.03 * 255) ** 2, a = new Float64Array(w * h);
  for (let py = 0; py < h; py++) {
    for (let px = 0; px < w; px++) {
      let s = 0, q = 0;
      for (let dy = -2; dy <= 2; dy++) for (let dx = -2; dx <= 2; dx++) {
        const v = y[Math.min(h - 1, Math.max(0, py + dy)) * w + Math.min(w - 1, Math.max(0, px + dx))];
        s += v; q += v * v;
      }
      const mean = s / 25, variance = Math.max(0, q / 25 - mean * mean);
      a[py * w + px] = Math.sqrt(Math.min(cap * cap, k * (2 * variance + c2)));
    }
  }
  // water-filling: the largest cap at which both the allowances' mean square and that of the allowances
  // rounded to whole levels (the luma error the pixels will measure) fit their limits
  const fits = (c: number): boolean => {
    let e = 0, r = 0;
    for (const v of a) { const m = Math.min(v, c); e += m * m; r += Math.round(m) ** 2; }
    return e / (w * h) <= maxMse && r / (w * h) <= maxLumaMse;
  };
  if (!fits(cap)) {
    let lo = 0, hi = cap;
    for (let i = 0; i < 30; i++) { const mid = (lo + hi) / 2; if (fits(mid)) lo = mid; else hi = mid; }
    cap = lo;
    for (let i = 0; i < a.length; i++) a[i] = Math.min(a[i], cap);
  }
  const gain = 2;
  const out = new Uint8ClampedArray(data);
  for (let py = 0; py < h; py++) {
    for (let px = 0; px < w; px++) {
      const i = py * w + px, d = a[i] * gain * pattern[(py % TILE) * TILE + (px % TILE)];
      for (let c = 0; c < 3; c++) out[4 * i + c] = data[4 * i + c] + d;
    }
  }
  return { data: out, cap };
}


/**
 * A case of the benchmark (bench/blindmark.ts) as it runs there: its photo `n` at 600 px marked with the
 * benchmark's content and key, delivered as JPEG q85, then attacked with the benchmark's seed.
 */
async function benchCase(n: number, attackName: string): Promise<{ original: RGBAImage; attacked: RGBAImage }> {
  const { image: original } = await benchPhoto(n, 600);
  const marked = await embedBlindWatermark(original, { content: contentFor(n), key: 'benchmark key' });
  const attack = ATTACKS.find((a) => a.name === attackName)!;
  return { original, attacked: await attack.apply(await encode(marked, 'jpeg', { quality: 85 }), 1000 * n + 600) };
}
describe('blind watermark: the embedding kernel', () => {
  it.each([
    ['a quiet photo under its MSE limit', 'flowers.jpeg', false],
    ['a busy photo over it, whose cap is lowered', 'Channel_digital_image_CMYK_color.jpg', true],
  ])('matches the embedding written plainly in doubles within one level, on a width that is not a multiple of 4: %s', async (_, name, filled) => {
    const original = await photo(name, 301);
    const pattern = renderTile(keyedTile('k', 200, 94), Uint8Array.from({ length: 200 }, (_, i) => (i * 7) % 3 & 1));
    const got = await embedPattern(original, pattern, { budget: 0.014, cap: 6, maxMse: 8.2, maxLumaMse: 9.84 });
    const { data: want, cap } = referenceEmbed(original, pattern, 0.014, 6, 8.2, 9.84);
    expect(cap < 6).toBe(filled);
    let worst = 0, differ = 0;
    for (let i = 0; i < want.length; i++) {
      const d = Math.abs(got.data[i] - want[i]);
      worst = Math.max(worst, d);
      if (d) differ++;
    }
    expect(worst).toBeLessThanOrEqual(1);
    expect(differ / want.length).toBeLessThan(0.01);
    // and it did add a mark: most pixels moved
    let moved = 0;
    for (let i = 0; i < want.length; i += 4) if (got.data[i] !== original.data[i]) moved++;
    expect(moved / (want.length / 4)).toBeGreaterThan(0.5);
  });
});

describe('blind watermark: bad input', () => {
  it('refuses images under 80 px on a side, naming the limit and the size', async () => {
    const e = await rejection(embedBlindWatermark(createImage(79, 100, 0x808080ff), { content: 'a' }));
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.message).toBe('Expected an image at least 80 px on each side for blindwatermark but received 79x100');
  });
  it('refuses a short side under half the long side', async () => {
    const e = await rejection(embedBlindWatermark(createImage(401, 200, 0x808080ff), { content: 'a' }));
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.message).toBe('Expected an image whose short side is at least half its long side for blindwatermark but received 401x200');
  });
  it('refuses content over the capacity, with the capacity in the message', async () => {
    const e = await rejection(embedBlindWatermark(createImage(200, 200, 0x808080ff), { content: 'ninechars' }));
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.message).toBe(`Expected at most ${BLIND_WATERMARK_CAPACITY} bytes of UTF-8 without NUL for blindwatermark.content (longer content needs longContent: 'id' and a registry) but received 9 bytes "ninechars"`);
  });
  it('refuses a missing content, a bad strength and an empty key', async () => {
    const img = createImage(200, 200, 0x808080ff);
    expect(await rejection(embedBlindWatermark(img, {} as never))).toEqual({
      code: 'MISSING_ARGUMENT', message: 'Expected a non-empty string for blindwatermark.content but received nothing',
    });
    expect(await rejection(embedBlindWatermark(img, { content: 'a', strength: 'max' as never }))).toEqual({
      code: 'INVALID_ARGUMENT', message: 'Expected one of low, medium, high for blindwatermark.s (strength) but received "max"',
    });
    expect((await rejection(embedBlindWatermark(img, { content: 'a', key: '' }))).code).toBe('INVALID_ARGUMENT');
  });
  it('embeds into a pure black image but says it may not be extractable', async () => {
    const out = await embedBlindWatermark(createImage(300, 200, 0x000000ff), { content: 'a' });
    expect(out.warning).toBe('The image is nearly uniform: the blind watermark may not be extractable');
  });
  it('never throws for "no mark": tiny, flat and clean images give found: false', async () => {
    expect(await extractBlindWatermark(createImage(10, 10, 0xffffffff))).toEqual({ found: false, confidence: 0 });
    expect(await extractBlindWatermark(createImage(500, 400, 0x336699ff))).toEqual({ found: false, confidence: 0 });
    expect(await extractBlindWatermark(await photo('concert.jpg', 500))).toEqual({ found: false, confidence: 0 });
  });
  it('is part of the public API', () => {
    expect(api.embedBlindWatermark).toBe(embedBlindWatermark);
    expect(api.extractBlindWatermark).toBe(extractBlindWatermark);
  });
});

describe('blind watermark: recovery through real encoders and attacks', () => {
  const cases = [
    { name: '2569067123_aca715a2ee_o.jpg', width: 1200, content: 'uid:4711' },
    { name: 'flowers.jpeg', width: 600, content: 'Zoë-42' },
  ];
  const delivered = new Map<string, { marked: RGBAImage; jpeg: Uint8Array; original: RGBAImage }>();
  beforeAll(async () => {
    for (const c of cases) {
      const original = await photo(c.name, c.width);
      const marked = await embedBlindWatermark(original, { content: c.content, key: 'tenant secret' });
      delivered.set(c.name, { original, marked, jpeg: await encode(marked, 'jpeg', { quality: 85 }) });
    }
  });

  it('stays under the noise: luma PSNR over 40 dB and SSIM over 0.98 at medium', () => {
    for (const c of cases) {
      const { original, marked } = delivered.get(c.name)!;
      expect(psnr(original, marked)).toBeGreaterThan(40);
      expect(ssim({ ...original, channels: 4 }, { ...marked, channels: 4 })).toBeGreaterThan(0.98);
    }
  });

  const slice = [
    'none', 'jpeg q50 4:2:0', 'webp q60', 'resize 0.5x', 'resize 2x', 'crop 25% area', 'brightness +30%', 'contrast 0.7',
    'greyscale', 'rotate 90°', 'mirror', 'rotate 2°', 'screenshot 1.25x jpeg90', 'chain 1080+q80+crop10%+bright1.1',
  ];
  for (const attackName of slice) {
    it(`recovers the content after ${attackName}`, async () => {
      const attack = ATTACKS.find((a) => a.name === attackName)!;
      for (const [i, c] of cases.entries()) {
        const attacked = await attack.apply(delivered.get(c.name)!.jpeg, 1000 + i);
        const result = await extractBlindWatermark(attacked, { key: 'tenant secret' });
        expect({ image: c.name, found: result.found, content: result.content }).toEqual({ image: c.name, found: true, content: c.content });
        expect(result.confidence).toBeGreaterThan(0.5);
      }
    });
  }

  it('gives found: false with another key, and on the clean original', async () => {
    for (const c of cases) {
      const { jpeg, original } = delivered.get(c.name)!;
      expect(await extractBlindWatermark(await pixels(sharp(jpeg)), { key: 'another secret' })).toEqual({ found: false, confidence: 0 });
      if (original.width <= 600) expect(await extractBlindWatermark(original, { key: 'tenant secret' })).toEqual({ found: false, confidence: 0 });
    }
  });

  it('carries longer content as an ID that resolve turns back into the text', async () => {
    const long = 'leaked by uploader 8812 on 2026-12-05';
    const original = await photo('flowers.jpeg', 600);
    const marked = await embedBlindWatermark(original, { content: long, longContent: 'id' });
    expect(marked.carried).toBe('id');
    expect(marked.id).toBe(blindWatermarkId(long));
    const registry = new Map([[marked.id!, long]]);
    const read = await pixels(sharp(await encode(marked, 'jpeg', { quality: 85 })));
    expect(await extractBlindWatermark(read, { resolve: (id) => registry.get(id) }))
      .toMatchObject({ found: true, id: marked.id, content: long });
    const unresolved = await extractBlindWatermark(read);
    expect(unresolved).toMatchObject({ found: true, id: marked.id });
    expect(unresolved.content).toBeUndefined();
  });

  it('reads a weak mark that needs both the wider second whitening and the list decoder', async () => {
    // the benchmark's photo 43 at 600 px (a crop of 4.webp) after JPEG q30: with the 3x3 whitening the sent
    // path is not among the decoder's 32 best; with the 5x5 one it is the 21st (plain Viterbi misses both)
    const { attacked } = await benchCase(43, 'jpeg q30');
    expect(await extractBlindWatermark(attacked, { key: 'benchmark key' })).toMatchObject({ found: true, content: contentFor(43) });
  });

  it('reads a halving whose sync peak is narrower than the refinement\'s first steps', async () => {
    // the benchmark's photo 41 at 600 px halved to 300x152: the coarse search offers scale 0.501, refining
    // from there settles 0.2% off with a quarter degree of rotation and decodes nothing; the scan around it
    // finds the peak (0.4995, no rotation) and the content
    const { attacked } = await benchCase(41, 'resize 0.5x');
    expect(attacked.width).toBe(300);
    expect(await extractBlindWatermark(attacked, { key: 'benchmark key' })).toMatchObject({ found: true, content: contentFor(41) });
  });

  it('reads a halving whose sync peak is too narrow for the coarse grid and the lattice', async () => {
    // the benchmark's photo 67 at 600 px halved to 300x154: the sync peak is 0.2% of scale wide and 6.4
    // high, the grid's nearest scale (0.501) shows 4.3 and no lattice estimate is near 0.5; the grid's
    // probes around 0.5 find it
    const { attacked } = await benchCase(67, 'resize 0.5x');
    expect(attacked.width).toBe(300);
    expect(await extractBlindWatermark(attacked, { key: 'benchmark key' })).toMatchObject({ found: true, content: contentFor(67) });
  });

  it('reads a quarter-area crop that only the residual over the level\'s 1.5th power decodes', async () => {
    // the benchmark's photo 53 at 600 px cropped to a quarter of its area: divided by the level itself (as
    // before) the decoder's 32 best paths all fail the CRC; weighted towards the pixels where the mark is
    // a larger share of the residual, the content is read at the embedded size
    const { original, attacked } = await benchCase(53, 'crop 25% area');
    expect(attacked.width * attacked.height).toBeLessThan((original.width * original.height) / 3);
    expect(await extractBlindWatermark(attacked, { key: 'benchmark key' })).toMatchObject({ found: true, content: contentFor(53) });
  });
});
