/**
 * A pool of Node worker threads that run encodes in parallel. WebAssembly codecs are single-threaded,
 * so one recipe run encodes its six variants one after another on one core; with a pool the engine
 * hands each encode to the next free worker while it goes on resizing the next size, and the six
 * encodes spread over the instance's cores (as sharp's libuv threads do). An idle worker also makes a
 * share of the largest size's rows (`decodeHelper`, used by `decodeResized`), shortening the run's
 * critical path: decode and resize, then the largest WebP encode.
 *
 *   const pool = createWorkerPool();              // threads = available cores
 *   const variants = await processUpload(bytes, { key, encoder: pool.encode, decodeHelper: pool.decodeHelper });
 *
 * The workers share the main thread's compiled `WebAssembly.Module`s (V8 shares their machine code),
 * so a worker costs an instance, not a compilation. A worker that dies (a crash, an out-of-memory
 * kill) fails only the task it was running, with a typed INTERNAL error; the next task starts a new
 * worker. Idle workers don't keep the process alive. When every worker is busy, each is sent one
 * x-oss-process transform to start as soon as its running one ends, without waiting for this thread to
 * hear of the end and send the next (`Slot.next`); a worker that comes free first takes such a task
 * over (a task does not wait behind a long one while another worker idles), and a request that leaves
 * cancels it.
 */
import { Worker } from 'node:worker_threads';
import { existsSync } from 'node:fs';
import * as os from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ImgpipeError, describeValue, type ErrorCode } from '../src/errors.js';
import { encode, type EncodeOptions, type Encoder } from '../src/encode.js';
import type { RowHelper, RowTask } from '../src/decode-resized.js';
import type { RGBAImage } from '../src/image.js';
import { FORMATS, isBuiltinFormat, ossOutputFormat, sniffFormat, type OutputFormat } from '../src/formats.js';
import { pluginStaysHere, pluginThreadEntries } from '../src/plugins.js';
import { getWasmModule, EAGER_WASM_NAMES, type WasmName } from '../src/wasm/modules.js';
import type { Operation } from '../src/process/actions.js';
import { transform, type TransformOptions, type TransformResult } from '../src/process/transform.js';
import { watermarkInputs } from '../src/process/watermark-step.js';
import type { PoolReply, PoolTask } from './protocol.js';

export interface WorkerPoolOptions {
  /** Worker threads (1..256). Default: the cores Node reports (`os.availableParallelism()`). */
  readonly threads?: number;
  /**
   * Where the worker script is. Default: `pool-worker.js` beside this module in the built package.
   * Set it when a bundler moved imgpipe into a file of its own (e.g. a single-file FC deployment).
   */
  readonly workerUrl?: URL | string;
}

export interface PoolTransformOptions extends TransformOptions {
  /**
   * The caller gives `bytes` up: when they view the whole of their ArrayBuffer, that buffer is moved
   * to the worker (detached here) instead of copied. Only for bytes nothing else holds (a fresh read).
   * A transform sent to wait behind a busy worker's task is copied all the same (it may yet go to
   * another worker), so the bytes may stay attached.
   */
  readonly transferSource?: boolean;
}

export interface WorkerPoolStats {
  readonly threads: number;
  /** Workers alive now. */
  readonly workers: number;
  readonly busy: number;
  readonly queued: number;
  readonly completed: number;
  /** Workers that exited while running a task. */
  readonly crashed: number;
}

export interface WorkerPool {
  readonly threads: number;
  /** Same contract as `encode()`, run on a worker: pass it as `processUpload`'s `encoder`. */
  readonly encode: Encoder;
  /**
   * Makes a band of a large JPEG's decode and resize on an idle worker: pass it as `processUpload`'s
   * `decodeHelper` and the recipe shares its largest size's decode and resize with the pool.
   */
  readonly decodeHelper: RowHelper;
  /**
   * `transform()` on a worker: the HTTP handlers' runner, so concurrent requests use every core. The
   * watermark images and fonts the chain names are read here first (through `loadObject`, `fonts`) and
   * sent along; `info` alone, answered from the header, stays in the calling thread. A request whose
   * `signal` fires while it waits for a worker leaves the queue.
   */
  transform(bytes: Uint8Array, ops: readonly Operation[], options?: PoolTransformOptions): Promise<TransformResult>;
  stats(): WorkerPoolStats;
  /** Stop every worker; queued and running tasks fail with ABORTED. */
  close(): Promise<void>;
}

/** Most worker threads a pool may have. */
export const MAX_POOL_THREADS = 256;

