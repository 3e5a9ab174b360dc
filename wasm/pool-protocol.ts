/** Messages between `createWorkerPool` (wasm/pool.ts) and its workers (wasm/pool-worker.ts). */
import type { EncodeOptions } from '../src/encode.js';

export interface PoolTask {
  readonly id: number;
  readonly width: number;
  readonly height: number;
  readonly data: Uint8ClampedArray;
  readonly format: string;
  readonly options: EncodeOptions;
}

/** An ImgpipeError crosses the thread boundary as its code and message. */
export type PoolReply =
  | { readonly id: number; readonly ok: true; readonly bytes: Uint8Array }
  | { readonly id: number; readonly ok: false; readonly code: string; readonly message: string };
