/**
 * JPEG decode benchmark: libjpeg-turbo (the fallback decoder, wasm/libjpeg) against imgpipe's own decoder (sequential and
 * progressive) at full size, at 1/2, at 1/4 and at the DCT scale chooseShrink picks for the upload
 * recipe's largest variant (1200 px wide). Each case runs in its own child process so its peak RSS
 * (VmHWM) is its own, and its first decode is a cold process's: module compilation, instance
 * creation and memory growth included, then the median of the warm runs.
 *
 *   npx tsx bench/jpegdec.ts [--runs 7]
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { INPUTS, ensureInput } from './inputs.js';
import type { InputId } from './workloads.js';
import type { JpegShrink } from '../src/codecs/jpeg-frame.js';

type Mode = 'libjpeg' | 'own-1/1' | 'own-1/2' | 'own-1/4' | 'own-recipe';
const MODES: readonly Mode[] = ['libjpeg', 'own-1/1', 'own-1/2', 'own-1/4', 'own-recipe'];
const FIXED_SHRINK: Readonly<Partial<Record<Mode, JpegShrink>>> = Object.freeze({ 'own-1/1': 1, 'own-1/2': 2, 'own-1/4': 4 });
const RECIPE_WIDTH = 1200;

function peakRssMiB(): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

async function child(path: string, mode: Mode, runs: number): Promise<void> {
  await import('../entries/node.js');
  const { inspect } = await import('../src/decode.js');
  const { chooseShrink } = await import('../src/decode.js');
  const { decodeJpeg } = await import('../src/codecs/jpeg-fallback.js');
  const { decodeBaselineJpeg } = await import('../src/codecs/jpeg.js');
  const bytes = new Uint8Array(readFileSync(path));
  const header = inspect(bytes);
  const shrink = mode === 'own-recipe'
    ? chooseShrink(header, { width: RECIPE_WIDTH, height: Math.round((RECIPE_WIDTH * header.height) / header.width) })
    : FIXED_SHRINK[mode] ?? 1;
  const decodeOnce = () => (mode === 'libjpeg' ? decodeJpeg(bytes, header) : decodeBaselineJpeg(bytes, header, shrink));
  // The first decode of this process: compilation, instance creation and memory growth included.
  const t0 = performance.now();
  const first = await decodeOnce();
  const firstMs = performance.now() - t0;
  if (!first) {
    // Arithmetic, CMYK and other files the own decoder leaves to the fallback decoders: nothing to measure.
    console.log(JSON.stringify({ fallback: true }));
    return;
  }
  const once = async () => {
    const img = await decodeOnce();
    if (!img) throw new Error(`${path} is not handled by the own decoder`);
    return img;
  };
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await once();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  console.log(JSON.stringify({ first: firstMs, median: times[Math.floor(times.length / 2)], shrink, size: `${first.width}x${first.height}`, peak: peakRssMiB() }));
}

/** The benchmark's JPEG sources (the others are PNG and WebP, named so), each made or fetched if missing. */
async function jpegInputs(): Promise<{ label: string; path: string }[]> {
  const ids = (Object.keys(INPUTS) as InputId[]).filter((id) => /\.jpe?g$/i.test(INPUTS[id].path));
  for (const id of ids) await ensureInput(id, (l) => console.error(l));
  return ids.map((id) => INPUTS[id]);
}

async function main(): Promise<void> {
  const runs = Number(process.argv[process.argv.indexOf('--runs') + 1]) || 7;
  const inputs = await jpegInputs();
  const self = fileURLToPath(import.meta.url);
  console.log(`| input | decoder | output | first decode ms | median ms | peak RSS MiB |\n| --- | --- | --- | ---: | ---: | ---: |`);
  for (const input of inputs) {
    for (const mode of MODES) {
      const out = execFileSync(process.execPath, ['--import', 'tsx', self, '--child', input.path, mode, String(runs)], { encoding: 'utf8' });
      const r = JSON.parse(out.trim().split('\n').pop()!) as { first: number; median: number; shrink: number; size: string; peak: number; fallback?: true };
      if (r.fallback) {
        console.log(`| ${input.label} | imgpipe jpegdec (${mode}) | not handled: falls back to libjpeg-turbo | | | |`);
        continue;
      }
      const name = mode === 'libjpeg' ? 'libjpeg-turbo 2.1.5 (the fallback, no SIMD)' : `imgpipe jpegdec 1/${r.shrink}${mode === 'own-recipe' ? ' (recipe)' : ''}`;
      console.log(`| ${input.label} | ${name} | ${r.size} | ${r.first.toFixed(0)} | ${r.median.toFixed(0)} | ${r.peak.toFixed(0)} |`);
    }
  }
}

const at = process.argv.indexOf('--child');
if (at >= 0) await child(process.argv[at + 1], process.argv[at + 2] as Mode, Number(process.argv[at + 3]));
else await main();
