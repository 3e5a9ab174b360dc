/**
 * libwebp's lossy decode on two threads, as sharp's libwebp decodes: the calling thread parses each
 * macroblock row's coefficients while a helper thread reconstructs, filters and outputs the row
 * before it (wasm/libwebp/webp.c, IMGPIPE_WEBP_THREADS). Only where a runtime offers threads and
 * shared memory without conditions: the Node entry registers a helper (entries/node-webp-helper.ts)
 * and its provider hands over the threaded build of the module (`imgpipe_webp_threads.wasm`, whose
 * memory is imported and shared). Browsers (shared memory needs cross-origin isolation) and workerd
 * (no threads) keep the one-thread build. The threaded build with no helper registered, or with the
 * helper not started yet, decodes on the calling thread: the same bytes either way.
 */
import { ImgpipeError } from '../errors.js';
import type { OutputBufferExports } from '../wasm/instance.js';

/** A helper thread running the module's `imgpipe_webp_thread_run` on a second instance of the same memory. */
export interface WebpDecodeHelper {
  /**
   * Attach to an instance for one decode: the helper instantiates `module` on `memory` with its stack
   * below `stackTop`. False when the helper cannot take part (not started yet, or broken): the decode
   * then runs on the calling thread.
   */
  bind(module: WebAssembly.Module, memory: WebAssembly.Memory, stackTop: number): boolean;
  /** Start `worker`'s hook (a WebPWorker in the shared memory) on the helper. */
  launch(worker: number): void;
  /** Wait for the launched hook; false when it trapped on the helper. */
  wait(): boolean;
  /** Detach after the decode: the helper lets go of its instance (and so of the memory). */
  unbind(): void;
}

let helper: WebpDecodeHelper | undefined;

/** Registered by the Node entry; returns the helper it replaces (tests put it back). */
export function setWebpDecodeHelper(h: WebpDecodeHelper | undefined): WebpDecodeHelper | undefined {
  const previous = helper;
  helper = h;
  return previous;
}

/** The module's memory, created by us: `initial` must be at least the module's own minimum (its import's). */
const INITIAL_PAGES = 256;
const MAX_PAGES = 65536;
/** The helper's stack, allocated in the instance for each decode (libwebp's row hook needs a few KB). */
const HELPER_STACK_BYTES = 256 * 1024;
/** libwebp threads lossy files this wide and wider (VP8GetThreadMethod's MIN_WIDTH_FOR_THREADS). */
const MIN_WIDTH_FOR_THREADS = 512;

/** Whether a compiled libwebp module is the threaded build (its memory is imported, to be shared). */
export function isThreadedBuild(module: WebAssembly.Module): boolean {
  return WebAssembly.Module.imports(module).some((i) => i.kind === 'memory');
}

type Exports = Pick<OutputBufferExports, 'memory' | 'imgpipe_alloc' | 'imgpipe_free'>;

/** A threaded-build instance's own parts, kept beside its exports. */
export interface ThreadedParts {
  readonly module: WebAssembly.Module;
  readonly memory: WebAssembly.Memory;
}

/**
 * An instance of the threaded build: its shared memory, and the two imports webp.c calls to launch
 * and wait for the row hook, bound to whichever helper is registered when the decode runs.
 */
export function instantiateThreaded<E>(module: WebAssembly.Module): E & ThreadedParts {
  const memory = new WebAssembly.Memory({ initial: INITIAL_PAGES, maximum: MAX_PAGES, shared: true });
  const binding: Binding = { helper: undefined, failed: false };
  const instance = new WebAssembly.Instance(module, {
    env: {
      memory,
      emscripten_notify_memory_growth: () => undefined,
      imgpipe_thread_launch: (worker: number) => {
        if (binding.helper === undefined) return 0;
        binding.helper.launch(worker);
        stats.rows++;
        return 1;
      },
      imgpipe_thread_wait: () => {
        if (binding.helper!.wait()) return 1;
        binding.failed = true;
        return 0;
      },
    },
  });
  (instance.exports._initialize as () => void)();
  const parts = { ...instance.exports, memory, module } as unknown as E & ThreadedParts;
  bindings.set(parts, binding);
  return parts;
}

/** The helper an instance's imports call during a decode, and whether a row's hook failed on it. */
interface Binding {
  helper: WebpDecodeHelper | undefined;
  failed: boolean;
}

const bindings = new WeakMap<object, Binding>();

/** Decodes that ran on two threads and the rows handed to the helper, since the process started (tests, diagnostics). */
const stats = { decodes: 0, rows: 0 };
export function webpThreadStats(): Readonly<{ decodes: number; rows: number }> {
  return { ...stats };
}

/**
 * Run `decode` (one call into `w` that may decode a lossy file `width` pixels wide) with the helper
 * attached when there is one and libwebp would use it; detached afterwards whatever happens.
 */
export function withHelper<T>(w: Exports, width: number, decode: () => T): T {
  const binding = bindings.get(w);
  const h = helper;
  if (binding === undefined || h === undefined || width < MIN_WIDTH_FOR_THREADS) return decode();
  const { module, memory } = w as unknown as ThreadedParts;
  const stack = w.imgpipe_alloc(HELPER_STACK_BYTES);
  if (stack === 0) return decode();
  try {
    // The stack grows down from its top, 16-byte aligned as the C ABI wants.
    if (!h.bind(module, memory, (stack + HELPER_STACK_BYTES) & ~15)) return decode();
    binding.helper = h;
    binding.failed = false;
    stats.decodes++;
    let result: T;
    try {
      result = decode();
    } finally {
      binding.helper = undefined;
      h.unbind();
    }
    // libwebp reports a failed row hook as an aborted output: say what failed instead.
    if (binding.failed) throw new ImgpipeError('INTERNAL', `Expected libwebp's decode helper thread to reconstruct every row but a row's work failed on it (the ${width} px wide WebP decodes on one thread when the helper is not there)`);
    return result;
  } finally {
    w.imgpipe_free(stack);
  }
}

/** What a helper that stops answering is (a hook takes a millisecond or two a row). */
export function helperTimeout(ms: number): ImgpipeError {
  return new ImgpipeError('INTERNAL', `Expected libwebp's decode helper thread to finish a row within ${ms} ms but it did not answer`);
}
