/**
 * The blind watermark benchmark's test photos: the fixtures' photos, then seeded crops of the large ones,
 * at a given width, and the content each one is marked with. Deterministic (fixed seeds), shared by
 * bench/blindmark.ts and its worker threads.
 */
import sharp from 'sharp';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { RGBAImage } from '../src/image.js';
import { pixels } from './blindmark-attacks.js';
import { rng } from './fuzz.js';

export const IMAGES = fileURLToPath(new URL('../test/fixtures/images/', import.meta.url));
/**
 * Real photos among the fixtures (the rest are format traps, graphics or too small). blackbug.png is not one:
 * black strokes on a transparent background, which embedding warns about (nearly uniform) and which the
 * README lists among the limits.
 */
export const PHOTOS = ['2569067123_aca715a2ee_o.jpg', 'Landscape_1.jpg', 'flowers.jpeg', 'concert.jpg', '4.webp', 'Channel_digital_image_CMYK_color.jpg'];
/** Large enough to crop from: the crops are at least 1200 px wide where the source allows. */
const CROP_SOURCES = ['2569067123_aca715a2ee_o.jpg', 'Landscape_1.jpg', 'Channel_digital_image_CMYK_color.jpg', '4.webp', 'flowers.jpeg'];

/** The n-th test photo at `width`: the fixtures' photos first, then seeded crops of the large ones. */
export async function photo(n: number, width: number): Promise<{ name: string; image: RGBAImage }> {
  if (n < PHOTOS.length) return { name: PHOTOS[n], image: await pixels(sharp(readFileSync(IMAGES + PHOTOS[n])).rotate().resize({ width })) };
  const src = CROP_SOURCES[n % CROP_SOURCES.length];
  const s = sharp(readFileSync(IMAGES + src)).rotate();
  const m = await sharp(readFileSync(IMAGES + src)).rotate().metadata();
  const [W, H] = (m.orientation ?? 1) >= 5 ? [m.height!, m.width!] : [m.width!, m.height!];
  const r = rng(7919 * n);
  // a crop of 40-100% of each side, aspect kept within 1:2..2:1
  const cw = Math.round(W * (0.4 + 0.6 * r())), ch = Math.max(Math.ceil(cw / 2), Math.min(2 * cw, Math.round(H * (0.4 + 0.6 * r())), H));
  const left = Math.floor(r() * (W - cw + 1)), top = Math.floor(r() * (H - ch + 1));
  return { name: `${src}@${left},${top},${cw}x${ch}`, image: await pixels(s.extract({ left, top, width: cw, height: ch }).resize({ width })) };
}

/** The 8-byte content the n-th photo is marked with. */
export const contentFor = (n: number): string => `u${String(1000000 + n * 7919).slice(-7)}`;
