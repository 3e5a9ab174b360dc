/**
 * The AVIF plug-in's encoder (imgpipe/avif: libavif 1.0 + libaom 3.7 from @jsquash/avif, one thread)
 * against sharp's AVIF (libvips -> libheif -> libaom, native) at its default effort, on the same
 * 1200 px variant of the benchmark photo, in the same run:
 *   1. speed 6..10 at quality 50: encode time, bytes, SSIM (why the plug-in's default speed is 9);
 *   2. quality 50/70/90 on sharp's scale: imgpipe (its default speed) against sharp, time, bytes, SSIM;
 *   3. with --fit, libavif quality 40..95 -> bytes, the data behind QUALITY_MAP in src/codecs/avif.ts
 *      (which libavif quality makes sharp's bytes at its q 50/70/90).
 * SSIM: bench/ssim.ts (luma, 11x11 Gaussian) of each file decoded by sharp, against the 1200 px input.
 * sharp runs with sharp.concurrency(1), so both sides have one thread. Wall time and CPU time (the
 * process's user + system time over the call) are both shown: on a loaded machine CPU time is the
 * steadier figure.
 *
 *   npx tsx bench/avif.ts [--runs N] [--fit]
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { decode, resize } from '../entries/node.js';
import { AVIF_SPEED, avifQuality, createAvifPlugin, encoderOptions } from '../src/codecs/avif.js';
import { INPUTS } from './inputs.js';
import { ssim } from './ssim.js';
import { formatTable, summarize } from './stats.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '3' }, fit: { type: 'boolean', default: false } }, strict: true });
const runs = Number(values.runs);
sharp.concurrency(1);

const require = createRequire(import.meta.url);
const decoderBytes = readFileSync(require.resolve('@jsquash/avif/codec/dec/avif_dec.wasm'));
const encoderBytes = readFileSync(require.resolve('@jsquash/avif/codec/enc/avif_enc.wasm'));

const source = await resize(await decode(readFileSync(INPUTS.photo.path)), { width: 1200 });
const raw = Buffer.from(source.data.buffer, source.data.byteOffset, source.data.byteLength);
const rawInfo = { raw: { width: source.width, height: source.height, channels: 4 as const } };

async function score(file: Uint8Array): Promise<number> {
  const { data, info } = await sharp(file).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  return ssim({ ...source, channels: 4 }, { width: info.width, height: info.height, channels: 4, data });
}

interface Timing { ms: number[]; cpu: number[]; bytes: Uint8Array }

async function once(fn: () => Promise<Uint8Array>, into: Timing): Promise<void> {
  const t = performance.now(), c = process.cpuUsage();
  into.bytes = await fn();
  const used = process.cpuUsage(c);
  into.ms.push(performance.now() - t);
  into.cpu.push((used.user + used.system) / 1000);
}

async function timed(fn: () => Promise<Uint8Array>): Promise<Timing> {
  const into: Timing = { ms: [], cpu: [], bytes: new Uint8Array() };
  for (let i = 0; i < runs; i++) await once(fn, into);
  return into;
}

const median = (ms: number[]) => summarize(ms).median;
console.log(`AVIF encode of ${INPUTS.photo.label} resized to ${source.width}x${source.height}; one thread each; median of ${runs} runs after a warm-up; Node ${process.version}`);

// 1. Speeds, interleaved round by round so load changes fall on each alike.
const speeds = [6, 7, 8, 9, 10];
const plugins = new Map(speeds.map((s) => [s, createAvifPlugin({ decoder: decoderBytes, encoder: encoderBytes, speed: s })]));
for (const p of plugins.values()) await p.encode!(source, { quality: 50, lossless: false });
const bySpeed = new Map<number, Timing>(speeds.map((s) => [s, { ms: [], cpu: [], bytes: new Uint8Array() }]));
for (let i = 0; i < runs; i++) {
  for (const s of speeds) await once(() => plugins.get(s)!.encode!(source, { quality: 50, lossless: false }), bySpeed.get(s)!);
}
const ref = median(bySpeed.get(AVIF_SPEED)!.cpu);
const speedRows: string[][] = [];
for (const s of speeds) {
  const r = bySpeed.get(s)!;
  speedRows.push([String(s) + (s === AVIF_SPEED ? ' (default)' : ''), median(r.ms).toFixed(0), median(r.cpu).toFixed(0), (median(r.cpu) / ref).toFixed(2), String(r.bytes.byteLength), (await score(r.bytes)).toFixed(4)]);
}
console.log(`\n1. imgpipe speed 6..10 at quality 50 (libavif quality ${avifQuality(50)}), 4:2:0\n`);
console.log(formatTable(['speed', 'wall ms', 'CPU ms', 'CPU x default', 'bytes', 'SSIM'], speedRows));

// 2. imgpipe (default speed) against sharp (default effort 4, 4:4:4) at sharp's quality 50/70/90.
const ours = plugins.get(AVIF_SPEED)!;
const rows: string[][] = [];
for (const quality of [50, 70, 90]) {
  const theirsFn = async () => new Uint8Array(await sharp(raw, rawInfo).avif({ quality }).toBuffer());
  const oursFn = () => ours.encode!(source, { quality, lossless: false });
  await theirsFn();
  const a = await timed(oursFn), b = await timed(theirsFn);
  rows.push([`imgpipe q${quality} (libavif ${avifQuality(quality)}, speed ${AVIF_SPEED}, 4:2:0)`, median(a.ms).toFixed(0), median(a.cpu).toFixed(0), (median(a.cpu) / median(b.cpu)).toFixed(2), String(a.bytes.byteLength), (await score(a.bytes)).toFixed(4)]);
  rows.push([`sharp q${quality} (effort 4, 4:4:4)`, median(b.ms).toFixed(0), median(b.cpu).toFixed(0), '1.00', String(b.bytes.byteLength), (await score(b.bytes)).toFixed(4)]);
}
console.log('\n2. imgpipe against sharp at the same quality\n');
console.log(formatTable(['encoder', 'wall ms', 'CPU ms', 'CPU x sharp', 'bytes', 'SSIM'], rows));

// 3. The quality map's data: libavif quality -> bytes at the default speed, beside sharp's bytes.
if (values.fit) {
  const enc = (await import('@jsquash/avif/codec/enc/avif_enc.js')).default;
  const compiled = await WebAssembly.compile(encoderBytes);
  const module = (await enc({
    noInitialRun: true,
    instantiateWasm: (imports: WebAssembly.Imports, done: (i: WebAssembly.Instance) => void) => { const i = new WebAssembly.Instance(compiled, imports); done(i); return i.exports; },
  } as never)) as unknown as { encode(d: Uint8Array, w: number, h: number, o: object): Uint8Array };
  const fit: string[][] = [];
  for (const q of [40, 45, 50, 53, 55, 60, 65, 70, 75, 80, 85, 90, 91, 92, 95]) {
    const out = module.encode(new Uint8Array(raw), source.width, source.height, encoderOptions(q, false));
    fit.push([String(q), String(out.byteLength), (await score(out)).toFixed(4)]);
  }
  for (const quality of [50, 70, 90]) fit.push([`sharp q${quality}`, String((await sharp(raw, rawInfo).avif({ quality }).toBuffer()).byteLength), '']);
  console.log(`\n3. libavif quality -> bytes at speed ${AVIF_SPEED} (QUALITY_MAP's data)\n`);
  console.log(formatTable(['libavif quality', 'bytes', 'SSIM'], fit));
}
