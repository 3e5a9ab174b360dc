/**
 * What a watermark adds to one recipe variant: the default recipe's text (white, 60%, shadow 40,
 * lower-right, width/30 = 40 px) on a 1200 px wide image, in milliseconds, beside sharp compositing
 * the same text that it renders itself (Pango) onto the same raw pixels.
 *
 *   npx tsx bench/watermark.ts [--runs 30]
 *
 * "cold" is the first call in the process (font parse + glyph rasterisation); "warm" is a warm
 * instance, where glyphs come from the cache. Medians over --runs calls; prints a small table.
 */
import sharp from 'sharp';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DEFAULT_RECIPE, decode, resize } from '../entries/node.js';
import { watermark, type WatermarkOptions } from '../src/ops/watermark.js';
import { defaultFontBytes } from '../src/text/font.js';

const runsArg = process.argv.indexOf('--runs');
const RUNS = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 30;
const photo = fileURLToPath(new URL('../test/fixtures/images/2569067123_aca715a2ee_o.jpg', import.meta.url));

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function time(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

const source = await decode(readFileSync(photo));
const variant = await resize(source, { width: 1200 });
const size = Math.max(20, Math.round(variant.width / 30));
const options: WatermarkOptions = { ...DEFAULT_RECIPE.watermark!, size };

const cold = await time(() => watermark(variant, options));
const warm: number[] = [];
for (let i = 0; i < RUNS; i++) warm.push(await time(() => watermark(variant, options)));
const fresh: number[] = [];
for (let i = 0; i < RUNS; i++) fresh.push(await time(() => watermark(variant, { ...options, text: `© imgpipe ${i}` })));

// sharp: render the same text with its Pango text input (the same font, written to a temp file),
// then composite it onto the same raw 1200 px RGBA pixels. Pango draws no shadow, so sharp does a
// little less work than imgpipe here.
const fontfile = `${process.env.TMPDIR ?? '/tmp'}/imgpipe-bench-noto-latin.woff`;
writeFileSync(fontfile, defaultFontBytes());
const rawInput = { raw: { width: variant.width, height: variant.height, channels: 4 as const } };
const pixels = Buffer.from(variant.data.buffer, variant.data.byteOffset, variant.data.byteLength);
async function sharpOnce(text: string): Promise<void> {
  const label = await sharp({ text: { text: `<span foreground="white">${text}</span>`, font: `Noto Sans ${size}`, fontfile, dpi: 72, rgba: true } }).png().toBuffer();
  const meta = await sharp(label).metadata();
  await sharp(pixels, rawInput)
    .composite([{ input: label, left: variant.width - meta.width! - 20, top: variant.height - meta.height! - 20, blend: 'over' }])
    .raw().toBuffer();
}
const sharpCold = await time(() => sharpOnce('© imgpipe'));
const sharpWarm: number[] = [];
for (let i = 0; i < RUNS; i++) sharpWarm.push(await time(() => sharpOnce('© imgpipe')));

const rows: [string, number][] = [
  ['imgpipe, first call in the process (font parse + glyphs)', cold],
  ['imgpipe, warm (glyphs cached), median', median(warm)],
  ['imgpipe, warm font, new text each call, median', median(fresh)],
  ['sharp text + composite, first call', sharpCold],
  ['sharp text + composite, median', median(sharpWarm)],
];
console.log(`Watermark on a ${variant.width}x${variant.height} variant, text "${options.text}" at ${size} px, ${RUNS} runs\n`);
console.log('| case | ms |\n| --- | ---: |');
for (const [name, ms] of rows) console.log(`| ${name} | ${ms.toFixed(1)} |`);
