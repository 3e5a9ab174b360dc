/** Watermark placement, blending, tiling, rotation, shadow, logos and option checks, pixel by pixel. */
import { describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { createImage, type RGBAImage } from '../../src/image.js';
import { isImgpipeError } from '../../src/errors.js';
import { placeWatermark, shadowOffset, validateWatermark, watermark, type Gravity, type WatermarkOptions } from '../../src/ops/watermark.js';
import { defaultFont } from '../../src/text/font.js';
import { renderText } from '../../src/text/render.js';
import '../../entries/node.js'; // registers the WASM loader for the logo decoder and resize
import { image as fixtureImage } from '../helpers/fixtures.js';

const DEFAULT = await defaultFont();
const GREY = 0x808080ff;
const W = 400, H = 300;

/** Bounding box of the pixels that differ between two images (undefined when none differ). */
function changedBox(a: RGBAImage, b: RGBAImage): { x0: number; y0: number; x1: number; y1: number; count: number } | undefined {
  let x0 = Infinity, y0 = Infinity, x1 = -1, y1 = -1, count = 0;
  for (let y = 0; y < a.height; y++) for (let x = 0; x < a.width; x++) {
    const i = (y * a.width + x) * 4;
    if (a.data[i] !== b.data[i] || a.data[i + 1] !== b.data[i + 1] || a.data[i + 2] !== b.data[i + 2] || a.data[i + 3] !== b.data[i + 3]) {
      x0 = Math.min(x0, x); y0 = Math.min(y0, y); x1 = Math.max(x1, x); y1 = Math.max(y1, y); count++;
    }
  }
  return count === 0 ? undefined : { x0, y0, x1, y1, count };
}

function expectError(fn: () => unknown, code: string, message: string): void {
  try {
    fn();
    expect.unreachable('expected an ImgpipeError');
  } catch (e) {
    expect(isImgpipeError(e), String(e)).toBe(true);
    expect((e as { code: string }).code).toBe(code);
    expect((e as Error).message).toBe(message);
  }
}

const pixel = (img: RGBAImage, x: number, y: number) => Array.from(img.data.subarray((y * img.width + x) * 4, (y * img.width + x) * 4 + 4));

describe('placement', () => {
  const text = 'Watermark';
  const mask = renderText(text, 40, [DEFAULT]);
  const GRAVITIES: Gravity[] = ['nw', 'north', 'ne', 'west', 'center', 'east', 'sw', 'south', 'se'];

  it.each(GRAVITIES)('puts every changed pixel inside the expected box for g_%s, and changes nothing outside', async (gravity) => {
    const src = createImage(W, H, GREY);
    const out = await watermark(src, { text, gravity, x: 17, y: 23, voffset: gravity === 'center' ? 30 : 0, color: 'FFFFFF' });
    const w = mask.width, h = mask.height;
    const expectX = { nw: 17, west: 17, sw: 17, north: (W - w) >> 1, center: (W - w) >> 1, south: (W - w) >> 1, ne: W - w - 17, east: W - w - 17, se: W - w - 17 }[gravity];
    const expectY = { nw: 23, north: 23, ne: 23, west: (H - h) >> 1, center: ((H - h) >> 1) + 30, east: (H - h) >> 1, sw: H - h - 23, south: H - h - 23, se: H - h - 23 }[gravity];
    expect(placeWatermark(W, H, w, h, validateWatermark({ text, gravity, x: 17, y: 23, voffset: gravity === 'center' ? 30 : 0 }))).toEqual({ x: expectX, y: expectY });
    const box = changedBox(src, out)!;
    expect(box.x0).toBeGreaterThanOrEqual(expectX);
    expect(box.y0).toBeGreaterThanOrEqual(expectY);
    expect(box.x1).toBeLessThan(expectX + w);
    expect(box.y1).toBeLessThan(expectY + h);
    // The ink fills most of the box's width (it is the text, not a stray pixel).
    expect(box.x1 - box.x0).toBeGreaterThan(w * 0.9);
    expect(changedBox(src, createImage(W, H, GREY))).toBeUndefined(); // the input is never modified
  });

  it('clips a watermark that does not fit, without touching anything else', async () => {
    // "Watermark" at 20 px is about 100×27: wider and taller than the image.
    const src = createImage(60, 20, GREY);
    const out = await watermark(src, { text, gravity: 'nw', x: 0, y: 0, size: 20, color: 'FFFFFF' });
    const box = changedBox(src, out)!;
    expect(box.count).toBeGreaterThan(100);
    expect(out.width).toBe(60);
    expect(out.data.length).toBe(60 * 20 * 4);
  });
});

describe('opacity and colour', () => {
  it('changes nothing at t_0', async () => {
    const src = createImage(W, H, GREY);
    const out = await watermark(src, { text: 'invisible', opacity: 0, shadow: 100, color: 'FF0000' });
    expect(changedBox(src, out)).toBeUndefined();
  });

  it('gives exactly the colour in glyph interiors at t_100, and a linear mix at t_50', async () => {
    const src = createImage(W, H, GREY);
    const mask = renderText('HI', 80, [DEFAULT]);
    const at = placeWatermark(W, H, mask.width, mask.height, validateWatermark({ text: 'HI' }));
    const full = await watermark(src, { text: 'HI', size: 80, color: '12AB34' });
    const half = await watermark(src, { text: 'HI', size: 80, color: '12AB34', opacity: 50 });
    let interiors = 0;
    for (let y = 0; y < mask.height; y++) for (let x = 0; x < mask.width; x++) {
      if (mask.data[y * mask.width + x] !== 255) continue;
      interiors++;
      expect(pixel(full, at.x + x, at.y + y)).toEqual([0x12, 0xab, 0x34, 255]);
      // 50%: the mean of colour and grey (±1 for rounding).
      const p = pixel(half, at.x + x, at.y + y);
      [(0x12 + 128) / 2, (0xab + 128) / 2, (0x34 + 128) / 2].forEach((v, i) => expect(Math.abs(p[i] - v)).toBeLessThanOrEqual(1));
    }
    expect(interiors).toBeGreaterThan(500);
  });

  it('blends onto a transparent image without dark fringes', async () => {
    const src = createImage(W, H); // transparent black
    const out = await watermark(src, { text: 'Soft edges', size: 40, color: 'FFFFFF' });
    let edges = 0;
    for (let i = 0; i < out.data.length; i += 4) {
      const a = out.data[i + 3];
      if (a === 0) continue;
      // Every touched pixel keeps the pure colour; only its alpha carries the anti-aliasing.
      expect([out.data[i], out.data[i + 1], out.data[i + 2]]).toEqual([255, 255, 255]);
      if (a < 255) edges++;
    }
    expect(edges).toBeGreaterThan(100);
  });

  it('blends onto a half-transparent image with Porter-Duff "over"', async () => {
    const src = createImage(W, H, 0x0000ff80); // blue, alpha 128
    const out = await watermark(src, { text: 'over', size: 60, color: 'FF0000', opacity: 50, gravity: 'center' });
    const mask = renderText('over', 60, [DEFAULT]);
    const at = placeWatermark(W, H, mask.width, mask.height, validateWatermark({ text: 'over', gravity: 'center' }));
    const i = mask.data.findIndex((v) => v === 255);
    const p = pixel(out, at.x + (i % mask.width), at.y + Math.floor(i / mask.width));
    // αo = 0.5 + 0.502·0.5 = 0.751; red = 255·0.5/0.751, blue = 255·0.502·0.5/0.751.
    expect(Math.abs(p[3] - 0.751 * 255)).toBeLessThanOrEqual(1);
    expect(Math.abs(p[0] - (255 * 0.5) / 0.751)).toBeLessThanOrEqual(1);
    expect(Math.abs(p[2] - (255 * 0.502 * 0.5) / 0.751)).toBeLessThanOrEqual(1);
  });
});

describe('rotate, fill, shadow', () => {
  it('rotates text clockwise inside the rotated box (90° makes it tall)', async () => {
    const src = createImage(W, H, GREY);
    const upright = renderText('Rotate', 40, [DEFAULT]);
    const out = await watermark(src, { text: 'Rotate', rotate: 90, gravity: 'nw', x: 0, y: 0, color: 'FFFFFF' });
    const box = changedBox(src, out)!;
    expect(box.y1 - box.y0).toBeGreaterThan(upright.width * 0.8);
    expect(box.x1 - box.x0).toBeLessThan(upright.height);
    // Clockwise: the first letter ("R", tall stem) is at the top; upright text reads left to right.
    const rows = (y0: number, y1: number) => { let n = 0; for (let y = y0; y < y1; y++) for (let x = 0; x < 60; x++) if (out.data[(y * W + x) * 4] > 200) n++; return n; };
    expect(rows(box.y0, box.y0 + 10)).toBeGreaterThan(0);
    const r45 = await watermark(src, { text: 'Rotate', rotate: 45, gravity: 'nw', x: 0, y: 0, color: 'FFFFFF' });
    const b45 = changedBox(src, r45)!;
    // At 45° the ink spans roughly width·cos45 in both directions.
    expect(Math.abs((b45.x1 - b45.x0) - (b45.y1 - b45.y0))).toBeLessThan(upright.height);
  });

  it('tiles the whole image with fill, spaced by padx/pady', async () => {
    const src = createImage(W, H, GREY);
    const out = await watermark(src, { text: 'tile', size: 20, fill: true, padx: 30, pady: 20, color: 'FFFFFF' });
    const mask = renderText('tile', 20, [DEFAULT]);
    // Every cell of a grid one tile step wide contains ink.
    const stepX = mask.width + 30, stepY = mask.height + 20;
    for (let cy = 0; cy + stepY <= H; cy += stepY) for (let cx = 0; cx + stepX <= W; cx += stepX) {
      let ink = 0;
      for (let y = cy; y < cy + stepY; y++) for (let x = cx; x < cx + stepX; x++) if (out.data[(y * W + x) * 4] > 200) ink++;
      expect(ink, `cell ${cx},${cy}`).toBeGreaterThan(0);
    }
    // Gaps: with pady_20 some full rows of the image carry no ink at all.
    let emptyRows = 0;
    for (let y = 0; y < H; y++) { let ink = false; for (let x = 0; x < W; x++) if (out.data[(y * W + x) * 4] !== 128) { ink = true; break; } if (!ink) emptyRows++; }
    expect(emptyRows).toBeGreaterThan(20);
  });

  it('darkens the shadow offset, and only with shadow > 0', async () => {
    const src = createImage(W, H, GREY);
    const opts: WatermarkOptions = { text: 'I', size: 100, color: 'FFFFFF', gravity: 'nw', x: 50, y: 20 };
    const plain = await watermark(src, opts);
    const shadowed = await watermark(src, { ...opts, shadow: 100 });
    const d = shadowOffset(100);
    const mask = renderText('I', 100, [DEFAULT]);
    const cov = (x: number, y: number) => (x >= 0 && y >= 0 && x < mask.width && y < mask.height ? mask.data[y * mask.width + x] : 0);
    let black = 0;
    for (let y = 0; y < mask.height + d; y++) for (let x = 0; x < mask.width + d; x++) {
      const p = pixel(shadowed, 50 + x, 20 + y);
      if (cov(x, y) === 0 && cov(x - d, y - d) === 255) {
        // Outside the text, where the text shifted by d is solid: pure shadow at 100%.
        expect(p).toEqual([0, 0, 0, 255]);
        black++;
      }
      if (cov(x, y) === 255) expect(p).toEqual([255, 255, 255, 255]); // the text stays on top
      if (cov(x - d, y - d) === 0) expect(p).toEqual(pixel(plain, 50 + x, 20 + y)); // nothing else darkens
    }
    expect(black).toBeGreaterThan(100);
    let plainDark = 0;
    for (let i = 0; i < plain.data.length; i += 4) if (plain.data[i] < 128) plainDark++;
    expect(plainDark).toBe(0);
  });
});

describe('logo', () => {
  const logo = createImage(40, 20, 0xff0000ff);

  it('composites an RGBA logo at its place, resized to P percent of the width with Lanczos3', async () => {
    const src = createImage(W, H, GREY);
    const out = await watermark(src, { image: logo, percent: 20, gravity: 'ne', x: 5, y: 7 });
    const box = changedBox(src, out)!;
    // 20% of 400 = 80 px wide, 40 px tall.
    expect(box).toMatchObject({ x0: W - 80 - 5, y0: 7, x1: W - 5 - 1, y1: 7 + 40 - 1 });
    expect(pixel(out, W - 45, 27)).toEqual([255, 0, 0, 255]);
  });

  it('decodes logo bytes (PNG with alpha) and keeps its transparency', async () => {
    const png = fixtureImage('with-alpha.png');
    const meta = await sharp(png).metadata();
    const src = createImage(W, H, GREY);
    const out = await watermark(src, { image: png, gravity: 'nw', x: 0, y: 0, opacity: 100 });
    const box = changedBox(src, out)!;
    expect(box.x1).toBeLessThan(meta.width!);
    expect(box.y1).toBeLessThan(meta.height!);
    // The fixture's transparent pixels leave the grey alone.
    const { data } = await sharp(png).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
    const t = data.findIndex((v, i) => i % 4 === 3 && v === 0);
    const tx = ((t - 3) / 4) % meta.width!, ty = Math.floor((t - 3) / 4 / meta.width!);
    if (tx < W && ty < H) expect(pixel(out, tx, ty)).toEqual([128, 128, 128, 255]);
  });

  it('puts text and logo side by side: order, align, interval', async () => {
    const src = createImage(W, H, GREY);
    const mask = renderText('Ab', 40, [DEFAULT]);
    const out = await watermark(src, { image: logo, text: 'Ab', color: 'FFFFFF', gravity: 'nw', x: 0, y: 0, interval: 10, align: 0 });
    // order 0: logo first, top-aligned at 0,0; text starts after 40 + 10 px.
    expect(pixel(out, 0, 0)).toEqual([255, 0, 0, 255]);
    expect(pixel(out, 45, 5)).toEqual([128, 128, 128, 255]);
    // The text is exactly where a text-only watermark at x 50 puts it.
    const textOnly = await watermark(src, { text: 'Ab', color: 'FFFFFF', gravity: 'nw', x: 50, y: 0 });
    for (let y = 0; y < mask.height; y++) for (let x = 50; x < 50 + mask.width; x++) expect(pixel(out, x, y)).toEqual(pixel(textOnly, x, y));
    expect(changedBox(src, textOnly)!.count).toBeGreaterThan(50);
    // order 1, align 2 (bottom): text first, the logo's bottom edge on the text box's bottom edge.
    const o1 = await watermark(src, { image: logo, text: 'Ab', color: 'FFFFFF', gravity: 'nw', x: 0, y: 0, order: 1, align: 2 });
    const logoX = mask.width;
    const logoY = mask.height - 20;
    expect(pixel(o1, logoX, logoY)).toEqual([255, 0, 0, 255]);
    expect(pixel(o1, logoX + 39, logoY + 19)).toEqual([255, 0, 0, 255]);
    expect(pixel(o1, logoX + 20, logoY - 1)).toEqual([128, 128, 128, 255]);
  });
});

describe('option checks', () => {
  const cases: [WatermarkOptions, string, string][] = [
    [{ text: 'a', opacity: 101 }, 'INVALID_ARGUMENT', 'Expected an integer between 0 and 100 for watermark.t (opacity) but received 101'],
    [{ text: 'a', opacity: 2.5 }, 'INVALID_ARGUMENT', 'Expected an integer between 0 and 100 for watermark.t (opacity) but received 2.5'],
    [{ text: 'a', size: 0 }, 'INVALID_ARGUMENT', 'Expected an integer between 1 and 1000 for watermark.size (size) but received 0'],
    [{ text: 'a', size: 1001 }, 'INVALID_ARGUMENT', 'Expected an integer between 1 and 1000 for watermark.size (size) but received 1001'],
    [{ text: 'a', gravity: 'middle' as Gravity }, 'INVALID_ARGUMENT', 'Expected one of nw, north, ne, west, center, east, sw, south, se for watermark.g (gravity) but received "middle"'],
    [{ text: 'a', x: 4097 }, 'INVALID_ARGUMENT', 'Expected an integer between 0 and 4096 for watermark.x (x) but received 4097'],
    [{ text: 'a', y: -1 }, 'INVALID_ARGUMENT', 'Expected an integer between 0 and 4096 for watermark.y (y) but received -1'],
    [{ text: 'a', voffset: 1001 }, 'INVALID_ARGUMENT', 'Expected an integer between -1000 and 1000 for watermark.voffset (voffset) but received 1001'],
    [{ text: 'a', shadow: 101 }, 'INVALID_ARGUMENT', 'Expected an integer between 0 and 100 for watermark.shadow (shadow) but received 101'],
    [{ text: 'a', rotate: 361 }, 'INVALID_ARGUMENT', 'Expected an integer between 0 and 360 for watermark.rotate (rotate) but received 361'],
    [{ text: 'a', padx: 5000 }, 'INVALID_ARGUMENT', 'Expected an integer between 0 and 4096 for watermark.padx (padx) but received 5000'],
    [{ text: 'a', pady: -3 }, 'INVALID_ARGUMENT', 'Expected an integer between 0 and 4096 for watermark.pady (pady) but received -3'],
    [{ text: 'a', color: 'red' }, 'INVALID_ARGUMENT', 'Expected six hexadecimal digits (RRGGBB, no #) for watermark.color (color) but received "red"'],
    [{ text: 'a', interval: 1001 }, 'INVALID_ARGUMENT', 'Expected an integer between 0 and 1000 for watermark.interval (interval) but received 1001'],
    [{ text: 'a', order: 2 as 0 }, 'INVALID_ARGUMENT', 'Expected one of 0, 1 for watermark.order (order) but received 2'],
    [{ text: 'a', align: 3 as 0 }, 'INVALID_ARGUMENT', 'Expected one of 0, 1, 2 for watermark.align (align) but received 3'],
    [{ image: createImage(1, 1), percent: 0 }, 'INVALID_ARGUMENT', 'Expected an integer between 1 and 100 for watermark.P (percent) but received 0'],
    [{ text: '' }, 'INVALID_ARGUMENT', 'Expected 1 to 64 characters for watermark.text but received 0 characters: ""'],
    [{ text: 'x'.repeat(10_000) }, 'INVALID_ARGUMENT', `Expected 1 to 64 characters for watermark.text but received 10000 characters: "${'x'.repeat(77)}..."`],
    [{}, 'MISSING_ARGUMENT', 'Expected watermark.text or watermark.image but received neither'],
  ];
  it.each(cases.map(([options, code, message]) => ({ options, code, message, label: JSON.stringify(options).slice(0, 60) })))('refuses $label', ({ options, code, message }) => {
    expectError(() => validateWatermark(options), code, message);
  });

  it('counts characters, not UTF-16 units: 64 CJK characters or emoji are accepted, 65 are not', () => {
    expect(validateWatermark({ text: '水'.repeat(64) }).text).toHaveLength(64);
    expect(validateWatermark({ text: '😀'.repeat(64) }).text).toHaveLength(128);
    expectError(() => validateWatermark({ text: '水'.repeat(65) }), 'INVALID_ARGUMENT', `Expected 1 to 64 characters for watermark.text but received 65 characters: "${'水'.repeat(65)}"`);
  });

  it('fills OSS defaults and freezes the result', () => {
    const o = validateWatermark({ text: 'a' });
    expect(o).toMatchObject({ color: [0, 0, 0], size: 40, opacity: 100, gravity: 'se', x: 10, y: 10, voffset: 0, shadow: 0, rotate: 0, fill: false, padx: 0, pady: 0, order: 0, align: 2, interval: 0 });
    expect(Object.isFrozen(o)).toBe(true);
  });

  it('refuses a logo that is not an image', async () => {
    await expect(watermark(createImage(10, 10), { image: new TextEncoder().encode('not an image') })).rejects.toMatchObject({ code: 'UNSUPPORTED_FORMAT' });
  });
});
