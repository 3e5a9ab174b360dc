/** Messages between `createWorkerPool` (pool/index.ts) and its workers (pool/worker.ts). */
import type { EncodeOptions } from '../src/encode.js';
import type { RowTask } from '../src/decode-resized.js';
import type { Limits } from '../src/limits.js';
import type { Operation } from '../src/process/actions.js';
import type { OutputLimits } from '../src/process/limits.js';
import type { TransformResult } from '../src/process/transform.js';
import type { FontBytes } from '../src/text/font.js';

/**
 * An encode, or a band of rows of a JPEG's decode and resize (`decodeResized` shares one with a worker:
 * `decodeHelper`), or a transform. `plugins`: modules the worker imports before it runs this task and
 * every later one, the `threadEntry` of each plug-in the calling thread registered since its last task
 * (a pool worker decodes HEIC when its calling thread does: src/plugins.ts).
 */
export type PoolTask = { readonly plugins?: readonly string[] } & (
  | {
    readonly id: number;
    readonly kind: 'encode';
    readonly width: number;
    readonly height: number;
    readonly data: Uint8ClampedArray;
    readonly format: string;
    readonly options: EncodeOptions;
  }
  | { readonly id: number; readonly kind: 'rows'; readonly rows: RowTask }
  | {
    /** A whole x-oss-process run: decode, the operations, encode (the HTTP handlers' requests). */
    readonly id: number;
    readonly kind: 'transform';
    readonly bytes: Uint8Array;
    readonly ops: readonly Operation[];
    readonly options: { readonly limits?: Partial<Limits>; readonly outputLimits?: Partial<OutputLimits> };
    /** The watermark images and fonts the operations name, read by the calling thread beforehand (no objects: no loader). */
    readonly objects?: readonly (readonly [string, Uint8Array])[];
    readonly fonts: readonly (readonly [string, FontBytes | undefined])[];
    /**
     * Set when the task was sent to a worker still busy with another (queued behind it in the worker's
     * port): a shared cell the worker claims (0 to 1) before starting, or the pool revokes (0 to 2) to
     * cancel the task or run it on a worker that came free first. A revoked task is answered `skipped`.
     */
    readonly claim?: Int32Array;
  });

/**
 * An ImgpipeError crosses the thread boundary as its code, message and details (OSS's Code and EC
 * among them). `result` is a transform's description of its bytes. `bytes` is null only for a
 * band of rows the worker's decoder can't make (the file is left to the fallback decoders).
 */
export type PoolReply =
  | { readonly id: number; readonly skipped: true }
  | { readonly id: number; readonly ok: true; readonly bytes: Uint8Array | null; readonly result?: Omit<TransformResult, 'bytes'> }
  | { readonly id: number; readonly ok: false; readonly code: string; readonly message: string; readonly details?: Readonly<Record<string, unknown>> };