interface Job {
  task: PoolTask;
  readonly transfer: ArrayBuffer[];
  /** The task in words, for the error when its worker dies. */
  readonly what: string;
  resolve(reply: Extract<PoolReply, { ok: true }>): void;
  reject(e: Error): void;
}

interface Slot {
  readonly worker: Worker;
  job?: Job;
  /**
   * A transform sent while `job` runs, waiting in the worker's port so the worker starts it without a
   * round trip through this thread (under load, waking this thread took a worker 1-3% of its time).
   * Sent without moving its buffers, so it can still be revoked (task.claim) and sent elsewhere.
   */
  next?: Job;
  /** When the worker's running task was sent to it or started behind the one before (performance.now()). */
  since: number;
  /** What the worker threw uncaught (its script failed to load, a bug): said when it exits. */
  error?: Error;
  /** The plug-in modules (`threadEntry`) this worker has been told to import. */
  readonly plugins: Set<string>;
}

/**
 * Whether only this thread can read or write `format`: registrations are per thread, and a plug-in of
 * the caller's own module (no threadEntry) or a format row registered here at run time has no file a
 * worker could import. Its tasks run in the calling thread. (A name that is no format's id goes to a
 * worker, which refuses it as this thread would.)
 */
function staysHere(format: string | undefined): boolean {
  if (format === undefined) return false;
  return Object.prototype.hasOwnProperty.call(FORMATS, format) && (pluginStaysHere(format) || !isBuiltinFormat(format));
}

function defaultThreads(): number {
  // availableParallelism() arrived in Node 18.14; cpus() is the fallback for earlier 18.x.
  return typeof os.availableParallelism === 'function' ? os.availableParallelism() : Math.max(1, os.cpus().length);
}

/** The built worker beside this module, or, when running from source, the package's build. */
function defaultWorkerUrl(): URL {
  const beside = new URL('./pool-worker.js', import.meta.url);
  if (existsSync(fileURLToPath(beside))) return beside;
  const built = new URL('../dist/pool-worker.js', import.meta.url);
  if (existsSync(fileURLToPath(built))) return built;
  throw new ImgpipeError('NOT_FOUND', `Expected the encode worker script at ${fileURLToPath(beside)} or ${fileURLToPath(built)} but neither exists: build imgpipe (npm run build) or pass workerUrl`);
}

/** A URL, a `file:` URL string, or a file path (relative to the working directory). */
function toUrl(u: URL | string): URL {
  if (u instanceof URL) return u;
  return /^[a-z][a-z0-9+.-]*:/i.test(u) && !/^[a-z]:[\\/]/i.test(u) ? new URL(u) : pathToFileURL(resolve(u));
}

