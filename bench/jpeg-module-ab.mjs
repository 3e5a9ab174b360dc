/**
 * Builds of imgpipe's JPEG decoder module (`imgpipe_jpegdec.wasm`) against each other on one JPEG,
 * alternating in one process: the CPU milliseconds of a whole decode as src/codecs/jpeg.ts streams
 * it (a ring of five MCU rows, four rows a step), and the wall milliseconds of its output phase alone
 * (a progressive file's rows only come out after its last scan: that phase is the IDCT, upsampling
 * and colour conversion). Medians, after six warm-up decodes each, the modules taking turns
 * (bench/module-ab-runner.mjs). The module alone, without
 * imgpipe's JavaScript around it: for a change to wasm/jpegdec, which bench/cpu-ab.ts measures whole.
 *
 *   node scripts/build-wasm.mjs && cp wasm/jpegdec/build/imgpipe_jpegdec.wasm /tmp/new.wasm
 *   node bench/jpeg-module-ab.mjs 13 4 bench/.cache/mate-backgrounds/usr/share/backgrounds/mate/abstract/Elephants_5640x3172.jpg \
 *     /tmp/old.wasm /tmp/old-copy.wasm /tmp/new.wasm
 *
 * The second argument is the scale denominator (1, 2, 4 or 8). List the first module twice (the A/A
 * pair is the noise floor); each is compiled separately.
 */
import { readFileSync } from 'node:fs';
import { runModuleAb } from './module-ab-runner.mjs';

const [runs, denom, file, ...modules] = process.argv.slice(2);
if (!runs || !denom || !file || modules.length < 2) {
  console.error('usage: node bench/jpeg-module-ab.mjs <runs> <denom> <file.jpg> <a.wasm> <b.wasm> [...]');
  process.exit(2);
}
const jpeg = readFileSync(file);
const instances = modules.map((p) => new WebAssembly.Instance(new WebAssembly.Module(readFileSync(p)), {}).exports);

/** One decode: [CPU ms of the whole, wall ms from the first row out to the end]. */
function decode(e) {
  const inProgress = e.IN_PROGRESS.value;
  const start = process.cpuUsage();
  e.reset();
  const src = e.alloc(jpeg.length);
  new Uint8Array(e.memory.buffer, src, jpeg.length).set(jpeg);
  let status = e.begin(src, jpeg.length, Number(denom), 5);
  let outputFrom = 0;
  while (status === inProgress) {
    if (!outputFrom && e.rowsOut() > 0) outputFrom = performance.now();
    status = e.step(4);
  }
  const output = outputFrom ? performance.now() - outputFrom : 0;
  if (status !== e.OK.value) throw new Error(`${file}: status ${status}`);
  const used = process.cpuUsage(start);
  return [(used.user + used.system) / 1000, output];
}

runModuleAb({ names: modules, instances, run: decode, phases: ['decode CPU', 'output phase'], runs: Number(runs), warmups: 6, note: `, 1/${denom} scale` });
