/**
 * How many threads sharp's "one thread" run of a workload really uses: sharp at concurrency 1 (as
 * bench/cpu-ratio.ts and `npm run bench` run it), each thread's CPU time read from Linux's
 * /proc/self/task/<tid>/schedstat (nanoseconds on CPU), polled every millisecond during the run so
 * that threads which start and end within it are counted too (up to a millisecond of a thread's
 * last slice can be missed). On a loaded machine CPU against wall time says nothing about
 * parallelism (every thread waits its turn); per-thread CPU does. Libvips' WebP loader sets
 * libwebp's `use_threads` (libvips/foreign/webp2vips.c), and libwebp then filters and outputs a
 * lossy file's rows on a thread of its own, started for each decode, whatever libvips' concurrency.
 * Linux only. Start it with UV_THREADPOOL_SIZE=1.
 *
 *   UV_THREADPOOL_SIZE=1 npx tsx bench/sharp-threads.ts webp-lossy-720-jpeg,jpeg-720-jpeg --runs 9
 *
 * Prints, per workload and sharp strategy, the medians of: the process's CPU, the CPU of threads
 * that did not exist before the run, and the busiest of those.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { sharpCascade, sharpDecodeOnce, sharpPerVariant } from './competitors/sharp.js';
import { INPUTS, ensureInput } from './inputs.js';
import { chosenWorkloads, median } from './cpu-args.js';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { runs: { type: 'string', default: '9' } } });
const { chosen, runs } = chosenWorkloads(positionals[0], values.runs, 'npx tsx bench/sharp-threads.ts <workload,...> [--runs N]');

/** Nanoseconds on CPU of each live thread of this process. */
function threadCpu(): Map<string, number> {
  const out = new Map<string, number>();
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      out.set(tid, Number(readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8').split(' ')[0]));
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return out;
}

console.log(`workload / strategy                      process CPU ms   new threads' CPU ms   busiest new thread (medians of ${runs})`);
for (const w of chosen) {
  await ensureInput(w.input);
  const input = new Uint8Array(readFileSync(INPUTS[w.input].path));
  for (const c of [sharpPerVariant, sharpDecodeOnce, sharpCascade]) {
    const run = await c.prepare('single', w);
    for (let i = 0; i < 2; i++) await run.run(input, w.outputs);
    const cpu: number[] = [];
    const fresh: number[] = [];
    const busiest: number[] = [];
    for (let i = 0; i < runs; i++) {
      const before = threadCpu();
      const seen = new Map<string, number>();
      // Polled from the main thread, which is idle while sharp works on its own threads.
      const poll = setInterval(() => {
        for (const [tid, ns] of threadCpu()) if (!before.has(tid)) seen.set(tid, ns);
      }, 1);
      const start = process.cpuUsage();
      await run.run(input, w.outputs);
      const used = process.cpuUsage(start);
      clearInterval(poll);
      for (const [tid, ns] of threadCpu()) if (!before.has(tid)) seen.set(tid, ns);
      cpu.push((used.user + used.system) / 1000);
      const news = [...seen.values()].map((ns) => ns / 1e6);
      fresh.push(news.reduce((a, b) => a + b, 0));
      busiest.push(Math.max(0, ...news));
    }
    console.log(`${`${w.id} / ${c.id}`.padEnd(40)}${median(cpu).toFixed(1).padStart(15)}${median(fresh).toFixed(1).padStart(22)}${median(busiest).toFixed(1).padStart(21)}`);
  }
}
process.exit(0);
