/**
 * The one lifecycle of every WebAssembly instance imgpipe runs (codecs, kernels, plug-ins):
 * `WasmInstance` loads the compiled module once, creates an instance on first use, drops it after
 * any failure, and lets go of one whose memory grew (`Retention`). A module's file declares only
 * what differs: `OwnedInstance` for imgpipe's own modules (instantiated here, imports given),
 * `EmscriptenCodec` for jSquash's Emscripten glue (messages captured). Three traps in the packaged
 * Emscripten codecs shaped it:
 * - a fatal libjpeg/libwebp error *exits* the Emscripten runtime (it throws an ExitStatus or a bare
 *   number, not an Error), after which the instance is unusable;
 * - warnings (e.g. "Premature end of JPEG file") go to stderr instead of to the caller;
 * - WebAssembly memory never shrinks: one 100-megapixel image leaves a warm instance holding ~400 MB.
 * So: every call captures the codec's messages, and any failure throws the instance away. An instance
 * whose memory grew past `RECYCLE_BYTES` is kept only while work keeps coming (see `Retention`). A new
 * instance from the already compiled module costs about a millisecond.
 */
import { ImgpipeError } from '../errors.js';
import { getWasmModule, type WasmName } from './modules.js';

/** Instances whose linear memory grew beyond this are let go of once idle (see `Retention`). */
export const RECYCLE_BYTES = 64 * 1024 * 1024;

/** How long an instance over RECYCLE_BYTES may sit unused before it is let go of. */
export const IDLE_RELEASE_MS = 1000;

/**
 * When to let go of a grown instance's memory. Dropping it right after each call makes every large
 * image allocate a fresh instance while the previous one's memory still waits for garbage
 * collection: back-to-back 5640x3172 uploads climbed to 419 MB peak RSS that way, against 351 MB when
 * the grown instance is reused (bench/run.ts measures the same). So a grown instance is kept while
 * work keeps coming, and let go of
 * - before a call whose job needs less than a quarter of its memory (a small image after a huge one:
 *   a fresh instance is cheaper than holding the huge one), and
 * - after IDLE_RELEASE_MS without a call, so a warm instance's RSS returns near its baseline.
 */
export class Retention {
  private timer?: ReturnType<typeof setTimeout>;

  constructor(private readonly release: () => void, private readonly threshold: () => number = () => RECYCLE_BYTES) {}

  /** Before a call: whether an instance holding `memory` bytes should be replaced for a job of `need` bytes. */
  replaceFor(memory: number, need: number): boolean {
    clearTimeout(this.timer);
    return memory > this.threshold() && memory > 4 * need;
  }

  /** After a call that left the instance holding `memory` bytes. */
  settle(memory: number): void {
    clearTimeout(this.timer);
    if (memory <= this.threshold()) return;
    this.timer = setTimeout(this.release, IDLE_RELEASE_MS);
    // An idle release must never keep a Node process (a CLI run, a test) alive.
    (this.timer as { unref?: () => void }).unref?.();
  }
}

/** A core module by name (src/wasm/modules.ts), or a plug-in's own compiled module. */
export type ModuleSource = WasmName | (() => Promise<WebAssembly.Module>);

/**
 * Lazily created instances of one module. `create` makes one from the compiled module and
 * `memoryBytes` says how much memory it holds; the rest is the same for every module: the module
 * is compiled (or found compiled) once, concurrent first calls share one creation, a call that
 * throws or traps discards its instance (the next call gets a fresh one), and one whose memory grew
 * past the recycle threshold is kept only while work keeps coming (`Retention`).
 */
export abstract class WasmInstance<I> {
  private live?: I;
  private creating?: Promise<I>;
  private module?: WebAssembly.Module;
  private created = 0;
  private readonly retention: Retention;

  constructor(private readonly wasm: ModuleSource, recycleBytes: () => number = () => RECYCLE_BYTES) {
    this.retention = new Retention(() => this.reset(), recycleBytes);
  }

  /** A new instance of `module`. */
  protected abstract create(module: WebAssembly.Module): I | Promise<I>;
  /** The instance's linear memory now. */
  protected abstract memoryBytes(instance: I): number;

