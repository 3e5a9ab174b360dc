/**
 * Two builds of imgpipe against each other in CPU time, one process, runs alternating: for a change
 * to one module (a rebuilt `.wasm`, a kernel), where bench/cpu-ratio.ts run twice would compare two
 * runs on a loaded machine whose neighbours moved in between. Each side is a built package
 * (`dist/node.js`) given by its path relative to the project, as IMGPIPE_ENTRY takes it; a copy of
 * `dist/` with one `.wasm` swapped, next to a `node_modules` link, is enough for a module change.
 * `--b` may list several builds, comma-separated: all run alternating, each compared with A.
 * Also says whether the builds gave the same output bytes, which a speed change must keep.
 * List A's build a second time among the B's (a copy of its folder): the side loaded first can
 * run a workload several percent faster whatever its module (the lossless graphic's 720 px JPEG:
 * 1.07-1.10x for B with the same libwebp code on both sides), and that A/A ratio is the noise
 * floor a change must clear.
 *
 *   UV_THREADPOOL_SIZE=1 npx tsx bench/cpu-ab.ts webp-lossy-720-jpeg,recipe-webp-lossy \
 *     --a ../../tmp/base/dist/node.js --b dist/node.js --runs 11
 *
 * Prints, per workload, the median CPU milliseconds of each and B over A. `--wall`: wall-clock
 * milliseconds instead, for a change that moves work to another thread (CPU time counts every thread).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { imgpipe } from './competitors/imgpipe.js';
import { INPUTS, ensureInput } from './inputs.js';
import { chosenWorkloads, median } from './cpu-args.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { runs: { type: 'string', default: '9' }, a: { type: 'string' }, b: { type: 'string', default: 'dist/node.js' }, wall: { type: 'boolean', default: false } },
});
const { chosen, runs } = chosenWorkloads(positionals[0], values.runs, 'npx tsx bench/cpu-ab.ts <workload,...> --a <entry> [--b <entry>] [--runs N]', Boolean(values.a));
// values.a is there: chosenWorkloads exits with the usage otherwise
const entries = [values.a as string, ...values.b.split(',')];
const same = (x: Uint8Array, y: Uint8Array) => x.length === y.length && Buffer.from(x).equals(Buffer.from(y));

entries.forEach((e, i) => console.log(`${i ? `B${i}` : 'A'} ${e}`));
console.log(`workload                           ${values.wall ? 'wall' : 'CPU'} ms of A, then each B and B / A (median of ${runs})`);
for (const w of chosen) {
  await ensureInput(w.input);
  const input = new Uint8Array(readFileSync(INPUTS[w.input].path));
  const prepared = [];
  for (const entry of entries) {
    // The competitor reads its entry when prepared; each side loads its own copy of the package and its modules.
    process.env.IMGPIPE_ENTRY = entry;
    prepared.push({ run: await imgpipe.prepare('single', w), cpu: [] as number[] });
  }
  // Two untimed runs each: compilation and first-use allocations are not what is compared.
  const outs: { bytes: Uint8Array }[][] = [];
  for (const p of prepared) {
    await p.run.run(input, w.outputs);
    outs.push(await p.run.run(input, w.outputs));
  }
  const identical = outs.slice(1).every((out) => outs[0]!.every((o, i) => same(o.bytes, out[i]!.bytes)));
  for (let i = 0; i < runs; i++) {
    // Alternate which side goes first, so neither always follows the other's garbage.
    for (const p of i % 2 ? [...prepared].reverse() : prepared) {
      const start = process.cpuUsage();
      const t0 = performance.now();
      await p.run.run(input, w.outputs);
      const used = process.cpuUsage(start);
      p.cpu.push(values.wall ? performance.now() - t0 : (used.user + used.system) / 1000);
    }
  }
  const [a, ...bs] = prepared.map((p) => median(p.cpu));
  const cells = bs.map((b) => `${b.toFixed(1).padStart(10)} ${(b / a!).toFixed(3)}x`).join('');
  console.log(`${w.id.padEnd(32)}${a!.toFixed(1).padStart(10)}${cells}  ${identical ? 'same bytes' : 'OUTPUTS DIFFER'}`);
}
process.exit(0);
