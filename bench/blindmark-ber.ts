/**
 * The blind watermark's coded-bit error rate at the true geometry: for each case of a --cases file
 * (`photo width attack`), embed as bench/blindmark.ts does (JPEG q85 delivery), apply the attack, fold the
 * residual at the scale the attack is known to have applied (resizes: the new width over the old; everything
 * else 1, no rotation), take the strongest sync peak, and compare the despread soft bits with the coded bits
 * embedded. Separates "too little signal survived" (this rate) from "the search missed the geometry".
 *
 *   npx tsx bench/blindmark-ber.ts --cases bench/results/blindmark-cases-full.txt [--width 600] [--mean R --level R]
 *
 * --mean/--level override the whitening's box radii (whiteningRadii(scale) by default).
 */
import { readFileSync } from 'node:fs';
import '../entries/node.js';
import { encode } from '../src/encode.js';
import { embedBlindWatermark, blindWatermarkInternals } from '../src/ops/blind-watermark.js';
import { openReader, readImage, whiten, whiteningRadii, fold, syncSearch, despread, readerBytes } from '../src/ops/blindmark/signal.js';
import { kernel } from '../src/kernels/module.js';
import { ATTACKS } from './blindmark-attacks.js';
import { contentFor, photo } from './blindmark-photos.js';

const arg = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
};
const KEY = 'benchmark key';
const onlyWidth = Number(arg('width', '0'));
const cases = readFileSync(arg('cases', 'bench/results/blindmark-cases-full.txt'), 'utf8').split('\n')
  .filter((l) => /^\d/.test(l)).map((l) => { const [n, w, ...a] = l.trim().split(/\s+/); return { n: Number(n), width: Number(w), attack: a.join(' ') }; })
  .filter((c) => !onlyWidth || c.width === onlyWidth);

const byAttack = new Map<string, number[]>();
let over = 0;
const psnrs: number[] = [];
for (const c of cases) {
  const attack = ATTACKS.find((a) => a.name === c.attack)!;
  const { image } = await photo(c.n, c.width);
  const content = contentFor(c.n);
  const marked = await embedBlindWatermark(image, { content, key: KEY });
  let se = 0;
  for (let p = 0; p < image.data.length; p += 4) {
    const d = 0.299 * (marked.data[p] - image.data[p]) + 0.587 * (marked.data[p + 1] - image.data[p + 1]) + 0.114 * (marked.data[p + 2] - image.data[p + 2]);
    se += d * d;
  }
  psnrs.push(10 * Math.log10((255 * 255) / (se / (image.width * image.height))));
  const delivered = await encode(marked, 'jpeg', { quality: 85 });
  const attacked = await attack.apply(delivered, 1000 * c.n + c.width);
  const scale = c.attack.startsWith('resize') || c.attack.startsWith('screenshot') ? attacked.width / image.width : 1;
  const { tile, sync, coded } = blindWatermarkInternals(content, KEY);
  const ber = await kernel.use((k) => {
    k.reset();
    const rd = openReader(k, attacked.width, attacked.height);
    readImage(rd, attacked);
    const base = whiteningRadii(scale);
    const radii = { ...base, mean: Number(arg('mean', '0')) || base.mean, level: Number(arg('level', '0')) || base.level };
    whiten(rd, radii);
    const folded = fold(rd, { scale, angle: 0 });
    const peak = syncSearch(rd, folded, sync, 1)[0];
    if (!peak) { k.reset(); return 0.5; }
    const soft = despread(folded, peak, tile, coded.length);
    let wrong = 0;
    for (let i = 0; i < coded.length; i++) if ((soft[i] > 0 ? 1 : 0) !== coded[i]) wrong++;
    k.reset();
    return wrong / coded.length;
  }, readerBytes(attacked.width, attacked.height));
  if (ber > 0.14) over++;
  const list = byAttack.get(c.attack) ?? [];
  list.push(ber);
  byAttack.set(c.attack, list);
}
const mean = (v: number[]): number => v.reduce((a, b) => a + b, 0) / v.length;
for (const [name, v] of byAttack) console.log(`${name}: ${v.length} cases, mean coded-bit error ${(100 * mean(v)).toFixed(1)}%, median ${(100 * [...v].sort((a, b) => a - b)[v.length >> 1]).toFixed(1)}%`);
const all = [...byAttack.values()].flat();
console.log(`luma PSNR of the embedding: mean ${mean(psnrs).toFixed(2)} dB, min ${Math.min(...psnrs).toFixed(2)} dB`);
console.log(`all: ${all.length} cases, mean ${(100 * mean(all)).toFixed(2)}%, over 14%: ${over}`);
