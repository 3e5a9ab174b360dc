/**
 * The task loop of a `createWorkerPool` worker (wasm/pool.ts): receives the main thread's compiled
 * WebAssembly modules once, then answers tasks one at a time: encodes, and bands of a JPEG's decode
 * and resize (`runRowTask`). Errors go back as code and message; anything that is not an
 * ImgpipeError is a bug and goes back as INTERNAL.
 *
 * `pool-worker.js` runs it; a single-file bundle (the Function Compute artifact) runs it from its own
 * file when started as a worker, so the pool needs no second script there.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { init, type WasmName } from '../src/wasm.js';
import { encode } from '../src/encode.js';
import { runRowTask } from '../src/decode.js';
import { isImgpipeError } from '../src/errors.js';
import type { PoolReply, PoolTask } from './pool-protocol.js';

export function serveEncodes(): void {
  const port = parentPort;
  if (!port) throw new Error('imgpipe\'s encode loop runs in a worker thread of createWorkerPool()');

  const ready = init({ modules: (workerData as { modules: Record<WasmName, WebAssembly.Module> }).modules });

  port.on('message', async (task: PoolTask) => {
    let reply: PoolReply;
    try {
      await ready;
      const out = task.kind === 'encode'
        ? await encode({ width: task.width, height: task.height, data: task.data }, task.format, task.options)
        : await runRowTask(task.rows);
      if (out) {
        // Only a buffer of its own can be transferred (never a view into a codec's WASM memory).
        const view = new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
        const bytes = view.byteLength === view.buffer.byteLength ? view : view.slice();
        port.postMessage({ id: task.id, ok: true, bytes } satisfies PoolReply, [bytes.buffer as ArrayBuffer]);
        return;
      }
      reply = { id: task.id, ok: true, bytes: null };
    } catch (e) {
      reply = isImgpipeError(e)
        ? { id: task.id, ok: false, code: e.code, message: e.message }
        : { id: task.id, ok: false, code: 'INTERNAL', message: `${task.kind === 'encode' ? 'Encoding' : 'Decoding rows'} failed in a pool worker: ${String((e as Error)?.message ?? e)}` };
    }
    port.postMessage(reply);
  });
}
