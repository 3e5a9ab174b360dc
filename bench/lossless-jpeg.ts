/**
 * Lossless JPEG (SOF3) decode speed on a 12 MP file: the standard photo (2725x2225) side by side
 * twice (5450x2225, 12.1 MP), written lossless by test/helpers/lossless-jpeg.ts as 8-bit RGB
 * (predictor 1 and predictor 7) and as 16-bit grey (its luma times 257). imgpipe's `decode` against
 * sharp's decode to raw RGBA (libjpeg-turbo 3 lossless; sharp refuses 16-bit), alternating, median
 * of the runs after one warm-up each, in wall time and in the process's CPU time (user + system,
 * sharp's worker thread included: less sensitive to a loaded machine); the two decodes' pixels are
 * compared once.
 *
 *   nice -n 10 npx tsx bench/lossless-jpeg.ts [--runs 5]
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { decode } from '../entries/node.js';
import { encodeLosslessJpeg } from '../test/helpers/lossless-jpeg.js';
import { FIXTURES_DIR } from './inputs.js';

sharp.cache(false);
sharp.concurrency(1);

const runsArg = process.argv.indexOf('--runs');
const RUNS = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 5;

const photo = await decode(new Uint8Array(readFileSync(join(FIXTURES_DIR, 'images/2569067123_aca715a2ee_o.jpg'))));
const width = photo.width * 2, height = photo.height;
const rgb = [0, 1, 2].map(() => new Uint16Array(width * height));
const grey = new Uint16Array(width * height);
for (let y = 0; y < height; y++) {
  for (let x = 0; x < width; x++) {
    const s = (y * photo.width + (x % photo.width)) * 4, i = y * width + x;
    for (let c = 0; c < 3; c++) rgb[c][i] = photo.data[s + c];
    grey[i] = Math.round(0.299 * photo.data[s] + 0.587 * photo.data[s + 1] + 0.114 * photo.data[s + 2]) * 257;
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

async function time(fn: () => Promise<unknown>): Promise<[number, number]> {
  const t = performance.now(), c = process.cpuUsage();
  await fn();
  const used = process.cpuUsage(c);
  return [performance.now() - t, (used.user + used.system) / 1000];
}

const files = [
  { label: `8-bit RGB, predictor 1`, bytes: encodeLosslessJpeg({ width, height, precision: 8, planes: rgb, predictor: 1 }), sharp: true },
  { label: `8-bit RGB, predictor 7`, bytes: encodeLosslessJpeg({ width, height, precision: 8, planes: rgb, predictor: 7 }), sharp: true },
  { label: `16-bit grey, predictor 1`, bytes: encodeLosslessJpeg({ width, height, precision: 16, planes: [grey], predictor: 1 }), sharp: false },
];

console.log(`lossless JPEG decode, ${width}x${height} (${((width * height) / 1e6).toFixed(1)} MP), median of ${RUNS} runs after a warm-up`);
for (const f of files) {
  const ours: [number, number][] = [], theirs: [number, number][] = [];
  const sharpDecode = () => sharp(f.bytes, { limitInputPixels: false }).ensureAlpha().raw().toBuffer();
  const mine = await decode(f.bytes, { limits: { maxPixels: 1e9 } });
  let same = 'sharp refuses';
  if (f.sharp) {
    const ref = await sharpDecode();
    same = Buffer.compare(ref, Buffer.from(mine.data.buffer, mine.data.byteOffset, mine.data.byteLength)) === 0 ? 'same pixels as sharp' : 'PIXELS DIFFER from sharp';
  }
  for (let r = 0; r < RUNS; r++) {
    ours.push(await time(() => decode(f.bytes, { limits: { maxPixels: 1e9 } })));
    if (f.sharp) theirs.push(await time(sharpDecode));
  }
  for (const [k, what] of [[0, 'wall'], [1, 'CPU']] as const) {
    const o = median(ours.map((r) => r[k]));
    const t = f.sharp ? median(theirs.map((r) => r[k])) : undefined;
    console.log(`${f.label}: ${(f.bytes.length / 1e6).toFixed(1)} MB; ${what}: imgpipe ${o.toFixed(0)} ms` +
      (t === undefined ? '' : `, sharp ${t.toFixed(0)} ms (imgpipe/sharp ${(o / t).toFixed(2)}x)`) + `; ${same}`);
  }
}
