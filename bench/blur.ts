/**
 * The blur and sharpen attack chains of the cost budget, timed with the budget lifted: the op alone on
 * a 4096x4096 photo (the size `resize,w_4096,h_4096,m_fixed,limit_0` leaves), and the whole chains
 * through transform() (resize, the op, the JPEG encode).
 *
 *   nice -n 10 npx tsx bench/blur.ts [--sharpens 19] [--before DIR] [--ops-only]
 *
 * With --before, DIR holds another imgpipe's src/ and wasm/ (e.g. `git archive <commit> src wasm
 * package.json | tar -x -C DIR` and a node_modules link) and every case runs on both, alternately in
 * this one process, with the ratio: compare ratios from one run, not absolute times across runs.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as api from '../entries/node.js';
import { transform } from '../src/process/transform.js';

type Imgpipe = typeof api & { transform: typeof transform };
const current: Imgpipe = { ...api, transform };
const option = (name: string) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const SHARPENS = Number(option('--sharpens') ?? 19);
const beforeDir = option('--before');
const load = async (dir: string): Promise<Imgpipe> => ({
  // A checkout from before or after the entries moved out of wasm/.
  ...((await import(pathToFileURL(join(dir, existsSync(join(dir, 'entries/node.ts')) ? 'entries/node.ts' : 'wasm/node.ts')).href)) as typeof api),
  transform: ((await import(pathToFileURL(join(dir, 'src/process/transform.ts')).href)) as { transform: typeof transform }).transform,
});
const before = beforeDir ? await load(resolve(beforeDir)) : undefined;

const BIG = 'resize,w_4096,h_4096,m_fixed,limit_0';
const source = readFileSync(new URL('../test/fixtures/images/2569067123_aca715a2ee_o.jpg', import.meta.url));
const unlimited = { outputLimits: { maxCost: Number.MAX_SAFE_INTEGER } };
const big = await current.resize(await current.decode(source), { width: 4096, height: 4096, fit: 'fill', enlarge: true });

async function seconds(fn: () => unknown): Promise<number> {
  const t = performance.now();
  await fn();
  return (performance.now() - t) / 1000;
}

const cases: [string, (lib: Imgpipe) => unknown][] = [
  ['blur r_50,s_50 on 4096x4096 (the op alone)', (lib) => lib.blur(big, { radius: 50, sigma: 50 })],
  ['blur r_5 on 4096x4096 (the op alone)', (lib) => lib.blur(big, { radius: 5 })],
  ['sharpen 399 on 4096x4096 (the op alone, once)', (lib) => lib.sharpen(big, 399)],
  [`image/${BIG}/blur,r_50,s_50`, (lib) => lib.transform(source, `image/${BIG}/blur,r_50,s_50`, unlimited)],
  [`image/${BIG}/sharpen,399 x ${SHARPENS}`, (lib) => lib.transform(source, `image/${BIG}/${Array(SHARPENS).fill('sharpen,399').join('/')}`, unlimited)],
];

// Warm both up (module compilation, first-call tiering) on a small image.
const small = { width: 64, height: 64, data: new Uint8ClampedArray(64 * 64 * 4) };
for (const lib of [current, before]) if (lib) { await lib.blur(small, { radius: 2 }); await lib.sharpen(small, 100); }

console.log(`${'case'.padEnd(60)} ${before ? 'before s   ' : ''}now s${before ? '   before / now' : ''}`);
for (const [label, run] of process.argv.includes('--ops-only') ? cases.filter(([label]) => label.includes('op alone')) : cases) {
  const was = before ? await seconds(() => run(before)) : undefined;
  const now = await seconds(() => run(current));
  console.log(`${label.padEnd(60)} ${was !== undefined ? `${was.toFixed(2).padStart(8)}   ` : ''}${now.toFixed(2).padStart(6)}${was !== undefined ? `   ${(was / now).toFixed(1)}x` : ''}`);
}
