/**
 * sharp, native (libvips prebuilt) and WebAssembly (@img/sharp-wasm32): the same API and the same
 * code here, so the only difference between the two rows is the binary underneath.
 *
 * Encoder settings are sharp's defaults written out, and the ones imgpipe must match: JPEG baseline,
 * 4:2:0, optimised Huffman tables, no trellis, no mozjpeg scan optimisation; WebP effort 4.
 */
import Module, { createRequire } from 'node:module';
import type SharpDefault from 'sharp';
import type { OutputSpec } from '../workloads.js';
import { WATERMARK, type BenchOutput, type Competitor, type PreparedRun, type ThreadMode } from './types.js';

type Sharp = typeof SharpDefault;
type SharpInstance = ReturnType<Sharp>;
/**
 * - per-variant: every output decodes the file again (shrink-on-load to that output's size);
 * - decode-once: one full-size decode, every size resized from it;
 * - cascade: what an expert writes and what imgpipe's recipe does: one shrink-on-load decode straight
 *   to the largest size, each smaller size resized from the size above, every output encoded from
 *   those raw pixels.
 */
type Strategy = 'per-variant' | 'decode-once' | 'cascade';

const require = createRequire(import.meta.url);

export const JPEG_OPTIONS = Object.freeze({
  progressive: false,
  chromaSubsampling: '4:2:0',
  optimiseCoding: true,
  trellisQuantisation: false,
  overshootDeringing: false,
  optimiseScans: false,
  mozjpeg: false,
});
export const WEBP_OPTIONS = Object.freeze({ effort: 4 });

async function loadNative(): Promise<Sharp> {
  return (await import('sharp')).default;
}

/**
 * sharp picks its native binding first and only falls back to @img/sharp-wasm32 when none loads.
 * Refusing the native bindings' module names in this (child) process makes it take the WASM one,
 * exactly as it would on a platform without a prebuilt binary.
 */
function loadWasm32(): Sharp {
  const mod = Module as unknown as { _resolveFilename: (request: string, ...rest: unknown[]) => string };
  const original = mod._resolveFilename;
  mod._resolveFilename = function (request: string, ...rest: unknown[]): string {
    if (/^@img\/sharp-(?!wasm32)[a-z0-9-]+\/sharp\.node$/.test(request) || /build\/Release\/sharp-/.test(request)) {
      throw Object.assign(new Error(`native sharp binding refused for the wasm32 run: ${request}`), { code: 'MODULE_NOT_FOUND' });
    }
    return original.call(this, request, ...rest);
  };
  const sharp = require('sharp') as Sharp;
  // sharp reports the runtime it loaded; make sure it really is the WebAssembly build.
  if (!('emscripten' in sharp.versions)) throw new Error('sharp loaded a native binding instead of @img/sharp-wasm32');
  return sharp;
}

function encode(pipeline: SharpInstance, spec: OutputSpec): SharpInstance {
  if (spec.format === 'png') return pipeline.png();
  // A JPEG has no alpha: imgpipe fills transparency with white, as OSS does when it writes jpg, so
  // sharp is asked for the same picture (left alone, libvips drops the alpha band and shows the
  // colour under it, black in most graphics). On an opaque source flatten does nothing.
  return spec.format === 'jpeg'
    ? pipeline.flatten({ background: '#ffffff' }).jpeg({ quality: spec.quality, ...JPEG_OPTIONS })
    : pipeline.webp({ quality: spec.quality, ...WEBP_OPTIONS });
}

/** A text overlay for an output `width` px wide, rendered by sharp's own (Pango) text input. */
async function watermarkOverlay(sharp: Sharp, width: number): Promise<Buffer> {
  const px = Math.max(WATERMARK.minSize, Math.round(width / WATERMARK.sizeDivisor));
  const alpha = `${Math.round(WATERMARK.opacity * 100)}%`;
  return sharp({
    text: { text: `<span foreground="white" alpha="${alpha}">${WATERMARK.text}</span>`, font: `sans ${px}px`, rgba: true, dpi: 72 },
  })
    .png({ compressionLevel: 0 })
    .toBuffer();
}

async function finish(sharp: Sharp, pipeline: SharpInstance, spec: OutputSpec): Promise<BenchOutput> {
  let p = pipeline.resize({ width: spec.width, kernel: 'lanczos3', withoutEnlargement: true });
  if (spec.watermark) {
    // Resize first into a buffer: sharp composites onto the input size otherwise.
    const { data, info } = await p.raw().toBuffer({ resolveWithObject: true });
    const overlay = await watermarkOverlay(sharp, info.width);
    const margin = WATERMARK.margin;
    const meta = await sharp(overlay).metadata();
    p = sharp(data, { raw: { width: info.width, height: info.height, channels: info.channels } }).composite([
      { input: overlay, left: info.width - (meta.width ?? 0) - margin, top: info.height - (meta.height ?? 0) - margin },
    ]);
  }
  const { data, info } = await encode(p, spec).toBuffer({ resolveWithObject: true });
  // A copy, not a view: @img/sharp-wasm32's buffers can be views of its WebAssembly heap, which its
  // next operations reuse, so a recipe's earlier outputs read back as zeros when they are written out
  // (the RGBA graphic's one-thread recipe did; its SSIM step then failed on a file of zeros).
  return { name: spec.name, bytes: new Uint8Array(data), width: info.width, height: info.height };
}

