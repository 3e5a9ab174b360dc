/**
 * Cold start A/B: fresh `node` processes of two imgpipe builds (and sharp's cascade), taking turns,
 * each importing its library, running the upload recipe once on one file (no watermark, default
 * threads, as bench/run.ts's cold start does) and exiting. Reports per arm the median and minimum of the
 * process's wall time (spawn to exit) and of the first recipe, and its minor page faults (the
 * pages it touched for the first time: ~20 us each on this Firecracker VM).
 *
 *   node bench/cold-ab.mjs --a <old dist>/node.js --b dist/node.js [--runs 15] [--file F] [--no-sharp]
 *
 * Plain JavaScript, so that no loader (tsx) adds its start-up to the figures.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { median } from './median.mjs';

const SELF = fileURLToPath(import.meta.url);

async function child(arm, file) {
  const input = new Uint8Array(readFileSync(file));
  let t;
  if (arm === 'sharp') {
    // bench/competitors/sharp.ts's cascade as its cold start runs it (sharp's default threads, its
    // cache off): each size from the raw pixels of the one above, every size's encodes started at
    // once and left running while the cascade goes on (waiting for them size by size made this
    // arm ~50 ms slower than the benchmark's own sharp row, a comparison that flattered imgpipe).
    const sharp = (await import('sharp')).default;
    sharp.cache(false);
    t = performance.now();
    let raw;
    const encodes = [];
    for (const [i, w] of [1200, 600, 150].entries()) {
      const source = i === 0 ? sharp(input).autoOrient() : sharp(raw.data, { raw: raw.info });
      raw = await source.resize({ width: w, kernel: 'lanczos3', withoutEnlargement: true }).raw().toBuffer({ resolveWithObject: true });
      encodes.push(sharp(raw.data, { raw: raw.info }).jpeg({ quality: 85 }).toBuffer(), sharp(raw.data, { raw: raw.info }).webp({ quality: 80 }).toBuffer());
    }
    await Promise.all(encodes);
  } else {
    const api = await import(pathToFileURL(resolve(arm)).href);
    const recipe = { ...api.DEFAULT_RECIPE };
    delete recipe.watermark;
    t = performance.now();
    await api.processUpload(input, { key: 'uploads/bench.jpg', recipe });
  }
  const first = performance.now() - t;
  process.stdout.write(`${JSON.stringify({ first, minflt: process.resourceUsage().minorPageFault })}\n`);
  process.exit(0);
}

if (process.argv[2] === '--child') {
  await child(process.argv[3], process.argv[4]);
} else {
  const { values } = parseArgs({
    options: { a: { type: 'string' }, b: { type: 'string' }, runs: { type: 'string', default: '15' }, file: { type: 'string', default: 'test/fixtures/images/2569067123_aca715a2ee_o.jpg' }, 'no-sharp': { type: 'boolean', default: false } },
  });
  if (!values.a || !values.b) {
    console.error('usage: node bench/cold-ab.mjs --a <old dist>/node.js --b dist/node.js [--runs 15] [--file F] [--no-sharp]');
    process.exit(2);
  }
  const arms = [['A', values.a], ['B', values.b], ...(values['no-sharp'] ? [] : [['sharp', 'sharp']])];
  const runs = Number(values.runs);
  const got = Object.fromEntries(arms.map(([name]) => [name, []]));
  for (let i = 0; i < runs; i++) {
    // Alternate which arm goes first, so neither always follows the other.
    const order = i % 2 === 0 ? arms : [...arms].reverse();
    for (const [name, arm] of order) {
      const t = performance.now();
      const r = spawnSync(process.execPath, [SELF, '--child', arm, values.file], { encoding: 'utf8' });
      const wall = performance.now() - t;
      if (r.status !== 0) throw new Error(`${name} failed: ${r.stderr}`);
      got[name].push({ wall, ...JSON.parse(r.stdout.trim().split('\n').pop()) });
    }
  }
  const min = (xs) => Math.min(...xs);
  console.log(`cold start, ${values.file}, ${runs} fresh processes per arm, taking turns`);
  console.log('arm     process median  min     first recipe median  min     minflt median  min');
  for (const [name, arm] of arms) {
    const g = got[name];
    const col = (k, d = 0) => `${median(g.map((x) => x[k])).toFixed(d).padStart(8)} ${min(g.map((x) => x[k])).toFixed(d).padStart(7)}`;
    console.log(`${name.padEnd(6)} ${col('wall')}        ${col('first')}             ${col('minflt')}   ${name === 'sharp' ? '' : arm}`);
  }
  if (!values['no-sharp']) {
    const s = median(got.sharp.map((x) => x.wall));
    console.log(`process median / sharp's: A ${(median(got.A.map((x) => x.wall)) / s).toFixed(2)}x, B ${(median(got.B.map((x) => x.wall)) / s).toFixed(2)}x`);
  }
}
