/**
 * wasm-vips: libvips compiled to WebAssembly with Emscripten (pthreads). Its fastest path is
 * `thumbnailBuffer`, which shrinks on load like sharp's per-variant pipeline, so that is what runs.
 */
import type Vips from 'wasm-vips';
import type { Workload } from '../workloads.js';
import type { BenchOutput, Competitor, PreparedRun, ThreadMode } from './types.js';

type VipsModule = Awaited<ReturnType<typeof Vips>>;

// sharp's defaults, spelled in libvips' names (see competitors/sharp.ts).
const JPEG_SAVE = Object.freeze({ optimize_coding: true, interlace: false, subsample_mode: 'on', trellis_quant: false, overshoot_deringing: false, optimize_scans: false, keep: 'none' });
const WEBP_SAVE = Object.freeze({ effort: 4, keep: 'none' });
// libvips' largest coordinate: "no height limit", so the width alone decides (thumbnail's height defaults to the width).
const NO_HEIGHT_LIMIT = 10_000_000;

let vipsPromise: Promise<VipsModule> | undefined;

export const wasmVips: Competitor = {
  id: 'wasm-vips',
  label: 'wasm-vips',
  cannot(workload: Workload) {
    return workload.outputs.some((o) => o.watermark) ? 'watermark not done: wasm-vips is built without text rendering (no Pango)' : undefined;
  },
  async prepare(threads: ThreadMode): Promise<PreparedRun> {
    // Imported here, not at the top: each child process loads only the library it benchmarks.
    vipsPromise ??= import('wasm-vips').then((m) => m.default());
    const vips = await vipsPromise;
    vips.Cache.max(0);
    if (threads === 'single') vips.concurrency(1);
    return {
      settings: [
        `wasm-vips ${vips.version()} (emscripten ${vips.emscriptenVersion()})`,
        'thumbnailBuffer per variant (shrink-on-load, lanczos3, auto-rotate)',
        `vips threads ${vips.concurrency()}, outputs one after another, cache off`,
        `jpeg ${JSON.stringify(JPEG_SAVE)}; webp ${JSON.stringify(WEBP_SAVE)}`,
      ].join('; '),
      async run(input, outputs): Promise<BenchOutput[]> {
        const results: BenchOutput[] = [];
        for (const spec of outputs) {
          const image = vips.Image.thumbnailBuffer(input, spec.width, { height: NO_HEIGHT_LIMIT, size: 'down' });
          try {
            const bytes =
              spec.format === 'png' ? image.writeToBuffer('.png', { keep: 'none' })
                : spec.format === 'jpeg'
                  ? image.writeToBuffer('.jpg', { Q: spec.quality, ...JPEG_SAVE, background: [255, 255, 255] }) // transparency onto white, as imgpipe and OSS
                  : image.writeToBuffer('.webp', { Q: spec.quality, ...WEBP_SAVE });
            results.push({ name: spec.name, bytes: bytes.slice(), width: image.width, height: image.height });
          } finally {
            // Embind objects live on the WASM heap until deleted; the GC never frees them.
            image.delete();
          }
        }
        return results;
      },
    };
  },
};
