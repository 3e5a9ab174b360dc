/**
 * Conversion to sRGB on the kernels module (`wasm/kernels/assembly/srgb.ts`), for pixels whose
 * embedded ICC profile `src/color/icc.ts` turned into an `SrgbConversion`.
 */
import { outOfMemory } from '../wasm/instance.js';
import type { SrgbConversion } from '../color/icc.js';
import { kernel, type KernelExports } from './module.js';

/** sRGB's encoding of linear light at `steps` + 1 evenly spaced points, rounded to bytes. */
let encodeTable: Uint8Array | undefined;

function srgbEncodeTable(steps: number): Uint8Array {
  if (encodeTable?.length === steps + 1) return encodeTable;
  encodeTable = new Uint8Array(steps + 1);
  for (let i = 0; i <= steps; i++) {
    const v = i / steps;
    encodeTable[i] = Math.round((v <= 0.0031308 ? 12.92 * v : 1.055 * v ** (1 / 2.4) - 0.055) * 255);
  }
  return encodeTable;
}

/**
 * Write `c`'s tables into the kernel. They live in the module's static data, which reset() leaves
 * alone, but a call must write them itself: the instance may have been replaced since the last.
 */
export function loadConversion(k: KernelExports, c: SrgbConversion): void {
  const linear = new Float32Array(k.memory.buffer, k.srgbLinear(), 768);
  c.linear.forEach((table, i) => linear.set(table, i * 256));
  const m = c.matrix;
  new Float32Array(k.memory.buffer, k.srgbColumns(), 12).set([m[0], m[3], m[6], 0, m[1], m[4], m[7], 0, m[2], m[5], m[8], 0]);
  const steps = k.SRGB_ENCODE_STEPS.value as number;
  new Uint8Array(k.memory.buffer, k.srgbEncode(), steps + 1).set(srgbEncodeTable(steps));
}

/** Pixels per pass through the kernel's memory: a megabyte, whatever the image. */
const CHUNK_PIXELS = 1 << 18;

/** Bring RGBA pixels to sRGB in place (alpha as it is), a chunk at a time through the kernel. */
export async function convertToSrgb(pixels: Uint8Array | Uint8ClampedArray, c: SrgbConversion): Promise<void> {
  const count = Math.floor(pixels.length / 4);
  const chunk = Math.max(1, Math.min(count, CHUNK_PIXELS));
  try {
    await kernel.use((k) => {
      k.reset();
      const at = k.alloc(chunk * 4);
      loadConversion(k, c);
      for (let i = 0; i < count; i += chunk) {
        const n = Math.min(chunk, count - i);
        const view = new Uint8Array(k.memory.buffer, at, n * 4);
        view.set(pixels.subarray(i * 4, (i + n) * 4));
        k.toSrgb(at, n);
        pixels.set(view, i * 4);
      }
      k.reset();
    }, chunk * 4 + 65536);
  } catch (e) {
    throw outOfMemory(e, `the sRGB conversion of ${count} pixels`);
  }
}
