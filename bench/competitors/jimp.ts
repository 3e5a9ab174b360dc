/**
 * jimp: pure JavaScript. It has no WebP encoder and no Lanczos filter, so it only runs the
 * JPEG-to-JPEG transform, with its closest filter (bicubic) and its only JPEG encoder (jpeg-js:
 * baseline, standard Huffman tables, 4:4:4 — not sharp's settings; the bytes column shows the cost).
 */
import { createRequire } from 'node:module';
import type { Workload } from '../workloads.js';
import type { BenchOutput, Competitor, PreparedRun } from './types.js';

const require = createRequire(import.meta.url);

export const jimp: Competitor = {
  id: 'jimp',
  label: 'jimp',
  cannot(workload: Workload) {
    if (workload.outputs.some((o) => o.format === 'webp')) return 'no WebP encoder in jimp';
    if (workload.outputs.some((o) => o.format !== 'jpeg')) return 'only JPEG outputs are run for jimp';
    if (workload.outputs.some((o) => o.watermark)) return 'watermark not done for jimp (bitmap fonts only)';
    return undefined;
  },
  async prepare(): Promise<PreparedRun> {
    // Imported here, not at the top: each child process loads only the library it benchmarks.
    const { Jimp, ResizeStrategy } = await import('jimp');
    const { version } = require('jimp/package.json') as { version: string };
    return {
      settings: `jimp ${version}; pure JS, one thread; resize bicubic; jpeg-js encoder (baseline, standard Huffman tables, 4:4:4); EXIF auto-rotate on read`,
      async run(input, outputs): Promise<BenchOutput[]> {
        const results: BenchOutput[] = [];
        for (const spec of outputs) {
          // jimp resizes in place, so each output starts from a fresh decode.
          const image = await Jimp.read(Buffer.from(input.buffer, input.byteOffset, input.byteLength));
          if (image.width > spec.width) image.resize({ w: spec.width, mode: ResizeStrategy.BICUBIC });
          const bytes = await image.getBuffer('image/jpeg', { quality: spec.quality });
          results.push({ name: spec.name, bytes: new Uint8Array(bytes), width: image.width, height: image.height });
        }
        return results;
      },
    };
  },
};