  /** Compile (or find compiled) the module, so that `useLoaded` can run. A failed load is not kept. */
  async load(): Promise<void> {
    this.module ??= await (typeof this.wasm === 'function' ? this.wasm() : getWasmModule(this.wasm));
  }

  /**
   * Run `fn` on a healthy instance; nothing may await inside, so calls never share the memory.
   * `needBytes` is roughly the memory this job needs (see `Retention`).
   */
  async use<T>(fn: (instance: I) => T, needBytes: number): Promise<T> {
    await this.load();
    let e = this.live;
    if (e !== undefined && this.retention.replaceFor(this.memoryBytes(e), needBytes)) {
      this.drop(e);
      e = undefined;
    }
    if (e === undefined) {
      const made = this.creating ??= this.spawn();
      try {
        e = await made;
      } finally {
        if (this.creating === made) this.creating = undefined;
      }
    }
    return this.run(e, fn);
  }

  /**
   * `use`, synchronously, once `load()` has resolved: for a call made from inside another
   * instance's `use` (the JPEG decoder feeding the resize kernel row by row), where nothing may
   * await. Only for modules whose instances are created synchronously (`OwnedInstance`).
   */
  useLoaded<T>(fn: (instance: I) => T, needBytes: number): T {
    let e = this.live ?? this.spawnNow();
    if (this.retention.replaceFor(this.memoryBytes(e), needBytes)) {
      this.drop(e);
      e = this.spawnNow();
    }
    return this.run(e, fn);
  }

  /** Forget the current instance (tests and memory-pressure hooks). */
  reset(): void {
    this.live = undefined;
  }

  /** Diagnostics for warm-instance memory: the live instance's memory and how many were created. */
  stats(): Readonly<{ memoryBytes: number; instancesCreated: number }> {
    return Object.freeze({ memoryBytes: this.live ? this.memoryBytes(this.live) : 0, instancesCreated: this.created });
  }

  private run<T>(e: I, fn: (instance: I) => T): T {
    try {
      return fn(e);
    } catch (err) {
      this.drop(e);
      throw err;
    } finally {
      if (this.live === e) this.retention.settle(this.memoryBytes(e));
    }
  }

  private drop(e: I): void {
    if (this.live === e) this.live = undefined;
  }

  private async spawn(): Promise<I> {
    const e = await this.create(this.module!);
    this.live = e;
    this.created++;
    return e;
  }

  private spawnNow(): I {
    if (!this.module) throw new ImgpipeError('INTERNAL', 'A WebAssembly module was used before it was loaded');
    const e = this.create(this.module);
    if (e instanceof Promise) throw new ImgpipeError('INTERNAL', 'An asynchronously created WebAssembly instance was used synchronously');
    this.live = e;
    this.created++;
    return e;
  }
}

type Factory<M> = (options: Record<string, unknown>) => Promise<M>;

interface Live<M> {
  module: M;
  messages: string[];
}

/** A jSquash codec: its Emscripten glue, instantiating our compiled module, with its printed messages captured. */
export class EmscriptenCodec<M extends object> {
  private readonly instances: WasmInstance<Live<M>>;

  constructor(wasm: ModuleSource, factory: Factory<M>) {
    this.instances = new (class extends WasmInstance<Live<M>> {
      protected async create(compiled: WebAssembly.Module): Promise<Live<M>> {
        const messages: string[] = [];
        const record = (m: unknown) => void messages.push(String(m));
        const module = await factory({
          noInitialRun: true,
          print: record,
          printErr: record,
          // Instantiate from our compiled module: the glue never fetches or reads files itself.
          instantiateWasm: (imports: WebAssembly.Imports, done: (i: WebAssembly.Instance) => void) => {
            const instance = new WebAssembly.Instance(compiled, imports);
            done(instance);
            return instance.exports;
          },
        });
        return { module, messages };
      }

      protected memoryBytes(live: Live<M>): number {
        return (live.module as { HEAPU8?: Uint8Array }).HEAPU8?.byteLength ?? 0;
      }
    })(wasm);
  }

