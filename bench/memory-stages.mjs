/**
 * Where a recipe's peak resident memory goes, stage by stage (issue 18's RSS goal). Runs imgpipe's
 * processUpload from dist/ (or sharp's cascade) on one file, one thread, as bench/child.ts does, and
 * at each stage samples VmRSS/VmHWM, process.memoryUsage(), every live WebAssembly memory (named by
 * its module's exports) and /proc/self/smaps's anonymous mappings grouped by kind. The stages come
 * from wrapping the PNG decoder's exports (after its begin, i.e. after the inflate; before its
 * release, i.e. after the streamed resize) and the encoder (before and after each encode).
 *
 *   UV_THREADPOOL_SIZE=1 node bench/memory-stages.mjs [imgpipe|sharp] <file> [runs] [--smaps] [--keep-file]
 *
 * Plain JavaScript so that no loader (tsx) adds its own memory to the figures.
 */
import { readFileSync } from 'node:fs';
import { moduleName, onInstances, recipeRun } from './stages.mjs';

const [who = 'imgpipe', file = 'bench/.cache/derived/photo-2725x2225.png', runsArg = '3', ...flags] = process.argv.slice(2);
const runs = Number(runsArg);
const showSmaps = flags.includes('--smaps');
const MiB = 1024 * 1024;

/** Live WebAssembly memories, named by their module. */
const memories = [];

const stages = [];

function status() {
  const s = readFileSync('/proc/self/status', 'utf8');
  const kb = (k) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(s)?.[1] ?? 0) * 1024;
  return { rss: kb('VmRSS'), hwm: kb('VmHWM'), anon: kb('RssAnon'), file: kb('RssFile') };
}

/** Anonymous resident memory by kind: WebAssembly cages (>= 4 GiB reservations), malloc arenas (64 MiB-aligned heaps), others. */
function smaps() {
  const text = readFileSync('/proc/self/smaps', 'utf8');
  const maps = [];
  let cur;
  for (const line of text.split('\n')) {
    const head = /^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) {
      cur = { start: parseInt(head[1], 16), end: parseInt(head[2], 16), perms: head[3], path: head[4], rss: 0, anon: 0 };
      maps.push(cur);
      continue;
    }
    const m = /^(Rss|Anonymous):\s+(\d+) kB/.exec(line);
    if (m && cur) cur[m[1] === 'Rss' ? 'rss' : 'anon'] = Number(m[2]) * 1024;
  }
  const kinds = {};
  const add = (k, v) => (kinds[k] = (kinds[k] ?? 0) + v);
  const big = [];
  for (const m of maps) {
    if (m.anon === 0) continue;
    const size = m.end - m.start;
    const kind = size >= 4 * 1024 * MiB ? 'wasm-cage' : m.path === '[heap]' ? 'brk-heap' : m.path ? `file:${m.path}` : 'anon';
    add(kind, m.anon);
    if (m.anon >= MiB) big.push({ kind, sizeMiB: +(size / MiB).toFixed(1), anonMiB: +(m.anon / MiB).toFixed(1), perms: m.perms, at: m.start.toString(16) });
  }
  return { kinds, big: big.sort((a, b) => b.anonMiB - a.anonMiB) };
}

function sample(stage) {
  const st = status();
  const mu = process.memoryUsage();
  const wasm = memories.filter((m) => m.ref.deref()).map((m) => `${m.name}:${(m.ref.deref().buffer.byteLength / MiB).toFixed(1)}`);
  const row = { stage, rss: st.rss, hwm: st.hwm, heap: mu.heapTotal, external: mu.external, arrayBuffers: mu.arrayBuffers, wasm: wasm.join(' ') };
  if (showSmaps) row.smaps = smaps();
  stages.push(row);
}

/** Wrap every instance's exports so that the PNG decoder's begin and release are stages. */
function wrapExports(module, exports) {
  const name = moduleName(module);
  if (exports.memory instanceof WebAssembly.Memory) memories.push({ name, ref: new WeakRef(exports.memory) });
  if (name !== 'png') return exports;
  const wrapped = { ...exports };
  wrapped.imgpipe_png_begin = (...a) => {
    const r = exports.imgpipe_png_begin(...a);
    sample(`png begin (inflated) -> ${r}`);
    return r;
  };
  wrapped.imgpipe_release = () => {
    sample('png release (rows done)');
    exports.imgpipe_release();
    sample('png released');
  };
  return Object.freeze(wrapped);
}

onInstances(wrapExports);

/**
 * As bench/child.ts: a copy of the file, readFileSync's Buffer left to the GC. Its free (10.4 MB, an
 * mmapped malloc block) raises glibc's dynamic mmap and trim thresholds, after which the malloc
 * arenas keep their freed tops. `--keep-file` keeps that Buffer referenced and uses it, to show the effect.
 */
const kept = flags.includes('--keep-file') ? readFileSync(file) : undefined;
const input = kept ?? new Uint8Array(readFileSync(file));

sample('start');
const run = await recipeRun(who, 'dist/node.js', input, sample);
sample('loaded');
for (let i = 0; i < runs; i++) {
  sample(`--- run ${i + 1}`);
  await run();
  sample(`run ${i + 1} done`);
}
const f = (b) => (b / MiB).toFixed(1).padStart(6);
console.log('stage'.padEnd(34), '  rss    hwm   heap    ext  arrBuf  wasm memories (MiB)');
for (const s of stages) {
  console.log(s.stage.padEnd(34), f(s.rss), f(s.hwm), f(s.heap), f(s.external), f(s.arrayBuffers), ' ', s.wasm);
  if (s.smaps) console.log('   ', JSON.stringify(Object.fromEntries(Object.entries(s.smaps.kinds).filter(([, v]) => v >= MiB / 2).map(([k, v]) => [k, +(v / MiB).toFixed(1)]))), JSON.stringify(s.smaps.big.slice(0, 8)));
}
