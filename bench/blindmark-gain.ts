/**
 * The blind watermark's gain calibration, in variants: for each photo (600 px by default), embed with each
 * variant of the mask's parameters (blindmark/embed.ts), report luma PSNR, SSIM and the mask's energy, then
 * deliver as JPEG q85, apply the attacks with the seeds bench/blindmark.ts uses and extract with the library's
 * extraction. Judges a change to the embedding's gain on recovery and on the quality budget at once.
 *
 *   npx tsx bench/blindmark-gain.ts --from 40 --to 199 --variants 'base;maxMse=9' [--stats-only]
 *     [--attacks 'resize 0.5x,crop 25% area,crop 50% area,webp q60'] [--width 600] [--verbose]
 *
 * A variant is `base` (medium as shipped) or comma-separated overrides of budget, cap, maxMse, maxLumaMse.
 */
import '../entries/node.js';
import { encode } from '../src/encode.js';
import type { RGBAImage } from '../src/image.js';
import { extractBlindWatermark, blindWatermarkInternals } from '../src/ops/blind-watermark.js';
import { embedPattern, type MaskParameters } from '../src/ops/blindmark/embed.js';
import { renderTile } from '../src/ops/blindmark/pattern.js';
import { ATTACKS } from './blindmark-attacks.js';
import { contentFor, photo } from './blindmark-photos.js';
import { lumaPsnr, ssim } from './ssim.js';

const arg = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
};
const KEY = 'benchmark key';
const FROM = Number(arg('from', '40')), TO = Number(arg('to', '199')), WIDTH = Number(arg('width', '600'));
const STATS_ONLY = process.argv.includes('--stats-only'), VERBOSE = process.argv.includes('--verbose');
const attacks = arg('attacks', 'resize 0.5x,crop 25% area,crop 50% area,webp q60').split(',').map((name) => {
  const a = ATTACKS.find((x) => x.name === name);
  if (!a) throw new Error(`no attack ${name}`);
  return a;
});
const BASE: MaskParameters = { budget: 0.014, cap: 6, maxMse: 8.2, maxLumaMse: 9.84 };
const variants = arg('variants', 'base').split(';').map((spec) => {
  const p: Record<string, number> = { ...BASE };
  if (spec !== 'base') for (const kv of spec.split(',')) { const [k, v] = kv.split('='); p[k] = Number(v); }
  return { spec, p: p as unknown as MaskParameters };
});

const stats = variants.map(() => ({ psnr: [] as number[], ssim: [] as number[], ok: new Map<string, number>(), wrong: 0, miss: [] as string[] }));
for (let n = FROM; n <= TO; n++) {
  const { image } = await photo(n, WIDTH);
  const content = contentFor(n);
  const { tile, coded } = blindWatermarkInternals(content, KEY);
  const pattern = renderTile(tile, coded);
  const line: string[] = [`#${n} ${image.width}x${image.height}`];
  for (const [vi, v] of variants.entries()) {
    const s = stats[vi];
    const e = await embedPattern(image, pattern, v.p);
    const marked = { width: image.width, height: image.height, data: e.data };
    const psnr = lumaPsnr(image, marked), q = ssim({ ...image, channels: 4 }, { ...marked, channels: 4 });
    s.psnr.push(psnr); s.ssim.push(q);
    let read = '';
    if (!STATS_ONLY) {
      const delivered = await encode(marked, 'jpeg', { quality: 85 });
      for (const a of attacks) {
        const r = await extractBlindWatermark(await a.apply(delivered, 1000 * n + WIDTH), { key: KEY });
        const good = r.found && r.content === content;
        if (good) s.ok.set(a.name, (s.ok.get(a.name) ?? 0) + 1);
        else { s.miss.push(`${n} ${a.name}`); if (r.found) s.wrong++; }
        read += good ? '+' : r.found ? 'W' : '-';
      }
    }
    line.push(`${vi}: ${psnr.toFixed(2)} dB ${q.toFixed(4)} allowed ${e.meanAllowed.toFixed(2)} ${read}`);
  }
  if (VERBOSE) console.log(line.join(' | '));
}
const mean = (v: number[]): number => v.reduce((a, b) => a + b, 0) / v.length;
for (const [vi, v] of variants.entries()) {
  const s = stats[vi];
  const total = [...s.ok.values()].reduce((a, b) => a + b, 0);
  console.log(`variant ${vi} (${v.spec}): PSNR mean ${mean(s.psnr).toFixed(2)} min ${Math.min(...s.psnr).toFixed(2)}; SSIM mean ${mean(s.ssim).toFixed(4)} min ${Math.min(...s.ssim).toFixed(4)}`);
  if (!STATS_ONLY) {
    console.log(`  recovered ${total}/${(TO - FROM + 1) * attacks.length}: ${attacks.map((a) => `${a.name} ${s.ok.get(a.name) ?? 0}`).join(', ')}; wrong content ${s.wrong}`);
    console.log(`  missed: ${s.miss.join('; ')}`);
  }
}
