/**
 * Builds of the PNG decoder module (`imgpipe_png.wasm`) against each other on one PNG, alternating
 * in one process: the CPU milliseconds of imgpipe_png_begin (the image data inflated whole by
 * libdeflate and its Adler-32 checked, for a photo) and of the steps that unfilter and convert every
 * row, medians. The module alone, without imgpipe's JavaScript around it: for a change to
 * wasm/libspng whose slice is a few milliseconds of a transform, which bench/png-decode-ab.mjs and
 * bench/cpu-ab.ts measure whole.
 *
 *   node scripts/build-libspng.mjs && cp wasm/libspng/build/imgpipe_png.wasm /tmp/new.wasm
 *   node bench/png-module-ab.mjs 21 bench/.cache/derived/photo-2725x2225.png /tmp/old.wasm /tmp/old-copy.wasm /tmp/new.wasm
 *
 * List the first module twice (the A/A pair is the noise floor); each is compiled separately. The
 * modules take turns (bench/module-ab-runner.mjs).
 */
import { readFileSync } from 'node:fs';
import { runModuleAb } from './module-ab-runner.mjs';

const [runs, file, ...modules] = process.argv.slice(2);
if (!runs || !file || modules.length < 2) {
  console.error('usage: node bench/png-module-ab.mjs <runs> <file.png> <a.wasm> <b.wasm> [...]');
  process.exit(2);
}
const png = readFileSync(file);
const imports = { env: { emscripten_notify_memory_growth: () => {} } };
const instances = modules.map((p) => new WebAssembly.Instance(new WebAssembly.Module(readFileSync(p)), imports).exports);
const ms = (start) => {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
};

/** One decode as src/codecs/png.ts streams it (a ring of 16 rows, the fast path asked for): [begin, steps] in CPU ms. */
function decode(e) {
  const ptr = e.imgpipe_png_input(png.length);
  new Uint8Array(e.memory.buffer, ptr, png.length).set(png);
  let start = process.cpuUsage();
  const error = e.imgpipe_png_begin(ptr, png.length, 16, 1);
  const begin = ms(start);
  if (error !== 0) throw new Error(`imgpipe_png_begin: ${error}`);
  start = process.cpuUsage();
  const height = e.imgpipe_output_height();
  while (e.imgpipe_png_rows_out() < height) {
    const stepError = e.imgpipe_png_step(16);
    if (stepError !== 0) throw new Error(`imgpipe_png_step: ${stepError}`);
  }
  const steps = ms(start);
  e.imgpipe_release();
  return [begin, steps];
}

// 15 untimed runs first: the inflate is one long call per decode, and a module can still be on V8's
// baseline code after 3 decodes (the 32-bit-word libdeflate's begin measured 71 ms after 3 and 55 after 15).
runModuleAb({ names: modules, instances, run: decode, phases: ['begin', 'steps'], runs: Number(runs), warmups: 15 });
