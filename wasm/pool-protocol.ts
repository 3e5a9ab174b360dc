/** Messages between `createWorkerPool` (wasm/pool.ts) and its workers (wasm/pool-worker.ts). */
import type { EncodeOptions } from '../src/encode.js';
import type { RowTask } from '../src/decode.js';

/** An encode, or a band of rows of a JPEG's decode and resize (`decodeResized` shares one with a worker). */
export type PoolTask =
  | {
    readonly id: number;
    readonly kind: 'encode';
    readonly width: number;
    readonly height: number;
    readonly data: Uint8ClampedArray;
    readonly format: string;
    readonly options: EncodeOptions;
  }
  | { readonly id: number; readonly kind: 'rows'; readonly rows: RowTask };

/**
 * An ImgpipeError crosses the thread boundary as its code and message. `bytes` is null only for a
 * band of rows the worker's decoder can't make (the file is left to the fallback decoders).
 */
export type PoolReply =
  | { readonly id: number; readonly ok: true; readonly bytes: Uint8Array | null }
  | { readonly id: number; readonly ok: false; readonly code: string; readonly message: string };
