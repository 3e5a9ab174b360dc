/**
 * Where a cold process's first recipe touches new memory (issue 18's cold-start goal). On this VM a
 * page costs ~20 us the first time a process touches it, so a cold recipe's minor page faults are
 * a large part of its time. Runs imgpipe's processUpload from dist/ (or sharp's cascade, as
 * bench/competitors/sharp.ts runs it) once or more in a fresh process and, at each stage (loaded,
 * each encode's start and end, run done), takes the process's minor faults (getrusage) and every
 * mapping's anonymous resident size from /proc/self/smaps; it prints what each mapping gained over
 * the run, named by kind: each WebAssembly memory (by its module's exports), glibc's per-thread
 * malloc arenas (V8's compile threads), the main heap, V8's code and its other anonymous pages.
 *
 *   UV_THREADPOOL_SIZE=1 node bench/cold-pages.mjs [imgpipe|sharp] [file] [runs] [--entry dist/node.js]
 *
 * Plain JavaScript so that no loader (tsx) adds its own pages to the figures.
 */
import { readFileSync } from 'node:fs';
import { moduleName, onInstances, recipeRun } from './stages.mjs';

const args = process.argv.slice(2);
const entryAt = args.indexOf('--entry');
const entry = entryAt >= 0 ? args.splice(entryAt, 2)[1] : 'dist/node.js';
const [who = 'imgpipe', file = 'test/fixtures/images/2569067123_aca715a2ee_o.jpg', runsArg = '1'] = args;
const runs = Number(runsArg);
const PAGE = 4096;
const MiB = 1024 * 1024;

/** Live WebAssembly memories, named by their module. */
const memories = [];
onInstances((module, exports) => {
  for (const v of Object.values(exports)) if (v instanceof WebAssembly.Memory) memories.push({ name: `wasm:${moduleName(module)}`, ref: new WeakRef(v) });
  return exports;
});

/** Every mapping with its anonymous and resident bytes, keyed by start address. */
function smaps() {
  const maps = new Map();
  let cur;
  for (const line of readFileSync('/proc/self/smaps', 'utf8').split('\n')) {
    const head = /^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) {
      cur = { start: parseInt(head[1], 16), end: parseInt(head[2], 16), perms: head[3], path: head[4], rss: 0, anon: 0 };
      maps.set(cur.start, cur);
      continue;
    }
    const m = /^(Rss|Anonymous):\s+(\d+) kB/.exec(line);
    if (m && cur) cur[m[1] === 'Rss' ? 'rss' : 'anon'] = Number(m[2]) * 1024;
  }
  return maps;
}

/** What a mapping is: a WebAssembly memory (same start as a live memory's accessible part), an arena, code... */
function kindOf(m, wasmSizes) {
  const size = m.end - m.start;
  if (m.path === '[heap]') return 'malloc main heap (brk)';
  if (m.path && !m.path.startsWith('[')) return `file ${m.path.split('/').pop()}`;
  if (m.path) return m.path;
  const wasm = wasmSizes.get(size);
  if (wasm && m.perms.startsWith('rw')) return wasm;
  if (m.perms.includes('x')) return 'code (V8 / wasm)';
  // glibc's non-main arenas are 64 MiB-aligned heaps of at most 64 MiB.
  if (m.start % (64 * MiB) === 0 && size <= 64 * MiB) return 'malloc thread arena';
  return 'other anon (V8 heap, stacks, ...)';
}

const samples = [];
/**
 * The fault count at every stage; the mappings (reading /proc/self/smaps allocates ~1 MB of strings,
 * itself touching pages) only at the run's boundaries (`maps`), so that the stages in between count
 * the recipe's faults and little of this script's.
 */
function sample(stage, maps = false) {
  samples.push({ stage, minflt: process.resourceUsage().minorPageFault, maps: maps ? smaps() : undefined, t: performance.now() });
}

const input = new Uint8Array(readFileSync(file));

sample('start', true);
const run = await recipeRun(who, entry, input, sample);
sample('loaded', true);
for (let i = 0; i < runs; i++) {
  await run();
  sample(`run ${i + 1} done`, true);
}

const wasmSizes = new Map();
for (const m of memories) {
  const mem = m.ref.deref();
  if (mem) wasmSizes.set(mem.buffer.byteLength, wasmSizes.has(mem.buffer.byteLength) ? `${wasmSizes.get(mem.buffer.byteLength)}|${m.name}` : m.name);
}

console.log(`${who} ${file}: minor faults by stage (pages; ~20 us each on this VM)`);
for (const [i, s] of samples.entries()) {
  const d = i ? s.minflt - samples[i - 1].minflt : s.minflt;
  console.log(`  ${s.stage.padEnd(28)} +${String(d).padStart(6)}  total ${String(s.minflt).padStart(6)}  at ${s.t.toFixed(0)} ms`);
}

/** Anonymous/resident growth per kind between two samples (mappings that appeared count from zero). */
function growth(a, b) {
  const kinds = new Map();
  for (const m of b.maps.values()) {
    const before = a.maps.get(m.start);
    const dRss = m.rss - (before && before.end === m.end ? before.rss : before ? Math.min(before.rss, m.rss) : 0);
    if (dRss <= 0) continue;
    const k = kindOf(m, wasmSizes);
    const e = kinds.get(k) ?? { rss: 0, n: 0, mapped: 0 };
    e.rss += dRss;
    e.n++;
    e.mapped += m.end - m.start;
    kinds.set(k, e);
  }
  return [...kinds.entries()].sort((x, y) => y[1].rss - x[1].rss);
}

const loaded = samples.find((s) => s.stage === 'loaded');
for (const [label, a, b] of [['import', samples[0], loaded], ['first run', loaded, samples.find((s) => s.stage === 'run 1 done')], ...(runs > 1 ? [['second run', samples.find((s) => s.stage === 'run 1 done'), samples.find((s) => s.stage === 'run 2 done')]] : [])]) {
  const g = growth(a, b);
  const total = g.reduce((n, [, e]) => n + e.rss, 0);
  console.log(`resident growth, ${label}: ${(total / PAGE).toFixed(0)} pages (${(total / MiB).toFixed(1)} MiB); minflt ${b.minflt - a.minflt}`);
  for (const [k, e] of g) if (e.rss >= 16 * PAGE) console.log(`  ${k.padEnd(36)} ${String(e.rss / PAGE).padStart(6)} pages  ${(e.rss / MiB).toFixed(1).padStart(5)} MiB  (${e.n} mappings, ${(e.mapped / MiB).toFixed(1)} MiB mapped)`);
}
if (process.env.COLD_PAGES_MAPS) {
  // The largest single mappings' growth over the first run, for naming what "other anon" holds.
  const a = loaded, b = samples.find((s) => s.stage === 'run 1 done');
  const rows = [...b.maps.values()].map((m) => ({ m, d: m.rss - (a.maps.get(m.start)?.rss ?? 0) })).filter((r) => r.d > 64 * PAGE).sort((x, y) => y.d - x.d);
  for (const { m, d } of rows.slice(0, 25)) console.log(`   ${m.start.toString(16)} ${((m.end - m.start) / MiB).toFixed(2).padStart(7)} MiB ${m.perms} +${d / PAGE} ${kindOf(m, wasmSizes)}`);
}
console.log('wasm memories at the end:', [...wasmSizes.entries()].map(([s, n]) => `${n} ${(s / MiB).toFixed(1)} MiB`).join(', '));
