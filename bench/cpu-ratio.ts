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
 * With `--base <entry>` (a path relative to the project, e.g. another build's dist/node.js) that
 * imgpipe runs too, alternating in the same process, and each line ends with this build over it: an
 * A/B of a change that the machine's load moves far less than two processes' ratios to sharp.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { imgpipe } from './competitors/imgpipe.js';
import type { Competitor } from './competitors/types.js';
import { sharpCascade, sharpDecodeOnce, sharpPerVariant } from './competitors/sharp.js';
import { INPUTS, ensureInput } from './inputs.js';
import { chosenWorkloads, median } from './cpu-args.js';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { runs: { type: 'string', default: '7' }, base: { type: 'string' } } });
const { chosen, runs } = chosenWorkloads(positionals[0], values.runs, 'npx tsx bench/cpu-ratio.ts <workload,...> [--runs N]');
const base = values.base;
/** imgpipe from `base`: its own module instance, as IMGPIPE_ENTRY picks it while it prepares. */
const imgpipeBase: Competitor = {
  ...imgpipe,
  id: 'imgpipe-base',
  async prepare(threads, workload) {
    const before = process.env.IMGPIPE_ENTRY;
    process.env.IMGPIPE_ENTRY = base;
    try {
      return await imgpipe.prepare(threads, workload);
    } finally {
      if (before === undefined) delete process.env.IMGPIPE_ENTRY;
      else process.env.IMGPIPE_ENTRY = before;
    }
  },
};
const competitors = [imgpipe, ...(base ? [imgpipeBase] : []), sharpPerVariant, sharpDecodeOnce, sharpCascade];
const sharpFrom = base ? 2 : 1;

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
  const ours = medians[0]!, sharps = medians.slice(sharpFrom);
  const best = Math.min(...sharps);
  const fastest = competitors[sharpFrom + sharps.indexOf(best)]!.id;
  const againstBase = base ? `  ${(ours / medians[1]!).toFixed(3)}x base` : '';
  console.log(`${w.id.padEnd(26)}${medians.map((t) => t.toFixed(1).padStart(18)).join('')}  ${(ours / best).toFixed(2)}x (${fastest})${againstBase}`);
}
process.exit(0);
