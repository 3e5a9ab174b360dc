/**
 * The Node helper thread for libwebp's two-thread lossy decode (src/codecs/webp-threads.ts): one
 * `worker_threads` Worker per process, started on the first lossy WebP decode (which runs on one
 * thread while it starts) and unref'd, so it never keeps a process alive. It holds no instance
 * between decodes: `bind` sends it the module and the instance's shared memory, it instantiates them
 * (~0.05 ms), runs the row hooks it is launched for, and drops them at `unbind`, so a recycled
 * instance's memory is never kept alive by the helper.
 *
 * The two threads hand over through a futex word (Atomics.wait/notify on a SharedArrayBuffer): a row
 * costs a notify and, when the helper is behind, a wait. The helper's loop never returns to its event
 * loop, so messages reach it through `receiveMessageOnPort` when it is told to look.
 * Imported for its effect by the Node entry.
 */
import { MessageChannel, Worker, isMainThread, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { helperTimeout, setWebpDecodeHelper, type WebpDecodeHelper } from '../src/codecs/webp-threads.js';

/** The futex word's states (ctrl[0]); ctrl[1] is the launched WebPWorker, ctrl[2] whether its hook returned. */
const IDLE = 0;
const RUN = 1;
const BIND = 2;
const UNBIND = 3;
const DONE = 4;
const FAILED = 5;

/** How long the calling thread waits for one row's hook or a bind before it gives the helper up. */
const TIMEOUT_MS = 30_000;

/** The helper thread's whole program (plain JavaScript: a Worker started from source, no file to ship). */
const HELPER_SOURCE = `
const { workerData, receiveMessageOnPort } = require('node:worker_threads');
const { ctrl, port } = workerData;
let run;
const finish = (state, ok) => { Atomics.store(ctrl, 2, ok ? 1 : 0); Atomics.store(ctrl, 0, state); Atomics.notify(ctrl, 0); };
finish(${DONE}, true);
for (;;) {
  let s;
  while ((s = Atomics.load(ctrl, 0)) === ${IDLE} || s === ${DONE} || s === ${FAILED}) Atomics.wait(ctrl, 0, s);
  if (s === ${BIND}) {
    try {
      const { module, memory, stackTop } = receiveMessageOnPort(port).message;
      const e = new WebAssembly.Instance(module, { env: { memory, emscripten_notify_memory_growth() {}, imgpipe_thread_launch: () => 0, imgpipe_thread_wait: () => 1 } }).exports;
      e.stackRestore(stackTop);
      run = e.imgpipe_webp_thread_run;
      finish(${DONE}, true);
    } catch {
      run = undefined;
      finish(${FAILED}, false);
    }
  } else if (s === ${RUN}) {
    try {
      run(Atomics.load(ctrl, 1));
      finish(${DONE}, true);
    } catch {
      finish(${DONE}, false);
    }
  } else {
    run = undefined;
    finish(${DONE}, true);
  }
}
`;

export class NodeWebpHelper implements WebpDecodeHelper {
  private readonly ctrl = new Int32Array(new SharedArrayBuffer(12));
  private port?: MessagePort;
  private worker?: Worker;
  private broken = false;
  private exited = false;

  /** `timeoutMs`: how long the calling thread waits for a row or a bind before it gives the helper up. */
  constructor(private readonly timeoutMs = TIMEOUT_MS) {}

  /** Whether the helper's thread has ended (given up and stopped, or died). */
  get threadExited(): boolean {
    return this.exited;
  }

  bind(module: WebAssembly.Module, memory: WebAssembly.Memory, stackTop: number): boolean {
    if (this.broken) return false;
    if (this.port === undefined) {
      this.start();
      return false;
    }
    // Not up yet (IDLE until it runs: this decode goes on one thread), or still letting go of the last decode.
    if (!this.settle(this.timeoutMs)) return Atomics.load(this.ctrl, 0) === IDLE ? false : this.giveUp();
    this.port.postMessage({ module, memory, stackTop });
    this.signal(BIND);
    if (!this.settle(this.timeoutMs)) return this.giveUp();
    if (Atomics.load(this.ctrl, 0) === FAILED) return this.giveUp();
    return true;
  }

  launch(worker: number): void {
    Atomics.store(this.ctrl, 1, worker);
    this.signal(RUN);
  }

  wait(): boolean {
    if (!this.settle(this.timeoutMs)) {
      this.giveUp();
      throw helperTimeout(this.timeoutMs);
    }
    return Atomics.load(this.ctrl, 2) === 1;
  }

  unbind(): void {
    this.signal(UNBIND);
  }

  private start(): void {
    const { port1, port2 } = new MessageChannel();
    const worker = new Worker(HELPER_SOURCE, { eval: true, workerData: { ctrl: this.ctrl, port: port2 }, transferList: [port2] });
    worker.unref();
    worker.on('error', () => this.giveUp());
    // A helper that ends (stopped below, or died) is never waited for again.
    worker.on('exit', () => {
      this.exited = true;
      this.giveUp();
    });
    port1.unref();
    this.port = port1;
    this.worker = worker;
  }

  private signal(state: number): void {
    Atomics.store(this.ctrl, 0, state);
    Atomics.notify(this.ctrl, 0);
  }

  /** Wait up to `ms` for the helper to finish what it was told (DONE or FAILED); false at once while it is not up. */
  private settle(ms: number): boolean {
    const deadline = performance.now() + ms;
    for (;;) {
      const s = Atomics.load(this.ctrl, 0);
      if (s === DONE || s === FAILED) return true;
      if (s === IDLE) return false;
      const left = deadline - performance.now();
      if (left <= 0) return false;
      Atomics.wait(this.ctrl, 0, s, left);
    }
  }

  /**
   * From now on every decode runs on the calling thread. The thread is stopped too: a helper that
   * stopped answering may be stuck in a row's work, and would otherwise keep a core busy for the
   * process's life (V8 interrupts WebAssembly loops to terminate a worker). The instance it was
   * working in is discarded with the decode that timed out, so nothing reads what it still writes.
   */
  private giveUp(): false {
    if (!this.broken) void this.worker?.terminate();
    this.broken = true;
    return false;
  }
}

/**
 * On by default in a process's main thread where there is a second core (with one, the two threads
 * would only take turns). Not in worker threads: a single-file bundle's pool workers load this entry
 * too, and the pool already keeps every core busy. The helper is a Node worker: ~9 MB of RSS for the
 * process's life, and each threaded decode takes 5-11% more CPU time over both threads for its
 * shorter wall time (wasm/libwebp/README.md). `IMGPIPE_WEBP_THREADS=0` keeps every decode on the
 * calling thread, for a process where memory counts more than latency.
 */
if (isMainThread && availableParallelism() > 1 && process.env.IMGPIPE_WEBP_THREADS !== '0') setWebpDecodeHelper(new NodeWebpHelper());