async function runAll(specs: readonly OutputSpec[], parallel: boolean, one: (s: OutputSpec) => Promise<BenchOutput>): Promise<BenchOutput[]> {
  if (parallel) return Promise.all(specs.map(one));
  const out: BenchOutput[] = [];
  for (const s of specs) out.push(await one(s));
  return out;
}

/** The cascade: sizes largest first, each from the raw pixels of the one above; encodes from raw. */
async function cascade(sharp: Sharp, input: Uint8Array, outputs: readonly OutputSpec[], parallel: boolean): Promise<BenchOutput[]> {
  const widths = [...new Set(outputs.map((o) => o.width))].sort((a, b) => b - a);
  const done = new Map<OutputSpec, Promise<BenchOutput>>();
  let previous: { data: Buffer; info: { width: number; height: number; channels: 1 | 2 | 3 | 4 } } | undefined;
  for (const width of widths) {
    const source = previous ? sharp(previous.data, { raw: previous.info }) : sharp(input).autoOrient();
    const { data, info } = await source.resize({ width, kernel: 'lanczos3', withoutEnlargement: true }).raw().toBuffer({ resolveWithObject: true });
    previous = { data, info: { width: info.width, height: info.height, channels: info.channels } };
    const raw = previous;
    for (const spec of outputs.filter((o) => o.width === width)) {
      const out = finish(sharp, sharp(raw.data, { raw: raw.info }), spec);
      // One thread: each encode before the next size; all cores: encodes run while the cascade goes on.
      // Settled by the Promise.all below; until then a failure must not count as unhandled.
      out.catch(() => undefined);
      if (!parallel) await out;
      done.set(spec, out);
    }
  }
  return Promise.all(outputs.map((o) => done.get(o)!));
}

function describe(sharp: Sharp, strategy: Strategy, parallel: boolean): string {
  const v = sharp.versions as Record<string, string | undefined>;
  return [
    `sharp ${v.sharp} / libvips ${v.vips}${v.emscripten ? ` (wasm32, emscripten ${v.emscripten})` : ' (native)'}`,
    strategy === 'per-variant' ? 'per-variant from the file (shrink-on-load)'
      : strategy === 'cascade' ? 'cascade: shrink-on-load to the largest size, each smaller size from the one above, encodes from raw'
        : 'decode once to raw, resize each variant from it',
    `libvips threads ${sharp.concurrency()}${parallel ? " (sharp's default; 1 on glibc Linux without jemalloc)" : ''}, outputs ${parallel ? 'in parallel' : 'one after another'}, UV_THREADPOOL_SIZE=${process.env.UV_THREADPOOL_SIZE ?? 'default(4)'}`,
    `cache off; jpeg ${JSON.stringify(JPEG_OPTIONS)}; webp ${JSON.stringify(WEBP_OPTIONS)}; lanczos3; autoOrient`,
  ].join('; ');
}

function sharpCompetitor(id: string, label: string, load: () => Sharp | Promise<Sharp>, strategy: Strategy): Competitor {
  return {
    id,
    label,
    async prepare(threads: ThreadMode): Promise<PreparedRun> {
      const sharp = await load();
      sharp.cache(false);
      if (threads === 'single') sharp.concurrency(1);
      const parallel = threads !== 'single';
      return {
        settings: describe(sharp, strategy, parallel),
        async run(input, outputs) {
          if (strategy === 'per-variant') {
            return runAll(outputs, parallel, (s) => finish(sharp, sharp(input).autoOrient(), s));
          }
          if (strategy === 'cascade') return cascade(sharp, input, outputs, parallel);
          const { data, info } = await sharp(input).autoOrient().raw().toBuffer({ resolveWithObject: true });
          const raw = { width: info.width, height: info.height, channels: info.channels };
          return runAll(outputs, parallel, (s) => finish(sharp, sharp(data, { raw }), s));
        },
      };
    },
  };
}

export const sharpPerVariant = sharpCompetitor('sharp', 'sharp (native, per-variant)', loadNative, 'per-variant');
export const sharpDecodeOnce = sharpCompetitor('sharp-decode-once', 'sharp (native, decode once)', loadNative, 'decode-once');
export const sharpCascade = sharpCompetitor('sharp-cascade', 'sharp (native, cascade)', loadNative, 'cascade');
export const sharpWasm32 = sharpCompetitor('sharp-wasm32', '@img/sharp-wasm32', loadWasm32, 'per-variant');
