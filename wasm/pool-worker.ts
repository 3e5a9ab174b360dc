/**
 * One encode worker of `createWorkerPool` (wasm/pool.ts): receives the main thread's compiled
 * WebAssembly modules once, then answers encode tasks one at a time. Errors go back as code and
 * message; anything that is not an ImgpipeError is a bug and goes back as INTERNAL.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { init, type WasmName } from '../src/wasm.js';
import { encode } from '../src/encode.js';
import { isImgpipeError } from '../src/errors.js';
import type { PoolReply, PoolTask } from './pool-protocol.js';

const port = parentPort;
if (!port) throw new Error('imgpipe pool-worker.js runs as a worker thread of createWorkerPool()');

const ready = init({ modules: (workerData as { modules: Record<WasmName, WebAssembly.Module> }).modules });

port.on('message', async (task: PoolTask) => {
  let reply: PoolReply;
  try {
    await ready;
    const out = await encode({ width: task.width, height: task.height, data: task.data }, task.format, task.options);
    // Only a buffer of its own can be transferred (never a view into a codec's WASM memory).
    const bytes = out.byteLength === out.buffer.byteLength ? out : out.slice();
    reply = { id: task.id, ok: true, bytes };
    port.postMessage(reply, [bytes.buffer as ArrayBuffer]);
    return;
  } catch (e) {
    reply = isImgpipeError(e)
      ? { id: task.id, ok: false, code: e.code, message: e.message }
      : { id: task.id, ok: false, code: 'INTERNAL', message: `Encoding failed in a pool worker: ${String((e as Error)?.message ?? e)}` };
  }
  port.postMessage(reply);
});
