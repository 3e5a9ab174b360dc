/**
 * A watermark is drawn only where it lands on the image. The mark that took 55 s and 8.7 GB
 * (`resize,w_100/watermark,text_<64 x W>,size_1000,rotate_45`) has a box of about 41 000 px square;
 * what is drawn for it must stay within the 100x75 image it lands on, and the windows must give the
 * same pixels as drawing the whole mark.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import '../../entries/node.js';
import { defaultFont } from '../../src/text/font.js';
import { measureText, renderText } from '../../src/text/render.js';
import { stampWindows, watermark, shadowOffset } from '../../src/ops/watermark.js';
import { createImage } from '../../src/image.js';
import { transform } from '../../src/process/transform.js';

const DEFAULT = await defaultFont();
const BOMB = 'W'.repeat(64);
const b64 = (s: string) => Buffer.from(s).toString('base64url');
const PLACEMENT = { gravity: 'se', x: 10, y: 10, voffset: 0, padx: 0, pady: 0 } as const;

describe('text watermark bounds', () => {
  it('measures the bomb without drawing it: a box far larger than the image', () => {
    const box = measureText(BOMB, 1000, [DEFAULT], 45);
    expect(box.width).toBeGreaterThan(40_000);
    expect(box.height).toBeGreaterThan(40_000);
  });

  it.each([false, true])('draws at most the image (fill %s): windows inside 100x75, areas adding up to at most the image', (fill) => {
    const box = measureText(BOMB, 1000, [DEFAULT], 45);
    const off = shadowOffset(1000);
    const windows = stampWindows(100, 75, box.width + off, box.height + off, { ...PLACEMENT, fill });
    expect(windows.length).toBeGreaterThan(0);
    for (const { x, y, window } of windows) {
      expect(x).toBeGreaterThanOrEqual(0);
      expect(y).toBeGreaterThanOrEqual(0);
      expect(x + window.width).toBeLessThanOrEqual(100);
      expect(y + window.height).toBeLessThanOrEqual(75);
    }
    expect(windows.reduce((n, { window }) => n + window.width * window.height, 0)).toBeLessThanOrEqual(100 * 75);
  });

  it.each([0, 30, 45, 90, 200])('a window of the text (rotate %i) is exactly that part of the whole text', (rotate) => {
    const whole = renderText('Wave 版 imgpipe', 48, [DEFAULT], rotate);
    const win = { left: 7, top: 5, width: Math.min(40, whole.width - 7), height: Math.min(23, whole.height - 5) };
    const part = renderText('Wave 版 imgpipe', 48, [DEFAULT], rotate, win);
    expect([part.width, part.height, part.left, part.top]).toEqual([win.width, win.height, whole.left + win.left, whole.top + win.top]);
    let worst = 0;
    for (let y = 0; y < win.height; y++) {
      for (let x = 0; x < win.width; x++) {
        worst = Math.max(worst, Math.abs(part.data[y * win.width + x] - whole.data[(win.top + y) * whole.width + win.left + x]));
      }
    }
    // Upright windows copy the same glyph masks; rotated ones are rasterised with the outline cut at
    // the window's sides, which moves coverage by float rounding only.
    expect(worst).toBeLessThanOrEqual(rotate === 0 ? 0 : 1);
  });

  it('a clipped mark has the same pixels as the whole mark drawn on a larger canvas', async () => {
    // The mark is centred on a 60x40 image, so it hangs over every side; the same mark centred on a
    // canvas large enough to hold it whole must show the same pixels in the middle.
    const options = { text: 'imgpipe', size: 48, rotate: 30, shadow: 60, gravity: 'center', color: 'FF0000' } as const;
    const small = await watermark(grey(60, 40), options);
    const large = await watermark(grey(300, 200), options);
    let worst = 0;
    for (let y = 0; y < 40; y++) {
      for (let x = 0; x < 60; x++) {
        for (let c = 0; c < 4; c++) {
          worst = Math.max(worst, Math.abs(small.data[(y * 60 + x) * 4 + c] - large.data[((y + 80) * 300 + x + 120) * 4 + c]));
        }
      }
    }
    expect(worst).toBeLessThanOrEqual(1);
  });

  // Centred, with an H in the middle so the part of the mark on the image has ink (a corner of the
  // turned box, or the gap between two W's, is empty).
  it.each(['rotate_45', 'rotate_45,shadow_50', 'rotate_45,fill_1', 'fill_1,shadow_100,padx_0'])('the 64-character size-1000 mark (%s) lands on the 100x75 image and changes it', async (extra) => {
    const src = new Uint8Array(readFileSync(new URL('../fixtures/images/320x240.jpg', import.meta.url)));
    const plain = await transform(src, 'image/resize,w_100/format,png');
    const mark = b64(`${'W'.repeat(32)}H${'W'.repeat(31)}`);
    const out = await transform(src, `image/resize,w_100/watermark,text_${mark},size_1000,g_center,${extra}/format,png`);
    expect([out.width, out.height]).toEqual([100, 75]);
    const [a, b] = await Promise.all([plain, out].map((o) => sharp(o.bytes).raw().toBuffer()));
    let changed = 0;
    for (let i = 0; i < a.length; i += 4) if (a[i] !== b[i] || a[i + 1] !== b[i + 1] || a[i + 2] !== b[i + 2]) changed++;
    expect(changed).toBeGreaterThan(100);
  });
});

function grey(width: number, height: number) {
  const img = createImage(width, height);
  img.data.fill(128);
  return img;
}
