/**
 * The resize kernel alone: imgpipe's WASM-SIMD Lanczos3 (src/kernels/lanczos.ts) against the
 * packaged @jsquash/resize Lanczos3 (premultiplied, as imgpipe used it before) and native sharp, all
 * resizing the same decoded RGBA (sharp raw input, so no shrink-on-load) of the benchmark photo to
 * the upload recipe's widths. Single-threaded: sharp.concurrency(1), sharp.cache(false).
 * Quality is SSIM (bench/ssim.ts) of each output against sharp's.
 *
 *   npx tsx bench/kernel.ts [--runs N] [--warmup N] [--linear]
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import initJsquashResize, { resize as jsquashResize } from '@jsquash/resize/lib/resize/pkg/squoosh_resize.js';
import '../entries/node.js';
import { resizeRGBA } from '../src/kernels/lanczos.js';
import type { RGBAImage } from '../src/image.js';
import { INPUTS } from './inputs.js';
import { ssim } from './ssim.js';
import { formatTable, summarize, type Summary } from './stats.js';

const WIDTHS = Object.freeze([1200, 600, 150]);
/** Lanczos3 in @jsquash/resize's method table. */
const JSQUASH_LANCZOS3 = 3;

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '15' },
    warmup: { type: 'string', default: '3' },
    linear: { type: 'boolean', default: false },
  },
  strict: true,
});
const runs = Number(values.runs);
const warmup = Number(values.warmup);
const linear = values.linear === true;

sharp.concurrency(1);
sharp.cache(false);

type Resizer = (image: RGBAImage, width: number, height: number) => Promise<RGBAImage>;

const competitors: Readonly<Record<string, Resizer>> = Object.freeze({
  'imgpipe kernel': (image, width, height) => resizeRGBA(image, width, height, { linear }),
  '@jsquash/resize': async (image, width, height) => {
    const input = new Uint8Array(image.data.buffer, image.data.byteOffset, image.data.byteLength);
    const data = jsquashResize(input, image.width, image.height, width, height, JSQUASH_LANCZOS3, true, linear);
    return { width, height, data };
  },
  sharp: async (image, width, height) => {
    const input = Buffer.from(image.data.buffer, image.data.byteOffset, image.data.byteLength);
    let s = sharp(input, { raw: { width: image.width, height: image.height, channels: 4 } });
    // sharp's closest equivalent of linear-light resampling (a 2.2 power curve, not the sRGB curve).
    if (linear) s = s.gamma();
    const { data } = await s.resize(width, height, { kernel: 'lanczos3', fit: 'fill' }).raw().toBuffer({ resolveWithObject: true });
    return { width, height, data: new Uint8ClampedArray(data.buffer, data.byteOffset, data.byteLength) };
  },
});

/**
 * Time every competitor on one resize, taking turns run by run so that a burst of load from other
 * processes on the machine falls on all of them alike rather than on whoever ran during it.
 */
async function timeAll(image: RGBAImage, width: number, height: number): Promise<Map<string, { summary: Summary; output: RGBAImage }>> {
  const names = Object.keys(competitors);
  const outputs = new Map<string, RGBAImage>();
  const samples = new Map<string, number[]>(names.map((n) => [n, []]));
  for (let i = 0; i < warmup + runs; i++) {
    for (const name of names) {
      const t0 = performance.now();
      outputs.set(name, await competitors[name](image, width, height));
      if (i >= warmup) samples.get(name)!.push(performance.now() - t0);
    }
  }
  return new Map(names.map((n) => [n, { summary: summarize(samples.get(n)!), output: outputs.get(n)! }]));
}

const { data, info } = await sharp(INPUTS.photo.path).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
const photo: RGBAImage = { width: info.width, height: info.height, data: new Uint8ClampedArray(data.buffer, data.byteOffset, data.byteLength) };
// imgpipe no longer ships the squoosh resize module, so load it straight from the dependency.
await initJsquashResize(readFileSync(createRequire(import.meta.url).resolve('@jsquash/resize/lib/resize/pkg/squoosh_resize_bg.wasm')));

const rows: string[][] = [];
for (const width of WIDTHS) {
  const height = Math.round((photo.height * width) / photo.width);
  const results = await timeAll(photo, width, height);
  const reference = results.get('sharp')!;
  for (const [name, r] of results) {
    rows.push([
      `${photo.width}x${photo.height} -> ${width}x${height}`,
      name,
      r.summary.median.toFixed(1),
      r.summary.min.toFixed(1),
      (r.summary.median / reference.summary.median).toFixed(2),
      name === 'sharp' ? '1 (reference)' : ssim({ ...reference.output, channels: 4 }, { ...r.output, channels: 4 }).toFixed(4),
    ]);
  }
}
console.log(`Resize kernel, ${INPUTS.photo.label}, ${linear ? 'linear light' : 'gamma space'}, RGBA in memory, ${runs} interleaved runs after ${warmup} warm-up, one thread`);
console.log(`Node ${process.version}, sharp ${sharp.versions.sharp} (libvips ${sharp.versions.vips}), concurrency 1, cache off; @jsquash/resize lanczos3 with premultiply`);
console.log(formatTable(['resize', 'implementation', 'median ms', 'min ms', 'x sharp', 'SSIM vs sharp'], rows));
