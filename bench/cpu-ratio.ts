/**
 * imgpipe against sharp's three strategies in CPU time, one process, runs alternating: for a
 * loaded machine, where the wall times of `npm run bench` (each competitor in its own child
 * process, timed one after another) move with whatever else runs. CPU time is what a busy
 * neighbour changes least; it still moves with cache and frequency sharing, so compare ratios from
 * the same run only. It counts every thread of the process: V8's background compilation and
 * garbage collection helpers for imgpipe, which a wall-clock run on an idle core partly hides (the
 * standard photo's 720 px JPEG: 44.5 against sharp's 21.8 ms of CPU here, 1.14x in wall time on the
 * quiet machine), so it is for comparing imgpipe with itself across changes and for the slices that
 * are WebAssembly work, not a replacement for the quiet wall-clock table. One thread (libvips
 * concurrency 1, encodes in the main thread); start it with UV_THREADPOOL_SIZE=1 as `npm run bench` does.
 *
 *   npm run build && UV_THREADPOOL_SIZE=1 npx tsx bench/cpu-ratio.ts recipe-png-photo,png-photo-720-jpeg --runs 7
 *
 * Prints, per workload, the median CPU milliseconds of each and imgpipe over sharp's fastest strategy.
 * To compare two builds of imgpipe with each other, use bench/cpu-ab.ts (it also checks the bytes).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { imgpipe } from './competitors/imgpipe.js';
import { sharpCascade, sharpDecodeOnce, sharpPerVariant } from './competitors/sharp.js';
import { INPUTS, ensureInput } from './inputs.js';
import { chosenWorkloads, median } from './cpu-args.js';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { runs: { type: 'string', default: '7' } } });
const { chosen, runs } = chosenWorkloads(positionals[0], values.runs, 'npx tsx bench/cpu-ratio.ts <workload,...> [--runs N]');
const competitors = [imgpipe, sharpPerVariant, sharpDecodeOnce, sharpCascade];

console.log(`workload                  ${competitors.map((c) => c.id.padStart(18)).join('')}  imgpipe / sharp's best (CPU ms, median of ${runs})`);
for (const w of chosen) {
  await ensureInput(w.input);
  const input = new Uint8Array(readFileSync(INPUTS[w.input].path));
  const prepared = await Promise.all(competitors.map(async (c) => ({ run: await c.prepare('single', w), cpu: [] as number[] })));
  // Two untimed runs each: compilation and first-use allocations are not what is compared.
  for (const p of prepared) for (let i = 0; i < 2; i++) await p.run.run(input, w.outputs);
  for (let i = 0; i < runs; i++) {
    for (const p of prepared) {
      const start = process.cpuUsage();
      await p.run.run(input, w.outputs);
      const used = process.cpuUsage(start);
      p.cpu.push((used.user + used.system) / 1000);
    }
  }
  const medians = prepared.map((p) => median(p.cpu));
  const ours = medians[0]!, sharps = medians.slice(1);
  const best = Math.min(...sharps);
  const fastest = competitors[1 + sharps.indexOf(best)]!.id;
  console.log(`${w.id.padEnd(26)}${medians.map((t) => t.toFixed(1).padStart(18)).join('')}  ${(ours / best).toFixed(2)}x (${fastest})`);
}
process.exit(0);
