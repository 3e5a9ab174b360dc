/**
 * What the blind watermark costs the upload recipe: the default recipe on the standard photo with and
 * without `blindWatermark` (which marks the two watermarked sizes), alternating, CPU time of one thread.
 *
 *   npx tsx bench/blindmark-recipe.ts [--rounds 8]
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DEFAULT_RECIPE, runRecipe } from '../entries/node.js';

const PHOTO = readFileSync(fileURLToPath(new URL('../test/fixtures/images/2569067123_aca715a2ee_o.jpg', import.meta.url)));
const i = process.argv.indexOf('--rounds');
const ROUNDS = i > 0 ? Number(process.argv[i + 1]) : 8;
const marked = { ...DEFAULT_RECIPE, blindWatermark: { content: 'u8812', strength: 'medium' as const } };

async function cpu(f: () => Promise<unknown>): Promise<number> {
  const t = process.cpuUsage();
  await f();
  const u = process.cpuUsage(t);
  return (u.user + u.system) / 1000;
}

const plain: number[] = [], mark: number[] = [];
for (let r = 0; r < ROUNDS + 1; r++) {
  const a = await cpu(() => runRecipe(PHOTO, { key: 'a.jpg' }));
  const b = await cpu(() => runRecipe(PHOTO, { key: 'a.jpg', recipe: marked }));
  if (r > 0) { plain.push(a); mark.push(b); } // the first round warms up
}
const median = (v: number[]): number => [...v].sort((x, y) => x - y)[v.length >> 1];
console.log(`recipe CPU ms, median of ${ROUNDS}: without the mark ${median(plain).toFixed(0)}, with it ${median(mark).toFixed(0)} (${((median(mark) / median(plain) - 1) * 100).toFixed(1)}%)`);
