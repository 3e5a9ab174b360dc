/**
 * The one instance of imgpipe's kernels module (`wasm/kernels/`) that every resize and colour
 * conversion runs on (OwnedInstance). Its linear memory only grows, so an instance that grew past
 * KERNEL_RECYCLE_BYTES is let go of once idle or before a much smaller job (`Retention`): a warm
 * Function Compute instance that once resized a huge image doesn't keep that memory for the rest
 * of its life.
 */
import { ImgpipeError, describeValue } from '../errors.js';
import { OwnedInstance, RECYCLE_BYTES } from '../wasm/instance.js';

/**
 * Default memory above which the kernel instance is discarded after a call (see the module comment).
 * The same threshold as the codecs': at 256 MB a 24-megapixel photo left ~100 MB held for the rest of
 * a warm instance's life (bench/soak.ts); one number keeps every WASM instance to the same rule.
 */
export const KERNEL_RECYCLE_BYTES = RECYCLE_BYTES;
let recycleBytes = KERNEL_RECYCLE_BYTES;

/**
 * Change the recycle threshold, e.g. lower it on a small Function Compute instance. Takes effect
 * from the next call.
 */
export function setKernelRecycleBytes(bytes: number): void {
  if (!Number.isInteger(bytes) || bytes < 1) {
    throw new ImgpipeError('INVALID_ARGUMENT', `Expected a positive integer number of bytes for the kernel recycle threshold but received ${describeValue(bytes)}`);
  }
  recycleBytes = bytes;
}

/** What the kernel module exports (wasm/kernels/assembly/index.ts). */
export interface KernelExports {
  readonly memory: WebAssembly.Memory;
  readonly FLAG_LINEAR: WebAssembly.Global;
  readonly FLAG_ALPHA: WebAssembly.Global;
  alloc(bytes: number): number;
  reset(): void;
  readonly BAND_ROWS: WebAssembly.Global;
  canStream(sw: number, sh: number, dw: number, dh: number, flags: number): number;
  begin(src: number, sw: number, sh: number, dw: number, dh: number, flags: number): void;
  canStreamSideways(sw: number, sh: number, dw: number, dh: number): number;
  beginSideways(sw: number, sh: number, dw: number, dh: number, orientation: number): void;
  step(rows: number): number;
  input(): number;
  window(y0: number, y1: number): number;
  drain(): number;
  feed(rows: number): number;
  result(): number;
  readonly SRGB_ENCODE_STEPS: WebAssembly.Global;
  srgbLinear(): number;
  srgbColumns(): number;
  srgbEncode(): number;
  toSrgb(ptr: number, pixels: number): void;
  gaussianBegin(src: number, width: number, height: number, weights: number, radius: number, amount: number): void;
  gaussianStep(rows: number): number;
  blindBegin(src: number, width: number, height: number, budget: number, floor: number, cap: number): number;
  blindRowsLuma(y0: number, y1: number): void;
  blindRowsMask(y0: number, y1: number): void;
  blindRowsAdd(y0: number, y1: number, gain: number): void;
  blindTotal(): number;
  blindClipped(): number;
  blindCappedEnergy(cap: number): number;
  blindCappedRounded(): number;
  blindSetCap(cap: number): void;
  blindReadBegin(width: number, height: number, maxW: number, maxH: number): void;
  blindResidual(): number;
  blindPixels(): number;
  blindHalf(): number;
  blindLuma(y0: number, y1: number): void;
  blindWhitenBegin(toHalf: number, mean: number, level: number, exponent15: number): void;
  blindWhitenStep(): number;
  blindFolded(): number;
  blindRe(): number;
  blindIm(): number;
  blindFold(c: number, s: number, x0: number, y0: number, w: number, h: number): void;
  blindFft(w: number, h: number, inverse: number): void;
  blindSpectra(): number;
  blindSums(): number;
  blindSyncBegin(): void;
  blindSyncPair(d: number): void;
  blindLattice(src: number, w: number, x0: number, y0: number, cw: number, ch: number, W: number, H: number): void;
}

export const kernel = new OwnedInstance<KernelExports>('kernels', () => recycleBytes);

/** Diagnostics for warm-instance memory: the live instance's memory and how many were created. */
export function kernelStats(): Readonly<{ memoryBytes: number; instancesCreated: number }> {
  return kernel.stats();
}

/** Compile (or find compiled) the kernel module, so that the synchronous calls (`resizeRows`) can run. */
export function loadKernel(): Promise<void> {
  return kernel.load();
}