  /**
   * Run `fn` on a healthy instance; `messages` holds what the codec printed during this call.
   * `needBytes` is roughly the memory this job needs (see `Retention`).
   */
  use<T>(fn: (module: M, messages: readonly string[]) => T, needBytes: number): Promise<T> {
    return this.instances.use((live) => {
      live.messages.length = 0;
      return fn(live.module, live.messages);
    }, needBytes);
  }

  /** Forget the current instance (tests and memory-pressure hooks). */
  reset(): void {
    this.instances.reset();
  }
}

/** A readable message from whatever a codec threw (Errors, ExitStatus objects, numbers, strings). */
export function codecMessage(e: unknown, messages: readonly string[] = []): string {
  const parts: string[] = [];
  if (e instanceof Error) parts.push(e.message);
  else if (e && typeof e === 'object' && 'status' in e) parts.push(`codec exited with status ${(e as { status: unknown }).status}`);
  else if (e !== undefined) parts.push(String(e));
  parts.push(...messages.filter(Boolean));
  return parts.join('; ') || 'no message';
}

/** The codec's output as bytes we own: copied only when it is a view into the codec's memory. */
export function ownBytes(out: Uint8Array | ArrayBuffer): Uint8Array {
  const view = out instanceof Uint8Array ? out : new Uint8Array(out);
  return view.byteLength === view.buffer.byteLength ? view : view.slice();
}

/**
 * The buffer protocol our Emscripten modules (wasm/libwebp, libheif, libspng, libjpeg) export:
 * the caller allocates input with `imgpipe_alloc`, a call leaves one output buffer with its
 * dimensions, and `imgpipe_release` frees it.
 */
export interface OutputBufferExports {
  readonly memory: WebAssembly.Memory;
  imgpipe_alloc(bytes: number): number;
  imgpipe_free(ptr: number): void;
  imgpipe_release(): void;
  imgpipe_output(): number;
  imgpipe_output_size(): number;
  imgpipe_output_width(): number;
  imgpipe_output_height(): number;
}

/**
 * Copy `bytes` into a C module's memory for its next call; the caller frees the pointer after the
 * call that reads it.
 */
export function copyIn(e: Pick<OutputBufferExports, 'memory' | 'imgpipe_alloc'>, bytes: Uint8Array | Uint8ClampedArray): number {
  const ptr = e.imgpipe_alloc(bytes.byteLength);
  // malloc answers 0 when memory can't grow (the modules are built without aborting malloc).
  if (ptr === 0) throw new RangeError('malloc failed');
  new Uint8Array(e.memory.buffer, ptr, bytes.byteLength).set(bytes);
  return ptr;
}

/**
 * What an imgpipe-owned module may import by default. The AssemblyScript modules import nothing; the
 * C modules (plain C built with Emscripten's STANDALONE_WASM) are told when their memory grows, which
 * means nothing to us: every call reads `memory.buffer` afresh.
 */
const OWNED_IMPORTS: WebAssembly.Imports = Object.freeze({ env: Object.freeze({ emscripten_notify_memory_growth: () => undefined }) });

/** An imgpipe-owned module (memory exported; a WASI-style reactor's `_initialize` is run once per instance). */
export class OwnedInstance<E extends { readonly memory: WebAssembly.Memory }> extends WasmInstance<E> {
  constructor(wasm: ModuleSource, recycleBytes?: () => number, private readonly imports: WebAssembly.Imports = OWNED_IMPORTS) {
    super(wasm, recycleBytes);
  }

  protected create(module: WebAssembly.Module): E {
    const exports = new WebAssembly.Instance(module, this.imports).exports;
    (exports._initialize as (() => void) | undefined)?.();
    return exports as unknown as E;
  }

  protected memoryBytes(e: E): number {
    return e.memory.buffer.byteLength;
  }
}

/**
 * What to throw for a failed call into an imgpipe-owned module whose arguments were checked first:
 * a trap there means its memory could not grow, so `job` (e.g. "the resize of 9000x9000 to 10x10")
 * was too large for WebAssembly memory. Anything else is passed through.
 */
export function outOfMemory(e: unknown, job: string): unknown {
  if (e instanceof WebAssembly.RuntimeError || e instanceof RangeError) {
    return new ImgpipeError('IMAGE_TOO_LARGE', `Expected ${job} to fit in WebAssembly memory but it ran out`, { cause: e });
  }
  return e;
}
