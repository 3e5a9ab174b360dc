/**
 * The JPEG encoder alone: imgpipe's baseline encoder (wasm/jpegenc/, src/codecs/jpeg-encode.ts)
 * against the MozJPEG path imgpipe used before (@jsquash/jpeg's encode() with the same options:
 * baseline, optimised Huffman, 4:2:0, and the trellis quantisation its embind options can't turn
 * off) and native sharp, all encoding the same 1200x980 RGB(A) at quality 85, the upload recipe's
 * large JPEG. Single-threaded: sharp.concurrency(1), sharp.cache(false). Runs are interleaved.
 *
 *   npx tsx bench/jpegenc.ts [--runs N] [--warmup N] [--quality Q]
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import mozjpegEncode, { init as initMozjpeg } from '@jsquash/jpeg/encode.js';
import '../entries/node.js';
import { encodeJpeg } from '../src/codecs/jpeg-encode.js';
import type { RGBAImage } from '../src/image.js';
import { INPUTS } from './inputs.js';
import { encoderRows, formatTable, interleaved } from './stats.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '41' },
    warmup: { type: 'string', default: '10' },
    quality: { type: 'string', default: '85' },
  },
  strict: true,
});
const runs = Number(values.runs);
const warmup = Number(values.warmup);
const quality = Number(values.quality);
const WIDTH = 1200;

sharp.concurrency(1);
sharp.cache(false);

const { data: rgb, info } = await sharp(INPUTS.photo.path).resize(WIDTH).removeAlpha().raw().toBuffer({ resolveWithObject: true });
const image: RGBAImage = { width: info.width, height: info.height, data: new Uint8ClampedArray(info.width * info.height * 4) };
for (let i = 0; i < info.width * info.height; i++) {
  image.data.set(rgb.subarray(i * 3, i * 3 + 3), i * 4);
  image.data[i * 4 + 3] = 255;
}
const require = createRequire(import.meta.url);
await initMozjpeg(new WebAssembly.Module(readFileSync(require.resolve('@jsquash/jpeg/codec/enc/mozjpeg_enc.wasm'))));

type Encoder = () => Promise<Uint8Array>;
const encoders: Readonly<Record<string, Encoder>> = Object.freeze({
  'imgpipe jpegenc (WASM SIMD)': () => encodeJpeg(image, { quality, progressive: false }),
  'MozJPEG (@jsquash/jpeg)': async () =>
    new Uint8Array(await mozjpegEncode(image as ImageData, {
      quality, baseline: false, arithmetic: false, progressive: false, optimize_coding: true, smoothing: 0,
      color_space: 3, quant_table: 0, trellis_multipass: false, trellis_opt_zero: false, trellis_opt_table: false,
      trellis_loops: 1, auto_subsample: false, chroma_subsample: 2, separate_chroma_quality: false, chroma_quality: quality,
    })),
  'sharp (native mozjpeg, JCP_FASTEST)': async () =>
    new Uint8Array(await sharp(rgb, { raw: { width: info.width, height: info.height, channels: 3 } }).jpeg({ quality }).toBuffer()),
});

const rows = encoderRows(await interleaved(encoders, runs, warmup), Object.keys(encoders)[2]);
console.log(`JPEG encode, ${INPUTS.photo.label} resized to ${info.width}x${info.height}, quality ${quality}, ${runs} interleaved runs after ${warmup} warm-up, one thread`);
console.log(`Node ${process.version}, sharp ${sharp.versions.sharp} (libvips ${sharp.versions.vips}, mozjpeg ${sharp.versions.mozjpeg ?? '?'})`);
console.log(formatTable(['encoder', 'median ms', 'min ms', 'x sharp', 'bytes', 'same bytes as sharp'], rows));
