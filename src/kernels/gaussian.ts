/**
 * Gaussian blur and unsharp mask on the kernels module's f32x4 SIMD pass (`wasm/kernels/assembly/
 * gaussian.ts`): separable, in premultiplied alpha, edges repeated, the image blurred in place inside
 * the kernel's memory with a ring of 2r + 1 filtered rows. In JavaScript the same passes took 22 s
 * for a 4096x4096 blur,r_50 and about 3 s per sharpen of that image (bench/blur.ts).
 *
 * Every call runs on the kernels module's one instance (`module.ts`).
 */
import { outOfMemory } from '../wasm/instance.js';
import type { RGBAImage } from '../image.js';
import { kernel, type KernelExports } from './module.js';

/** Rows per kernel call, as the resize's: V8's optimised code takes over within the first image. */
const ROWS_PER_STEP = 32;

/** The 2r + 1 normalised weights of a Gaussian of standard deviation `sigma`. */
function gaussianWeights(radius: number, sigma: number): Float32Array {
  const k = new Float32Array(2 * radius + 1);
  let sum = 0;
  for (let i = -radius; i <= radius; i++) sum += k[i + radius] = Math.exp(-(i * i) / (2 * sigma * sigma));
  for (let i = 0; i < k.length; i++) k[i] /= sum;
  return k;
}

/** Linear memory one call needs: the image, the ring of float rows, the padded row, the tables. */
function bytesNeeded(image: RGBAImage, radius: number): number {
  const ring = Math.min(2 * radius + 1, image.height);
  return image.width * image.height * 4 + (ring + 1) * (image.width + 2 * radius) * 16 + 65536;
}

function run(k: KernelExports, image: RGBAImage, weights: Float32Array, amount: number): Uint8ClampedArray {
  k.reset();
  const bytes = image.width * image.height * 4;
  const src = k.alloc(bytes);
  new Uint8Array(k.memory.buffer, src, bytes).set(new Uint8Array(image.data.buffer, image.data.byteOffset, bytes));
  const table = k.alloc(weights.byteLength);
  new Float32Array(k.memory.buffer, table, weights.length).set(weights);
  k.gaussianBegin(src, image.width, image.height, table, (weights.length - 1) / 2, amount);
  while (k.gaussianStep(ROWS_PER_STEP) !== 0);
  const out = new Uint8ClampedArray(k.memory.buffer.slice(src, src + bytes));
  k.reset();
  return out;
}

/**
 * Blur `image` with the Gaussian of `radius` and `sigma`; with `amount` > 0, return the unsharp mask
 * `s + (s - blurred) * amount` instead (colour only, alpha kept). The caller has checked the values.
 */
export async function gaussianRGBA(image: RGBAImage, radius: number, sigma: number, amount = 0): Promise<RGBAImage> {
  const weights = gaussianWeights(radius, sigma);
  try {
    // Nothing awaits inside, so calls can't interleave on the shared memory.
    const data = await kernel.use((k) => run(k, image, weights, amount), bytesNeeded(image, radius));
    return { width: image.width, height: image.height, data };
  } catch (e) {
    throw outOfMemory(e, `the ${amount > 0 ? 'sharpen' : 'blur'} of ${image.width}x${image.height}`);
  }
}
