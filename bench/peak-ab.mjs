/**
 * Peak memory A/B: fresh `node` processes of two imgpipe builds taking turns, each importing its
 * build (and the HEIC plug-in beside it), running the upload recipe (no watermark, in the calling
 * thread) a few times on one file and reporting its process's peak RSS (VmHWM) and recipe times. For
 * a change to how a module is built or linked, where the peak is what moved: V8's optimising compiler
 * takes scratch memory in proportion to the functions it compiles, a cost the warm figures never show.
 *
 *   node bench/peak-ab.mjs --a <old dist>/node.js --b dist/node.js --file test/fixtures/images/IMG_5195.HEIC [--runs 5] [--recipes 3]
 *
 * Plain JavaScript, so that no loader (tsx) adds its own memory to the figures.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { median } from './median.mjs';

const SELF = fileURLToPath(import.meta.url);

async function child(entry, file, recipes) {
  const api = await import(pathToFileURL(resolve(entry)).href);
  await import(pathToFileURL(join(dirname(resolve(entry)), 'heic.node.js')).href);
  const input = new Uint8Array(readFileSync(file));
  const recipe = { ...api.DEFAULT_RECIPE };
  delete recipe.watermark;
  const times = [];
  for (let i = 0; i < recipes; i++) {
    const t = performance.now();
    await api.processUpload(input, { key: 'uploads/peak', recipe });
    times.push(performance.now() - t);
  }
  const hwmKiB = Number(readFileSync('/proc/self/status', 'utf8').match(/VmHWM:\s+(\d+)/)[1]);
  process.stdout.write(`${JSON.stringify({ peakMiB: hwmKiB / 1024, times })}\n`);
}

if (process.argv[2] === '--child') {
  await child(process.argv[3], process.argv[4], Number(process.argv[5]));
} else {
  const { values } = parseArgs({
    options: { a: { type: 'string' }, b: { type: 'string' }, file: { type: 'string' }, runs: { type: 'string', default: '5' }, recipes: { type: 'string', default: '3' } },
  });
  if (!values.a || !values.b || !values.file) {
    console.error('usage: node bench/peak-ab.mjs --a <old dist>/node.js --b dist/node.js --file F [--runs 5] [--recipes 3]');
    process.exit(2);
  }
  const arms = [['A', values.a], ['B', values.b]];
  const got = { A: [], B: [] };
  for (let i = 0; i < Number(values.runs); i++) {
    // Alternate which arm goes first, so neither always follows the other.
    for (const [name, entry] of i % 2 === 0 ? arms : [...arms].reverse()) {
      const r = spawnSync(process.execPath, [SELF, '--child', entry, values.file, values.recipes], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`${name} failed: ${r.stderr}`);
      got[name].push(JSON.parse(r.stdout.trim().split('\n').pop()));
    }
  }
  console.log(`peak RSS, ${values.file}: the recipe ${values.recipes} times in each of ${values.runs} fresh processes per arm, taking turns`);
  console.log('arm  peak MiB median  min    max    first recipe ms  last recipe ms (medians)');
  for (const [name, entry] of arms) {
    const g = got[name];
    const peaks = g.map((x) => x.peakMiB);
    console.log(`${name}    ${median(peaks).toFixed(1).padStart(6)}  ${Math.min(...peaks).toFixed(1).padStart(6)} ${Math.max(...peaks).toFixed(1).padStart(6)}  ${median(g.map((x) => x.times[0])).toFixed(0).padStart(15)}  ${median(g.map((x) => x.times.at(-1))).toFixed(0).padStart(14)}   ${entry}`);
  }
}
