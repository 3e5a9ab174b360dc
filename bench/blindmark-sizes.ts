/**
 * What the blind watermark's 8 bytes survive at each size: the fixtures' photos resized to each width,
 * marked at medium, delivered as JPEG q85, read back as delivered and after a further JPEG q50 (4:2:0).
 * The README's capacity table comes from it.
 *
 *   npx tsx bench/blindmark-sizes.ts
 */
import sharp from 'sharp';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import '../entries/node.js';
import { encode } from '../src/encode.js';
import { embedBlindWatermark, extractBlindWatermark } from '../src/ops/blind-watermark.js';
import { ATTACKS, pixels } from './blindmark-attacks.js';

const IMAGES = fileURLToPath(new URL('../test/fixtures/images/', import.meta.url));
const PHOTOS = ['2569067123_aca715a2ee_o.jpg', 'Landscape_1.jpg', 'flowers.jpeg', 'concert.jpg', '4.webp', 'Channel_digital_image_CMYK_color.jpg'];
/** The key of the run the README quotes. */
const KEY = 'k';
const q50 = ATTACKS.find((a) => a.name === 'jpeg q50 4:2:0')!;

for (const width of [160, 200, 300, 400, 600, 800, 1200]) {
  let delivered = 0, recompressed = 0;
  for (const [n, name] of PHOTOS.entries()) {
    const image = await pixels(sharp(readFileSync(IMAGES + name)).rotate().resize({ width }));
    const content = `u${String(1000000 + n * 7919).slice(-7)}`;
    const jpeg = await encode(await embedBlindWatermark(image, { content, key: KEY }), 'jpeg', { quality: 85 });
    if ((await extractBlindWatermark(await pixels(sharp(jpeg)), { key: KEY })).content === content) delivered++;
    if ((await extractBlindWatermark(await q50.apply(jpeg, 1), { key: KEY })).content === content) recompressed++;
  }
  console.log(`| ${width} px | ${delivered}/${PHOTOS.length} | ${recompressed}/${PHOTOS.length} |`);
}
