/**
 * The WebP encoder alone: imgpipe's libwebp module (wasm/libwebp/: libwebp 1.5, SSE2 paths on WASM
 * SIMD, src/codecs/webp.ts) against the @jsquash/webp SIMD build imgpipe used before (libwebp's plain
 * C paths) and native sharp (libwebp with SSE2/SSE4.1), all encoding the same RGBA at quality 80,
 * effort 4: the upload recipe's WebP sizes. Single-threaded: sharp.concurrency(1), sharp.cache(false).
 * Runs are interleaved. The first encode in a fresh process (V8 compiles while it runs) is timed by
 * the benchmark's cold-start row, not here.
 *
 *   npx tsx bench/webpenc.ts [--runs N] [--warmup N] [--quality Q] [--width W]
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import jsquashEncode, { init as initJsquash } from '@jsquash/webp/encode.js';
import '../entries/node.js';
import { encodeWebp } from '../src/codecs/webp.js';
import type { RGBAImage } from '../src/image.js';
import { INPUTS } from './inputs.js';
import { encoderRows, formatTable, interleaved } from './stats.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '21' },
    warmup: { type: 'string', default: '5' },
    quality: { type: 'string', default: '80' },
    width: { type: 'string', default: '1200' },
  },
  strict: true,
});
const runs = Number(values.runs);
const warmup = Number(values.warmup);
const quality = Number(values.quality);

sharp.concurrency(1);
sharp.cache(false);

const { data, info } = await sharp(INPUTS.photo.path).resize(Number(values.width)).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
const image: RGBAImage = { width: info.width, height: info.height, data: new Uint8ClampedArray(data.buffer, data.byteOffset, data.byteLength) };
const require = createRequire(import.meta.url);
await initJsquash(new WebAssembly.Module(readFileSync(require.resolve('@jsquash/webp/codec/enc/webp_enc_simd.wasm'))));

const encoders: Readonly<Record<string, () => Promise<Uint8Array>>> = Object.freeze({
  'imgpipe libwebp (SSE2 on WASM SIMD)': () => encodeWebp(image, { quality, lossless: false }),
  '@jsquash/webp (SIMD build)': async () => new Uint8Array(await jsquashEncode(image as ImageData, { quality, method: 4 })),
  'sharp (native libwebp)': async () => new Uint8Array(await sharp(data, { raw: { width: info.width, height: info.height, channels: 4 } }).webp({ quality }).toBuffer()),
});

const rows = encoderRows(await interleaved(encoders, runs, warmup), Object.keys(encoders)[2]);
console.log(`WebP encode, ${INPUTS.photo.label} resized to ${info.width}x${info.height}, quality ${quality}, effort 4, ${runs} interleaved runs after ${warmup} warm-up, one thread`);
console.log(`Node ${process.version}, sharp ${sharp.versions.sharp} (libvips ${sharp.versions.vips}, libwebp ${sharp.versions.webp ?? '?'})`);
console.log(formatTable(['encoder', 'median ms', 'min ms', 'x sharp', 'bytes', 'same bytes as sharp'], rows));
