/**
 * The task loop of a `createWorkerPool` worker (pool/index.ts): receives the main thread's compiled
 * WebAssembly modules once and imports the plug-ins the calling thread has (as tasks name them), then
 * answers tasks one at a time: encodes, bands of a JPEG's decode
 * and resize (`runRowTask`, for `decodeHelper`), and whole x-oss-process transforms. Errors go back as code and message; anything that is not an
 * ImgpipeError is a bug and goes back as INTERNAL.
 *
 * `pool-worker.js` runs it; a single-file bundle (the Function Compute artifact) runs it from its own
 * file when started as a worker, so the pool needs no second script there.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { init, type WasmName } from '../src/wasm/modules.js';
import { encode } from '../src/encode.js';
import { decodeJpegResized } from '../src/codecs/jpeg.js';
import type { RowTask } from '../src/decode-resized.js';
import { ImgpipeError, isImgpipeError } from '../src/errors.js';
import { transform, type TransformResult } from '../src/process/transform.js';
import type { PoolReply, PoolTask } from './protocol.js';

/** A transform task run here, its watermark objects and fonts served from what the caller sent. */
function runTransformTask(task: Extract<PoolTask, { kind: 'transform' }>): Promise<TransformResult> {
  const objects = new Map(task.objects ?? []);
  const fonts = new Map(task.fonts);
  return transform(task.bytes, task.ops, {
    ...task.options,
    loadObject: task.objects && (async (key) => {
      const bytes = objects.get(key);
      if (!bytes) throw new ImgpipeError('INTERNAL', `Expected the watermark object ${JSON.stringify(key)} to be sent with the transform task but it was not`);
      return bytes;
    }),
    fonts: (name) => fonts.get(name),
  });
}

/** Make a band of rows of the main thread's decode and resize (`decodeResized` with a `decodeHelper`). */
async function runRowTask(t: RowTask): Promise<Uint8ClampedArray | undefined> {
  return (await decodeJpegResized(t.bytes, t.header, t.shrink, t.width, t.height, { from: t.from, to: t.to }))?.data;
}

export function serveEncodes(): void {
  const port = parentPort;
  if (!port) throw new Error('imgpipe\'s encode loop runs in a worker thread of createWorkerPool()');

  const ready = init({ modules: (workerData as { modules: Record<WasmName, WebAssembly.Module> }).modules });

  // Plug-in modules the calling thread has (their threadEntry; the pool names each once), and the errors
  // of those that failed to import, said with every refusal of an unsupported format here (the calling
  // thread has the plug-in, so that refusal would otherwise tell the user to do what they did). Tasks
  // run in order, so a task's imports have settled before the next one starts.
  const pluginFailures: string[] = [];
  const importPlugins = (entries: readonly string[]): Promise<unknown> =>
    Promise.all(entries.map((url) => import(url).catch((e: unknown) => { pluginFailures.push(`${url}: ${String((e as Error)?.message ?? e)}`); })));

  // Tasks run one at a time, in order: a task queued in the port behind a running one (claim) must not
  // start while the first awaits (its first run awaits the modules' instantiation).
  let queue: Promise<void> = Promise.resolve();
  port.on('message', (task: PoolTask) => {
    // A failure to answer at all (a bug) is thrown uncaught, which ends the worker and fails its task
    // with INTERNAL, as before the tasks were chained.
    queue = queue.then(() => runTask(task)).catch((e: unknown) => { setImmediate(() => { throw e; }); });
  });

  async function runTask(task: PoolTask): Promise<void> {
    // Before the claim: a revoked task's plug-ins are still this worker's from now on.
    if (task.plugins) await importPlugins(task.plugins);
    if (task.kind === 'transform' && task.claim && Atomics.compareExchange(task.claim, 0, 0, 1) !== 0) {
      // Revoked while it waited here: cancelled, or already sent to a worker that came free first.
      port!.postMessage({ id: task.id, skipped: true } satisfies PoolReply);
      return;
    }
    let reply: PoolReply;
    try {
      await ready;
      let result: Omit<TransformResult, 'bytes'> | undefined;
      let out: Uint8Array | Uint8ClampedArray | undefined;
      if (task.kind === 'transform') {
        const { bytes, ...rest } = await runTransformTask(task);
        [out, result] = [bytes, rest];
      } else {
        out = task.kind === 'encode'
          ? await encode({ width: task.width, height: task.height, data: task.data }, task.format, task.options)
          : await runRowTask(task.rows);
      }
      if (out) {
        // Only a buffer of its own can be transferred (never a view into a codec's WASM memory, nor
        // shared memory: a source sent in a SharedArrayBuffer that came back unchanged).
        const view = new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
        const bytes = view.byteLength === view.buffer.byteLength && view.buffer instanceof ArrayBuffer ? view : view.slice();
        port!.postMessage({ id: task.id, ok: true, bytes, result } satisfies PoolReply, [bytes.buffer as ArrayBuffer]);
        return;
      }
      reply = { id: task.id, ok: true, bytes: null };
    } catch (e) {
      const failure = pluginFailures.length > 0 && isImgpipeError(e) && e.code === 'UNSUPPORTED_FORMAT' ? ` (this pool worker could not load the plug-ins its calling thread has: ${pluginFailures.join('; ')})` : '';
      reply = isImgpipeError(e)
        ? { id: task.id, ok: false, code: e.code, message: e.message + failure, details: e.details }
        : { id: task.id, ok: false, code: 'INTERNAL', message: `${{ encode: 'Encoding', rows: 'Decoding rows', transform: 'Transforming' }[task.kind]} failed in a pool worker: ${String((e as Error)?.message ?? e)}` };
    }
    port!.postMessage(reply);
  }
}
