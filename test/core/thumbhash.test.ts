/**
 * The placeholders: `thumbhash(image)` gives the reference implementation's bytes (thumbhash 0.1.1,
 * Evan Wallace's), they decode back to a blurred version of the image, and the recipe puts them
 * in its result from its smallest size; `dominantColor` is sharp's `stats().dominant`.
 */
import { describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { thumbHashToApproximateAspectRatio, thumbHashToAverageRGBA, thumbHashToRGBA } from 'thumbhash';
import { averageHue, createImage, decode, dominantColor, resize, runRecipe, thumbhash, type RGBAImage } from '../../entries/node.js';
import { image } from '../helpers/fixtures.js';

function filled(width: number, height: number, pixel: (x: number, y: number) => [number, number, number, number]): RGBAImage {
  const img = createImage(width, height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) img.data.set(pixel(x, y), (y * width + x) * 4);
  return img;
}

const bytesOf = (b64: string) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));

/** Mean absolute difference per channel value between a ThumbHash's rendering and the image it came from. */
async function renderingError(hash: string, source: RGBAImage): Promise<number> {
  const { w, h, rgba } = thumbHashToRGBA(bytesOf(hash));
  const target = await resize(source, { width: w, height: h, fit: 'fill', enlarge: true });
  let sum = 0;
  for (let i = 0; i < rgba.length; i++) if (i % 4 !== 3) sum += Math.abs(rgba[i] - target.data[i]);
  return sum / (w * h * 3);
}

describe('thumbhash', () => {
  // Values recorded from the reference implementation (the thumbhash package) for inputs made here.
  it('gives the reference bytes for a flat colour, a gradient and a gradient with alpha', async () => {
    expect(await thumbhash(filled(100, 75, () => [0x33, 0x66, 0x99, 255]))).toBe('mZUBBYCHiIh4eHiAeHh3cniHj3f4');
    const gradient = filled(64, 48, (x, y) => [Math.round(255 * (1 - x / 63)), Math.round((255 * y) / 47), Math.round((255 * x) / 63), 255]);
    expect(await thumbhash(gradient)).toBe('HwgKnZp4eHeAeIiHiHiIh4+F9/iI');
    const translucent = filled(64, 48, (x, y) => [Math.round(255 * (1 - x / 63)), Math.round((255 * y) / 47), Math.round((255 * x) / 63), y >= 24 ? 128 : 255]);
    expect(await thumbhash(translucent)).toBe('nieGfJQreHiAeIZo+Fh5j56Jh/eIiIiFCA==');
  });

  it('decodes back to the flat colour and the aspect ratio it was made from', async () => {
    const hash = bytesOf(await thumbhash(filled(100, 75, () => [0x33, 0x66, 0x99, 255])));
    const avg = thumbHashToAverageRGBA(hash);
    expect([avg.r * 255, avg.g * 255, avg.b * 255].map(Math.round)).toEqual([0x31, 0x66, 0x98]); // within its 6-bit precision
    expect(avg.a).toBe(1);
    expect(thumbHashToApproximateAspectRatio(hash)).toBeCloseTo(4 / 3, 0);
  });

  it('resizes an image over 100 px to fit 100x100 first, and stays deterministic', async () => {
    const photo = await decode(image('Landscape_1.jpg'));
    const hash = await thumbhash(photo);
    expect(bytesOf(hash).length).toBeGreaterThanOrEqual(20);
    expect(bytesOf(hash).length).toBeLessThanOrEqual(30);
    expect(await thumbhash(photo)).toBe(hash);
    expect(await thumbhash(await resize(photo, { width: 100, height: 100, fit: 'inside' }))).toBe(hash);
  });

  it("renders close to its own photo and far from another one", async () => {
    const [a, b] = await Promise.all([decode(image('flowers.jpeg')), decode(image('concert.jpg'))]);
    const [ha, hb] = await Promise.all([thumbhash(a), thumbhash(b)]);
    const own = await renderingError(ha, a);
    const other = await renderingError(hb, a);
    expect(own).toBeLessThan(15);
    expect(other).toBeGreaterThan(own * 1.5);
    // Its average colour is the photo's, within the hash's precision.
    const avg = thumbHashToAverageRGBA(bytesOf(ha));
    const mean = averageHue(a);
    expect(Math.abs(avg.r * 255 - mean.r)).toBeLessThan(6);
    expect(Math.abs(avg.g * 255 - mean.g)).toBeLessThan(6);
    expect(Math.abs(avg.b * 255 - mean.b)).toBeLessThan(6);
  });
});

describe('dominantColor', () => {
  it("is sharp's stats().dominant on the same pixels", async () => {
    for (const name of ['flowers.jpeg', 'concert.jpg', 'Landscape_2.jpg']) {
      const img = await resize(await decode(image(name)), { width: 150 });
      const { dominant } = await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 4 } }).removeAlpha().stats();
      const hex = `#${[dominant.r, dominant.g, dominant.b].map((v) => v.toString(16).padStart(2, '0')).join('')}`;
      expect(dominantColor(img), name).toBe(hex);
    }
  });

  it('leaves transparent pixels out, and an image with none visible is #000000', () => {
    const half = filled(10, 10, (x) => (x < 7 ? [255, 255, 255, 0] : [200, 10, 10, 255]));
    expect(dominantColor(half)).toBe('#c80808');
    expect(dominantColor(filled(4, 4, () => [255, 255, 255, 0]))).toBe('#000000');
  });
});

describe('the recipe placeholder', () => {
  it('comes from the smallest size before its watermark, with the manifest-ready types', async () => {
    const bytes = image('Landscape_1.jpg');
    const result = await runRecipe(bytes, { key: 'p.jpg' });
    expect(result.placeholder).toEqual({ thumbhash: expect.stringMatching(/^[A-Za-z0-9+/]+={0,2}$/), dominantColor: expect.stringMatching(/^#[0-9a-f]{6}$/) });
    // The recipe's thumb (150 px wide) is the Lanczos3 chain large -> medium -> thumb; the hash of a
    // direct resize of the photo to 150 px renders just as close to the photo.
    const photo = await decode(bytes);
    expect(await renderingError(result.placeholder.thumbhash, photo)).toBeLessThan(30);
    const thumb = await resize(photo, { width: 150 });
    expect(Math.abs(await renderingError(await thumbhash(thumb), photo) - await renderingError(result.placeholder.thumbhash, photo))).toBeLessThan(3);
  });
});