export function createWorkerPool(options: WorkerPoolOptions = {}): WorkerPool {
  const threads = options.threads ?? defaultThreads();
  if (!Number.isInteger(threads) || threads < 1 || threads > MAX_POOL_THREADS) {
    throw new ImgpipeError('INVALID_ARGUMENT', `Expected an integer between 1 and ${MAX_POOL_THREADS} for createWorkerPool.threads but received ${describeValue(options.threads)}`);
  }
  const workerUrl = options.workerUrl === undefined ? defaultWorkerUrl() : toUrl(options.workerUrl);
  const slots: Slot[] = [];
  const queue: Job[] = [];
  let nextId = 0;
  let completed = 0;
  let crashed = 0;
  let closed = false;
  let modules: Promise<Record<WasmName, WebAssembly.Module>> | undefined;

  // Compiled once here and cloned into each worker (a Module is cloned by reference to its code); an
  // on-demand module (Little CMS) is not: a worker that needs one loads it itself.
  const compiledModules = () =>
    (modules ??= Promise.all(EAGER_WASM_NAMES.map(async (n) => [n, await getWasmModule(n)] as const)).then(Object.fromEntries));

  function spawn(mods: Record<WasmName, WebAssembly.Module>): Slot {
    const slot: Slot = { worker: new Worker(workerUrl, { workerData: { modules: mods } }), since: 0, plugins: new Set() };
    slot.worker.unref();
    slot.worker.on('message', (reply: PoolReply) => {
      // A revoked task's notice: the task was already answered or sent elsewhere.
      if ('skipped' in reply) return;
      const job = slot.job;
      // The task queued behind it (if not revoked meanwhile) is what the worker runs now.
      slot.job = slot.next;
      slot.next = undefined;
      slot.since = performance.now();
      if (!slot.job) slot.worker.unref();
      if (job) {
        completed++;
        if (reply.ok) job.resolve(reply);
        else job.reject(new ImgpipeError(reply.code as ErrorCode, reply.message, reply.details && { details: { ...reply.details } }));
      }
      pump();
    });
    // 'error' (an uncaught exception in the worker) is always followed by 'exit', which tells the task.
    slot.worker.on('error', (e: Error) => { slot.error = e; });
    slot.worker.on('exit', (code) => {
      slots.splice(slots.indexOf(slot), 1);
      const job = slot.job;
      // A task that waited behind the crashed one and never started goes back to the queue's front.
      const next = slot.next;
      slot.next = undefined;
      if (next && !closed) {
        if (revoke(next)) queue.unshift(next);
        else next.reject(new ImgpipeError('INTERNAL', `Expected the pool worker to finish ${next.what} but it exited with code ${code}`));
      }
      if (job && !closed) {
        crashed++;
        // The worker's own words (a stale or missing build's import error, say) are what says why.
        const why = slot.error ? `: ${slot.error.name}: ${slot.error.message}` : '';
        job.reject(new ImgpipeError('INTERNAL', `Expected the pool worker to finish ${job.what} but it exited with code ${code}${why}`));
      }
      pump();
    });
    slots.push(slot);
    return slot;
  }

  /** Sends `job` to `slot`'s worker: to run now, or (`behind`) to wait there behind the running task. */
  function send(slot: Slot, job: Job, behind: boolean): void {
    if (behind) {
      // Its buffers stay here (a structured copy goes; shared memory is shared), so a revoked task can
      // still be sent to another worker.
      job.task = { ...(job.task as Extract<PoolTask, { kind: 'transform' }>), claim: new Int32Array(new SharedArrayBuffer(4)) };
      slot.next = job;
    } else {
      slot.job = job;
      slot.since = performance.now();
    }
    // A busy worker keeps the process alive until its answer arrives.
    slot.worker.ref();
    // Plug-ins registered here since this worker's last task go with this one (its first: all of them).
    const plugins = pluginThreadEntries().filter((e) => !slot.plugins.has(e));
    for (const e of plugins) slot.plugins.add(e);
    slot.worker.postMessage(plugins.length > 0 ? { ...job.task, plugins } : job.task, behind ? [] : job.transfer);
  }

  /** True when `job` (sent behind a running task) had not started and now never will there. */
  function revoke(job: Job): boolean {
    const claim = job.task.kind === 'transform' ? job.task.claim : undefined;
    if (!claim || Atomics.compareExchange(claim, 0, 0, 2) !== 0) return false;
    job.task = { ...(job.task as Extract<PoolTask, { kind: 'transform' }>), claim: undefined };
    return true;
  }

  function pump(): void {
    if (closed) return;
    for (const free of slots.filter((s) => !s.job)) {
      if (queue.length > 0) {
        send(free, queue.shift()!, false);
        continue;
      }
      // Nothing queued: a task waiting behind another worker's long one runs here instead.
      const owner = slots.find((s) => s.next && revoke(s.next));
      if (!owner) break;
      const job = owner.next!;
      owner.next = undefined;
      send(free, job, false);
    }
    if (queue.length === 0) return;
    if (slots.length >= threads) {
      // Every worker busy: each may hold one x-oss-process transform behind its running task (encodes
      // and row bands, the recipe's, are balanced by this thread as workers come free). The oldest
      // waiting task goes to the worker whose task started first, likely the first to end, so tasks
      // still start about in arrival order (sent behind the later one, a task would wait up to a
      // whole task longer while the other worker went on with newer ones).
      const open = slots.filter((s) => !s.next).sort((a, b) => a.since - b.since);
      for (const s of open) {
        if (queue.length === 0 || queue[0].task.kind !== 'transform') break;
        send(s, queue.shift()!, true);
      }
      return;
    }
    // Module compilation is memoised, so after the first task this resolves at once.
    void compiledModules().then(
      (mods) => {
        if (closed || slots.length >= threads) return;
        spawn(mods);
        pump();
      },
      (e: unknown) => queue.splice(0).forEach((j) => j.reject(e as Error)),
    );
  }

  function submit(task: PoolTask, transfer: ArrayBuffer[], what: string, signal?: AbortSignal): Promise<Extract<PoolReply, { ok: true }>> {
    return new Promise((resolve, reject) => {
      if (closed) {
        reject(new ImgpipeError('ABORTED', 'Expected an open worker pool but createWorkerPool().close() was called'));
        return;
      }
      // Aborted while the watermark inputs were read (transformOnWorker): no abort event will come.
      if (signal?.aborted) {
        reject(new ImgpipeError('ABORTED', `Expected to run ${what} but the request was aborted while it waited for a worker`));
        return;
      }
      const job: Job = { task, transfer, what, resolve, reject };
      queue.push(job);
      // A caller that gave up (a client that left) frees its place in the queue; a running task finishes.
      signal?.addEventListener('abort', () => {
        const at = queue.indexOf(job);
        const owner = at >= 0 ? undefined : slots.find((s) => s.next === job);
        if (at >= 0) queue.splice(at, 1);
        else if (owner && revoke(job)) owner.next = undefined;
        else return;
        reject(new ImgpipeError('ABORTED', `Expected to run ${what} but the request was aborted while it waited for a worker`));
        pump();
      }, { once: true });
      pump();
    });
  }

  const encodeOnWorker: Encoder = async (image: RGBAImage, format: OutputFormat | string, encodeOptions: EncodeOptions = {}) => {
    if (staysHere(String(format))) return encode(image, format, encodeOptions);
    // The caller may reuse the image (JPEG and WebP of the same size), so it is copied, not moved.
    const data = new Uint8ClampedArray(image.data);
    const task: PoolTask = { id: nextId++, kind: 'encode', width: image.width, height: image.height, data, format, options: { ...encodeOptions } };
    return (await submit(task, [data.buffer], `the ${String(format)} encode of a ${image.width}x${image.height} image`)).bytes!;
  };

  const decodeHelper: RowHelper = {
    // Only a worker that is there and free: spawning one, or queueing behind encodes, costs more than sharing saves.
    idle: () => !closed && queue.length === 0 && slots.some((s) => !s.job),
    async run(t: RowTask) {
      const { bytes } = await submit({ id: nextId++, kind: 'rows', rows: t }, [], `rows ${t.from}-${t.to} of the ${t.width}x${t.height} resize of a ${t.header.width}x${t.header.height} JPEG`);
      return bytes ? new Uint8ClampedArray(bytes.buffer, bytes.byteOffset, bytes.byteLength) : undefined;
    },
  };

  async function transformOnWorker(bytes: Uint8Array, ops: readonly Operation[], o: PoolTransformOptions = {}): Promise<TransformResult> {
    if (ops.length === 1 && ops[0].action === 'info') return transform(bytes, ops, o);
    const output = ops.find((op) => op.action === 'format')?.params.value;
    if (staysHere(sniffFormat(bytes)) || (output !== undefined && staysHere(ossOutputFormat(output)))) return transform(bytes, ops, o);
    if (o.signal?.aborted) throw new ImgpipeError('ABORTED', 'Expected to transform the image but the request was aborted');
    const needs = watermarkInputs(ops);
    const objects = await Promise.all(needs.keys.map(async (k) => {
      if (!o.loadObject) return undefined;
      return [k, await o.loadObject(k)] as const;
    }));
    const fonts = await Promise.all(needs.fonts.map(async (f) => [f, o.fonts ? await o.fonts(f) : undefined] as const));
    // Bytes in shared memory (a source cache's kept copy) go as they are: the worker reads them in
    // place, nothing is copied. Otherwise the source's buffer is moved to the worker when the caller
    // gave it up and it is the bytes' alone, and a copy goes when not (the caller's bytes may share a
    // buffer with others, a Buffer pool's slab).
    const shared = typeof SharedArrayBuffer === 'function' && bytes.buffer instanceof SharedArrayBuffer;
    const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer;
    const source = shared || (o.transferSource === true && whole) ? bytes : bytes.slice();
    const sent = objects.filter((e) => e !== undefined).map(([k, b]) => [k, b.slice()] as const);
    const task: PoolTask = {
      id: nextId++, kind: 'transform', bytes: source, ops,
      options: { limits: o.limits, outputLimits: o.outputLimits }, objects: o.loadObject ? sent : undefined, fonts,
    };
    const transfer = [...(shared ? [] : [source.buffer as ArrayBuffer]), ...sent.map(([, b]) => b.buffer)];
    const reply = await submit(task, transfer, `an x-oss-process transform of ${bytes.byteLength} bytes`, o.signal);
    return Object.freeze({ ...reply.result!, bytes: reply.bytes! });
  }

  return Object.freeze({
    threads,
    encode: encodeOnWorker,
    decodeHelper,
    transform: transformOnWorker,
    stats: () => Object.freeze({ threads, workers: slots.length, busy: slots.filter((s) => s.job).length, queued: queue.length + slots.filter((s) => s.next).length, completed, crashed }),
    async close() {
      closed = true;
      const aborted = new ImgpipeError('ABORTED', 'Expected the pool\'s task to finish but its worker pool was closed');
      for (const job of queue.splice(0)) job.reject(aborted);
      for (const s of slots) {
        s.job?.reject(aborted);
        s.next?.reject(aborted);
      }
      await Promise.all(slots.map((s) => s.worker.terminate()));
    },
  });
}
