/**
 * The HEIC plug-in (imgpipe/heic: libheif 1.15 + libde265 on WASM SIMD) against Debian's native
 * `heif-convert` (the same libheif and libde265 versions, compiled for x86-64) on the same files,
 * same machine: decode alone and the whole upload recipe, one thread. heif-convert writes Y4M (raw
 * YUV, so its time is decode plus a file write; its PNG writer alone takes seconds). Wall-clock and
 * CPU time (user + system) are both shown: on a loaded machine CPU time is the steadier figure.
 * Also the plug-in's sizes.
 *
 * Inputs: the iPhone fixture (IMG_5195.HEIC, 2566x3313 = 8.5 MP, a grid of 42 tiles) and a 12 MP
 * (4032x3024, an iPhone's main camera size) single-image HEIC made here from the benchmark photo
 * with `heif-enc -q 50` into bench/.cache/.
 *
 *   apt-get install -y libheif-examples     # heif-convert, heif-enc
 *   npx tsx bench/heic.ts [--runs N]
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import sharp from 'sharp';
import { decode, processUpload } from '../entries/node.js';
import '../entries/heic/node.js';
import { CACHE_DIR, FIXTURES_DIR, INPUTS, ROOT_DIR } from './inputs.js';
import { formatTable, summarize } from './stats.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '7' } }, strict: true });
const runs = Number(values.runs);

function has(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

/** A 12 MP HEIC from the benchmark photo (scaled to 4032x3024), made once with heif-enc. */
async function twelveMegapixels(): Promise<string | undefined> {
  const out = join(CACHE_DIR, 'photo-4032x3024.heic');
  if (existsSync(out)) return out;
  if (!has('heif-enc')) return undefined;
  mkdirSync(CACHE_DIR, { recursive: true });
  const png = join(CACHE_DIR, 'photo-4032x3024.png');
  await sharp(INPUTS.photo.path).resize(4032, 3024, { fit: 'fill' }).png({ compressionLevel: 1 }).toFile(png);
  execFileSync('heif-enc', ['-q', '50', '-o', out, png], { stdio: 'ignore' });
  return out;
}

/** Wall and CPU milliseconds of one run of `fn`. */
async function timed(fn: () => Promise<unknown>): Promise<{ wall: number; cpu: number }> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await fn();
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return { wall, cpu: (cpu.user + cpu.system) / 1000 };
}

/** heif-convert's wall and CPU time, from bash's `time` (children's CPU included). */
function heifConvert(file: string): { wall: number; cpu: number } {
  const out = join(CACHE_DIR, 'heif-convert.y4m');
  const r = spawnSync('bash', ['-c', 'TIMEFORMAT="%R %U %S"; time heif-convert "$0" "$1" >/dev/null', file, out], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`heif-convert failed: ${r.stderr}`);
  const [real, user, sys] = r.stderr.trim().split('\n').pop()!.split(' ').map(Number);
  return { wall: real * 1000, cpu: (user + sys) * 1000 };
}

const files: [string, string][] = [['IMG_5195.HEIC (iPhone, grid, 8.5 MP)', join(FIXTURES_DIR, 'images/IMG_5195.HEIC')]];
const twelve = await twelveMegapixels();
if (twelve) files.push(['4032x3024 HEIC (12 MP, heif-enc)', twelve]);
const native = has('heif-convert');

const rows: string[][] = [];
for (const [label, path] of files) {
  const bytes = new Uint8Array(readFileSync(path));
  // Warm-up: compiles the module and lets V8 tier up (a cold start is another benchmark's row).
  await decode(bytes);
  await processUpload(bytes, { key: 'u/a.heic' });
  const samples: Record<string, { wall: number[]; cpu: number[] }> = {
    'imgpipe decode': { wall: [], cpu: [] }, 'imgpipe recipe (6 variants)': { wall: [], cpu: [] }, 'heif-convert (native) to Y4M': { wall: [], cpu: [] },
  };
  for (let i = 0; i < runs; i++) {
    // Interleaved, so a neighbour's burst of load falls on each alike.
    for (const [name, run] of [
      ['imgpipe decode', () => timed(() => decode(bytes))],
      ['imgpipe recipe (6 variants)', () => timed(() => processUpload(bytes, { key: 'u/a.heic' }))],
      ...(native ? [['heif-convert (native) to Y4M', async () => heifConvert(path)] as const] : []),
    ] as const) {
      const t = await run();
      samples[name].wall.push(t.wall);
      samples[name].cpu.push(t.cpu);
    }
  }
  const ref = summarize(samples['heif-convert (native) to Y4M'].cpu.length ? samples['heif-convert (native) to Y4M'].cpu : [NaN]).median;
  for (const [name, s] of Object.entries(samples)) {
    if (s.wall.length === 0) continue;
    const wall = summarize(s.wall), cpu = summarize(s.cpu);
    rows.push([label, name, wall.median.toFixed(0), cpu.median.toFixed(0), (cpu.median / ref).toFixed(2)]);
  }
}

const wasm = readFileSync(join(ROOT_DIR, 'wasm/libheif/build/imgpipe_heif.wasm'));
const entry = join(ROOT_DIR, 'dist/heic.node.js');
console.log(`HEIC, one thread, ${runs} interleaved runs after a warm-up; Node ${process.version}${native ? '' : ' (heif-convert not installed: apt-get install libheif-examples)'}`);
console.log(formatTable(['input', 'what', 'wall ms (median)', 'CPU ms (median)', 'CPU x heif-convert'], rows));
console.log(`\nplug-in module wasm/libheif/build/imgpipe_heif.wasm: ${(wasm.length / 1024).toFixed(0)} KB (${(gzipSync(wasm, { level: 9 }).length / 1024).toFixed(0)} KB gzipped)` +
  (existsSync(entry) ? `; dist/heic.node.js ${(statSync(entry).size / 1024).toFixed(1)} KB` : ''));
writeFileSync(join(CACHE_DIR, 'heic-last.txt'), rows.map((r) => r.join('\t')).join('\n') + '\n');
